// What the end-to-end tests of long pipelines share: a configuration on task queues of the test's own (so each
// test's workers serve only it) with every role on one endpoint, and the items a stage has recorded so far in its
// attempt files (a test kills its worker once enough are recorded, with requests in flight).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigSchema, type Config } from '../../domain/platform/config';
import type { DatasetStore } from '../../activities/datasets/store';
import type { FakeOpenAIServer } from '../../lib/fake-openai-server';
import type { WorkerProcess } from './worker-process';

const QUEUE_KINDS = ['orchestration', 'inference', 'cpu', 'sandbox', 'training'] as const;
const ROLES = ['promptGenerator', 'rationaleModel', 'testCaseWriter', 'policy', 'teacher'] as const;

/** Task queues named `<prefix>-<kind>`. */
export function ownQueues(prefix: string): Record<(typeof QUEUE_KINDS)[number], string> {
  return Object.fromEntries(QUEUE_KINDS.map((q) => [q, `${prefix}-${q}`])) as Record<
    (typeof QUEUE_KINDS)[number],
    string
  >;
}

/** Every role bound to one endpoint. */
export function allRolesOn(endpoint: string): Record<string, { endpoint: string }> {
  return Object.fromEntries(ROLES.map((r) => [r, { endpoint }]));
}

/** A configuration on the test's own queues, every role on the `main` endpoint at `baseUrl`. */
export function pipelineTestConfig(o: {
  address: string;
  prefix: string;
  storageRoot: string;
  baseUrl: string;
  model: string;
  /** other top-level sections (training, sandbox, ...) */
  more?: Record<string, unknown>;
}): Config {
  return ConfigSchema.parse({
    temporal: { address: o.address, namespace: 'default' },
    taskQueues: ownQueues(o.prefix),
    storage: { root: o.storageRoot },
    endpoints: {
      main: { baseUrl: o.baseUrl, model: o.model, initialBackoffMs: 20, maxBackoffMs: 200, timeoutMs: 10_000 },
    },
    roles: allRolesOn('main'),
    ...o.more,
  });
}

/** The item records in the attempt files of a stage's output dataset (one JSON line per finished item). */
export function recordedLines(store: DatasetStore, dataset: string): string[] {
  const work = path.join(store.datasetDir(dataset), '.work');
  if (!existsSync(work)) return [];
  return readdirSync(work)
    .filter((f) => f.includes('.attempt-'))
    .flatMap((f) =>
      readFileSync(path.join(work, f), 'utf8')
        .split('\n')
        .filter((l) => l.endsWith('}')),
    );
}

/**
 * SIGKILLs `worker` once the stage writing `dataset` has recorded `atLeast` items and the fake server has
 * `inFlight` requests open (so the kill lands mid-stage, with work lost); returns what was recorded and sent then.
 */
export async function killWhenRecorded(
  worker: WorkerProcess,
  o: { store: DatasetStore; dataset: string; atLeast: number; fake?: FakeOpenAIServer; inFlight?: number },
): Promise<{ recorded: string[]; requests: number }> {
  const started = Date.now();
  const ready = () =>
    recordedLines(o.store, o.dataset).length >= o.atLeast && (!o.fake || o.fake.inFlight >= (o.inFlight ?? 0));
  while (!ready() && Date.now() - started < 240_000) await new Promise((r) => setTimeout(r, 5));
  worker.child.kill('SIGKILL');
  await worker.exited;
  return { recorded: recordedLines(o.store, o.dataset), requests: o.fake?.requests ?? 0 };
}

/** The worker processes a test spawns, all SIGKILLed at the fixture's teardown. */
export function workerProcesses(ctx: { onTeardown(stop: () => unknown): void }): WorkerProcess[] {
  const workers: WorkerProcess[] = [];
  ctx.onTeardown(() => {
    for (const w of workers) w.child.kill('SIGKILL');
  });
  return workers;
}

/** Every row of a dataset, in order. */
export async function datasetRows(store: DatasetStore, name: string): Promise<Array<Record<string, any>>> {
  const out: Array<Record<string, any>> = [];
  for await (const r of store.readAll(name)) out.push(r as Record<string, any>);
  return out;
}

/** A dataset's shard files, concatenated in order (what a byte-identical re-run is compared on). */
export function datasetBytes(store: DatasetStore, name: string): string {
  const dir = store.datasetDir(name);
  return readdirSync(dir)
    .filter((f) => /^shard-\d+\.jsonl$/.test(f))
    .sort()
    .map((f) => readFileSync(path.join(dir, f), 'utf8'))
    .join('');
}
