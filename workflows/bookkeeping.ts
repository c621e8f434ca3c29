// The stage's bookkeeping activities (dataset import, deployment facts, finalize) as every workflow calls them.
import type { Duration } from '@temporalio/common';
import { ActivityCancellationType, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { StageActivities } from '../activities/stage/activities';
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
