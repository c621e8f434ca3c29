// Benchmarks, each printing one JSON line.
//   npm run bench -- stage [--items 100000] [--fake-items 10000] [--latency 50] [--concurrency 256]
//                          [--realistic [--realistic-items 5120] [--realistic-latency 2000] [--realistic-concurrency 512]]
//   npm run bench -- dedup [--problems 100000]       (lib/bench/dedup.ts)
//   npm run bench -- dedup-scale [--problems 1000000] [--sample 20000]  (lib/bench/dedup-scale.ts)
//   npm run bench -- sandbox [--reps 2] [--tests 16]  (lib/bench/sandbox.ts)
//   npm run bench -- math [--pairs 10000] [--seed S]  (lib/bench/math.ts)
//   npm run bench -- sft [--rows 100000] [--tokens 7000] [--compare 200]  (lib/bench/sft.ts)
//   npm run bench -- eval [--math 10000] [--code 10000] [--tests 3] [--concurrency N]  (lib/bench/eval.ts)
//   npm run bench -- model-server [--tokens 256] [--rounds 3] [--parallel 4] [--threads N]  (lib/bench/model-server.ts)
//   npm run bench -- embed [--problems 2000] [--concurrency 1,2] [--model-dir DIR]  (lib/bench/embed.ts)
//
// stage: (1) a no-op stage of N items through a real Temporal dev server (SQLite): items/s and history events per
// 1,000 items; (2) the same 10,000-item chat stage against the fake OpenAI server (50 ms latency, 256 requests in
// flight) through Temporal, divided by a plain in-process loop over the same client, server and concurrency;
// (3, with --realistic) the same comparison at a model server's latency: 5,120 items at 2 s per request, 512 in flight
// (20 s ideal, one run each). Every measured phase also reports the CPU it cost across all processes (this one, which
// runs the workers; the Temporal server; the fake server), per item, from /proc: a figure machine noise barely moves.
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
import { writeFileSync } from 'node:fs';
import { freePort } from '../lib/dev-server';
import { benchDedup } from '../lib/bench/dedup';
import { benchDedupScale } from '../lib/bench/dedup-scale';
import { benchSandbox } from '../lib/bench/sandbox';
import { benchMath } from '../lib/bench/math';
import { benchSft } from '../lib/bench/sft';
import { benchEval } from '../lib/bench/eval';
import { benchModelServer } from '../lib/bench/model-server';
import { benchEmbed } from '../lib/bench/embed';
import { cpuDelta, processTreeCpu } from '../lib/bench/process-cpu';

/** CPU milliseconds per item of one measured phase, by process and in total. */
type CpuMsPerItem = Record<string, number>;

function perItem(cpuSeconds: Record<string, number>, items: number): CpuMsPerItem {
  return Object.fromEntries(Object.entries(cpuSeconds).map(([k, v]) => [k, +((v * 1000) / items).toFixed(4)]));
}

function argValue(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

function benchConfig(
  address: string,
  root: string,
  baseUrl: string,
  concurrency: number,
  realistic?: { baseUrl: string; concurrency: number },
): Config {
  const roles: Record<string, { endpoint: string }> = Object.fromEntries(
    ['promptGenerator', 'rationaleModel', 'testCaseWriter', 'policy', 'teacher'].map((r) => [r, { endpoint: 'fake' }]),
  );
  // the realistic phase's endpoint, reached through a role of its own
  if (realistic) roles.teacher = { endpoint: 'realistic' };
  return ConfigSchema.parse({
    temporal: { address },
    storage: { root },
    workers: {
      cpu: { maxConcurrentActivityTaskExecutions: 32 },
      inference: { maxConcurrentActivityTaskExecutions: 64 },
    },
    endpoints: {
      fake: { baseUrl, model: 'fake-model', maxConcurrency: concurrency, timeoutMs: 30_000 },
      ...(realistic && {
        realistic: {
          baseUrl: realistic.baseUrl,
          model: 'fake-model',
          maxConcurrency: realistic.concurrency,
          timeoutMs: 60_000,
        },
      }),
    },
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
  const realistic = process.argv.includes('--realistic')
    ? {
        items: argValue('realistic-items', 5120),
        latencyMs: argValue('realistic-latency', 2000),
        concurrency: argValue('realistic-concurrency', 512),
      }
    : undefined;
  // Items in flight per shard: all shards together keep the endpoint's `concurrency` busy; more only queue at the
  // endpoint's limiter, which costs CPU on this 2-core machine.
  const perShard = (items: number, inFlight: number) => Math.ceil(inFlight / Math.ceil(items / shardSize));
  const itemConcurrency = argValue('item-concurrency', perShard(fakeItems, concurrency));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'promptcot-bench-'));
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const server = await startDevServer({ dbFile: path.join(dir, 'temporal.db'), headless: true });
  const fake = await spawnFakeServer(latencyMs);
  const slowFake = realistic ? await spawnFakeServer(realistic.latencyMs) : undefined;
  const config = benchConfig(
    server.address,
    path.join(dir, 'store'),
    fake.url,
    concurrency,
    realistic && slowFake && { baseUrl: slowFake.url, concurrency: realistic.concurrency },
  );
  const store = new DatasetStore(config.storage.root);
  const connection = await NativeConnection.connect({ address: server.address });
  const workers: Worker[] = await createWorkers({ config, connection, kinds: ['orchestration', 'inference', 'cpu'] });
  const running = Promise.all(workers.map((w) => w.run()));
  const client = new Client({
    connection: await (await import('@temporalio/client')).Connection.connect({ address: server.address }),
  });
  // CPU of each phase: this process (bench + workers), the Temporal server, the fake server(s), and the whole tree.
  const labels = {
    bench: process.pid,
    temporal: server.process.pid,
    fake: fake.child.pid,
    slowFake: slowFake?.child.pid,
  };
  const measure = async (fn: () => Promise<number>, label: string, items: number) => {
    const before = processTreeCpu();
    const seconds = await fn();
    const cpu = cpuDelta(before, processTreeCpu(), labels);
    if (!slowFake) delete cpu.slowFake;
    if (process.env.BENCH_TIMELINE)
      console.error(
        `${label}: wall ${seconds.toFixed(2)} cpu ` +
          Object.entries(cpu)
            .map(([k, v]) => `${k} ${v.toFixed(2)}`)
            .join(' '),
      );
    return { seconds, cpuMsPerItem: perItem(cpu, items) };
  };
  try {
    // (1) no-op stage
    const noopInput = await writeItems(store, dir, 'noop', noopItems, 1000);
    let noopRun: Awaited<ReturnType<typeof runStage>> | undefined;
    const noopMeasured = await measure(
      async () => {
        noopRun = await runStage(client, config, {
          stage: 'noop',
          operation: 'noop',
          input: noopInput,
          output: 'noop-out',
          maxConcurrentShards: 8,
          itemConcurrency: 64,
        });
        return noopRun.seconds;
      },
      'noop',
      noopItems,
    );
    const noop = noopRun!;
    if (noop.result.counts.items !== noopItems) throw new Error(`no-op stage saw ${noop.result.counts.items} items`);

    // (2) fake server: durable stage vs plain loop, same client settings, server and concurrency; best of two each.
    const promptsOf = async (input: DatasetRef) => {
      const prompts: string[] = [];
      for await (const row of store.readAll(input)) prompts.push((row as { prompt: string }).prompt);
      return prompts;
    };
    const plainLoop = async (
      endpointName: string,
      prompts: string[],
      inFlight: number,
      count = prompts.length,
    ): Promise<number> => {
      const direct = new InferenceClient(config.endpoints[endpointName]!, { name: 'plain' });
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
      await Promise.all(Array.from({ length: inFlight }, workerLoop));
      return (performance.now() - t0) / 1000;
    };
    const durable = async (
      input: DatasetRef,
      output: string,
      items: number,
      perShardInFlight: number,
      role?: 'teacher',
    ): Promise<number> => {
      const r = await runStage(client, config, {
        stage: output,
        operation: 'chatCompletion',
        params: { sampling: { n: 1, maxTokens: 64, seed: 1 }, ...(role && { role }) },
        input,
        output,
        maxConcurrentShards: input.shards,
        itemConcurrency: perShardInFlight,
      });
      if (r.result.counts.kept !== items) throw new Error(`chat stage kept ${r.result.counts.kept}`);
      return r.seconds;
    };
    const fakeInput = await writeItems(store, dir, 'chat', fakeItems, shardSize);
    const prompts = await promptsOf(fakeInput);
    await plainLoop('fake', prompts, concurrency, 2000); // warm-up (JIT, connection pool), not measured
    const plainRuns = [await measure(() => plainLoop('fake', prompts, concurrency), 'plain', fakeItems)];
    const durableRuns = [
      await measure(() => durable(fakeInput, 'chat-out-0', fakeItems, itemConcurrency), 'durable', fakeItems),
    ];
    plainRuns.push(await measure(() => plainLoop('fake', prompts, concurrency), 'plain', fakeItems));
    durableRuns.push(
      await measure(() => durable(fakeInput, 'chat-out-1', fakeItems, itemConcurrency), 'durable', fakeItems),
    );
    const best = (runs: Array<{ seconds: number; cpuMsPerItem: CpuMsPerItem }>) =>
      runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
    // CPU: the run with less total CPU of the two (the figure noise moves least)
    const leanest = (runs: Array<{ seconds: number; cpuMsPerItem: CpuMsPerItem }>) =>
      runs.reduce((a, b) => (b.cpuMsPerItem.total! < a.cpuMsPerItem.total! ? b : a)).cpuMsPerItem;
    const plainSeconds = best(plainRuns).seconds;
    const durableSeconds = best(durableRuns).seconds;
    const cpuSummary = (plain: CpuMsPerItem, stage: CpuMsPerItem) => ({
      plainLoop: plain,
      durableStage: stage,
      overheadMsPerItem: +(stage.total! - plain.total!).toFixed(4),
      ratio: +(stage.total! / plain.total!).toFixed(3),
    });

    // (3) realistic latency: one run each (the wall time is mostly waiting on the fake model)
    let realisticSummary: Record<string, unknown> | undefined;
    if (realistic) {
      const input = await writeItems(store, dir, 'slow', realistic.items, shardSize);
      const slowPrompts = await promptsOf(input);
      const inFlight = perShard(realistic.items, realistic.concurrency);
      const plain = await measure(
        () => plainLoop('realistic', slowPrompts, realistic.concurrency),
        'realistic plain',
        realistic.items,
      );
      const stage = await measure(
        () => durable(input, 'slow-out', realistic.items, inFlight, 'teacher'),
        'realistic durable',
        realistic.items,
      );
      realisticSummary = {
        items: realistic.items,
        latencyMs: realistic.latencyMs,
        concurrency: realistic.concurrency,
        shards: input.shards,
        itemConcurrency: inFlight,
        idealSeconds: +((realistic.items / realistic.concurrency) * (realistic.latencyMs / 1000)).toFixed(3),
        plainLoopSeconds: +plain.seconds.toFixed(3),
        durableStageSeconds: +stage.seconds.toFixed(3),
        ratio: +(stage.seconds / plain.seconds).toFixed(3),
        cpuMsPerItem: cpuSummary(plain.cpuMsPerItem, stage.cpuMsPerItem),
      };
    }
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
        cpuMsPerItem: noopMeasured.cpuMsPerItem,
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
        runs: {
          plain: plainRuns.map((r) => +r.seconds.toFixed(3)),
          durable: durableRuns.map((r) => +r.seconds.toFixed(3)),
        },
        cpuMsPerItem: cpuSummary(leanest(plainRuns), leanest(durableRuns)),
      },
      ...(realisticSummary && { realistic: realisticSummary }),
    };
  } finally {
    workers.forEach((w) => w.shutdown());
    await running;
    await connection.close();
    await client.connection.close();
    fake.child.kill();
    slowFake?.child.kill();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const BENCHES: Record<string, () => Promise<Record<string, unknown>>> = {
  stage: benchStage,
  dedup: benchDedup,
  'dedup-scale': () => benchDedupScale(),
  sandbox: benchSandbox,
  math: benchMath,
  sft: benchSft,
  eval: benchEval,
  embed: benchEmbed,
  'model-server': benchModelServer,
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
