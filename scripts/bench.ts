// Benchmarks, each printing one JSON line.
//   npm run bench -- stage [--items 100000] [--fake-items 10000] [--latency 50] [--concurrency 256]
//   npm run bench -- dedup [--problems 100000]       (lib/bench/dedup.ts)
//   npm run bench -- sandbox [--reps 2] [--tests 16]  (lib/bench/sandbox.ts)
//   npm run bench -- math [--pairs 10000] [--seed S]  (lib/bench/math.ts)
//
// stage: (1) a no-op stage of N items through a real Temporal dev server (SQLite): items/s and history events per
// 1,000 items; (2) the same 10,000-item chat stage against the fake OpenAI server (50 ms latency, 256 requests in
// flight) through Temporal, divided by a plain in-process loop over the same client, server and concurrency.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { importJsonl } from '../activities/datasets/import';
import { DatasetStore } from '../activities/datasets/store';
import { InferenceClient } from '../activities/inference/client';
import { ConfigSchema, type Config } from '../domain/platform/config';
import type { DatasetRef } from '../domain/core/dataset';
import type { StageInput, StageResult } from '../domain/core/stage';
import { createWorkers } from '../workers/create-workers';
import { startDevServer } from '../lib/dev-server';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { freePort } from '../lib/dev-server';
import { benchDedup } from '../lib/bench/dedup';
import { benchSandbox } from '../lib/bench/sandbox';
import { benchMath } from '../lib/bench/math';

/** CPU seconds a process has used so far (Linux /proc). */
function cpuSecondsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function argValue(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

function benchConfig(address: string, root: string, baseUrl: string, concurrency: number): Config {
  const roles = Object.fromEntries(
    ['promptGenerator', 'rationaleModel', 'testCaseWriter', 'policy', 'teacher'].map((r) => [r, { endpoint: 'fake' }]),
  );
  return ConfigSchema.parse({
    temporal: { address },
    storage: { root },
    workers: {
      cpu: { maxConcurrentActivityTaskExecutions: 32 },
      inference: { maxConcurrentActivityTaskExecutions: 64 },
    },
    endpoints: { fake: { baseUrl, model: 'fake-model', maxConcurrency: concurrency, timeoutMs: 30_000 } },
    roles,
  });
}

async function writeItems(
  store: DatasetStore,
  dir: string,
  name: string,
  count: number,
  shardSize: number,
): Promise<DatasetRef> {
  const file = path.join(dir, `${name}.jsonl`);
  const lines: string[] = [];
  for (let i = 0; i < count; i++)
    lines.push(JSON.stringify({ id: `${name}-${i}`, prompt: `problem ${i}: how many primes are below ${1000 + i}?` }));
  writeFileSync(file, lines.join('\n') + '\n');
  return (await importJsonl(store, { files: [file], name, shardSize })).dataset;
}

/** The fake server runs in a process of its own, as a model server would: it must not share the worker's CPU. */
async function spawnFakeServer(latencyMs: number): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(__dirname, 'fake-openai-server.ts'),
      '--port',
      String(port),
      '--latency',
      String(latencyMs),
      '--quiet',
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('server on') && resolve());
    child.once('exit', (code) => reject(new Error(`fake server exited with ${code}`)));
  });
  return { url: `http://127.0.0.1:${port}/v1`, child };
}

async function runStage(
  client: Client,
  config: Config,
  input: StageInput,
): Promise<{ result: StageResult; seconds: number; events: number }> {
  const workflowId = `bench-${input.stage}-${Date.now()}`;
  const t0 = performance.now();
  const result = await client.workflow.execute<(i: StageInput) => Promise<StageResult>>('mapDatasetStage', {
    taskQueue: config.taskQueues.orchestration,
    workflowId,
    args: [input],
  });
  const seconds = (performance.now() - t0) / 1000;
  if (process.env.BENCH_TIMELINE) {
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    const ms = (e: { eventTime?: { seconds?: unknown; nanos?: number | null } | null }) =>
      Number(e.eventTime!.seconds) * 1000 + (e.eventTime!.nanos ?? 0) / 1e6;
    const evs = history.events ?? [];
    const t = ms(evs[0]!);
    console.error(
      `timeline ${input.stage}: ` +
        evs
          .filter((e) => [2, 11, 12].includes(Number(e.eventType)))
          .map(
            (e) =>
              `${({ 2: 'done', 11: 'start', 12: 'end' } as Record<number, string>)[Number(e.eventType)]}@${(ms(e) - t).toFixed(0)}`,
          )
          .join(' '),
    );
  }
  let events = 0;
  for await (const run of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) events += run.historyLength;
  return { result, seconds, events };
}

async function benchStage(): Promise<Record<string, unknown>> {
  const noopItems = argValue('items', 100_000);
  const fakeItems = argValue('fake-items', 10_000);
  const latencyMs = argValue('latency', 50);
  const concurrency = argValue('concurrency', 256);
  const shardSize = argValue('shard-size', 500);
  // Items in flight per shard: all shards together keep the endpoint's `concurrency` busy; more only queue at the
  // endpoint's limiter, which costs CPU on this 2-core machine.
  const itemConcurrency = argValue('item-concurrency', Math.ceil(concurrency / Math.ceil(fakeItems / shardSize)));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'promptcot-bench-'));
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const server = await startDevServer({ dbFile: path.join(dir, 'temporal.db'), headless: true });
  const fake = await spawnFakeServer(latencyMs);
  const config = benchConfig(server.address, path.join(dir, 'store'), fake.url, concurrency);
  const store = new DatasetStore(config.storage.root);
  const connection = await NativeConnection.connect({ address: server.address });
  const workers: Worker[] = await createWorkers({ config, connection, kinds: ['orchestration', 'inference', 'cpu'] });
  const running = Promise.all(workers.map((w) => w.run()));
  const client = new Client({
    connection: await (await import('@temporalio/client')).Connection.connect({ address: server.address }),
  });
  try {
    // (1) no-op stage
    const noopInput = await writeItems(store, dir, 'noop', noopItems, 1000);
    const noop = await runStage(client, config, {
      stage: 'noop',
      operation: 'noop',
      input: noopInput,
      output: 'noop-out',
      maxConcurrentShards: 8,
      itemConcurrency: 64,
    });
    if (noop.result.counts.items !== noopItems) throw new Error(`no-op stage saw ${noop.result.counts.items} items`);

    // (2) fake server: durable stage vs plain loop, same client settings, server and concurrency; best of two each.
    const fakeInput = await writeItems(store, dir, 'chat', fakeItems, shardSize);
    const endpoint = config.endpoints.fake!;
    const prompts: string[] = [];
    for await (const row of store.readAll(fakeInput)) prompts.push((row as { prompt: string }).prompt);
    const plainLoop = async (count = prompts.length): Promise<number> => {
      const direct = new InferenceClient(endpoint, { name: 'plain' });
      const t0 = performance.now();
      let next = 0;
      const workerLoop = async () => {
        while (next < count) {
          const prompt = prompts[next++]!;
          await direct.chat({
            messages: [{ role: 'user', content: prompt }],
            maxTokens: 64,
            temperature: 0.8,
            seed: 1,
          });
        }
      };
      await Promise.all(Array.from({ length: concurrency }, workerLoop));
      return (performance.now() - t0) / 1000;
    };
    const durable = async (rep: number): Promise<number> => {
      const r = await runStage(client, config, {
        stage: 'chat',
        operation: 'chatCompletion',
        params: { sampling: { n: 1, maxTokens: 64, seed: 1 } },
        input: fakeInput,
        output: `chat-out-${rep}`,
        maxConcurrentShards: fakeInput.shards,
        itemConcurrency,
      });
      if (r.result.counts.kept !== fakeItems) throw new Error(`chat stage kept ${r.result.counts.kept}`);
      return r.seconds;
    };
    await plainLoop(2000); // warm-up (JIT, connection pool), not measured
    // With BENCH_TIMELINE=1, where the CPU went in each measured run (this process, the Temporal server, the fake).
    const measure = async (fn: () => Promise<number>, label: string) => {
      const c0 = process.cpuUsage();
      const s0 = cpuSecondsOf(server.process.pid!);
      const f0 = cpuSecondsOf(fake.child.pid!);
      const t = await fn();
      const c = process.cpuUsage(c0);
      if (process.env.BENCH_TIMELINE)
        console.error(
          `${label}: wall ${t.toFixed(2)} cpu bench ${((c.user + c.system) / 1e6).toFixed(2)} temporal ${(cpuSecondsOf(server.process.pid!) - s0).toFixed(2)} fake ${(cpuSecondsOf(fake.child.pid!) - f0).toFixed(2)}`,
        );
      return t;
    };
    const plainTimes = [await measure(() => plainLoop(), 'plain')];
    const durableTimes = [await measure(() => durable(0), 'durable')];
    plainTimes.push(await measure(() => plainLoop(), 'plain'));
    durableTimes.push(await measure(() => durable(1), 'durable'));
    const plainSeconds = Math.min(...plainTimes);
    const durableSeconds = Math.min(...durableTimes);
    return {
      bench: 'stage',
      node: process.version,
      cpus: os.cpus().length,
      noop: {
        items: noopItems,
        shards: noopInput.shards,
        seconds: +noop.seconds.toFixed(3),
        itemsPerSecond: Math.round(noopItems / noop.seconds),
        historyEvents: noop.events,
        historyEventsPer1000Items: +((noop.events * 1000) / noopItems).toFixed(2),
        workflowRuns: noop.result.runs,
      },
      fakeServer: {
        items: fakeItems,
        latencyMs,
        concurrency,
        shards: fakeInput.shards,
        itemConcurrency,
        idealSeconds: +((fakeItems / concurrency) * (latencyMs / 1000)).toFixed(3),
        plainLoopSeconds: +plainSeconds.toFixed(3),
        durableStageSeconds: +durableSeconds.toFixed(3),
        ratio: +(durableSeconds / plainSeconds).toFixed(3),
        target: 1.25,
        runs: { plain: plainTimes.map((t) => +t.toFixed(3)), durable: durableTimes.map((t) => +t.toFixed(3)) },
      },
    };
  } finally {
    workers.forEach((w) => w.shutdown());
    await running;
    await connection.close();
    await client.connection.close();
    fake.child.kill();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const BENCHES: Record<string, () => Promise<Record<string, unknown>>> = {
  stage: benchStage,
  dedup: benchDedup,
  sandbox: benchSandbox,
  math: benchMath,
};

async function main(): Promise<void> {
  const name = process.argv[2] ?? '';
  const bench = BENCHES[name];
  if (!bench) throw new Error(`usage: npm run bench -- <${Object.keys(BENCHES).join('|')}> [options]`);
  console.log(JSON.stringify(await bench()));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
