// A dataset written in a seeded shuffled order without holding its rows in memory: rows go to a scratch file as
// they come, each with a 31-bit key hashed from (run seed, row id); the index (key, id, place) is sorted and the
// scratch file read back in that order into the dataset. The order is the same on every run with the same seed
// (the published shuffles were unseeded, spec §8.12) and memory grows with the number of rows only by their keys.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { DatasetRef } from '../../domain/core/dataset';
import { LineAppender } from './jsonl';
import type { DatasetStore } from './store';
import { writeDataset } from './write';

interface IndexEntry {
  key: number;
  id: string;
  offset: number;
  length: number;
}

export class ShuffledDatasetWriter {
  private readonly index: IndexEntry[] = [];
  private offset = 0;
  private closed = false;

  private constructor(
    private readonly scratch: string,
    private readonly appender: LineAppender,
  ) {}

  /** A writer whose scratch file lives in the output dataset's folder, named for this attempt alone. */
  static async open(store: DatasetStore, output: string, attempt: number): Promise<ShuffledDatasetWriter> {
    const dir = store.datasetDir(output);
    await fsp.mkdir(dir, { recursive: true });
    // an attempt Temporal gave up on may still be writing a scratch file of its own
    const scratch = path.join(dir, `.unshuffled.${attempt}.${process.pid}.${Date.now()}.jsonl`);
    return new ShuffledDatasetWriter(scratch, await LineAppender.open(scratch));
  }

  get rows(): number {
    return this.index.length;
  }

  /** Adds a row; `key` decides its place (ties by `id`), e.g. deriveSeed(seed, id). */
  add(key: number, id: string, row: Record<string, unknown>): void {
    const line = JSON.stringify(row);
    const length = Buffer.byteLength(line) + 1;
    this.index.push({ key, id, offset: this.offset, length });
    this.appender.append(line);
    this.offset += length;
  }

  /** Sorts and writes the dataset, then removes the scratch file; `beat` is called once per row written. */
  async write(
    store: DatasetStore,
    output: string,
    options: { shardSize: number; producedBy: Record<string, unknown>; beat?: (written: number, of: number) => void },
  ): Promise<DatasetRef> {
    await this.close();
    const index = this.index;
    index.sort((a, b) => a.key - b.key || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const fh = await fsp.open(this.scratch, 'r');
    const scratch = this.scratch;
    try {
      async function* ordered(): AsyncGenerator<Record<string, unknown>> {
        let written = 0;
        for (const e of index) {
          options.beat?.(written++, index.length);
          const buf = Buffer.allocUnsafe(e.length);
          const { bytesRead } = await fh.read(buf, 0, e.length, e.offset);
          if (bytesRead !== e.length)
            throw new Error(`${scratch}: short read at ${e.offset} (${bytesRead} of ${e.length} bytes)`);
          yield JSON.parse(buf.toString('utf8')) as Record<string, unknown>;
        }
      }
      return await writeDataset(store, output, ordered(), {
        shardSize: options.shardSize,
        producedBy: options.producedBy,
      });
    } finally {
      await fh.close();
      await this.discard();
    }
  }

  /** Closes and removes the scratch file (after a failure). */
  async discard(): Promise<void> {
    await this.close().catch(() => undefined);
    await fsp.rm(this.scratch, { force: true });
  }

  private async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.appender.close();
  }
}
