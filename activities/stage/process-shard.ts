// Maps an item operation over one shard with bounded concurrency, recording each finished item as it finishes,
// resuming after a crash from what earlier attempts recorded, and writing the output shard atomically at the end.
import { promises as fsp } from 'node:fs';
import { addCounts, ZERO_COUNTS, type ShardResult, type StageCounts } from '../../domain/core/stage';
import type { DatasetRef, RejectRecord } from '../../domain/core/dataset';
import { LineAppender, readLines } from '../datasets/jsonl';
import { DatasetStore, parseRecordLine } from '../datasets/store';
import type { OperationRegistry } from '../registry';
import { itemErrorKind } from '../../domain/core/errors';
import { countStageItem } from '../metrics';
import { withSpend } from '../inference/spend';
import { addSpend, type SpendEntry } from '../../domain/core/spend';
import { checkpointAttempt, encodeItemRecord, ShardWork, type ItemRecord, type RecordLocation } from './shard-work';

export interface ProcessShardInput {
  stage: string;
  operation: string;
  params?: unknown;
  input: DatasetRef;
  shard: number;
  /** Output dataset name. */
  output: string;
  itemConcurrency: number;
}

export interface ShardProgress {
  /** Items finished in this shard, counting those resumed from earlier attempts. */
  done: number;
  total: number;
  resumed: number;
  attempt: number;
  /** Rows (samples) written by the items this attempt finished: an item with n = 64 samples adds 64. */
  rows?: number;
  /** Items started and not finished yet (a long request with many samples shows here before it counts in done). */
  inFlight?: number;
}

export interface ProcessShardEnv {
  store: DatasetStore;
  operations: OperationRegistry;
  attempt: number;
  signal: AbortSignal;
  heartbeat: (progress: ShardProgress) => void;
  /** How long items in flight may finish after a cancellation before they are aborted (default 2 minutes). */
  cancelGraceMs?: number;
  /** The last heartbeat of an earlier attempt, if any (a hint; the attempt files are the record). */
  lastHeartbeat?: ShardProgress;
  log?: (message: string) => void;
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}

export async function processShard(env: ProcessShardEnv, input: ProcessShardInput): Promise<ShardResult> {
  const { store } = env;
  const work = new ShardWork(store.datasetDir(input.output), input.shard, store);
  // Finished before, but the completion did not reach Temporal (e.g. the worker died right after).
  const finishedBefore = await store.readJsonIfPresent<ShardResult>(work.donePath);
  if (finishedBefore) return { ...finishedBefore, reused: true };
  const operation = env.operations(input.operation);
  const params = operation.parseParams(input.params);
  const manifest = await store.readManifest(input.input);
  const inputPath = await store.localShard(manifest, input.shard);
  const total = manifest.shards[input.shard]!.items;

  const finished = await work.finished();
  const resumed = finished.size;
  if (env.lastHeartbeat && env.lastHeartbeat.done > resumed) {
    env.log?.(
      `shard ${input.shard}: last heartbeat said ${env.lastHeartbeat.done} done, attempt files hold ${resumed}`,
    );
  }
  let done = resumed;
  let rows = 0;
  /** items in flight */
  let active = 0;
  const beat = () => env.heartbeat({ done, total, resumed, attempt: env.attempt, rows, inFlight: active });
  env.heartbeat({ done, total, resumed, attempt: env.attempt, rows, inFlight: 0 });

  const attemptFile = work.attemptPath(env.attempt);
  const appender = await LineAppender.open(attemptFile);
  // with an object store, the attempt file is uploaded as it grows (see shard-work.ts for what a crash may redo)
  const checkpoint = store.objects
    ? checkpointAttempt(store, attemptFile, () => appender.flush(), store.checkpointMs)
    : undefined;
  const record = (r: ItemRecord) => {
    appender.append(encodeItemRecord(r));
    countStageItem(input.stage, input.operation, r.outcome, r.outcome === 'kept' ? r.rows.length : 0);
    done++;
    if (r.outcome === 'kept') rows += r.rows.length;
    beat();
  };

  let stopError: unknown;
  const stopped = () => stopError !== undefined || env.signal.aborted;
  // On cancellation no new item starts, and items in flight get a grace period to finish and be recorded, so that
  // a cancelled and restarted run asks for nothing twice; only after the grace period are they aborted.
  const items = new AbortController();
  let graceTimer: NodeJS.Timeout | undefined;
  const onCancel = () => {
    graceTimer = setTimeout(() => items.abort(env.signal.reason), env.cancelGraceMs ?? 120_000);
  };
  if (env.signal.aborted) onCancel();
  else env.signal.addEventListener('abort', onCancel, { once: true });
  // The one waiter (the reading loop) to wake when a slot frees up (`active` counts the items in flight). A counter
  // rather than Promise.race over the pending set: race re-subscribes to every pending item each time, O(concurrency)
  // per item.
  let wake: (() => void) | undefined;
  const slotFreed = () => {
    active--;
    const w = wake;
    wake = undefined;
    w?.();
  };
  const nextFinish = () => new Promise<void>((resolve) => (wake = resolve));

  const handle = async (line: number, text: string): Promise<void> => {
    const parsed = parseRecordLine({ line, text, offset: 0, length: 0, terminated: true });
    if (!parsed.ok) return record({ line, outcome: 'rejected', reason: parsed.reason, raw: text.slice(0, 10_000) });
    const item = parsed.value as Record<string, unknown>;
    const sourceId =
      typeof item.id === 'string' || typeof item.id === 'number'
        ? String(item.id)
        : `${manifest.name}/${input.shard}:${line}`;
    // every model call of the item is charged to it, and recorded with it (a failed item spent tokens too)
    const { value: ran, spend } = await withSpend(async () => {
      try {
        const outcome = await operation.run(item, params, {
          stage: input.stage,
          sourceId,
          shard: input.shard,
          line,
          attempt: env.attempt,
          signal: items.signal,
        });
        return { outcome };
      } catch (err) {
        return { err };
      }
    });
    const charged = spend.length > 0 ? { spend } : {};
    if ('err' in ran) {
      const { err } = ran;
      if (items.signal.aborted) return; // cancelled past the grace period: not finished, not recorded
      if (itemErrorKind(err) !== 'item') {
        // the shard stops: retried later, or failed for good (a misconfigured step), keeping what it finished
        stopError ??= err;
        return;
      }
      return record({ line, outcome: 'failed', reason: errorMessage(err), record: item, ...charged });
    }
    const { outcome } = ran;
    if ('reject' in outcome)
      record({ line, outcome: 'rejected', reason: outcome.reject, record: item, detail: outcome.detail, ...charged });
    else record({ line, outcome: 'kept', rows: outcome.rows, ...charged });
  };

  try {
    for await (const l of readLines(inputPath)) {
      if (finished.has(l.line)) continue;
      if (stopped()) break;
      while (active >= input.itemConcurrency) await nextFinish();
      if (stopped()) break;
      active++;
      beat();
      // the slot is freed once the item's record is in the attempt file, not just queued for it: so a crash redoes
      // at most the items that hold a slot (in flight or being written), never one that a newer item displaced
      handle(l.line, l.text)
        .then(() => appender.flush())
        .catch((err: unknown) => void (stopError ??= err)) // e.g. the attempt file cannot be written: retry the shard
        .finally(slotFreed);
    }
    while (active > 0) await nextFinish();
  } finally {
    clearTimeout(graceTimer);
    env.signal.removeEventListener('abort', onCancel);
    await appender.close();
    await checkpoint?.stop();
  }
  if (env.signal.aborted) throw env.signal.reason ?? new Error('shard cancelled');
  if (stopError !== undefined) throw stopError;

  // A concurrent attempt (one Temporal had given up on) may have finished the shard meanwhile, and the stage may
  // even be finalized, its attempt files gone: never merge over a finished shard.
  const finishedMeanwhile = await store.readJsonIfPresent<ShardResult>(work.donePath);
  if (finishedMeanwhile) return finishedMeanwhile;
  const { counts, spend } = await mergeShard(store, work, input, manifest.name);
  const result: ShardResult = {
    shard: input.shard,
    counts,
    resumed,
    attempt: env.attempt,
    ...(spend.length > 0 ? { spend } : {}),
  };
  await store.writeAtomic(work.donePath, JSON.stringify(result)); // after the shard and its rejects
  // Attempt files stay until the stage is finalized: a zombie attempt of this shard may still be merging them.
  return result;
}

const MERGE_IN_MEMORY_BYTES = 64 * 1024 * 1024;

/** Writes the output and rejects files in input order from the attempt files; returns the shard's counts and spend. */
async function mergeShard(
  store: DatasetStore,
  work: ShardWork,
  input: ProcessShardInput,
  inputName: string,
): Promise<{ counts: StageCounts; spend: SpendEntry[] }> {
  const locations = await work.finished();
  const lines = [...locations.keys()].sort((a, b) => a - b);
  const handles = new Map<string, fsp.FileHandle>();
  // Attempt files of ordinary size are read whole (one read instead of one per item); big ones by position.
  const inMemory = new Map<string, Buffer>();
  const files = [...new Set([...locations.values()].map((l) => l.file))];
  let totalBytes = 0;
  for (const file of files) totalBytes += (await fsp.stat(file)).size;
  if (totalBytes <= MERGE_IN_MEMORY_BYTES) for (const file of files) inMemory.set(file, await fsp.readFile(file));
  let counts: StageCounts = { ...ZERO_COUNTS };
  const spend: SpendEntry[] = [];
  const rejects: string[] = [];
  const readRecord = async (loc: RecordLocation): Promise<ItemRecord> => {
    const whole = inMemory.get(loc.file);
    if (whole) return JSON.parse(whole.toString('utf8', loc.offset, loc.offset + loc.length)) as ItemRecord;
    let fh = handles.get(loc.file);
    if (!fh) handles.set(loc.file, (fh = await fsp.open(loc.file, 'r')));
    const buf = Buffer.allocUnsafe(loc.length);
    await fh.read(buf, 0, loc.length, loc.offset);
    return JSON.parse(buf.toString('utf8')) as ItemRecord;
  };
  async function* rows(): AsyncGenerator<string> {
    for (const line of lines) {
      const r = await readRecord(locations.get(line)!);
      addSpend(spend, r.spend);
      if (r.outcome === 'kept') {
        counts = addCounts(counts, { items: 1, kept: 1, rows: r.rows.length, rejected: 0, failed: 0 });
        for (const row of r.rows) yield JSON.stringify(row) + '\n';
      } else {
        counts = addCounts(counts, {
          items: 1,
          kept: 0,
          rows: 0,
          rejected: r.outcome === 'rejected' ? 1 : 0,
          failed: r.outcome === 'failed' ? 1 : 0,
        });
        const reject: RejectRecord = {
          kind: r.outcome,
          stage: input.stage,
          reason: r.reason,
          source: {
            dataset: inputName,
            shard: input.shard,
            line: r.line,
            sourceId: (r.record as { id?: string } | undefined)?.id,
          },
          record: r.record,
          raw: r.raw,
          detail: r.detail,
        };
        rejects.push(JSON.stringify(reject) + '\n');
      }
    }
  }
  try {
    await store.writeAtomic(work.outputPath, rows());
    if (rejects.length > 0) await store.writeAtomic(work.rejectsPath, rejects.join(''));
    else await store.remove(work.rejectsPath);
  } finally {
    for (const fh of handles.values()) await fh.close();
  }
  return { counts, spend };
}
