// promptcotExperiment's pure parts: the steps an input plans, the check of every step's pipeline input before the
// run, the budget estimates and the shortfall rule, the spend arithmetic; the stage's spend records (process-shard
// charges every model call to its item, a crash loses none); the report's Markdown and its HTML.
import path from 'node:path';
import { importJsonl } from '../../activities/datasets/import';
import { DatasetStore } from '../../activities/datasets/store';
import { createExperimentLedgerActivities } from '../../activities/experiment/ledger';
import { experimentReport, type ExperimentReportInput } from '../../activities/experiment/report';
import { writeDataset } from '../../activities/datasets/write';
import { chargeSpend } from '../../activities/inference/spend';
import { markdownToHtml } from '../../activities/reports/markdown-html';
import { RetryLaterError, type ItemOperation } from '../../activities/stage/operation';
import { processShard, type ProcessShardEnv } from '../../activities/stage/process-shard';
import { addSpend, spendTokens, tokensByRole, type SpendEntry } from '../../domain/core/spend';
import {
  BudgetSchema,
  budgetShortfall,
  estimateStep,
  experimentSteps,
  ExperimentInputSchema,
  raiseBudget,
  type ExperimentInput,
} from '../../domain/experiment';
import { describeZodError } from '../../domain/core/validation';
import { tempDir, writeJsonl } from '../support/files';

const parse = (input: ExperimentInput) => ExperimentInputSchema.parse(input);
const entry = (role: string, promptTokens: number, completionTokens: number, calls = 1): SpendEntry => ({
  role,
  endpoint: 'main',
  model: 'm',
  calls,
  promptTokens,
  completionTokens,
});

describe('experiment steps', () => {
  it('plans the whole graph from seed problems, and leaves out what is given or switched off', () => {
    expect(
      experimentSteps(
        parse({
          name: 'x',
          seedProblemFiles: ['seeds.jsonl'],
          domains: ['math', 'code'],
          selfPlay: {},
          sft: {},
          evaluate: { benchmarks: ['aime24'] },
        }),
      ),
    ).toEqual([
      'cold-start',
      'em',
      'synthesize-math',
      'synthesize-code',
      'prompts',
      'self-play',
      'sft',
      'evaluate',
      'report',
    ]);
    const corpus = { name: 'c', manifest: 'datasets/c/manifest.json', items: 3, shards: 1 };
    // a given corpus skips synthesis, and with it everything before
    expect(
      experimentSteps(parse({ name: 'x', seedProblemFiles: ['s.jsonl'], corpora: { math: corpus }, sft: {} })),
    ).toEqual(['prompts', 'sft', 'report']);
    // concept files without EM: no cold start
    expect(experimentSteps(parse({ name: 'x', conceptFiles: ['c.jsonl'], em: false, selfPlay: {} }))).toEqual([
      'synthesize-math',
      'prompts',
      'self-play',
      'report',
    ]);
  });

  it("checks every step's pipeline input before the run, naming the step and the field", () => {
    const r = ExperimentInputSchema.safeParse({
      name: 'x',
      seedProblemFiles: ['s.jsonl'],
      em: { iterations: 0 },
      selfPlay: { rounds: 1, kk: 3 },
      evaluate: { benchmarks: ['aime99'] },
    });
    expect(r.success).toBe(false);
    const text = describeZodError(r.error!);
    expect(text).toContain('em: step em (emRationaleLoop): iterations');
    expect(text).toMatch(/selfPlay: step self-play \(selfPlay\): .*kk/);
    expect(text).toMatch(/evaluate: step evaluate \(evaluate\): benchmarks/);
  });

  it('refuses inputs that give the graph nothing to start from', () => {
    const noConcepts = ExperimentInputSchema.safeParse({ name: 'x', em: false });
    expect(describeZodError(noConcepts.error!)).toContain('synthesis needs concepts');
    const noTriples = ExperimentInputSchema.safeParse({ name: 'x', conceptFiles: ['c.jsonl'] });
    expect(describeZodError(noTriples.error!)).toContain('the EM loop needs seed triples');
    const both = ExperimentInputSchema.safeParse({
      name: 'x',
      seedProblemFiles: ['s.jsonl'],
      seedTriples: { name: 't', manifest: 'datasets/t/manifest.json', items: 1, shards: 1 },
    });
    expect(describeZodError(both.error!)).toContain('not both');
  });
});

describe('budgets', () => {
  it('estimates each step as requests x (prompt allowance + max tokens), per role', () => {
    expect(
      estimateStep('synthesize', { role: 'promptGenerator', passes: 64, sampling: { maxTokens: 4096 } }, 10, 1000),
    ).toEqual({ promptGenerator: 10 * 64 * (1000 + 4096) });
    expect(
      estimateStep(
        'cold-start',
        {
          concepts: { role: 'rationaleModel', maxTokens: 100 },
          rationales: { annotators: [{ role: 'teacher' }, { role: 'policy' }], maxTokens: 50 },
        },
        4,
        10,
      ),
    ).toEqual({ rationaleModel: 4 * 110, teacher: 4 * 60, policy: 4 * 60 });
    expect(estimateStep('em', { iterations: 2, k: 8, maxTokens: 100 }, 5, 10)).toEqual({
      rationaleModel: 5 * 2 * 9 * 110, // K samples and one greedy decode per item and iteration
      promptGenerator: 5 * 2 * 8 * 110, // K scorings
    });
    expect(
      estimateStep(
        'self-play',
        {
          rounds: 2,
          k: 8,
          rollouts: { maxTokens: 1000 },
          testCases: { role: 'testCaseWriter', maxTokens: 500 },
          mathAnswers: { role: 'policy', n: 8, maxTokens: 200 },
        },
        3,
        0,
      ),
    ).toEqual({ policy: 3 * 2 * 8 * 1000 + 3 * 8 * 200, testCaseWriter: 3 * 500 });
    expect(estimateStep('sft', { teacher: { role: 'teacher', n: 2, maxTokens: 300 } }, 7, 100)).toEqual({
      teacher: 7 * 2 * 400,
    });
    expect(
      estimateStep(
        'evaluate',
        {
          models: [{ role: 'policy' }, { role: 'student' }],
          benchmarks: ['aime24', { name: 'mine', kind: 'code', file: 'x.jsonl', runs: 3 }],
          runs: { math: 16, codeforces: 8, code: 1 },
          sampling: { maxTokens: 50 },
        },
        0,
        50,
        { aime24: 30, mine: 4 },
      ),
    ).toEqual({ policy: 30 * 16 * 100 + 4 * 3 * 100, student: 30 * 16 * 100 + 4 * 3 * 100 });
    expect(estimateStep('prompts', {}, 100, 100)).toEqual({});
  });

  it('holds a step whose estimate does not fit a role, the total or the wall clock, and says why', () => {
    const budget = BudgetSchema.parse({ tokens: { total: 1000, roles: { teacher: 300 } }, wallClockHours: 2 });
    const spent = [entry('teacher', 100, 50), entry('policy', 200, 200)];
    expect(budgetShortfall(budget, spent, { teacher: 150 }, 1)).toBeUndefined(); // 150 + 150 = 300: fits exactly
    expect(budgetShortfall(budget, spent, { teacher: 151 }, 1)).toBe(
      'role teacher: up to 151 tokens needed, 150 of its budget 300 left',
    );
    expect(budgetShortfall(budget, spent, { policy: 451 }, 1)).toBe(
      'in all: up to 451 tokens needed, 450 of the total budget 1000 left',
    );
    expect(budgetShortfall(budget, spent, {}, 2.5)).toBe(
      'the wall-clock budget of 2 h is used up (2.50 h since the first start)',
    );
    // a step that spends nothing is never held by tokens
    expect(budgetShortfall(budget, [entry('policy', 5000, 0)], {}, 0)).toBeUndefined();
    const raised = raiseBudget(budget, { tokens: { roles: { teacher: 1000 } } });
    expect(raised.tokens).toEqual({ total: 1000, roles: { teacher: 1000 } });
    expect(raised.wallClockHours).toBe(2);
    expect(budgetShortfall(raised, spent, { teacher: 151 }, 1)).toBeUndefined();
  });

  it('adds spend per role, endpoint and model', () => {
    const total = addSpend([], [entry('teacher', 1, 2), entry('policy', 3, 4)]);
    addSpend(total, [entry('teacher', 10, 20, 2), { ...entry('teacher', 5, 5), model: 'other' }]);
    expect(total).toEqual([
      entry('teacher', 11, 22, 3),
      entry('policy', 3, 4),
      { ...entry('teacher', 5, 5), model: 'other' },
    ]);
    expect(spendTokens(total)).toBe(50);
    expect(spendTokens(total, 'teacher')).toBe(43);
    expect(tokensByRole(total)).toEqual({ teacher: 43, policy: 7 });
  });
});

describe('spend records of a stage', () => {
  const tmp = tempDir('spend');
  afterAll(() => tmp.remove());

  it('charges every model call to its item, keeps it across a failed attempt, and sums it per shard', async () => {
    const store = new DatasetStore(path.join(tmp.dir, 'store'));
    const file = writeJsonl(
      path.join(tmp.dir, 'in.jsonl'),
      Array.from({ length: 40 }, (_, i) => ({ id: `q${i}`, x: i })),
    );
    const imported = await importJsonl(store, { files: [file], name: 'in', shardSize: 100 });
    let failAfter = 25;
    const op: ItemOperation<unknown> = {
      parseParams: () => ({}),
      async run(item) {
        const x = item.x as number;
        // two calls per item, one of them deeper in the async chain
        chargeSpend({ role: 'policy', endpoint: 'main', model: 'm', promptTokens: x, completionTokens: 1 });
        await new Promise((r) => setTimeout(r, 1));
        chargeSpend({ role: 'teacher', endpoint: 'main', model: 't', promptTokens: 2, completionTokens: x });
        if (failAfter-- <= 0) throw new RetryLaterError('server went away');
        if (x === 3) throw new Error('an item that fails for good, after spending');
        if (x === 4) return { reject: 'unusable' };
        return { rows: [{ id: item.id }] };
      },
    };
    const env = (attempt: number): ProcessShardEnv => ({
      store,
      operations: () => op,
      attempt,
      signal: new AbortController().signal,
      heartbeat: () => undefined,
    });
    const input = { stage: 's', operation: 'op', input: imported.dataset, shard: 0, output: 'out', itemConcurrency: 4 };
    await expect(processShard(env(1), input)).rejects.toThrow('server went away');
    failAfter = 1_000;
    const result = await processShard(env(2), input);
    expect(result.counts).toMatchObject({ items: 40, kept: 38, rejected: 1, failed: 1 });
    // every item once (kept, rejected or failed), whichever attempt finished it; the items the first attempt was
    // running when it stopped are not recorded there, so they are charged once, by the attempt that finished them
    const sumX = (39 * 40) / 2;
    expect(result.spend).toEqual([
      { role: 'policy', endpoint: 'main', model: 'm', calls: 40, promptTokens: sumX, completionTokens: 40 },
      { role: 'teacher', endpoint: 'main', model: 't', calls: 40, promptTokens: 80, completionTokens: sumX },
    ]);
  });
});

describe('experiment ledger', () => {
  const tmp = tempDir('ledger');
  afterAll(() => tmp.remove());

  it("keeps its first start and the first record of each step; sums a step's spend from its manifests, with cost", async () => {
    const store = new DatasetStore(path.join(tmp.dir, 'store'));
    const ledger = createExperimentLedgerActivities(store, {
      endpoints: {
        main: { price: { promptPerMillion: 2, completionPerMillion: 10 } },
        free: {},
      },
    } as never);
    const opened = await ledger.openLedger({ name: 'e', now: '2026-01-01T00:00:00.000Z' });
    expect(opened).toEqual({ startedAt: '2026-01-01T00:00:00.000Z', steps: {} });
    const first = { step: 'sft', inputHash: 'a', status: 'done' as const, spend: [], finishedAt: 't1' };
    await ledger.recordStep({ name: 'e', record: first });
    expect(await ledger.recordStep({ name: 'e', record: { ...first, inputHash: 'b', finishedAt: 't2' } })).toEqual(
      first,
    );
    const again = await ledger.openLedger({ name: 'e', now: '2027-01-01T00:00:00.000Z' });
    expect(again).toEqual({ startedAt: '2026-01-01T00:00:00.000Z', steps: { sft: first } });

    // two stage outputs of the step (one nested deeper), one of another step
    const spendOf = (endpoint: string, promptTokens: number, completionTokens: number) => ({
      spend: [{ role: 'teacher', endpoint, model: 'm', calls: 1, promptTokens, completionTokens }],
    });
    await writeDataset(store, 'e/sft/teacher', [], { shardSize: 10, producedBy: spendOf('main', 100, 1000) });
    await writeDataset(store, 'e/sft/round/x', [], { shardSize: 10, producedBy: spendOf('main@http://h:1/v1', 50, 0) });
    await writeDataset(store, 'e/sft/plain', [{ id: 1 }], { shardSize: 10, producedBy: {} });
    await writeDataset(store, 'e/evaluate/cells', [], { shardSize: 10, producedBy: spendOf('free', 7, 7) });
    expect(await ledger.stepSpend({ prefix: 'e/sft' })).toEqual([
      {
        role: 'teacher',
        endpoint: 'main',
        model: 'm',
        calls: 1,
        promptTokens: 100,
        completionTokens: 1000,
        cost: 0.0102,
      },
      {
        role: 'teacher',
        endpoint: 'main@http://h:1/v1',
        model: 'm',
        calls: 1,
        promptTokens: 50,
        completionTokens: 0,
        cost: 0.0001,
      },
    ]);
    expect(await ledger.stepSpend({ prefix: 'e/evaluate' })).toEqual([
      { role: 'teacher', endpoint: 'free', model: 'm', calls: 1, promptTokens: 7, completionTokens: 7 },
    ]);
  });

  it('counts the lines and benchmark problems an estimate needs, and names a missing file', async () => {
    const store = new DatasetStore(path.join(tmp.dir, 'store2'));
    const ledger = createExperimentLedgerActivities(store, { endpoints: {} } as never);
    const file = writeJsonl(path.join(tmp.dir, 'seeds.jsonl'), [{ problem: 'a' }, { problem: 'b' }, { problem: 'c' }]);
    const sizes = await ledger.stepSizes({
      files: [file, file],
      benchmarks: ['aime24', { name: 'mine', kind: 'math', file }],
    });
    expect(sizes).toEqual({ lines: 6, benchmarkProblems: { aime24: 30, mine: 3 } });
    await expect(ledger.stepSizes({ files: [path.join(tmp.dir, 'nope.jsonl')] })).rejects.toThrow(
      /nope\.jsonl: no such file/,
    );
  });
});

describe('experiment report', () => {
  const input: ExperimentReportInput = {
    name: 'r',
    workflowId: 'wf',
    steps: [
      { step: 'synthesize-math', state: 'done', tokens: 300 },
      { step: 'sft', state: 'skipped', reason: 'skipStep signal' },
    ],
    records: {
      'synthesize-math': {
        step: 'synthesize-math',
        inputHash: 'h',
        status: 'done',
        spend: [{ ...entry('promptGenerator', 100, 200, 3), cost: 0.0009 }],
        estimate: { promptGenerator: 1000 },
        finishedAt: 't',
      },
    },
    budget: BudgetSchema.parse({ tokens: { total: 5000 } }),
    spent: [entry('promptGenerator', 100, 200, 3)],
    corpora: [
      {
        domain: 'math',
        dataset: { name: 'c', manifest: 'm', items: 5, shards: 1 },
        synthesis: {
          runKey: 'k',
          concepts: { dataset: { name: 'x', manifest: 'm', items: 3, shards: 1 }, imported: 3, rejected: 0 },
          corpus: { name: 'c', manifest: 'm', items: 5, shards: 1 },
          totals: { generated: 9, parsed: 8, rejected: 1, failed: 0, exactDuplicates: 2, nearDuplicates: 1, kept: 5 },
          passes: [],
          rejects: ['datasets/c/rejects.jsonl'],
        },
      },
    ],
    models: [{ label: 'base', role: 'policy', version: { version: 'v0' } }],
  };

  it('has the step table, the corpus counts and the spend with cost', () => {
    const { markdown, spendBars } = experimentReport(input);
    expect(markdown).toContain('| synthesize-math | done | 300 | 1000 |  |');
    expect(markdown).toContain('| sft | skipped | 0 | — | skipStep signal |');
    expect(markdown).toContain('| math | 9 | 8 | 1 | 0 | 2 | 1 | 5 |');
    expect(markdown).toContain('| synthesize-math | promptGenerator | main | m | 3 | 100 | 200 | 0.0009 |');
    expect(markdown).toContain('Tokens in all: 300 (promptGenerator 300). Budget: total 5000.');
    expect(spendBars).toEqual([{ label: 'synthesize-math', bars: [{ value: 300 }] }]);
  });

  it('renders as HTML with its tables, code and images, escaping the text', () => {
    const html = markdownToHtml(
      '# T <x>\n\nSome `a<b>` and **bold**.\n\n| a | b |\n| --- | --- |\n| 1 | `2` |\n\n- item\n\n![plot](p.png)',
      'T',
    );
    expect(html).toContain('<h1>T &lt;x&gt;</h1>');
    expect(html).toContain('<p>Some <code>a&lt;b&gt;</code> and <strong>bold</strong>.</p>');
    expect(html).toContain(
      '<table>\n<tr><th>a</th><th>b</th></tr>\n<tr><td>1</td><td><code>2</code></td></tr>\n</table>',
    );
    expect(html).toContain('<ul>\n<li>item</li>\n</ul>');
    expect(html).toContain('<img alt="plot" src="p.png">');
  });
});
