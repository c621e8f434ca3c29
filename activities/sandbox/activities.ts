// The code reward as a Temporal activity (cpu queue): extract the program from a completion, run it on the
// tests in the sandbox, and return per-test verdicts and the binary reward u(x, y) (all tests pass).
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { SandboxConfig } from '../../domain/config';
import { extractCode } from './extract-code';
import { runPython, SandboxUnavailableError, type TestCase, type TestVerdict } from './python-sandbox';

export interface EvaluateCodeInput {
  /** A model completion (thinking, then a fenced program), or the program itself in `code`. */
  completion?: string;
  code?: string;
  tests: TestCase[];
  /** Call-based problems (starter code): the function to call, e.g. `twoSum`. */
  fnName?: string;
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

export function createSandboxActivities(limits: SandboxConfig) {
  return {
    async evaluateCode(input: EvaluateCodeInput): Promise<EvaluateCodeResult> {
      if (input.tests.length === 0) throw ApplicationFailure.nonRetryable('evaluateCode: tests: at least one test is needed', 'InvalidInput');
      const code = input.code ?? (input.completion !== undefined ? extractCode(input.completion) : undefined);
      if (code === undefined || code.trim() === '') return { reward: 0, passed: 0, total: input.tests.length, verdicts: [], noCode: true };
      try {
        const ctx = Context.current();
        let done = 0;
        const { verdicts } = await runPython(code, input.tests, { ...limits, parallelism: limits.concurrency }, {
          fnName: input.fnName,
          mode: limits.mode,
          // a cancel stops scheduling tests; heartbeats carry it here and show progress
          signal: ctx.cancellationSignal,
          onVerdict: () => ctx.heartbeat({ testsDone: ++done }),
        });
        const passed = verdicts.filter((v) => v.verdict === 'pass').length;
        return { reward: passed === input.tests.length ? 1 : 0, passed, total: input.tests.length, verdicts };
      } catch (err) {
        // A worker without the sandbox must not hand out rewards: fail for good and say what to install.
        if (err instanceof SandboxUnavailableError) throw ApplicationFailure.nonRetryable(err.message, 'SandboxUnavailable');
        throw err;
      }
    },
  };
}

export type SandboxActivities = ReturnType<typeof createSandboxActivities>;
