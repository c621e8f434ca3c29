// emRationaleLoop end to end on a real Temporal server: cold start (scripted instruct answers from the fake server),
// warm start and 2 EM iterations with q_φ sampling and p_θ scoring on the local node-llama-cpp server (the
// generated tiny model) and the example trainer as the real external trainer. The worker (a child process) is
// SIGKILLed in the middle of the first E-step's scoring; a new worker finishes the run. Checks: R of the selected
// rationales equals an independent float64 computation from the model's own probabilities, the selection is the
// argmax of the recorded scores, no rationale is scored twice, and the report (JSON + PNG) and model versions.
import { exampleTrainerCommand } from '../support/config';
import http from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DatasetStore } from '../../activities/datasets/store';
import { ConfigSchema, type Config } from '../../domain/platform/config';
import { scoringSequence, type IterationRecord } from '../../domain/em-rationale-loop';
import type { EmResult } from '../../workflows/em-rationale-loop';
import type { FakeOpenAIServer } from '../../lib/fake-openai-server';
import { generateTinyModel, referenceLogProbs, tinyModel, tokenizeBytes } from '../../lib/tiny-model';
import { generationPrompt } from '../../activities/em-rationale-loop/operations';
import { writeJsonl } from '../support/files';
import { startLocalModelProcess, type LocalModelProcess } from '../support/local-model';
import { useTemporalAndFake } from '../support/temporal-and-fake';
import { spawnWorker, writeConfigFile, type WorkerProcess } from '../support/worker-process';

const SEED = 4242;
const ROOT = path.join(__dirname, '..', '..');
const K = 3;
const KILL_AT_SCORING_REQUEST = 5;

function referenceSpan(text: string, start: number, end: number): number {
  const lp = referenceLogProbs(tokenizeBytes(text, { addBos: true }), tinyModel(SEED));
  const from = Buffer.byteLength(text.slice(0, start));
  const to = Buffer.byteLength(text.slice(0, end));
  let sum = 0;
  for (let i = from; i < to; i++) sum += lp[i]!;
  return sum;
}

/** Scripted cold-start annotator (concepts, then a rationale per problem). */
function annotator(body: Record<string, unknown>): string {
  const messages = body.messages as Array<{ content: string }>;
  const ask = messages[messages.length - 1]!.content;
  const topic = /Topic (\w+)/.exec(ask)?.[1] ?? 'x';
  if (ask.includes('foundational concepts being tested'))
    return `\`\`\`python\n["${topic} sums", "${topic} parity", "counting"]\n\`\`\``;
  if (ask.includes('reverse-engineer a clear thinking process'))
    return `Thinking Process: combine ${topic} sums with parity and ask for a count.`;
  return 'unexpected request';
}

/**
 * A proxy in front of the local model server that counts the scoring requests the model answered (by their text)
 * and, at the Nth scoring request, holds it, SIGKILLs the worker and drops the request unanswered.
 */
function scoringProxy(upstream: string, onKill: () => void) {
  const answered = new Map<string, number>();
  let scoringRequests = 0;
  let killed = false;
  const target = new URL(upstream);
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      let parsed: { echo?: boolean; prompt?: string } = {};
      try {
        parsed = JSON.parse(body.toString('utf8')) as typeof parsed;
      } catch {
        /* not JSON: forward as it is */
      }
      const scoring = parsed.echo === true && typeof parsed.prompt === 'string';
      if (scoring && ++scoringRequests === KILL_AT_SCORING_REQUEST && !killed) {
        killed = true;
        // let the worker finish recording what it already has, then kill it; this request never reaches the model
        setTimeout(() => {
          onKill();
          req.socket.destroy();
        }, 300);
        return;
      }
      const up = http.request(
        {
          host: target.hostname,
          port: target.port,
          path: req.url,
          method: req.method,
          headers: { ...req.headers, host: target.host },
        },
        (upRes) => {
          const out: Buffer[] = [];
          upRes.on('data', (c: Buffer) => out.push(c));
          upRes.on('end', () => {
            if (scoring && upRes.statusCode === 200)
              answered.set(parsed.prompt!, (answered.get(parsed.prompt!) ?? 0) + 1);
            res.writeHead(upRes.statusCode ?? 502, upRes.headers);
            res.end(Buffer.concat(out));
          });
        },
      );
      up.on('error', () => res.destroy());
      up.end(body);
    });
  });
  return {
    server,
    answered,
    killed: () => killed,
    listen: () =>
      new Promise<string>((resolve) =>
        server.listen(0, '127.0.0.1', () =>
          resolve(`http://127.0.0.1:${(server.address() as { port: number }).port}/v1`),
        ),
      ),
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

async function rows(store: DatasetStore, name: string): Promise<Array<Record<string, any>>> {
  const out: Array<Record<string, any>> = [];
  for await (const r of store.readAll(name)) out.push(r as Record<string, any>);
  return out;
}

describe('emRationaleLoop', () => {
  const ctx = useTemporalAndFake('em-loop', annotator);
  const { tmp } = ctx;
  let env: TestWorkflowEnvironment;
  let fake: FakeOpenAIServer;
  let model: LocalModelProcess;
  let proxy: ReturnType<typeof scoringProxy>;
  const workers: WorkerProcess[] = [];
  ctx.onTeardown(async () => {
    for (const w of workers) w.child.kill('SIGKILL');
    await proxy?.close();
    await model?.stop();
  });

  beforeAll(async () => {
    ({ env, fake } = ctx);
    const gguf = generateTinyModel({ outPath: path.join(tmp.dir, 'tiny.gguf'), seed: SEED });
    model = await startLocalModelProcess(gguf.path, { name: 'tiny', parallel: 2, contextSize: 4096 });
    proxy = scoringProxy(model.url, () => workers[0]?.child.kill('SIGKILL'));
  }, 180_000);

  it('cold start + 2 iterations, surviving a worker crash mid E-step, with exact rewards and argmax selection', async () => {
    const localUrl = await proxy.listen();
    const prefix = `em${Date.now().toString(36)}`;
    const config: Config = ConfigSchema.parse({
      temporal: { address: env.address, namespace: 'default' },
      taskQueues: Object.fromEntries(
        ['orchestration', 'inference', 'cpu', 'sandbox', 'training'].map((q) => [q, `${prefix}-${q}`]),
      ),
      storage: { root: path.join(tmp.dir, 'store') },
      endpoints: {
        annotators: {
          baseUrl: fake.url,
          model: 'annotator',
          initialBackoffMs: 20,
          maxBackoffMs: 200,
          timeoutMs: 10_000,
        },
        local: {
          baseUrl: localUrl,
          model: 'tiny',
          maxConcurrency: 2,
          initialBackoffMs: 50,
          maxBackoffMs: 500,
          timeoutMs: 60_000,
          maxRetries: 2,
        },
      },
      roles: {
        teacher: { endpoint: 'annotators' },
        rationaleModel: { endpoint: 'local' },
        promptGenerator: { endpoint: 'local' },
        policy: { endpoint: 'local' },
        testCaseWriter: { endpoint: 'local' },
      },
      training: {
        command: exampleTrainerCommand(ROOT),
        cwd: ROOT,
        root: path.join(tmp.dir, 'training'),
        heartbeatSeconds: 1,
      },
    });
    const configFile = writeConfigFile(path.join(tmp.dir, 'temporal.yaml'), config);
    workers.push(spawnWorker(configFile));
    await workers[0]!.ready;

    const seeds = writeJsonl(path.join(tmp.dir, 'seeds.jsonl'), [
      { id: 'p1', problem: 'Topic Alpha: how many even sums are there?' },
      { id: 'p2', problem: 'Topic Beta: count the odd subsets.' },
      { id: 'p3', problem: 'Topic Gamma: find the number of pairs.' },
      { id: 'p4', problem: 'Topic Delta: how many paths are there?' },
    ]);
    const handle = await env.client.workflow.start('emRationaleLoop', {
      taskQueue: config.taskQueues.orchestration,
      workflowId: `em-${prefix}`,
      args: [
        {
          name: 'em-test',
          coldStart: {
            name: 'ignored',
            problemFiles: [seeds],
            concepts: { numConcepts: 3, level: 'AIME', role: 'teacher' },
            rationales: { role: 'teacher' },
          },
          models: { rationaleModel: { version: 'tiny-q0' }, promptGenerator: { version: 'tiny-p0' } },
          iterations: 2,
          k: K,
          maxTokens: 40,
          seed: 7,
          itemConcurrency: 1,
          maxConcurrentShards: 1,
          heartbeatTimeoutSeconds: 5,
        },
      ],
    });

    // the proxy kills the worker mid E-step; a new worker takes over
    const started = Date.now();
    while (!proxy.killed() && Date.now() - started < 240_000) await new Promise((r) => setTimeout(r, 200));
    expect(proxy.killed()).toBe(true);
    await workers[0]!.exited;
    workers.push(spawnWorker(configFile));
    await workers[1]!.ready;

    const result = (await handle.result()) as EmResult;
    expect(result.stoppedBecause).toBe('iterations');
    expect(result.iterations.map((i) => i.iteration)).toEqual([1, 2]);

    const store = new DatasetStore(config.storage.root);
    for (const it of result.iterations as IterationRecord[]) {
      const scored = await rows(store, it.datasets.scored);
      const selected = await rows(store, it.datasets.selected);
      // every (item, k) scored once, in the output exactly once
      expect(scored.map((r) => `${r.itemId}#${r.k}`).sort()).toEqual(
        ['p1', 'p2', 'p3', 'p4'].flatMap((p) => [0, 1, 2].map((k) => `${p}#${k}`)).sort(),
      );
      expect(selected.map((r) => r.id)).toEqual(['p1', 'p2', 'p3', 'p4']);
      for (const s of selected) {
        const mine = scored.filter((r) => r.itemId === s.id && r.scored);
        const best = Math.max(...mine.map((r) => r.reward));
        const argmax = mine
          .filter((r) => r.reward === best)
          .map((r) => r.k)
          .sort()[0];
        expect(s.selectedK).toBe(argmax);
        // R = log p(z|c) + log p(x|z,c) equals the independent computation from the model's probabilities
        const seq = scoringSequence(generationPrompt(s as never), s.rationale, s.problem);
        expect(Math.abs(s.logpZ - referenceSpan(seq.text, seq.rationale.start, seq.rationale.end))).toBeLessThan(1e-3);
        expect(Math.abs(s.logpX - referenceSpan(seq.text, seq.problem.start, seq.problem.end))).toBeLessThan(1e-3);
        expect(s.reward).toBeCloseTo(s.logpZ + s.logpX, 9);
      }
      // K different samples per item from q_φ, and real choices among them
      expect(new Set(scored.map((r) => r.rationale)).size).toBeGreaterThan(4);
      expect(new Set(scored.map((r) => r.reward)).size).toBeGreaterThan(4);
      expect(it.eStep.items).toBe(4);
      expect(it.eStep.meanReward).toBeCloseTo(selected.reduce((a, s) => a + s.reward, 0) / 4, 9);
      // the models each step used, and the versions trained from them
      expect(it.models.rationaleModel.version).not.toBe(it.models.sampledWith.version);
      expect(it.models.promptGenerator.version).not.toBe(it.models.scoredWith.version);
    }
    const [first, second] = result.iterations as [IterationRecord, IterationRecord];
    console.log(`EM metrics: ${JSON.stringify(result.iterations.map((i) => i.eStep))}`);
    // the seed rationales came from the annotator: iteration 1 replaces them with q_φ's best samples
    expect(first.eStep.changedFraction).toBeGreaterThan(0);
    expect(second.models.sampledWith).toEqual(first.models.rationaleModel);
    expect(second.models.scoredWith).toEqual(first.models.promptGenerator);
    // no rationale was scored twice by the model, crash included: each scoring text answered once
    const counts = [...proxy.answered.values()];
    expect(counts.length).toBe(2 * 4 * K);
    expect(Math.max(...counts)).toBe(1);

    // the report: JSON with both iterations and a PNG of mean R per iteration
    const report = JSON.parse(readFileSync(path.join(config.storage.root, result.report!.json), 'utf8')) as {
      iterations: IterationRecord[];
    };
    expect(report.iterations.map((i) => i.eStep.meanReward)).toEqual(result.iterations.map((i) => i.eStep.meanReward));
    const png = readFileSync(path.join(config.storage.root, result.report!.png));
    expect(png.subarray(1, 4).toString('ascii')).toBe('PNG');
    // the trainer really ran: an adapter per training job (warm start 2 + 2 per iteration)
    for (const job of [
      'warm-start/q_phi',
      'warm-start/p_theta',
      'iter-1/q_phi',
      'iter-1/p_theta',
      'iter-2/q_phi',
      'iter-2/p_theta',
    ]) {
      expect(
        existsSync(path.join(tmp.dir, 'training', 'em-test', job, 'output', 'adapter', 'adapter_config.json')),
      ).toBe(true);
    }
  }, 600_000);
});
