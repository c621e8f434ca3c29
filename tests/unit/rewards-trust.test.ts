// Issue 12 "Rewards you can trust": regressions for the comparison of program output (linear time, Python's Decimal
// and json semantics), the shape of the pair rows (fix_qwq_completion, the prompt's trailing blank line), the
// language filter and the problem parsing.
import { majorityOutput } from '../../activities/self-play/cross-check';
import { preparedOperation } from '../../activities/registry';
import { completionText } from '../../activities/inference/chat-samples';

const prepareSelfPlayPromptOperation = preparedOperation('prepareSelfPlayPrompt');
import { formatProblem } from '../../activities/prompts/problems';
import { problemWords } from '../../activities/dedup/words';
import { compareCallResult } from '../../activities/sandbox/call-based';
import { compareStdio, decimalEquals, parseDecimal, stdioKey } from '../../activities/sandbox/compare';
import type { ItemContext, ItemOutcome } from '../../activities/stage/operation';
import { parsePyJson, pyEquals, PyInt, PyJsonError } from '../../domain/core/py-json';
import {
  chatFormattedPrompt,
  fixThinkCompletion,
  parseTestCaseCompletion,
  splitTrace,
  withoutChatTurn,
} from '../../domain/self-play';
import { parseGeneration } from '../../domain/synthesize-corpus';

const MiB = 1 << 20;

function timed<T>(f: () => T): { value: T; ms: number } {
  const t = process.hrtime.bigint();
  const value = f();
  return { value, ms: Number(process.hrtime.bigint() - t) / 1e6 };
}

function ctx(): ItemContext {
  return { stage: 't', sourceId: 'x', shard: 0, line: 1, attempt: 1, signal: new AbortController().signal };
}

function rowsOf(outcome: ItemOutcome): Array<Record<string, unknown>> {
  if (!('rows' in outcome)) throw new Error(`expected rows, got reject: ${outcome.reject}`);
  return outcome.rows;
}

// item 7 -------------------------------------------------------------------------------------------------------------
describe('output comparison runs in linear time on hostile outputs', () => {
  // the old strip regex took 3.5 s on 30 KB of this shape and 49 s on 120 KB (quadratic)
  const spaces = '1' + ' '.repeat(4 * MiB) + '2';

  it('compares 4 MiB of inner whitespace quickly, as Python would', () => {
    const r = timed(() => compareStdio('1 2', spaces));
    expect(r.value.ok).toBe(true);
    expect(r.ms).toBeLessThan(2000);
    const w = timed(() => compareStdio('1 3', spaces));
    expect(w.value.ok).toBe(false);
    expect(w.ms).toBeLessThan(2000);
  });

  it('handles whitespace runs at the ends, long zero runs, long exponents and many lines quickly', () => {
    const cases: Array<[string, string, boolean]> = [
      ['5', ' \t'.repeat(2 * MiB) + '5' + ' \r\n'.repeat(MiB), true],
      ['5', '5' + ' '.repeat(4 * MiB) + 'x', false],
      ['1' + '0'.repeat(4 * MiB) + '1', '1' + '0'.repeat(4 * MiB) + '1', true],
      ['1' + '0'.repeat(4 * MiB) + '1', '1' + '0'.repeat(4 * MiB) + '2', false],
      ['1.' + '0'.repeat(4 * MiB), '1', true],
      ['1e' + '9'.repeat(4 * MiB), '1e' + '9'.repeat(4 * MiB) + '0', false],
      ['x', 'x' + '\n'.repeat(4 * MiB), true],
      ['1\n'.repeat(MiB / 2), '1.0\n'.repeat(MiB / 2), true],
    ];
    for (const [expected, actual, ok] of cases) {
      const r = timed(() => compareStdio(expected, actual));
      expect(r.value.ok).toBe(ok);
      expect(r.ms).toBeLessThan(2000);
    }
  });

  it('groups cross-check outputs in one pass: eight 4 MiB outputs', () => {
    const a = '1' + ' '.repeat(4 * MiB) + '2';
    const b = '1.0 2.00' + ' '.repeat(4 * MiB);
    const c = '1' + ' '.repeat(4 * MiB) + '3';
    const r = timed(() => majorityOutput([a, c, b, a, c, b, a, c], 8));
    expect(r.value).toBe(a); // five of eight print 1 2 (as decimals)
    expect(r.ms).toBeLessThan(4000);
    expect(majorityOutput([c, c, c, a, b, a, b, a], 8)).toBe(a); // a and b are one group of five
    expect(majorityOutput([c, c, c, c, a, b, a, b], 8)).toBeNull(); // four against four
  });

  it('keys outputs exactly as compareStdio compares them', () => {
    const outputs = [
      '1 2',
      '1.0  2',
      ' 1\t2e0 \n',
      '1 2\n\n',
      'nan',
      'nan ',
      'NaN',
      '-0',
      '0',
      'inf',
      'Infinity',
      '-inf',
      'abc 1',
      'abc 1.0',
      '',
      '\n\n',
      '١٢',
      '12',
      '1_2',
    ];
    for (const x of outputs)
      for (const y of outputs) expect([x, y, stdioKey(x) === stdioKey(y)]).toEqual([x, y, compareStdio(x, y).ok]);
  });

  it('compares a 4 MiB call-based result quickly', () => {
    const big = '[' + Array.from({ length: 400_000 }, (_, i) => String(i * 7)).join(', ') + ']';
    const r = timed(() => compareCallResult(big, big.replace(/, /g, ',')));
    expect(r.value.ok).toBe(true);
    expect(r.ms).toBeLessThan(2000);
    const s = timed(() => compareCallResult(JSON.stringify(' '.repeat(4 * MiB)), JSON.stringify(' '.repeat(4 * MiB))));
    expect(s.value.ok).toBe(true);
    expect(s.ms).toBeLessThan(2000);
  });
});

// item 8 -------------------------------------------------------------------------------------------------------------
describe('call-based comparison as Python compares json.loads values', () => {
  it('compares integers exactly, also past 2^53 and past the double range', () => {
    expect(compareCallResult('1152921504606846976', '1152921504606846977').ok).toBe(false); // 2^60 vs 2^60 + 1
    expect(compareCallResult('1152921504606846976', '1152921504606846976').ok).toBe(true);
    const huge = '1' + '0'.repeat(400);
    expect(compareCallResult(huge, huge.slice(0, -1) + '1').ok).toBe(false);
    expect(compareCallResult(`[${huge}, -3]`, `[${huge},-3]`).ok).toBe(true);
    expect(compareCallResult('{"a": [9007199254740993]}', '{"a": [9007199254740992]}').ok).toBe(false);
  });

  it('compares an int and a float exactly, floats by double value, bools as ints, NaN as nothing', () => {
    expect(compareCallResult('3', '3.0').ok).toBe(true);
    expect(compareCallResult('[1, 2]', '[1.0, 2e0]').ok).toBe(true);
    expect(compareCallResult('9007199254740993', '9007199254740992.0').ok).toBe(false); // Python: False
    expect(compareCallResult('9007199254740992', '9007199254740992.0').ok).toBe(true);
    expect(compareCallResult('0.1', '0.10000000000000001').ok).toBe(true); // the same double
    expect(compareCallResult('1e400', 'Infinity').ok).toBe(true); // float('inf') both
    expect(compareCallResult(`1${'0'.repeat(400)}`, '1e400').ok).toBe(false); // an int never equals inf
    expect(compareCallResult('1', 'true').ok).toBe(true);
    expect(compareCallResult('0.0', 'false').ok).toBe(true);
    expect(compareCallResult('NaN', 'NaN').ok).toBe(false);
    expect(compareCallResult('"1"', '1').ok).toBe(false);
    expect(compareCallResult('null', '0').ok).toBe(false);
    expect(compareCallResult('{"a": 1, "b": 2}', '{"b": 2.0, "a": 1}').ok).toBe(true);
    expect(compareCallResult('{"a": 1}', '{"a": 1, "a": 2}').ok).toBe(false); // the last value of a key counts
    expect(compareCallResult('[1]', '[1] x').ok).toBe(false);
  });

  it('reads JSON the way json.loads does', () => {
    expect(parsePyJson(' [1, -0, 2.5, "a\\u00e9\\n", null, true, {"k": []}] ')).toEqual([
      new PyInt('1'),
      new PyInt('0'),
      expect.anything(),
      'aé\n',
      null,
      true,
      { k: [] },
    ]);
    expect((parsePyJson('12345678901234567890123') as PyInt).toBigInt()).toBe(12345678901234567890123n);
    for (const bad of ['', '[1,]', '01', '+1', '-NaN', "{'a': 1}", '"\t"', '[1', '{"a" 1}', 'nul'])
      expect(() => parsePyJson(bad)).toThrow(PyJsonError);
    expect(pyEquals(parsePyJson('[[[[1]]]]'), parsePyJson('[[[[1.0]]]]'))).toBe(true);
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    expect(pyEquals(parsePyJson(deep), parsePyJson(deep))).toBe(true);
  });
});

// item 14 ------------------------------------------------------------------------------------------------------------
describe('fix_qwq_completion: one newline after <think>', () => {
  it('strips again after taking the <think> off', () => {
    expect(fixThinkCompletion('<think>\nabc</think>done')).toBe('<think>\nabc</think>done');
    expect(fixThinkCompletion('  <think>\n\n  abc</think>done \n')).toBe('<think>\nabc</think>done');
    expect(fixThinkCompletion('\nabc</think>done')).toBe('<think>\nabc</think>done');
  });

  it('rebuilds a completion from reasoning_content without newlines of its own', () => {
    const rebuilt = completionText({
      text: '\n\nThe answer is \\boxed{2}.',
      finishReason: 'stop',
      reasoning: '\none plus one\n',
    });
    expect(rebuilt).toBe('<think>\none plus one\n</think>\n\nThe answer is \\boxed{2}.');
    expect(fixThinkCompletion(rebuilt)).toBe(rebuilt);
    expect(`\n${fixThinkCompletion(rebuilt)}`.startsWith('\n<think>\none')).toBe(true);
  });
});

// item 15 ------------------------------------------------------------------------------------------------------------
describe('the Han / Hangul filter covers every extension', () => {
  const answer = (ch: string) => splitTrace(fixThinkCompletion(`thinking</think>The answer is 5 ${ch}`));
  it.each([
    ['CJK Extension B', 0x20000],
    ['CJK Extension C', 0x2a700],
    ['CJK Extension D', 0x2b740],
    ['CJK Extension E', 0x2b820],
    ['CJK Extension F', 0x2ceb0],
    ['CJK Extension G', 0x30000],
    ['CJK Compatibility Supplement', 0x2f800],
    ['Hangul Jamo Extended-A', 0xa960],
    ['Hangul Jamo Extended-B', 0xd7b0],
    ['Hangul Jamo Extended-B (last)', 0xd7fb],
    ['halfwidth Hangul', 0xffa1],
    ['CJK unified', 0x4e2d],
  ])('refuses %s', (_name, cp) => {
    expect(answer(String.fromCodePoint(cp))).toEqual({ ok: false, problem: 'mixed-language' });
  });
  it('still accepts Latin, Greek, Cyrillic, kana and CJK punctuation', () => {
    for (const ch of ['é', 'π', 'Ж', 'あ', 'カ', '。', '，']) expect(answer(ch).ok).toBe(true);
  });
});

// item 16 ------------------------------------------------------------------------------------------------------------
describe('prompt formatting and problem parsing as published', () => {
  const statement = 'Given n integers, print their sum.';

  it('keeps the code prompt trailing blank line through prepare, so pair rows end in ```\\n\\n<|im_end|>', async () => {
    const prompt = formatProblem('code', statement);
    expect(prompt.endsWith('```python\n# YOUR CODE HERE\n```\n\n')).toBe(true);
    for (const given of [prompt, `<|im_start|>user\n${prompt}<|im_end|>\n<|im_start|>assistant\n`]) {
      const [row] = rowsOf(
        await prepareSelfPlayPromptOperation.run(
          { id: 'c', source: 'PromptCoT-Code', prompt: given },
          prepareSelfPlayPromptOperation.parseParams({}),
          ctx(),
        ),
      );
      expect(row!.prompt).toBe(prompt);
      expect(chatFormattedPrompt(row!.prompt as string).endsWith('```\n\n<|im_end|>\n<|im_start|>assistant')).toBe(
        true,
      );
      expect(row!.problem).toBe(statement);
    }
    expect(withoutChatTurn(`<|im_start|>user\n${prompt}<|im_end|>`)).toBe(prompt);
  });

  it('formats like the published script: code strips the statement, math adds the instruction once', () => {
    expect(formatProblem('code', `\n  ${statement}  \n`)).toBe(formatProblem('code', statement));
    const math = 'Find x.\nPlease reason step by step, and put your final answer within \\boxed{}.';
    expect(formatProblem('math', math)).toBe(math);
    expect(formatProblem('math', `${math}\n`)).toBe(`${math}\n`);
    expect(formatProblem('math', '  Find x.  ')).toBe(math);
  });

  it('takes a problem block up to a repeated begin marker, as the published split does', () => {
    const g =
      '<!-- BEGIN RATIONALE --> why <!-- END RATIONALE -->\n<!-- BEGIN PROBLEM --> draft <!-- BEGIN PROBLEM --> final <!-- END PROBLEM -->';
    expect(parseGeneration(g)).toEqual({ ok: true, rationale: 'why', problem: 'draft' });
    const r =
      '<!-- BEGIN RATIONALE --> a <!-- BEGIN RATIONALE --> b <!-- END RATIONALE --><!-- BEGIN PROBLEM --> p <!-- END PROBLEM -->';
    expect(parseGeneration(r)).toEqual({ ok: true, rationale: 'a', problem: 'p' });
    for (const x of [g, r]) {
      const p = parseGeneration(x);
      expect(p.ok && !p.problem.includes('<!--') && !p.rationale.includes('<!--')).toBe(true);
    }
  });
});

// item 17 ------------------------------------------------------------------------------------------------------------
describe("Python's json and Decimal in the written tests, the comparison and dedup", () => {
  it('accepts NaN / Infinity in an extra field of a written test, as json.loads does', () => {
    for (const extra of ['NaN', 'Infinity', '-Infinity', '1e999', '123456789012345678901234567890']) {
      const r = parseTestCaseCompletion(
        `<think>t</think>\n\`\`\`json\n{"input": "1 2\\n", "output": "3", "confidence": ${extra}}\n\`\`\``,
      );
      expect(r).toEqual({ ok: true, test: { input: '1 2\n', output: '3' } });
    }
    expect(parseTestCaseCompletion('```json\n{"input": "1", "output": NaN}\n```')).toEqual({
      ok: false,
      reason: '"output" is not a string',
    });
    expect(parseTestCaseCompletion('```json\n{"input": "1", "output": "2",}\n```').ok).toBe(false);
  });

  it('reads any Unicode decimal digit and underscores as Decimal does', () => {
    expect(decimalEquals('١٢', '12')).toBe(true); // Arabic-Indic
    expect(decimalEquals('१२.५', '12.5')).toBe(true); // Devanagari
    expect(decimalEquals('１２', '12')).toBe(true); // fullwidth
    expect(decimalEquals('𝟙𝟚', '12')).toBe(true); // mathematical bold digits
    expect(decimalEquals('1_000', '1000')).toBe(true);
    expect(decimalEquals('1e١', '10')).toBe(true);
    expect(decimalEquals('²', '2')).toBe(false); // not a decimal digit for Decimal
    expect(decimalEquals('1e999999999999999999', '1e999999999999999999')).toBe(true);
    expect(parseDecimal('12e999999999999999999')).toBeUndefined(); // past libmpdec's range
    expect(compareStdio('١٢ ٣\n٤', '12 3\n4.0').ok).toBe(true);
  });

  it('drops words made of digits only in any script (isdigit) from dedup word sets', () => {
    expect(problemWords('count ١٢٣٤٥ and ²³⁴⁵ and ①②③④ and १२३४ and 𝟙𝟚𝟛𝟜 triangle')).toEqual(['count', 'triangle']);
    expect(problemWords('x1234 ١٢٣٤a')).toEqual(['x1234', '١٢٣٤a']);
  });
});

describe('written-test parsing on hostile text', () => {
  it('finds the json block in linear time, with the published regex result', () => {
    const ws = ' '.repeat(2 * MiB);
    const r = timed(() => parseTestCaseCompletion(`\`\`\`json${ws}{"input": "1", "output": "1"}${ws}x${ws}\`\`\``));
    expect(r.value).toEqual({ ok: false, reason: expect.stringMatching(/^json block does not parse/) });
    expect(r.ms).toBeLessThan(2000);
    const u = timed(() => parseTestCaseCompletion(`\`\`\`json${ws}{"input": "1", "output": "1"}${ws}`));
    expect(u.value).toEqual({ ok: false, reason: 'no ```json block' });
    expect(u.ms).toBeLessThan(2000);
    expect(parseTestCaseCompletion('```json\n {"input": "a", "output": "b"} \n``` trailing ```json {} ```')).toEqual({
      ok: true,
      test: { input: 'a', output: 'b' },
    });
  });
});
