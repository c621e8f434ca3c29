// The train activity: hands a training job (SFT or DPO) to an external trainer command, waits for it however long it
// takes (heartbeating the tail of its log), and returns the new model version. Workflows never train themselves.
//
// A job is identified by its name: job.json binds the name to one input for good (a different input under the same
// name fails with TrainJobConflict), and the job folder is the record every attempt resumes from:
// - done.json exists: the job succeeded before; its result comes back with `reused: true` and nothing runs.
// - The latest trainer run is still alive (the worker of an earlier attempt crashed or shut down, or Temporal gave up
//   on an attempt that was in fact still running): the run is ADOPTED, not killed: this attempt waits for it,
//   heartbeating its log, and takes its result (`adopted: true`). Runs are started through a small supervisor
//   process (supervisor.ts) that records the trainer's exit status in a file, because only a parent can wait for a
//   process; liveness is judged by pid + process start time on the machine that runs it, and by the supervisor's
//   lease file advancing from any other machine (a job folder on shared storage is adopted across machines).
// - The latest run exited 0 with a valid report but done.json is missing (the worker died in between): its output is
//   taken as is.
// - The latest run failed, was cancelled, or died together with its supervisor (e.g. a reboot): a new run starts.
//   The output folder is kept between runs, so a trainer that saves checkpoints there can resume from them.
// Cancellation: an explicit cancel (or the workflow going away) stops the run: SIGTERM to the trainer's process
// group, SIGKILL after killGraceSeconds, then the cancellation is rethrown. A worker shutdown or a timed-out attempt
// leaves the trainer running, for the next attempt to adopt. A trainer that escapes its process group (setsid) is
// beyond reach of either.
//
// Temporal settings for workflows: startToCloseTimeout as long as training may take (days), heartbeatTimeout a few
// times training.heartbeatSeconds, retries as usual (a crashed trainer is retried; TrainerOutputInvalid,
// TrainerSpawnFailed, TrainJobConflict, NoTrainingData and InvalidInput are not).
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import {
  TrainInputSchema,
  type TrainerConfig,
  type TrainInput,
  type TrainResult,
} from '../../domain/platform/training';
import { describeZodError } from '../../domain/core/validation';
import type { DatasetStore } from '../datasets/store';
import { hostIdentity, JobDir, type HostIdentity } from './job-dir';
import { activateModel, ModelActivationError, type ActiveModel } from './serve';
import { canonicalJson, sha256, TrainCall, type TrainerSetup } from './train-call';

export { canonicalJson } from './train-call';

export interface TrainingActivitiesOptions {
  /** The identity run records are compared with (default: this machine); tests use it to play another machine. */
  host?: HostIdentity;
  /** The API key of an inference endpoint, by base URL, for activateTrainedModel (keys never travel in histories). */
  apiKeyFor?: (endpoint: string) => string | undefined;
}

export interface ActivateTrainedModelInput {
  result: Pick<TrainResult, 'job' | 'model' | 'adapter' | 'endpoint'>;
  /** Base URL of the server that should serve the model (e.g. the role's endpoint). */
  endpoint: string;
  server?: 'auto' | 'vllm';
}

export function createTrainingActivities(
  config: TrainerConfig,
  store: DatasetStore,
  options: TrainingActivitiesOptions = {},
) {
  const root = path.resolve(config.root);
  const here = options.host ?? hostIdentity();
  const heartbeatMs = config.heartbeatSeconds * 1000;
  const pollMs = Math.min(1000, heartbeatMs);
  const killGraceMs = config.killGraceSeconds * 1000;
  const trainerCwd = config.cwd !== undefined ? path.resolve(config.cwd) : process.cwd();
  const setup: TrainerSetup = { config, store, root, here, heartbeatMs, pollMs, killGraceMs, trainerCwd };

  return {
    /** Trains `input.base` on `input.data` with the configured trainer; see the top of this file. */
    async train(raw: TrainInput): Promise<TrainResult> {
      const parsed = TrainInputSchema.safeParse(raw);
      if (!parsed.success)
        throw ApplicationFailure.nonRetryable(
          `train: invalid input: ${describeZodError(parsed.error)}`,
          'InvalidInput',
        );
      const input = parsed.data;
      const job = new JobDir(root, input.job);
      await fsp.mkdir(job.dir, { recursive: true });
      return new TrainCall(setup, input, job, sha256(canonicalJson(input))).run();
    },

    /** Puts a trained model into service at `endpoint` (see serve.ts) and says which endpoint and model to use. */
    async activateTrainedModel(input: ActivateTrainedModelInput): Promise<ActiveModel> {
      const ctx = Context.current();
      try {
        return await activateModel(input.result, input.endpoint, {
          apiKey: options.apiKeyFor?.(input.endpoint),
          server: input.server,
          signal: ctx.cancellationSignal,
        });
      } catch (err) {
        if (err instanceof ModelActivationError)
          throw ApplicationFailure.create({
            type: 'ModelActivationFailed',
            message: err.message,
            nonRetryable: !err.retryable,
          });
        throw err;
      }
    },
  };
}

export type TrainingActivities = ReturnType<typeof createTrainingActivities>;
