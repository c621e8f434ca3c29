// The stage's bookkeeping activities (dataset import, deployment facts, finalize) as every workflow calls them.
import type { Duration } from '@temporalio/common';
import { ActivityCancellationType, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { StageActivities } from '../activities/stage/activities';
import type { DatasetRef } from '../domain/core/dataset';
import { FAILURE_TYPES_NOT_RETRIED } from '../domain/core/errors';

/** Every failure type of the catalog that Temporal must not retry (domain/core/errors.ts). */
export const NON_RETRYABLE: string[] = FAILURE_TYPES_NOT_RETRIED;

/** On the workflow's own queue unless told otherwise; a cancelled run waits for them (an import rewrites files). */
export function bookkeepingActivities(taskQueue: string = workflowInfo().taskQueue) {
  return proxyActivities<StageActivities>({
    taskQueue,
    startToCloseTimeout: '2 hours',
    heartbeatTimeout: '2 minutes',
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: { initialInterval: '1s', maximumInterval: '1 minute', nonRetryableErrorTypes: NON_RETRYABLE },
  });
}

/**
 * A pipeline's dataset-level activities (EM selection, self-play pairs, the SFT dataset, evaluation's cells and
 * summary) on the cpu queue: one activity over a whole dataset, heartbeating as it goes.
 */
export function datasetActivities<T>(taskQueue: string, startToCloseTimeout: Duration = '12 hours') {
  return proxyActivities<T>({
    taskQueue,
    startToCloseTimeout,
    heartbeatTimeout: '5 minutes',
    retry: { initialInterval: '1s', maximumInterval: '1 minute', nonRetryableErrorTypes: NON_RETRYABLE },
  });
}

/**
 * A pipeline's prompts: the dataset it was given, or its prompt files imported as `<name>/prompts` in a step named
 * `import` (bad lines go to the rejects file). `lines` counts every line given, kept by the import or not.
 */
export async function pipelinePrompts(
  step: <T>(name: string, run: () => Promise<T>) => Promise<T>,
  input: { name: string; shardSize: number; promptFiles?: string[]; prompts?: DatasetRef },
  bookkeeping: ReturnType<typeof bookkeepingActivities> = bookkeepingActivities(),
): Promise<{ dataset: DatasetRef; lines: number; rejects?: string }> {
  if (input.prompts) return { dataset: input.prompts, lines: input.prompts.items };
  const imported = await step('import', () =>
    bookkeeping.importDataset({ files: input.promptFiles!, name: `${input.name}/prompts`, shardSize: input.shardSize }),
  );
  return {
    dataset: imported.dataset,
    lines: imported.imported + imported.rejected,
    ...(imported.rejects ? { rejects: imported.rejects } : {}),
  };
}
