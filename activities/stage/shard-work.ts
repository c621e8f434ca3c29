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
//
// With an object store (storage.root s3://…) the same names are keys. The attempt file grows locally; every
// `checkpointMs` (default 2 s) and when the attempt ends, what it gained since the last upload (cut after its last
// whole line) is uploaded as one object, `<attempt file>/<start offset, 15 digits>`, so each byte goes up once. A
// host that reads the attempt joins the segments from offset 0 while they are contiguous (a whole object under the
// attempt file's own name counts as the segment at 0). The shard and rejects files are uploaded before
// `.done.json`. An attempt that dies loses from the object store only the items it finished since its last upload:
// the next attempt, on any host, redoes those (and only those). Recorded items are never lost and never taken twice.
import { randomBytes } from 'node:crypto';
import { existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import { rejectsFileName, shardFileName } from '../../domain/core/dataset';
import { readLines, writeFileAtomic } from '../datasets/jsonl';
import type { DatasetStore } from '../datasets/store';
import type { SpendEntry } from '../../domain/core/spend';

/** One finished item as recorded in an attempt file. */
/** `spend`: what the item's model calls spent (absent when it made none). */
export type ItemRecord = (
  | { line: number; outcome: 'kept'; rows: unknown[] }
  | { line: number; outcome: 'rejected' | 'failed'; reason: string; record?: unknown; raw?: string; detail?: unknown }
) & { spend?: SpendEntry[] };

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

  /** @param store the dataset store, when attempt files of other hosts may be in its object store */
  constructor(
    readonly outputDir: string,
    readonly shard: number,
    private readonly store?: DatasetStore,
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

  private attemptName(): RegExp {
    return new RegExp(`^${this.prefix}\\.attempt-(\\d+)\\.[0-9a-f]+\\.jsonl$`);
  }

  /** Stored attempt segments by attempt file name: start offset → key and size. */
  private async storedSegments(): Promise<Map<string, Array<{ start: number; key: string; size: number }>>> {
    const byName = new Map<string, Array<{ start: number; key: string; size: number }>>();
    if (!this.store?.objects) return byName;
    const re = this.attemptName();
    const base = `${this.store.keyOf(this.workDir)}/`;
    for (const o of await this.store.listStored(this.workDir)) {
      const [name, offset, ...rest] = o.key.slice(base.length).split('/');
      if (!name || !re.test(name) || rest.length > 0 || (offset !== undefined && !/^\d{15}$/.test(offset))) continue;
      const list = byName.get(name) ?? [];
      list.push({ start: offset === undefined ? 0 : Number(offset), key: o.key, size: o.size });
      byName.set(name, list);
    }
    return byName;
  }

  /**
   * Brings the stored attempt files of other attempts here. An attempt file only grows, so a stored one longer than
   * the local copy is newer; the file of a running attempt here is never shorter than what it uploaded.
   */
  private async fetchStoredAttempts(): Promise<void> {
    if (!this.store?.objects) return;
    for (const [name, segments] of await this.storedSegments()) {
      segments.sort((a, b) => a.start - b.start || b.size - a.size);
      const chain: typeof segments = [];
      let end = 0;
      for (const seg of segments) {
        if (seg.start !== end) continue; // a gap (a segment still uploading) or a duplicate start: stop there
        chain.push(seg);
        end += seg.size;
      }
      const local = path.join(this.workDir, name);
      const size = existsSync(local) ? (await fsp.stat(local)).size : -1;
      if (end <= size) continue;
      const parts: Buffer[] = [];
      for (const seg of chain) {
        const body = await this.store.objects.get(seg.key);
        if (body === undefined || body.length !== seg.size) break; // deleted meanwhile (finalized): take what came
        parts.push(body);
      }
      const whole = Buffer.concat(parts);
      if (whole.length > size) await writeFileAtomic(local, whole);
    }
  }

  async attemptFiles(): Promise<string[]> {
    await this.fetchStoredAttempts();
    if (!existsSync(this.workDir)) return [];
    const names = await fsp.readdir(this.workDir);
    const re = this.attemptName();
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
    const stored = this.store?.objects ? await this.fetchStoredAttemptKeys() : [];
    for (const file of await this.localAttemptFiles()) await fsp.rm(file, { force: true });
    if (stored.length > 0) await this.store!.objects!.delete(stored);
  }

  private async fetchStoredAttemptKeys(): Promise<string[]> {
    return [...(await this.storedSegments()).values()].flatMap((segments) => segments.map((s) => s.key));
  }

  private async localAttemptFiles(): Promise<string[]> {
    if (!existsSync(this.workDir)) return [];
    const re = this.attemptName();
    return (await fsp.readdir(this.workDir)).filter((n) => re.test(n)).map((n) => path.join(this.workDir, n));
  }
}

/**
 * Uploads a growing attempt file to the object store while the attempt runs: every `everyMs`, what it gained since
 * the last upload, cut after its last whole line, as one segment object (see the top of this file); once more at
 * `stop()`, which throws if that last upload fails (the shard is then retried: nothing it finished is lost, the
 * stored file just lags behind).
 */
export function checkpointAttempt(
  store: DatasetStore,
  file: string,
  flush: () => Promise<void>,
  everyMs: number,
): { stop: () => Promise<void> } {
  const objects = store.objects!;
  const key = store.keyOf(file);
  let uploaded = 0;
  let running: Promise<void> = Promise.resolve();
  const upload = async () => {
    await flush();
    const size = (await fsp.stat(file)).size;
    if (size <= uploaded) return;
    const fh = await fsp.open(file, 'r');
    let added: Buffer;
    try {
      added = Buffer.allocUnsafe(size - uploaded);
      const { bytesRead } = await fh.read(added, 0, added.length, uploaded);
      added = added.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
    const end = added.lastIndexOf(10) + 1;
    if (end === 0) return;
    await objects.put(`${key}/${String(uploaded).padStart(15, '0')}`, added.subarray(0, end));
    uploaded += end;
  };
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    running = upload()
      .catch(() => undefined) // a failed checkpoint only widens what a crash would redo; the next one retries
      .finally(() => (busy = false));
  }, everyMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
      await upload();
    },
  };
}
