/**
 * Sandboxed Python execution for code rewards (stdin/stdout mode).
 *
 * WHAT IS GUARANTEED, AND HOW
 * ---------------------------
 * Every test of a program runs in a fresh bubblewrap (`bwrap`, Debian package `bubblewrap`) sandbox:
 *  - Namespaces: new PID, network, IPC, UTS (and cgroup where possible) namespaces. With no network
 *    namespace peers there is only a down loopback: any connect() (internet or host 127.0.0.1) fails.
 *    Killing bwrap (wall timeout, output limit, or the worker dying: `--die-with-parent`) kills the
 *    PID-namespace init and with it every process the program started (no stray grandchildren, even
 *    ones that called setsid). `kill(-1, 9)` inside only reaches processes of the sandbox.
 *  - Filesystem: a fresh root with read-only binds of /usr (plus /lib, /lib64, /bin symlinks into it)
 *    and of the Python installation (`sys.base_prefix` of the host `python3`, resolved through the pyenv
 *    shim) mounted at /opt/python; a fresh /proc and a minimal /dev; the program at /box/main.py
 *    (read-only); a size-capped tmpfs /scratch as the only writable place and as cwd. No /etc, /root,
 *    /home, /work or host /tmp are visible.
 *  - Environment: `--clearenv`; only PATH, HOME=/scratch, LANG=C.UTF-8 and PYTHON* settings are set.
 *  - Identity: when the worker runs as root, bwrap runs without a user namespace (privileged setup of
 *    the mounts), keeps only CAP_SETUID/CAP_SETGID for `setpriv`, which switches to an unprivileged uid/gid
 *    (60000 + parallel slot, a distinct uid per concurrently running sandbox so RLIMIT_NPROC counts only
 *    that sandbox), clears supplementary groups, and empties the inheritable and bounding capability sets;
 *    bwrap also sets no_new_privs. When the worker is not root, bwrap uses a user namespace
 *    (`--unshare-all`) and runs the program as uid/gid 65534 inside it (this path is not exercised by
 *    the tests on our root-only machine).
 *  - Resource limits (`prlimit`, applied to the interpreter): RLIMIT_CPU (soft = ceil(cpuTimeMs), hard =
 *    soft + 1 s: SIGXCPU then SIGKILL), RLIMIT_AS = memoryMb, RLIMIT_NPROC = maxProcesses, RLIMIT_FSIZE,
 *    RLIMIT_CORE = 0; plus a wall-clock timer (wallTimeMs) that SIGKILLs bwrap; stdout is read up to
 *    maxOutputBytes (more → kill, runtime_error 'output limit'), stderr up to 64 KiB (a ≤ 2 KiB tail is
 *    reported). The scratch tmpfs is capped at 64 MiB.
 *  - Python: as the published LiveCodeBench harness, sys.setrecursionlimit(50000) and
 *    sys.set_int_max_str_digits(50000) are set before the program runs as `__main__`.
 *  - A program that does not compile (checked once with `compile()` in the same kind of sandbox) gets
 *    compile_error for every test, with the message.
 * Verdicts: MemoryError / allocation failure in stderr → memory_limit; SIGXCPU, SIGKILL from the CPU limit,
 * or the wall timer → time_limit; output over the cap or nonzero exit → runtime_error; otherwise the
 * LiveCodeBench stdio comparison decides pass / wrong_answer.
 * NOT guaranteed: protection against kernel exploits (no seccomp filter), exact CPU-time accounting
 * (timeMs is wall time), and a venv's site-packages (only the base interpreter is bound).
 */
import { spawn, execFile } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { callDriver, compareCallResult } from './call-based';
import { compareStdio } from './compare';
import { DEFAULT_LIMITS, type RunResult, type SandboxLimits, type TestCase, type TestVerdict } from './types';

export type { Verdict, SandboxLimits, TestCase, TestVerdict, RunResult } from './types';
export { DEFAULT_LIMITS } from './types';

export class SandboxUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SandboxUnavailableError';
  }
}

const STDERR_CAP = 64 * 1024;
const STDERR_EXCERPT = 2048;
const SCRATCH_BYTES = 64 * 1024 * 1024;
const UID_BASE = 60000;
const UID_SLOTS = 4096;

const PRELUDE = [
  'import sys',
  'sys.setrecursionlimit(50000)',
  "if hasattr(sys, 'set_int_max_str_digits'): sys.set_int_max_str_digits(50000)",
  "sys.argv = ['main.py']",
  "with open('/box/main.py', encoding='utf-8') as __f: __src = __f.read()",
  "__code = compile(__src, 'main.py', 'exec')",
  "del __f, __src",
  "exec(__code, {'__name__': '__main__', '__builtins__': __builtins__, '__file__': 'main.py'})",
].join('\n');

const COMPILE_CHECK = [
  'import sys',
  "src = open('/box/main.py', encoding='utf-8').read()",
  'try:',
  "    compile(src, 'main.py', 'exec')",
  'except (SyntaxError, ValueError) as e:',
  "    sys.stderr.write(type(e).__name__ + ': ' + str(e))",
  '    sys.exit(3)',
].join('\n');

interface PythonInstall {
  /** host directory to bind at /opt/python, or undefined when the interpreter lives under /usr */
  hostPrefix?: string;
  /** interpreter path inside the sandbox */
  interpreter: string;
}

let pythonPromise: Promise<PythonInstall> | undefined;

function execFileText(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message} ${stderr}`));
      else resolve(stdout);
    });
  });
}

/** Resolves the real interpreter behind `python3` (a pyenv shim here) and the prefix to bind. */
export function resolvePython(): Promise<PythonInstall> {
  pythonPromise ??= (async () => {
    const py = process.env.PROMPTCOT_SANDBOX_PYTHON ?? 'python3';
    const out = await execFileText(py, [
      '-c',
      'import sys, os; print(os.path.realpath(sys.executable)); print(os.path.realpath(sys.base_prefix))',
    ]);
    const [exe, basePrefix] = out.trim().split('\n');
    if (!exe || !basePrefix) throw new SandboxUnavailableError(`cannot resolve the python3 interpreter: ${out}`);
    if (basePrefix === '/usr' || exe.startsWith('/usr/')) return { interpreter: exe };
    const rel = path.relative(basePrefix, exe);
    if (rel.startsWith('..')) throw new SandboxUnavailableError(`interpreter ${exe} is not under ${basePrefix}`);
    return { hostPrefix: basePrefix, interpreter: path.posix.join('/opt/python', rel) };
  })();
  pythonPromise.catch(() => (pythonPromise = undefined));
  return pythonPromise;
}

function findBwrap(): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':').concat(['/usr/bin', '/bin'])) {
    const p = path.join(dir || '.', 'bwrap');
    try {
      accessSync(p, fsConstants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

// ---- uid slots: one distinct uid per concurrently running sandbox (root mode) ----
const usedUids = new Set<number>();
function takeUid(): number {
  for (let i = 0; i < UID_SLOTS; i++) {
    if (!usedUids.has(UID_BASE + i)) {
      usedUids.add(UID_BASE + i);
      return UID_BASE + i;
    }
  }
  throw new Error('no free sandbox uid slot');
}

function buildCommand(
  bwrap: string,
  py: PythonInstall,
  uid: number,
  limits: SandboxLimits,
  pythonArgs: string[],
): { cmd: string; args: string[] } {
  const cpuSoft = Math.max(1, Math.ceil(limits.cpuTimeMs / 1000));
  const asBytes = Math.floor(limits.memoryMb * 1024 * 1024);
  const fsize = Math.max(limits.maxOutputBytes, 1024 * 1024);
  const args: string[] = [];
  if (isRoot()) {
    args.push('--unshare-ipc', '--unshare-pid', '--unshare-net', '--unshare-uts', '--unshare-cgroup-try');
  } else {
    args.push('--unshare-all', '--uid', '65534', '--gid', '65534');
  }
  args.push('--die-with-parent', '--new-session');
  args.push('--ro-bind', '/usr', '/usr', '--symlink', 'usr/lib', '/lib', '--symlink', 'usr/lib64', '/lib64');
  args.push('--symlink', 'usr/bin', '/bin', '--symlink', 'usr/sbin', '/sbin');
  if (py.hostPrefix) args.push('--perms', '0755', '--dir', '/opt', '--ro-bind', py.hostPrefix, '/opt/python');
  args.push('--proc', '/proc', '--dev', '/dev');
  args.push('--perms', '0755', '--dir', '/box', '--perms', '0444', '--file', '3', '/box/main.py');
  args.push('--perms', '01777', '--size', String(SCRATCH_BYTES), '--tmpfs', '/scratch', '--chdir', '/scratch');
  args.push('--remount-ro', '/');
  args.push('--clearenv');
  const bin = path.posix.dirname(py.interpreter);
  for (const [k, v] of [
    ['PATH', `${bin}:/usr/bin:/bin`],
    ['HOME', '/scratch'],
    ['TMPDIR', '/scratch'],
    ['LANG', 'C.UTF-8'],
    ['PYTHONDONTWRITEBYTECODE', '1'],
    ['PYTHONIOENCODING', 'utf-8'],
    ['PYTHONUNBUFFERED', '0'],
  ] as const) {
    args.push('--setenv', k, v);
  }
  if (isRoot()) {
    args.push('--cap-add', 'CAP_SETUID,CAP_SETGID', '--');
    args.push(
      '/usr/bin/setpriv',
      `--reuid=${uid}`,
      `--regid=${uid}`,
      '--clear-groups',
      '--inh-caps=-all',
      '--bounding-set=-all',
      '--',
    );
  } else {
    args.push('--');
  }
  args.push(
    '/usr/bin/prlimit',
    `--cpu=${cpuSoft}:${cpuSoft + 1}`,
    `--as=${asBytes}`,
    `--nproc=${limits.maxProcesses}`,
    `--fsize=${fsize}`,
    '--core=0',
    '--',
    py.interpreter,
    ...pythonArgs,
  );
  return { cmd: bwrap, args };
}

interface RawRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timeMs: number;
  wallTimeout: boolean;
  outputLimit: boolean;
  spawnError?: string;
}

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
  try {
    const { cmd, args } = buildCommand(bwrap, py, uid, limits, pythonArgs);
    return await new Promise<RawRun>((resolve) => {
      const started = process.hrtime.bigint();
      const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
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
      const progPipe = child.stdio[3] as NodeJS.WritableStream | null;
      if (progPipe) {
        (progPipe as unknown as { on: (e: string, f: () => void) => void }).on('error', () => {});
        progPipe.end(programSource);
      }
      child.stdin!.on('error', () => {
        /* EPIPE when the program does not read its input */
      });
      child.stdin!.end(stdin);
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
  } finally {
    usedUids.delete(uid);
  }
}

function excerpt(stderr: string): string | undefined {
  if (!stderr) return undefined;
  const buf = Buffer.from(stderr, 'utf8');
  if (buf.length <= STDERR_EXCERPT) return stderr;
  return '…' + buf.subarray(buf.length - STDERR_EXCERPT + 3).toString('utf8');
}

const MEMORY_RE = /MemoryError|Cannot allocate memory|out of memory|memory allocation failed|Could not allocate/i;
const SIGXCPU_EXIT = 128 + 24;
const SIGKILL_EXIT = 128 + 9;

function classify(raw: RawRun, test: TestCase, fnName?: string): TestVerdict {
  const base = { timeMs: Math.round(raw.timeMs), stderr: excerpt(raw.stderr) };
  if (raw.spawnError) return { ...base, verdict: 'runtime_error', detail: `spawn failed: ${raw.spawnError}` };
  if (raw.outputLimit) return { ...base, verdict: 'runtime_error', detail: 'output limit' };
  if (raw.wallTimeout) return { ...base, verdict: 'time_limit', detail: 'wall-clock limit' };
  if (raw.code !== 0 && MEMORY_RE.test(raw.stderr)) return { ...base, verdict: 'memory_limit', detail: 'memory limit' };
  if (raw.code === SIGXCPU_EXIT || raw.code === SIGKILL_EXIT) {
    return { ...base, verdict: 'time_limit', detail: raw.code === SIGXCPU_EXIT ? 'CPU limit (SIGXCPU)' : 'killed (SIGKILL)' };
  }
  if (raw.code !== 0) {
    const detail = raw.code === null ? `signal ${raw.signal}` : raw.code > 128 ? `signal ${raw.code - 128}` : `exit code ${raw.code}`;
    return { ...base, verdict: 'runtime_error', detail };
  }
  const cmp = fnName === undefined ? compareStdio(test.output, raw.stdout) : compareCallResult(test.output, raw.stdout);
  return cmp.ok ? { ...base, verdict: 'pass' } : { ...base, verdict: 'wrong_answer', detail: cmp.reason };
}

async function mapPool<T, R>(items: T[], width: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(width, items.length)) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  });
  await Promise.all(workers);
  return results;
}

/**
 * Runs `code` on every test in fresh sandboxes; see the header for the guarantees. Stdin → stdout by default;
 * with `fnName`, LiveCodeBench's call-based mode (see call-based.ts).
 */
export async function runPython(code: string, tests: TestCase[], limits: SandboxLimits = DEFAULT_LIMITS, fnName?: string): Promise<RunResult> {
  if (!(await sandboxAvailable())) {
    throw new SandboxUnavailableError(
      `bubblewrap sandbox is not usable${findBwrap() ? ` (${lastProbeError ?? 'probe failed'})` : ''}: install Debian package bubblewrap`,
    );
  }
  // compile check, once per program, in the same kind of sandbox
  const check = await runOnce(code, ['-c', COMPILE_CHECK], '', { ...limits, maxOutputBytes: 65536 });
  if (check.code === 3) {
    const msg = excerpt(check.stderr) ?? 'SyntaxError';
    return { verdicts: tests.map(() => ({ verdict: 'compile_error' as const, timeMs: 0, stderr: msg, detail: msg })) };
  }
  const width = limits.parallelism ?? os.availableParallelism();
  const program = fnName === undefined ? code : code + callDriver(fnName);
  const verdicts = await mapPool(tests, width, async (t) => classify(await runOnce(program, ['-c', PRELUDE], t.input, limits), t, fnName));
  return { verdicts };
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
      if (raw.code === 0 && raw.stdout.trim() === '42') return true;
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
