// The object-store backend (storage.root s3://…) on a real S3-compatible server (gofakes3 on loopback) and a real
// Temporal dev server: a stage run by in-process workers, then a fleet of worker processes that share nothing but
// Temporal and the object store (each its own local folder), one of them SIGKILLed mid-stage.
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { importJsonl } from '../../activities/datasets/import';
import { readLines } from '../../activities/datasets/jsonl';
import { openDatasetStore } from '../../activities/datasets/open-store';
import type { DatasetStore } from '../../activities/datasets/store';
import type { Config } from '../../domain/platform/config';
import { formatGeneration, type SynthesisResult } from '../../domain/synthesize-corpus';
import { startFakeOpenAIServer } from '../../lib/fake-openai-server';
import { mapDatasetStage } from '../../workflows/stage';
import { testConfig } from '../support/config';
import { writeJsonl } from '../support/files';
import { useStoreBackend } from '../support/stores';
import { bundleWorkflows } from '../support/temporal';
import { useTemporalAndFake } from '../support/temporal-and-fake';
import { spawnWorker, writeConfigFile, type WorkerProcess } from '../support/worker-process';
import { runTestWorkers } from '../support/workers';

const ITEMS = 1200;

/** Made-up words of 4+ letters, distinct per number, so that the problems of different records share none. */
function word(n: number): string {
  const letters = 'bcdfghjklmnpqrstvwxz';
  let w = '';
  for (let x = n + 1; x > 0 || w.length < 5; x = Math.floor(x / letters.length))
    w += letters[x % letters.length]! + 'aeiou'[x % 5]!;
  return w;
}

async function until(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('the object-store backend with Temporal', () => {
  const ctx = useTemporalAndFake('object-store', { latencyMs: 40 });
  const backend = useStoreBackend('s3');
  const { tmp } = ctx;
  let env: TestWorkflowEnvironment;
  let bundle: WorkflowBundleWithSourceMap;
  const processes: WorkerProcess[] = [];
  ctx.onTeardown(() => {
    for (const w of processes) if (w.child.exitCode === null) w.child.kill('SIGKILL');
  });

  /** A configuration on the shared object store, with local files of its own under `local`. */
  function configOn(root: Config['storage'], local: string, base?: Config): Config {
    const config = base ?? testConfig({ address: env.address, storageRoot: 'unused', baseUrl: ctx.fake.url });
    return { ...config, storage: { ...root, scratch: path.join(tmp.dir, local) } };
  }

  /** The same data seen from a host with an empty local folder. */
  function freshHost(config: Config, local: string): DatasetStore {
    return openDatasetStore({ ...config.storage, scratch: path.join(tmp.dir, local) });
  }

  beforeAll(async () => {
    env = ctx.env;
    bundle = await bundleWorkflows();
  });

  it('runs a stage over the object store: manifest and shards there, attempt files cleaned, read from anywhere', async () => {
    const config = configOn(backend.storage(path.join(tmp.dir, 'unused')), 'host-a');
    const store = openDatasetStore(config.storage);
    ctx.workers = await runTestWorkers(env.nativeConnection, config, bundle, ['orchestration', 'cpu']);
    const file = writeJsonl(
      path.join(tmp.dir, 'items.jsonl'),
      Array.from({ length: 500 }, (_, i) => ({ id: `item-${i}`, value: i })),
    );
    const { dataset } = await importJsonl(store, { files: [file], name: 'noop/input', shardSize: 100 });
    const handle = await env.client.workflow.start(mapDatasetStage, {
      taskQueue: config.taskQueues.orchestration,
      workflowId: `s3-noop-${Date.now()}`,
      args: [{ stage: 'noop', operation: 'noop', input: dataset, output: 'noop/output', maxConcurrentShards: 3 }],
    });
    const result = await handle.result();
    expect(result.counts).toEqual({ items: 500, kept: 500, rows: 500, rejected: 0, failed: 0 });

    const elsewhere = freshHost(config, 'host-b');
    const ids: string[] = [];
    for await (const row of elsewhere.readAll(result.output)) ids.push((row as { id: string }).id);
    expect(ids).toEqual(Array.from({ length: 500 }, (_, i) => `item-${i}`));
    const keys = (await elsewhere.objects!.list('datasets/noop/output/')).map((o) => o.key).sort();
    expect(keys.filter((k) => k.includes('.attempt-'))).toEqual([]);
    expect(keys).toContain('datasets/noop/output/manifest.json');
    expect(keys.filter((k) => /shard-\d+\.jsonl$/.test(k))).toHaveLength(5);
    expect(keys.filter((k) => /\.work\/shard-\d+\.done\.json$/.test(k))).toHaveLength(5);
    await ctx.workers.stop();
    ctx.workers = undefined;
  });

  it('a fleet sharing only Temporal and the object store: one worker killed mid-stage, every item exactly once', async () => {
    const base = configOn(backend.storage(path.join(tmp.dir, 'unused')), 'fleet-none');
    const spawnOn = (local: string, entry: string) => {
      const file = writeConfigFile(path.join(tmp.dir, `${local}.yaml`), configOn(base.storage, local, base));
      const w = spawnWorker(file, entry);
      processes.push(w);
      return w;
    };
    // orchestration (workflows, import, finalize) on one host, shard work on two others
    const orchestrator = spawnOn('fleet-orchestration', 'workers/orchestration.ts');
    const doomed = spawnOn('fleet-inference-1', 'workers/inference.ts');
    await Promise.all([orchestrator.ready, doomed.ready]);
    ctx.fake.reset();
    const prompts = writeJsonl(
      path.join(tmp.dir, 'fleet.jsonl'),
      Array.from({ length: ITEMS }, (_, i) => ({ id: `fleet-${i}`, prompt: `fleet question ${i}` })),
    );
    const handle: WorkflowHandle = await env.client.workflow.start('batchInference', {
      taskQueue: base.taskQueues.orchestration,
      workflowId: `fleet-${Date.now()}`,
      args: [
        {
          name: 'fleet',
          inputFiles: [prompts],
          shardSize: 200,
          maxConcurrentShards: 3,
          itemConcurrency: 4,
          heartbeatTimeoutSeconds: 3,
          chat: { sampling: { n: 1, seed: 1 } },
        },
      ],
    });
    await until(() => ctx.fake.requests >= ITEMS * 0.3, 60_000, '30% of the requests');
    doomed.child.kill('SIGKILL');
    await doomed.exited;
    const atKill = ctx.fake.requests;
    expect(atKill).toBeLessThan(ITEMS * 0.8);
    const survivor = spawnOn('fleet-inference-2', 'workers/inference.ts');
    await survivor.ready;
    const result = (await handle.result()) as { completions: { counts: Record<string, number>; output: never } };
    expect(result.completions.counts).toEqual({ items: ITEMS, kept: ITEMS, rows: ITEMS, rejected: 0, failed: 0 });

    const reader = freshHost(base, 'fleet-reader');
    const ids: string[] = [];
    for await (const row of reader.readAll(result.completions.output)) ids.push((row as { sourceId: string }).sourceId);
    expect(ids).toEqual(Array.from({ length: ITEMS }, (_, i) => `fleet-${i}`));
    expect(ctx.fake.countsByKey().size).toBe(ITEMS);
    const twice = [...ctx.fake.countsByKey().values()].filter((c) => c > 1).length;
    // redone: the killed worker's items in flight and those since its last attempt-file upload (checkpointMs 200)
    expect(twice / ITEMS).toBeLessThan(0.15);
    console.log(`object-store fleet: killed after ${atKill} requests; ${twice} of ${ITEMS} items requested twice`);
  });

  it('a corpus refreshed on other hosts deduplicates against the first run through the stored index', async () => {
    // p_θ answers each concept record with the same problem whatever the seed: the refresh finds only duplicates
    const fake = await startFakeOpenAIServer({
      respond: (body) => {
        const n = Number(/Concept set (\d+)/.exec(String(body.prompt))?.[1]);
        const problem = Array.from({ length: 20 }, (_, i) => word(n * 101 + i * 7)).join(' ');
        return formatGeneration(`rationale ${n}`, `Find ${problem}.`);
      },
    });
    ctx.onTeardown(() => fake.close());
    const base = testConfig({ address: env.address, storageRoot: 'unused', baseUrl: fake.url });
    const root = backend.storage(path.join(tmp.dir, 'unused'));
    const concepts = writeJsonl(
      path.join(tmp.dir, 'concepts.jsonl'),
      Array.from({ length: 6 }, (_, i) => ({
        id: `cs${i}`,
        foundational_concepts: [`Concept set ${i}`],
        level: 'AIME',
      })),
    );
    const runOn = async (local: string, runKey: string): Promise<SynthesisResult> => {
      const config = configOn(root, local, base);
      const workers = await runTestWorkers(env.nativeConnection, config, bundle, ['orchestration', 'inference', 'cpu']);
      try {
        return (await env.client.workflow.execute('synthesizeCorpus', {
          taskQueue: config.taskQueues.orchestration,
          workflowId: `s3-synth-${runKey}-${Date.now()}`,
          args: [{ name: 'corpus-s3', runKey, conceptFiles: [concepts], domain: 'math', passes: 1, seeds: 'run' }],
        })) as SynthesisResult;
      } finally {
        await workers.stop();
      }
    };
    const first = await runOn('synth-host-a', 'first');
    expect(first.totals).toMatchObject({ generated: 6, kept: 6, exactDuplicates: 0 });
    const second = await runOn('synth-host-b', 'second'); // an empty local folder: the index comes from the store
    expect(second.totals).toMatchObject({ generated: 6, kept: 0, exactDuplicates: 6 });
    const reader = freshHost(configOn(root, 'synth-reader', base), 'synth-reader');
    const rejects: Array<{ reason: string; source: { sourceId: string } }> = [];
    for (const f of second.rejects) {
      const file = reader.resolve(f);
      expect(await reader.fetch(file)).toBe(true);
      for await (const l of readLines(file)) rejects.push(JSON.parse(l.text) as (typeof rejects)[number]);
    }
    expect(rejects.find((r) => r.source.sourceId === 'cs3@0')!.reason).toBe('exact duplicate of first/cs3@0');
    const rows: unknown[] = [];
    for await (const row of reader.readAll(first.corpus)) rows.push(row);
    expect(rows).toHaveLength(6);
  });
});
