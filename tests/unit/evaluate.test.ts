// Evaluation's pieces below the workflow: the two math scoring modes, the cells of the benchmark files (shipped
// sets, LiveCodeBench's layout with md5-checked test files, a user's JSONL with bad lines), test loading, code
// scoring in the sandbox, the scorer version and the input checks.
import { createHash } from 'node:crypto';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DatasetStore } from '../../activities/datasets/store';
import { mathVerdicts } from '../../activities/eval/operations';
import { createEvaluationPrepareActivities, type PrepareEvaluationResult } from '../../activities/eval/prepare';
import { cellScores } from '../../activities/eval/summarize';
import { loadTests } from '../../activities/eval/tests';
import { preparedOperation } from '../../activities/registry';
import { SandboxConfigSchema } from '../../domain/platform/config';
import {
  EvaluateInputSchema,
  ScorerSchema,
  scorerVersion,
  type EvalCell,
  type ScoredCell,
} from '../../domain/evaluate';

describe('math scoring modes', () => {
  it('strict takes the last box after </think>; qwen-parity reads the whole text with the answer phrase and last number', () => {
    const cases: Array<[string, string, boolean, boolean]> = [
      // completion, reference, strict, parity
      ['Think.\n</think>\n\n$\\boxed{12}$', '12', true, true],
      ['Think.\n</think>\n\n$\\boxed{0.5}$', '\\frac{1}{2}', true, true],
      ['Think \\boxed{5} maybe, but then', '5', false, true], // cut while thinking: a draft box
      ['Think.\n</think>\n\nThe answer is 5.', '5', false, true], // no box after the reasoning
      ['Think.\n</think>\n\nSo we get 7', '7', false, true], // only a last number
      ['Think.\n</think>\n\n$\\boxed{6}$', '5', false, false],
      ['I am not sure.', '3', false, false],
      ['\\boxed{3} first, then </think> the box is $\\boxed{4}$', '3', false, false],
    ];
    for (const [completion, reference, strict, parity] of cases) {
      const v = mathVerdicts(completion, reference);
      expect([completion, v.strict.correct, v.parity.correct]).toEqual([completion, strict, parity]);
    }
    expect(mathVerdicts('x</think>$\\boxed{12}$', '12').strict.extracted).toBe('12');
    expect(mathVerdicts('no end \\boxed{12}', '12').strict.extracted).toBe('');
  });

  it('clusters the answers of a problem for maj@k, the primary mode deciding', () => {
    const cell = (run: number, strict: string, parity: string, reference = '2'): ScoredCell => ({
      id: `x#${run}`,
      model: 'a',
      benchmark: 'b',
      kind: 'math',
      problem: 'p',
      run,
      seed: run,
      correct: strict === reference,
      answered: strict !== '',
      truncated: false,
      outputTokens: 10,
      latencyMs: 1,
      reason: '',
      strict: { correct: strict === reference, extracted: strict },
      parity: { correct: parity === reference, extracted: parity },
      scorer: 'v',
    });
    const rows = [cell(1, '\\frac{4}{2}', '2'), cell(0, '2', '2'), cell(2, '', '3'), cell(3, '5', '5')];
    const strict = cellScores(rows, 'strict');
    expect(strict.map((c) => [c.run, c.answerKey, c.answered])).toEqual([
      [0, 'c0', true],
      [1, 'c0', true],
      [2, null, false],
      [3, 'c1', true],
    ]);
    const parity = cellScores(rows, 'qwen-parity');
    expect(parity.map((c) => c.correct)).toEqual([true, true, false, false]);
  });
});

describe('the cells of an evaluation', () => {
  let dir: string;
  let store: DatasetStore;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'eval-unit-'));
    store = new DatasetStore(path.join(dir, 'store'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const prepare = (benchmarks: unknown[], output: string, runs = { math: 2, codeforces: 3, code: 1 }) =>
    new MockActivityEnvironment().run(createEvaluationPrepareActivities(store).prepareEvaluation, {
      name: 'u',
      models: [
        { label: 'a', role: 'policy' as const },
        { label: 'b', role: 'teacher' as const, model: 'm-b' },
      ],
      benchmarks: benchmarks as never,
      seed: 40,
      runs,
      output,
      shardSize: 50,
    }) as Promise<PrepareEvaluationResult>;
  const cellsOf = async (ref: PrepareEvaluationResult['cells']) => {
    const out: EvalCell[] = [];
    for await (const r of store.readAll(ref)) out.push(r as EvalCell);
    return out;
  };

  it('makes models × problems × runs cells from the shipped sets, with answers, test references and problem ids', async () => {
    const r = await prepare(['aime24', 'codeforces'], 'u/cells-shipped');
    expect(r.benchmarks.map((b) => [b.name, b.kind, b.problems, b.rejected, b.runs])).toEqual([
      ['aime24', 'math', 30, 0, 2],
      ['codeforces', 'code', 408, 0, 3],
    ]);
    expect(r.cells.items).toBe(2 * (30 * 2 + 408 * 3));
    const cells = await cellsOf(r.cells);
    const first = cells[0]!;
    expect(first).toMatchObject({
      id: 'a/aime24/0#0',
      model: 'a',
      target: { role: 'policy' },
      benchmark: 'aime24',
      kind: 'math',
      problem: '0',
      run: 0,
      seed: 40,
      templated: true,
    });
    expect(first.answer).toMatch(/^\d+$/);
    const cf = cells.find((c) => c.benchmark === 'codeforces' && c.model === 'b')!;
    expect(cf).toMatchObject({
      id: 'b/codeforces/1971A#0',
      problemId: '1971A',
      target: { role: 'teacher', model: 'm-b' },
    });
    expect(cf.tests).toMatchObject({ kind: 'line', index: 0 });
    const { tests } = await loadTests(cf.tests!);
    expect(tests.length).toBeGreaterThan(0);
  });

  it('reads LiveCodeBench test files by md5 and a user JSONL, setting bad lines aside with file, line and reason', async () => {
    const testsDir = path.join(dir, 'lcb-tests');
    mkdirSync(testsDir, { recursive: true });
    const io = { input_output: JSON.stringify({ inputs: ['[1, 2]'], outputs: ['3'], fn_name: 'add' }) };
    const body = JSON.stringify(io);
    writeFileSync(path.join(testsDir, '600.json'), body);
    writeFileSync(path.join(testsDir, '601.json'), body);
    const md5 = createHash('md5').update(body).digest('hex');
    const lcb = path.join(dir, 'lcb.jsonl');
    writeFileSync(
      lcb,
      [
        { global_id: 600, prompt: 'Add two numbers.', tests: { fname: '600.json', md5 } },
        { global_id: 601, prompt: 'Add again.', tests: { fname: '601.json', md5: 'f'.repeat(32) } },
        { global_id: 602, prompt: 'Missing file.', tests: { fname: '602.json', md5 } },
      ]
        .map((x) => JSON.stringify(x))
        .join('\n') + '\n',
    );
    const mine = path.join(dir, 'mine.jsonl');
    writeFileSync(
      mine,
      [
        '{"id": "q1", "prompt": "What is 1+1?", "answer": 2}',
        'not json',
        '{"id": "q2", "prompt": "No answer"}',
        '{"id": "q1", "prompt": "dup", "answer": 1}',
      ].join('\n') + '\n',
    );
    const r = await prepare(
      [
        { name: 'lcb-v5', file: lcb, testsDir },
        { name: 'mine', kind: 'math', file: mine },
      ],
      'u/cells-files',
    );
    expect(r.benchmarks.map((b) => [b.name, b.problems, b.rejected, b.runs])).toEqual([
      ['lcb-v5', 1, 2, 1],
      ['mine', 1, 3, 2],
    ]);
    const rejects = (await import('node:fs')).readFileSync(store.resolve(r.rejects!), 'utf8').trim().split('\n');
    const reasons = rejects.map((l) => JSON.parse(l) as { reason: string; source: { file: string; line: number } });
    expect(reasons.map((x) => [path.basename(x.source.file), x.source.line])).toEqual([
      ['lcb.jsonl', 2],
      ['lcb.jsonl', 3],
      ['mine.jsonl', 2],
      ['mine.jsonl', 3],
      ['mine.jsonl', 4],
    ]);
    expect(reasons[0]!.reason).toMatch(/tests\.md5: .* has md5 [0-9a-f]{32}, the problems file says f+/);
    expect(reasons[1]!.reason).toMatch(/602\.json does not exist/);
    expect(reasons[2]!.reason).toMatch(/line 2 is not a JSON object/);
    expect(reasons[3]!.reason).toMatch(/field answer/);
    expect(reasons[4]!.reason).toMatch(/"q1" appears twice/);
    const cells = await cellsOf(r.cells);
    const lcbCell = cells.find((c) => c.benchmark === 'lcb-v5')!;
    expect(lcbCell).toMatchObject({ problem: '600', templated: false, tests: { kind: 'file', md5 } });
    expect(await loadTests(lcbCell.tests!)).toEqual({ tests: [{ input: '[1, 2]', output: '3' }], fnName: 'add' });
    expect(cells.find((c) => c.benchmark === 'mine')).toMatchObject({ problem: 'q1', answer: '2' });
    // a test file changed after the cells were made is refused where it is scored
    writeFileSync(path.join(testsDir, '600.json'), body.replace('3', '4'));
    await expect(
      loadTests({ kind: 'file', file: path.join(testsDir, '600.json'), md5: 'a'.repeat(32) }),
    ).rejects.toThrow(/md5 [0-9a-f]{32}, the problems file says a+/);
  });

  it('scores code cells in the sandbox under LiveCodeBench rules, call-based when the tests name a function', async () => {
    const sandbox = SandboxConfigSchema.parse({ concurrency: 1 });
    const op = preparedOperation('scoreCell', { sandbox: () => sandbox });
    const scorer = ScorerSchema.parse({ timeLimitSeconds: 5 });
    const params = op.parseParams({ scorer, version: scorerVersion(scorer) });
    const testFile = path.join(dir, 'add.json');
    const body = JSON.stringify({ input_output: { inputs: ['1\n2'], outputs: ['3'], fn_name: 'add' } });
    writeFileSync(testFile, body);
    const md5 = createHash('md5').update(body).digest('hex');
    const cell = (completion: string) => ({
      id: 'a/lcb/1#0',
      model: 'a',
      target: { role: 'policy' },
      benchmark: 'lcb',
      kind: 'code',
      problem: '1',
      run: 0,
      seed: 0,
      templated: false,
      prompt: 'p',
      tests: { kind: 'file', file: testFile, md5 },
      completion,
      finishReason: 'stop',
      outputTokens: 5,
      promptTokens: 5,
      servedBy: 'm',
      latencyMs: 3,
      attempt: 1,
    });
    const ctx = { stage: 's', sourceId: 'x', shard: 0, line: 1, attempt: 1, signal: new AbortController().signal };
    const run = async (completion: string) => {
      const out = await op.run(cell(completion), params, ctx);
      return (out as { rows: ScoredCell[] }).rows[0]!;
    };
    const right = await run(
      '</think>\n```python\nclass Solution:\n    def add(self, a, b):\n        return a + b\n```',
    );
    expect([right.correct, right.answered, right.tests]).toEqual([true, true, { passed: 1, total: 1 }]);
    const wrong = await run(
      '</think>\n```python\nclass Solution:\n    def add(self, a, b):\n        return a - b\n```',
    );
    expect([wrong.correct, wrong.reason]).toEqual([false, '0/1 tests pass']);
    const none = await run('</think>\nNo code here.');
    expect([none.correct, none.answered, none.reason]).toEqual([false, false, 'no program in the completion']);
  });
});

describe('the scorer version and the input', () => {
  it('changes with the scoring settings only', () => {
    const v = (s: Record<string, unknown>) => scorerVersion(ScorerSchema.parse(s));
    expect(v({})).toBe(v({ math: 'strict', timeLimitSeconds: 30 }));
    expect(v({ math: 'qwen-parity' })).not.toBe(v({}));
    expect(v({ timeLimitSeconds: 10 })).not.toBe(v({}));
    expect(v({})).toMatch(/^v\d+-[0-9a-z]+$/);
  });

  it('refuses a label or a benchmark given twice, naming the field', () => {
    const base = { name: 'e', models: [{ label: 'a' }], benchmarks: ['aime24'] };
    expect(() => EvaluateInputSchema.parse({ ...base, models: [{ label: 'a' }, { label: 'a' }] })).toThrow(
      /label \\?"a\\?" is used twice/,
    );
    expect(() => EvaluateInputSchema.parse({ ...base, benchmarks: ['aime24', 'aime24'] })).toThrow(/given twice/);
    expect(() => EvaluateInputSchema.parse({ ...base, benchmarks: ['aime26'] })).toThrow();
    const parsed = EvaluateInputSchema.parse(base);
    expect(parsed.sampling).toEqual({ temperature: 0.6, topP: 0.95, maxTokens: 32768 });
    expect(parsed.runs).toEqual({ math: 16, codeforces: 8, code: 1 });
  });
});
