/**
 * Sandboxed Python execution for code rewards: stdin/stdout programs and LiveCodeBench call-based ones.
 * The sandbox itself (namespaces, filesystem, identity, limits: what is guaranteed and what is not) is described
 * in bwrap.ts. Two modes give the same verdicts:
 *  - 'fork' (default): pre-started interpreters of a shared pool (interpreter-pool.ts, fork_server.py) compile
 *    the program once and fork a child per test; the child gets the same rlimits as a fresh run. Tests of one
 *    program are spread over up to `parallelism` servers. When a server is lost mid-test (the program killed or
 *    stopped it, or it stopped answering), that test and the program's remaining ones run in 'fresh' mode.
 *  - 'fresh': a new sandbox and interpreter per test (and one more for the compile check).
 * Verdicts: MemoryError / allocation failure in stderr → memory_limit; SIGXCPU, SIGKILL from the CPU limit,
 * or the wall timer → time_limit; output over the cap or nonzero exit → runtime_error; otherwise the
 * LiveCodeBench comparison decides pass / wrong_answer.
 */
import * as os from 'node:os';
import { buildCommand, findBwrap, resolvePython, SandboxUnavailableError, spawnSandbox } from './bwrap';
import { CgroupJoinError, createSandboxCgroup, JOIN_FAILED, JOIN_FAILED_EXIT } from './cgroup';
import { freshGroupLimits, recordInterpreterBaseline } from './cgroup-limits';
import { releaseUid, takeUid } from './uid-slots';
import { callDriver, compareCallResult } from './call-based';
import { compareStdio } from './compare';
import { compileErrors, excerpt, mapPool } from './common';
import { interpreterPool, ServerLost, STDERR_CAP, type ForkRunResult } from './interpreter-pool';
import {
  DEFAULT_LIMITS,
  type Judge,
  type RunResult,
  type SandboxLimits,
  type TestCase,
  type TestVerdict,
} from './types';

export type { Verdict, SandboxLimits, TestCase, TestVerdict, RunResult } from './types';
export { DEFAULT_LIMITS } from './types';
export { SandboxUnavailableError } from './bwrap';

export type SandboxMode = 'fork' | 'fresh';

export interface RunOptions {
  /** Call-based problems (starter code): the function to call; see call-based.ts. */
  fnName?: string;
  /** 'fork' (default): pre-started interpreters forking per test; 'fresh': a new sandbox per test. */
  mode?: SandboxMode;
  /** Stops scheduling tests (running ones finish); runPython then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Decides pass / wrong_answer instead of the stdio rules (a custom checker); see types.ts. */
  judge?: Judge;
  /** Called after each test's verdict (e.g. to heartbeat). */
  onVerdict?: (index: number, verdict: TestVerdict) => void;
}

/**
 * What runs before the program in a fresh sandbox: every inherited descriptor above 2 is closed, stdin becomes
 * the test's input file (seekable, as the memfd of fork mode and the StringIO of the reference harness), then the
 * harness settings and the program as __main__.
 */
const PRELUDE = [
  'import os',
  'os.closerange(3, 1 << 30)',
  "__fd = os.open('/box/stdin', os.O_RDONLY)",
  'os.dup2(__fd, 0)',
  'os.close(__fd)',
  'import io, sys',
  "sys.stdin = sys.__stdin__ = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, 'r', closefd=False)), encoding='utf-8')",
  'sys.setrecursionlimit(50000)',
  "if hasattr(sys, 'set_int_max_str_digits'): sys.set_int_max_str_digits(50000)",
  "sys.argv = ['main.py']",
  "with open('/box/main.py', encoding='utf-8') as __f: __src = __f.read()",
  "__code = compile(__src, 'main.py', 'exec')",
  'del __f, __src, __fd',
  'import types',
  "__m = types.ModuleType('__main__'); __m.__file__ = 'main.py'; __m.__builtins__ = __builtins__",
  "sys.modules['__main__'] = __m",
  'exec(__code, __m.__dict__)',
].join('\n');

const COMPILE_CHECK = [
  'import os, sys',
  'os.closerange(3, 1 << 30)',
  "src = open('/box/main.py', encoding='utf-8').read()",
  'try:',
  "    compile(src, 'main.py', 'exec')",
  'except (SyntaxError, ValueError) as e:',
  "    sys.stderr.write(type(e).__name__ + ': ' + str(e))",
  '    sys.exit(3)',
].join('\n');

interface RawRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timeMs: number;
  /** CPU time of all the test's processes (cgroup), or of the main process and its waited children (fork mode) */
  cpuMs?: number;
  /** the kernel's OOM killer acted in the sandbox's cgroup during the test */
  oomKilled?: boolean;
  /** the most memory the sandbox's cgroup held */
  peakBytes?: number;
  wallTimeout: boolean;
  outputLimit: boolean;
  spawnError?: string;
}

/** Fresh mode: one sandbox (and cgroup, where there is one) for one run of the interpreter. */
async function runOnce(
  programSource: string,
  pythonArgs: string[],
  stdin: string,
  limits: SandboxLimits,
): Promise<RawRun> {
  const bwrap = findBwrap();
  if (!bwrap) throw new SandboxUnavailableError('bwrap not found: install Debian package bubblewrap');
  const py = await resolvePython();
  const uid = takeUid();
  const cgroup = createSandboxCgroup();
  try {
    cgroup?.setLimits(freshGroupLimits(limits));
    const roFiles = { 'main.py': Buffer.from(programSource, 'utf8'), stdin: Buffer.from(stdin, 'utf8') };
    const command = buildCommand(bwrap, py, uid, { roFiles, rlimits: limits, pythonArgs, cgroup });
    const raw = await new Promise<RawRun>((resolve) => {
      const started = process.hrtime.bigint();
      const child = spawnSandbox(command);
      const out: Buffer[] = [];
      let outBytes = 0;
      const err: Buffer[] = [];
      let errBytes = 0;
      let wallTimeout = false;
      let outputLimit = false;
      let spawnError: string | undefined;
      const kill = () => {
        try {
          child.kill('SIGKILL');
        } catch {
          /* already gone */
        }
      };
      const timer = setTimeout(() => {
        wallTimeout = true;
        kill();
      }, limits.wallTimeMs);
      child.on('error', (e) => {
        spawnError = e.message;
      });
      child.stdout!.on('data', (chunk: Buffer) => {
        if (outputLimit) return;
        outBytes += chunk.length;
        if (outBytes > limits.maxOutputBytes) {
          outputLimit = true;
          kill();
          return;
        }
        out.push(chunk);
      });
      child.stderr!.on('data', (chunk: Buffer) => {
        if (errBytes >= STDERR_CAP) return;
        err.push(chunk.subarray(0, STDERR_CAP - errBytes));
        errBytes += chunk.length;
      });
      child.stdin!.on('error', () => {
        /* EPIPE: nothing reads it (stdin is the input file) */
      });
      child.stdin!.end();
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        resolve({
          code,
          signal,
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(err).toString('utf8'),
          timeMs: Number(process.hrtime.bigint() - started) / 1e6,
          wallTimeout,
          outputLimit,
          spawnError,
        });
      });
    });
    if (cgroup && raw.code === JOIN_FAILED_EXIT && raw.stderr.includes(JOIN_FAILED))
      throw new CgroupJoinError(raw.stderr.trim());
    if (cgroup) {
      const used = cgroup.usage();
      raw.cpuMs = used.cpuMs;
      raw.oomKilled = used.oomKills > 0;
      raw.peakBytes = used.peakBytes;
    }
    return raw;
  } finally {
    cgroup?.remove();
    releaseUid(uid);
  }
}

const MEMORY_RE = /MemoryError|Cannot allocate memory|out of memory|memory allocation failed|Could not allocate/i;
const SIGXCPU_EXIT = 128 + 24;
const SIGKILL_EXIT = 128 + 9;

async function classify(raw: RawRun, test: TestCase, limits: SandboxLimits, options: RunOptions): Promise<TestVerdict> {
  const base = {
    timeMs: Math.round(raw.timeMs),
    ...(raw.cpuMs !== undefined ? { cpuMs: Math.round(raw.cpuMs) } : {}),
    stderr: excerpt(raw.stderr),
  };
  if (raw.spawnError) return { ...base, verdict: 'runtime_error', detail: `spawn failed: ${raw.spawnError}` };
  if (raw.outputLimit) return { ...base, verdict: 'runtime_error', detail: 'output limit' };
  if (raw.wallTimeout) return { ...base, verdict: 'time_limit', detail: 'wall-clock limit' };
  if (raw.oomKilled) return { ...base, verdict: 'memory_limit', detail: 'memory limit (all processes of the test)' };
  if (raw.code !== 0 && MEMORY_RE.test(raw.stderr)) return { ...base, verdict: 'memory_limit', detail: 'memory limit' };
  if (raw.code === SIGXCPU_EXIT || raw.code === SIGKILL_EXIT) {
    return {
      ...base,
      verdict: 'time_limit',
      detail: raw.code === SIGXCPU_EXIT ? 'CPU limit (SIGXCPU)' : 'killed (SIGKILL)',
    };
  }
  // measured CPU time decides even when the program caught SIGXCPU, split its work over processes, or stayed
  // under the whole seconds of RLIMIT_CPU
  if (raw.cpuMs !== undefined && raw.cpuMs > limits.cpuTimeMs) {
    return {
      ...base,
      verdict: 'time_limit',
      detail: `CPU limit (${Math.round(raw.cpuMs)} ms > ${limits.cpuTimeMs} ms)`,
    };
  }
  if (raw.code !== 0) {
    const detail =
      raw.code === null
        ? `signal ${raw.signal}`
        : raw.code > 128
          ? `signal ${raw.code - 128}`
          : `exit code ${raw.code}`;
    return { ...base, verdict: 'runtime_error', detail };
  }
  const cmp = options.judge
    ? await options.judge(test, raw.stdout)
    : options.fnName === undefined
      ? compareStdio(test.output, raw.stdout)
      : compareCallResult(test.output, raw.stdout);
  return cmp.ok ? { ...base, verdict: 'pass' } : { ...base, verdict: 'wrong_answer', detail: cmp.reason };
}

function forkedRaw(r: ForkRunResult, limits: SandboxLimits): RawRun {
  return {
    code: r.code,
    signal: null,
    stdout: r.stdout.toString('utf8'),
    stderr: r.stderr.toString('utf8'),
    timeMs: r.timeMs,
    cpuMs: r.cpuMs,
    oomKilled: r.oomKilled,
    wallTimeout: r.wallTimeout,
    outputLimit: r.stdout.length > limits.maxOutputBytes,
  };
}

/** Fresh mode: a compile check, then a new sandbox per test. */
async function runFresh(
  program: string,
  tests: TestCase[],
  limits: SandboxLimits,
  options: RunOptions,
  width: number,
): Promise<RunResult> {
  const check = await runOnce(program, ['-c', COMPILE_CHECK], '', { ...limits, maxOutputBytes: 65536 });
  if (check.code === 3) return compileErrors(tests, check.stderr);
  const verdicts = await mapPool(tests, width, (t, i) => runFreshTest(program, t, i, limits, options), options.signal);
  return { verdicts };
}

async function runFreshTest(
  program: string,
  test: TestCase,
  index: number,
  limits: SandboxLimits,
  options: RunOptions,
): Promise<TestVerdict> {
  const verdict = await classify(await runOnce(program, ['-c', PRELUDE], test.input, limits), test, limits, options);
  options.onVerdict?.(index, verdict);
  return verdict;
}

/**
 * Fork mode: up to `width` lanes, each borrowing a pre-started interpreter, loading (compiling) the program and
 * taking tests until none are left. A lost server ends fork mode for this program: the test it was running and
 * the tests nobody took yet run in fresh sandboxes.
 */
async function runForked(
  program: string,
  tests: TestCase[],
  limits: SandboxLimits,
  options: RunOptions,
  width: number,
): Promise<RunResult> {
  const { signal } = options;
  const pool = interpreterPool(width);
  const verdicts = new Array<TestVerdict | undefined>(tests.length);
  let next = 0;
  let lost = false;
  let compileError: string | undefined;
  const more = () => next < tests.length && !lost && compileError === undefined && !signal?.aborted;
  const lane = async () => {
    while (more()) {
      const server = await pool.acquire();
      let reusable = true;
      try {
        const loaded = await server.load(program);
        if (!loaded.ok) {
          if (loaded.kind === 'compile') compileError = loaded.error ?? 'SyntaxError';
          else lost = true;
          reusable = await server.unload();
          return;
        }
        while (more()) {
          const i = next++;
          const result = await server.run(tests[i]!.input, limits);
          verdicts[i] = await classify(forkedRaw(result, limits), tests[i]!, limits, options);
          options.onVerdict?.(i, verdicts[i]!);
          if (!result.clean) {
            reusable = false;
            break;
          }
        }
        // the zygote that held this program goes; the server takes another program only once it is clean
        if (reusable) reusable = await server.unload();
      } catch (err) {
        if (!(err instanceof ServerLost)) throw err;
        reusable = false;
        lost = true;
      } finally {
        pool.release(server, reusable);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(width, tests.length)) }, lane));
  signal?.throwIfAborted();
  if (compileError !== undefined) return compileErrors(tests, compileError);
  const left = tests.flatMap((t, i) => (verdicts[i] === undefined ? [i] : []));
  if (left.length > 0) {
    const rerun = await mapPool(left, width, (i) => runFreshTest(program, tests[i]!, i, limits, options), signal);
    left.forEach((i, k) => (verdicts[i] = rerun[k]));
  }
  return { verdicts: verdicts as TestVerdict[] };
}

/**
 * Runs `code` on every test in the sandbox (see bwrap.ts for the guarantees). Stdin → stdout by default; with
 * `fnName`, LiveCodeBench's call-based mode (see call-based.ts).
 */
export async function runPython(
  code: string,
  tests: TestCase[],
  limits: SandboxLimits = DEFAULT_LIMITS,
  options: RunOptions = {},
): Promise<RunResult> {
  if (!(await sandboxAvailable())) {
    throw new SandboxUnavailableError(
      `bubblewrap sandbox is not usable${findBwrap() ? ` (${lastProbeError ?? 'probe failed'})` : ''}: install Debian package bubblewrap`,
    );
  }
  const { fnName, mode = 'fork' } = options;
  const program = fnName === undefined ? code : code + callDriver(fnName);
  const width = limits.parallelism ?? os.availableParallelism();
  return mode === 'fresh'
    ? runFresh(program, tests, limits, options, width)
    : runForked(program, tests, limits, options, width);
}

let availablePromise: Promise<boolean> | undefined;
let lastProbeError: string | undefined;

/** True when bwrap is installed and a trivial Python program runs in the sandbox. */
export function sandboxAvailable(): Promise<boolean> {
  availablePromise ??= (async () => {
    if (!findBwrap()) {
      lastProbeError = 'bwrap not found: install Debian package bubblewrap';
      return false;
    }
    try {
      const raw = await runOnce('print(6*7)', ['-c', PRELUDE], '', { ...DEFAULT_LIMITS, wallTimeMs: 20_000 });
      if (raw.code === 0 && raw.stdout.trim() === '42') {
        recordInterpreterBaseline(raw.peakBytes);
        return true;
      }
      lastProbeError = `probe exited ${raw.code}: ${raw.stderr.slice(0, 500)}`;
      return false;
    } catch (e) {
      lastProbeError = (e as Error).message;
      return false;
    }
  })();
  void availablePromise.then((ok) => {
    if (!ok) availablePromise = undefined;
  });
  return availablePromise;
}

/** Why the last sandboxAvailable() probe failed (for error messages). */
export function sandboxProbeError(): string | undefined {
  return lastProbeError;
}
