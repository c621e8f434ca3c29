// The folder of one training job and the records its trainer runs leave there. Shared by the train activity and the
// trainer supervisor (a separate process), so that any attempt, on any worker, can tell what an earlier one left.
//
// <root>/<job>/
//   job.json                the input and its fingerprint: a job name is bound to one input for good
//   data.jsonl              rows given to the trainer; rejects.jsonl: rows set aside, with reasons
//   data.json               summary of the materialised data (rows, rejected), written last
//   train.log               stdout + stderr of every run, with supervisor / activity lines marked [promptcot]
//   output/                 the trainer's output folder; output/result.json is its report
//   trainer/run-0001.json   a run's claim: supervisor pid (= process group), host, process start time
//   trainer/run-0001.lease  renewed by the supervisor every heartbeat interval (liveness seen from other hosts)
//   trainer/run-0001.exit.json   how the trainer ended (written by the supervisor)
//   trainer/run-0001.cancel      a request to stop the run (honoured by the supervisor)
//   done.json               the result, written atomically once the job has succeeded
import { existsSync, promises as fsp, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface HostIdentity {
  hostname: string;
  /** Linux boot id: a pid recorded before a reboot means nothing after it. */
  bootId?: string;
  /** The pid namespace (containers on one machine may share a hostname): pids are only comparable within it. */
  pidNamespace?: string;
}

/** The claim of a trainer run, written by its supervisor before it starts the trainer. */
export interface RunRecord {
  run: number;
  /** The supervisor's pid; it leads the process group the trainer runs in. */
  pid: number;
  pgid: number;
  host: HostIdentity;
  /** Field 22 of /proc/<pid>/stat, to tell the supervisor from a later process that reuses its pid. */
  processStart?: string;
  startedAt: string;
  /** Temporal attempt of the activity that started the run. */
  attempt: number;
  fingerprint: string;
  leaseMs: number;
  command: string[];
}

export interface LeaseRecord {
  beats: number;
  trainerPid?: number;
  at: string;
}

export interface ExitRecord {
  run: number;
  /** Exit code of the trainer, null when a signal ended it or it never started. */
  code: number | null;
  signal: string | null;
  /** Set when the trainer could not be started at all (e.g. the executable does not exist). */
  error?: string;
  /** The run was stopped on request (a cancellation). */
  cancelled: boolean;
  seconds: number;
  endedAt: string;
}

export function hostIdentity(): HostIdentity {
  let bootId: string | undefined;
  try {
    bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined;
  } catch {
    bootId = undefined;
  }
  let pidNamespace: string | undefined;
  try {
    pidNamespace = readlinkSync('/proc/self/ns/pid');
  } catch {
    pidNamespace = undefined;
  }
  return { hostname: os.hostname(), bootId, pidNamespace };
}

export function sameHost(a: HostIdentity, b: HostIdentity): boolean {
  return a.hostname === b.hostname && a.bootId === b.bootId && a.pidNamespace === b.pidNamespace;
}

/** State and start time of a local process from /proc, or undefined where there is no such process or no /proc. */
export function procStat(pid: number): { state: string; start: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: fields are counted after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0]!, start: fields[19]! };
  } catch {
    return undefined;
  }
}

export function procAvailable(): boolean {
  return existsSync('/proc/self/stat');
}

/**
 * Whether the supervisor of a run is alive, judged on this host: true / false, or undefined when this host cannot
 * tell (another host, or no /proc to check that a live pid is still the same process).
 */
export function localRunAlive(record: RunRecord, here: HostIdentity): boolean | undefined {
  if (!sameHost(record.host, here)) return undefined;
  try {
    process.kill(record.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    // EPERM: a process with that pid exists (of another user); the start time below decides whether it is ours
  }
  const stat = procStat(record.pid);
  if (stat === undefined) return procAvailable() ? false : undefined;
  if (stat.state === 'Z' || stat.state === 'X') return false;
  if (record.processStart === undefined) return undefined;
  return stat.start === record.processStart;
}

/**
 * Whether any live process of the group remains (the leader may be gone while children live on). With /proc,
 * zombies do not count: where nothing reaps orphans (PID 1 of some containers), a killed tree lingers as zombies.
 */
export function processGroupAlive(pgid: number): boolean {
  // cheap first: no process (zombies included) in the group at all ends it without reading /proc
  try {
    process.kill(-pgid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  if (procAvailable()) {
    let entries: string[];
    try {
      entries = readdirSync('/proc');
    } catch {
      entries = [];
    }
    for (const name of entries) {
      if (!/^\d+$/.test(name)) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      } catch {
        continue; // exited meanwhile
      }
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X') return true;
    }
    return false;
  }
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Sends a signal to a process group; false when the group is gone. */
export function signalProcessGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

const RUN_FILE = /^run-(\d+)\.json$/;

export class JobDir {
  readonly dir: string;

  constructor(
    root: string,
    readonly job: string,
  ) {
    const base = path.resolve(root);
    this.dir = path.resolve(base, job);
    if (!this.dir.startsWith(base + path.sep)) throw new Error(`training job name escapes the training root: ${job}`);
  }

  get jobFile(): string {
    return path.join(this.dir, 'job.json');
  }
  get dataFile(): string {
    return path.join(this.dir, 'data.jsonl');
  }
  get rejectsFile(): string {
    return path.join(this.dir, 'rejects.jsonl');
  }
  get dataSummaryFile(): string {
    return path.join(this.dir, 'data.json');
  }
  get logFile(): string {
    return path.join(this.dir, 'train.log');
  }
  get outputDir(): string {
    return path.join(this.dir, 'output');
  }
  get resultFile(): string {
    return path.join(this.outputDir, 'result.json');
  }
  get doneFile(): string {
    return path.join(this.dir, 'done.json');
  }
  get runsDir(): string {
    return path.join(this.dir, 'trainer');
  }

  private runBase(run: number): string {
    return path.join(this.runsDir, `run-${String(run).padStart(4, '0')}`);
  }
  runFile(run: number): string {
    return `${this.runBase(run)}.json`;
  }
  leaseFile(run: number): string {
    return `${this.runBase(run)}.lease`;
  }
  exitFile(run: number): string {
    return `${this.runBase(run)}.exit.json`;
  }
  cancelFile(run: number): string {
    return `${this.runBase(run)}.cancel`;
  }

  /** The highest run number claimed so far, if any. */
  async latestRun(): Promise<number | undefined> {
    let names: string[];
    try {
      names = await fsp.readdir(this.runsDir);
    } catch {
      return undefined;
    }
    let latest: number | undefined;
    for (const name of names) {
      const m = RUN_FILE.exec(name);
      if (m) latest = Math.max(latest ?? 0, Number(m[1]));
    }
    return latest;
  }

  async readRun(run: number): Promise<RunRecord | undefined> {
    return readJsonFile<RunRecord>(this.runFile(run));
  }
  async readExit(run: number): Promise<ExitRecord | undefined> {
    return readJsonFile<ExitRecord>(this.exitFile(run));
  }
  async readLease(run: number): Promise<LeaseRecord | undefined> {
    return readJsonFile<LeaseRecord>(this.leaseFile(run));
  }
}

/** A JSON file written atomically elsewhere: undefined while it does not exist (or cannot be parsed). */
export async function readJsonFile<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await fsp.readFile(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** The last `lines` lines of a log (split at \n and \r, so progress bars count per update), each cut to 2000 chars. */
export async function readLogTail(file: string, lines: number, maxBytes = 256 * 1024): Promise<string[]> {
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(file, 'r');
  } catch {
    return [];
  }
  try {
    const { size } = await handle.stat();
    const start = Math.max(0, size - maxBytes);
    const buf = Buffer.alloc(size - start);
    await handle.read(buf, 0, buf.length, start);
    const parts = buf.toString('utf8').split(/\r\n|\r|\n/);
    if (start > 0) parts.shift(); // a partial first line
    const kept = parts.filter((l) => l.trim() !== '');
    return kept.slice(-lines).map((l) => (l.length > 2000 ? `${l.slice(0, 2000)}…` : l));
  } finally {
    await handle.close();
  }
}

/** What the train activity tells the supervisor (one JSON argv element). */
export interface SupervisorSpec {
  root: string;
  job: string;
  run: number;
  attempt: number;
  fingerprint: string;
  /** The trainer's argv, placeholders already substituted; its environment is the supervisor's own. */
  command: string[];
  cwd: string;
  leaseMs: number;
  killGraceMs: number;
}

/** The supervisor's exit code when another attempt claimed the run number first (nothing was started). */
export const LOST_CLAIM_EXIT_CODE = 75;
