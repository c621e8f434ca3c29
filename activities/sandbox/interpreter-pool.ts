/**
 * Fast mode of the Python sandbox: a pool of pre-started interpreters ("fork servers", fork_server.py), each in
 * its own bubblewrap sandbox with its own uid. A server compiles a program once and forks a child per test, so a
 * test costs a fork instead of a sandbox set-up plus an interpreter start-up.
 *
 * A server never holds a program itself: each program lives in a zygote of its own that the server forks for it
 * and that dies when the program is unloaded (see fork_server.py), so no test sees another program's text or
 * another test's input. Each server runs in a control group of its own where the host has them (cgroup.ts): before
 * each test the group's limits are set from the test's limits, and the group's CPU time and OOM kills over the
 * test go into its verdict.
 *
 * The pool keeps `size` servers started (pre-started before any program arrives, replaced when one is retired),
 * lends each to one caller at a time, and retires a server after MAX_USES tests, after a test or program it could
 * not clean up after, or when it stops answering (the caller gets ServerLost and re-runs the test in a fresh
 * sandbox).
 */
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildCommand, findBwrap, resolvePython, rlimitValues, SandboxUnavailableError, spawnSandbox } from './bwrap';
import { createSandboxCgroup, type SandboxCgroup } from './cgroup';
import { forkGroupLimits } from './cgroup-limits';
import type { SandboxLimits } from './types';
import { releaseUid, takeUid } from './uid-slots';

const SERVER_SCRIPT = path.join(__dirname, 'fork_server.py');
let serverScript: Buffer | undefined;
const MAX_USES = 1000;
const START_TIMEOUT_MS = 30_000;
const LOAD_TIMEOUT_MS = 30_000;
/** the server enforces the wall limit itself; this watchdog only catches a server that stopped answering */
const WATCHDOG_MARGIN_MS = 2_000;
export const STDERR_CAP = 64 * 1024;

/** The fork server died or stopped answering (e.g. a test killed or stopped it: it shares the test's uid). */
export class ServerLost extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServerLost';
  }
}

export interface ForkRunResult {
  /** exit status, or 128 + signal */
  code: number;
  wallTimeout: boolean;
  stdout: Buffer;
  stderr: Buffer;
  /** CPU time of every process of the test (cgroup), else of the main process and the children it waited for */
  cpuMs: number;
  /** the kernel's OOM killer acted in the server's cgroup during the test */
  oomKilled: boolean;
  timeMs: number;
  /** false when leftover processes or scratch files could not be removed: the server must be retired */
  clean: boolean;
}

export interface LoadResult {
  ok: boolean;
  kind?: 'compile' | 'crash' | 'protocol';
  error?: string;
}

type Header = Record<string, unknown>;

interface Pending {
  payloadLength: (header: Header) => number;
  resolve: (reply: { header: Header; payload: Buffer }) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** One pre-started interpreter in its own sandbox, speaking the framed protocol of fork_server.py. */
export class ForkServer {
  uses = 0;
  private alive = true;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private header: Header | undefined;
  private pending: Pending | undefined;
  private stderrTail = '';
  /** set once the server has started; called once when it goes away */
  private onExit: ((server: ForkServer) => void) | undefined;

  /** a zygote holds a program: unload() before the server is lent again */
  private loaded = false;

  private constructor(
    private readonly child: ChildProcess,
    private readonly uid: number,
    private readonly cgroup: SandboxCgroup | undefined,
  ) {
    child.stdout!.on('data', (chunk: Buffer) => this.onData(chunk));
    child.stderr!.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-2000);
    });
    child.stdin!.on('error', () => this.lose('control pipe closed'));
    child.on('error', (err) => this.lose(`spawn failed: ${err.message}`));
    child.on('exit', (code, signal) => this.lose(`fork server exited (${signal ?? code})`));
    this.setRef(false);
  }

  static async start(onExit: (server: ForkServer) => void): Promise<ForkServer> {
    const bwrap = findBwrap();
    if (!bwrap) throw new SandboxUnavailableError('bwrap not found: install Debian package bubblewrap');
    const py = await resolvePython();
    const uid = takeUid();
    let cgroup: SandboxCgroup | undefined;
    let command;
    try {
      cgroup = createSandboxCgroup();
      serverScript ??= fs.readFileSync(SERVER_SCRIPT);
      command = buildCommand(bwrap, py, uid, {
        roFiles: { 'fork_server.py': serverScript },
        cgroup,
        pythonArgs: ['/box/fork_server.py'],
      });
    } catch (err) {
      cgroup?.remove();
      releaseUid(uid);
      throw err;
    }
    const server = new ForkServer(spawnSandbox(command), uid, cgroup);
    try {
      const { header } = await server.request(undefined, START_TIMEOUT_MS, () => 0);
      if (header.ready !== true) throw new ServerLost(`fork server did not start: ${JSON.stringify(header)}`);
    } catch (err) {
      server.kill();
      throw err;
    }
    server.onExit = onExit;
    return server;
  }

  get isAlive(): boolean {
    return this.alive;
  }

  /** Starts a zygote for the program, which compiles it (once per program and server). */
  async load(source: string): Promise<LoadResult> {
    this.loaded = true;
    const { header } = await this.request({ op: 'load', body: Buffer.from(source, 'utf8') }, LOAD_TIMEOUT_MS, () => 0);
    return header as unknown as LoadResult;
  }

  /** Ends the program's zygote; true when the server is clean again and may take another program. */
  async unload(): Promise<boolean> {
    if (!this.loaded) return this.alive;
    this.loaded = false;
    const { header } = await this.request({ op: 'unload', body: Buffer.alloc(0) }, LOAD_TIMEOUT_MS, () => 0);
    return header.unloaded === true && header.clean === true;
  }

  /** Runs the loaded program on one input in a forked child under the per-test limits. */
  async run(input: string, limits: SandboxLimits): Promise<ForkRunResult> {
    const r = rlimitValues(limits);
    // the server counts against the uid's process limit too, so the child may have one more than a fresh run's interpreter
    const message = {
      op: 'run',
      cpuSec: r.cpuSec,
      asBytes: r.asBytes,
      nproc: r.nproc + 1,
      fsize: r.fsize,
      wallMs: limits.wallTimeMs,
      errCap: STDERR_CAP,
    };
    this.uses++;
    const before = this.cgroup?.counters();
    if (before) this.cgroup!.setLimits(forkGroupLimits(limits, this.cgroup!.memoryBytes()));
    const { header, payload } = await this.request(
      { ...message, body: Buffer.from(input, 'utf8') },
      limits.wallTimeMs + WATCHDOG_MARGIN_MS,
      (h) => Number(h.outLen) + Number(h.errLen),
    );
    const after = before && this.cgroup!.counters();
    const outLen = Number(header.outLen);
    return {
      code: Number(header.code),
      wallTimeout: header.wall === true,
      stdout: payload.subarray(0, outLen),
      stderr: payload.subarray(outLen),
      cpuMs: after ? after.cpuMs - before.cpuMs : Number(header.cpuMs),
      oomKilled: after ? after.oomKills > before.oomKills : false,
      timeMs: Number(header.timeMs),
      clean: header.clean === true,
    };
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      try {
        this.child.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
    this.lose('killed');
  }

  private setRef(on: boolean): void {
    const handles = [this.child, this.child.stdout, this.child.stderr, this.child.stdin] as Array<{
      ref?: () => void;
      unref?: () => void;
    } | null>;
    for (const h of handles) (on ? h?.ref : h?.unref)?.call(h);
  }

  private request(
    message: ({ op: string; body: Buffer } & Header) | undefined,
    timeoutMs: number,
    payloadLength: (h: Header) => number,
  ) {
    if (!this.alive) return Promise.reject(new ServerLost('fork server is gone'));
    if (this.pending) return Promise.reject(new Error('ForkServer: one request at a time'));
    return new Promise<{ header: Header; payload: Buffer }>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.kill();
      }, timeoutMs);
      this.pending = { payloadLength, resolve, reject, timer };
      this.setRef(true);
      if (message) {
        const { body, ...header } = message;
        const json = Buffer.from(JSON.stringify({ ...header, len: body.length }), 'utf8');
        const length = Buffer.alloc(4);
        length.writeUInt32BE(json.length);
        this.child.stdin!.write(Buffer.concat([length, json]));
        this.child.stdin!.write(body);
      }
      this.parse();
    });
  }

  private onData(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    this.parse();
  }

  private parse(): void {
    const pending = this.pending;
    if (!pending || this.buffered === 0) return;
    if (this.header === undefined) {
      const joined = Buffer.concat(this.chunks);
      const nl = joined.indexOf(10);
      if (nl < 0) {
        this.chunks = [joined];
        return;
      }
      try {
        this.header = JSON.parse(joined.subarray(0, nl).toString('utf8')) as Header;
      } catch {
        this.kill();
        return;
      }
      const rest = joined.subarray(nl + 1);
      this.chunks = rest.length ? [rest] : [];
      this.buffered = rest.length;
      if (typeof this.header.lost === 'string') {
        // the zygote found the server killed or stopped by a test: this sandbox is done
        const why = this.header.lost;
        this.header = undefined;
        this.lose(why);
        return;
      }
    }
    const need = pending.payloadLength(this.header);
    if (this.buffered < need) return;
    const joined = Buffer.concat(this.chunks);
    const header = this.header;
    const payload = joined.subarray(0, need);
    const rest = joined.subarray(need);
    this.chunks = rest.length ? [rest] : [];
    this.buffered = rest.length;
    this.header = undefined;
    this.finish();
    pending.resolve({ header, payload });
  }

  private finish(): void {
    if (this.pending) clearTimeout(this.pending.timer);
    this.pending = undefined;
    this.setRef(false);
  }

  private lose(why: string): void {
    if (!this.alive) return;
    this.alive = false;
    const pending = this.pending;
    this.finish();
    if (this.child.exitCode === null && this.child.signalCode === null) {
      try {
        this.child.kill('SIGKILL');
      } catch {
        /* gone */
      }
    }
    const exited = () => {
      this.cgroup?.remove();
      releaseUid(this.uid);
    };
    if (this.child.exitCode !== null || this.child.signalCode !== null) exited();
    else this.child.once('exit', exited);
    pending?.reject(new ServerLost(`${why}${this.stderrTail ? `: ${this.stderrTail.trim().slice(-500)}` : ''}`));
    this.onExit?.(this);
  }
}

interface Waiter {
  resolve: (server: ForkServer) => void;
  reject: (err: Error) => void;
}

/** Keeps `size` fork servers pre-started and lends them out one caller at a time. */
export class InterpreterPool {
  private idle: ForkServer[] = [];
  private waiters: Waiter[] = [];
  /** servers alive or starting that belong to the pool (idle or lent) */
  private total = 0;
  private closed = false;

  constructor(public size: number) {}

  /** Starts servers until `size` exist (the pre-started interpreters); resolves when they are ready. */
  async prestart(): Promise<void> {
    const starts: Promise<void>[] = [];
    while (this.total < this.size) starts.push(this.spawnOne());
    await Promise.all(starts);
  }

  acquire(): Promise<ForkServer> {
    if (this.closed) return Promise.reject(new Error('interpreter pool is shut down'));
    const ready = this.idle.pop();
    if (ready) return Promise.resolve(ready);
    const wait = new Promise<ForkServer>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (this.total < this.size) void this.spawnOne();
    return wait;
  }

  /** Gives a server back: reused when it is healthy, else killed and replaced. */
  release(server: ForkServer, reusable: boolean): void {
    if (reusable && server.isAlive && server.uses < MAX_USES && !this.closed) {
      this.put(server);
      return;
    }
    server.kill();
  }

  shutdown(): void {
    this.closed = true;
    for (const s of this.idle.splice(0)) s.kill();
    for (const w of this.waiters.splice(0)) w.reject(new Error('interpreter pool is shut down'));
  }

  private put(server: ForkServer): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter.resolve(server);
    else this.idle.push(server);
  }

  private onServerExit = (server: ForkServer): void => {
    this.total--;
    const i = this.idle.indexOf(server);
    if (i >= 0) this.idle.splice(i, 1);
    // keep the pool warm: a retired server is replaced right away
    if (!this.closed && this.total < this.size) void this.spawnOne();
  };

  private async spawnOne(): Promise<void> {
    this.total++;
    try {
      const server = await ForkServer.start(this.onServerExit);
      if (this.closed) server.kill();
      else this.put(server);
    } catch (err) {
      this.total--;
      const waiter = this.waiters.shift();
      waiter?.reject(err as Error);
    }
  }
}

let shared: InterpreterPool | undefined;

/** The process-wide pool; grows to the largest size asked for. */
export function interpreterPool(size: number = os.availableParallelism()): InterpreterPool {
  if (!shared) shared = new InterpreterPool(size);
  else if (size > shared.size) shared.size = size;
  return shared;
}

/** Kills every pre-started interpreter (tests, worker shutdown). A later interpreterPool() starts a new pool. */
export function shutdownInterpreterPool(): void {
  shared?.shutdown();
  shared = undefined;
}
