// The worker's Prometheus endpoint during a stage: a worker process (the SDK runtime is installed once per process)
// with `metrics.port` in its temporal.yaml runs the batchInference example against a slow fake model server that
// fails some requests; two scrapes while the stage runs show our counters moving (items, rows, tokens per role and
// model, retries and errors by kind) next to the SDK's own worker metrics.
import path from 'node:path';
import { METRIC_NAMES } from '../../activities/metrics';
import { STARTABLE_WORKFLOWS } from '../../domain/registry/workflows';
import { testConfig } from '../support/config';
import { writeJsonl } from '../support/files';
import { freePort, scrape, sumOf, type Sample } from '../support/prometheus';
import { useTemporalAndFake } from '../support/temporal-and-fake';
import { spawnWorker, writeConfigFile, type WorkerProcess } from '../support/worker-process';
import { until } from '../support/workflow-harness';

const ITEMS = 40;

describe('worker metrics', () => {
  const ctx = useTemporalAndFake('metrics', { latencyMs: 150, logRequests: false });
  let worker: WorkerProcess | undefined;
  ctx.onTeardown(async () => {
    if (worker && worker.child.exitCode === null) {
      worker.child.kill('SIGTERM');
      await worker.exited;
    }
  });

  it('exports our counters and the SDK metrics on /metrics, moving while a stage runs', async () => {
    const port = await freePort();
    const config = {
      ...testConfig({ address: ctx.env.address, storageRoot: path.join(ctx.tmp.dir, 'store'), baseUrl: ctx.fake.url }),
      metrics: { host: '127.0.0.1', port },
    };
    worker = spawnWorker(writeConfigFile(path.join(ctx.tmp.dir, 'temporal.yaml'), config));
    await worker.ready;
    const url = `http://127.0.0.1:${port}/metrics`;

    // every 7th request fails once with a 500 (the client retries it)
    ctx.fake.setFaults((index) => (index % 7 === 3 ? { type: 'status', status: 500 } : undefined));
    const example = STARTABLE_WORKFLOWS.batchInference!.example;
    const prompts = writeJsonl(
      path.join(ctx.tmp.dir, 'prompts.jsonl'),
      Array.from({ length: ITEMS }, (_, i) => ({ id: `m${i}`, prompt: `question ${i}` })),
    );
    const handle = await ctx.env.client.workflow.start('batchInference', {
      taskQueue: config.taskQueues.orchestration,
      workflowId: `metrics-${Date.now()}`,
      args: [{ ...example, name: 'metrics', inputFiles: [prompts], itemConcurrency: 2, maxConcurrentShards: 1 }],
    });

    const n = METRIC_NAMES;
    const stage = { stage: 'completions', operation: 'chatCompletion' };
    const items = (s: Sample[]) => sumOf(s, n.stageItems, { ...stage, outcome: 'kept' });
    const first = await until(
      'the first finished items on /metrics',
      async () => {
        const s = await scrape(url);
        return items(s) >= 4 && s;
      },
      60_000,
    );
    const second = await until(
      'more finished items on /metrics',
      async () => {
        const s = await scrape(url);
        return items(s) >= items(first) + 8 && s;
      },
      60_000,
    );
    expect(items(second)).toBeLessThan(ITEMS); // both scrapes saw the stage running

    const moved = (name: string, labels: Record<string, string> = {}) => [
      sumOf(first, name, labels),
      sumOf(second, name, labels),
    ];
    const [rows1, rows2] = moved(n.stageRows, stage);
    expect(rows2).toBeGreaterThan(rows1); // n = 2 samples per item
    const [tok1, tok2] = moved(n.inferenceTokens, { role: 'policy', model: 'test-model', type: 'completion' });
    expect(tok2).toBeGreaterThan(tok1);
    const [ok1, ok2] = moved(n.inferenceRequests, { role: 'policy', operation: 'chat', outcome: 'succeeded' });
    expect(ok2).toBeGreaterThan(ok1);
    expect(sumOf(second, n.inferenceRetries, { role: 'policy', kind: 'server_error' })).toBeGreaterThan(0);
    expect(sumOf(second, n.inferenceErrors, { role: 'policy', kind: 'server_error' })).toBeGreaterThan(0);
    // the SDK's own worker metrics on the same endpoint
    const sdk = [...new Set(second.filter((s) => s.name.startsWith('temporal_')).map((s) => s.name))];
    expect(sdk).toEqual(expect.arrayContaining(['temporal_activity_execution_latency_count']));

    const result = (await handle.result()) as { completions: { counts: { items: number; rows: number } } };
    expect(result.completions.counts).toMatchObject({ items: ITEMS, rows: 2 * ITEMS });
    const last = await scrape(url);
    expect(items(last)).toBe(ITEMS);
    expect(sumOf(last, n.stageRows, stage)).toBe(2 * ITEMS);
  }, 180_000);
});
