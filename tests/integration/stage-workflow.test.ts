// The generic stage and the batch pipeline executed on a real Temporal dev server.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { saveHistoryFixture } from '../support/histories';
import { importJsonl } from '../../activities/datasets/import';
import { DatasetStore } from '../../activities/datasets/store';
import type { Config } from '../../domain/platform/config';
import { mapDatasetStage } from '../../workflows/stage';
import { writeJsonl } from '../support/files';
import { testConfig } from '../support/config';
import { runTestWorkers } from '../support/workers';
import { bundleWorkflows } from '../support/temporal';
import { useTemporalAndFake } from '../support/temporal-and-fake';

describe('mapDatasetStage on a real Temporal server', () => {
  const ctx = useTemporalAndFake('stage-wf', { latencyMs: 5 });
  const { tmp } = ctx;
  let env: TestWorkflowEnvironment;
  let bundle: WorkflowBundleWithSourceMap;
  let config: Config;
  let store: DatasetStore;

  beforeAll(async () => {
    env = ctx.env;
    bundle = await bundleWorkflows();
    config = testConfig({ address: env.address, storageRoot: path.join(tmp.dir, 'store') });
    store = new DatasetStore(config.storage.root);
    ctx.workers = await runTestWorkers(env.nativeConnection, config, bundle, ['orchestration', 'inference', 'cpu']);
  });

  it('maps a no-op over every shard, continuing as new, with rows in order and counts', async () => {
    const file = writeJsonl(
      path.join(tmp.dir, 'items.jsonl'),
      Array.from({ length: 1000 }, (_, i) => ({ id: `item-${i}`, value: i })),
    );
    const { dataset } = await importJsonl(store, { files: [file], name: 'noop/input', shardSize: 100 });
    expect(dataset.shards).toBe(10);
    const handle = await env.client.workflow.start(mapDatasetStage, {
      taskQueue: config.taskQueues.orchestration,
      workflowId: `noop-${Date.now()}`,
      args: [
        {
          stage: 'noop',
          operation: 'noop',
          input: dataset,
          output: 'noop/output',
          maxConcurrentShards: 3,
          shardsPerRun: 4,
        },
      ],
    });
    const result = await handle.result();
    expect(result.counts).toEqual({ items: 1000, kept: 1000, rows: 1000, rejected: 0, failed: 0 });
    expect(result.runs).toBe(3); // 10 shards, 4 per run: continued as new twice
    expect(result.output.items).toBe(1000);
    const ids: string[] = [];
    for await (const row of store.readAll(result.output)) ids.push((row as { id: string }).id);
    expect(ids).toEqual(Array.from({ length: 1000 }, (_, i) => `item-${i}`));
    const progress = await handle.query<{ done: boolean; shardsDone: number }>('progress');
    expect(progress).toMatchObject({ done: true, shardsDone: 10 });

    // The last run's history replays deterministically against the current workflow code.
    const history = await handle.fetchHistory();
    await Worker.runReplayHistory({ workflowBundle: bundle }, history, handle.workflowId);
    if (process.env.UPDATE_HISTORY_FIXTURES) saveHistoryFixture('mapDatasetStage-noop', env.address, handle.workflowId);
  });

  it('fails at once, naming the field, when the input is malformed (as the Web UI would send it)', async () => {
    const started = Date.now();
    const bad = {
      stage: 'bad',
      operation: 'noop',
      params: { delayMs: -5 },
      input: { name: 'x', manifest: 'datasets/x/manifest.json', items: 1, shards: 1 },
      output: 'x/out',
      maxConcurrentShards: 0,
    };
    const err = await env.client.workflow
      .execute('mapDatasetStage', {
        taskQueue: config.taskQueues.orchestration,
        workflowId: `bad-${Date.now()}`,
        args: [bad],
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const message = String((err as WorkflowFailedError).cause?.message);
    expect(message).toContain('maxConcurrentShards');
    expect(message).toContain('params.delayMs');
    expect((err as WorkflowFailedError).cause?.name).toBe('ApplicationFailure');
    expect(Date.now() - started).toBeLessThan(10_000);

    const unknownOp = await env.client.workflow
      .execute('mapDatasetStage', {
        taskQueue: config.taskQueues.orchestration,
        workflowId: `bad-op-${Date.now()}`,
        args: [{ ...bad, operation: 'nope', params: undefined, maxConcurrentShards: 1 }],
      })
      .catch((e: unknown) => e);
    expect(String((unknownOp as WorkflowFailedError).cause?.message)).toMatch(/operation: Invalid option/);
  });

  it('sets bad records aside with their line and reason while the run continues', async () => {
    const { fake } = ctx;
    const cfg = testConfig({ address: env.address, storageRoot: config.storage.root, baseUrl: fake.url });
    const chatWorkers = await runTestWorkers(env.nativeConnection, cfg, bundle, ['orchestration', 'inference']);
    const stamp = Date.now();
    const file = writeJsonl(path.join(tmp.dir, 'prompts.jsonl'), [
      { id: 'a', prompt: 'hello' },
      '{"id": "b", "prompt": ',
      { id: 'c', prompt: 42 },
      { id: 'd', messages: [{ role: 'robot', content: 'x' }] },
      { id: 'e', prompt: 'world' },
    ]);
    const out = await env.client.workflow.execute('batchInference', {
      taskQueue: cfg.taskQueues.orchestration,
      workflowId: `batch-bad-${stamp}`,
      args: [{ name: 'bad', inputFiles: [file], chat: { sampling: { n: 2, seed: 7 } } }],
    });
    await chatWorkers.stop();
    expect(out.imported).toBe(4);
    expect(out.rejectedAtImport).toBe(1);
    expect(readFileSync(store.resolve(out.importRejects), 'utf8')).toMatch(/"line":2/);
    expect(out.completions.counts).toEqual({ items: 4, kept: 2, rows: 4, rejected: 2, failed: 0 });
    const rejects = out.completions.rejects.flatMap((f: string) =>
      readFileSync(store.resolve(f), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    );
    expect(rejects.map((r: { reason: string }) => r.reason)).toEqual([
      'field prompt: expected a non-empty string',
      expect.stringContaining('field messages[0].role'),
    ]);
    const rows: Array<Record<string, any>> = [];
    for await (const row of store.readAll(out.completions.output)) rows.push(row as Record<string, any>);
    expect(rows.map((r) => r.id)).toEqual(['a#0', 'a#1', 'e#0', 'e#1']);
    expect(rows[0]!.provenance).toMatchObject({ stage: 'completions', sourceId: 'a', role: 'policy', attempt: 1 });
    expect(typeof rows[0]!.provenance.sampling.seed).toBe('number');
    if (process.env.UPDATE_HISTORY_FIXTURES) {
      saveHistoryFixture('batchInference-rejects', env.address, `batch-bad-${stamp}`);
      saveHistoryFixture('mapDatasetStage-chat', env.address, `batch-bad-${stamp}/completions`);
    }
  });
});
