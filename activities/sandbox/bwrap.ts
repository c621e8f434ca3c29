/**
 * The bubblewrap sandbox that every untrusted Python program runs in (both modes of python-sandbox.ts).
 *
 * WHAT IS GUARANTEED, AND HOW
 * ---------------------------
 * A sandbox is one `bwrap` (Debian package `bubblewrap`) process tree. In 'fresh' mode it runs one test; in 'fork'
 * mode it holds a pre-started interpreter (fork_server.py) that forks a child per test of the programs it is lent.
 *  - Namespaces: new PID, network, IPC, UTS (and cgroup where possible) namespaces. With no network
 *    namespace peers there is only a down loopback: any connect() (internet or host 127.0.0.1) fails.
 *    Killing bwrap (wall timeout, output limit, retiring a fork server, or the worker dying:
 *    `--die-with-parent`) kills the PID-namespace init and with it every process inside (no stray
 *    grandchildren, even ones that called setsid). `kill(-1, 9)` inside only reaches processes of the sandbox.
 *  - Filesystem: a fresh root with read-only binds of /usr (plus /lib, /lib64, /bin symlinks into it)
 *    and of the Python installation (`sys.base_prefix` of the host `python3`, resolved through the pyenv
 *    shim) mounted at /opt/python; a fresh /proc and a minimal /dev; under /box the program (fresh mode) or the
 *    fork server script (read-only); a 64 MiB tmpfs /scratch as cwd and a 16 MiB tmpfs /dev/shm (POSIX semaphores) as the only
 *    writable places. No /etc,
 *    /root, /home, /work or host /tmp are visible.
 *  - Environment: `--clearenv`; only PATH, HOME=/scratch, LANG=C.UTF-8 and PYTHON* settings are set.
 *  - Identity: when the worker runs as root, bwrap runs without a user namespace (privileged setup of
 *    the mounts), keeps only CAP_SETUID/CAP_SETGID for `setpriv`, which switches to an unprivileged uid/gid
 *    (60000 + slot, a distinct uid per live sandbox so RLIMIT_NPROC counts only that sandbox and kill(-1)
 *    reaches nothing outside it), clears supplementary groups, and empties the inheritable and bounding
 *    capability sets; bwrap also sets no_new_privs. When the worker is not root, bwrap uses a user namespace
 *    (`--unshare-all`) and runs the program as uid/gid 65534 inside it (this path is not exercised by
 *    the tests on our root-only machine).
 *  - Resource limits of a test (fresh mode: `prlimit` on the interpreter; fork mode: setrlimit in the forked
 *    child, the same values with one more process for the server itself): RLIMIT_CPU (soft = ceil(cpuTimeMs),
 *    hard = soft + 1 s: SIGXCPU then SIGKILL), RLIMIT_AS = memoryMb, RLIMIT_NPROC = maxProcesses, RLIMIT_FSIZE
 *    (just over maxOutputBytes, at least 1 MiB), RLIMIT_CORE = 0; a wall-clock limit (wallTimeMs) that SIGKILLs
 *    the test; stdout is kept up to maxOutputBytes (more → runtime_error 'output limit'), stderr up to 64 KiB
 *    (a ≤ 2 KiB tail is reported).
 *  - Fork mode between tests: the server SIGKILLs every other process of its uid and empties /scratch and /dev/shm, so a test
 *    leaves nothing (files, background processes) for the next; the server is non-dumpable, so a test child
 *    cannot ptrace it or open its /proc files; a server that a test killed or stopped is replaced and that test
 *    re-run in a fresh sandbox (same verdict as fresh mode).
 *  - Python: as the published LiveCodeBench harness, sys.setrecursionlimit(50000) and
 *    sys.set_int_max_str_digits(50000) are set before the program runs as `__main__`.
 *  - A program that does not compile gets compile_error for every test, with the message.
 *  - Syscalls (x86-64): a seccomp filter (seccomp.ts) refuses new namespaces, ptrace and cross-process memory
 *    access, BPF, io_uring, userfaultfd, keyrings, module loading, mounts and other administrative calls.
 * NOT guaranteed: protection against kernel exploits through the syscalls that remain open (a denylist, not an
 * allowlist), exact CPU-time accounting in fresh mode (timeMs is wall time; fork mode also reports cpuMs), and a
 * venv's site-packages (only the base interpreter is bound).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import * as path from 'node:path';
import { joinGroupCommand, type SandboxCgroup } from './cgroup';
import { seccompFilter } from './seccomp';
import type { SandboxLimits } from './types';

export class SandboxUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SandboxUnavailableError';
  }
}

export const SCRATCH_BYTES = 64 * 1024 * 1024;
const SHM_BYTES = 16 * 1024 * 1024;

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
    // the system interpreter lives under /usr, which the sandbox binds anyway: no other host path is mounted
    const py = process.env.PROMPTCOT_SANDBOX_PYTHON ?? (isExecutable(SYSTEM_PYTHON) ? SYSTEM_PYTHON : 'python3');
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

const SYSTEM_PYTHON = '/usr/bin/python3';

function isExecutable(file: string): boolean {
  try {
    accessSync(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
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

/** What runs inside the sandbox: Python with `pythonArgs`, optionally under per-process `rlimits`. */
export interface SandboxedPython {
  /** files placed read-only at /box/<name> (the program of a fresh run, its stdin, the fork server script) */
  roFiles?: Record<string, Buffer>;
  /** resource limits applied with prlimit to the interpreter; omitted for the fork server, which limits each test child itself */
  rlimits?: SandboxLimits;
  /** the control group the whole sandbox runs in (see cgroup.ts) */
  cgroup?: SandboxCgroup;
  pythonArgs: string[];
}

export interface SandboxCommand {
  cmd: string;
  args: string[];
  /** bytes to write to extra fds of the spawned bwrap (fd → bytes): the seccomp filter and the data files */
  fdInputs: Map<number, Buffer>;
}

/** /proc files that would show the host (its kernel command line) or the bwrap command line: read as empty */
const HIDDEN_PROC_FILES = ['/proc/cmdline', '/proc/1/cmdline'];

/** The bwrap command line; the caller spawns it with pipes on the fds of `fdInputs` (spawnSandbox). */
export function buildCommand(bwrap: string, py: PythonInstall, uid: number, what: SandboxedPython): SandboxCommand {
  const fdInputs = new Map<number, Buffer>();
  const dataFd = (bytes: Buffer) => {
    const fd = 3 + fdInputs.size;
    fdInputs.set(fd, bytes);
    return String(fd);
  };
  const args: string[] = [];
  if (isRoot()) {
    args.push('--unshare-ipc', '--unshare-pid', '--unshare-net', '--unshare-uts', '--unshare-cgroup-try');
  } else {
    args.push('--unshare-all', '--uid', '65534', '--gid', '65534');
  }
  args.push('--hostname', 'sandbox', '--die-with-parent', '--new-session');
  args.push('--ro-bind', '/usr', '/usr', '--symlink', 'usr/lib', '/lib', '--symlink', 'usr/lib64', '/lib64');
  args.push('--symlink', 'usr/bin', '/bin', '--symlink', 'usr/sbin', '/sbin');
  if (py.hostPrefix) args.push('--perms', '0755', '--dir', '/opt', '--ro-bind', py.hostPrefix, '/opt/python');
  args.push('--proc', '/proc', '--dev', '/dev');
  for (const file of HIDDEN_PROC_FILES) args.push('--perms', '0444', '--ro-bind-data', dataFd(Buffer.alloc(0)), file);
  // POSIX semaphores and shared memory (multiprocessing's locks) need a writable /dev/shm
  args.push('--perms', '01777', '--size', String(SHM_BYTES), '--tmpfs', '/dev/shm');
  args.push('--perms', '0755', '--dir', '/box');
  for (const [name, bytes] of Object.entries(what.roFiles ?? {}))
    args.push('--perms', '0444', '--ro-bind-data', dataFd(bytes), `/box/${name}`);
  args.push('--perms', '01777', '--size', String(SCRATCH_BYTES), '--tmpfs', '/scratch', '--chdir', '/scratch');
  args.push('--remount-ro', '/');
  args.push('--clearenv');
  const filter = seccompFilter();
  if (filter) args.push('--seccomp', dataFd(filter));
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
  const command = what.cgroup ? joinGroupCommand(what.cgroup, bwrap, args) : { cmd: bwrap, args };
  return { ...command, fdInputs };
}

/**
 * Spawns a sandbox command with pipes on stdin/stdout/stderr and writes the command's fd inputs (seccomp filter,
 * data files) to theirs. The worker's other descriptors are not passed on: the ones Node opened are close-on-exec,
 * inherited ones are closed at worker start (descriptors.ts), and everything inside closes all fds above 2 before
 * any program runs.
 */
export function spawnSandbox(command: SandboxCommand): ChildProcess {
  const inputs = command.fdInputs;
  const highest = Math.max(2, ...inputs.keys());
  const stdio = Array.from({ length: highest + 1 }, (_, fd) =>
    fd <= 2 || inputs.has(fd) ? 'pipe' : 'ignore',
  ) as Array<'pipe' | 'ignore'>;
  const child = spawn(command.cmd, command.args, { stdio });
  for (const [fd, bytes] of inputs) {
    const pipe = child.stdio[fd] as NodeJS.WritableStream | null;
    if (!pipe) continue;
    pipe.on('error', () => {
      /* EPIPE when bwrap failed early */
    });
    pipe.end(bytes);
  }
  return child;
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
  return [
    `--cpu=${v.cpuSec}:${v.cpuSec + 1}`,
    `--as=${v.asBytes}`,
    `--nproc=${v.nproc}`,
    `--fsize=${v.fsize}`,
    '--core=0',
  ];
}
