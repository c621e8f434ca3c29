// A batch run on a real Temporal server against a fault-injecting model server: 429s, 500s, slow answers,
// dropped connections, malformed and truncated bodies, and an outage longer than the client's own retries.
// The run completes with every item exactly once.
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DatasetStore } from '../../activities/datasets/store';
import type { Fault, FakeOpenAIServer } from '../../lib/fake-openai-server';
import { testConfig } from '../support/config';
import { runTestWorkers, type TestWorkers } from '../support/workers';
import { writeJsonl } from '../support/files';
import { bundleWorkflows } from '../support/temporal';
import { useTemporalAndFake } from '../support/temporal-and-fake';

const FAULTS: Fault[] = [
  { type: 'status', status: 429, retryAfterSec: 0 },
  { type: 'status', status: 500 },
  { type: 'status', status: 503 },
  { type: 'slow', delayMs: 1500 },
  { type: 'drop' },
  { type: 'malformed' },
  { type: 'truncated' },
];

describe('inference faults during a durable run', () => {
  const ctx = useTemporalAndFake('faults', { latencyMs: 5 });
  const { tmp } = ctx;
  let env: TestWorkflowEnvironment;
  let fake: FakeOpenAIServer;
  let workers: TestWorkers | undefined;
  ctx.onTeardown(() => workers?.stop());

  beforeAll(() => {
    ({ env, fake } = ctx);
  });

  it('completes with every item once despite every kind of fault and an outage', async () => {
    const config = testConfig({
      address: env.address,
      storageRoot: path.join(tmp.dir, 'store'),
      baseUrl: fake.url,
      maxConcurrency: 8,
      endpoint: { timeoutMs: 1000, maxRetries: 3, initialBackoffMs: 10, maxBackoffMs: 50 },
    });
    workers = await runTestWorkers(env.nativeConnection, config, await bundleWorkflows(), [
      'orchestration',
      'inference',
    ]);

    // Every 5th request fails in one of the ways above; requests 150..299 all get 503: an outage longer than the
    // client's 3 retries, so shard activities fail and Temporal retries them, resuming where they stopped.
    const seen = new Map<string, number>();
    fake.setFaults((index) => {
      if (index >= 150 && index < 300) return { type: 'status', status: 503 };
      return index % 5 === 0 ? FAULTS[(index / 5) % FAULTS.length] : undefined;
    });
    const items = 300;
    const file = writeJsonl(
      path.join(tmp.dir, 'p.jsonl'),
      Array.from({ length: items }, (_, i) => ({ id: `f${i}`, prompt: `faulty ${i}` })),
    );
    const result = await env.client.workflow.execute('batchInference', {
      taskQueue: config.taskQueues.orchestration,
      workflowId: `faults-${Date.now()}`,
      args: [
        {
          name: 'faults',
          inputFiles: [file],
          shardSize: 50,
          maxConcurrentShards: 3,
          itemConcurrency: 4,
          heartbeatTimeoutSeconds: 5,
        },
      ],
    });
    expect(result.completions.counts).toEqual({ items, kept: items, rows: items, rejected: 0, failed: 0 });
    const store = new DatasetStore(config.storage.root);
    const ids: string[] = [];
    for await (const row of store.readAll(result.completions.output)) {
      const r = row as { sourceId: string; completion: string; provenance: { requestAttempts: number } };
      ids.push(r.sourceId);
      seen.set(r.sourceId, r.provenance.requestAttempts);
      expect(r.completion).toContain(`faulty ${r.sourceId.slice(1)}`);
    }
    expect(ids).toEqual(Array.from({ length: items }, (_, i) => `f${i}`));
    expect(fake.requests).toBeGreaterThan(items + 150);
    // Some answers needed several attempts: the faults were really hit and ridden out.
    expect([...seen.values()].some((n) => n > 1)).toBe(true);
  });
});
