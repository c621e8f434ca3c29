// crossCheckTests (sandbox queue): checks the expected outputs the test-case writer wrote, beyond the published
// scripts (which trusted them, spec §8.14). M independent policy solutions of the problem run on every written test
// in the sandbox; their outputs are grouped by the LiveCodeBench comparison, and a group holding more than half of
// the M solutions is the majority output of that test. A test whose written output differs from a majority output
// "disagrees"; a test without a majority is "undecided" (too few solutions agree to say). With action `report` the
// tests stay and the counts are recorded; with `drop` disagreeing tests are removed, and a problem left with fewer
// than minTests is set aside (rule too-few-tests). Problems with given tests, and math prompts, pass unchanged.
import { CrossCheckTestsOperation, type TestCaseRecord } from '../../domain/self-play';
import { compareStdio, stdioKey } from '../sandbox/compare';
import { extractCode } from '../sandbox/extract-code';
import { runPython } from '../sandbox/python-sandbox';
import { isSandboxUnavailable, sandboxLimits } from '../sandbox/activities';
import { chatSamples, seedsFor } from '../inference/chat-samples';
import { implement, RetryLaterError } from '../stage/operation';
import { countSandboxVerdicts } from '../metrics';

export interface TestCheck {
  solutions: number;
  /** solutions with a program in them */
  programs: number;
  agree: number[];
  disagree: number[];
  undecided: number[];
  /** the majority output of each disagreeing test, by test index */
  majority: Record<number, string>;
  dropped: number;
}

/**
 * Groups outputs that the stdio comparison holds equal; returns the majority output (more than half of `of`) or
 * null. One pass over the outputs, keyed by stdioKey (equal keys ⇔ equal under compareStdio), so M outputs cost
 * M linear scans, not M² comparisons.
 */
export function majorityOutput(outputs: readonly string[], of: number): string | null {
  const groups = new Map<string, { output: string; size: number }>();
  for (const out of outputs) {
    const key = stdioKey(out);
    const g = groups.get(key);
    if (g) g.size++;
    else groups.set(key, { output: out, size: 1 });
  }
  const best = [...groups.values()].reduce<{ output: string; size: number } | null>(
    (a, g) => (a === null || g.size > a.size ? g : a),
    null,
  );
  return best !== null && best.size * 2 > of ? best.output : null;
}

export const crossCheckTests = implement(CrossCheckTestsOperation, {
  needs: ['pool', 'sandbox'],
  async run(item, params, ctx, { pool, sandbox }) {
    const c = params.crossCheck;
    const tests = item.tests as TestCaseRecord[] | undefined;
    if (
      c.solutions === 0 ||
      item.domain !== 'code' ||
      item.testOrigin !== 'written' ||
      !Array.isArray(tests) ||
      typeof item.prompt !== 'string'
    )
      return { rows: [item] };
    const solutions = await chatSamples(
      pool,
      c,
      item.prompt,
      seedsFor(params.seed, `${String(item.id)}\u0000cross-check`, c.solutions),
      c,
      ctx.signal,
    );
    const programs = solutions
      .map((s) => extractCode(s.text))
      .filter((p): p is string => p !== undefined && p.trim() !== '');
    // outputs[t] = what the programs that ran test t to a clean exit printed
    const outputs: string[][] = tests.map(() => []);
    const index = new Map(tests.map((t, i) => [t, i]));
    for (const code of programs) {
      try {
        const { verdicts } = await runPython(code, tests, sandboxLimits(sandbox), {
          mode: sandbox.mode,
          signal: ctx.signal,
          judge: async (test, stdout) => {
            outputs[index.get(test)!]!.push(stdout);
            return compareStdio(test.output, stdout);
          },
        });
        countSandboxVerdicts('python', verdicts);
      } catch (err) {
        if (isSandboxUnavailable(err)) throw new RetryLaterError((err as Error).message);
        throw err;
      }
    }
    const check: TestCheck = {
      solutions: c.solutions,
      programs: programs.length,
      agree: [],
      disagree: [],
      undecided: [],
      majority: {},
      dropped: 0,
    };
    tests.forEach((t, i) => {
      const majority = majorityOutput(outputs[i]!, c.solutions);
      if (majority === null) check.undecided.push(i);
      else if (compareStdio(t.output, majority).ok) check.agree.push(i);
      else {
        check.disagree.push(i);
        check.majority[i] = majority;
      }
    });
    if (c.action === 'drop' && check.disagree.length > 0) {
      const kept = tests.filter((_, i) => !check.disagree.includes(i));
      check.dropped = check.disagree.length;
      if (kept.length < params.minTests) {
        return {
          reject: `too-few-tests: ${kept.length} tests left after dropping ${check.dropped} that the majority of ${c.solutions} solutions disagrees with, ${params.minTests} needed`,
          detail: { rule: 'too-few-tests', check },
        };
      }
      return { rows: [{ ...item, tests: kept, testCheck: check }] };
    }
    return { rows: [{ ...item, testCheck: check }] };
  },
});
