/**
 * One control group per Python sandbox, where the host lets the worker create them: it bounds what per-process
 * rlimits cannot (memory of all processes together, memfds, tmpfs and shm pages, kernel memory; the number of
 * processes of that sandbox alone) and measures the CPU time of every process of a test, so a program that
 * catches SIGXCPU, forks relays or runs in parallel is still held to `cpuTimeMs` by the verdict.
 *
 * Two layouts, probed once per worker process:
 *  - cgroup v2 (one unified hierarchy): memory.max, memory.swap.max, pids.max, cpu.stat usage_usec,
 *    memory.events oom_kill. Socket buffers and kernel memory are charged to memory.
 *  - cgroup v1 (a hierarchy per controller, e.g. Debian hosts in hybrid mode): memory.limit_in_bytes (and
 *    memsw where swap is accounted), pids.max, cpuacct.usage, memory.oom_control oom_kill. Kernel memory is
 *    charged to memory; socket buffers are not.
 * Groups are made under the worker's own group of each hierarchy (so a container's limits still apply), named
 * `promptcot-sbx-<worker pid>-<n>`; groups of dead workers are removed on the first use. Where neither layout is
 * writable (no root, a read-only cgroupfs, v2 without delegated controllers) `cgroupSupport()` says why and the
 * sandbox falls back to rlimits alone (see bwrap.ts for which guarantee holds where).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export type CgroupLayout = 'v2' | 'v1';

export interface CgroupUsage {
  /** CPU time of every process that was in the group (user + system) */
  cpuMs: number;
  /** times the kernel's OOM killer acted in the group */
  oomKills: number;
  /** bytes charged to the group now */
  memoryBytes: number;
  /** the most bytes charged to the group since it was made */
  peakBytes: number;
}

export interface CgroupSupport {
  layout?: CgroupLayout;
  /** why there is no cgroup, when there is none */
  reason?: string;
}

const PREFIX = 'promptcot-sbx-';
const ROOT = process.env.PROMPTCOT_CGROUP_ROOT ?? '/sys/fs/cgroup';

function read(file: string): string {
  return fs.readFileSync(file, 'utf8');
}

function readOr(file: string, fallback: string): string {
  try {
    return read(file);
  } catch {
    return fallback;
  }
}

function keyed(text: string, key: string): number {
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k === key) return Number(v);
  }
  return 0;
}

/** The worker's own group in each hierarchy, from /proc/self/cgroup (`id:controllers:path`). */
function ownGroups(): Map<string, string> {
  const groups = new Map<string, string>();
  for (const line of read('/proc/self/cgroup').split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    if (m[1] === '0' && m[2] === '') groups.set('', m[3]!);
    else for (const c of m[2]!.split(',')) groups.set(c, m[3]!);
  }
  return groups;
}

interface Hierarchy {
  /** the directory under which this worker makes its groups */
  base: string;
}

interface Layout {
  layout: CgroupLayout;
  /** v2: one hierarchy; v1: memory, pids, cpuacct */
  hierarchies: Record<string, Hierarchy>;
}

let probed: { layout?: Layout; reason?: string } | undefined;
let counter = 0;

function v2Layout(own: Map<string, string>): Layout {
  const mount = fs.existsSync(path.join(ROOT, 'cgroup.controllers')) ? ROOT : path.join(ROOT, 'unified');
  const controllers = read(path.join(mount, 'cgroup.controllers')).trim().split(/\s+/);
  for (const c of ['memory', 'pids'])
    if (!controllers.includes(c)) throw new Error(`cgroup v2 at ${mount} has no ${c} controller`);
  const base = path.join(mount, own.get('') ?? '/');
  const parent = path.join(base, `${PREFIX}${process.pid}`);
  // a v2 group with processes cannot hand controllers to children ("no internal processes"): our groups live in
  // a parent of their own, which gets the controllers
  fs.mkdirSync(parent, { recursive: true });
  const parentControllers = read(path.join(base, 'cgroup.subtree_control'));
  if (!/\bmemory\b/.test(parentControllers) || !/\bpids\b/.test(parentControllers)) {
    fs.writeFileSync(path.join(base, 'cgroup.subtree_control'), '+memory +pids');
  }
  fs.writeFileSync(path.join(parent, 'cgroup.subtree_control'), '+memory +pids');
  return { layout: 'v2', hierarchies: { unified: { base: parent } } };
}

function v1Layout(own: Map<string, string>): Layout {
  const hierarchies: Record<string, Hierarchy> = {};
  for (const c of ['memory', 'pids', 'cpuacct']) {
    const mount = path.join(ROOT, c);
    if (!fs.existsSync(path.join(mount, 'cgroup.procs'))) throw new Error(`no cgroup v1 ${c} hierarchy at ${mount}`);
    hierarchies[c] = { base: path.join(mount, own.get(c) ?? '/') };
  }
  return { layout: 'v1', hierarchies };
}

/** Removes groups left by workers that are gone (they hold no processes once their sandboxes died). */
function removeStale(layout: Layout): void {
  for (const { base } of Object.values(layout.hierarchies)) {
    const dir = layout.layout === 'v2' ? path.dirname(base) : base;
    for (const name of safeList(dir)) {
      const m = new RegExp(`^${PREFIX}(\\d+)`).exec(name);
      if (!m || Number(m[1]) === process.pid || alive(Number(m[1]))) continue;
      removeTree(path.join(dir, name));
    }
  }
}

function safeList(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function removeTree(dir: string): void {
  for (const name of safeList(dir)) {
    const sub = path.join(dir, name);
    try {
      if (fs.statSync(sub).isDirectory()) removeTree(sub);
    } catch {
      /* gone */
    }
  }
  try {
    fs.rmdirSync(dir);
  } catch {
    /* busy or gone */
  }
}

function probe(): { layout?: Layout; reason?: string } {
  if (process.env.PROMPTCOT_SANDBOX_CGROUP === 'off') return { reason: 'disabled by PROMPTCOT_SANDBOX_CGROUP=off' };
  const reasons: string[] = [];
  let own: Map<string, string>;
  try {
    own = ownGroups();
  } catch (e) {
    return { reason: `cannot read /proc/self/cgroup: ${(e as Error).message}` };
  }
  for (const make of [v2Layout, v1Layout]) {
    try {
      const layout = make(own);
      removeStale(layout);
      // a trial group proves that we may create groups and write their limits
      const trial = new SandboxCgroup(layout);
      trial.setLimits({ memoryBytes: 64 * 1024 * 1024, pids: 16 });
      trial.remove();
      return { layout };
    } catch (e) {
      reasons.push((e as Error).message);
    }
  }
  return { reason: `no writable cgroup (${reasons.join('; ')})` };
}

function layoutOf(): Layout | undefined {
  probed ??= probe();
  return probed.layout;
}

/** Which layout sandboxes get on this host, or why none. */
export function cgroupSupport(): CgroupSupport {
  const layout = layoutOf();
  return layout ? { layout: layout.layout } : { reason: probed?.reason };
}

/** One sandbox's group (in each hierarchy of the layout). */
export class SandboxCgroup {
  readonly dirs: Record<string, string> = {};

  constructor(private readonly layout: Layout) {
    const name = `${PREFIX}${process.pid}-${++counter}`;
    for (const [key, { base }] of Object.entries(layout.hierarchies)) {
      const dir = path.join(base, name);
      fs.mkdirSync(dir);
      this.dirs[key] = dir;
    }
  }

  get layoutName(): CgroupLayout {
    return this.layout.layout;
  }

  /** The cgroup.procs files a process writes its pid into to join the group (before it starts the sandbox). */
  get procsFiles(): string[] {
    return Object.values(this.dirs).map((d) => path.join(d, 'cgroup.procs'));
  }

  /** The limits last written (rewriting the same values is skipped: fork mode sets them before every test). */
  private written: { memoryBytes: number; pids: number } | undefined;
  private noMemsw = false;

  setLimits({ memoryBytes, pids }: { memoryBytes: number; pids: number }): void {
    if (this.written?.memoryBytes === memoryBytes && this.written.pids === pids) return;
    const bytes = String(Math.floor(memoryBytes));
    if (this.layout.layout === 'v2') {
      const d = this.dirs.unified!;
      fs.writeFileSync(path.join(d, 'memory.max'), bytes);
      if (!this.written) tryWrite(path.join(d, 'memory.swap.max'), '0');
      fs.writeFileSync(path.join(d, 'pids.max'), String(pids));
    } else {
      const m = this.dirs.memory!;
      const memsw = (value: string) => {
        if (!this.noMemsw && !tryWrite(path.join(m, 'memory.memsw.limit_in_bytes'), value)) this.noMemsw = true;
      };
      // memsw must stay >= the memory limit: raise in the order that keeps it so
      if (memoryBytes > (this.written?.memoryBytes ?? Number(read(path.join(m, 'memory.limit_in_bytes'))))) {
        memsw(bytes);
        fs.writeFileSync(path.join(m, 'memory.limit_in_bytes'), bytes);
      } else {
        fs.writeFileSync(path.join(m, 'memory.limit_in_bytes'), bytes);
        memsw(bytes);
      }
      if (this.written?.pids !== pids) fs.writeFileSync(path.join(this.dirs.pids!, 'pids.max'), String(pids));
    }
    this.written = { memoryBytes, pids };
  }

  /** CPU time and OOM kills so far: read before and after a test, the difference is the test's. */
  counters(): Pick<CgroupUsage, 'cpuMs' | 'oomKills'> {
    if (this.layout.layout === 'v2') {
      const d = this.dirs.unified!;
      return {
        cpuMs: keyed(read(path.join(d, 'cpu.stat')), 'usage_usec') / 1000,
        oomKills: keyed(read(path.join(d, 'memory.events')), 'oom_kill'),
      };
    }
    return {
      cpuMs: Number(read(path.join(this.dirs.cpuacct!, 'cpuacct.usage'))) / 1e6,
      oomKills: keyed(read(path.join(this.dirs.memory!, 'memory.oom_control')), 'oom_kill'),
    };
  }

  /** Bytes charged to the group now. */
  memoryBytes(): number {
    return this.layout.layout === 'v2'
      ? Number(read(path.join(this.dirs.unified!, 'memory.current')))
      : Number(read(path.join(this.dirs.memory!, 'memory.usage_in_bytes')));
  }

  usage(): CgroupUsage {
    if (this.layout.layout === 'v2') {
      const d = this.dirs.unified!;
      return {
        cpuMs: keyed(read(path.join(d, 'cpu.stat')), 'usage_usec') / 1000,
        oomKills: keyed(read(path.join(d, 'memory.events')), 'oom_kill'),
        memoryBytes: Number(read(path.join(d, 'memory.current'))),
        peakBytes: Number(readOr(path.join(d, 'memory.peak'), read(path.join(d, 'memory.current')))),
      };
    }
    return {
      cpuMs: Number(read(path.join(this.dirs.cpuacct!, 'cpuacct.usage'))) / 1e6,
      oomKills: keyed(read(path.join(this.dirs.memory!, 'memory.oom_control')), 'oom_kill'),
      memoryBytes: Number(read(path.join(this.dirs.memory!, 'memory.usage_in_bytes'))),
      peakBytes: Number(read(path.join(this.dirs.memory!, 'memory.max_usage_in_bytes'))),
    };
  }

  /** Removes the group once its processes are gone (retrying briefly: exiting processes leave it a moment later). */
  remove(): void {
    const pending = Object.values(this.dirs);
    const attempt = (left: number) => {
      for (let i = pending.length - 1; i >= 0; i--) {
        try {
          fs.rmdirSync(pending[i]!);
          pending.splice(i, 1);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') pending.splice(i, 1);
        }
      }
      if (pending.length > 0 && left > 0) setTimeout(() => attempt(left - 1), 50).unref();
    };
    attempt(100);
  }
}

/** False when the file cannot be written (e.g. no swap accounting on this host). */
function tryWrite(file: string, value: string): boolean {
  try {
    fs.writeFileSync(file, value);
    return true;
  } catch {
    return false;
  }
}

/** A new group for one sandbox, or undefined where the host has none for us. */
export function createSandboxCgroup(): SandboxCgroup | undefined {
  const layout = layoutOf();
  if (!layout) return undefined;
  try {
    return new SandboxCgroup(layout);
  } catch {
    return undefined;
  }
}

/** What the joining shell says (on stderr, with exit status JOIN_FAILED_EXIT) when it could not join the group. */
export const JOIN_FAILED = 'promptcot-sandbox: cannot join cgroup';
export const JOIN_FAILED_EXIT = 125;

/** A sandbox that could not be put into its cgroup: not the program's fault, so no verdict (the caller retries). */
export class CgroupJoinError extends Error {
  override name = 'CgroupJoinError';
}

/**
 * The command that runs `cmd args` inside `group`: a shell joins the group and then execs the command, so that
 * no process of the sandbox ever runs outside it.
 */
export function joinGroupCommand(group: SandboxCgroup, cmd: string, args: string[]): { cmd: string; args: string[] } {
  const files = group.procsFiles;
  const script = `n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || { echo "${JOIN_FAILED} $1" >&2; exit ${JOIN_FAILED_EXIT}; }; shift; n=$((n-1)); done; exec "$@"`;
  return { cmd: '/bin/sh', args: ['-c', script, 'sh', String(files.length), ...files, cmd, ...args] };
}
