// promptcotExperiment end to end on a real Temporal server (a dev server on SQLite, so it can be restarted): the
// whole graph (cold start, EM, math synthesis, training prompts, self-play, SFT, evaluation, report) over the fake
// server's scripted completions and the example trainer. The worker is SIGKILLed and the Temporal server stopped and
// started again while self-play runs; the run finishes, and the report's numbers are checked. A second experiment is
// cancelled while SFT runs and started again under the same name: no finished step is redone. A third is held by a
// teacher token budget before SFT until a raiseBudget signal lets it finish.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { DatasetStore } from '../../activities/datasets/store';
import { formatProblem } from '../../activities/prompts/problems';
import type { Config } from '../../domain/platform/config';
import type { ExperimentInput } from '../../domain/experiment';
import { spendTokens } from '../../domain/core/spend';
import { startDevServer, type DevServer } from '../../lib/dev-server';
import { startFakeOpenAIServer, type FakeOpenAIServer } from '../../lib/fake-openai-server';
import type { ExperimentResult, ExperimentStatus } from '../../workflows/promptcot-experiment';
import { exampleTraining } from '../support/config';
import { tempDir } from '../support/files';
import { pipelineTestConfig } from '../support/pipeline-runs';
import { spawnWorker, writeConfigFile, type WorkerProcess } from '../support/worker-process';

jest.setTimeout(600_000);

/** The sum the scripted problems ask for: "What is A plus B?" */
function sumAsked(text: string): number | undefined {
  const m = /What is (\d+) plus (\d+)\?/.exec(text);
  return m ? Number(m[1]) + Number(m[2]) : undefined;
}

/** Two numbers from a text (the concepts of a record), the same every time. */
function numbersOf(text: string): [number, number] {
  let h = 7;
  for (const ch of text) h = (h * 31 + ch.charCodeAt(0)) % 1_000_003;
  return [(h % 40) + 2, ((h >> 3) % 40) + 2];
}

/** Eight made-up words of a text (so that problems from different concepts share no words, and pass dedup). */
function wordsOf(text: string): string {
  const letters = 'bcdfghjklmnpqrstvwxz';
  const words: string[] = [];
  let h = 17;
  for (const ch of text) h = (h * 131 + ch.charCodeAt(0)) % 2_147_483_647;
  for (let w = 0; w < 8; w++) {
    let word = '';
    for (let i = 0; i < 6; i++) {
      h = (h * 48_271) % 2_147_483_647;
      word += letters[h % letters.length];
    }
    words.push(word);
  }
  return words.join(' ');
}

/** Rollout requests seen per prompt: every third one is answered right, so each prompt gets pairs. */
const rollouts = new Map<string, number>();

/**
 * The scripted models: cold-start annotations, q_phi's rationales, p_theta's problems ("What is A plus B?" from the
 * concepts), the policy's rollouts (one in three right), the teacher's traces (always right),
 * and benchmark answers (right except on the third problem, whose numbers are 9 and 9).
 */
function respond(body: Record<string, unknown>): string[] {
  const messages = body.messages as Array<{ content: string }> | undefined;
  const text = messages ? messages[messages.length - 1]!.content : String(body.prompt ?? '');
  const n = typeof body.n === 'number' ? body.n : 1;
  const seed = typeof body.seed === 'number' ? body.seed : 0;
  const all = (s: string | ((i: number) => string)) =>
    Array.from({ length: n }, (_, i) => (typeof s === 'string' ? s : s(i)));
  if (text.includes('foundational concepts being tested')) {
    const [a, b] = numbersOf(text);
    return all(`\`\`\`python\n["adding ${a}", "adding ${b}", "counting"]\n\`\`\``);
  }
  if (text.includes('reverse-engineer a clear thinking process'))
    return all((i) => `Thinking Process: add the two numbers, variant ${(seed + i) % 5}.`);
  if (text.includes('Foundational Concepts:')) {
    const [a, b] = numbersOf(text);
    return all(
      `<!-- BEGIN RATIONALE -->Combine the concepts into one sum.<!-- END RATIONALE -->\n<!-- BEGIN PROBLEM -->${wordsOf(text)}. What is ${a} plus ${b}?<!-- END PROBLEM -->`,
    );
  }
  const sum = sumAsked(text);
  if (sum === undefined) return all('I cannot tell.');
  if (body.model === 'teacher-model') return all(`<think>\nAdd them.\n</think>\n\nThe answer is $\\boxed{${sum}}$.`);
  // benchmark cells (a templated prompt, completions API): thinking closed, then the box
  if (text.includes('What is 9 plus 9?')) return all('Add.\n</think>\n\n$\\boxed{17}$.');
  if (messages === undefined && text.includes('<|im_start|>')) return all(`Add.\n</think>\n\n$\\boxed{${sum}}$.`);
  // the reward stage's answer votes (max_tokens 60) are right; of a prompt's rollouts (64), one in three is right
  // (a pass rate of 1/3: hard enough to keep, with chosen and rejected rollouts)
  // the analysis' solver (also 60 tokens) misses one problem of the open corpus
  if (body.max_tokens === 60 && text.includes('What is 6 plus 1?')) return all('Add.\n</think>\n\n$\\boxed{8}$.');
  if (body.max_tokens === 60) return all(`Add.\n</think>\n\n$\\boxed{${sum}}$.`);
  return all(() => {
    const seen = (rollouts.get(text) ?? 0) + 1;
    rollouts.set(text, seen);
    return seen % 3 === 0 ? `Add.\n</think>\n\n$\\boxed{${sum}}$.` : `Guess.\n</think>\n\n$\\boxed{${sum + 1}}$.`;
  });
}

describe('promptcotExperiment', () => {
  const tmp = tempDir('experiment');
  const dbFile = path.join(tmp.dir, 'temporal.db');
  let server: DevServer;
  let fake: FakeOpenAIServer;
  let config: Config;
  let configFile: string;
  let client: Client;
  let store: DatasetStore;
  const workers: WorkerProcess[] = [];
  const seedFile = path.join(tmp.dir, 'seeds.jsonl');
  const extraFile = path.join(tmp.dir, 'extra.jsonl');
  const benchFile = path.join(tmp.dir, 'bench.jsonl');
  const conceptFile = path.join(tmp.dir, 'concepts.jsonl');
  const openFile = path.join(tmp.dir, 'open.jsonl');

  async function connect(): Promise<void> {
    await client?.connection.close();
    client = new Client({ connection: await Connection.connect({ address: server.address }) });
  }

  function startWorker(): WorkerProcess {
    const w = spawnWorker(configFile);
    workers.push(w);
    return w;
  }

  beforeAll(async () => {
    server = await startDevServer({ dbFile, headless: true });
    fake = await startFakeOpenAIServer({ latencyMs: 5, respond });
    const base = pipelineTestConfig({
      address: server.address,
      prefix: 'exp',
      storageRoot: path.join(tmp.dir, 'store'),
      baseUrl: fake.url,
      model: 'fake-model',
      more: {
        training: exampleTraining(tmp.dir),
      },
    });
    // the teacher on its own endpoint (so the script knows it), with a price: the report shows cost
    config = {
      ...base,
      endpoints: {
        ...base.endpoints,
        teacher: {
          ...base.endpoints.main!,
          model: 'teacher-model',
          price: { promptPerMillion: 1, completionPerMillion: 4 },
        },
      },
      roles: { ...base.roles, teacher: { endpoint: 'teacher' } },
    };
    configFile = writeConfigFile(path.join(tmp.dir, 'temporal.yaml'), config);
    store = new DatasetStore(config.storage.root);
    writeFileSync(
      seedFile,
      ['Count the lattice points on a circle.', 'Find the area of a triangle.', 'Sum the first n odd numbers.']
        .map((p, i) => JSON.stringify({ id: `s${i}`, problem: p, level: 'AIME' }))
        .join('\n') + '\n',
    );
    writeFileSync(
      extraFile,
      [
        JSON.stringify({
          id: 'o1',
          source: 'OpenSource-Math',
          prompt: formatProblem('math', 'What is 3 plus 4?'),
          answer: '7',
        }),
        'not json',
        JSON.stringify({ id: 'o2', source: 'Elsewhere', prompt: 'x' }),
      ].join('\n') + '\n',
    );
    writeFileSync(
      benchFile,
      ['What is 1 plus 2?', 'What is 5 plus 5?', 'What is 9 plus 9?']
        .map((q, i) =>
          JSON.stringify({
            id: `b${i}`,
            prompt: `<|im_start|>user\n${formatProblem('math', q)}<|im_end|>\n<|im_start|>assistant\n`,
            answer: String(sumAsked(q)),
          }),
        )
        .join('\n') + '\n',
    );
    writeFileSync(
      conceptFile,
      ['alpha', 'beta', 'gamma', 'delta']
        .map((c, i) => JSON.stringify({ id: `c${i}`, foundational_concepts: [`${c} sums`, 'counting'], level: 'AIME' }))
        .join('\n') + '\n',
    );
    writeFileSync(
      openFile,
      ['What is 2 plus 2?', 'What is 6 plus 1?', 'Describe the sky.']
        .map((problem, i) => JSON.stringify({ id: `p${i}`, problem, domain: 'math' }))
        .join('\n') + '\n',
    );
    await connect();
  });

  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    await client?.connection.close();
    await fake?.close();
    await server?.stop();
    tmp.remove();
  });

  const evaluation = {
    benchmarks: [{ name: 'sums', kind: 'math', file: benchFile }],
    runs: { math: 2 },
    sampling: { maxTokens: 64 },
    bootstrap: { samples: 200 },
  };

  async function status(handle: WorkflowHandle): Promise<ExperimentStatus | undefined> {
    try {
      return await handle.query<ExperimentStatus>('status');
    } catch {
      return undefined;
    }
  }

  async function waitFor(handle: WorkflowHandle, ok: (s: ExperimentStatus) => boolean): Promise<ExperimentStatus> {
    const started = Date.now();
    for (;;) {
      const s = await status(handle);
      if (s && ok(s)) return s;
      if (Date.now() - started > 300_000) throw new Error(`timed out; last status ${JSON.stringify(s)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  const stepState = (s: ExperimentStatus, step: string) => s.steps.find((x) => x.step === step)?.state;

  it('runs the whole graph through a worker crash and a Temporal server restart, and reports it', async () => {
    let worker = startWorker();
    await worker.ready;
    const input: ExperimentInput = {
      name: 'full',
      seed: 3,
      seedProblemFiles: [seedFile],
      coldStart: { concepts: { level: 'AIME', maxTokens: 64 }, rationales: { maxTokens: 64 } },
      em: { iterations: 1, k: 2, maxTokens: 64, warmStart: false },
      synthesis: { passes: 2, sampling: { maxTokens: 64 } },
      extraPromptFiles: [extraFile],
      selfPlay: { rounds: 1, k: 3, rollouts: { maxTokens: 64 }, mathAnswers: { n: 3, maxTokens: 60 } },
      sft: { teacher: { maxTokens: 64 }, filters: { verifyMath: false } },
      evaluate: evaluation,
      analysis: {
        corpora: [{ label: 'open', files: [openFile] }],
        difficulty: { sampleSize: 10, teacher: { maxTokens: 64 }, solver: { maxTokens: 60 } },
        bootstrap: { samples: 200 },
      },
      shardSize: 4,
    };
    const handle = await client.workflow.start('promptcotExperiment', {
      taskQueue: config.taskQueues.orchestration,
      workflowId: 'exp-full',
      args: [input],
    });
    await waitFor(handle, (s) => stepState(s, 'self-play') === 'running');
    // a worker crash and a Temporal server restart in the middle of self-play
    worker.child.kill('SIGKILL');
    await worker.exited;
    await server.stop();
    server = await startDevServer({ dbFile, headless: true, port: server.port });
    await connect();
    worker = startWorker();
    await worker.ready;
    const result = (await client.workflow.getHandle('exp-full').result()) as ExperimentResult;

    expect(result.steps.map((s) => [s.step, s.state])).toEqual([
      ['cold-start', 'done'],
      ['em', 'done'],
      ['synthesize-math', 'done'],
      ['analyze', 'done'],
      ['prompts', 'done'],
      ['self-play', 'done'],
      ['sft', 'done'],
      ['evaluate', 'done'],
      ['report', 'done'],
    ]);
    expect(result.reusedSteps).toEqual([]);
    expect(result.models.map((m) => m.label)).toEqual(['base', 'self-play', 'sft']);

    // the ledger: each step once, its spend from its own stages
    const ledgerDir = store.resolve('experiments/full/steps');
    const record = (step: string) => JSON.parse(readFileSync(path.join(ledgerDir, `${step}.json`), 'utf8'));
    const cold = record('cold-start').result;
    expect(cold.imported).toBe(3);
    expect(cold.triples.counts.kept).toBe(3);
    const synthesis = record('synthesize-math').result;
    expect(synthesis.totals.generated).toBe(6); // 3 concept records x 2 passes
    // the same concepts give the same problem on both passes: 3 kept, 3 exact duplicates
    expect(synthesis.totals.kept).toBe(3);
    expect(synthesis.totals.exactDuplicates).toBe(3);
    const prompts = record('prompts').result;
    expect(prompts.bySource).toEqual({ 'PromptCoT-Math': 3, 'OpenSource-Math': 1 });
    expect(prompts.rejects).toBeDefined(); // the two bad extra lines, with their reasons
    const teacherSpend = record('sft').spend;
    expect(teacherSpend.map((e: { role: string }) => e.role)).toEqual(['teacher']);
    expect(teacherSpend[0].calls).toBe(4);
    const t = teacherSpend[0];
    expect(t.cost).toBeCloseTo((t.promptTokens * 1 + t.completionTokens * 4) / 1e6, 12);
    const roles = new Set(record('em').spend.map((e: { role: string }) => e.role));
    expect([...roles].sort()).toEqual(['promptGenerator', 'rationaleModel']);
    let total = 0;
    for (const s of result.steps.filter((x) => x.step !== 'report')) total += spendTokens(record(s.step).spend);
    expect(spendTokens(result.spent)).toBe(total);

    // the corpus analyses: the synthesized corpus against the open one
    const analysis = record('analyze').result.analysis;
    const corpus = (label: string) => analysis.corpora.find((c: { label: string }) => c.label === label);
    expect(corpus('promptcot-math').difficulty).toMatchObject({ sampled: 3, noReference: 0 });
    expect(corpus('promptcot-math').difficulty.accuracy).toMatchObject({ mean: 1, n: 3 });
    expect(corpus('open').difficulty).toMatchObject({ sampled: 3, noReference: 1 }); // "Describe the sky."
    expect(corpus('open').difficulty.accuracy).toMatchObject({ mean: 0.5, n: 2 });
    expect(analysis.diversity.distances[0][1]).toBeGreaterThan(0);
    expect(new Set(record('analyze').spend.map((e: { role: string }) => e.role))).toEqual(
      new Set(['teacher', 'solver']),
    );

    // the report: the evaluation table (2 of 3 problems right for every model: 66.7), the corpus, the spend
    const md = readFileSync(store.resolve(result.report.markdown), 'utf8');
    expect(md).toContain('# PromptCoT experiment: full');
    expect(md).toMatch(/\| math \| 6 \| 6 \| 0 \| 0 \| 3 \| 0 \| 3 \|/);
    expect(md).toContain('4 prompts: PromptCoT-Math 3, OpenSource-Math 1.');
    expect(md).toContain('## Corpus analyses: difficulty and diversity');
    expect(md).toContain('![MDS of the corpora](analyze/mds.png)');
    for (const label of ['base', 'self-play', 'sft'])
      expect(md).toMatch(new RegExp(`\\| ${label} \\| ours \\|[^\\n]*66\\.7`));
    expect(md).toContain(`Tokens in all: ${total}`);
    expect(md).toMatch(/\| sft \| teacher \| teacher \| teacher-model \| 4 \| \d+ \| \d+ \| \d\.\d{4} \|/);
    expect(readFileSync(store.resolve(result.report.html), 'utf8')).toContain('<table>');
    for (const png of result.report.plots)
      expect(readFileSync(store.resolve(png)).subarray(1, 4).toString()).toBe('PNG');
  });

  const small = (name: string, extra: Partial<ExperimentInput> = {}): ExperimentInput => ({
    name,
    conceptFiles: [conceptFile],
    em: false,
    synthesis: { passes: 1, sampling: { maxTokens: 64 } },
    sft: { teacher: { maxTokens: 64 }, training: { enabled: false } },
    evaluate: evaluation,
    shardSize: 2,
    ...extra,
  });

  it('resumes a cancelled experiment at its first unfinished step, redoing no finished one', async () => {
    if (!workers.some((w) => w.child.exitCode === null)) await startWorker().ready;
    const synthesisRequests = () =>
      fake.requestLog.filter((r) => JSON.stringify(r.body).includes('Foundational Concepts:')).length;
    const before = synthesisRequests();
    const first = await client.workflow.start('promptcotExperiment', {
      taskQueue: config.taskQueues.orchestration,
      workflowId: 'exp-resume',
      args: [small('resume')],
    });
    await waitFor(first, (s) => stepState(s, 'sft') === 'running');
    await first.cancel();
    await expect(first.result()).rejects.toBeInstanceOf(WorkflowFailedError);
    const synthesized = synthesisRequests() - before;
    expect(synthesized).toBe(4);

    const second = await client.workflow.start('promptcotExperiment', {
      taskQueue: config.taskQueues.orchestration,
      workflowId: 'exp-resume-2',
      args: [small('resume')],
    });
    const result = (await second.result()) as ExperimentResult;
    expect(result.reusedSteps).toEqual(['synthesize-math', 'prompts']);
    expect(synthesisRequests() - before).toBe(synthesized); // not one synthesis request more
    expect(result.steps.map((s) => [s.step, s.state])).toEqual([
      ['synthesize-math', 'reused'],
      ['prompts', 'reused'],
      ['sft', 'done'],
      ['evaluate', 'done'],
      ['report', 'done'],
    ]);
    expect(existsSync(store.resolve(result.report.markdown))).toBe(true);
  });

  it('holds the run before a step its budget cannot pay for, until raiseBudget', async () => {
    if (!workers.some((w) => w.child.exitCode === null)) await startWorker().ready;
    const handle = await client.workflow.start('promptcotExperiment', {
      taskQueue: config.taskQueues.orchestration,
      workflowId: 'exp-budget',
      args: [small('budget', { budget: { tokens: { roles: { teacher: 100 } }, promptTokensPerRequest: 100 } })],
    });
    const held = await waitFor(handle, (s) => s.budgetHold !== undefined);
    expect(held.budgetHold!.step).toBe('sft');
    // 4 prompts x 1 trace x (100 prompt + 64 completion tokens)
    expect(held.budgetHold!.estimate).toEqual({ teacher: 656 });
    expect(held.budgetHold!.reason).toBe('role teacher: up to 656 tokens needed, 100 of its budget 100 left');
    expect(stepState(held, 'synthesize-math')).toBe('done');
    expect(stepState(held, 'sft')).toBe('held');
    const teacherCalls = fake.requestLog.filter((r) => (r.body as { model?: string }).model === 'teacher-model').length;
    await new Promise((r) => setTimeout(r, 1500));
    expect((await status(handle))!.budgetHold!.step).toBe('sft'); // still held: nothing spent meanwhile
    expect(fake.requestLog.filter((r) => (r.body as { model?: string }).model === 'teacher-model').length).toBe(
      teacherCalls,
    );
    const described = await handle.describe();
    expect(described.status.name).toBe('RUNNING');
    await handle.signal('raiseBudget', { tokens: { roles: { teacher: 100_000 } } });
    const result = (await handle.result()) as ExperimentResult;
    expect(result.steps.find((s) => s.step === 'sft')!.state).toBe('done');
    expect(result.steps.find((s) => s.step === 'evaluate')!.state).toBe('done');
  });
});
