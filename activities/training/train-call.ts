// One call of the train activity (train.ts has the job-folder protocol it follows): claim or adopt a trainer run,
// wait for it with heartbeats, check its output, stop it on cancellation.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import {
  substitutePlaceholders,
  hyperparameterText,
  TrainerReportSchema,
  type ParsedTrainInput,
  type TrainerConfig,
  type TrainerReport,
  type TrainHeartbeat,
  type TrainResult,
} from '../../domain/platform/training';
import { describeZodError } from '../../domain/core/validation';
import { writeFileAtomic } from '../datasets/jsonl';
import { sleep } from '../inference/abortable';
import { DatasetError, DatasetStore, sha256File } from '../datasets/store';
import { materialiseTrainingData, type TrainingData } from './data';
import {
  JobDir,
  localRunAlive,
  LOST_CLAIM_EXIT_CODE,
  processGroupAlive,
  readJsonFile,
  readLogTail,
  signalProcessGroup,
  type ExitRecord,
  type HostIdentity,
  type RunRecord,
  type SupervisorSpec,
} from './job-dir';

/** What every call of the train activity of one worker shares (see createTrainingActivities). */
export interface TrainerSetup {
  config: TrainerConfig;
  store: DatasetStore;
  /** the training root, resolved */
  root: string;
  /** this machine, as run records name it */
  here: HostIdentity;
  heartbeatMs: number;
  pollMs: number;
  killGraceMs: number;
  trainerCwd: string;
}

interface JobRecord {
  fingerprint: string;
  input: ParsedTrainInput;
  createdAt: string;
}

interface DataSummary extends TrainingData {
  fingerprint: string;
}

interface DoneRecord {
  fingerprint: string;
  result: TrainResult;
}

type TrainerOutput =
  { ok: true; report: TrainerReport; text: string; adapter?: string } | { ok: false; reason: string };

interface FinishedRun {
  record: RunRecord;
  exit: ExitRecord;
  adopted: boolean;
  /** Set when the run finished before this call looked (its output was checked already). */
  output?: TrainerOutput & { ok: true };
}

const SUPERVISOR = path.join(__dirname, `supervisor${path.extname(__filename) || '.js'}`);

/** Run from TypeScript sources (tsx, jest), the supervisor needs the tsx loader; compiled, it runs as is. */
function supervisorArgv(): string[] {
  if (!SUPERVISOR.endsWith('.ts')) return [SUPERVISOR];
  return ['--import', pathToFileURL(require.resolve('tsx')).href, SUPERVISOR];
}

/** JSON with object keys sorted: equal inputs give equal fingerprints whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

async function filesUnder(target: string): Promise<string[]> {
  const stat = await fsp.stat(target);
  if (!stat.isDirectory()) return [target];
  const out: string[] = [];
  for (const entry of (await fsp.readdir(target, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const full = path.join(target, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(full)));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

const HASHED_FILE_LIMIT = 256 * 1024 * 1024;

/** A short id of what the trainer produced: its report and, file by file, the adapter it names. */
async function outputDigest(reportText: string, adapter: string | undefined): Promise<string> {
  const hash = createHash('sha256').update(reportText);
  if (adapter !== undefined) {
    for (const file of await filesUnder(adapter)) {
      const stat = await fsp.stat(file);
      hash.update(`\0${path.relative(adapter, file)}\0${stat.size}\0`);
      // Huge files (full checkpoints) are identified by size and time rather than read through.
      hash.update(stat.size <= HASHED_FILE_LIMIT ? await sha256File(file) : String(Math.floor(stat.mtimeMs)));
    }
  }
  return hash.digest('hex').slice(0, 12);
}

function describeExit(exit: ExitRecord): string {
  if (exit.error !== undefined) return `a failure to start (${exit.error})`;
  const how = exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`;
  return `${how} after ${exit.seconds}s${exit.cancelled ? ', cancelled' : ''}`;
}

/** Sleeps until a timeout, an abort, or a wake-up (e.g. the supervisor process exiting). */
class Waker {
  private pending?: () => void;

  wake(): void {
    this.pending?.();
  }

  wait(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        if (this.pending === done) this.pending = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.pending = done;
      if (signal?.aborted) done();
      else signal?.addEventListener('abort', done, { once: true });
    });
  }
}

/** Liveness of a supervisor seen from another machine: its lease's beat count must keep moving. */
class LeaseTracker {
  private beats: number | undefined;
  private changedAt = Date.now();

  constructor(private readonly staleMs: number) {}

  /** Notes the latest beat count; false once it has not moved for staleMs. */
  observe(beats: number | undefined): boolean {
    if (beats !== this.beats) {
      this.beats = beats;
      this.changedAt = Date.now();
    }
    return Date.now() - this.changedAt <= this.staleMs;
  }
}

function leaseStaleMs(record: RunRecord): number {
  return record.leaseMs * 3 + 2000;
}

/** One call of the train activity. */
export class TrainCall {
  private readonly ctx = Context.current();
  private readonly signal = this.ctx.cancellationSignal;
  private lastHeartbeat = 0;
  private command: string[] = [];
  private env: Record<string, string> = {};

  constructor(
    private readonly setup: TrainerSetup,
    private readonly input: ParsedTrainInput,
    private readonly job: JobDir,
    private readonly fingerprint: string,
  ) {}

  private get name(): string {
    return this.input.job;
  }

  /** Notes an event in train.log (marked [promptcot]) and the worker log. */
  private async note(line: string): Promise<void> {
    this.ctx.log.info(`train ${this.name}: ${line}`);
    await fsp.appendFile(this.job.logFile, `[promptcot] ${new Date().toISOString()} ${line}\n`).catch(() => undefined);
  }

  private tail(): Promise<string[]> {
    return readLogTail(this.job.logFile, this.setup.config.logTailLines);
  }

  private async heartbeat(details: Omit<TrainHeartbeat, 'job' | 'logTail'>, force = false): Promise<void> {
    const now = Date.now();
    if (!force && now - this.lastHeartbeat < this.setup.heartbeatMs) return;
    this.lastHeartbeat = now;
    const heartbeat: TrainHeartbeat = {
      job: this.name,
      ...details,
      logTail: details.phase === 'data' ? [] : await this.tail(),
    };
    this.ctx.heartbeat(heartbeat);
  }

  /** A failure naming the job, with the log tail: its last lines in the message (kept short), all in the details. */
  private failure(
    type: string,
    message: string,
    nonRetryable: boolean,
    details: Record<string, unknown>,
    tail: string[],
  ): ApplicationFailure {
    const lines = tail.slice(-10).map((l) => (l.length > 500 ? `${l.slice(0, 500)}…` : l));
    const shown = lines.length > 0 ? `\nlast lines of ${this.job.logFile}:\n${lines.join('\n')}` : '';
    return ApplicationFailure.create({
      type,
      message: `train ${this.name}: ${message}${shown}`,
      nonRetryable,
      details: [{ job: this.name, ...details, logTail: tail }],
    });
  }

  private conflict(previous: ParsedTrainInput | undefined): ApplicationFailure {
    const fields = (['kind', 'role', 'base', 'data', 'hyperparameters'] as const).filter(
      (k) => previous === undefined || canonicalJson(previous[k]) !== canonicalJson(this.input[k]),
    );
    return ApplicationFailure.nonRetryable(
      `train ${this.name}: this job name was used before with another input (differs in: ${fields.join(', ') || 'unknown fields'}; see ${this.job.jobFile}). ` +
        'A job name stands for one training run: choose a new name, or delete the job folder to train again.',
      'TrainJobConflict',
    );
  }

  async run(): Promise<TrainResult> {
    const done = await readJsonFile<DoneRecord>(this.job.doneFile);
    if (done) {
      if (done.fingerprint !== this.fingerprint)
        throw this.conflict((await readJsonFile<JobRecord>(this.job.jobFile))?.input);
      return { ...done.result, reused: true, adopted: false };
    }
    await this.bindJob();
    this.resolveCommand(0); // fail on a placeholder without a value before writing any data
    const data = await this.prepareData();
    this.resolveCommand(data.rows);

    const finished = await this.obtainFinishedRun();
    const { record, exit } = finished;
    let output = finished.output;
    if (output === undefined) {
      if (exit.error !== undefined) {
        throw this.failure(
          'TrainerSpawnFailed',
          `cannot start the trainer ${JSON.stringify(record.command[0])}: ${exit.error} (check training.command and training.cwd)`,
          true,
          { run: record.run, error: exit.error },
          await this.tail(),
        );
      }
      if (exit.code !== 0) {
        throw this.failure(
          'TrainerFailed',
          `trainer run ${record.run} ended with ${describeExit(exit)}`,
          false,
          { run: record.run, exitCode: exit.code, signal: exit.signal, cancelled: exit.cancelled },
          await this.tail(),
        );
      }
      const checked = await this.readOutput();
      if (!checked.ok)
        throw this.failure(
          'TrainerOutputInvalid',
          `trainer run ${record.run} exited 0 but ${checked.reason}`,
          true,
          { run: record.run },
          await this.tail(),
        );
      output = checked;
    }
    const { report } = output;
    const result: TrainResult = {
      job: this.name,
      version: report.version ?? `${this.name}@${await outputDigest(output.text, output.adapter)}`,
      model: report.model,
      adapter: output.adapter,
      endpoint: report.endpoint,
      rows: data.rows,
      rejected: data.rejected,
      rejects: data.rejected > 0 ? this.job.rejectsFile : undefined,
      seconds: exit.seconds,
      run: record.run,
      metrics: report.metrics,
      logTail: await this.tail(),
      reused: false,
      adopted: finished.adopted,
    };
    await writeFileAtomic(
      this.job.doneFile,
      JSON.stringify({ fingerprint: this.fingerprint, result } satisfies DoneRecord, null, 2) + '\n',
    );
    await this.note(`done: version ${result.version} from run ${record.run}${finished.adopted ? ' (adopted)' : ''}`);
    return result;
  }

  /** Binds the job name to this input (job.json), or refuses a different input under the same name. */
  private async bindJob(): Promise<void> {
    const existing = await readJsonFile<JobRecord>(this.job.jobFile);
    if (existing) {
      if (existing.fingerprint !== this.fingerprint) throw this.conflict(existing.input);
      return;
    }
    const record: JobRecord = { fingerprint: this.fingerprint, input: this.input, createdAt: new Date().toISOString() };
    await writeFileAtomic(this.job.jobFile, JSON.stringify(record, null, 2) + '\n');
  }

  private async prepareData(): Promise<TrainingData> {
    const summary = await readJsonFile<DataSummary>(this.job.dataSummaryFile);
    let data: TrainingData;
    if (summary?.fingerprint === this.fingerprint && existsSync(this.job.dataFile)) {
      data = summary;
    } else {
      const started = Date.now();
      try {
        data = await materialiseTrainingData({
          store: this.setup.store,
          data: this.input.data,
          kind: this.input.kind,
          stage: `train:${this.name}`,
          dataFile: this.job.dataFile,
          rejectsFile: this.job.rejectsFile,
          onProgress: (p) =>
            void this.heartbeat({ phase: 'data', ...p, seconds: Math.round((Date.now() - started) / 1000) }),
          signal: this.signal,
        });
      } catch (err) {
        // A dataset not (yet) visible, e.g. on shared storage: worth retrying.
        if (err instanceof DatasetError)
          throw ApplicationFailure.retryable(`train ${this.name}: ${err.message}`, 'TrainingDataUnavailable');
        throw err;
      }
      await writeFileAtomic(
        this.job.dataSummaryFile,
        JSON.stringify({ ...data, fingerprint: this.fingerprint } satisfies DataSummary) + '\n',
      );
      await this.note(
        `data: ${data.rows} rows in ${this.job.dataFile}, ${data.rejected} set aside${data.rejected > 0 ? ` in ${this.job.rejectsFile}` : ''}`,
      );
    }
    if (data.rows === 0) {
      const example = data.sampleReasons[0] ? `; e.g. ${data.sampleReasons[0]}` : '';
      throw ApplicationFailure.nonRetryable(
        `train ${this.name}: no usable ${this.input.kind} rows in dataset ${this.input.data.name} (${data.rejected} set aside${data.rejected > 0 ? `, see ${this.job.rejectsFile}` : ''}${example})`,
        'NoTrainingData',
      );
    }
    return data;
  }

  /** Substitutes placeholders in the command and env; a placeholder without a value fails the job for good. */
  private resolveCommand(rows: number): void {
    const { input, job } = this;
    const hp = input.hyperparameters;
    const values: Record<string, string | undefined> = {
      data: job.dataFile,
      output: job.outputDir,
      result: job.resultFile,
      base: input.base.model ?? input.base.version,
      'base.version': input.base.version,
      'base.model': input.base.model,
      'base.adapter': input.base.adapter,
      kind: input.kind,
      role: input.role,
      job: input.job,
      jobDir: job.dir,
      rows: String(rows),
      hyperparameters: JSON.stringify(hp),
      ...Object.fromEntries(Object.entries(hp).map(([k, v]) => [`hp.${k}`, hyperparameterText(v)])),
    };
    const fill = (template: string, where: string): string => {
      const r = substitutePlaceholders(template, values);
      if (r.ok) return r.text;
      const hint = r.missing.startsWith('hp.')
        ? ` (hyperparameters given: ${Object.keys(hp).join(', ') || 'none'})`
        : r.missing.startsWith('base.')
          ? ' (the input base does not name it)'
          : '';
      throw ApplicationFailure.nonRetryable(
        `train ${this.name}: ${where} uses {${r.missing}}, which this job has no value for${hint}`,
        'InvalidInput',
      );
    };
    this.command = this.setup.config.command.map((arg, i) => fill(arg, `training.command[${i}]`));
    const extra = Object.fromEntries(
      Object.entries(this.setup.config.env).map(([k, v]) => [k, fill(v, `training.env.${k}`)]),
    );
    const own: Record<string, string | undefined> = {
      PROMPTCOT_TRAIN_JOB: input.job,
      PROMPTCOT_TRAIN_JOB_DIR: job.dir,
      PROMPTCOT_TRAIN_KIND: input.kind,
      PROMPTCOT_TRAIN_ROLE: input.role,
      PROMPTCOT_TRAIN_DATA: job.dataFile,
      PROMPTCOT_TRAIN_ROWS: String(rows),
      PROMPTCOT_TRAIN_OUTPUT: job.outputDir,
      PROMPTCOT_TRAIN_RESULT: job.resultFile,
      PROMPTCOT_TRAIN_BASE: values.base,
      PROMPTCOT_TRAIN_BASE_VERSION: input.base.version,
      PROMPTCOT_TRAIN_BASE_MODEL: input.base.model,
      PROMPTCOT_TRAIN_BASE_ADAPTER: input.base.adapter,
      PROMPTCOT_TRAIN_HYPERPARAMETERS: JSON.stringify(hp),
    };
    const env: Record<string, string> = {};
    // PROMPTCOT_TRAIN_* describe this job only: none inherited from the worker's environment.
    const inherited = Object.entries(process.env).filter(([k]) => !k.startsWith('PROMPTCOT_TRAIN_'));
    for (const [k, v] of [...inherited, ...Object.entries(extra), ...Object.entries(own)])
      if (v !== undefined) env[k] = v;
    this.env = env;
  }

  private async readOutput(): Promise<TrainerOutput> {
    const file = this.job.resultFile;
    let text: string;
    try {
      text = await fsp.readFile(file, 'utf8');
    } catch {
      return { ok: false, reason: `${file} is missing (the trainer must write it before exiting 0)` };
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      return { ok: false, reason: `${file} is not JSON (${(err as Error).message})` };
    }
    const parsed = TrainerReportSchema.safeParse(raw);
    if (!parsed.success)
      return { ok: false, reason: `${file} is not a valid report: ${describeZodError(parsed.error)}` };
    const report = parsed.data;
    let adapter: string | undefined;
    if (report.adapter !== undefined) {
      adapter = path.resolve(this.job.outputDir, report.adapter);
      if (!existsSync(adapter)) return { ok: false, reason: `${file} names adapter ${adapter}, which does not exist` };
    }
    return { ok: true, report, text, adapter };
  }

  /** Finds the trainer run this call should take the result of: a finished or live one, or a new one. */
  private async obtainFinishedRun(): Promise<FinishedRun> {
    for (let round = 0; round < 20; round++) {
      const latest = await this.job.latestRun();
      if (latest !== undefined) {
        const record = await this.job.readRun(latest);
        let exit = await this.job.readExit(latest);
        if (record && exit === undefined) {
          if (await this.isAlive(record)) {
            await this.note(
              `adopting run ${record.run} (supervisor pid ${record.pid} on ${record.host.hostname}, started by attempt ${record.attempt}): waiting for it`,
            );
            return { record, exit: await this.watch(record, true), adopted: true };
          }
          exit = await this.job.readExit(latest);
          if (exit === undefined)
            await this.note(
              `run ${latest} (supervisor pid ${record.pid} on ${record.host.hostname}) is gone without an exit status`,
            );
        }
        if (record && exit !== undefined) {
          if (exit.code === 0 && exit.error === undefined) {
            const output = await this.readOutput();
            if (output.ok) {
              await this.note(`run ${latest} had finished (exit 0) before this attempt: taking its output`);
              return { record, exit, adopted: true, output };
            }
            await this.note(`run ${latest} exited 0 but ${output.reason}`);
          } else {
            await this.note(`run ${latest} ended with ${describeExit(exit)}`);
          }
        }
      }
      const next = (latest ?? 0) + 1;
      const started = await this.startRun(next);
      if (started)
        return { record: started.record, exit: await this.watch(started.record, false, started.waker), adopted: false };
      await this.note(`run ${next} was claimed by another attempt first`);
    }
    throw ApplicationFailure.retryable(
      `train ${this.name}: could not claim or adopt a trainer run (other attempts keep racing for it)`,
      'TrainerRaced',
    );
  }

  /** Whether the supervisor of a run without an exit status is still alive (waits a few lease periods when remote). */
  private async isAlive(record: RunRecord): Promise<boolean> {
    const local = localRunAlive(record, this.setup.here);
    if (local !== undefined) return local;
    const first = (await this.job.readLease(record.run))?.beats;
    const deadline = Date.now() + leaseStaleMs(record);
    while (Date.now() < deadline) {
      await this.heartbeat({
        phase: 'training',
        run: record.run,
        pid: record.pid,
        host: record.host.hostname,
        adopted: true,
        seconds: 0,
      });
      await new Waker().wait(Math.min(this.setup.pollMs, record.leaseMs), this.signal);
      if (this.signal.aborted) throw this.signal.reason;
      if (await this.job.readExit(record.run)) return false;
      if ((await this.job.readLease(record.run))?.beats !== first) return true;
    }
    return false;
  }

  /** Starts run `run` through a detached supervisor; undefined when another attempt claimed that run first. */
  private async startRun(run: number): Promise<{ record: RunRecord; waker: Waker } | undefined> {
    await fsp.mkdir(this.job.runsDir, { recursive: true });
    await fsp.mkdir(this.job.outputDir, { recursive: true });
    const spec: SupervisorSpec = {
      root: this.setup.root,
      job: this.name,
      run,
      attempt: this.ctx.info.attempt,
      fingerprint: this.fingerprint,
      command: this.command,
      cwd: this.setup.trainerCwd,
      leaseMs: this.setup.heartbeatMs,
      killGraceMs: this.setup.killGraceMs,
    };
    const env = {
      ...this.env,
      PROMPTCOT_TRAIN_RUN: String(run),
      PROMPTCOT_TRAIN_ATTEMPT: String(this.ctx.info.attempt),
    };
    const logFd = openSync(this.job.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, [...supervisorArgv(), JSON.stringify(spec)], {
        cwd: this.job.dir,
        env,
        detached: true,
        stdio: ['ignore', logFd, logFd],
      });
    } finally {
      closeSync(logFd);
    }
    child.unref(); // the supervisor outlives this process if it must
    const waker = new Waker();
    let exitCode: number | null | undefined;
    let spawnError: Error | undefined;
    child.once('exit', (code) => {
      exitCode = code;
      waker.wake();
    });
    child.once('error', (err) => {
      spawnError = err;
      waker.wake();
    });
    const deadline = Date.now() + 60_000;
    for (;;) {
      const record = await this.job.readRun(run);
      if (record) return record.pid === child.pid ? { record, waker } : undefined;
      const failed =
        spawnError?.message ??
        (exitCode !== undefined && exitCode !== LOST_CLAIM_EXIT_CODE ? `exited with ${exitCode}` : undefined);
      if (exitCode === LOST_CLAIM_EXIT_CODE) return undefined;
      if (failed !== undefined || Date.now() > deadline || this.signal.aborted) {
        if (child.pid !== undefined) signalProcessGroup(child.pid, 'SIGKILL');
        if (this.signal.aborted) throw this.signal.reason;
        throw this.failure(
          'TrainerSupervisorFailed',
          `the trainer supervisor for run ${run} ${failed ?? 'did not start within 60s'}`,
          false,
          { run },
          await this.tail(),
        );
      }
      await waker.wait(50, this.signal);
    }
  }

  /** Waits for a run's exit status, heartbeating; handles cancellation. */
  private async watch(record: RunRecord, adopted: boolean, waker = new Waker()): Promise<ExitRecord> {
    const lease = new LeaseTracker(leaseStaleMs(record));
    const startedAt = Date.parse(record.startedAt);
    let first = true;
    for (;;) {
      const exit = await this.job.readExit(record.run);
      if (exit) return exit;
      if (this.signal.aborted) await this.stop(record);
      const beat = await this.job.readLease(record.run);
      await this.heartbeat(
        {
          phase: 'training',
          run: record.run,
          pid: beat?.trainerPid ?? record.pid,
          host: record.host.hostname,
          adopted,
          seconds: Math.max(0, Math.round((Date.now() - startedAt) / 1000)),
        },
        first,
      );
      first = false;
      const alive = localRunAlive(record, this.setup.here) ?? lease.observe(beat?.beats);
      if (!alive) {
        const late = await this.job.readExit(record.run);
        if (late) return late;
        throw this.failure(
          'TrainerFailed',
          `trainer run ${record.run} (supervisor pid ${record.pid} on ${record.host.hostname}) died without recording an exit status (killed together with its supervisor, or its machine went down)`,
          false,
          { run: record.run },
          await this.tail(),
        );
      }
      await waker.wait(this.setup.pollMs, this.signal);
    }
  }

  /** On cancellation: stops the run, or leaves it to the next attempt when this attempt merely ends; rethrows. */
  private async stop(record: RunRecord): Promise<never> {
    const reason = this.signal.reason as unknown;
    const why = reason instanceof Error ? reason.message : String(reason);
    const details = this.ctx.cancellationDetails;
    if (details?.workerShutdown || details?.timedOut) {
      await this.note(`activity attempt ends (${why}): run ${record.run} keeps running for the next attempt to adopt`);
      throw reason;
    }
    await this.note(`activity cancelled (${why}): stopping run ${record.run}`);
    await fsp
      .writeFile(
        this.job.cancelFile(record.run),
        JSON.stringify({ requestedAt: new Date().toISOString(), reason: why, attempt: this.ctx.info.attempt }) + '\n',
      )
      .catch(() => undefined);
    const until = async (done: () => boolean | Promise<boolean>, ms: number) => {
      const deadline = Date.now() + ms;
      while (!(await done()) && Date.now() < deadline) await sleep(Math.min(200, this.setup.pollMs));
      return done();
    };
    // Only a supervisor verified to be the one that claimed the run (same machine, pid and start time) is signalled
    // from this.setup.here; any other (another machine, or no /proc to verify) sees the cancel file within a lease period and
    // does the same itself.
    const local = localRunAlive(record, this.setup.here);
    if (local === true) {
      signalProcessGroup(record.pgid, 'SIGTERM');
      const stopped = await until(() => !processGroupAlive(record.pgid), this.setup.killGraceMs);
      if (!stopped) {
        await this.note(
          `run ${record.run} still running ${this.setup.killGraceMs / 1000}s after SIGTERM: SIGKILL to process group ${record.pgid}`,
        );
        signalProcessGroup(record.pgid, 'SIGKILL');
        await until(() => !processGroupAlive(record.pgid), 5000);
      }
    } else if (local === undefined) {
      const lease = new LeaseTracker(leaseStaleMs(record));
      await until(
        async () =>
          (await this.job.readExit(record.run)) !== undefined ||
          !lease.observe((await this.job.readLease(record.run))?.beats),
        this.setup.killGraceMs + leaseStaleMs(record),
      );
    }
    throw reason;
  }
}
