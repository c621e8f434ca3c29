// The files of one shard of a running stage, and how finished items are recorded so a retry never redoes them.
//
// datasets/<output>/.work/shard-00012.attempt-3.jsonl   one line per finished item, appended as items finish
// datasets/<output>/.work/shard-00012.done.json         written last: the shard's counts (the shard is finished)
// datasets/<output>/shard-00012.jsonl                   output rows in input order (temp + rename)
// datasets/<output>/rejects-00012.jsonl                 rejected and failed items with reasons
//
// Each activity execution appends to a file of its own (attempt number plus a random tag: a new run of the same
// stage also starts at attempt 1), so a zombie attempt (one Temporal gave up on) cannot interleave with its
// successor; when the outputs are merged an item recorded twice is taken once.
import { randomBytes } from 'node:crypto';
import { existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import { rejectsFileName, shardFileName } from '../../domain/core/dataset';
import { readLines } from '../datasets/jsonl';

/** One finished item as recorded in an attempt file. */
export type ItemRecord =
  | { line: number; outcome: 'kept'; rows: unknown[] }
  | { line: number; outcome: 'rejected' | 'failed'; reason: string; record?: unknown; raw?: string; detail?: unknown };

/** Records are written with `line` first, so the key is read without parsing the whole record. */
export function encodeItemRecord(record: ItemRecord): string {
  return JSON.stringify(record);
}

const LINE_PREFIX = /^\{"line":(\d+),/;

/** The input line of a recorded item, or undefined for a damaged record (a torn write: the item is redone). */
export function recordLineNumber(text: string): number | undefined {
  const m = LINE_PREFIX.exec(text);
  if (!m || !text.endsWith('}')) return undefined;
  return Number(m[1]);
}

export interface RecordLocation {
  file: string;
  offset: number;
  length: number;
}

export class ShardWork {
  readonly workDir: string;
  readonly outputPath: string;
  readonly rejectsPath: string;
  readonly donePath: string;
  private readonly prefix: string;

  constructor(
    readonly outputDir: string,
    readonly shard: number,
  ) {
    this.workDir = path.join(outputDir, '.work');
    this.prefix = shardFileName(shard).replace(/\.jsonl$/, '');
    this.outputPath = path.join(outputDir, shardFileName(shard));
    this.rejectsPath = path.join(outputDir, rejectsFileName(shard));
    this.donePath = path.join(this.workDir, `${this.prefix}.done.json`);
  }

  attemptPath(attempt: number, tag = randomBytes(4).toString('hex')): string {
    return path.join(this.workDir, `${this.prefix}.attempt-${attempt}.${tag}.jsonl`);
  }

  async attemptFiles(): Promise<string[]> {
    if (!existsSync(this.workDir)) return [];
    const names = await fsp.readdir(this.workDir);
    const re = new RegExp(`^${this.prefix}\\.attempt-(\\d+)\\.[0-9a-f]+\\.jsonl$`);
    return names
      .map((n) => ({ n, m: re.exec(n) }))
      .filter((x) => x.m !== null)
      .sort((a, b) => Number(a.m![1]) - Number(b.m![1]) || a.n.localeCompare(b.n))
      .map((x) => path.join(this.workDir, x.n));
  }

  /**
   * Every item finished by any attempt, by input line. A torn last line (the process died mid-write) is ignored:
   * that item simply counts as not finished.
   */
  async finished(): Promise<Map<number, RecordLocation>> {
    const done = new Map<number, RecordLocation>();
    for (const file of await this.attemptFiles()) {
      for await (const l of readLines(file)) {
        if (!l.terminated) break;
        const line = recordLineNumber(l.text);
        if (line !== undefined && !done.has(line)) done.set(line, { file, offset: l.offset, length: l.length });
      }
    }
    return done;
  }

  async cleanUp(): Promise<void> {
    for (const file of await this.attemptFiles()) await fsp.rm(file, { force: true });
  }
}
