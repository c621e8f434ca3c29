import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ActivityCancellationDetails, ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { writeFileAtomic } from '../../activities/datasets/jsonl';
import { DatasetStore } from '../../activities/datasets/store';
import { hostIdentity, localRunAlive, type RunRecord } from '../../activities/training/job-dir';
import { activateModel, ModelActivationError, type ActiveModel } from '../../activities/training/serve';
import {
  createTrainingActivities,
  type ActivateTrainedModelInput,
  type TrainingActivities,
  type TrainingActivitiesOptions,
} from '../../activities/training/train';
import { shardFileName, type DatasetRef } from '../../domain/core/dataset';
import {
  DEFAULT_TRAINER_CONFIG,
  TrainerConfigSchema,
  type TrainerConfig,
  type TrainHeartbeat,
  type TrainInput,
  type TrainResult,
} from '../../domain/platform/training';
import { describeZodError } from '../../domain/core/validation';
import { exampleTrainerCommand } from '../support/config';
import { tempDir } from '../support/files';

const ROOT = path.join(__dirname, '..', '..');

const tmp = tempDir('train');
const store = new DatasetStore(path.join(tmp.dir, 'store'));
const trainingRoot = path.join(tmp.dir, 'training');

function trainerConfig(env: Record<string, string> = {}, extra: Partial<TrainerConfig> = {}): TrainerConfig {
  return TrainerConfigSchema.parse({
    command: exampleTrainerCommand(ROOT, ['--hp', 'learningRate={hp.learningRate}']),
    root: trainingRoot,
    heartbeatSeconds: 0.2,
    killGraceSeconds: 1,
    logTailLines: 10,
    env,
    ...extra,
  });
}

function activitiesFor(config: TrainerConfig, options?: TrainingActivitiesOptions) {
  return createTrainingActivities(config, store, options);
}

/** Writes shards as given (bad lines included, as a stage could have written them) and a manifest over them. */
async function dataset(name: string, shards: Array<Array<unknown>>): Promise<DatasetRef> {
  const infos = [];
  for (let i = 0; i < shards.length; i++) {
    const lines = shards[i]!.map((r) => (typeof r === 'string' ? r : JSON.stringify(r)));
    await writeFileAtomic(path.join(store.datasetDir(name), shardFileName(i)), lines.join('\n') + '\n');
    infos.push(await store.shardInfo(name, shardFileName(i), lines.length));
  }
  return store.writeManifest(name, infos, { stage: 'test' });
}

function sftRows(n: number, prefix = 'q'): Array<{ id: string; prompt: string; completion: string }> {
  return Array.from({ length: n }, (_, i) => ({
    id: `${prefix}${i}`,
    prompt: `Problem ${i}: add ${i} and ${i + 1}.`,
    completion: `The sum of ${i} and ${i + 1} is ${2 * i + 1}.`,
  }));
}

function sftInput(
  job: string,
  data: DatasetRef,
  hyperparameters: TrainInput['hyperparameters'] = { learningRate: 2e-6, batchSize: 2, epochs: 1 },
): TrainInput {
  return {
    job,
    kind: 'sft',
    role: 'rationaleModel',
    base: { version: 'q_phi@0', model: 'Qwen/Qwen2.5-7B-Instruct' },
    data,
    hyperparameters,
  };
}

/** An activity context as a worker gives it, with the SDK's log lines kept to errors. */
function activityEnv(attempt = 1): MockActivityEnvironment {
  return new MockActivityEnvironment({ attempt }, { logger: new DefaultLogger('ERROR') });
}

function runTrain(
  env: MockActivityEnvironment,
  train: TrainingActivities['train'],
  input: TrainInput,
): Promise<TrainResult> {
  return env.run(train, input) as Promise<TrainResult>;
}

function runActivate(
  env: MockActivityEnvironment,
  activate: TrainingActivities['activateTrainedModel'],
  input: ActivateTrainedModelInput,
): Promise<ActiveModel> {
  return env.run(activate, input) as Promise<ActiveModel>;
}

function jobDir(job: string): string {
  return path.join(trainingRoot, job);
}

function trainLog(job: string): string {
  return readFileSync(path.join(jobDir(job), 'train.log'), 'utf8');
}

function trainerStarts(job: string): number {
  return trainLog(job)
    .split('\n')
    .filter((l) => l.startsWith('example-trainer: start')).length;
}

function runRecord(job: string, run = 1): RunRecord {
  return JSON.parse(
    readFileSync(path.join(jobDir(job), 'trainer', `run-${String(run).padStart(4, '0')}.json`), 'utf8'),
  ) as RunRecord;
}

/** Alive and not a zombie (an orphan nobody reaped is gone for our purposes). */
function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

async function waitFor(what: string, condition: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

afterAll(() => {
  // Whatever a failed test left running: every run's supervisor leads the process group of its trainer.
  if (existsSync(trainingRoot)) {
    const walk = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)],
      );
    for (const file of walk(trainingRoot).filter((f) => /run-\d+\.json$/.test(f))) {
      const record = JSON.parse(readFileSync(file, 'utf8')) as RunRecord;
      // Verified by pid and start time: the stale-record test writes this very process's pid into a record.
      if (localRunAlive(record, hostIdentity()) === true) {
        try {
          process.kill(-record.pgid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  }
  tmp.remove();
});

describe('training config and input', () => {
  it('fills defaults, and names an unknown placeholder by its field', () => {
    const config = TrainerConfigSchema.parse({ command: ['trainer', '--data', '{data}', '--json', '{"a": {"b": 1}}'] });
    expect(config).toMatchObject({
      root: 'runs/training',
      heartbeatSeconds: 10,
      killGraceSeconds: 30,
      logTailLines: 40,
      env: {},
    });
    expect(DEFAULT_TRAINER_CONFIG.command).toContain('scripts/example-trainer.ts');
    const bad = TrainerConfigSchema.safeParse({
      command: ['trainer', '--lr', '{learning_rate}'],
      env: { RUN: '{job}', X: '{nope}' },
    });
    expect(bad.success).toBe(false);
    const message = describeZodError(bad.error!);
    expect(message).toContain('command[2]: unknown placeholder {learning_rate}');
    expect(message).toContain('env.X: unknown placeholder {nope}');
    expect(message).not.toContain('env.RUN');
  });

  it('refuses a bad input, a placeholder without a value, and a dataset without usable rows, for good', async () => {
    const data = await dataset('cfg-ok', [sftRows(2)]);
    const { train } = activitiesFor(trainerConfig({}, { command: ['trainer', '--beta', '{hp.beta}'] }));
    const badJob = await failureOf(runTrain(activityEnv(), train, sftInput('../escape', data)));
    expect(badJob).toMatchObject({ type: 'InvalidInput', nonRetryable: true });
    expect(badJob.message).toContain('job:');
    const missing = await failureOf(runTrain(activityEnv(), train, sftInput('cfg/missing-hp', data)));
    expect(missing).toMatchObject({ type: 'InvalidInput', nonRetryable: true });
    expect(missing.message).toContain('training.command[2] uses {hp.beta}');
    expect(missing.message).toContain('hyperparameters given: learningRate, batchSize, epochs');
    expect(existsSync(path.join(jobDir('cfg/missing-hp'), 'data.jsonl'))).toBe(false);

    const empty = await dataset('cfg-empty', [[{ prompt: 'p' }, 'not json']]);
    const none = await failureOf(
      runTrain(activityEnv(), activitiesFor(trainerConfig()).train, sftInput('cfg/no-rows', empty)),
    );
    expect(none).toMatchObject({ type: 'NoTrainingData', nonRetryable: true });
    expect(none.message).toContain('no usable sft rows in dataset cfg-empty (2 set aside');
    expect(
      readFileSync(path.join(jobDir('cfg/no-rows'), 'rejects.jsonl'), 'utf8')
        .trim()
        .split('\n'),
    ).toHaveLength(2);
  });
});

describe('train activity', () => {
  it('trains with the configured command: adapter and result come back, rows counted, bad rows set aside, heartbeats carry the log tail', async () => {
    const data = await dataset('em-sft', [
      [...sftRows(3, 'a'), { id: 'no-completion', prompt: 'p' }, '{broken json'],
      [...sftRows(2, 'b'), { id: 'empty', prompt: 'p', completion: '  ' }],
    ]);
    const job = 'em-run1/iter-1/q_phi';
    const env = activityEnv(1);
    const heartbeats: TrainHeartbeat[] = [];
    env.on('heartbeat', (d: TrainHeartbeat) => heartbeats.push(d));
    const result: TrainResult = await runTrain(
      env,
      activitiesFor(trainerConfig({ EXAMPLE_TRAINER_STEP_MS: '300' })).train,
      sftInput(job, data),
    );

    const adapter = path.join(jobDir(job), 'output', 'adapter');
    expect(result).toMatchObject({
      job,
      model: 'em-run1--iter-1--q_phi',
      adapter,
      rows: 5,
      rejected: 3,
      run: 1,
      reused: false,
      adopted: false,
    });
    expect(result.version).toMatch(/^em-run1\/iter-1\/q_phi@[0-9a-f]{12}$/);
    expect(result.rejects).toBe(path.join(jobDir(job), 'rejects.jsonl'));
    expect(result.metrics).toMatchObject({ steps: 3, rows: 5 });
    expect(result.seconds).toBeGreaterThan(0.5);
    expect(result.logTail.at(-1)).toMatch(/trainer exited with code 0|done: version/);
    expect(result.logTail.some((l) => l.startsWith('example-trainer: done: model em-run1--iter-1--q_phi'))).toBe(true);

    // The trainer got the substituted argv and the PROMPTCOT_TRAIN_* environment (batchSize and epochs came from there).
    const adapterConfig = JSON.parse(readFileSync(path.join(adapter, 'adapter_config.json'), 'utf8'));
    expect(adapterConfig).toMatchObject({
      base_model_name_or_path: 'Qwen/Qwen2.5-7B-Instruct',
      kind: 'sft',
      rows: 5,
      steps: 3,
      hyperparameters: { learningRate: 2e-6, batchSize: 2, epochs: 1 },
    });
    expect(JSON.parse(readFileSync(path.join(adapter, 'adapter_model.json'), 'utf8')).top.length).toBeGreaterThan(5);

    const kept = readFileSync(path.join(jobDir(job), 'data.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).id);
    expect(kept).toEqual(['a0', 'a1', 'a2', 'b0', 'b1']);
    const rejects = readFileSync(result.rejects!, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rejects.map((r) => [r.source.shard, r.source.line, r.reason])).toEqual([
      [0, 4, 'sft row needs "completion" as a non-empty string (got missing)'],
      [0, 5, expect.stringMatching(/^invalid JSON/)],
      [1, 3, 'sft row needs "completion" as a non-empty string (got an empty string)'],
    ]);
    expect(rejects[0]).toMatchObject({ kind: 'rejected', stage: `train:${job}`, record: { id: 'no-completion' } });

    const training = heartbeats.filter((h) => h.phase === 'training');
    expect(training.length).toBeGreaterThanOrEqual(2);
    expect(
      training.every(
        (h) => h.job === job && h.run === 1 && typeof h.pid === 'number' && h.host === hostIdentity().hostname,
      ),
    ).toBe(true);
    expect(training.some((h) => h.logTail.some((l) => /^step [12]\/3 epoch 1 loss=/.test(l)))).toBe(true);
    expect(Math.max(...training.map((h) => h.logTail.length))).toBeLessThanOrEqual(10);
  });

  it('returns a completed job as it is without running anything, and refuses another input under its name', async () => {
    const data = await dataset('reuse', [sftRows(4)]);
    const { train } = activitiesFor(trainerConfig());
    const first = await runTrain(activityEnv(), train, sftInput('reuse/job', data));
    expect(first.reused).toBe(false);
    const dataMtime = statSync(path.join(jobDir('reuse/job'), 'data.jsonl')).mtimeMs;

    const second = await runTrain(activityEnv(2), train, sftInput('reuse/job', data));
    expect(second).toEqual({ ...first, reused: true });
    expect(trainerStarts('reuse/job')).toBe(1);
    expect(readdirSync(path.join(jobDir('reuse/job'), 'trainer')).filter((f) => f.endsWith('.exit.json'))).toEqual([
      'run-0001.exit.json',
    ]);
    expect(statSync(path.join(jobDir('reuse/job'), 'data.jsonl')).mtimeMs).toBe(dataMtime);

    const other = await failureOf(runTrain(activityEnv(), train, sftInput('reuse/job', data, { learningRate: 1e-6 })));
    expect(other).toMatchObject({ type: 'TrainJobConflict', nonRetryable: true });
    expect(other.message).toContain('differs in: hyperparameters');
  });

  it('takes the output of a run that finished after its worker died, without training again', async () => {
    const data = await dataset('finished-late', [sftRows(3)]);
    const { train } = activitiesFor(trainerConfig());
    const first = await runTrain(activityEnv(), train, sftInput('late/job', data));
    // As if the worker had died between the trainer's exit and recording the job as done.
    rmSync(path.join(jobDir('late/job'), 'done.json'));
    const again = await runTrain(activityEnv(2), train, sftInput('late/job', data));
    expect(again).toMatchObject({
      version: first.version,
      adapter: first.adapter,
      run: 1,
      reused: false,
      adopted: true,
    });
    expect(trainerStarts('late/job')).toBe(1);
  });

  it('fails a crashed trainer with its exit code and log tail (retryable); the retry starts a new run that resumes from its checkpoint', async () => {
    const data = await dataset('crash', [sftRows(6)]);
    const input = sftInput('crash/job', data);
    const crashing = activitiesFor(
      trainerConfig({ EXAMPLE_TRAINER_FAIL_AT_STEP: '3', EXAMPLE_TRAINER_EXIT_CODE: '7' }),
    );
    const failure = await failureOf(runTrain(activityEnv(), crashing.train, input));
    expect(failure).toMatchObject({ type: 'TrainerFailed', nonRetryable: false });
    expect(failure.message).toContain('train crash/job: trainer run 1 ended with exit code 7');
    expect(failure.message).toContain('example-trainer: simulated crash at step 3');
    expect(failure.details?.[0]).toMatchObject({
      job: 'crash/job',
      run: 1,
      exitCode: 7,
      signal: null,
      cancelled: false,
    });
    expect((failure.details?.[0] as { logTail: string[] }).logTail).toContain(
      'example-trainer: simulated crash at step 3',
    );

    const result = await runTrain(activityEnv(2), activitiesFor(trainerConfig()).train, input);
    expect(result).toMatchObject({ run: 2, adopted: false, reused: false, rows: 6 });
    expect(trainLog('crash/job')).toContain('run 1 ended with exit code 7');
    expect(trainLog('crash/job')).toContain('example-trainer: resuming from the checkpoint at step 2');
  });

  it('fails an exit 0 without a valid result.json for good (TrainerOutputInvalid)', async () => {
    const data = await dataset('invalid-result', [sftRows(2)]);
    const invalid = await failureOf(
      runTrain(
        activityEnv(),
        activitiesFor(trainerConfig({ EXAMPLE_TRAINER_RESULT: 'invalid' })).train,
        sftInput('invalid/broken', data),
      ),
    );
    expect(invalid).toMatchObject({ type: 'TrainerOutputInvalid', nonRetryable: true });
    expect(invalid.message).toMatch(/trainer run 1 exited 0 but .*result\.json is not JSON/);
    const missing = await failureOf(
      runTrain(
        activityEnv(),
        activitiesFor(trainerConfig({ EXAMPLE_TRAINER_RESULT: 'missing' })).train,
        sftInput('invalid/missing', data),
      ),
    );
    expect(missing).toMatchObject({ type: 'TrainerOutputInvalid', nonRetryable: true });
    expect(missing.message).toContain('result.json is missing (the trainer must write it before exiting 0)');
    expect(missing.message).toContain('example-trainer: done, without writing result.json');
  });

  it('fails for good when the trainer cannot be started at all', async () => {
    const data = await dataset('no-binary', [sftRows(2)]);
    const config = trainerConfig({}, { command: [path.join(tmp.dir, 'no-such-trainer'), '{data}'] });
    const failure = await failureOf(
      runTrain(activityEnv(), activitiesFor(config).train, sftInput('spawn/fails', data)),
    );
    expect(failure).toMatchObject({ type: 'TrainerSpawnFailed', nonRetryable: true });
    expect(failure.message).toContain('ENOENT');
  });

  it('trains DPO pairs, setting aside pairs that cannot teach a preference', async () => {
    const pairs = [
      {
        prompt: '<|im_start|>user\nP1<|im_end|>\n<|im_start|>assistant',
        chosen: '\n<think>a</think> 4',
        rejected: '\n<think>b</think> 5',
      },
      { prompt: 'P2', chosen: '\nsame', rejected: '\nsame' },
      { prompt: 'P3', chosen: '\n<think>c</think> 7', rejected: '\n<think>d</think> 8', source: 'PromptCoT-Math' },
    ];
    const data = await dataset('dpo', [pairs]);
    const result = await runTrain(activityEnv(), activitiesFor(trainerConfig()).train, {
      job: 'self-play/round-1/policy',
      kind: 'dpo',
      role: 'policy',
      base: { version: 'policy@0' },
      data,
      hyperparameters: { learningRate: 1e-6, batchSize: 16, beta: 0.1 },
    });
    expect(result).toMatchObject({ rows: 2, rejected: 1, model: 'self-play--round-1--policy' });
    const adapterConfig = JSON.parse(readFileSync(path.join(result.adapter!, 'adapter_config.json'), 'utf8'));
    expect(adapterConfig).toMatchObject({
      kind: 'dpo',
      base_model_name_or_path: 'policy@0',
      hyperparameters: { beta: 0.1, batchSize: 16 },
    });
    expect(JSON.parse(readFileSync(result.rejects!, 'utf8')).reason).toBe(
      'dpo row has identical "chosen" and "rejected"',
    );
  });

  it('on cancellation SIGTERMs the trainer process group, SIGKILLs it after the grace period, and rethrows the cancellation', async () => {
    const data = await dataset('cancel', [sftRows(40)]);
    const pidsFile = path.join(tmp.dir, 'cancel-pids.json');
    const config = trainerConfig({
      EXAMPLE_TRAINER_STEP_MS: '200',
      EXAMPLE_TRAINER_SPAWN_CHILD: '1',
      EXAMPLE_TRAINER_PIDS_FILE: pidsFile,
      EXAMPLE_TRAINER_IGNORE_SIGTERM: '1',
    });
    const env = activityEnv();
    const running = runTrain(
      env,
      activitiesFor(config).train,
      sftInput('cancel/job', data, { learningRate: 2e-6, batchSize: 1 }),
    );
    running.catch(() => undefined);
    await waitFor(
      'two training steps',
      () => existsSync(path.join(jobDir('cancel/job'), 'train.log')) && trainLog('cancel/job').includes('step 2/40'),
    );
    const pids = JSON.parse(readFileSync(pidsFile, 'utf8')) as { trainer: number; child: number };
    const supervisor = runRecord('cancel/job').pid;
    for (const pid of [pids.trainer, pids.child, supervisor]) expect(processAlive(pid)).toBe(true);

    const cancelledAt = Date.now();
    env.cancel();
    const err = await running.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CancelledFailure);
    expect(Date.now() - cancelledAt).toBeGreaterThanOrEqual(900); // the trainer ignored SIGTERM: SIGKILL after 1s
    for (const pid of [pids.trainer, pids.child, supervisor]) expect(processAlive(pid)).toBe(false);
    const log = trainLog('cancel/job');
    expect(log).toContain('activity cancelled');
    expect(log).toContain('example-trainer: ignoring SIGTERM');
    // the SIGKILL after the grace period comes from whichever side's timer fires first: this activity's, or the
    // supervisor's own (both wait killGraceSeconds); on a loaded machine either may win
    expect(log).toMatch(/SIGKILL to process group|trainer exited with signal SIGKILL/);
    expect(existsSync(path.join(jobDir('cancel/job'), 'done.json'))).toBe(false);
  });

  it('stops a run it cannot signal itself (another machine) through the cancel file its supervisor honours', async () => {
    const data = await dataset('cancel-remote', [sftRows(40)]);
    const pidsFile = path.join(tmp.dir, 'cancel-remote-pids.json');
    const config = trainerConfig({
      EXAMPLE_TRAINER_STEP_MS: '200',
      EXAMPLE_TRAINER_SPAWN_CHILD: '1',
      EXAMPLE_TRAINER_PIDS_FILE: pidsFile,
    });
    const env = activityEnv();
    // The supervisor records this machine; the activity believes it runs elsewhere, so it may not signal pids.
    const running = runTrain(
      env,
      activitiesFor(config, { host: { hostname: 'another-machine' } }).train,
      sftInput('cancel-remote/job', data, { learningRate: 2e-6, batchSize: 1 }),
    );
    running.catch(() => undefined);
    await waitFor(
      'a training step',
      () =>
        existsSync(path.join(jobDir('cancel-remote/job'), 'train.log')) &&
        trainLog('cancel-remote/job').includes('step 1/40'),
    );
    const pids = JSON.parse(readFileSync(pidsFile, 'utf8')) as { trainer: number; child: number };
    env.cancel();
    await expect(running).rejects.toBeInstanceOf(CancelledFailure);
    const exit = JSON.parse(
      readFileSync(path.join(jobDir('cancel-remote/job'), 'trainer', 'run-0001.exit.json'), 'utf8'),
    );
    expect(exit).toMatchObject({ run: 1, code: 143, cancelled: true });
    await waitFor(
      'the trainer and its child to be gone',
      () =>
        !processAlive(pids.trainer) && !processAlive(pids.child) && !processAlive(runRecord('cancel-remote/job').pid),
      5000,
    );
    expect(trainLog('cancel-remote/job')).toContain('cancel requested: SIGTERM to process group');
  });

  it('leaves the trainer running when the worker shuts down, and the next attempt adopts it instead of training again', async () => {
    const data = await dataset('shutdown', [sftRows(12)]);
    const input = sftInput('shutdown/job', data, { learningRate: 2e-6, batchSize: 1 });
    const { train } = activitiesFor(trainerConfig({ EXAMPLE_TRAINER_STEP_MS: '150' }));
    const first = activityEnv(1);
    const running = runTrain(first, train, input);
    running.catch(() => undefined);
    await waitFor(
      'a training step',
      () =>
        existsSync(path.join(jobDir('shutdown/job'), 'train.log')) && trainLog('shutdown/job').includes('step 1/12'),
    );
    first.cancel('WORKER_SHUTDOWN', new ActivityCancellationDetails({ workerShutdown: true }));
    await expect(running).rejects.toBeInstanceOf(CancelledFailure);
    const supervisor = runRecord('shutdown/job').pid;
    expect(processAlive(supervisor)).toBe(true);
    expect(trainLog('shutdown/job')).toContain('keeps running for the next attempt to adopt');

    const second = activityEnv(2);
    const heartbeats: TrainHeartbeat[] = [];
    second.on('heartbeat', (d: TrainHeartbeat) => heartbeats.push(d));
    const result = await runTrain(second, train, input);
    expect(result).toMatchObject({ run: 1, adopted: true, reused: false, rows: 12 });
    expect(trainerStarts('shutdown/job')).toBe(1);
    expect(trainLog('shutdown/job')).toContain('adopting run 1');
    expect(heartbeats.some((h) => h.adopted === true && h.run === 1)).toBe(true);
  });

  it('adopts a trainer that survived a SIGKILLed worker process', async () => {
    const data = await dataset('worker-crash', [sftRows(16)]);
    const input = sftInput('crash-worker/job', data, { learningRate: 2e-6, batchSize: 1 });
    const config = trainerConfig({ EXAMPLE_TRAINER_STEP_MS: '150' });
    const worker = spawn(
      process.execPath,
      [
        '--import',
        pathToFileURL(require.resolve('tsx')).href,
        path.join(ROOT, 'tests', 'support', 'train-in-child.ts'),
        JSON.stringify({ config, storeRoot: store.root, input }),
      ],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    worker.stdout.on('data', (d: Buffer) => (output += d.toString()));
    worker.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      worker.once('exit', (_code, signal) => resolve(signal)),
    );
    await waitFor(
      `the worker's trainer to take a step (worker output: ${output})`,
      () =>
        existsSync(path.join(jobDir('crash-worker/job'), 'train.log')) &&
        trainLog('crash-worker/job').includes('step 1/16'),
      60_000,
    );
    worker.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const supervisor = runRecord('crash-worker/job').pid;
    expect(processAlive(supervisor)).toBe(true);

    const result = await runTrain(activityEnv(2), activitiesFor(config).train, input);
    expect(result).toMatchObject({ run: 1, adopted: true, rows: 16 });
    expect(trainerStarts('crash-worker/job')).toBe(1);
    expect(processAlive(supervisor)).toBe(false);
  });

  it('adopts a run on another machine by its lease, when the job folder is shared', async () => {
    const data = await dataset('remote', [sftRows(10)]);
    const input = sftInput('remote/job', data, { learningRate: 2e-6, batchSize: 1 });
    const config = trainerConfig({ EXAMPLE_TRAINER_STEP_MS: '150' });
    const first = activityEnv();
    const running = runTrain(first, activitiesFor(config).train, input);
    running.catch(() => undefined);
    await waitFor(
      'a training step',
      () => existsSync(path.join(jobDir('remote/job'), 'train.log')) && trainLog('remote/job').includes('step 1/10'),
    );
    first.cancel('WORKER_SHUTDOWN', new ActivityCancellationDetails({ workerShutdown: true }));
    await expect(running).rejects.toBeInstanceOf(CancelledFailure);

    // A worker that cannot see the supervisor's process: only the lease file tells that the run is alive.
    const elsewhere = activitiesFor(config, { host: { hostname: 'another-machine' } });
    const result = await runTrain(activityEnv(2), elsewhere.train, input);
    expect(result).toMatchObject({ run: 1, adopted: true });
    expect(trainerStarts('remote/job')).toBe(1);
  });

  it('starts a new run over the record of a dead supervisor, never taking a reused pid for it', async () => {
    const data = await dataset('stale', [sftRows(3)]);
    const job = 'stale/job';
    const { train } = activitiesFor(trainerConfig());
    // An earlier attempt's run record whose pid now belongs to another process (this test process), with another start time.
    const stale: RunRecord = {
      run: 1,
      pid: process.pid,
      pgid: process.pid,
      host: hostIdentity(),
      processStart: '1',
      startedAt: new Date(Date.now() - 3600_000).toISOString(),
      attempt: 1,
      fingerprint: 'whatever',
      leaseMs: 200,
      command: ['trainer'],
    };
    await writeFileAtomic(path.join(jobDir(job), 'trainer', 'run-0001.json'), JSON.stringify(stale));
    const result = await runTrain(activityEnv(2), train, sftInput(job, data));
    expect(result).toMatchObject({ run: 2, adopted: false, rows: 3 });
    expect(trainLog(job)).toContain(
      `run 1 (supervisor pid ${process.pid} on ${hostIdentity().hostname}) is gone without an exit status`,
    );
    expect(trainerStarts(job)).toBe(1);
  });
});

describe('activateModel', () => {
  interface Card {
    id: string;
    object: 'model';
    owned_by: string;
    root: string;
    parent?: string;
  }
  let server: http.Server;
  let base: string;
  let cards: Card[];
  let loads: Array<{ body: unknown; authorization?: string }>;
  let loraRoute = true;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        if (req.method === 'GET' && req.url === '/v1/models') {
          res
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify({ object: 'list', data: cards }));
        } else if (req.method === 'POST' && req.url === '/v1/load_lora_adapter' && loraRoute) {
          const request = JSON.parse(body) as { lora_name: string; lora_path: string };
          loads.push({ body: request, authorization: req.headers.authorization });
          if (cards.some((c) => c.id === request.lora_name)) {
            res.writeHead(400, { 'content-type': 'application/json' }).end(
              JSON.stringify({
                object: 'error',
                message: `The lora adapter '${request.lora_name}' has already been loaded.`,
                type: 'InvalidUserInput',
                code: 400,
              }),
            );
            return;
          }
          cards.push({
            id: request.lora_name,
            object: 'model',
            owned_by: 'vllm',
            root: request.lora_path,
            parent: cards[0]!.id,
          });
          res
            .writeHead(200, { 'content-type': 'text/plain' })
            .end(`Success: LoRA adapter '${request.lora_name}' added successfully.`);
        } else {
          res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ detail: 'Not Found' }));
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    cards = [{ id: 'Qwen/Qwen2.5-7B-Instruct', object: 'model', owned_by: 'vllm', root: 'Qwen/Qwen2.5-7B-Instruct' }];
    loads = [];
    loraRoute = true;
  });

  it('loads a trained adapter into vLLM once and returns its LoRA name', async () => {
    const adapter = path.join(tmp.dir, 'adapters', 'q_phi-1');
    const trained = { job: 'em-run1/iter-1/q_phi', model: undefined, adapter, endpoint: undefined };
    expect(await activateModel(trained, base)).toEqual({
      endpoint: base,
      model: 'em-run1--iter-1--q_phi',
      loadedAdapter: true,
    });
    expect(loads).toEqual([
      { body: { lora_name: 'em-run1--iter-1--q_phi', lora_path: adapter }, authorization: undefined },
    ]);
    // Idempotent: served already from the same folder, so nothing is loaded again (the base URL may lack /v1).
    expect(await activateModel(trained, base.replace(/\/v1$/, '/'))).toMatchObject({
      model: 'em-run1--iter-1--q_phi',
      loadedAdapter: false,
    });
    expect(loads).toHaveLength(1);
    await expect(activateModel({ ...trained, adapter: path.join(tmp.dir, 'other') }, base)).rejects.toThrow(
      /already serves "em-run1--iter-1--q_phi" from .*q_phi-1/,
    );
  });

  it('takes a new endpoint the trainer started, and refuses servers that cannot load adapters at runtime', async () => {
    expect(
      await activateModel({ job: 'j', model: 'fresh', endpoint: 'http://10.0.0.9:8001/v1', adapter: '/x' }, base),
    ).toEqual({ endpoint: 'http://10.0.0.9:8001/v1', model: 'fresh', loadedAdapter: false });
    expect(await activateModel({ job: 'j', model: 'pushed-model' }, base)).toEqual({
      endpoint: base,
      model: 'pushed-model',
      loadedAdapter: false,
    });
    expect(loads).toHaveLength(0);

    loraRoute = false;
    const noRoute = await activateModel({ job: 'j', adapter: '/x' }, base).catch((e: unknown) => e);
    expect(noRoute).toBeInstanceOf(ModelActivationError);
    expect((noRoute as ModelActivationError).message).toContain('VLLM_ALLOW_RUNTIME_LORA_UPDATING=True');
    expect((noRoute as ModelActivationError).retryable).toBe(false);

    cards = [{ id: 'tiny', object: 'model', owned_by: 'llamacpp', root: 'tiny' }];
    await expect(activateModel({ job: 'j', adapter: '/x' }, base)).rejects.toThrow('does not look like a vLLM server');
  });

  it('activates the result of a real training job through the activity, with the endpoint key from the worker', async () => {
    const data = await dataset('serve', [sftRows(3)]);
    const activities = activitiesFor(trainerConfig(), {
      apiKeyFor: (endpoint) => (endpoint === base ? 'secret-key' : undefined),
    });
    const result = await runTrain(activityEnv(), activities.train, sftInput('serve/q_phi', data));
    const active = await runActivate(activityEnv(), activities.activateTrainedModel, { result, endpoint: base });
    expect(active).toEqual({ endpoint: base, model: 'serve--q_phi', loadedAdapter: true });
    expect(loads).toEqual([
      { body: { lora_name: 'serve--q_phi', lora_path: result.adapter }, authorization: 'Bearer secret-key' },
    ]);

    cards = [{ id: 'tiny', object: 'model', owned_by: 'llamacpp', root: 'tiny' }];
    const refused = await failureOf(
      runActivate(activityEnv(), activities.activateTrainedModel, { result, endpoint: base }),
    );
    expect(refused).toMatchObject({ type: 'ModelActivationFailed', nonRetryable: true });
    expect(refused.message).toContain('does not look like a vLLM server');
  });
});
