// analyzeCorpora end to end on a real Temporal server: three small corpora (two math, one code with tests), a
// teacher and a solver scripted on the fake server by problem (boxed references of known token counts, one answer
// without a box, right and wrong solver answers, programs that pass or fail), bad lines in the files, a worker in a
// child process running the shipped MiniLM ONNX model and the sandbox.
// Checks against computations made here: the seeded sample (Algorithm R recomputed), the exact accuracies, pass
// rate and teacher-token means, their bootstrap CIs (recomputed with the same generator and seed), the counts of
// no-reference / no-tests / rejected items, and the mean-vector distances and MDS coordinates that Hugging Face
// tokenizers + Python onnxruntime + numpy give for the same problems (within 1e-4); a re-run with the same name asks
// the servers nothing.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DatasetStore } from '../../activities/datasets/store';
import { DEFAULT_EMBEDDING_MODEL_DIR, type CorpusAnalysis } from '../../domain/analyze-corpora';
import { mulberry32 } from '../../domain/core/random';
import { deriveSeed } from '../../domain/core/seeds';
import type { FakeChoice, FakeOpenAIServer } from '../../lib/fake-openai-server';
import type { AnalyzeCorporaResult } from '../../workflows/analyze-corpora';
import { writeJsonl } from '../support/files';
import { miniLmReference } from '../support/minilm-reference';
import { datasetRows, pipelineTestConfig, workerProcesses } from '../support/pipeline-runs';
import { useTemporalAndFake } from '../support/temporal-and-fake';
import { spawnWorker, writeConfigFile } from '../support/worker-process';

const SEED = 7;
const SAMPLE = 4;
const BOOTSTRAP = { samples: 400, seed: 11 };

interface Problem {
  id: string;
  problem: string;
  /** the teacher's boxed answer (null: it writes none), the length of its reasoning */
  reference: string | null;
  reasoning: number;
  /** what the solver boxes (math) or whether its program is right (code) */
  solver: string | boolean;
  input_output?: string;
}

const ALPHA: Problem[] = [
  {
    id: 'a1',
    problem: 'What is the sum of the first ten positive integers?',
    reference: '55',
    reasoning: 400,
    solver: '55',
  },
  { id: 'a2', problem: 'How many primes are less than twenty?', reference: '8', reasoning: 800, solver: '7' },
  {
    id: 'a3',
    problem: 'Compute the area of a circle of radius two.',
    reference: '4\\pi',
    reasoning: 1200,
    solver: '4\\pi',
  },
  {
    id: 'a4',
    problem: 'Find the remainder when two to the tenth power is divided by seven.',
    reference: null,
    reasoning: 2000,
    solver: '2',
  },
  { id: 'a5', problem: 'What is one half plus one third?', reference: '\\frac{5}{6}', reasoning: 600, solver: '5/6' },
];
const BETA: Problem[] = [
  {
    id: 'b1',
    problem: 'A train travels sixty miles in one hour. How far does it go in three hours?',
    reference: '180',
    reasoning: 3000,
    solver: '180',
  },
  {
    id: 'b2',
    problem: 'Alice has five apples and gives away two. How many apples remain?',
    reference: '3',
    reasoning: 5000,
    solver: '2',
  },
  {
    id: 'b3',
    problem: 'A rectangle is four meters by six meters. What is its perimeter in meters?',
    reference: '20',
    reasoning: 7000,
    solver: '24',
  },
];
const SUM = 'a, b = map(int, input().split())\nprint(a + b)';
const GAMMA: Problem[] = [
  {
    id: 'g1',
    problem: 'Read two integers a and b from standard input and print their sum.',
    reference: null,
    reasoning: 900,
    solver: true,
    input_output: JSON.stringify({ inputs: ['1 2\n', '5 7\n'], outputs: ['3\n', '12\n'] }),
  },
  {
    id: 'g2',
    problem: 'Read two integers a and b and print a + b, one line of output.',
    reference: null,
    reasoning: 1500,
    solver: false,
    input_output: JSON.stringify({ inputs: ['2 3\n'], outputs: ['5\n'] }),
  },
  {
    id: 'g3',
    problem: 'Print the words of a sentence in reverse order.',
    reference: null,
    reasoning: 300,
    solver: true,
  },
];
const ALL = new Map([...ALPHA, ...BETA, ...GAMMA].map((p) => [p.id, p]));

const tokens = (text: string) => Math.ceil(text.length / 4);
const teacherContent = (p: Problem) =>
  p.reference === null ? 'I could not settle it.' : `So the answer is $\\boxed{${p.reference}}$.`;
const teacherTokens = (p: Problem) => tokens(teacherContent(p)) + tokens('r'.repeat(p.reasoning));

function respond(body: Record<string, unknown>): string | FakeChoice {
  const user = (body.messages as Array<{ content: string }>).at(-1)!.content;
  const p = [...ALL.values()].find((x) => user.startsWith(x.problem))!;
  if (body.model === 'teacher-x') return { content: teacherContent(p), reasoning: 'r'.repeat(p.reasoning) };
  if (typeof p.solver === 'string') return `Quick work.\n\nThe answer is $\\boxed{${p.solver}}$.`;
  return `\`\`\`python\n${p.solver ? SUM : 'a, b = map(int, input().split())\nprint(a * b)'}\n\`\`\``;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** The percentile bootstrap CI as domain/eval/metrics.ts describes it, recomputed here. */
function bootstrap(values: number[]): [number, number] {
  const random = mulberry32(BOOTSTRAP.seed);
  const means: number[] = [];
  for (let b = 0; b < BOOTSTRAP.samples; b++) {
    let sum = 0;
    for (let i = 0; i < values.length; i++) sum += values[Math.floor(random() * values.length)]!;
    means.push(sum / values.length);
  }
  means.sort((x, y) => x - y);
  const at = (q: number) => {
    const h = q * (means.length - 1);
    const lo = Math.floor(h);
    return means[lo]! + (h - lo) * (means[Math.min(lo + 1, means.length - 1)]! - means[lo]!);
  };
  return [at(0.025), at(0.975)];
}

/** Algorithm R over ids, as the analysis draws its sample. */
function reservoir(label: string, ids: string[], k: number): string[] {
  const random = mulberry32(deriveSeed(SEED, label));
  const kept: Array<{ i: number; id: string }> = [];
  ids.forEach((id, i) => {
    if (kept.length < k) kept.push({ i, id });
    else {
      const j = Math.floor(random() * (i + 1));
      if (j < k) kept[j] = { i, id };
    }
  });
  return kept.sort((a, b) => a.i - b.i).map((x) => x.id);
}

describe('analyzeCorpora', () => {
  const ctx = useTemporalAndFake('analyze', { latencyMs: 5, respond });
  const { tmp } = ctx;
  let env: TestWorkflowEnvironment;
  let fake: FakeOpenAIServer;
  const workers = workerProcesses(ctx);
  beforeAll(() => {
    ({ env, fake } = ctx);
  });

  it('measures difficulty and diversity that independent computations reproduce', async () => {
    const line = (p: Problem, extra: Record<string, unknown> = {}) => ({
      id: p.id,
      problem: p.problem,
      ...(p.input_output ? { input_output: p.input_output } : {}),
      ...extra,
    });
    const alphaFile = writeJsonl(path.join(tmp.dir, 'alpha.jsonl'), [
      ...ALPHA.slice(0, 2).map((p) => line(p)),
      '{"id": "bad-1", "text": "no problem field"}',
      ...ALPHA.slice(2).map((p) => line(p)),
      '{not json',
    ]);
    const betaFile = writeJsonl(
      path.join(tmp.dir, 'beta.jsonl'),
      BETA.map((p) => line(p)),
    );
    const gammaFile = writeJsonl(path.join(tmp.dir, 'gamma.jsonl'), [
      ...GAMMA.map((p) => line(p)),
      { id: 'g-bad', problem: 'Broken tests.', input_output: '{"inputs": 3}' },
    ]);
    const prefix = `an${Date.now().toString(36)}`;
    const config = pipelineTestConfig({
      address: env.address,
      prefix,
      storageRoot: path.join(tmp.dir, 'store'),
      baseUrl: fake.url,
      model: 'default-x',
      more: { sandbox: { concurrency: 2 } },
    });
    const configFile = writeConfigFile(path.join(tmp.dir, `${prefix}.yaml`), config);
    const store = new DatasetStore(config.storage.root);
    workers.push(spawnWorker(configFile));
    await workers[0]!.ready;
    const input = {
      name: 'cmp',
      corpora: [
        { label: 'alpha', files: [alphaFile], domain: 'math' },
        { label: 'beta', files: [betaFile], domain: 'math' },
        { label: 'gamma', files: [gammaFile], domain: 'code' },
      ],
      seed: SEED,
      difficulty: {
        sampleSize: SAMPLE,
        teacher: { model: 'teacher-x', maxTokens: 4096, reasoningEffort: 'high' },
        solver: { model: 'solver-x', maxTokens: 1024 },
        scorer: { timeLimitSeconds: 10 },
      },
      diversity: { embedder: { kind: 'auto' }, pairwiseSample: 3 },
      bootstrap: BOOTSTRAP,
      shardSize: 2,
      maxConcurrentShards: 2,
      itemConcurrency: 2,
      heartbeatTimeoutSeconds: 10,
    };
    const result = (await env.client.workflow.execute('analyzeCorpora', {
      taskQueue: config.taskQueues.orchestration,
      workflowId: `analyze-${Date.now()}`,
      args: [input],
    })) as AnalyzeCorporaResult;
    const a: CorpusAnalysis = result.analysis;

    // what was read and set aside
    expect(result.prepared.corpora.map((c) => [c.label, c.problems, c.rejected, c.sampled])).toEqual([
      ['alpha', 5, 2, 4],
      ['beta', 3, 0, 3],
      ['gamma', 3, 1, 3],
    ]);
    const rejects = readFileSync(store.resolve(result.prepared.rejects!), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { reason: string; source: { file: string; line: number } });
    expect(rejects.map((r) => [path.basename(r.source.file), r.source.line, r.reason.split(':')[1]!.trim()])).toEqual([
      ['alpha.jsonl', 3, 'field problem'],
      ['alpha.jsonl', 7, 'line 7'],
      ['gamma.jsonl', 4, 'field input_output'],
    ]);

    // the sample: Algorithm R with the run seed and the label
    const sample = await datasetRows(store, 'cmp/sample');
    const sampledAlpha = reservoir(
      'alpha',
      ALPHA.map((p) => p.id),
      SAMPLE,
    );
    expect(sample.filter((r) => r.corpus === 'alpha').map((r) => r.itemId)).toEqual(sampledAlpha);
    expect(sample.filter((r) => r.corpus !== 'alpha').map((r) => r.itemId)).toEqual([
      'b1',
      'b2',
      'b3',
      'g1',
      'g2',
      'g3',
    ]);
    // the teacher's reasoning effort reached the server
    expect(fake.requestLog.some((r) => (r.body as { reasoning_effort?: string }).reasoning_effort === 'high')).toBe(
      true,
    );

    // difficulty, against the scripts
    const byLabel = new Map(a.corpora.map((c) => [c.label, c]));
    const solverRight = (p: Problem) =>
      typeof p.solver === 'string'
        ? ({ '55': true, '4\\pi': true, '5/6': true, '180': true } as Record<string, boolean>)[p.solver] === true
        : p.solver;
    for (const [label, problems] of [
      ['alpha', sampledAlpha.map((id) => ALL.get(id)!)],
      ['beta', BETA],
    ] as const) {
      const kept = problems.filter((p) => p.reference !== null);
      const d = byLabel.get(label)!.difficulty!;
      expect([d.sampled, d.noReference, d.noTests, d.failed]).toEqual([
        problems.length,
        problems.length - kept.length,
        0,
        0,
      ]);
      const ordered = [...kept].sort((x, y) => (x.id < y.id ? -1 : 1));
      const correct = ordered.map((p) => (solverRight(p) ? 1 : 0));
      expect(d.accuracy!.mean).toBeCloseTo(mean(correct), 12);
      expect(d.accuracy!.n).toBe(kept.length);
      expect(d.accuracy!.ci).toEqual(bootstrap(correct));
      const t = ordered.map(teacherTokens);
      expect(d.teacherTokens!.mean).toBeCloseTo(mean(t), 9);
      expect(d.teacherTokens!.ci).toEqual(bootstrap(t));
      const sd = Math.sqrt(t.reduce((s, x) => s + (x - mean(t)) ** 2, 0) / (t.length - 1));
      expect(d.teacherTokens!.se).toBeCloseTo(sd / Math.sqrt(t.length), 9);
      // the paper's measure: the reasoning part, as the server reports it (completion_tokens_details)
      const r = ordered.map((p) => tokens('r'.repeat(p.reasoning)));
      expect(d.teacherReasoningTokens!.mean).toBeCloseTo(mean(r), 9);
      expect(d.teacherReasoningTokens!.ci).toEqual(bootstrap(r));
      expect(d.passRate).toBeNull();
    }
    // beta: 1 of 3 right, alpha: 3 of 3 (a4 has no reference, a2's 7 is wrong when sampled)
    expect(byLabel.get('beta')!.difficulty!.accuracy!.mean).toBeCloseTo(1 / 3, 12);
    const gamma = byLabel.get('gamma')!.difficulty!;
    expect([gamma.noTests, gamma.failed, gamma.accuracy]).toEqual([1, 0, null]);
    expect(gamma.passRate!.mean).toBeCloseTo(0.5, 12);
    expect(gamma.passRate!.ci).toEqual(bootstrap([1, 0]));
    expect(gamma.teacherTokens!.mean).toBeCloseTo(mean(GAMMA.map(teacherTokens)), 9);

    // diversity, against Python's onnxruntime on the same problems
    expect(a.diversity!.embedder.kind).toBe('onnx');
    expect(a.diversity!.embedder.why).toContain(DEFAULT_EMBEDDING_MODEL_DIR);
    const groups = [ALPHA, BETA, GAMMA];
    const texts = groups.flat().map((p) => p.problem);
    let at = 0;
    const reference = miniLmReference({
      modelDir: path.resolve(DEFAULT_EMBEDDING_MODEL_DIR),
      texts,
      maxTokens: 256,
      groups: groups.map((g) => g.map(() => at++)),
    });
    a.diversity!.distances.forEach((row, i) =>
      row.forEach((d, j) => expect(Math.abs(d - reference.distances![i]![j]!)).toBeLessThan(1e-4)),
    );
    a.diversity!.mds.coordinates.forEach((c, i) => {
      expect(Math.abs(c.x - reference.mds![i]![0]!)).toBeLessThan(1e-4);
      expect(Math.abs(c.y - reference.mds![i]![1]!)).toBeLessThan(1e-4);
    });
    const positive = reference.eigenvalues!.filter((x) => x > 0).reduce((s, x) => s + x, 0);
    expect(a.diversity!.mds.share[0]).toBeCloseTo(reference.eigenvalues![0]! / positive, 3);
    // within-corpus: the mean pairwise distance of all three beta problems (pairwiseSample 3 takes them all)
    const beta = reference.vectors.slice(5, 8);
    const cos = (x: number[], y: number[]) => x.reduce((s, xi, i) => s + xi * y[i]!, 0);
    const pairs = [cos(beta[0]!, beta[1]!), cos(beta[0]!, beta[2]!), cos(beta[1]!, beta[2]!)].map((c) => 1 - c);
    expect(Math.abs(byLabel.get('beta')!.diversity!.meanPairwiseDistance! - mean(pairs))).toBeLessThan(1e-4);
    expect(byLabel.get('alpha')!.diversity!.embedded).toBe(5);

    // the files
    const md = readFileSync(store.resolve(a.files.markdown), 'utf8');
    expect(md).toContain('| alpha |');
    expect(md).toContain(
      '| Corpus | Accuracy (%) | Pass rate (%) | Teacher tokens | Reasoning tokens | Sampled | No reference | No tests | Failed |',
    );
    expect(md).toContain('Embedder: **onnx**');
    expect(readFileSync(store.resolve(a.files.plot!)).subarray(1, 4).toString()).toBe('PNG');
    const csv = readFileSync(store.resolve(a.files.coordinates!), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('corpus,x,y');
    expect(Number(csv[1]!.split(',')[1])).toBeCloseTo(a.diversity!.mds.coordinates[0]!.x, 12);
    expect(JSON.parse(readFileSync(store.resolve(a.files.json), 'utf8'))).toEqual(a);

    // the same name again: every output exists, no model is asked anything
    const before = fake.requests;
    const again = (await env.client.workflow.execute('analyzeCorpora', {
      taskQueue: config.taskQueues.orchestration,
      workflowId: `analyze-again-${Date.now()}`,
      args: [input],
    })) as AnalyzeCorporaResult;
    expect(fake.requests).toBe(before);
    expect(again.analysis).toEqual(a);
  }, 300_000);
});
