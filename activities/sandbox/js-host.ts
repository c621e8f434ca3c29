/**
 * JavaScript sandbox host: the entry of a child process started by js-sandbox.ts (never imported by the
 * worker itself). It serves one request at a time over the Node IPC channel; every request gets a fresh
 * isolated-vm isolate, which is disposed before the answer is sent.
 *
 *  - `compile` {code}: does the program compile (wrapped like a CommonJS module)?
 *  - `run` {code, input, limits}: runs the program with `input` as stdin, behind the in-isolate shim below
 *    (a small stdin/stdout/`require` emulation written for competitive-programming style programs).
 *  - `check` {checker, input, expected, actual, limits}: runs a user-supplied output checker.
 *
 * The isolate only ever sees primitive strings and numbers copied in, and three host callbacks (write to
 * stdout/stderr, exit) that accept primitives; no host object (process, require, Buffer, fs, ...) is
 * reachable from inside. Isolate calls are asynchronous so that this process's main thread stays free: if
 * the parent goes away (IPC disconnect) the host SIGKILLs itself even while an isolate is still busy.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import ivm from 'isolated-vm';
import type { SandboxLimits } from './types';

export interface CompileRequest {
  id: number;
  kind: 'compile';
  code: string;
  limits: SandboxLimits;
}

export interface RunRequest {
  id: number;
  kind: 'run';
  code: string;
  input: string;
  limits: SandboxLimits;
}

export interface CheckRequest {
  id: number;
  kind: 'check';
  checker: string;
  input: string;
  expected: string;
  actual: string;
  limits: SandboxLimits;
}

export type HostRequest = CompileRequest | RunRequest | CheckRequest;

export interface CompileReply {
  id: number;
  kind: 'compile';
  ok: boolean;
  error?: string;
}

export interface RunReply {
  id: number;
  kind: 'run';
  /** exit status; null when the run was cut short (timeout, memory, output limit) */
  exitCode: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  memoryExceeded: boolean;
  outputLimit: boolean;
  timeMs: number;
  /** uncaught exception (first line) or an internal failure of the run */
  error?: string;
}

export interface CheckReply {
  id: number;
  kind: 'check';
  ok?: boolean;
  reason?: string;
  /** set when the checker itself is broken */
  error?: string;
}

/** An unexpected failure of the host while serving a request. */
export interface FailReply {
  id: number;
  kind: 'fail';
  error: string;
}

export type HostReply = CompileReply | RunReply | CheckReply | FailReply;

export interface ReadyMessage {
  kind: 'ready';
  pid: number;
}

const STDERR_CAP = 64 * 1024;
const REASON_CAP = 2000;
export const PROGRAM_FILENAME = '/box/main.js';
// Node's CommonJS wrapper on a line of its own; lineOffset -1 keeps the program's line numbers right.
const WRAP_HEAD = '(function (exports, require, module, __filename, __dirname) {\n';
const WRAP_TAIL = '\n})';

/** The program as Node would compile it: hashbang line blanked, wrapped in the CommonJS function. */
export function wrapProgram(code: string): string {
  const body = code.startsWith('#!') ? '//' + code.slice(2) : code;
  return WRAP_HEAD + body + WRAP_TAIL;
}

/** The in-isolate runtime (js-shim.js beside this file): see its header. */
const SHIM = readFileSync(path.join(__dirname, 'js-shim.js'), 'utf8');
/** Check harness: validates what the checker's check() returned; copied out as a plain object. */
const CHECK_HARNESS = String.raw`
if (typeof check !== 'function') return { bad: 'the checker defines no global function check(input, expected, actual)' };
const r = check($0, $1, $2);
if (r === true || r === false) return { ok: r };
if (r !== null && typeof r === 'object' && typeof r.ok === 'boolean') {
  const reason = r.reason;
  return { ok: r.ok, reason: reason === undefined || reason === null ? null : String(reason) };
}
return { bad: 'check() returned ' + (r === null ? 'null' : typeof r === 'object' ? 'an object without a boolean ok' : typeof r) + ', not true/false or {ok, reason}' };
`;

/** A console that discards, and `global`; in a function so that it declares no global names of its own. */
const CHECKER_GLOBALS = String.raw`
(function () {
  const noop = function () {};
  Object.defineProperty(globalThis, 'console', { value: { log: noop, error: noop, warn: noop, info: noop, debug: noop }, writable: true, configurable: true });
  Object.defineProperty(globalThis, 'global', { value: globalThis, writable: true, configurable: true });
})();
`;

/** Error messages that mean the program ran out of memory even though V8 surfaced them as a RangeError. */
const MEMORY_ERROR_RE = /Invalid string length|Array buffer allocation failed|allocation failed|out of memory/i;

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function newIsolate(limits: SandboxLimits): ivm.Isolate {
  return new ivm.Isolate({
    memoryLimit: Math.max(8, Math.floor(limits.memoryMb)),
    onCatastrophicError: (msg: string) => {
      process.stderr.write(`isolated-vm catastrophic error: ${msg}\n`);
      process.abort();
    },
  });
}

/** Time left of a budget, for the next isolate call; 0 when spent. */
function budget(limits: SandboxLimits): () => number {
  const total = Math.max(1, Math.min(limits.cpuTimeMs, limits.wallTimeMs));
  const started = performance.now();
  return () => Math.max(0, Math.floor(total - (performance.now() - started)));
}

class BudgetSpent extends Error {}

function within(left: () => number): number {
  const ms = left();
  if (ms <= 0) throw new BudgetSpent('Script execution timed out.');
  return ms;
}

async function nearHeapLimit(iso: ivm.Isolate): Promise<boolean> {
  try {
    const h = await iso.getHeapStatistics();
    return h.used_heap_size + h.externally_allocated_size >= 0.85 * h.heap_size_limit;
  } catch {
    return false;
  }
}

let shimCache: ivm.ExternalCopy<ArrayBuffer> | undefined;

/** Compiles the shim, reusing V8's code cache from the first compilation in this process. */
async function compileShim(iso: ivm.Isolate): Promise<ivm.Script> {
  type Compiled = ivm.Script & ivm.CachedDataResult & { cachedDataRejected?: boolean };
  if (shimCache) {
    const script = (await iso.compileScript(SHIM, { filename: 'sandbox-shim.js', cachedData: shimCache })) as Compiled;
    if (!script.cachedDataRejected) return script;
  }
  const script = (await iso.compileScript(SHIM, { filename: 'sandbox-shim.js', produceCachedData: true })) as Compiled;
  shimCache = script.cachedData;
  return script;
}

async function handleCompile(req: CompileRequest): Promise<CompileReply> {
  const iso = newIsolate(req.limits);
  try {
    await iso.compileScript(wrapProgram(req.code), { filename: PROGRAM_FILENAME, lineOffset: -1 });
    return { id: req.id, kind: 'compile', ok: true };
  } catch (e) {
    return {
      id: req.id,
      kind: 'compile',
      ok: false,
      error: e instanceof Error ? `${e.name}: ${e.message}` : String(e),
    };
  } finally {
    if (!iso.isDisposed) iso.dispose();
  }
}

async function handleRun(req: RunRequest): Promise<RunReply> {
  const t0 = performance.now();
  const left = budget(req.limits);
  const iso = newIsolate(req.limits);
  const out: string[] = [];
  let outBytes = 0;
  const err: string[] = [];
  let errBytes = 0;
  let outputLimit = false;
  let exited: number | null = null;
  let timedOut = false;
  let memoryExceeded = false;
  let exitCode: number | null = null;
  let error: string | undefined;

  const write = new ivm.Callback((fd: unknown, text: unknown) => {
    if (typeof text !== 'string' || outputLimit || iso.isDisposed) return;
    if (fd === 1) {
      const n = Buffer.byteLength(text, 'utf8');
      if (outBytes + n > req.limits.maxOutputBytes) {
        outputLimit = true;
        iso.dispose(); // terminates the running script
        return;
      }
      outBytes += n;
      out.push(text);
    } else if (fd === 2 && errBytes < STDERR_CAP) {
      const part = text.length > STDERR_CAP - errBytes ? text.slice(0, STDERR_CAP - errBytes) : text;
      errBytes += Buffer.byteLength(part, 'utf8');
      err.push(part);
    }
  });
  const exit = new ivm.Callback((code: unknown) => {
    if (iso.isDisposed) return;
    exited = typeof code === 'number' && Number.isInteger(code) ? code : 1;
    iso.dispose(); // process.exit: stop right here, like Node does
  });

  try {
    const ctx = await iso.createContext();
    const shim = await compileShim(iso);
    const install = (await shim.run(ctx, { reference: true, timeout: within(left) })) as ivm.Reference<unknown>;
    const ctl = (await install.apply(undefined, [req.input, write, exit], {
      result: { reference: true },
      timeout: within(left),
    })) as ivm.Reference<{ start: unknown; step: unknown; finish: unknown }>;
    const start = (await ctl.get('start', { reference: true })) as ivm.Reference<(fn: unknown) => void>;
    const step = (await ctl.get('step', { reference: true })) as ivm.Reference<() => boolean>;
    const finish = (await ctl.get('finish', { reference: true })) as ivm.Reference<
      () => { exitCode: number; error: string | null }
    >;
    let script: ivm.Script;
    try {
      script = await iso.compileScript(wrapProgram(req.code), { filename: PROGRAM_FILENAME, lineOffset: -1 });
    } catch (e) {
      const text = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      return {
        id: req.id,
        kind: 'run',
        exitCode: 1,
        stdout: '',
        stderr: text,
        timedOut: false,
        memoryExceeded: false,
        outputLimit: false,
        timeMs: performance.now() - t0,
        error: text,
      };
    }
    const programFn = (await script.run(ctx, { reference: true, timeout: within(left) })) as ivm.Reference<unknown>;
    await start.apply(undefined, [programFn.derefInto()], { timeout: within(left) });
    // Macrotasks one by one; two idle answers in a row mean nothing is left (the first idle answer's
    // microtasks may have scheduled new work).
    let idle = 0;
    while (idle < 2) {
      const more = await step.apply(undefined, [], { timeout: within(left) });
      idle = more === true ? 0 : idle + 1;
    }
    const fin = (await finish.apply(undefined, [], { result: { copy: true }, timeout: within(left) })) as unknown;
    const f = fin as { exitCode?: unknown; error?: unknown };
    exitCode = typeof f.exitCode === 'number' ? f.exitCode : 1;
    if (typeof f.error === 'string') {
      error = f.error;
      if (MEMORY_ERROR_RE.test(f.error)) memoryExceeded = true;
    }
  } catch (e) {
    const msg = message(e);
    if (exited !== null) exitCode = exited;
    else if (outputLimit) exitCode = null;
    else if (/memory limit/i.test(msg)) memoryExceeded = true;
    else if (e instanceof BudgetSpent || /timed out/i.test(msg)) {
      timedOut = true;
      if (!iso.isDisposed && (await nearHeapLimit(iso))) memoryExceeded = true;
    } else {
      exitCode = 1;
      error = `sandbox: ${msg}`;
    }
  } finally {
    if (!iso.isDisposed) iso.dispose();
  }
  return {
    id: req.id,
    kind: 'run',
    exitCode,
    stdout: out.join(''),
    stderr: err.join(''),
    timedOut,
    memoryExceeded,
    outputLimit,
    timeMs: performance.now() - t0,
    ...(error !== undefined ? { error } : {}),
  };
}

async function handleCheck(req: CheckRequest): Promise<CheckReply> {
  const left = budget(req.limits);
  const iso = newIsolate(req.limits);
  const broken = (error: string): CheckReply => ({ id: req.id, kind: 'check', error });
  const failure = async (e: unknown, what: string): Promise<CheckReply> => {
    const msg = message(e);
    if (/memory limit/i.test(msg) || MEMORY_ERROR_RE.test(msg))
      return broken(`checker ran out of memory while ${what}`);
    if (e instanceof BudgetSpent || /timed out/i.test(msg)) {
      if (!iso.isDisposed && (await nearHeapLimit(iso))) return broken(`checker ran out of memory while ${what}`);
      return broken(`checker timed out while ${what}`);
    }
    const name = e instanceof Error && e.name !== 'Error' ? `${e.name}: ` : '';
    return broken(`checker threw while ${what}: ${name}${msg}`);
  };
  try {
    const ctx = await iso.createContext();
    await ctx.eval(CHECKER_GLOBALS, { timeout: within(left) });
    let script: ivm.Script;
    try {
      script = await iso.compileScript(req.checker, { filename: '/box/checker.js' });
    } catch (e) {
      return broken(`checker does not compile: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    }
    try {
      await script.run(ctx, { timeout: within(left) });
    } catch (e) {
      return await failure(e, 'loading');
    }
    let r: unknown;
    try {
      r = await ctx.evalClosure(CHECK_HARNESS, [req.input, req.expected, req.actual], {
        result: { copy: true },
        timeout: within(left),
      });
    } catch (e) {
      return await failure(e, 'checking');
    }
    const res = r as { ok?: unknown; reason?: unknown; bad?: unknown };
    if (typeof res !== 'object' || res === null) return broken('checker harness returned nothing');
    if (typeof res.bad === 'string') return broken(res.bad);
    if (typeof res.ok !== 'boolean') return broken('check() did not return a boolean ok');
    const reply: CheckReply = { id: req.id, kind: 'check', ok: res.ok };
    if (typeof res.reason === 'string') reply.reason = res.reason.slice(0, REASON_CAP);
    return reply;
  } finally {
    if (!iso.isDisposed) iso.dispose();
  }
}

async function handle(req: HostRequest): Promise<HostReply> {
  try {
    switch (req.kind) {
      case 'compile':
        return await handleCompile(req);
      case 'run':
        return await handleRun(req);
      case 'check':
        return await handleCheck(req);
      default:
        return {
          id: (req as { id: number }).id,
          kind: 'fail',
          error: `unknown request kind ${(req as { kind: string }).kind}`,
        };
    }
  } catch (e) {
    return { id: req.id, kind: 'fail', error: e instanceof Error ? (e.stack ?? e.message) : String(e) };
  }
}

function main(): void {
  const send = process.send?.bind(process);
  if (!send) throw new Error('js-host must be started with an IPC channel (child_process.fork)');
  // The parent is gone: nobody will collect results, and a busy isolate must not outlive it.
  process.on('disconnect', () => process.kill(process.pid, 'SIGKILL'));
  let queue: Promise<void> = Promise.resolve();
  process.on('message', (msg: HostRequest) => {
    queue = queue.then(async () => {
      const reply = await handle(msg);
      send(reply);
    });
  });
  send({ kind: 'ready', pid: process.pid } satisfies ReadyMessage);
}

if (require.main === module) main();
