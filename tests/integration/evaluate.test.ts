// evaluate end to end on a real Temporal server: two models × a math set (pre-templated prompts, raw completions),
// a code set (plain prompts, chat, programs run in the real sandbox) and the shipped AIME 25, every completion
// scripted on the fake server by (model, problem, run): correct, wrong, truncated, unboxed and last-number answers,
// programs that pass, fail or are missing. The worker (a child process) is SIGKILLed while cells are sampled.
// Checks: no cell sampled twice beyond the in-flight window; the metrics equal an independent computation here
// (avg@k, pass@k by enumerating subsets, maj@k, the bootstrap CI with the same seed, the paired difference); the
// strict and qwen-parity modes differ on exactly the cells built for it; a changed scorer re-scores without sampling.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DatasetStore } from '../../activities/datasets/store';
import { benchmarkFile } from '../../activities/eval/benchmark-files';
import type { Config } from '../../domain/platform/config';
import { mulberry32 } from '../../domain/core/random';
import type { FakeChoice, FakeOpenAIServer } from '../../lib/fake-openai-server';
import type { EvaluateResult } from '../../workflows/evaluate';
import { useTemporalAndFake } from '../support/temporal-and-fake';
import { killWhenRecorded, pipelineTestConfig, workerProcesses } from '../support/pipeline-runs';
import { spawnWorker, writeConfigFile } from '../support/worker-process';

const SEED = 100;
const MATH_RUNS = 4;
const CODE_RUNS = 2;
const SHARD = 4;
const SHARDS_AT_ONCE = 2;
const ITEMS_AT_ONCE = 2;
const BOOTSTRAP = { samples: 500, seed: 3 };

const templated = (q: string) =>
  `<|im_start|>user\n${q}\nPlease reason step by step, and put your final answer within \\boxed{}.<|im_end|>\n<|im_start|>assistant\n<think>\n`;
const MATH = [
  { id: 'm1', prompt: templated('[m1] What is 3 * 4?'), answer: '12' },
  { id: 'm2', prompt: templated('[m2] What is 10 / 2?'), answer: '5' },
  { id: 'm3', prompt: templated('[m3] What is 1/2 as a fraction?'), answer: '\\frac{1}{2}' },
  { id: 'm4', prompt: templated('[m4] What is 3 + 4?'), answer: '7' },
];
const SUM = 'a, b = map(int, input().split())\nprint(a + b)';
const CODE = [
  {
    id: 'c1',
    prompt: '[c1] Read a and b and print a + b.',
    input_output: JSON.stringify({ inputs: ['1 2\n', '5 7\n'], outputs: ['3\n', '12\n'] }),
  },
  {
    id: 'c2',
    prompt: '[c2] Read n numbers and print the largest.',
    input_output: JSON.stringify({ inputs: ['3\n1 5 2\n', '1\n-4\n'], outputs: ['5\n', '-4\n'] }),
  },
];

type Expect = { strict: boolean; parity: boolean; answered: boolean; truncated: boolean; answer?: string };
type Script = { text: string | FakeChoice; expect: Expect };
const done = (reasoning: string, answer: string) => `${reasoning}\n</think>\n\n${answer}`;
const boxed = (x: string, strict = true, parity = true): Script => ({
  text: done('Work it out.', `So the answer is $\\boxed{${x}}$.`),
  expect: { strict, parity, answered: true, truncated: false, answer: x },
});

/** What model `model` answers on problem `id` in run `run`, with the verdicts the scorer must give. */
function mathScript(model: string, id: string, run: number): Script {
  if (model === 'b') {
    // model b: everything right but m2, always 4
    if (id === 'm2') return boxed('4', false, false);
    return boxed({ m1: '12', m3: '0.5', m4: '7' }[id]!);
  }
  switch (`${id}/${run}`) {
    case 'm1/3':
      return boxed('13', false, false);
    case 'm2/0':
      // cut while thinking with a draft box: no answer for strict, the published scorer finds the box
      return {
        text: { content: 'Ten halved is \\boxed{5} probably, but let me check again by', finishReason: 'length' },
        expect: { strict: false, parity: true, answered: false, truncated: true },
      };
    case 'm2/1':
      // no box after the reasoning, an answer phrase: the published scorer takes it
      return {
        text: done('Half of ten.', 'The answer is 5.'),
        expect: { strict: false, parity: true, answered: false, truncated: false },
      };
    case 'm2/3':
      return boxed('6', false, false);
    case 'm4/0':
      // only a last number
      return {
        text: done('Three and four.', 'Adding them we get 7'),
        expect: { strict: false, parity: true, answered: false, truncated: false },
      };
    default:
      return boxed({ m1: '12', m2: '5', m3: '0.5', m4: '7' }[id]!);
  }
}

function codeScript(model: string, id: string, run: number): { text: string; pass: boolean; answered: boolean } {
  const program = (body: string) => done('I will write it.', `\`\`\`python\n${body}\n\`\`\``);
  if (id === 'c1')
    return run === 0 || model === 'b'
      ? { text: program(SUM), pass: true, answered: true }
      : { text: program('a, b = map(int, input().split())\nprint(a - b)'), pass: false, answered: true };
  if (run === 0 && model === 'a') return { text: done('Hmm.', 'Take the maximum.'), pass: false, answered: false };
  return { text: program('input()\nprint(max(map(int, input().split())))'), pass: true, answered: true };
}

function respond(body: Record<string, unknown>): string | FakeChoice {
  const model = body.model === 'model-b' ? 'b' : 'a';
  const run = (body.seed as number) - SEED;
  const text =
    typeof body.prompt === 'string'
      ? body.prompt
      : ((body.messages as Array<{ content: string }> | undefined)?.at(-1)?.content ?? '');
  const tag = /^(?:<\|im_start\|>user\n)?\[(\w+)\]/.exec(text)?.[1];
  if (tag?.startsWith('m')) return mathScript(model, tag, run).text;
  if (tag?.startsWith('c')) return codeScript(model, tag, run).text;
  // AIME 25: model a boxes the right answer to the first problem only, b never answers
  return model === 'a' && text.includes(AIME25_FIRST)
    ? done('Known.', `$\\boxed{${AIME25_ANSWER}}$`)
    : 'I am not sure.';
}

const aime25 = readFileSync(benchmarkFile('aime25'), 'utf8').trim().split('\n');
const AIME25_FIRST = (JSON.parse(aime25[0]!) as { prompt: string }).prompt.slice(20, 90);
const AIME25_ANSWER = (JSON.parse(aime25[0]!) as { reference_solution: string }).reference_solution
  .split('####')[1]!
  .trim();

// ---- the independent computation of the metrics

function comb(n: number, k: number): bigint {
  let r = 1n;
  for (let i = 0; i < k; i++) r = (r * BigInt(n - i)) / BigInt(i + 1);
  return r;
}

/** pass@k of one problem by enumerating every k-subset of its runs. */
function passAtKBySubsets(correct: boolean[], k: number): number {
  let hit = 0;
  let all = 0;
  const n = correct.length;
  const walk = (start: number, left: number, any: boolean) => {
    if (left === 0) {
      all++;
      if (any) hit++;
      return;
    }
    for (let i = start; i <= n - left; i++) walk(i + 1, left - 1, any || correct[i]!);
  };
  walk(0, k, false);
  expect(BigInt(all)).toBe(comb(n, k));
  return hit / all;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('evaluate', () => {
  const ctx = useTemporalAndFake('eval', { latencyMs: 40, respond });
  const { tmp } = ctx;
  let env: TestWorkflowEnvironment;
  let fake: FakeOpenAIServer;
  const workers = workerProcesses(ctx);
  beforeAll(() => {
    ({ env, fake } = ctx);
  });

  const mathFile = path.join(tmp.dir, 'math.jsonl');
  const codeFile = path.join(tmp.dir, 'code.jsonl');
  function setUp(prefix: string) {
    writeFileSync(
      mathFile,
      [...MATH.map((m) => JSON.stringify(m)), '{"id": "bad", "prompt": "no answer"}'].join('\n') + '\n',
    );
    writeFileSync(codeFile, CODE.map((c) => JSON.stringify(c)).join('\n') + '\n');
    const config: Config = pipelineTestConfig({
      address: env.address,
      prefix,
      storageRoot: path.join(tmp.dir, 'store'),
      baseUrl: fake.url,
      model: 'model-a',
      more: { sandbox: { concurrency: 2 } },
    });
    return { config, configFile: writeConfigFile(path.join(tmp.dir, `${prefix}.yaml`), config) };
  }

  const input = (scorer: Record<string, unknown> = {}) => ({
    name: 'eval-a',
    models: [
      { label: 'a', role: 'policy' },
      { label: 'b', role: 'policy', model: 'model-b' },
    ],
    benchmarks: [
      { name: 'toy-math', kind: 'math', file: mathFile, runs: MATH_RUNS },
      { name: 'toy-code', kind: 'code', file: codeFile, runs: CODE_RUNS },
      'aime25',
    ],
    runs: { math: 1 },
    seed: SEED,
    sampling: { maxTokens: 4096 },
    scorer: { timeLimitSeconds: 10, ...scorer },
    bootstrap: BOOTSTRAP,
    shardSize: SHARD,
    maxConcurrentShards: SHARDS_AT_ONCE,
    itemConcurrency: ITEMS_AT_ONCE,
    scoreItemConcurrency: 2,
    heartbeatTimeoutSeconds: 5,
  });

  it('samples every cell once across a worker crash, scores both math modes and code, and reports metrics that an independent computation reproduces', async () => {
    const { config, configFile } = setUp(`ev${Date.now().toString(36)}`);
    const store = new DatasetStore(config.storage.root);
    fake.reset();
    workers.push(spawnWorker(configFile));
    await workers[0]!.ready;
    const handle = await env.client.workflow.start('evaluate', {
      taskQueue: config.taskQueues.orchestration,
      workflowId: `eval-a-${Date.now()}`,
      args: [input()],
    });
    const kill = await killWhenRecorded(workers[0]!, {
      store,
      dataset: 'eval-a/samples',
      atLeast: 10,
      fake,
      inFlight: 2,
    });
    const requestsAtKill = kill.requests;
    expect(requestsAtKill).toBeGreaterThan(kill.recorded.length);
    workers.push(spawnWorker(configFile));
    await workers[1]!.ready;
    const result = (await handle.result()) as EvaluateResult;

    // every cell asked, none beyond the in-flight window twice
    const cells = 2 * (MATH.length * MATH_RUNS + CODE.length * CODE_RUNS + 30);
    expect(result.prepared.cells.items).toBe(cells);
    expect(result.prepared.benchmarks.find((b) => b.name === 'toy-math')).toMatchObject({ problems: 4, rejected: 1 });
    const asked = new Map<string, number>();
    for (const r of fake.requestLog) {
      const key = JSON.stringify([(r.body as { model?: string }).model, (r.body as { seed?: number }).seed, r.body]);
      asked.set(key, (asked.get(key) ?? 0) + 1);
    }
    const twice = [...asked.values()].filter((n) => n > 1).length;
    console.log(
      `evaluate: ${requestsAtKill} requests at the kill, ${twice} cells asked twice, ${fake.requests} in all`,
    );
    expect(asked.size).toBe(cells);
    expect(twice).toBeLessThanOrEqual(SHARDS_AT_ONCE * ITEMS_AT_ONCE);

    // the scored cells: both modes on math, every verdict as scripted
    const scored: Array<Record<string, any>> = [];
    for await (const r of store.readAll(`eval-a/scores/${result.scorer}`)) scored.push(r as Record<string, any>);
    expect(scored.length).toBe(cells);
    const differing: string[] = [];
    for (const c of scored.filter((x) => x.benchmark === 'toy-math')) {
      const e = mathScript(c.model, c.problem, c.run).expect;
      expect([c.id, c.strict.correct, c.parity.correct, c.answered, c.truncated]).toEqual([
        c.id,
        e.strict,
        e.parity,
        e.answered,
        e.truncated,
      ]);
      if (c.strict.correct !== c.parity.correct) differing.push(c.id);
    }
    expect(differing.sort()).toEqual(['a/toy-math/m2#0', 'a/toy-math/m2#1', 'a/toy-math/m4#0']);
    for (const c of scored.filter((x) => x.benchmark === 'toy-code')) {
      const e = codeScript(c.model, c.problem, c.run);
      expect([c.id, c.correct, c.answered]).toEqual([c.id, e.pass, e.answered]);
    }
    const aime = scored.filter((x) => x.benchmark === 'aime25' && x.correct).map((x) => x.id);
    expect(aime).toEqual([`a/aime25/${(JSON.parse(aime25[0]!) as { idx: number }).idx}#0`]);

    // the metrics against an independent computation
    const metrics = JSON.parse(readFileSync(store.resolve(result.summary.files.metrics), 'utf8')) as {
      results: Array<{ model: string; benchmark: string; metrics: any; otherMode?: any; elo?: any }>;
    };
    const group = (model: string, benchmark: string) =>
      metrics.results.find((r) => r.model === model && r.benchmark === benchmark)!;
    for (const model of ['a', 'b']) {
      const truth = MATH.map((m) => Array.from({ length: MATH_RUNS }, (_, run) => mathScript(model, m.id, run)));
      const g = group(model, 'toy-math');
      const strict = truth.map((runs) => runs.map((s) => s.expect.strict));
      const perRun = Array.from({ length: MATH_RUNS }, (_, run) => mean(strict.map((p) => (p[run] ? 1 : 0))));
      expect(g.metrics.avgAtK.mean).toBeCloseTo(mean(perRun), 12);
      const sd = Math.sqrt(perRun.reduce((a, x) => a + (x - mean(perRun)) ** 2, 0) / (perRun.length - 1));
      expect(g.metrics.avgAtK.sd).toBeCloseTo(sd, 12);
      expect(g.metrics.avgAtK.se).toBeCloseTo(sd / Math.sqrt(MATH_RUNS), 12);
      for (const k of [1, 2, 4])
        expect(g.metrics.passAtK[String(k)].mean).toBeCloseTo(mean(strict.map((p) => passAtKBySubsets(p, k))), 12);
      // maj@k: the most frequent answer among the first k runs (ties: the one seen first) is right
      for (const k of [1, 2, 4]) {
        const majority = truth.map((runs) => {
          const counts = new Map<string, number>();
          for (const s of runs.slice(0, k))
            if (s.expect.answered) counts.set(s.expect.answer!, (counts.get(s.expect.answer!) ?? 0) + 1);
          let best: string | undefined;
          for (const [answer, n] of counts) if (best === undefined || n > counts.get(best)!) best = answer;
          return best !== undefined && runs.find((s) => s.expect.answer === best)!.expect.strict ? 1 : 0;
        });
        expect(g.metrics.majAtK[String(k)].mean).toBeCloseTo(mean(majority), 12);
      }
      // the bootstrap CI over problems, recomputed with the same seed and generator
      const perProblem = strict.map((p) => mean(p.map((x) => (x ? 1 : 0))));
      const random = mulberry32(BOOTSTRAP.seed);
      const means: number[] = [];
      for (let b = 0; b < BOOTSTRAP.samples; b++) {
        let sum = 0;
        for (let i = 0; i < perProblem.length; i++) sum += perProblem[Math.floor(random() * perProblem.length)]!;
        means.push(sum / perProblem.length);
      }
      means.sort((x, y) => x - y);
      expect(g.metrics.avgAtK.ci).toEqual(BOOTSTRAP_CI(means));
      expect(g.otherMode.mode).toBe('qwen-parity');
      expect(g.otherMode.differing).toBe(model === 'a' ? 3 : 0);
    }
    // the paired difference b − a per problem on the math set, and its bootstrap CI
    const perProblemOf = (model: string) =>
      MATH.map((m) =>
        mean(Array.from({ length: MATH_RUNS }, (_, run) => (mathScript(model, m.id, run).expect.strict ? 1 : 0))),
      );
    const differences = perProblemOf('b').map((x, i) => x - perProblemOf('a')[i]!);
    const comparison = (
      metrics as unknown as { comparisons: Array<{ a: string; b: string; benchmark: string; difference: any }> }
    ).comparisons.find((c) => c.benchmark === 'toy-math')!;
    expect([comparison.a, comparison.b, comparison.difference.problems]).toEqual(['a', 'b', MATH.length]);
    expect(comparison.difference.mean).toBeCloseTo(mean(differences), 12);
    const random = mulberry32(BOOTSTRAP.seed);
    const resampled: number[] = [];
    for (let b = 0; b < BOOTSTRAP.samples; b++) {
      let sum = 0;
      for (let i = 0; i < differences.length; i++) sum += differences[Math.floor(random() * differences.length)]!;
      resampled.push(sum / differences.length);
    }
    expect(comparison.difference.ci).toEqual(BOOTSTRAP_CI(resampled.sort((x, y) => x - y)));

    const codeA = group('a', 'toy-code');
    expect(codeA.metrics.avgAtK.mean).toBeCloseTo(0.5, 12); // c1: pass, fail; c2: no code, pass
    expect(codeA.metrics.passAtK['2'].mean).toBeCloseTo(1, 12);
    expect(codeA.metrics.noAnswerRate).toBeCloseTo(0.25, 12);
    expect(group('b', 'toy-code').metrics.avgAtK.mean).toBeCloseTo(1, 12);
    expect(group('a', 'aime25').metrics.avgAtK.mean).toBeCloseTo(1 / 30, 12);
    expect(group('b', 'aime25').metrics.noAnswerRate).toBeCloseTo(1, 12);

    const report = readFileSync(store.resolve(result.summary.files.report), 'utf8');
    expect(report).toContain('AIME25');
    expect(readFileSync(store.resolve(result.summary.files.chart)).subarray(1, 4).toString()).toBe('PNG');
    const log = readFileSync(store.resolve(result.summary.files.cells), 'utf8').trim().split('\n');
    expect(log.length).toBe(cells);
    expect(JSON.parse(log[0]!)).toMatchObject({ completion: { dataset: 'eval-a/samples' } });

    // a changed scorer: the same samples scored again, nothing sampled
    fake.reset();
    const again = (await env.client.workflow.execute('evaluate', {
      taskQueue: config.taskQueues.orchestration,
      workflowId: `eval-a2-${Date.now()}`,
      args: [input({ math: 'qwen-parity' })],
    })) as EvaluateResult;
    expect(fake.requests).toBe(0);
    expect(again.scorer).not.toBe(result.scorer);
    const parity = JSON.parse(readFileSync(store.resolve(again.summary.files.metrics), 'utf8')) as typeof metrics;
    const parityA = parity.results.find((r) => r.model === 'a' && r.benchmark === 'toy-math')!;
    expect(parityA.metrics.avgAtK.mean).toBeCloseTo((3 + 3 + 4 + 4) / 16, 12);
    expect(parityA.otherMode.avgAtK.mean).toBeCloseTo(group('a', 'toy-math').metrics.avgAtK.mean, 12);
  }, 600_000);
});

/** The 95% percentile interval of sorted bootstrap means, linear between order statistics (R's type 7). */
function BOOTSTRAP_CI(sorted: number[]): [number, number] {
  const at = (q: number) => {
    const h = q * (sorted.length - 1);
    const lo = Math.floor(h);
    return sorted[lo]! + (h - lo) * (sorted[Math.min(lo + 1, sorted.length - 1)]! - sorted[lo]!);
  };
  return [at(0.025), at(0.975)];
}
