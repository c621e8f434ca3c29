// The trainer's supervisor: a small process the train activity starts detached (a session and process group of its
// own, so it outlives a crashed worker and the whole tree can be signalled at once). It claims a run number, starts
// the trainer inside its group with stdout + stderr appended to train.log, renews a lease file, stops the trainer
// when a cancel file appears, and records how the trainer ended. Because the exit status lands in a file, whichever
// attempt of the activity is around (the one that started the run, or a later one after the worker died) can wait
// for the trainer and read its outcome: a non-child cannot be waited for any other way.
//
// Usage (by the train activity only): node [--import tsx] supervisor.ts '<SupervisorSpec as JSON>'
import { spawn } from 'node:child_process';
import { closeSync, existsSync, linkSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import {
  hostIdentity,
  JobDir,
  LOST_CLAIM_EXIT_CODE,
  procStat,
  type ExitRecord,
  type LeaseRecord,
  type RunRecord,
  type SupervisorSpec,
} from './job-dir';
import { writeFileAtomicSync } from '../datasets/jsonl';

/** Publishes the run record only if no other process claimed this run number: link(2) fails on an existing name. */
function claim(file: string, record: RunRecord): boolean {
  const text = JSON.stringify(record) + '\n';
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { flush: true });
  try {
    linkSync(tmp, file);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    // A file system without hard links: an exclusive create is the next best thing.
    try {
      writeFileSync(file, text, { flag: 'wx', flush: true });
      return true;
    } catch (err2) {
      if ((err2 as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err2;
    }
  } finally {
    rmSync(tmp, { force: true });
  }
}

function main(): void {
  const spec = JSON.parse(process.argv[2] ?? '') as SupervisorSpec;
  const job = new JobDir(spec.root, spec.job);
  const say = (line: string) =>
    process.stdout.write(`[promptcot] ${new Date().toISOString()} run ${spec.run}: ${line}\n`);

  // Signals sent to the process group are meant for the trainer: the supervisor stays to record how it ended.
  let terminated = false;
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (signal === 'SIGTERM') terminated = true;
      say(`supervisor received ${signal}`);
    });
  }

  const record: RunRecord = {
    run: spec.run,
    pid: process.pid,
    pgid: process.pid,
    host: hostIdentity(),
    processStart: procStat(process.pid)?.start,
    startedAt: new Date().toISOString(),
    attempt: spec.attempt,
    fingerprint: spec.fingerprint,
    leaseMs: spec.leaseMs,
    command: spec.command,
  };
  if (!claim(job.runFile(spec.run), record)) {
    say(`already claimed by another attempt; supervisor pid ${process.pid} exits without starting anything`);
    process.exit(LOST_CLAIM_EXIT_CODE);
  }
  // A report left by an earlier run must not pass for this run's.
  rmSync(job.resultFile, { force: true });
  say(
    `supervisor pid ${process.pid} on ${record.host.hostname} (attempt ${spec.attempt}) starts: ${JSON.stringify(spec.command)}`,
  );

  const started = performance.now();
  let beats = 0;
  let trainerPid: number | undefined;
  let stopping = false;
  let finished = false;
  let killTimer: NodeJS.Timeout | undefined;

  const renewLease = () => {
    const lease: LeaseRecord = { beats: ++beats, trainerPid, at: new Date().toISOString() };
    try {
      writeFileAtomicSync(job.leaseFile(spec.run), JSON.stringify(lease) + '\n');
    } catch (err) {
      say(`cannot renew the lease: ${(err as Error).message}`);
    }
  };

  const finish = (outcome: Pick<ExitRecord, 'code' | 'signal' | 'error'>) => {
    if (finished) return;
    finished = true;
    clearInterval(leaseTimer);
    clearTimeout(killTimer);
    const exit: ExitRecord = {
      run: spec.run,
      ...outcome,
      cancelled: stopping || existsSync(job.cancelFile(spec.run)),
      seconds: Math.round((performance.now() - started) / 10) / 100,
      endedAt: new Date().toISOString(),
    };
    writeFileAtomicSync(job.exitFile(spec.run), JSON.stringify(exit) + '\n');
    say(
      outcome.error !== undefined
        ? `trainer could not start: ${outcome.error}`
        : `trainer exited with ${outcome.signal ? `signal ${outcome.signal}` : `code ${outcome.code}`} after ${exit.seconds}s${exit.cancelled ? ' (cancelled)' : ''}`,
    );
  };

  const stop = () => {
    if (stopping) return;
    stopping = true;
    if (terminated) {
      // the activity on this machine has signalled the group already: one SIGTERM is what trainers expect
      say(`cancel requested: the group got SIGTERM already; SIGKILL in ${spec.killGraceMs / 1000}s`);
    } else {
      say(`cancel requested: SIGTERM to process group ${process.pid}, SIGKILL in ${spec.killGraceMs / 1000}s`);
      try {
        process.kill(-process.pid, 'SIGTERM');
      } catch {
        // the group is already gone but for this process
      }
    }
    killTimer = setTimeout(() => {
      finish({ code: null, signal: 'SIGKILL' });
      process.kill(-process.pid, 'SIGKILL'); // the supervisor goes too: its record is written
    }, spec.killGraceMs);
  };

  const leaseTimer = setInterval(() => {
    renewLease();
    if (!stopping && existsSync(job.cancelFile(spec.run))) stop();
  }, spec.leaseMs);
  renewLease();

  const logFd = openSync(job.logFile, 'a');
  const [file, ...args] = spec.command;
  // Same process group as the supervisor (not detached): a signal to the group reaches the trainer and its children.
  const trainer = spawn(file!, args, { cwd: spec.cwd, env: process.env, stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  trainer.once('spawn', () => {
    trainerPid = trainer.pid;
    say(`trainer pid ${trainer.pid}`);
    renewLease();
  });
  trainer.once('error', (err) => {
    if (trainerPid === undefined) {
      finish({ code: null, signal: null, error: err.message });
      process.exit(0);
    }
    say(`trainer error: ${err.message}`);
  });
  trainer.once('exit', (code, signal) => {
    finish({ code, signal });
    // whatever the trainer left running in the group (data-loader workers, helpers holding the GPU) goes with it;
    // the signal reaches this supervisor too, after the exit record is written. A model server the trainer starts
    // on purpose (result.json `endpoint`) must leave the group (setsid / a service manager) to outlive it.
    try {
      process.kill(-process.pid, 'SIGKILL');
    } catch {
      /* not a group leader (never: it is started detached) */
    }
    process.exit(0);
  });
}

if (require.main === module) main();
