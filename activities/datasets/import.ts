// Turns user JSONL files into a dataset: streaming, sharded, bad lines set aside with file, line and reason.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import {
  rejectsFileName,
  shardFileName,
  type DatasetRef,
  type RejectRecord,
  type ShardInfo,
} from '../../domain/core/dataset';
import { RECORD_SCHEMAS, type RecordSchemaName } from '../../domain/registry/records';
import { fieldProblems } from '../../domain/core/validation';
import { LineAppender } from './jsonl';
import { DatasetStore, readRecords } from './store';

export interface ImportOptions {
  files: string[];
  name: string;
  shardSize: number;
  /** Checks every record against a known schema; a bad one is rejected with its field. */
  schema?: RecordSchemaName;
  /** Reports progress (lines read); used for activity heartbeats. */
  onProgress?: (linesRead: number) => void;
}

export interface ImportResult {
  dataset: DatasetRef;
  imported: number;
  rejected: number;
  rejects?: string;
}

async function sourceFingerprint(files: string[]): Promise<Array<{ file: string; bytes: number; mtimeMs: number }>> {
  const out = [];
  for (const file of files) {
    // a missing file does not appear by retrying: the run fails at once, naming the path
    const stat = await fsp.stat(file).catch((err: NodeJS.ErrnoException) => {
      throw ApplicationFailure.nonRetryable(
        `input file not found: ${file} (resolved to ${path.resolve(file)}; ${err.code ?? err.message})`,
        'InvalidInput',
      );
    });
    if (!stat.isFile())
      throw ApplicationFailure.nonRetryable(
        `input file is not a file: ${file} (${path.resolve(file)})`,
        'InvalidInput',
      );
    out.push({ file: path.resolve(file), bytes: stat.size, mtimeMs: Math.floor(stat.mtimeMs) });
  }
  return out;
}

/**
 * Records keep their own `id` when they have a string or number one; otherwise they get `<file>:<line>`,
 * so that every later row can name the item it came from.
 */
export async function importJsonl(store: DatasetStore, options: ImportOptions): Promise<ImportResult> {
  const sources = await sourceFingerprint(options.files);
  if (await store.has(options.name)) {
    const existing = await store.readManifest(options.name);
    if (JSON.stringify(existing.producedBy.sources) === JSON.stringify(sources)) {
      const rejectedCount = Number(existing.producedBy.rejected ?? 0);
      return {
        dataset: store.refOf(existing),
        imported: existing.items,
        rejected: rejectedCount,
        rejects:
          rejectedCount > 0 ? store.relative(path.join(store.datasetDir(options.name), rejectsFileName(0))) : undefined,
      };
    }
    throw new Error(`dataset ${options.name} already exists with other sources; choose another name`);
  }
  const dir = store.datasetDir(options.name);
  await fsp.rm(dir, { recursive: true, force: true });
  // leftovers of an import that died before its manifest (no manifest: nobody reads them)
  const leftovers = await store.listStored(dir);
  if (leftovers.length > 0) await store.objects!.delete(leftovers.map((o) => o.key));
  await fsp.mkdir(dir, { recursive: true });
  const rejectsPath = path.join(dir, rejectsFileName(0));
  let rejects: LineAppender | undefined;
  const shards: ShardInfo[] = [];
  let pending: string[] = [];
  let imported = 0;
  let rejected = 0;
  let linesRead = 0;
  const seenIds = new Set<string>();

  const flushShard = async () => {
    if (pending.length === 0) return;
    const file = shardFileName(shards.length);
    await store.writeAtomic(path.join(dir, file), pending.join('\n') + '\n');
    shards.push(await store.shardInfo(options.name, file, pending.length));
    pending = [];
  };
  const reject = async (record: RejectRecord) => {
    rejects ??= await LineAppender.open(rejectsPath);
    rejects.append(JSON.stringify(record));
    rejected++;
  };

  for (const file of options.files) {
    const base = path.basename(file);
    for await (const r of readRecords(file)) {
      linesRead++;
      if (linesRead % 1000 === 0) options.onProgress?.(linesRead);
      if (!r.ok) {
        await reject({
          kind: 'rejected',
          stage: 'import',
          reason: r.reason,
          source: { file, line: r.line },
          raw: r.raw.slice(0, 10_000),
        });
        continue;
      }
      const record = r.value as Record<string, unknown>;
      const ownId = record.id;
      let id: string;
      if (typeof ownId === 'string' && ownId !== '') id = ownId;
      else if (typeof ownId === 'number') id = String(ownId);
      else if (ownId === undefined) id = `${base}:${r.line}`;
      else {
        await reject({
          kind: 'rejected',
          stage: 'import',
          reason: 'field id: expected a string or number',
          source: { file, line: r.line },
          record,
        });
        continue;
      }
      if (seenIds.has(id)) {
        await reject({
          kind: 'rejected',
          stage: 'import',
          reason: `field id: duplicate id "${id}"`,
          source: { file, line: r.line },
          record,
        });
        continue;
      }
      if (options.schema) {
        const checked = RECORD_SCHEMAS[options.schema].safeParse(record);
        if (!checked.success) {
          const p = fieldProblems(checked.error)[0]!;
          await reject({
            kind: 'rejected',
            stage: 'import',
            reason: `field ${p.field}: ${p.message}`,
            source: { file, line: r.line },
            record,
          });
          continue;
        }
      }
      seenIds.add(id);
      pending.push(JSON.stringify({ ...record, id }));
      imported++;
      if (pending.length >= options.shardSize) await flushShard();
    }
  }
  await flushShard();
  await rejects?.close();
  if (rejects) await store.commit(rejectsPath);
  const dataset = await store.writeManifest(options.name, shards, { stage: 'import', sources, rejected });
  return { dataset, imported, rejected, rejects: rejected > 0 ? store.relative(rejectsPath) : undefined };
}
