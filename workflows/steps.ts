// What the long-running pipelines (emRationaleLoop, selfPlay) share: steps that wait while the run is paused and,
// when one fails for good, wait for `retryStep` or `abandon` instead of failing the run; stage children with
// deterministic ids; and the training activities with their long timeouts.
import {
  ActivityCancellationType,
  ApplicationFailure,
  condition,
  defineSignal,
  isCancellation,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { TrainingActivities } from '../activities/training/train';
import type { createModelActivation } from '../activities/training/activate-role';
import type { DatasetRef } from '../domain/core/dataset';
import type { ModelVersion } from '../domain/core/models';
import type { PipelineProgress } from '../domain/core/progress';
import type { StageInput, StageResult } from '../domain/core/stage';
import { signalHint, type RunState } from '../domain/core/run-view';
import { NON_RETRYABLE } from './bookkeeping';
import { runViewOf } from './run-view';
import { runStage } from './run-stage';

export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
export const retryStepSignal = defineSignal('retryStep');
export const abandonSignal = defineSignal('abandon');

/** The messages of a failure and its causes ("Activity task failed: <the activity's own error>"). */
export function failureMessage(err: unknown): string {
  const parts: string[] = [];
  for (let e = err as { message?: string; cause?: unknown } | undefined; e && parts.length < 5; e = e.cause as typeof e)
    if (e.message) parts.push(e.message);
  return parts.join(': ');
}

/** What a training job starts from: the role's current version. */
export function baseOf(v: ModelVersion): { version: string; model?: string; adapter?: string } {
  return { version: v.version, ...(v.model ? { model: v.model } : {}), ...(v.adapter ? { adapter: v.adapter } : {}) };
}

/** Steps that hand a job to the external trainer (`<...>/train`): the run shows `training` while they run. */
function isTrainingStep(name: string): boolean {
  return name === 'train' || name.endsWith('/train');
}

/** Thrown by a step that a stop request keeps from starting (or from being retried); the run ends there. */
export class RunStopped extends Error {
  override name = 'RunStopped';
}

export interface StepStatus {
  step: string;
  failed?: { step: string; message: string };
  currentStage?: { stage: string; workflowId: string };
}

export interface StageOptions {
  maxConcurrentShards: number;
  itemConcurrency: number;
  heartbeatTimeoutSeconds: number;
}

export interface StepRunner {
  readonly paused: boolean;
  /**
   * Runs one step: waits while paused; on failure waits for `retryStep` (then runs it again) or `abandon`. A training
   * step may name its job (`trainingJob`), which the run's details then point to.
   */
  step<T>(name: string, run: () => Promise<T>, trainingJob?: string): Promise<T>;
  /** A stage child with the id `<workflow id>/<name>`, recorded in the progress. */
  stage(
    name: string,
    operation: StageInput['operation'],
    params: unknown,
    from: DatasetRef,
    output: string,
    overrides?: Partial<StageOptions>,
  ): Promise<StageResult>;
}

/** Installs the pause / resume / retryStep / abandon handlers; call it before the workflow's first await. */
export function stepRunner(
  status: StepStatus,
  progress: PipelineProgress,
  options: StageOptions & { paused?: boolean; stopRequested?: () => boolean },
): StepRunner {
  const stopped = options.stopRequested ?? (() => false);
  // the stage options, minus the run-level ones
  const { paused: _p, stopRequested: _s, ...stageDefaults } = options;
  const wf = workflowInfo().workflowId;
  let paused = options.paused ?? false;
  let retry = false;
  let abandon = false;
  // the run's view in the UI (trackProgress makes it; a pipeline may call that after this)
  const view = () => runViewOf(progress);
  /** What the UI shows the run doing or waiting for (current details, the PromptcotState search attribute). */
  const show = (state: RunState, waitingFor?: string) => {
    const v = view();
    if (!v) return;
    v.state = state;
    v.waitingFor = waitingFor;
    v.update();
  };
  let running: { name: string; job?: string } | undefined;
  const showRunning = (name: string, job?: string) =>
    isTrainingStep(name)
      ? show(
          'training',
          `${job ? `training job \`${job}\`` : `the training job of step \`${name}\``}: the trainer's log tail is the heartbeat of the pending \`train\` activity (Pending Activities), and its whole log is \`train.log\` in the job's folder under \`training.root\`; it may run for days`,
        )
      : show('running', paused ? `nothing; a pause was asked for and holds the run after step \`${name}\`` : undefined);
  setHandler(
    pauseSignal,
    () => {
      paused = true;
      if (running) showRunning(running.name, running.job);
    },
    { description: 'Holds the run after the step in progress, until resume' },
  );
  setHandler(
    resumeSignal,
    () => {
      paused = false;
      if (running) showRunning(running.name, running.job);
    },
    { description: 'Lets a paused run go on with its next step' },
  );
  setHandler(retryStepSignal, () => void (retry = true), {
    description: 'Runs a step that failed for good again (after you fixed the cause); finished work is not redone',
  });
  setHandler(abandonSignal, () => void (abandon = true), {
    description: 'Gives up on a step that failed for good: the run fails with that step named',
  });
  return {
    get paused() {
      return paused;
    },
    async step<T>(name: string, run: () => Promise<T>, trainingJob?: string): Promise<T> {
      for (;;) {
        if (paused && !stopped())
          show(
            'paused',
            `${signalHint(wf, 'resume')}; the next step is \`${name}\`${options.stopRequested ? ` (or ${signalHint(wf, 'stop')})` : ''}`,
          );
        await condition(() => !paused || stopped());
        if (stopped()) {
          show('stopped');
          throw new RunStopped(`stopped before ${name}`);
        }
        status.step = progress.phase = name;
        running = { name, job: trainingJob };
        showRunning(name, trainingJob);
        try {
          const result = await run();
          status.failed = undefined;
          running = undefined;
          return result;
        } catch (err) {
          running = undefined;
          if (isCancellation(err)) throw err;
          status.failed = { step: name, message: failureMessage(err) };
          progress.notes.push(
            `step ${name} failed: ${status.failed.message}; signal retryStep to run it again, or abandon`,
          );
          show(
            'waiting-retry',
            `step \`${name}\` failed for good: ${status.failed.message.slice(0, 600)}. Fix the cause, then ${signalHint(wf, 'retryStep')} runs it again (finished work is not redone), or ${signalHint(wf, 'abandon')} fails the run.`,
          );
          retry = false;
          await condition(() => retry || abandon || stopped());
          if (abandon)
            throw ApplicationFailure.create({
              type: 'StepAbandoned',
              message: `step ${name} abandoned after it failed: ${status.failed.message}`,
              nonRetryable: true,
              cause: err instanceof Error ? err : undefined,
            });
          if (stopped()) {
            show('stopped');
            throw new RunStopped(`stopped after ${name} failed`);
          }
        }
      }
    },
    async stage(name, operation, params, from, output, overrides = {}) {
      status.currentStage = { stage: name, workflowId: `${wf}/${name}` };
      const o = { ...stageDefaults, ...overrides };
      try {
        return await runStage(progress, {
          name,
          stage: name.replace(/\//g, '-'),
          operation,
          params,
          input: from,
          output,
          maxConcurrentShards: o.maxConcurrentShards,
          itemConcurrency: o.itemConcurrency,
          heartbeatTimeoutSeconds: o.heartbeatTimeoutSeconds,
        });
      } finally {
        status.currentStage = undefined;
      }
    },
  };
}

/** The training hand-off on the training queue: a trainer may run for days, and its heartbeat says it is alive. */
export function trainingActivities(taskQueue: string) {
  return proxyActivities<TrainingActivities & ReturnType<typeof createModelActivation>>({
    taskQueue,
    startToCloseTimeout: '30 days',
    heartbeatTimeout: '10 minutes',
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: {
      initialInterval: '30s',
      maximumInterval: '30 minutes',
      maximumAttempts: 5,
      nonRetryableErrorTypes: NON_RETRYABLE,
    },
  });
}
