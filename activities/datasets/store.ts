// The dataset store: manifests of JSONL shards under the storage root, written atomically, read as streams.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import {
  DatasetManifestSchema,
  DatasetNameSchema,
  shardFileName,
  type DatasetManifest,
  type DatasetRef,
  type ShardInfo,
} from '../../domain/core/dataset';
import { describeZodError } from '../../domain/core/validation';
import { readLines, writeFileAtomic, type JsonlLine } from './jsonl';

export class DatasetError extends Error {
  override name = 'DatasetError';
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** A parsed input line, or the reason it could not be used. */
export type RecordLine =
  { line: number; ok: true; value: unknown; raw: string } | { line: number; ok: false; reason: string; raw: string };

/** Parses JSONL lines; a bad line is reported with its number, never thrown. */
export async function* readRecords(file: string): AsyncGenerator<RecordLine> {
  for await (const l of readLines(file)) yield parseRecordLine(l);
}

export function parseRecordLine(l: JsonlLine): RecordLine {
  try {
    const value = JSON.parse(l.text) as unknown;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      return { line: l.line, ok: false, reason: 'not a JSON object', raw: l.text };
    }
    return { line: l.line, ok: true, value, raw: l.text };
  } catch (err) {
    return { line: l.line, ok: false, reason: `invalid JSON: ${(err as Error).message}`, raw: l.text };
  }
}

export class DatasetStore {
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  /** Absolute path of something stored under the root, refusing paths that escape it. */
  resolve(relative: string): string {
    const abs = path.resolve(this.root, relative);
    if (abs !== this.root && !abs.startsWith(this.root + path.sep))
      throw new DatasetError(`path escapes the storage root: ${relative}`);
    return abs;
  }

  relative(abs: string): string {
    return path.relative(this.root, abs);
  }

  datasetDir(name: string): string {
    const parsed = DatasetNameSchema.safeParse(name);
    if (!parsed.success) throw new DatasetError(`bad dataset name "${name}": ${describeZodError(parsed.error)}`);
    return this.resolve(path.join('datasets', name));
  }

  manifestPath(name: string): string {
    return path.join(this.datasetDir(name), 'manifest.json');
  }

  exists(name: string): boolean {
    return existsSync(this.manifestPath(name));
  }

  async readManifest(ref: DatasetRef | string): Promise<DatasetManifest> {
    const file = typeof ref === 'string' ? this.manifestPath(ref) : this.resolve(ref.manifest);
    let raw: unknown;
    try {
      raw = JSON.parse(await fsp.readFile(file, 'utf8'));
    } catch (err) {
      throw new DatasetError(`${file}: cannot read manifest: ${(err as Error).message}`);
    }
    const parsed = DatasetManifestSchema.safeParse(raw);
    if (!parsed.success) throw new DatasetError(`${file}: bad manifest: ${describeZodError(parsed.error)}`);
    return parsed.data;
  }

  refOf(manifest: DatasetManifest): DatasetRef {
    return {
      name: manifest.name,
      manifest: this.relative(this.manifestPath(manifest.name)),
      items: manifest.items,
      shards: manifest.shards.length,
    };
  }

  /** Describes a shard file already written in the dataset folder. */
  async shardInfo(name: string, file: string, items: number): Promise<ShardInfo> {
    const abs = path.join(this.datasetDir(name), file);
    const stat = await fsp.stat(abs);
    return { path: file, items, bytes: stat.size, sha256: await sha256File(abs) };
  }

  async writeManifest(name: string, shards: ShardInfo[], producedBy: Record<string, unknown>): Promise<DatasetRef> {
    const manifest: DatasetManifest = {
      name,
      formatVersion: 1,
      createdAt: new Date().toISOString(),
      items: shards.reduce((n, s) => n + s.items, 0),
      shards,
      producedBy,
    };
    await writeFileAtomic(this.manifestPath(name), JSON.stringify(manifest, null, 2) + '\n');
    return this.refOf(manifest);
  }

  shardPath(manifestOrName: DatasetManifest | string, index: number): string {
    if (typeof manifestOrName === 'string') return path.join(this.datasetDir(manifestOrName), shardFileName(index));
    const shard = manifestOrName.shards[index];
    if (!shard) throw new DatasetError(`dataset ${manifestOrName.name} has no shard ${index}`);
    return path.join(this.datasetDir(manifestOrName.name), shard.path);
  }

  /** Streams every record of a dataset in order (for exports and tests; stages read shard by shard). */
  async *readAll(ref: DatasetRef | string): AsyncGenerator<unknown> {
    const manifest = await this.readManifest(ref);
    for (let i = 0; i < manifest.shards.length; i++) {
      const file = this.shardPath(manifest, i);
      for await (const r of readRecords(file)) {
        if (!r.ok) throw new DatasetError(`${file}:${r.line}: ${r.reason}`);
        yield r.value;
      }
    }
  }
}
