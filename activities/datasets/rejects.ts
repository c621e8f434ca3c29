// Reading back the rejects files of earlier steps (a report counts every item they set aside under its rule), and
// the throttled heartbeat of the dataset-level activities that do so.
import { Context } from '@temporalio/activity';
import type { RejectRecord } from '../../domain/core/dataset';
import { readLines } from './jsonl';
import type { DatasetStore } from './store';

/** Every reject record of the files (paths relative to the storage root), fetched from the object store if needed. */
export async function* readRejects(
  store: DatasetStore,
  files: readonly string[],
): AsyncGenerator<{ file: string; reject: RejectRecord }> {
  for (const file of files) {
    await store.fetch(store.resolve(file));
    for await (const l of readLines(store.resolve(file))) {
      if (!l.terminated && l.text === '') continue;
      yield { file, reject: JSON.parse(l.text) as RejectRecord };
    }
  }
}

/** The current activity's heartbeat, sent at most every `everyMs` (details of the latest call). */
export function throttledHeartbeat(everyMs = 5_000): (details: Record<string, unknown>) => void {
  const ctx = Context.current();
  let last = 0;
  return (details) => {
    if (Date.now() - last < everyMs) return;
    last = Date.now();
    ctx.heartbeat(details);
  };
}
