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
import { execFile } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import * as path from 'node:path';
import type { SandboxLimits } from './types';

export class SandboxUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SandboxUnavailableError';
  }
}

export const SCRATCH_BYTES = 64 * 1024 * 1024;
const UID_BASE = 60000;
const UID_SLOTS = 4096;

export interface PythonInstall {
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

export function findBwrap(): string | undefined {
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

export const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

// ---- uid slots: one distinct uid per concurrently running sandbox (root mode) ----
const usedUids = new Set<number>();
export function takeUid(): number {
  for (let i = 0; i < UID_SLOTS; i++) {
    if (!usedUids.has(UID_BASE + i)) {
      usedUids.add(UID_BASE + i);
      return UID_BASE + i;
    }
  }
  throw new Error('no free sandbox uid slot');
}

export function releaseUid(uid: number): void {
  usedUids.delete(uid);
}

/** What runs inside the sandbox: Python with `pythonArgs`, optionally under per-process `rlimits`. */
export interface SandboxedPython {
  /** host files bound read-only at /box/<name> (the fork server script) */
  roFiles?: Record<string, string>;
  /** when set, fd 3 of the spawned process is written to /box/main.py (the program of a fresh run) */
  programOnFd3?: boolean;
  /** resource limits applied with prlimit to the interpreter; omitted for the fork server, which limits each test child itself */
  rlimits?: SandboxLimits;
  pythonArgs: string[];
}

export function buildCommand(bwrap: string, py: PythonInstall, uid: number, what: SandboxedPython): { cmd: string; args: string[] } {
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
  args.push('--perms', '0755', '--dir', '/box');
  if (what.programOnFd3) args.push('--perms', '0444', '--file', '3', '/box/main.py');
  for (const [name, hostPath] of Object.entries(what.roFiles ?? {})) args.push('--ro-bind', hostPath, `/box/${name}`);
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
  if (what.rlimits) args.push('/usr/bin/prlimit', ...prlimitArgs(what.rlimits), '--');
  args.push(py.interpreter, ...what.pythonArgs);
  return { cmd: bwrap, args };
}

/** The per-process limits of one test, as prlimit arguments (soft = hard except CPU: SIGXCPU, then SIGKILL 1 s later). */
export function rlimitValues(limits: SandboxLimits): { cpuSec: number; asBytes: number; nproc: number; fsize: number } {
  return {
    cpuSec: Math.max(1, Math.ceil(limits.cpuTimeMs / 1000)),
    asBytes: Math.floor(limits.memoryMb * 1024 * 1024),
    nproc: limits.maxProcesses,
    fsize: Math.max(limits.maxOutputBytes + 1, 1024 * 1024),
  };
}

function prlimitArgs(limits: SandboxLimits): string[] {
  const v = rlimitValues(limits);
  return [`--cpu=${v.cpuSec}:${v.cpuSec + 1}`, `--as=${v.asBytes}`, `--nproc=${v.nproc}`, `--fsize=${v.fsize}`, '--core=0'];
}
