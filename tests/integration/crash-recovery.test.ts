// Durability on a real Temporal dev server: a worker SIGKILLed in the middle of a stage, and the Temporal server
// itself restarted mid-run. Both runs must finish with every item exactly once.
import path from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { DatasetStore } from '../../activities/datasets/store';
import type { Config } from '../../domain/platform/config';
import { startDevServer, type DevServer } from '../../lib/dev-server';
import { startFakeOpenAIServer, type FakeOpenAIServer } from '../../lib/fake-openai-server';
import { testConfig } from '../support/config';
import { tempDir, writeJsonl } from '../support/files';
import { spawnWorker, writeConfigFile, type WorkerProcess } from '../support/worker-process';

const ITEMS = 2000;

async function until(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Waits for a result, riding out the moments when the server is away. */
async function resultOf<T>(handle: WorkflowHandle, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return (await handle.result()) as T;
    } catch (err) {
      const name = (err as Error).name;
      if (name === 'WorkflowFailedError' || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

describe('durability', () => {
  const tmp = tempDir('crash');
  let server: DevServer;
  let fake: FakeOpenAIServer;
  let config: Config;
  let configFile: string;
  let client: Client;
  let store: DatasetStore;
  const workers: WorkerProcess[] = [];
  const dbFile = path.join(tmp.dir, 'temporal.db');

  beforeAll(async () => {
    server = await startDevServer({ dbFile, headless: true });
    fake = await startFakeOpenAIServer({ latencyMs: 40, logRequests: false });
    config = testConfig({
      address: server.address,
      storageRoot: path.join(tmp.dir, 'store'),
      baseUrl: fake.url,
      maxConcurrency: 64,
    });
    configFile = writeConfigFile(path.join(tmp.dir, 'temporal.yaml'), config);
    store = new DatasetStore(config.storage.root);
    client = new Client({ connection: await Connection.connect({ address: server.address }) });
  });

  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    await client?.connection.close();
    await fake?.close();
    await server?.stop();
    tmp.remove();
  });

  function startWorker(): WorkerProcess {
    const w = spawnWorker(configFile);
    workers.push(w);
    return w;
  }

  function promptsFile(name: string): string {
    return writeJsonl(
      path.join(tmp.dir, `${name}.jsonl`),
      Array.from({ length: ITEMS }, (_, i) => ({ id: `${name}-${i}`, prompt: `${name} question ${i}` })),
    );
  }

  async function outputIds(result: {
    completions: { output: Parameters<DatasetStore['readAll']>[0] };
  }): Promise<string[]> {
    const ids: string[] = [];
    for await (const row of store.readAll(result.completions.output)) ids.push((row as { sourceId: string }).sourceId);
    return ids;
  }

  function startRun(name: string): Promise<WorkflowHandle> {
    return client.workflow.start('batchInference', {
      taskQueue: config.taskQueues.orchestration,
      workflowId: `${name}-${Date.now()}`,
      args: [
        {
          name,
          inputFiles: [promptsFile(name)],
          shardSize: 250,
          maxConcurrentShards: 4,
          itemConcurrency: 8,
          heartbeatTimeoutSeconds: 3,
          chat: { sampling: { n: 1, seed: 1 } },
        },
      ],
    });
  }

  it('survives a SIGKILLed worker mid-stage: every item exactly once, few processed twice', async () => {
    fake.reset();
    const first = startWorker();
    await first.ready;
    const handle = await startRun('kill');
    await until(() => fake.requests >= ITEMS * 0.3, 60_000, '30% of the requests');
    first.child.kill('SIGKILL');
    await first.exited;
    const atKill = fake.requests;
    expect(atKill).toBeLessThan(ITEMS * 0.8); // the kill really landed mid-stage

    const second = startWorker();
    await second.ready;
    const result = await resultOf<{ completions: { counts: Record<string, number>; output: never } }>(handle, 120_000);
    expect(result.completions.counts).toEqual({ items: ITEMS, kept: ITEMS, rows: ITEMS, rejected: 0, failed: 0 });

    const ids = await outputIds(result);
    expect(ids).toEqual(Array.from({ length: ITEMS }, (_, i) => `kill-${i}`));
    const counts = [...fake.countsByKey().values()];
    expect(fake.countsByKey().size).toBe(ITEMS);
    const twice = counts.filter((c) => c > 1).length;
    expect(twice / ITEMS).toBeLessThan(0.1);
    console.log(
      `SIGKILL test: killed after ${atKill} requests; ${twice} of ${ITEMS} items (${((100 * twice) / ITEMS).toFixed(2)}%) were requested twice`,
    );
  });

  it('survives a restart of the Temporal server mid-run', async () => {
    fake.reset();
    if (!workers.some((w) => w.child.exitCode === null)) await startWorker().ready;
    const handle = await startRun('restart');
    await until(() => fake.requests >= ITEMS * 0.25, 60_000, '25% of the requests');
    await server.stop();
    const atStop = fake.requests;
    await new Promise((r) => setTimeout(r, 2000));
    server = await startDevServer({ dbFile, headless: true, port: server.port });
    const result = await resultOf<{ completions: { counts: Record<string, number>; output: never } }>(handle, 180_000);
    expect(atStop).toBeLessThan(ITEMS);
    expect(result.completions.counts).toEqual({ items: ITEMS, kept: ITEMS, rows: ITEMS, rejected: 0, failed: 0 });
    const ids = await outputIds(result);
    expect(ids).toEqual(Array.from({ length: ITEMS }, (_, i) => `restart-${i}`));
    expect(fake.countsByKey().size).toBe(ITEMS);
  });
});
