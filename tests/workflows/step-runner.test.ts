// The step runner (workflows/steps.ts) as selfPlay uses it, with stub activities: a pause holds the run between
// steps, a step that fails for good waits (shown in the status query) for retryStep or abandon, and selfPlay's stop
// ends a run that is paused or waiting for a retry.
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import type { selfPlay } from '../../workflows';
import {
  childrenStarted,
  gate,
  untilHandled,
  until,
  useWorkflowHarness,
  type StubActivities,
  type WorkflowRun,
} from '../support/workflow-harness';

interface Status {
  step: string;
  paused: boolean;
  stopRequested: boolean;
  failed?: { step: string; message: string };
  rounds: unknown[];
}

const COUNTS = { items: 2, kept: 2, rows: 2, rejected: 0, failed: 0 };
const ref = (name: string, items = 2, shards = 1) => ({
  name,
  manifest: `datasets/${name}/manifest.json`,
  items,
  shards,
});
const INPUT = { name: 'sp', prompts: ref('sp/prompts'), rounds: 1, training: { enabled: false } };
/** The steps of a one-round selfPlay without training, as the stubs record them. */
const ALL_STEPS = ['prepare', 'rewards', 'round-1-rollouts', 'round-1-scoring', 'pairs'];

interface Stubs {
  activities: StubActivities;
  /** the steps in the order their work finished: stage names (at finalizeStage) and 'pairs' */
  done: string[];
  /** every stage finalize started, held or not */
  finalizing: string[];
  pairsCalls: () => number;
}

/**
 * Every activity a one-round selfPlay without training calls. `hold` holds the finalize of that stage until the
 * promise resolves; `failPairs` fails buildSelfPlayPairs for good that many times before it succeeds.
 */
function selfPlayStubs(o: { hold?: { stage: string; until: Promise<void> }; failPairs?: number } = {}): Stubs {
  const done: string[] = [];
  const finalizing: string[] = [];
  let pairsCalls = 0;
  const activities: StubActivities = {
    processShard: async (input: { shard: number }) => ({ shard: input.shard, counts: COUNTS, resumed: 0, attempt: 1 }),
    finalizeStage: async (input: { stage: string; output: string; input: { items: number; shards: number } }) => {
      finalizing.push(input.stage);
      if (o.hold?.stage === input.stage) await o.hold.until;
      done.push(input.stage);
      return { output: ref(input.output, input.input.items, input.input.shards), rejects: [], counts: COUNTS };
    },
    buildSelfPlayPairs: async (input: { output: string }) => {
      pairsCalls++;
      if (pairsCalls <= (o.failPairs ?? 0))
        throw ApplicationFailure.nonRetryable('the pairs stub fails', 'StubFailure');
      done.push('pairs');
      return {
        pairs: ref(input.output, 1),
        report: `${input.output}/report.json`,
        summary: { prompts: 2, kept: 2, dropped: {}, addsUp: true, pairs: 1, passCountHistogram: {} },
      };
    },
  };
  return { activities, done, finalizing, pairsCalls: () => pairsCalls };
}

const status = (handle: WorkflowHandle) => handle.query<Status>('status');

function start(run: WorkflowRun): Promise<WorkflowHandle<typeof selfPlay>> {
  return run.client.workflow.start<typeof selfPlay>('selfPlay', {
    taskQueue: run.taskQueue,
    workflowId: run.id('self-play'),
    args: [INPUT],
  });
}

/** Pauses the run while its prepare step runs, lets the step finish, and waits until the run has handled that. */
async function pauseDuringPrepare(handle: WorkflowHandle, stubs: Stubs, held: { open(): void }): Promise<void> {
  await until('the prepare stage to finalize', () => stubs.finalizing.includes('prepare'));
  await handle.signal('pause');
  await until('the pause to show', async () => (await status(handle)).paused);
  held.open();
  await untilHandled(handle, 'the end of the prepare stage', (e) =>
    Boolean(e.childWorkflowExecutionCompletedEventAttributes?.workflowExecution?.workflowId?.endsWith('/prepare')),
  );
}

/** Waits until the pairs step has failed for good and the run has handled the failure. */
async function untilPairsFailed(handle: WorkflowHandle): Promise<Status> {
  await untilHandled(handle, 'the failed pairs activity', (e) => Boolean(e.activityTaskFailedEventAttributes));
  return status(handle);
}

describe('the step runner (selfPlay with stub activities)', () => {
  const harness = useWorkflowHarness();

  it('holds a paused run between steps, and resume continues it with the next step', async () => {
    const held = gate();
    const stubs = selfPlayStubs({ hold: { stage: 'prepare', until: held.wait } });
    await harness.withWorker(stubs.activities, async (run) => {
      const handle = await start(run);
      await pauseDuringPrepare(handle, stubs, held);
      // the step in progress finished; the next one has not started
      expect((await childrenStarted(handle)).map((id) => id.slice(handle.workflowId.length))).toEqual(['/prepare']);
      expect(stubs.done).toEqual(['prepare']);
      expect(await status(handle)).toMatchObject({ step: 'prepare', paused: true });
      expect((await handle.describe()).status.name).toBe('RUNNING');

      await handle.signal('resume');
      const result = await handle.result();
      expect(result.stoppedBecause).toBe('rounds');
      expect(result.rounds).toHaveLength(1);
      expect(stubs.done).toEqual(ALL_STEPS);
      expect(await status(handle)).toMatchObject({ step: 'done', paused: false });
    });
  });

  it('shows a step that failed for good in the status, waits, and runs it again on retryStep', async () => {
    const stubs = selfPlayStubs({ failPairs: 1 });
    await harness.withWorker(stubs.activities, async (run) => {
      const handle = await start(run);
      const waiting = await untilPairsFailed(handle);
      expect(waiting.step).toBe('round-1/pairs');
      expect(waiting.failed).toEqual({
        step: 'round-1/pairs',
        message: expect.stringContaining('the pairs stub fails'),
      });
      expect(stubs.pairsCalls()).toBe(1);
      expect((await handle.describe()).status.name).toBe('RUNNING');

      await handle.signal('retryStep');
      const result = await handle.result();
      expect(result.stoppedBecause).toBe('rounds');
      expect(stubs.pairsCalls()).toBe(2);
      // the retry re-ran the failed step only: every stage before it ran once
      expect(stubs.done).toEqual(ALL_STEPS);
      expect((await status(handle)).failed).toBeUndefined();
    });
  });

  it('fails the run with the step’s error on abandon', async () => {
    const stubs = selfPlayStubs({ failPairs: 1 });
    await harness.withWorker(stubs.activities, async (run) => {
      const handle = await start(run);
      expect((await untilPairsFailed(handle)).failed?.step).toBe('round-1/pairs');
      await handle.signal('abandon');
      const err = await handle.result().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      // the run fails naming the step, caused by the step's own failure (the activity's, caused by the stub's error)
      const abandoned = (err as WorkflowFailedError).cause;
      expect(abandoned?.message).toMatch(/^step round-1\/pairs abandoned after it failed: /);
      expect(((abandoned?.cause as Error | undefined)?.cause as Error | undefined)?.message).toBe(
        'the pairs stub fails',
      );
      expect(stubs.pairsCalls()).toBe(1);
      expect(stubs.done).toEqual(ALL_STEPS.slice(0, -1));
    });
  });

  it('ends the run on stop while a failed step waits for retryStep', async () => {
    const stubs = selfPlayStubs({ failPairs: 1 });
    await harness.withWorker(stubs.activities, async (run) => {
      const handle = await start(run);
      await untilPairsFailed(handle);
      await handle.signal('stop');
      const result = await handle.result();
      expect(result).toMatchObject({ stoppedBecause: 'stopped', rounds: [] });
      expect(stubs.pairsCalls()).toBe(1);
      expect(await status(handle)).toMatchObject({ step: 'stopped', stopRequested: true });
    });
  });

  it('ends a paused run on stop without starting the next step', async () => {
    const held = gate();
    const stubs = selfPlayStubs({ hold: { stage: 'prepare', until: held.wait } });
    await harness.withWorker(stubs.activities, async (run) => {
      const handle = await start(run);
      await pauseDuringPrepare(handle, stubs, held);
      await handle.signal('stop');
      const result = await handle.result();
      expect(result).toMatchObject({ stoppedBecause: 'stopped', rounds: [] });
      expect((await childrenStarted(handle)).map((id) => id.slice(handle.workflowId.length))).toEqual(['/prepare']);
      expect(stubs.done).toEqual(['prepare']);
      expect(stubs.finalizing).toEqual(['prepare']);
      expect(await status(handle)).toMatchObject({ step: 'stopped', paused: true });
    });
  });
});
