// The dataset store: manifests of JSONL shards under the storage root, written atomically, read as streams.
//
// Two backends with one layout. A folder (the default): every file lives at its path under the root. An object
// store (`storage.root: s3://bucket/prefix`): the same paths are keys under the prefix, and `root` is a local scratch
// folder where work in progress is written and objects are cached; a file is committed by uploading it whole once it
// is complete (one PUT: readers see the whole object or none), so every guarantee of the file store holds across
// hosts: shards before the manifest, the manifest last, `.done.json` after the shard it describes.
// Callers write locally as before and then call `commit`; they `fetch` before reading a file another host may have
// written. With a folder both are no-ops and the behaviour is exactly the file store's.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import type { ObjectInfo, ObjectStore } from './blob-store';
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
  /** The folder of the files: the storage root itself, or the local scratch folder of an object store. */
  readonly root: string;

  /**
   * @param objects the object store behind an s3:// root (`root` is then its local scratch folder)
   * @param checkpointMs how often a running shard uploads its attempt file to the object store
   */
  constructor(
    root: string,
    readonly objects?: ObjectStore,
    readonly checkpointMs = 2000,
  ) {
    this.root = path.resolve(root);
  }

  /** Where the data lives, for messages: the folder, or the s3:// root. */
  get location(): string {
    return this.objects?.url ?? this.root;
  }

  /** The object key of a file under the root. */
  keyOf(abs: string): string {
    return this.relative(abs).split(path.sep).join('/');
  }

  /**
   * Makes a file that may have been written by another host present locally; false when it exists nowhere. Only
   * for files that never change once written (shards, manifests, `.done.json`): a local copy is taken as it is,
   * unless `fresh` asks for the stored object.
   */
  async fetch(abs: string, options: { fresh?: boolean } = {}): Promise<boolean> {
    if (!this.objects) return existsSync(abs);
    if (!options.fresh && existsSync(abs)) return true;
    const body = await this.objects.get(this.keyOf(abs));
    if (body === undefined) return existsSync(abs);
    await writeFileAtomic(abs, body);
    return true;
  }

  /** Publishes a complete local file (written by temp + rename, or closed). */
  async commit(abs: string): Promise<void> {
    if (this.objects) await this.objects.put(this.keyOf(abs), await fsp.readFile(abs));
  }

  /** Writes a file atomically and publishes it. */
  async writeAtomic(
    abs: string,
    content: string | Buffer | AsyncIterable<string | Buffer>,
  ): Promise<{ bytes: number }> {
    const written = await writeFileAtomic(abs, content);
    await this.commit(abs);
    return written;
  }

  /** Removes a file here and in the object store. */
  async remove(abs: string): Promise<void> {
    await fsp.rm(abs, { force: true });
    if (this.objects) await this.objects.delete([this.keyOf(abs)]);
  }

  /** Objects stored under a folder (with an object store; empty otherwise), keys relative to the root. */
  async listStored(absDir: string): Promise<ObjectInfo[]> {
    if (!this.objects) return [];
    return this.objects.list(`${this.keyOf(absDir)}/`);
  }

  /** Reads a JSON file written once (a `.done.json`), from here or the object store; undefined when absent. */
  async readJsonIfPresent<T>(abs: string): Promise<T | undefined> {
    if (!(await this.fetch(abs))) return undefined;
    return JSON.parse(await fsp.readFile(abs, 'utf8')) as T;
  }

  /** Whether the dataset has a manifest (is finished), looking in the object store too. */
  async has(name: string): Promise<boolean> {
    return this.fetch(this.manifestPath(name));
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
      await this.fetch(file);
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
  async shardInfo(name: string, file: string, items: number, options: { fresh?: boolean } = {}): Promise<ShardInfo> {
    const abs = path.join(this.datasetDir(name), file);
    if (this.objects && !(await this.fetch(abs, options)))
      throw new DatasetError(`${this.location}: no ${file} in ${name}`);
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
    await this.writeAtomic(this.manifestPath(name), JSON.stringify(manifest, null, 2) + '\n');
    return this.refOf(manifest);
  }

  shardPath(manifestOrName: DatasetManifest | string, index: number): string {
    if (typeof manifestOrName === 'string') return path.join(this.datasetDir(manifestOrName), shardFileName(index));
    const shard = manifestOrName.shards[index];
    if (!shard) throw new DatasetError(`dataset ${manifestOrName.name} has no shard ${index}`);
    return path.join(this.datasetDir(manifestOrName.name), shard.path);
  }

  /** The local path of a shard, fetched from the object store when it is not here yet. */
  async localShard(manifest: DatasetManifest, index: number): Promise<string> {
    const file = this.shardPath(manifest, index);
    if (this.objects && !(await this.fetch(file)))
      throw new DatasetError(`${this.location}: shard ${index} of ${manifest.name} is missing`);
    return file;
  }

  /** Streams every record of a dataset in order (for exports and tests; stages read shard by shard). */
  async *readAll(ref: DatasetRef | string): AsyncGenerator<unknown> {
    const manifest = await this.readManifest(ref);
    for (let i = 0; i < manifest.shards.length; i++) {
      const file = await this.localShard(manifest, i);
      for await (const r of readRecords(file)) {
        if (!r.ok) throw new DatasetError(`${file}:${r.line}: ${r.reason}`);
        yield r.value;
      }
    }
  }
}
