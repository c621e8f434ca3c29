// The code reward as a Temporal activity (sandbox queue): extract the program from a completion, run it on the
// tests in the sandbox of its language, and return per-test verdicts and the binary reward u(x, y) (all tests
// pass). Python runs in bubblewrap (python-sandbox.ts), JavaScript in isolated-vm (js-sandbox.ts); a problem
// with several valid outputs brings a custom checker (JavaScript `check(input, expected, actual)`, run in
// isolated-vm) that replaces the LiveCodeBench comparison.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { SandboxConfig } from '../../domain/platform/config';
import { countSandboxVerdicts } from '../metrics';
import { extractCode } from './extract-code';
import { CheckerError, JsSandboxUnavailableError, runChecker, runJavaScript } from './js-sandbox';
import { runPython, SandboxUnavailableError } from './python-sandbox';
import type { Judge, SandboxLimits, TestCase, TestVerdict } from './types';

export interface EvaluateCodeInput {
  /** A model completion (thinking, then a fenced program), or the program itself in `code`. */
  completion?: string;
  code?: string;
  tests: TestCase[];
  /** 'python' (default) or 'javascript'. */
  language?: 'python' | 'javascript';
  /** Call-based problems (starter code, Python): the function to call, e.g. `twoSum`. */
  fnName?: string;
  /** JavaScript defining `check(input, expected, actual)` → boolean | {ok, reason}: for problems with several valid outputs. */
  checker?: string;
}

export interface EvaluateCodeResult {
  /** 1 when a program was found and every test passed (spec §3.4), else 0. */
  reward: 0 | 1;
  passed: number;
  total: number;
  verdicts: TestVerdict[];
  /** Why there are no verdicts: no program in the completion. */
  noCode?: true;
}

/**
 * A checker judges each test's output. A checker that throws (or runs out of time or memory) on one output is
 * that test's wrong_answer: a hostile output must not turn the whole evaluation into a fault of the test data.
 * It is a broken checker (CheckerError) only when it also fails on the test's own expected output.
 */
function checkerJudge(checker: string, limits: SandboxLimits): Judge {
  const acceptsExpected = new Map<string, Promise<boolean>>();
  const sound = (test: TestCase) => {
    const key = JSON.stringify([test.input, test.output]);
    let known = acceptsExpected.get(key);
    if (!known) {
      known = runChecker(checker, { input: test.input, expected: test.output, actual: test.output }, limits).then(
        (r) => r.ok,
        () => false,
      );
      acceptsExpected.set(key, known);
    }
    return known;
  };
  return async (test, stdout) => {
    try {
      return await runChecker(checker, { input: test.input, expected: test.output, actual: stdout }, limits);
    } catch (err) {
      if (!(err instanceof CheckerError)) throw err;
      if (!(await sound(test)))
        throw new CheckerError(`${err.message} (it does not accept the expected output either)`);
      return { ok: false, reason: `checker error on this output: ${err.message}` };
    }
  };
}

export interface EvaluateOptions {
  signal?: AbortSignal;
  /** called after each test's verdict (heartbeats) */
  onVerdict?: () => void;
}

/** Input problems of evaluateCode: fail for good, naming the field. */
export class InvalidEvaluationInput extends Error {
  override name = 'InvalidEvaluationInput';
}

/** The limits of one program's run under the sandbox settings: its tests spread over `concurrency` lanes. */
export function sandboxLimits(config: SandboxConfig): SandboxLimits {
  return { ...config, parallelism: config.concurrency };
}

/**
 * The code reward of one completion: extraction, the sandbox of its language, per-test verdicts. Throws
 * InvalidEvaluationInput, CheckerError (the test data is at fault), or the sandboxes' unavailable errors.
 */
export async function evaluateCompletion(
  config: SandboxConfig,
  input: EvaluateCodeInput,
  options: EvaluateOptions = {},
): Promise<EvaluateCodeResult> {
  if (input.tests.length === 0) throw new InvalidEvaluationInput('evaluateCode: tests: at least one test is needed');
  const language = input.language ?? 'python';
  if (language !== 'python' && language !== 'javascript')
    throw new InvalidEvaluationInput(`evaluateCode: language: "${String(language)}" is not python or javascript`);
  if (input.fnName !== undefined && language !== 'python')
    throw new InvalidEvaluationInput('evaluateCode: fnName: call-based problems are Python only');
  const code = input.code ?? (input.completion !== undefined ? extractCode(input.completion) : undefined);
  if (code === undefined || code.trim() === '')
    return { reward: 0, passed: 0, total: input.tests.length, verdicts: [], noCode: true };
  const limits = sandboxLimits(config);
  const judge = input.checker !== undefined ? checkerJudge(input.checker, limits) : undefined;
  const common = { judge, signal: options.signal, onVerdict: options.onVerdict };
  const { verdicts } =
    language === 'javascript'
      ? await runJavaScript(code, input.tests, limits, common)
      : await runPython(code, input.tests, limits, { ...common, fnName: input.fnName, mode: config.mode });
  countSandboxVerdicts(language, verdicts);
  const passed = verdicts.filter((v) => v.verdict === 'pass').length;
  return { reward: passed === input.tests.length ? 1 : 0, passed, total: input.tests.length, verdicts };
}

/** Whether a failure means this worker cannot run programs at all (not the program's fault). */
export function isSandboxUnavailable(err: unknown): boolean {
  return err instanceof SandboxUnavailableError || err instanceof JsSandboxUnavailableError;
}

export function createSandboxActivities(config: SandboxConfig) {
  return {
    async evaluateCode(input: EvaluateCodeInput): Promise<EvaluateCodeResult> {
      const ctx = Context.current();
      let done = 0;
      try {
        // a cancel stops scheduling tests; heartbeats carry it here and show progress
        return await evaluateCompletion(config, input, {
          signal: ctx.cancellationSignal,
          onVerdict: () => ctx.heartbeat({ testsDone: ++done }),
        });
      } catch (err) {
        if (err instanceof InvalidEvaluationInput) throw ApplicationFailure.nonRetryable(err.message, 'InvalidInput');
        // A worker without the sandbox must not hand out rewards: fail for good and say what to install.
        if (isSandboxUnavailable(err))
          throw ApplicationFailure.nonRetryable((err as Error).message, 'SandboxUnavailable');
        // A broken checker is a fault of the problem's test data, not of the program: no reward either way.
        if (err instanceof CheckerError)
          throw ApplicationFailure.nonRetryable(`evaluateCode: checker: ${err.message}`, 'InvalidChecker');
        throw err;
      }
    },
  };
}

export type SandboxActivities = ReturnType<typeof createSandboxActivities>;
