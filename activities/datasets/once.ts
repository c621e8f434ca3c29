// Helpers of the dataset-level activities (EM selection, self-play pairs): run-once outputs and item groups.
import path from 'node:path';
import type { DatasetStore } from './store';

/**
 * Runs `run` unless the output dataset already has a `.done.json`, which holds the result of the run that finished
 * it: a retried or re-run activity returns that result and redoes nothing.
 */
export async function once<T>(store: DatasetStore, output: string, run: () => Promise<T>): Promise<T> {
  const doneFile = path.join(store.datasetDir(output), '.done.json');
  const before = await store.readJsonIfPresent<T>(doneFile);
  if (before !== undefined) return before;
  const result = await run();
  await store.writeAtomic(doneFile, JSON.stringify(result));
  return result;
}

/** Groups consecutive rows of one item (a stage keeps the rows of an item together and in order). */
export async function* groupsByItem<T extends { itemId: string }>(rows: AsyncIterable<unknown>): AsyncGenerator<T[]> {
  let group: T[] = [];
  for await (const raw of rows) {
    const row = raw as T;
    if (group.length > 0 && group[0]!.itemId !== row.itemId) {
      yield group;
      group = [];
    }
    group.push(row);
  }
  if (group.length > 0) yield group;
}
