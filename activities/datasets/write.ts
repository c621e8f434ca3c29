// Writes a stream of rows as a new dataset: shards of `shardSize` lines, each written atomically, then the manifest.
import path from 'node:path';
import { shardFileName, type DatasetRef, type ShardInfo } from '../../domain/core/dataset';
import type { DatasetStore } from './store';

export async function writeDataset(
  store: DatasetStore,
  name: string,
  rows: AsyncIterable<Record<string, unknown>> | Iterable<Record<string, unknown>>,
  options: { shardSize: number; producedBy: Record<string, unknown> },
): Promise<DatasetRef> {
  const dir = store.datasetDir(name);
  const shards: ShardInfo[] = [];
  let lines: string[] = [];
  const flush = async () => {
    const file = shardFileName(shards.length);
    await store.writeAtomic(path.join(dir, file), lines.length > 0 ? lines.join('\n') + '\n' : '');
    shards.push(await store.shardInfo(name, file, lines.length));
    lines = [];
  };
  for await (const row of rows) {
    lines.push(JSON.stringify(row));
    if (lines.length >= options.shardSize) await flush();
  }
  if (lines.length > 0 || shards.length === 0) await flush();
  return store.writeManifest(name, shards, options.producedBy);
}
