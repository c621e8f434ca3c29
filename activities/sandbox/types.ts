// Types shared by the sandboxes (Python in bubblewrap, JavaScript in isolated-vm): limits, tests and verdicts.

export type Verdict = 'pass' | 'wrong_answer' | 'time_limit' | 'memory_limit' | 'runtime_error' | 'compile_error';

export interface SandboxLimits {
  wallTimeMs: number;
  cpuTimeMs: number;
  memoryMb: number;
  maxProcesses: number;
  maxOutputBytes: number;
  /** bounded parallelism for the tests of one program; default os.availableParallelism() */
  parallelism?: number;
}

export interface TestCase {
  input: string;
  output: string;
}

export interface TestVerdict {
  verdict: Verdict;
  /** wall time of the run */
  timeMs: number;
  /** CPU time of the program (user + system), when the mode measures it (fork mode) */
  cpuMs?: number;
  stderr?: string;
  detail?: string;
}

export interface RunResult {
  verdicts: TestVerdict[];
}

/** Decides pass / wrong_answer for a run that exited cleanly (default: the LiveCodeBench stdio rules). */
export type Judge = (test: TestCase, stdout: string) => Promise<{ ok: boolean; reason?: string }>;

export const DEFAULT_LIMITS: SandboxLimits = {
  wallTimeMs: 10_000,
  cpuTimeMs: 6_000,
  memoryMb: 1024,
  maxProcesses: 64,
  maxOutputBytes: 16 * 1024 * 1024,
};
