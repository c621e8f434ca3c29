// The quick start: brings up whatever is not running yet (Temporal dev server with the Web UI, the embedded
// model server, a worker for every task queue), runs a small promptcotExperiment on the embedded defaults
// (experiments/quickstart.json: synthesis from the example concepts, training prompts, self-play, SFT with the
// example trainer, evaluation, the report), shows the whole graph's progress, and prints the report's path.
// With a TTY it then keeps everything up for the Web UI until Ctrl-C; --exit stops.
//   npm run quickstart [-- --input experiment.json] [--exit]
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { DefaultLogger, Runtime, type Worker } from '@temporalio/worker';
import { loadConfig } from '../activities/config';
import { DatasetStore } from '../activities/datasets/store';
import { connectClient, connectWorker } from '../workers/connection';
import { createWorkers } from '../workers/create-workers';
import { freePort, startDevServer, type DevServer } from '../lib/dev-server';
import { startLocalModelServer } from '../lib/local-model/http';
import { readRunView, renderRunView } from '../lib/progress-view';
import { runSummary } from '../domain/core/run-view';
import type { ExperimentResult, ExperimentStatus } from '../workflows/promptcot-experiment';

/** The roles that talk in chat (or take a templated prompt): on the chat model when the quick start serves one. */
const CHAT_ROLES = ['policy', 'teacher', 'testCaseWriter', 'student', 'solver'] as const;
const CHAT_MODEL_NAME = 'smollm2-135m-instruct';

async function reachable(check: () => Promise<unknown>): Promise<boolean> {
  try {
    await check();
    return true;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const inputIndex = argv.indexOf('--input');
  const input = path.resolve(
    inputIndex >= 0 ? argv[inputIndex + 1]! : path.join(__dirname, '..', 'experiments', 'quickstart.json'),
  );
  const stayUp = process.stdout.isTTY && !argv.includes('--exit');
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const config = loadConfig();
  const stops: Array<() => Promise<void>> = [];

  let server: DevServer | undefined;
  const temporalUp = await reachable(async () =>
    (await Connection.connect({ address: config.temporal.address, connectTimeout: 1500 })).close(),
  );
  if (!temporalUp) {
    const [host, port] = config.temporal.address.split(':');
    if (host !== '127.0.0.1' && host !== 'localhost')
      throw new Error(`Temporal is not reachable at ${config.temporal.address}`);
    server = await startDevServer({
      port: Number(port),
      uiPort: config.devServer.uiPort,
      headless: config.devServer.headless,
      dbFile: config.devServer.dbFile,
      retention: '720h',
      logFile: path.join(path.dirname(config.devServer.dbFile), 'temporal-dev-server.log'),
    });
    stops.push(() => server!.stop());
    console.log(
      `started the Temporal dev server at ${server.address}${server.uiUrl ? `, Web UI ${server.uiUrl}` : ''}`,
    );
  } else console.log(`using the Temporal server at ${config.temporal.address}`);

  const endpoint = config.endpoints[config.roles.policy.endpoint]!;
  const modelUp = await reachable(async () => {
    const res = await fetch(`${endpoint.baseUrl}/models`, { signal: AbortSignal.timeout(1500) });
    if (!res.ok) throw new Error(String(res.status));
  });
  if (!modelUp) {
    const url = new URL(endpoint.baseUrl);
    if (url.hostname !== '127.0.0.1' && url.hostname !== 'localhost')
      throw new Error(`model server not reachable at ${endpoint.baseUrl}`);
    const local = await startLocalModelServer({
      modelPath: config.localModel.modelPath,
      host: url.hostname,
      port: Number(url.port),
      modelName: endpoint.model,
      contextSize: config.localModel.contextSize,
      parallel: config.localModel.parallel,
    });
    stops.push(() => local.close());
    console.log(`started the local model server for ${config.localModel.modelPath} at ${local.url}`);
    // the chat roles on a real small instruct model (SmolLM2-135M, fetched by setup.sh) when it is there; the
    // raw-completion roles (p_theta, q_phi) stay on the tiny model
    const chatModel = config.localModel.chatModelPath;
    if (existsSync(chatModel)) {
      const chat = await startLocalModelServer({
        modelPath: chatModel,
        host: url.hostname,
        port: await freePort(),
        modelName: CHAT_MODEL_NAME,
        contextSize: config.localModel.contextSize,
        parallel: config.localModel.parallel,
      });
      stops.push(() => chat.close());
      config.endpoints.chat = { ...endpoint, baseUrl: chat.url, model: CHAT_MODEL_NAME };
      for (const role of CHAT_ROLES) config.roles[role] = { endpoint: 'chat' };
      console.log(`started the local model server for ${chatModel} at ${chat.url} (roles ${CHAT_ROLES.join(', ')})`);
    } else
      console.log(`no ${chatModel} (scripts/setup.sh fetches SmolLM2-135M-Instruct): every role uses the tiny model`);
  } else console.log(`using the model server at ${endpoint.baseUrl}`);

  const connection = await connectWorker(config);
  const workers: Worker[] = await createWorkers({
    config,
    connection,
    kinds: ['orchestration', 'inference', 'cpu', 'sandbox', 'training'],
  });
  const running = Promise.all(workers.map((w) => w.run()));
  stops.unshift(async () => {
    workers.forEach((w) => w.shutdown());
    await running;
    await connection.close();
  });

  const client = await connectClient(config);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const experiment = JSON.parse(readFileSync(input, 'utf8')) as Record<string, unknown>;
  const runInput = { ...experiment, name: `${String(experiment.name ?? 'quickstart')}-${stamp}` };
  const workflowId = `quickstart-${stamp}`;
  const handle = await client.workflow.start('promptcotExperiment', {
    taskQueue: config.taskQueues.orchestration,
    workflowId,
    args: [runInput],
    staticSummary: runSummary('promptcotExperiment', runInput),
  });
  console.log(`started promptcotExperiment ${workflowId} (${path.relative(process.cwd(), input)})`);
  const uiBase = server?.uiUrl ?? `http://127.0.0.1:${config.devServer.uiPort}`;
  console.log(`Web UI: ${uiBase}/namespaces/${config.temporal.namespace}/workflows/${workflowId}`);
  let shown = '';
  for (;;) {
    const view = await readRunView(client, workflowId);
    const graph = view.pipeline?.graph ?? [];
    const step = graph.find((g) => g.state === 'running' || g.state === 'held');
    // the running step's own pipeline (not started yet, or a step without a child: none)
    const child =
      step && step.step !== 'report'
        ? await readRunView(client, `${workflowId}/${step.step}`).catch(() => undefined)
        : undefined;
    const text = [
      `${view.status} | ${graph.map((g) => `${g.step}:${g.state}`).join(' > ')}`,
      ...(child ? [`  ${renderRunView(child)}`] : []),
    ].join('\n');
    if (text !== shown) console.log(text);
    shown = text;
    if (view.status !== 'RUNNING') break;
    // a step that failed for good holds the run until retryStep or abandon: say so, and stop here with --exit
    const status = await handle.query<ExperimentStatus>('status').catch(() => undefined);
    if (status?.failed) {
      console.error(`step ${status.failed.step} failed: ${status.failed.message}`);
      console.error(`fix the cause, then: npm run cli -- signal ${workflowId} retryStep (or abandon)`);
      if (!stayUp) {
        await handle.signal('abandon');
        process.exitCode = 1;
        break;
      }
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  if (process.exitCode === 1) {
    await client.connection.close();
    for (const stop of stops) await stop();
    return;
  }
  const result = (await handle.result()) as ExperimentResult;
  const store = new DatasetStore(config.storage.root);
  for (const s of result.steps)
    console.log(
      `step ${s.step}: ${s.state}${s.tokens ? `, ${s.tokens} tokens` : ''}${s.reason ? ` (${s.reason})` : ''}`,
    );
  console.log(`evaluated: ${result.models.map((m) => m.label).join(', ')}`);
  console.log(
    'What the embedded models can do: the generated 256-token bigram model (p_theta here) writes no parseable ' +
      'problem, so the synthesized corpus is empty; SmolLM2-135M (the chat roles, when setup.sh fetched it) is a ' +
      'tiny instruct model that rarely finishes a reasoning trace or boxes a right answer, so pass rates, pairs and ' +
      'SFT rows stay near zero. The graph, its durability and its bookkeeping are real; the numbers are not. Point ' +
      'the roles at real servers (README, "Running the paper\'s configuration") for real ones.',
  );
  console.log(`report: ${store.resolve(result.report.markdown)}`);
  console.log(`report (HTML): ${store.resolve(result.report.html)}`);
  await client.connection.close();
  if (stayUp) {
    console.log('everything stays up for the Web UI; Ctrl-C stops it');
    await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
  }
  for (const stop of stops) await stop();
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
