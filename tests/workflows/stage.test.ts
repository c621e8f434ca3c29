// mapDatasetStage with stub activities: after `shardsPerRun` shards a run continues as new, carrying the next shard,
// the counts and the task queue, so every shard is processed once across the run chain and the counts add up.
import { Context } from '@temporalio/activity';
import type { mapDatasetStage } from '../../workflows';
import { caller, historyOf, useWorkflowHarness, type StubActivities } from '../support/workflow-harness';

const SHARDS = 5;
const countsOf = (shard: number) => ({
  items: shard + 1,
  kept: shard + 1,
  rows: 2 * (shard + 1),
  rejected: 0,
  failed: 0,
});

describe('mapDatasetStage (stub activities)', () => {
  const harness = useWorkflowHarness();

  it('continues as new every shardsPerRun shards, processing each shard once, with the counts carried over', async () => {
    const shardsByRun = new Map<string, number[]>();
    let deploymentCalls = 0;
    const finalizedBy: string[] = [];
    const activities: StubActivities = {
      describeDeployment: async () => {
        deploymentCalls++;
        const q = Context.current().info.taskQueue;
        return { taskQueues: { orchestration: q, inference: q, cpu: q, sandbox: q, training: q } };
      },
      processShard: async (input: { shard: number }) => {
        const { runId } = caller();
        shardsByRun.set(runId, [...(shardsByRun.get(runId) ?? []), input.shard]);
        return { shard: input.shard, counts: countsOf(input.shard), resumed: 0, attempt: 1 };
      },
      finalizeStage: async (input: { output: string }) => {
        finalizedBy.push(caller().runId);
        return {
          output: { name: input.output, manifest: `datasets/${input.output}/manifest.json`, items: 15, shards: SHARDS },
          rejects: [],
          counts: { items: 15, kept: 15, rows: 30, rejected: 0, failed: 0 },
        };
      },
    };

    await harness.withWorker(activities, async (run) => {
      const handle = await run.client.workflow.start<typeof mapDatasetStage>('mapDatasetStage', {
        taskQueue: run.taskQueue,
        workflowId: run.id('stage'),
        args: [
          {
            stage: 'noop',
            operation: 'noop',
            input: { name: 'in', manifest: 'datasets/in/manifest.json', items: 15, shards: SHARDS },
            output: 'out',
            maxConcurrentShards: 2,
            shardsPerRun: 2,
          },
        ],
      });
      const result = await handle.result();
      expect(result.runs).toBe(3);

      // the run chain, from the first run's history on: continued as new twice, then completed
      const chain = [handle.firstExecutionRunId];
      for (;;) {
        const events = await historyOf(run.client.workflow.getHandle(handle.workflowId, chain[chain.length - 1]));
        const last = events[events.length - 1]!;
        const next = last.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
        if (!next) {
          expect(last.workflowExecutionCompletedEventAttributes).toBeTruthy();
          break;
        }
        chain.push(next);
      }
      expect(chain).toHaveLength(3);

      // every shard once, in order, at most shardsPerRun per run
      expect([...shardsByRun.keys()]).toEqual(chain);
      expect(chain.map((runId) => [...shardsByRun.get(runId)!].sort((a, b) => a - b))).toEqual([[0, 1], [2, 3], [4]]);
      // the queue is looked up once and carried; the stage is finalized once, by the last run
      expect(deploymentCalls).toBe(1);
      expect(finalizedBy).toEqual([chain[2]]);

      // the counts the workflow carried across the runs are the sum of every shard's, each counted once
      const progress = await handle.query<{ counts: unknown; shardsDone: number; runs: number; done: boolean }>(
        'progress',
      );
      expect(progress).toEqual(expect.objectContaining({ shardsDone: SHARDS, runs: 3, done: true }));
      expect(progress.counts).toEqual({ items: 15, kept: 15, rows: 30, rejected: 0, failed: 0 });
      expect(result.counts).toEqual(progress.counts);
    });
  });
});
