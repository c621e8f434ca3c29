// Parquet copies of an SFT dataset's JSONL shards (`shard-NNNNN.parquet` beside `shard-NNNNN.jsonl`): two string
// columns, prompt and completion, written with hyparquet-writer, one file per shard so memory stays at one shard.
import path from 'node:path';
import type { DatasetRef } from '../../domain/core/dataset';
import { readLines } from '../datasets/jsonl';
import type { DatasetStore } from '../datasets/store';

export async function writeParquetShards(
  store: DatasetStore,
  dataset: DatasetRef,
  beat: (details: Record<string, unknown>) => void,
): Promise<string[]> {
  const { parquetWriteBuffer } = await import('hyparquet-writer');
  const manifest = await store.readManifest(dataset);
  const files: string[] = [];
  for (let i = 0; i < manifest.shards.length; i++) {
    beat({ phase: 'parquet', shard: i, of: manifest.shards.length });
    const shard = await store.localShard(manifest, i);
    const prompts: string[] = [];
    const completions: string[] = [];
    for await (const l of readLines(shard)) {
      if (!l.terminated && l.text === '') continue;
      const row = JSON.parse(l.text) as { prompt: string; completion: string };
      prompts.push(row.prompt);
      completions.push(row.completion);
    }
    const buffer = parquetWriteBuffer({
      columnData: [
        { name: 'prompt', data: prompts, type: 'STRING' },
        { name: 'completion', data: completions, type: 'STRING' },
      ],
    });
    const file = shard.replace(/\.jsonl$/, '.parquet');
    if (file === shard) throw new Error(`${shard}: a dataset shard that is not .jsonl`);
    await store.writeAtomic(path.resolve(file), Buffer.from(buffer));
    files.push(path.resolve(file));
  }
  return files;
}
