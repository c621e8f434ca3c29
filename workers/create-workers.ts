// Builds the workers of one process: which task queues it polls, which activities it offers, what concurrency.
import path from 'node:path';
import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import type { Config } from '../domain/platform/config';
import type { QueueKind } from '../domain/core/queues';
import type { DatasetStore } from '../activities/datasets/store';
import { openDatasetStore } from '../activities/datasets/open-store';
import { createInferenceActivities } from '../activities/inference/activities';
import { InferencePool } from '../activities/inference/pool';
import { createOperationRegistry } from '../activities/registry';
import { createSandboxActivities } from '../activities/sandbox/activities';
import { interpreterPool, shutdownInterpreterPool } from '../activities/sandbox/interpreter-pool';
import { createStageActivities } from '../activities/stage/activities';
import { createEmActivities } from '../activities/em-rationale-loop/activities';
import { createSelfPlayActivities } from '../activities/self-play/pairs';
import { createSftActivities } from '../activities/sft/assemble';
import { createEvaluationPrepareActivities } from '../activities/eval/prepare';
import { createEvaluationSummaryActivities } from '../activities/eval/summarize';
import { createCorpusAnalysisPrepareActivities } from '../activities/analysis/prepare';
import { createCorpusAnalysisSummaryActivities } from '../activities/analysis/summarize';
import { createModelActivation } from '../activities/training/activate-role';
import { createExperimentLedgerActivities } from '../activities/experiment/ledger';
import { createExperimentPromptActivities } from '../activities/experiment/prompts';
import { createExperimentReportActivities } from '../activities/experiment/report';
import { createTrainingActivities } from '../activities/training/train';
import { resolveApiKey } from '../activities/config';
import { ApplicationFailure } from '@temporalio/common';
import { createSynthesisActivities } from '../activities/synthesize-corpus/activities';

export interface WorkerSetOptions {
  config: Config;
  connection: NativeConnection;
  kinds: QueueKind[];
  /** A prebuilt workflow bundle (tests bundle once); otherwise workflows/index.ts is bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
}

export const WORKFLOWS_PATH = path.join(__dirname, '..', 'workflows', 'index.ts');

/**
 * The activities each task queue kind serves (the queue an activity is sent to decides where it runs), all sharing
 * one store, one operation registry and one inference pool per process. The pool is built only when something on
 * the polled queues uses it, so a sandbox-only worker builds none unless it cross-checks tests with policy solutions.
 */
export function createActivitySets(
  config: Config,
): (kinds: readonly QueueKind[]) => Record<string, (...args: never[]) => unknown> {
  const store = openDatasetStore(config.storage);
  let pool: InferencePool | undefined;
  const poolOnce = () => (pool ??= new InferencePool(config));
  const operations = createOperationRegistry({ pool: poolOnce, sandbox: () => config.sandbox });
  const { processShard, ...bookkeeping } = createStageActivities({ config, store, operations });
  const byKind: Record<QueueKind, () => object> = {
    orchestration: () => bookkeeping,
    inference: () => ({ processShard, ...createInferenceActivities(poolOnce()) }),
    cpu: () => ({
      processShard,
      ...createSynthesisActivities(store),
      ...createEmActivities(store),
      ...createSelfPlayActivities(store),
      ...createSftActivities(store),
      ...createEvaluationPrepareActivities(store),
      ...createEvaluationSummaryActivities(store),
      ...createCorpusAnalysisPrepareActivities(store),
      ...createCorpusAnalysisSummaryActivities(store),
      ...createExperimentLedgerActivities(store, config),
      ...createExperimentPromptActivities(store),
      ...createExperimentReportActivities(store),
    }),
    sandbox: () => ({ processShard, ...createSandboxActivities(config.sandbox) }),
    training: () => trainingActivities(config, store),
  };
  const built = new Map<QueueKind, object>();
  const of = (kind: QueueKind) => built.get(kind) ?? built.set(kind, byKind[kind]()).get(kind)!;
  return (kinds) => Object.assign({}, ...kinds.map(of));
}

/** Every activity of this code base (tests that run everything in one worker). */
export function createActivities(config: Config) {
  return createActivitySets(config)(QUEUE_KINDS);
}

const QUEUE_KINDS: readonly QueueKind[] = ['orchestration', 'inference', 'cpu', 'sandbox', 'training'];

/** The training hand-off, or activities that refuse with the reason when temporal.yaml has no `training`. */
function trainingActivities(config: Config, store: DatasetStore) {
  if (!config.training) {
    const refuse = async (): Promise<never> => {
      throw ApplicationFailure.nonRetryable(
        'training is not configured: add a `training` section (the trainer command) to temporal.yaml',
        'TrainingNotConfigured',
      );
    };
    return { train: refuse, activateTrainedModel: refuse, activateModel: refuse };
  }
  const byUrl = new Map(Object.values(config.endpoints).map((e) => [e.baseUrl, e]));
  const training = createTrainingActivities(config.training, store, {
    apiKeyFor: (url) => {
      const e = byUrl.get(url);
      return e ? resolveApiKey(e) : undefined;
    },
  });
  return { ...training, ...createModelActivation(config, training.activateTrainedModel) };
}

export async function createWorkers(options: WorkerSetOptions): Promise<Worker[]> {
  const { config, connection } = options;
  const activitiesFor = createActivitySets(config);
  // a worker polls a queue with the activities of every kind this process serves on that queue
  const kindsOnQueue = (queue: string) => options.kinds.filter((k) => config.taskQueues[k] === queue);
  const workers: Worker[] = [];
  if (options.kinds.includes('sandbox') && config.sandbox.mode === 'fork') {
    // the pre-started interpreters: ready before the first program arrives (a failure shows on first use)
    interpreterPool(config.sandbox.concurrency)
      .prestart()
      .catch((err: Error) => console.warn(`sandbox: could not pre-start interpreters: ${err.message}`));
  }
  for (const kind of options.kinds) {
    const tuning = config.workers[kind];
    const common = {
      connection,
      namespace: config.temporal.namespace,
      taskQueue: config.taskQueues[kind],
      activities: activitiesFor(kindsOnQueue(config.taskQueues[kind])),
      maxConcurrentActivityTaskExecutions: tuning.maxConcurrentActivityTaskExecutions,
      shutdownGraceTime: tuning.shutdownGraceTimeMs,
      // Heartbeats carry cancellation back to a running shard: send them at least every 5 s (the default, 80% of
      // the heartbeat timeout, makes a cancel wait up to 48 s with a 60 s timeout).
      maxHeartbeatThrottleInterval: 5_000,
      ...(tuning.maxTaskQueueActivitiesPerSecond !== undefined
        ? { maxTaskQueueActivitiesPerSecond: tuning.maxTaskQueueActivitiesPerSecond }
        : {}),
      ...(tuning.maxActivitiesPerSecond !== undefined ? { maxActivitiesPerSecond: tuning.maxActivitiesPerSecond } : {}),
    };
    if (kind === 'orchestration') {
      workers.push(
        await Worker.create({
          ...common,
          ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
          maxConcurrentWorkflowTaskExecutions: tuning.maxConcurrentWorkflowTaskExecutions,
          ...(tuning.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: tuning.maxCachedWorkflows } : {}),
        }),
      );
    } else {
      workers.push(await Worker.create(common));
    }
  }
  return workers;
}

/** Runs workers until SIGINT/SIGTERM, then shuts them down gracefully. */
export async function runWorkers(workers: Worker[]): Promise<void> {
  const stop = () => workers.forEach((w) => w.getState() === 'RUNNING' && w.shutdown());
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await Promise.all(workers.map((w) => w.run()));
  shutdownInterpreterPool();
}
