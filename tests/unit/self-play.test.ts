// Self-play (spec §3) without a model or a sandbox:
//  - domain/self-play.ts: test-case completion parsing, the difficulty rule, the think-block fix and trace split,
//    finding the statement inside a formatted prompt, and the workflow input schema (defaults, promptFiles/prompts);
//  - domain/contamination.ts: exact and 13-gram overlap with benchmark problems (synthetic texts and the real
//    promptcot2_aime24_test.jsonl);
//  - activities/self-play/validity.ts: which rollouts may become training responses;
//  - activities/operations/self-play.ts: completionText, prepareSelfPlayPrompt (bad records, the math prompt
//    pattern, contamination, a clean prompt) and scoreRollout on math rows;
//  - activities/self-play/pairs.ts: buildSelfPlayPairs on a small scored dataset (difficulty and validity rules,
//    the round report adding up, the pair row format, determinism under a seed, run-once).
import { existsSync, promises as fsp, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DatasetStore } from '../../activities/datasets/store';
import { benchmarkFile } from '../../activities/eval/benchmark-files';
import { writeDataset } from '../../activities/datasets/write';
import { preparedOperation } from '../../activities/registry';
import { completionText } from '../../activities/inference/chat-samples';
import type { ItemContext, ItemOutcome } from '../../activities/stage/operation';
import { formatProblem, promptWrappers } from '../../activities/prompts/problems';
import { contaminationIndex } from '../../activities/self-play/contamination-index';
import {
  createSelfPlayActivities,
  type BuildPairsInput,
  type BuildPairsResult,
  type RoundReport,
} from '../../activities/self-play/pairs';
import { rolloutValidity } from '../../activities/self-play/validity';
import { buildContaminationIndex, findContamination } from '../../domain/contamination';
import type { DatasetRef } from '../../domain/core/dataset';
import {
  difficultyDecision,
  fixThinkCompletion,
  parseTestCaseCompletion,
  problemOfPrompt,
  SelfPlayInputSchema,
  splitTrace,
} from '../../domain/self-play';
import { testConfig } from '../support/config';
import { tempDir } from '../support/files';
import { STORE_BACKENDS, useStoreBackend } from '../support/stores';

const AIME24 = benchmarkFile('aime24');

function ctx(): ItemContext {
  return { stage: 't', sourceId: 'x', shard: 0, line: 1, attempt: 1, signal: new AbortController().signal };
}

function chatWrapped(text: string): string {
  return `<|im_start|>user\n${text}<|im_end|>\n<|im_start|>assistant\n`;
}

function rowsOf(outcome: ItemOutcome): Array<Record<string, unknown>> {
  if (!('rows' in outcome)) throw new Error(`expected rows, got reject: ${outcome.reject}`);
  return outcome.rows;
}

function rejectOf(outcome: ItemOutcome): { reject: string; detail?: unknown } {
  if (!('reject' in outcome)) throw new Error(`expected a reject, got ${JSON.stringify(outcome.rows)}`);
  return outcome;
}

// ---------------------------------------------------------------------------------------------------------------------
// domain/self-play.ts

describe('parseTestCaseCompletion', () => {
  const block = (json: string) => '```json\n' + json + '\n```';

  it('reads the first ```json block after the first </think> with string input and output', () => {
    const completion = `<think>maybe ${block('{"input": "wrong", "output": "wrong"}')}</think>\nHere is a test:\n${block('{"input": "3\\n1 2 3\\n", "output": "6\\n"}')}\n${block('{"input": "x", "output": "y"}')}`;
    expect(parseTestCaseCompletion(completion)).toEqual({ ok: true, test: { input: '3\n1 2 3\n', output: '6\n' } });
  });

  it('reads the whole text when there is no think block at all', () => {
    expect(parseTestCaseCompletion(`Test:\n${block('{"input": "1", "output": "2"}')}`)).toEqual({
      ok: true,
      test: { input: '1', output: '2' },
    });
  });

  it('drops extra fields', () => {
    const r = parseTestCaseCompletion(
      `</think>${block('{"input": "1", "output": "2", "explanation": "doubles", "id": 7}')}`,
    );
    expect(r).toEqual({ ok: true, test: { input: '1', output: '2' } });
    if (r.ok) expect(Object.keys(r.test).sort()).toEqual(['input', 'output']);
  });

  it('refuses structured input or output, naming the field', () => {
    const objectInput = parseTestCaseCompletion(`</think>${block('{"input": {"n": 3}, "output": "6"}')}`);
    expect(objectInput.ok).toBe(false);
    if (!objectInput.ok) expect(objectInput.reason).toMatch(/"input" is not a string/);
    const numberOutput = parseTestCaseCompletion(`</think>${block('{"input": "3", "output": 6}')}`);
    expect(numberOutput.ok).toBe(false);
    if (!numberOutput.ok) expect(numberOutput.reason).toMatch(/"output" is not a string/);
    const arrayInput = parseTestCaseCompletion(`</think>${block('{"input": ["3"], "output": "6"}')}`);
    expect(arrayInput.ok).toBe(false);
    if (!arrayInput.ok) expect(arrayInput.reason).toMatch(/"input" is not a string/);
  });

  it('refuses a missing field, naming it', () => {
    const r = parseTestCaseCompletion(`</think>${block('{"input": "3"}')}`);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/no "output"/);
  });

  it('refuses invalid JSON, a non-object and a completion without a block', () => {
    const bad = parseTestCaseCompletion(`</think>${block('{"input": "3", "output": }')}`);
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.reason).toMatch(/does not parse/);
    const notObject = parseTestCaseCompletion(`</think>${block('["3", "6"]')}`);
    expect(notObject.ok).toBe(false);
    if (!notObject.ok) expect(notObject.reason).toMatch(/not an object/);
    const none = parseTestCaseCompletion('</think>input 3, output 6');
    expect(none.ok).toBe(false);
    if (!none.ok) expect(none.reason).toMatch(/no ```json block/);
  });

  it('refuses a completion whose thinking never finished, even with a block inside it', () => {
    const r = parseTestCaseCompletion(`<think>let me write ${block('{"input": "1", "output": "2"}')}`);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/thinking not finished/);
  });
});

describe('difficultyDecision', () => {
  const paper = { maxPassRate: 0.5, keepBoundary: false };
  const script = { maxPassRate: 0.5, keepBoundary: true };

  it('has no results without decided rollouts, and is unsolved without a pass', () => {
    expect(difficultyDecision(0, 0, paper)).toEqual({ keep: false, rule: 'no-results' });
    expect(difficultyDecision(0, 8, paper)).toEqual({ keep: false, rule: 'unsolved' });
  });

  it('drops 4/8 as too easy under the paper rule and keeps 3/8', () => {
    expect(difficultyDecision(4, 8, paper)).toEqual({ keep: false, rule: 'too-easy' });
    expect(difficultyDecision(3, 8, paper)).toEqual({ keep: true });
    expect(difficultyDecision(1, 8, paper)).toEqual({ keep: true });
    expect(difficultyDecision(8, 8, paper)).toEqual({ keep: false, rule: 'too-easy' });
  });

  it('keeps the boundary with keepBoundary (the published script) and still drops above it', () => {
    expect(difficultyDecision(4, 8, script)).toEqual({ keep: true });
    expect(difficultyDecision(5, 8, script)).toEqual({ keep: false, rule: 'too-easy' });
  });

  it('counts the rate over decided rollouts only', () => {
    // 3 passes of 6 decided (2 undecided of 8) is exactly one half
    expect(difficultyDecision(3, 6, paper)).toEqual({ keep: false, rule: 'too-easy' });
    expect(difficultyDecision(3, 6, script)).toEqual({ keep: true });
  });
});

describe('fixThinkCompletion and splitTrace', () => {
  it('removes a leading <think> (after trimming) and puts <think>\\n in front', () => {
    expect(fixThinkCompletion('  <think>abc</think>done  ')).toBe('<think>\nabc</think>done');
    expect(fixThinkCompletion('abc</think>done')).toBe('<think>\nabc</think>done');
    expect(fixThinkCompletion('<think>\nabc</think>done')).toBe('<think>\nabc</think>done');
  });

  it('splits a fixed completion into thinking and answer', () => {
    expect(splitTrace(fixThinkCompletion('step one</think>The answer is 5.'))).toEqual({
      ok: true,
      thinking: '\nstep one',
      answer: 'The answer is 5.',
    });
  });

  it('refuses a completion without </think>', () => {
    expect(splitTrace(fixThinkCompletion('still thinking... \\boxed{5}'))).toEqual({
      ok: false,
      problem: 'no-think-block',
    });
  });

  it('refuses empty thinking', () => {
    expect(splitTrace(fixThinkCompletion('<think>  \n </think>The answer is 5.'))).toEqual({
      ok: false,
      problem: 'empty-think',
    });
    expect(splitTrace(fixThinkCompletion('</think>The answer is 5.'))).toEqual({ ok: false, problem: 'empty-think' });
  });

  it('refuses a second <think> or </think>', () => {
    expect(splitTrace(fixThinkCompletion('a <think> b</think>answer'))).toEqual({
      ok: false,
      problem: 'extra-think-tag',
    });
    expect(splitTrace(fixThinkCompletion('<think><think>a</think>answer'))).toEqual({
      ok: false,
      problem: 'extra-think-tag',
    });
    expect(splitTrace(fixThinkCompletion('a</think>answer</think> more'))).toEqual({
      ok: false,
      problem: 'extra-think-tag',
    });
    expect(splitTrace(fixThinkCompletion('a</think>answer <think>again'))).toEqual({
      ok: false,
      problem: 'extra-think-tag',
    });
  });

  it('refuses Han or Hangul in the answer part but allows them in the thinking', () => {
    expect(splitTrace(fixThinkCompletion('think</think>答案是 5'))).toEqual({ ok: false, problem: 'mixed-language' });
    expect(splitTrace(fixThinkCompletion('think</think>정답은 5'))).toEqual({ ok: false, problem: 'mixed-language' });
    const r = splitTrace(fixThinkCompletion('先算一下, 그리고 확인</think>The answer is 5.'));
    expect(r).toEqual({ ok: true, thinking: '\n先算一下, 그리고 확인', answer: 'The answer is 5.' });
  });
});

describe('problemOfPrompt', () => {
  const codeStatement = 'Given n integers, print their sum.\n\nInput: the first line holds n, the second the numbers.';
  const mathStatement = 'Let $x$ be a real number with $x^2 = 4$ and $x > 0$. Find $x$.';

  it('takes the code template off a code prompt', () => {
    const prompt = formatProblem('code', codeStatement);
    expect(prompt).not.toBe(codeStatement);
    expect(problemOfPrompt(prompt, promptWrappers())).toBe(codeStatement);
  });

  it('takes the math template off a math prompt', () => {
    const prompt = formatProblem('math', mathStatement);
    expect(prompt).toContain('Please reason step by step');
    expect(problemOfPrompt(prompt, promptWrappers())).toBe(mathStatement);
  });

  it('leaves a bare statement as it is (trimmed)', () => {
    expect(problemOfPrompt(`  ${mathStatement}\n`, promptWrappers())).toBe(mathStatement);
  });
});

describe('SelfPlayInputSchema', () => {
  it('fills the defaults of the paper', () => {
    const v = SelfPlayInputSchema.parse({ name: 'sp', promptFiles: ['prompts.jsonl'] });
    expect(v.k).toBe(8);
    expect(v.rollouts.temperature).toBe(1.2);
    expect(v.testCases.rounds).toBe(4);
    expect(v.testCases.temperature).toBe(0.6);
    expect(v.testCases.minTests).toBe(3);
    expect(v.difficulty).toEqual({ maxPassRate: 0.5, keepBoundary: false });
    expect(v.contamination.ngram).toBe(13);
    expect(v.seed).toBe(0);
  });

  it('takes a dataset of prompts instead of files', () => {
    const prompts: DatasetRef = { name: 'prompts', manifest: 'datasets/prompts/manifest.json', items: 3, shards: 1 };
    expect(SelfPlayInputSchema.parse({ name: 'sp', prompts }).prompts).toEqual(prompts);
  });

  it('refuses both or neither of promptFiles and prompts, naming promptFiles', () => {
    const prompts: DatasetRef = { name: 'prompts', manifest: 'datasets/prompts/manifest.json', items: 3, shards: 1 };
    for (const input of [{ name: 'sp', promptFiles: ['a.jsonl'], prompts }, { name: 'sp' }]) {
      const r = SelfPlayInputSchema.safeParse(input);
      expect(r.success).toBe(false);
      if (!r.success) expect(r.error.issues.some((i) => i.path.join('.') === 'promptFiles')).toBe(true);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------------
// domain/contamination.ts

describe('contamination', () => {
  const problem =
    'Let ABC be a triangle with AB = 13, BC = 14 and CA = 15. A circle tangent to AB and AC has its center on BC. Find the radius of the circle.';
  const other =
    'How many positive divisors does 2024 have? Give the count of all such divisors including 1 and 2024 itself, as an integer.';
  const index = buildContaminationIndex(
    [
      {
        where: 'bench.jsonl:1',
        text: chatWrapped(`${problem}\nPlease reason step by step, and put your final answer within \\boxed{}.`),
      },
      { where: 'bench.jsonl:2', text: other },
      { where: 'bench.jsonl:3', text: 'Compute 2 + 3.' },
    ],
    13,
  );

  it('finds the same problem under another template, case and punctuation', () => {
    const variant =
      'let abc be a triangle with ab=13, bc=14, and ca=15; a circle tangent to ab and ac has its center on bc -- find the radius of the circle!!';
    expect(findContamination(variant, index)).toEqual({ rule: 'contamination-exact', benchmark: 'bench.jsonl:1' });
    expect(findContamination(chatWrapped(formatProblem('math', problem)), index)).toEqual({
      rule: 'contamination-exact',
      benchmark: 'bench.jsonl:1',
    });
    expect(findContamination(problem, index)).toEqual({ rule: 'contamination-exact', benchmark: 'bench.jsonl:1' });
  });

  it('finds a shared run of 13 words in an otherwise different prompt, naming the n-gram', () => {
    const prompt =
      'Alice asks: give the count of all such divisors including 1 and 2024 itself, as an integer? She then squares every prime she meets along the way.';
    expect(findContamination(prompt, index)).toEqual({
      rule: 'contamination-ngram',
      benchmark: 'bench.jsonl:2',
      ngram: 'give the count of all such divisors including 1 and 2024 itself as',
    });
    // twelve shared words are not enough
    expect(
      findContamination(
        'Alice asks: the count of all such divisors including 1 and 2024 itself, as a fraction?',
        index,
      ),
    ).toBeNull();
  });

  it('finds nothing in an unrelated prompt', () => {
    expect(
      findContamination(
        'A farmer has seventeen sheep and all but nine run away. How many sheep does the farmer still have left today?',
        index,
      ),
    ).toBeNull();
    expect(findContamination('', index)).toBeNull();
  });

  it('flags a short statement only when a benchmark text equals it', () => {
    // under 13 words and inside a long benchmark problem: no evidence
    expect(findContamination('Find the radius of the circle.', index)).toBeNull();
    // equal (as words) to a short benchmark text: exact
    expect(findContamination('compute 2+3', index)).toEqual({
      rule: 'contamination-exact',
      benchmark: 'bench.jsonl:3',
    });
  });

  it('reports an exact match against the benchmark text that holds it, not the first owner of a shared n-gram', () => {
    const S = Array.from({ length: 14 }, (_, i) => `s${i}`);
    const A = [...S.slice(0, 13), 'gap', ...S.slice(1)].join(' ');
    const B = ['intro', ...S, 'outro'].join(' ');
    const twoTexts = buildContaminationIndex(
      [
        { where: 'A', text: A },
        { where: 'B', text: B },
      ],
      13,
    );
    expect(findContamination(S.join(' '), twoTexts)).toEqual({ rule: 'contamination-exact', benchmark: 'B' });
  });

  it('still finds a problem that the benchmark files repeat (copies are one text, not a template)', () => {
    const copies = [problem, problem, problem, other, 'Compute 2 + 3.'].map((text, i) => ({
      where: `dup:${i + 1}`,
      text,
    }));
    expect(findContamination(problem, buildContaminationIndex(copies, 13))).toEqual({
      rule: 'contamination-exact',
      benchmark: 'dup:1',
    });
  });

  it('leaves template text out of the index: a new problem in the benchmark template is clean', () => {
    // the template every benchmark problem carries is not evidence of contamination
    const aime = readFileSync(AIME24, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '');
    const aimeIndex = buildContaminationIndex(
      aime.map((l, i) => ({ where: `aime24:${i + 1}`, text: (JSON.parse(l) as { prompt: string }).prompt })),
      13,
    );
    const fresh =
      'A bag holds 7 red and 9 blue marbles; two are drawn without replacement. The probability both are red is $\\tfrac{m}{n}$ in lowest terms. Find $m+n$.';
    expect(findContamination(formatProblem('math', fresh), aimeIndex)).toBeNull();
    expect(findContamination(chatWrapped(formatProblem('math', fresh)), aimeIndex)).toBeNull();
    const codeforces = readFileSync(benchmarkFile('codeforces'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '');
    const cfIndex = buildContaminationIndex(
      codeforces.map((l, i) => ({ where: `cf:${i + 1}`, text: (JSON.parse(l) as { prompt: string }).prompt })),
      13,
    );
    const code = chatWrapped(
      formatProblem('code', 'Given an integer array, print the sum of its squares modulo a prime chosen by the judge.'),
    );
    expect(findContamination(code, cfIndex)).toBeNull();
    // while a real benchmark problem under our template is still found
    const statement = /^<\|im_start\|>user\n([\s\S]*?)<\|im_end\|>/.exec(
      (JSON.parse(codeforces[2]!) as { prompt: string }).prompt,
    )![1]!;
    expect(findContamination(formatProblem('code', statement), cfIndex)?.benchmark).toBe('cf:3');
  });

  describe('against promptcot2_aime24_test.jsonl', () => {
    const lines = readFileSync(AIME24, 'utf8').split('\n');
    const records = lines.map((text, i) => ({ line: i + 1, text })).filter((l) => l.text.trim() !== '');
    const base = path.basename(AIME24);
    const aimeIndex = buildContaminationIndex(
      records.map((l) => ({ where: `${base}:${l.line}`, text: (JSON.parse(l.text) as { prompt: string }).prompt })),
      13,
    );
    const pick = records[4]!;
    const chatPrompt = (JSON.parse(pick.text) as { prompt: string }).prompt;
    const inner = /^<\|im_start\|>user\n([\s\S]*?)<\|im_end\|>/.exec(chatPrompt)![1]!;
    const statement = problemOfPrompt(inner, promptWrappers());
    const formatted = formatProblem('math', statement);

    it('has many problems, each indexed', () => {
      expect(records.length).toBeGreaterThanOrEqual(30);
      expect(aimeIndex.texts).toHaveLength(records.length);
      expect(statement.length).toBeGreaterThan(50);
      expect(statement).not.toMatch(/Please reason step by step|<\|im_/);
    });

    it('finds a benchmark problem re-formatted with the math template, naming its file and line', () => {
      const hit = { rule: 'contamination-exact', benchmark: `${base}:${pick.line}` };
      expect(findContamination(formatted, aimeIndex)).toEqual(hit);
      expect(findContamination(problemOfPrompt(formatted, promptWrappers()), aimeIndex)).toEqual(hit);
    });

    it('gives the same hit through the index the activities load from the file', async () => {
      const loaded = await contaminationIndex([AIME24], 13);
      expect(loaded.texts).toHaveLength(records.length);
      expect(findContamination(statement, loaded)).toEqual({
        rule: 'contamination-exact',
        benchmark: `${base}:${pick.line}`,
      });
    });
  });
});

// ---------------------------------------------------------------------------------------------------------------------
// activities/self-play/validity.ts

describe('rolloutValidity', () => {
  it('accepts a math completion with a boxed answer, as a response starting with <think>\\n', () => {
    const r = rolloutValidity('reasoning</think>The answer is \\boxed{5}.', 'math');
    expect(r).toEqual({ valid: true, response: '<think>\nreasoning</think>The answer is \\boxed{5}.' });
    if (r.valid) expect(r.response.startsWith('<think>\n')).toBe(true);
  });

  it('refuses a math completion without any final answer', () => {
    expect(rolloutValidity('reasoning</think>I could not solve it.', 'math')).toEqual({
      valid: false,
      problem: 'no-final-answer',
    });
  });

  it('accepts a code completion with a fenced program after </think> and refuses one without', () => {
    const good = rolloutValidity('plan</think>Here:\n```python\nprint(sum(map(int, input().split())))\n```\n', 'code');
    expect(good.valid).toBe(true);
    if (good.valid) expect(good.response.startsWith('<think>\nplan</think>')).toBe(true);
    expect(rolloutValidity('plan</think>print(sum(map(int, input().split())))', 'code')).toEqual({
      valid: false,
      problem: 'no-program',
    });
    // a program only inside the thinking does not count
    expect(rolloutValidity('```python\nprint(1)\n```</think>done', 'code')).toEqual({
      valid: false,
      problem: 'no-program',
    });
  });

  it('reports trace problems before answer problems', () => {
    expect(rolloutValidity('no end \\boxed{5}', 'math')).toEqual({ valid: false, problem: 'no-think-block' });
    expect(rolloutValidity('x</think>答案 \\boxed{5}', 'math')).toEqual({ valid: false, problem: 'mixed-language' });
  });
});

// ---------------------------------------------------------------------------------------------------------------------
// activities/operations/self-play.ts

describe('completionText', () => {
  it('puts separately returned reasoning back inside think tags', () => {
    const text = completionText({ text: 'The answer is \\boxed{2}.', finishReason: 'stop', reasoning: 'one plus one' });
    expect(text).toBe('<think>\none plus one</think>The answer is \\boxed{2}.');
    expect(splitTrace(fixThinkCompletion(text)).ok).toBe(true);
  });

  it('keeps a completion without separate reasoning as it is', () => {
    expect(completionText({ text: '<think>a</think>b', finishReason: 'length' })).toBe('<think>a</think>b');
  });
});

describe('prepareSelfPlayPromptOperation', () => {
  const op = preparedOperation('prepareSelfPlayPrompt');
  const tmp = tempDir('self-play-prepare');
  afterAll(() => tmp.remove());

  const statement =
    'Let ABC be a triangle with AB = 13, BC = 14 and CA = 15. A circle tangent to AB and AC has its center on BC. Find the radius of the circle.';

  it('rejects a record without a source, or with an unknown one, naming the field', async () => {
    const params = op.parseParams({});
    const missing = rejectOf(await op.run({ id: 'a', prompt: formatProblem('math', statement) }, params, ctx()));
    expect(missing.reject).toMatch(/^field source:/);
    const unknown = rejectOf(
      await op.run({ id: 'a', source: 'Web-Math', prompt: formatProblem('math', statement) }, params, ctx()),
    );
    expect(unknown.reject).toMatch(/^field source:/);
    const noPrompt = rejectOf(await op.run({ id: 'a', source: 'PromptCoT-Math' }, params, ctx()));
    expect(noPrompt.reject).toMatch(/^field prompt:/);
  });

  it('rejects a synthetic math prompt asking for a proof, and only a synthetic one', async () => {
    const params = op.parseParams({});
    const prompt = formatProblem('math', 'Let $n$ be a positive integer. Prove that $n^3 - n$ is divisible by 6.');
    const r = rejectOf(await op.run({ id: 'p', source: 'PromptCoT-Math', prompt }, params, ctx()));
    expect(r.detail).toMatchObject({ rule: 'math-prompt-pattern', pattern: 'prove that' });
    expect(r.reject).toMatch(/^math-prompt-pattern:/);
    expect(rowsOf(await op.run({ id: 'p', source: 'OpenSource-Math', prompt }, params, ctx()))).toHaveLength(1);
  });

  it('rejects a prompt whose statement is a benchmark problem', async () => {
    const bench = path.join(tmp.dir, 'bench.jsonl');
    writeFileSync(
      bench,
      JSON.stringify({
        prompt: chatWrapped(`${statement}\nPlease reason step by step, and put your final answer within \\boxed{}.`),
      }) + '\n',
    );
    const params = op.parseParams({ contamination: { benchmarkFiles: [bench] } });
    expect(params.contamination.ngram).toBe(13);
    const r = rejectOf(
      await op.run(
        { id: 'c', source: 'OpenSource-Math', prompt: formatProblem('math', statement.toUpperCase()) },
        params,
        ctx(),
      ),
    );
    expect(r.detail).toMatchObject({ rule: 'contamination-exact', benchmark: 'bench.jsonl:1' });
    expect(r.reject).toMatch(/^contamination-exact: overlaps bench\.jsonl:1/);
    // an unrelated prompt passes the same check
    const clean = rowsOf(
      await op.run(
        {
          id: 'd',
          source: 'OpenSource-Math',
          prompt: formatProblem(
            'math',
            'How many primes are less than fifty? Count them carefully and report the number.',
          ),
        },
        params,
        ctx(),
      ),
    );
    expect(clean).toHaveLength(1);
  });

  it('keeps a clean code prompt as one row with its domain and bare statement', async () => {
    const codeStatement =
      'Given n integers, print their sum.\n\nInput: the first line holds n, the second the numbers.';
    const prompt = formatProblem('code', codeStatement);
    const rows = rowsOf(
      await op.run({ id: 7, source: 'PromptCoT-Code', prompt, extra: 'ignored' }, op.parseParams(undefined), ctx()),
    );
    // the prompt stays as it is: the code template ends with a blank line, which the pair rows keep
    expect(rows).toEqual([{ id: '7', source: 'PromptCoT-Code', domain: 'code', prompt, problem: codeStatement }]);
  });

  it('takes the chat turn off a chat-formatted prompt, so the pair rows wrap it once', async () => {
    const statement = 'Given n integers, print the largest one.';
    const chat = `<|im_start|>user\n${formatProblem('code', statement)}<|im_end|>\n<|im_start|>assistant\n`;
    const rows = rowsOf(await op.run({ id: 'c', source: 'OpenSource-Code', prompt: chat }, op.parseParams({}), ctx()));
    expect(rows[0]).toMatchObject({ prompt: formatProblem('code', statement), problem: statement });
  });

  it('keeps the given problem, answer, tests and completions', async () => {
    const rows = rowsOf(
      await op.run(
        {
          id: 'm',
          source: 'OpenSource-Math',
          prompt: formatProblem('math', 'What is 6 times 7?'),
          problem: 'What is 6 * 7?',
          answer: 42,
          completions: ['<think>x</think>42'],
        },
        op.parseParams({}),
        ctx(),
      ),
    );
    expect(rows).toEqual([
      {
        id: 'm',
        source: 'OpenSource-Math',
        domain: 'math',
        prompt: formatProblem('math', 'What is 6 times 7?'),
        problem: 'What is 6 * 7?',
        answer: '42',
        completions: ['<think>x</think>42'],
      },
    ]);
  });
});

describe('scoreRolloutOperation on math rows', () => {
  const tmp = tempDir('self-play-score');
  afterAll(() => tmp.remove());
  const sandbox = testConfig({ address: '127.0.0.1:1', storageRoot: tmp.dir }).sandbox;
  const op = preparedOperation('scoreRollout', { sandbox: () => sandbox });
  const params = op.parseParams({});
  const row = { itemId: 'm1', domain: 'math', answer: '\\frac{1}{2}' };

  it('passes an equal boxed answer', async () => {
    const [scored] = rowsOf(await op.run({ ...row, completion: '<think>x</think> so \\boxed{0.5}' }, params, ctx()));
    expect(scored).toMatchObject({ ...row, verdict: 'pass', reward: 1, scoredBy: { stage: 't', attempt: 1 } });
    expect((scored!.score as { extracted: string }).extracted).toBeTruthy();
  });

  it('fails a different answer', async () => {
    const [scored] = rowsOf(await op.run({ ...row, completion: '<think>x</think> so \\boxed{0.25}' }, params, ctx()));
    expect(scored).toMatchObject({
      verdict: 'fail',
      reward: 0,
      score: { verdict: 'fail', reason: 'not equal to the reference' },
    });
  });

  it('fails unfinished thinking even when it holds the right answer', async () => {
    const [scored] = rowsOf(await op.run({ ...row, completion: '<think> unfinished \\boxed{1/2}' }, params, ctx()));
    expect(scored).toMatchObject({ verdict: 'fail', reward: 0 });
    expect((scored!.score as { reason: string }).reason).toMatch(/thinking not finished/);
  });

  it('fails a rollout cut off while thinking: a template-opened <think> leaves no tag, and the draft answer does not count', async () => {
    const cut = rowsOf(
      await op.run(
        { ...row, completion: 'so far \\boxed{1/2} but wait, let me re-check the', finishReason: 'length' },
        params,
        ctx(),
      ),
    );
    expect(cut[0]).toMatchObject({ verdict: 'fail', score: { reason: 'cut at max tokens while thinking' } });
    const tagless = rowsOf(
      await op.run({ ...row, completion: 'so far \\boxed{1/2}', finishReason: 'stop' }, params, ctx()),
    );
    expect(tagless[0]).toMatchObject({ verdict: 'fail' });
  });

  it('rejects a row that is not a rollout', async () => {
    const noItem = await op.run(
      { domain: 'math', answer: '1', completion: '<think>x</think>\\boxed{1}' },
      params,
      ctx(),
    );
    expect(rejectOf(noItem).reject).toMatch(/itemId/);
    const noCompletion = await op.run({ itemId: 'm1', domain: 'math', answer: '1' }, params, ctx());
    expect(rejectOf(noCompletion).reject).toMatch(/completion/);
  });
});

// ---------------------------------------------------------------------------------------------------------------------
// activities/self-play/pairs.ts

// On both dataset-store backends; with the object store the inputs are written on one host and the pairs built on
// another (an empty local folder), so they reach it only through the object store.
describe.each(STORE_BACKENDS)('buildSelfPlayPairs (%s store)', (kind) => {
  const backend = useStoreBackend(kind);
  const tmp = tempDir('self-play-pairs');
  afterAll(() => tmp.remove());
  let store: DatasetStore;
  let activities: ReturnType<typeof createSelfPlayActivities>;

  const promptOf = (item: string) =>
    formatProblem('math', `Problem ${item}: find the value of x when 3x = ${item.charCodeAt(0)}.`);
  const valid = (item: string, j: number, verdict: 'pass' | 'fail') =>
    `<think>\nwork on ${item} rollout ${j}</think> So the answer is \\boxed{${verdict === 'pass' ? 1 : 100 + j}}.`;

  /** 8 rollouts of one item: the verdicts in order, completions valid unless given. */
  function item(
    itemId: string,
    source: string,
    verdicts: Array<'pass' | 'fail'>,
    completion?: (j: number) => string | undefined,
  ) {
    return verdicts.map((verdict, j) => ({
      itemId,
      j,
      source,
      domain: 'math',
      prompt: promptOf(itemId),
      completion: completion?.(j) ?? valid(itemId, j, verdict),
      verdict,
    }));
  }
  const P = 'pass' as const;
  const F = 'fail' as const;
  const rows = [
    ...item('A', 'PromptCoT-Math', [F, P, F, F, P, F, F, F]), // kept: 2 chosen, 6 rejected → 2 pairs
    ...item('B', 'PromptCoT-Math', [P, P, F, F, P, F, P, F]), // 4/8: too easy
    ...item('C', 'OpenSource-Math', [F, F, F, F, F, F, F, F]), // unsolved
    ...item('D', 'OpenSource-Math', [F, F, F, P, F, F, F, F], (j) =>
      j === 3 ? '<think>\nwork on D, \\boxed{1}' : undefined,
    ), // the pass never finished thinking
  ];
  const validFailsOfA = rows
    .filter((r) => r.itemId === 'A' && r.verdict === 'fail')
    .map((r) => `\n${fixThinkCompletion(r.completion)}`);
  const validPassesOfA = rows
    .filter((r) => r.itemId === 'A' && r.verdict === 'pass')
    .map((r) => `\n${fixThinkCompletion(r.completion)}`);

  let scored: DatasetRef;
  let rewarded: DatasetRef;
  beforeAll(async () => {
    const writer = backend.open(tmp.dir);
    scored = await writeDataset(writer, 'scored', rows, { shardSize: 10, producedBy: { test: true } });
    // the prompts with their rewards (the stage before the rollouts): three reference answers, one majority vote
    const prompts = ['A', 'B', 'C', 'D'].map((id) => ({
      id,
      source: rows.find((r) => r.itemId === id)!.source,
      domain: 'math',
      prompt: promptOf(id),
      answer: '1',
      answerOrigin: id === 'D' ? 'majority' : 'reference',
    }));
    rewarded = await writeDataset(writer, 'rewarded', prompts, { shardSize: 10, producedBy: { test: true } });
    await fsp.mkdir(writer.resolve('rejects'), { recursive: true });
    const rejects = [
      {
        kind: 'rejected',
        stage: 'x',
        reason: 'too-few-tests: 1 valid of 4 written',
        source: {},
        detail: { rule: 'too-few-tests' },
      },
      { kind: 'failed', stage: 'x', reason: 'the endpoint kept failing', source: {} },
    ];
    writeFileSync(writer.resolve('rejects/prepare.jsonl'), rejects.map((r) => JSON.stringify(r)).join('\n') + '\n');
    await writer.commit(writer.resolve('rejects/prepare.jsonl'));
    store = backend.elsewhere(writer);
    activities = createSelfPlayActivities(store);
  });

  function input(output: string, seed: number, name = output): BuildPairsInput {
    return {
      name,
      round: 1,
      seed,
      k: 8,
      scored,
      rewarded,
      output,
      difficulty: { maxPassRate: 0.5, keepBoundary: false },
      maxPairsPerPrompt: 10_000,
      shardSize: 1,
      prompts: 4 + 2,
      sampledPrompts: 4,
      unscoredRollouts: 0,
      rejectFiles: ['rejects/prepare.jsonl'],
      policy: { version: 'initial' },
    };
  }

  function build(i: BuildPairsInput): Promise<BuildPairsResult> {
    return new MockActivityEnvironment().run(activities.buildSelfPlayPairs, i);
  }

  async function pairRows(ref: DatasetRef): Promise<Array<Record<string, string>>> {
    const out: Array<Record<string, string>> = [];
    for await (const r of store.readAll(ref)) out.push(r as Record<string, string>);
    return out;
  }

  async function shardBytes(output: string): Promise<string[]> {
    const manifest = await store.readManifest(output);
    return Promise.all(manifest.shards.map((_, i) => fsp.readFile(store.shardPath(manifest, i), 'utf8')));
  }

  let first: BuildPairsResult;
  beforeAll(async () => {
    first = await build(input('pairs-seed7', 7));
  });

  it('counts every prompt under one rule and the report adds up', async () => {
    const s = first.summary;
    expect(s.prompts).toBe(6);
    expect(s.kept).toBe(1);
    expect(s.addsUp).toBe(true);
    expect(s.dropped['too-few-tests']).toBe(1);
    expect(s.dropped.failed).toBe(1);
    expect(s.dropped['too-easy']).toBe(1);
    expect(s.dropped.unsolved).toBe(1);
    expect(s.dropped['no-valid-chosen']).toBe(1);
    const others = Object.entries(s.dropped).filter(
      ([rule]) => !['too-few-tests', 'failed', 'too-easy', 'unsolved', 'no-valid-chosen'].includes(rule),
    );
    expect(others.every(([, n]) => n === 0)).toBe(true);
    // items by passes: C 0, D 1, A 2, B 4
    expect(s.passCountHistogram).toEqual([1, 1, 1, 0, 1, 0, 0, 0, 0]);
    expect(s.pairs).toBe(2);
  });

  it('writes the round report next to the summary', async () => {
    expect(first.report).toBe(path.join('reports', 'pairs-seed7', 'round-1.json'));
    const report = JSON.parse(await fsp.readFile(store.resolve(first.report), 'utf8')) as RoundReport;
    expect(report).toMatchObject({
      name: 'pairs-seed7',
      round: 1,
      policy: { version: 'initial' },
      prompts: 6,
      kept: 1,
      addsUp: true,
      pairs: 2,
    });
    expect(report.rollouts).toEqual({
      total: 32,
      pass: 7,
      fail: 25,
      undecided: 0,
      unscored: 0,
      valid: 31,
      invalid: { 'no-think-block': 1 },
    });
    expect(report.bySource).toEqual({
      'PromptCoT-Math': { prompts: 2, kept: 1, pairs: 2 },
      'OpenSource-Math': { prompts: 2, kept: 0, pairs: 0 },
    });
    expect(report.difficulty).toEqual({ maxPassRate: 0.5, keepBoundary: false });
    expect(report.rewards.math).toEqual({ problems: 4, referenceAnswers: 3, majorityAnswers: 1 });
    expect(report.rewards.code.problems).toBe(0);
  });

  it('writes pair rows in the published format', async () => {
    expect(first.pairs).toMatchObject({ name: 'pairs-seed7', items: 2, shards: 2 });
    const pairs = await pairRows(first.pairs);
    expect(pairs).toHaveLength(2);
    for (const p of pairs) {
      expect(Object.keys(p).sort()).toEqual(['chosen', 'prompt', 'rejected', 'source']);
      expect(p.source).toBe('PromptCoT-Math');
      expect(p.prompt).toBe(`<|im_start|>user\n${promptOf('A')}<|im_end|>\n<|im_start|>assistant`);
      expect(p.chosen!.startsWith('\n<think>\n')).toBe(true);
      expect(p.rejected!.startsWith('\n<think>\n')).toBe(true);
      expect(validFailsOfA).toContain(p.rejected);
    }
    // both passing rollouts are used once, against two different failing ones
    expect(pairs.map((p) => p.chosen).sort()).toEqual([...validPassesOfA].sort());
    expect(new Set(pairs.map((p) => p.rejected)).size).toBe(2);
    // the scratch file is gone
    expect(existsSync(path.join(store.datasetDir('pairs-seed7'), '.pairs-in-prompt-order.jsonl'))).toBe(false);
  });

  it('runs once: a second call returns the same result and rewrites nothing', async () => {
    const manifest = await store.readManifest('pairs-seed7');
    const shardFile = store.shardPath(manifest, 0);
    const before = {
      shard: (await fsp.stat(shardFile)).mtimeMs,
      report: (await fsp.stat(store.resolve(first.report))).mtimeMs,
      manifest: await fsp.readFile(store.manifestPath('pairs-seed7'), 'utf8'),
    };
    const again = await build(input('pairs-seed7', 7));
    expect(again).toEqual(first);
    expect((await fsp.stat(shardFile)).mtimeMs).toBe(before.shard);
    expect((await fsp.stat(store.resolve(first.report))).mtimeMs).toBe(before.report);
    expect(await fsp.readFile(store.manifestPath('pairs-seed7'), 'utf8')).toBe(before.manifest);
  });

  it('is deterministic under a seed: the same seed into another output gives byte-identical shards', async () => {
    const second = await build(input('pairs-seed7-again', 7));
    expect(second.summary).toEqual(first.summary);
    expect(await shardBytes('pairs-seed7-again')).toEqual(await shardBytes('pairs-seed7'));
  });

  it('with another seed keeps the same prompts and chosen responses (the rejected draw may differ)', async () => {
    // Note: the pair multiset is NOT seed-independent in general: with 2 chosen and 6 rejected, the seed picks
    // which 2 rejected responses are used and how they are paired. What must not change is the rest.
    const other = await build(input('pairs-seed8', 8));
    expect(other.summary).toEqual(first.summary);
    const a = await pairRows(first.pairs);
    const b = await pairRows(other.pairs);
    expect(b).toHaveLength(a.length);
    expect(b.map((p) => p.chosen).sort()).toEqual(a.map((p) => p.chosen).sort());
    expect(b.map((p) => `${p.source}\u0000${p.prompt}`).sort()).toEqual(
      a.map((p) => `${p.source}\u0000${p.prompt}`).sort(),
    );
    for (const p of b) expect(validFailsOfA).toContain(p.rejected);
  });
});
