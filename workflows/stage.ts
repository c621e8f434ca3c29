// The generic durable stage: maps an item operation over the shards of a dataset with bounded parallelism,
// continues as new to keep its history small, and returns counts and the output dataset.
import {
  ActivityCancellationType,
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { renderStageDetails } from '../domain/core/run-view';
import type { StageActivities } from '../activities/stage/activities';
import { operationDeclaration, StageRequestSchema } from '../domain/registry/operations';
import { addCounts, ZERO_COUNTS, type StageInput, type StageProgress, type StageResult } from '../domain/core/stage';
import { bookkeepingActivities, NON_RETRYABLE } from './bookkeeping';
import { drainingOnCancel } from './cancellation';
import { parseWorkflowInput } from './validate';

export const stageProgressQuery = defineQuery<StageProgress>('progress');

export async function mapDatasetStage(raw: StageInput): Promise<StageResult> {
  const input = parseWorkflowInput(StageRequestSchema, raw, 'stage input');
  const spec = operationDeclaration(input.operation);

  const own = bookkeepingActivities();
  const carry = input.carry ?? {
    nextShard: 0,
    counts: { ...ZERO_COUNTS },
    runs: 0,
    taskQueue: input.taskQueue ?? (await own.describeDeployment()).taskQueues[spec.queue],
  };
  const shards = proxyActivities<StageActivities>({
    taskQueue: carry.taskQueue,
    startToCloseTimeout: `${input.shardTimeoutMinutes} minutes`,
    heartbeatTimeout: `${input.heartbeatTimeoutSeconds} seconds`,
    // A cancelled stage waits for its shards to record the items they have in flight (see processShard).
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: {
      initialInterval: '1s',
      backoffCoefficient: 2,
      maximumInterval: '5 minutes',
      nonRetryableErrorTypes: NON_RETRYABLE,
    },
  });

  const total = input.input.shards;
  let next = carry.nextShard;
  let counts = carry.counts;
  let running = 0;
  let doneThisRun = 0;
  let reusedShards = carry.reusedShards ?? 0;
  let failure: unknown;
  let finished = false;

  const progress = (): StageProgress => ({
    stage: input.stage,
    operation: input.operation,
    shardsTotal: total,
    shardsDone: next - running,
    shardsRunning: running,
    itemsTotal: input.input.items,
    counts,
    runs: carry.runs + 1,
    done: finished,
  });
  setHandler(stageProgressQuery, progress, {
    description: 'Shards done, running and in all, item counts (kept, rows, rejected, failed) of finished shards',
  });
  // current details are no command: the UI reads them by query, so old histories replay unchanged
  const parent = workflowInfo().parent?.workflowId;
  const showDetails = () => setCurrentDetails(renderStageDetails(progress(), parent));
  showDetails();

  await drainingOnCancel(
    () => running === 0,
    async () => {
      while (next < total && failure === undefined) {
        await condition(() => running < input.maxConcurrentShards || failure !== undefined);
        if (failure !== undefined) break;
        if (doneThisRun + running >= input.shardsPerRun || workflowInfo().continueAsNewSuggested) break;
        const shard = next++;
        running++;
        shards
          .processShard({
            stage: input.stage,
            operation: input.operation,
            params: input.params,
            input: input.input,
            shard,
            output: input.output,
            itemConcurrency: input.itemConcurrency,
          })
          .then(
            (result) => {
              counts = addCounts(counts, result.counts);
              doneThisRun++;
              if (result.reused) reusedShards++;
            },
            (err) => {
              failure ??= err;
            },
          )
          .finally(() => {
            running--;
            showDetails();
          });
      }
      await condition(() => running === 0);
    },
  );
  if (failure !== undefined) throw failure;

  if (next < total) {
    await condition(allHandlersFinished);
    return continueAsNew<typeof mapDatasetStage>({
      ...raw,
      carry: { nextShard: next, counts, runs: carry.runs + 1, taskQueue: carry.taskQueue, reusedShards },
    });
  }

  const final = await own.finalizeStage({
    stage: input.stage,
    operation: input.operation,
    params: input.params,
    input: input.input,
    output: input.output,
  });
  finished = true;
  showDetails();
  return {
    stage: input.stage,
    operation: input.operation,
    output: final.output,
    rejects: final.rejects,
    counts: final.counts,
    shards: total,
    runs: carry.runs + 1,
    ...(reusedShards > 0 ? { reusedShards } : {}),
    ...(final.spend?.length ? { spend: final.spend } : {}),
  };
}
