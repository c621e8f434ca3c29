/**
 * Sandboxed JavaScript execution for code rewards (stdin/stdout mode) and for user-supplied output checkers.
 *
 * WHAT IS GUARANTEED, AND HOW
 * ---------------------------
 *  - No Node APIs inside: programs run in an isolated-vm isolate (a separate V8 heap) holding only the
 *    ECMAScript built-ins plus an in-isolate shim (js-host.ts) written in plain JavaScript: process (argv,
 *    env = {}, exit, stdin/stdout/stderr, nextTick, hrtime), console, a small Buffer, TextEncoder/TextDecoder,
 *    timers, and `require` of 'fs' (stdin/stdout/stderr only), 'readline' and 'events'; any other module throws
 *    "module not available in the sandbox: X". Only primitive strings and numbers cross into the isolate,
 *    plus three host callbacks that accept primitives, so no host object (real process, fs, require, host
 *    Buffer) is reachable, including through `constructor.constructor` tricks (they reach the isolate's own
 *    Function). A fresh isolate is created for every test and disposed afterwards: no state is shared.
 *  - Hosts are killable processes: isolates live in a pool of long-lived child processes (`js-host.ts`,
 *    forked with `--no-node-snapshot` and a minimal environment, so the worker's secrets are not even in the
 *    host's environment). A V8 fatal error (isolates can abort the whole process on some allocation patterns)
 *    kills a host, never the worker; the request gets memory_limit (OOM signature on the host's stderr) or
 *    runtime_error "sandbox host crashed: ...", and a replacement host is started for the next request. At
 *    most one request is in flight per host. Hosts do not keep the worker alive (unref'd), are SIGKILLed when
 *    the worker exits, and SIGKILL themselves when their IPC channel to the worker closes (worker killed).
 *  - Time: the isolate timeout is min(cpuTimeMs, wallTimeMs) for the whole run (main script, then the event
 *    loop: stdin events, immediates, timers on a virtual clock); a parent-side watchdog SIGKILLs a host that
 *    does not answer within wallTimeMs + 1.5 s. Either gives time_limit.
 *  - Memory: the isolate's memoryLimit = memoryMb (minimum 8); exceeding it disposes the isolate or aborts the
 *    host (memory_limit). Allocation failures that V8 reports as a RangeError (Invalid string length, array
 *    buffer allocation failed) are memory_limit too. A parent-side guard polls the host's RSS and SIGKILLs it
 *    (memory_limit) when it grows by more than 2 × memoryMb + 96 MiB during a request: some allocation
 *    patterns grow the process far past the isolate limit without V8 stopping them.
 *  - Output: stdout up to maxOutputBytes (more → the run is stopped, runtime_error 'output limit'); stderr up
 *    to 64 KiB, of which a ≤ 2 KiB tail is reported.
 * Verdicts (as the Python sandbox): compile_error (SyntaxError, checked once per program) for every test;
 * memory_limit; time_limit; runtime_error (uncaught exception, nonzero process.exit, output limit, host
 * crash); otherwise the LiveCodeBench stdio comparison decides pass / wrong_answer.
 *
 * NOT guaranteed:
 *  - isolated-vm's timeout is the wall time of the script run, not CPU time (timeMs is wall time too); a
 *    loaded machine makes programs look slower.
 *  - Protection against V8 / isolated-vm bugs (a V8 exploit runs with the host process's rights: the host is
 *    a plain child process of the worker, with no seccomp or namespace of its own).
 *  - Node fidelity of the shim: unhandled promise rejections are not detected (Node would exit with code 1),
 *    ES module syntax (`import`) is a compile_error, console.log of objects is a one-line approximation of
 *    util.inspect, stdin arrives as a single chunk, and timers use a virtual clock (they never wait).
 *  - The RSS guard reads /proc (Linux only; elsewhere only the isolate limit applies) every 50 ms, so a host
 *    can briefly exceed its bound.
 *  - `--no-node-snapshot` (recommended by isolated-vm for Node ≥ 20 because of V8's shared read-only heap)
 *    is passed to the hosts; on Node 24.21 we could not reproduce a crash without it (1,500 runs), so it is
 *    a precaution, not a verified necessity.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { compareStdio } from './compare';
import { compileErrors, excerpt, mapPool } from './common';
import type { CheckReply, HostReply, HostRequest, ReadyMessage, RunReply } from './js-host';
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

/** A user-supplied checker is broken (does not compile, has no check(), throws, loops, returns garbage). */
export class CheckerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckerError';
  }
}

/** The sandbox host process could not be started at all (an installation problem, not a verdict). */
export class JsSandboxUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JsSandboxUnavailableError';
  }
}

const WATCHDOG_MARGIN_MS = 1500;
const STARTUP_TIMEOUT_MS = 30_000;
const RSS_POLL_MS = 50;
const HOST_LOG_CAP = 16 * 1024;
/** A host serves this many requests, then is replaced (bounds slow leaks of a long-lived process). */
const RETIRE_AFTER = 2000;
const OOM_RE =
  /out of memory|is_heap_oom|Last few GCs|bad_alloc|allocation failed|invalid size error|CALL_AND_RETRY_LAST|Heap statistics/i;

function hostEntry(): { file: string; execArgv: string[] } {
  const js = path.join(__dirname, 'js-host.js');
  if (__filename.endsWith('.js') && existsSync(js)) return { file: js, execArgv: ['--no-node-snapshot'] };
  return {
    file: path.join(__dirname, 'js-host.ts'),
    execArgv: ['--no-node-snapshot', '--require', require.resolve('tsx/cjs')],
  };
}

/** Only what Node needs; nothing of the worker's environment (API keys, tokens) reaches the host. */
function hostEnv(): NodeJS.ProcessEnv {
  return { PATH: '/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8' };
}

function readRssBytes(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

type Outcome =
  | { kind: 'reply'; reply: HostReply; ms: number }
  | { kind: 'watchdog'; ms: number }
  | { kind: 'rss'; ms: number; rssMb: number }
  | { kind: 'crash'; ms: number; code: number | null; signal: NodeJS.Signals | null; log: string; oom: boolean }
  | { kind: 'shutdown'; ms: number };

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type HostMessage = DistributiveOmit<HostRequest, 'id'>;

class Host {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  dead = false;
  served = 0;
  private log = '';
  /** characters ever appended to `log` (it keeps only the last HOST_LOG_CAP) */
  private logTotal = 0;
  private logAtRequest = 0;
  private nextId = 1;
  private settle?: (o: Outcome) => void;
  private stopping = false;

  constructor() {
    const entry = hostEntry();
    this.child = fork(entry.file, [], {
      execArgv: entry.execArgv,
      env: hostEnv(),
      serialization: 'advanced',
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const keep = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      this.logTotal += text.length;
      this.log = (this.log + text).slice(-HOST_LOG_CAP);
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    this.unref();
    this.ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.kill();
        reject(
          new JsSandboxUnavailableError(
            `JavaScript sandbox host did not start within ${STARTUP_TIMEOUT_MS} ms: ${this.log.slice(-2000)}`,
          ),
        );
      }, STARTUP_TIMEOUT_MS);
      const onMessage = (m: ReadyMessage) => {
        if (m?.kind !== 'ready') return;
        clearTimeout(timer);
        this.child.off('message', onMessage);
        resolve();
      };
      this.child.on('message', onMessage);
      this.child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(
          new JsSandboxUnavailableError(
            `JavaScript sandbox host exited during startup (code ${code}, signal ${signal}): ${this.log.slice(-2000)}`,
          ),
        );
      });
    });
    this.ready.catch(() => undefined);
    this.child.on('error', () => undefined);
    this.child.on('exit', () => {
      this.dead = true;
      allHosts.delete(this);
    });
    // 'close' comes after 'exit' once the host's stdout/stderr are drained: the crash log is complete.
    this.child.on('close', (code: number | null, signal: NodeJS.Signals | null) => {
      this.dead = true;
      allHosts.delete(this);
      const settle = this.settle;
      this.settle = undefined;
      if (!settle) return;
      if (this.stopping) {
        settle({ kind: 'shutdown', ms: 0 });
        return;
      }
      // only what the host printed during this request
      const fresh = Math.min(HOST_LOG_CAP, this.logTotal - this.logAtRequest);
      const log = fresh > 0 ? this.log.slice(-fresh) : '';
      settle({ kind: 'crash', ms: 0, code, signal, log, oom: OOM_RE.test(log) });
    });
    this.child.on('message', (m: HostReply | ReadyMessage) => {
      if (m?.kind === 'ready') return;
      const settle = this.settle;
      this.settle = undefined;
      settle?.({ kind: 'reply', reply: m, ms: 0 });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private unref(): void {
    this.child.unref();
    this.child.channel?.unref();
    (this.child.stdout as unknown as { unref?: () => void } | null)?.unref?.();
    (this.child.stderr as unknown as { unref?: () => void } | null)?.unref?.();
  }

  kill(): void {
    if (this.dead) return;
    try {
      this.child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }

  /** Kills the host and resolves once it has been reaped. */
  stop(): Promise<void> {
    this.stopping = true;
    if (this.dead || this.child.exitCode !== null || this.child.signalCode !== null) {
      this.dead = true;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      this.child.once('close', () => resolve());
      this.kill();
    });
  }

  /** One request; the watchdog and the RSS guard SIGKILL the host when it overruns. */
  request(msg: HostMessage, limits: SandboxLimits): Promise<Outcome> {
    if (this.dead)
      return Promise.resolve({ kind: 'crash', ms: 0, code: null, signal: null, log: 'host already dead', oom: false });
    this.served++;
    this.logAtRequest = this.logTotal;
    const started = performance.now();
    const pid = this.child.pid!;
    const rssStart = readRssBytes(pid);
    const rssBound = rssStart === undefined ? undefined : rssStart + (2 * limits.memoryMb + 96) * 1024 * 1024;
    return new Promise<Outcome>((resolve) => {
      let rssKill: number | undefined;
      let watchdogKill = false;
      const timer = setTimeout(() => {
        watchdogKill = true;
        this.kill();
      }, limits.wallTimeMs + WATCHDOG_MARGIN_MS);
      const poll =
        rssBound === undefined
          ? undefined
          : setInterval(() => {
              const rss = readRssBytes(pid);
              if (rss !== undefined && rss > rssBound && rssKill === undefined) {
                rssKill = rss;
                this.kill();
              }
            }, RSS_POLL_MS);
      poll?.unref();
      this.child.channel?.ref();
      this.settle = (o) => {
        clearTimeout(timer);
        if (poll) clearInterval(poll);
        this.child.channel?.unref();
        const ms = performance.now() - started;
        if (o.kind === 'crash' && rssKill !== undefined)
          resolve({ kind: 'rss', ms, rssMb: Math.round(rssKill / 2 ** 20) });
        else if (o.kind === 'crash' && watchdogKill) resolve({ kind: 'watchdog', ms });
        else resolve({ ...o, ms });
      };
      const id = this.nextId++;
      try {
        this.child.send({ ...msg, id } as HostRequest);
      } catch (e) {
        this.kill();
        this.log += `\nsend failed: ${(e as Error).message}`;
      }
    });
  }
}

// ---- the pool: shared by every caller in this process ----
const allHosts = new Set<Host>();
const idleHosts: Host[] = [];
const waiters: Array<() => void> = [];
let capacity = 0;
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const h of allHosts) h.kill();
  });
}

async function acquire(width: number): Promise<Host> {
  for (;;) {
    // (inside the loop: a waiter woken by shutdownJsSandbox, which zeroes the capacity, must restore it)
    capacity = Math.max(capacity, width);
    while (idleHosts.length > 0) {
      const h = idleHosts.pop()!;
      if (!h.dead) return h;
    }
    if (allHosts.size < capacity) {
      installExitHook();
      const h = new Host();
      allHosts.add(h);
      try {
        await h.ready;
      } catch (e) {
        allHosts.delete(h);
        wakeOne();
        throw e;
      }
      return h;
    }
    await new Promise<void>((resolve) => waiters.push(resolve));
  }
}

function wakeOne(): void {
  waiters.shift()?.();
}

function release(h: Host): void {
  if (h.dead || h.served >= RETIRE_AFTER) {
    allHosts.delete(h);
    h.kill();
  } else {
    idleHosts.push(h);
  }
  wakeOne();
}

async function withHost<T>(width: number, fn: (h: Host) => Promise<T>): Promise<T> {
  const h = await acquire(width);
  try {
    return await fn(h);
  } finally {
    release(h);
  }
}

/** Kills every host (waiting until they are reaped); the pool starts new ones on the next request. */
export async function shutdownJsSandbox(): Promise<void> {
  const hosts = [...allHosts];
  allHosts.clear();
  idleHosts.length = 0;
  capacity = 0;
  await Promise.all(hosts.map((h) => h.stop()));
  while (waiters.length > 0) wakeOne();
}

/** PIDs of the live sandbox host processes (for tests and diagnostics). */
export function jsSandboxHostPids(): number[] {
  return [...allHosts].map((h) => h.pid).filter((p): p is number => p !== undefined);
}

// ---- verdicts ----

function crashDetail(o: Extract<Outcome, { kind: 'crash' }>): string {
  const how = o.signal ? `signal ${o.signal}` : `exit code ${o.code}`;
  const lastLine =
    o.log
      .trim()
      .split('\n')
      .filter((l) => l.trim() !== '')
      .slice(-1)[0] ?? '';
  return `sandbox host crashed: ${how}${lastLine ? `: ${lastLine.slice(0, 300)}` : ''}`;
}

/** A host crash by SIGSEGV / SIGBUS / SIGILL (a fault, not a kill or isolated-vm's own abort) that no memory limit explains. */
function hostFault(o: Outcome): boolean {
  return o.kind === 'crash' && !o.oom && ['SIGSEGV', 'SIGBUS', 'SIGILL'].includes(o.signal ?? '');
}

function failureVerdict(o: Exclude<Outcome, { kind: 'reply' }>): TestVerdict {
  const timeMs = Math.round(o.ms);
  switch (o.kind) {
    case 'watchdog':
      return { verdict: 'time_limit', timeMs, detail: 'wall-clock limit (sandbox host killed)' };
    case 'rss':
      return { verdict: 'memory_limit', timeMs, detail: `memory limit (sandbox host grew to ${o.rssMb} MiB)` };
    case 'shutdown':
      return { verdict: 'runtime_error', timeMs, detail: 'sandbox shut down during the run' };
    case 'crash':
      return o.oom
        ? { verdict: 'memory_limit', timeMs, detail: 'memory limit (V8 out of memory)', stderr: excerpt(o.log) }
        : { verdict: 'runtime_error', timeMs, detail: crashDetail(o), stderr: excerpt(o.log) };
  }
}

async function classifyRun(r: RunReply, test: TestCase, judge?: Judge): Promise<TestVerdict> {
  const base = { timeMs: Math.round(r.timeMs), stderr: excerpt(r.stderr) };
  if (r.outputLimit) return { ...base, verdict: 'runtime_error', detail: 'output limit' };
  if (r.memoryExceeded) return { ...base, verdict: 'memory_limit', detail: 'memory limit' };
  if (r.timedOut) return { ...base, verdict: 'time_limit', detail: 'time limit' };
  if (r.exitCode !== 0) {
    const why = r.error ? ` (${r.error.slice(0, 200)})` : '';
    return { ...base, verdict: 'runtime_error', detail: `exit code ${r.exitCode}${why}` };
  }
  const cmp = judge ? await judge(test, r.stdout) : compareStdio(test.output, r.stdout);
  return cmp.ok ? { ...base, verdict: 'pass' } : { ...base, verdict: 'wrong_answer', detail: cmp.reason };
}

function widthOf(limits: SandboxLimits): number {
  return Math.max(1, Math.floor(limits.parallelism ?? os.availableParallelism()));
}

/** Runs `code` (JavaScript, stdin → stdout) on every test, each in a fresh isolate; see the header. */
export interface JsRunOptions {
  /** Decides pass / wrong_answer instead of the stdio rules (a custom checker). */
  judge?: Judge;
  /** Stops scheduling tests (running ones finish); runJavaScript then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Called after each test's verdict (e.g. to heartbeat). */
  onVerdict?: (index: number, verdict: TestVerdict) => void;
}

export async function runJavaScript(
  code: string,
  tests: TestCase[],
  limits: SandboxLimits = DEFAULT_LIMITS,
  options: JsRunOptions = {},
): Promise<RunResult> {
  const width = widthOf(limits);
  const compiled = await withHost(width, (h) => h.request({ kind: 'compile', code, limits }, limits));
  if (compiled.kind === 'reply' && compiled.reply.kind === 'compile' && !compiled.reply.ok)
    return compileErrors(tests, compiled.reply.error ?? 'SyntaxError');
  // Anything else (the compile step crashed or overran): the runs below classify the problem per test.
  const runTest = async (test: TestCase): Promise<TestVerdict> => {
    // the host is given back before judging: a custom checker needs a host of its own
    const run = () => withHost(width, (h) => h.request({ kind: 'run', code, input: test.input, limits }, limits));
    let o = await run();
    // A host that dies of a signal, not of a limit (isolated-vm can fault while it stops a timed-out isolate), is
    // the sandbox's failure rather than the program's: the test runs once more on a fresh host, and a second crash
    // is the verdict.
    if (hostFault(o)) o = await run();
    if (o.kind !== 'reply') return failureVerdict(o);
    if (o.reply.kind === 'run') return classifyRun(o.reply, test, options.judge);
    const error = o.reply.kind === 'fail' ? o.reply.error : `unexpected reply ${o.reply.kind}`;
    return { verdict: 'runtime_error', timeMs: Math.round(o.ms), detail: `sandbox host error: ${error.slice(0, 500)}` };
  };
  const verdicts = await mapPool(
    tests,
    width,
    async (test, i) => {
      const verdict = await runTest(test);
      options.onVerdict?.(i, verdict);
      return verdict;
    },
    options.signal,
  );
  return { verdicts };
}

/**
 * Runs a checker (JavaScript defining a global `check(input, expected, actual)` that returns true/false or
 * {ok, reason?}) in a fresh isolate under the same time and memory limits. A broken checker throws CheckerError.
 */
export async function runChecker(
  checker: string,
  test: { input: string; expected: string; actual: string },
  limits: SandboxLimits = DEFAULT_LIMITS,
): Promise<{ ok: boolean; reason?: string }> {
  const o = await withHost(widthOf(limits), (h) =>
    h.request(
      { kind: 'check', checker, input: test.input, expected: test.expected, actual: test.actual, limits },
      limits,
    ),
  );
  if (o.kind !== 'reply') {
    const v = failureVerdict(o);
    const what =
      v.verdict === 'time_limit'
        ? 'checker exceeded the wall-clock limit'
        : v.verdict === 'memory_limit'
          ? 'checker ran out of memory'
          : `checker crashed the sandbox host (${v.detail})`;
    throw new CheckerError(what);
  }
  const r = o.reply;
  if (r.kind === 'fail') throw new CheckerError(`checker could not be run: ${r.error}`);
  if (r.kind !== 'check') throw new CheckerError(`unexpected reply ${r.kind} to a check request`);
  const c: CheckReply = r;
  if (c.error !== undefined || typeof c.ok !== 'boolean') throw new CheckerError(c.error ?? 'checker gave no verdict');
  return c.reason !== undefined ? { ok: c.ok, reason: c.reason } : { ok: c.ok };
}
