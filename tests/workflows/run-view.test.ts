// What a run shows in the Web UI (workflows/run-view.ts), with stub activities on a dev server that has the
// project's search attributes: the summary of a run and of its stage children, the current details while a step
// waits for retryStep and while the run is paused (the next step named), the PromptcotState search attribute and
// the ready-made list filters, the progress query's summary and pass order, handler descriptions, the memo, the
// step name in an abandoned run's failure, a cancelled run's phase and state, a re-started run that reused finished
// stages, and a missing input file failing the run at once, naming the path.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ApplicationFailure, defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { importJsonl } from '../../activities/datasets/import';
import { DatasetStore } from '../../activities/datasets/store';
import { LIST_FILTERS, listFilterQuery, runSummary } from '../../domain/core/run-view';
import { saveHistoryFixture } from '../support/histories';
import type { batchInference, selfPlay, synthesizeCorpus } from '../../workflows';
import {
  gate,
  historyOf,
  until,
  untilHandled,
  useWorkflowHarness,
  type StubActivities,
  type WorkflowRun,
} from '../support/workflow-harness';

const STATE = defineSearchAttributeKey('PromptcotState', SearchAttributeType.KEYWORD);
const STEP = defineSearchAttributeKey('PromptcotStep', SearchAttributeType.KEYWORD);
const PIPELINE = defineSearchAttributeKey('PromptcotPipeline', SearchAttributeType.KEYWORD);
const NAME = defineSearchAttributeKey('PromptcotName', SearchAttributeType.KEYWORD);

const COUNTS = { items: 3, kept: 3, rows: 3, rejected: 0, failed: 0 };
const ref = (name: string, items = 3, shards = 1) => ({
  name,
  manifest: `datasets/${name}/manifest.json`,
  items,
  shards,
});

interface Metadata {
  currentDetails?: string;
  definition?: {
    signalDefinitions?: Array<{ name: string; description?: string }>;
    queryDefinitions?: Array<{ name: string; description?: string }>;
  };
}
/** The SDK's built-in query the Web UI reads a run's current details and handler descriptions from. */
const metadata = (handle: WorkflowHandle) => handle.query<Metadata>('__temporal_workflow_metadata');
const details = async (handle: WorkflowHandle) => (await metadata(handle)).currentDetails ?? '';
const attribute = async (handle: WorkflowHandle, key: typeof STATE) =>
  (await handle.describe()).typedSearchAttributes.get(key);

/** The ids a list query finds (visibility lags a little behind: waits until `expected` shows, if given). */
async function listed(client: Client, query: string, expected?: string[]): Promise<string[]> {
  const ids = async () => {
    const out: string[] = [];
    for await (const wf of client.workflow.list({ query })) out.push(wf.workflowId);
    return out.sort();
  };
  if (!expected) return ids();
  return until(`the list query ${query}`, async () => {
    const found = await ids();
    return JSON.stringify(found) === JSON.stringify([...expected].sort()) && found;
  });
}

// ---- selfPlay: steps that wait ---------------------------------------------------------------------------------------

const SELF_PLAY_INPUT = { name: 'sp-view', prompts: ref('sp/prompts', 2), rounds: 1, training: { enabled: false } };

function selfPlayStubs(o: { holdPrepare?: Promise<void>; failPairs?: number } = {}) {
  let pairsCalls = 0;
  let prepareFinalizing = false;
  const activities: StubActivities = {
    processShard: async (input: { shard: number }) => ({ shard: input.shard, counts: COUNTS, resumed: 0, attempt: 1 }),
    finalizeStage: async (input: { stage: string; output: string }) => {
      if (input.stage === 'prepare') {
        prepareFinalizing = true;
        await o.holdPrepare;
      }
      return { output: ref(input.output), rejects: [], counts: COUNTS };
    },
    buildSelfPlayPairs: async (input: { output: string }) => {
      pairsCalls++;
      if (pairsCalls <= (o.failPairs ?? 0))
        throw ApplicationFailure.nonRetryable('the pairs stub fails', 'StubFailure');
      return {
        pairs: ref(input.output, 1),
        report: `reports/sp-view/round-1.json`,
        summary: { prompts: 2, kept: 2, dropped: {}, addsUp: true, pairs: 1, passCountHistogram: {} },
      };
    },
  };
  return { activities, pairsCalls: () => pairsCalls, prepareFinalizing: () => prepareFinalizing };
}

function startSelfPlay(run: WorkflowRun): Promise<WorkflowHandle<typeof selfPlay>> {
  return run.client.workflow.start<typeof selfPlay>('selfPlay', {
    taskQueue: run.taskQueue,
    workflowId: run.id('sp-view'),
    args: [SELF_PLAY_INPUT],
    staticSummary: runSummary('selfPlay', SELF_PLAY_INPUT),
  });
}

describe('the run view in the Web UI (stub activities)', () => {
  const harness = useWorkflowHarness();

  it('shows a step that waits for retryStep: state, details with how to retry, a list filter; abandon names the step', async () => {
    const stubs = selfPlayStubs({ failPairs: 1 });
    await harness.withWorker(stubs.activities, async (run) => {
      const handle = await startSelfPlay(run);
      await untilHandled(handle, 'the failed pairs activity', (e) => Boolean(e.activityTaskFailedEventAttributes));

      expect(await attribute(handle, STATE)).toBe('waiting-retry');
      expect(await attribute(handle, STEP)).toBe('round-1/pairs');
      expect(await attribute(handle, PIPELINE)).toBe('selfPlay');
      expect(await attribute(handle, NAME)).toBe('sp-view');
      const text = await details(handle);
      expect(text).toContain('waiting for retryStep');
      expect(text).toContain('step `round-1/pairs` failed for good: ');
      expect(text).toContain('the pairs stub fails');
      expect(text).toContain(`npm run cli -- signal ${handle.workflowId} retryStep`);
      expect(text).toContain(`npm run cli -- signal ${handle.workflowId} abandon`);
      const filter = listFilterQuery(['waiting-retry', `WorkflowId = '${handle.workflowId}'`])!;
      expect(await listed(run.client, filter, [handle.workflowId])).toEqual([handle.workflowId]);

      // the signals and queries explain themselves to the UI
      const definition = (await metadata(handle)).definition!;
      const signals = Object.fromEntries((definition.signalDefinitions ?? []).map((s) => [s.name, s.description]));
      expect(signals.retryStep).toMatch(/again/);
      expect(signals.abandon).toMatch(/fails/);
      expect(signals.stop).toMatch(/Ends the run/);
      const queries = Object.fromEntries((definition.queryDefinitions ?? []).map((q) => [q.name, q.description]));
      expect(queries.progress).toMatch(/summary/);
      expect(queries.status).toMatch(/round/);

      await handle.signal('abandon');
      const err = await handle.result().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      const failure = (err as WorkflowFailedError).cause as ApplicationFailure;
      expect(failure.type).toBe('StepAbandoned');
      expect(failure.message).toContain('step round-1/pairs abandoned');
      expect(failure.message).toContain('the pairs stub fails');
      expect(await attribute(handle, STATE)).toBe('failed');
      expect((await handle.query<{ phase: string }>('progress')).phase).toBe('failed');
    });
  });

  it('shows a paused run with its next step, then done with its memo and the summary it was started with', async () => {
    const held = gate();
    const stubs = selfPlayStubs({ holdPrepare: held.wait });
    await harness.withWorker(stubs.activities, async (run) => {
      const handle = await startSelfPlay(run);
      await until('the prepare stage to finalize', () => stubs.prepareFinalizing());
      await handle.signal('pause');
      held.open();
      await untilHandled(handle, 'the end of the prepare stage', (e) =>
        Boolean(e.childWorkflowExecutionCompletedEventAttributes?.workflowExecution?.workflowId?.endsWith('/prepare')),
      );
      expect(await attribute(handle, STATE)).toBe('paused');
      const text = await details(handle);
      expect(text).toContain('paused');
      expect(text).toContain('the next step is `rewards`');
      expect(text).toContain(`npm run cli -- signal ${handle.workflowId} resume`);
      expect(
        await listed(run.client, `${LIST_FILTERS.paused!.query} AND WorkflowId = '${handle.workflowId}'`, [
          handle.workflowId,
        ]),
      ).toEqual([handle.workflowId]);

      await handle.signal('resume');
      await handle.result();
      const described = await handle.describe();
      expect(described.typedSearchAttributes.get(STATE)).toBe('done');
      expect(await described.staticSummary()).toBe('selfPlay sp-view · rounds 1');
      expect(described.memo).toMatchObject({
        output: 'datasets/sp-view/round-1/pairs/manifest.json',
        reports: ['reports/sp-view/round-1.json'],
      });
      // the stage children name the run and the step they belong to
      const prepare = await run.client.workflow.getHandle(`${handle.workflowId}/prepare`).describe();
      expect(await prepare.staticSummary()).toBe('selfPlay sp-view · step prepare · prepareSelfPlayPrompt');
      expect(await details(run.client.workflow.getHandle(`${handle.workflowId}/prepare`))).toContain(
        `a step of \`${handle.workflowId}\``,
      );
      // the ready-made `runs` filter lists the run, not its stage children
      const runs = listFilterQuery(['runs', `WorkflowId STARTS_WITH '${handle.workflowId}'`])!;
      expect(await listed(run.client, runs, [handle.workflowId])).toEqual([handle.workflowId]);
      // a history of the run-view-v1 patch (search attributes, memo, a pause), for the replay test
      if (process.env.UPDATE_HISTORY_FIXTURES)
        saveHistoryFixture('selfPlay-run-view-pause', harness.env.address, handle.workflowId);
    });
  });

  it('shows a run waiting for its trainer as training, naming the job and where its log is', async () => {
    const training = gate();
    const trained = gate();
    const stubs = selfPlayStubs();
    const activities: StubActivities = {
      ...stubs.activities,
      train: async () => {
        training.open();
        await trained.wait;
        return { version: 'policy-1', job: 'sp-view/round-1/policy', adapter: 'output/adapter' };
      },
      activateModel: async () => ({ version: 'policy-1' }),
    };
    await harness.withWorker(activities, async (run) => {
      const handle = await run.client.workflow.start<typeof selfPlay>('selfPlay', {
        taskQueue: run.taskQueue,
        workflowId: run.id('sp-train'),
        args: [{ ...SELF_PLAY_INPUT, training: { enabled: true } }],
      });
      await training.wait;
      await until('the training state', async () => (await attribute(handle, STATE)) === 'training');
      expect(await attribute(handle, STEP)).toBe('round-1/train');
      const text = await details(handle);
      expect(text).toContain('training job `sp-view/round-1/policy`');
      expect(text).toContain('heartbeat of the pending `train` activity');
      expect(text).toContain('`train.log`');
      trained.open();
      await handle.result();
      expect(await attribute(handle, STATE)).toBe('done');
    });
  });

  // ---- synthesizeCorpus: the progress summary, pass order, pass summaries ------------------------------------------

  it('leads the progress query with a summary, lists finished passes in pass order, and names each pass child', async () => {
    const input = { name: 'corpus', runKey: 'view1', conceptFiles: ['c.jsonl'], domain: 'math' as const, passes: 3 };
    const pass1Done = gate();
    const activities: StubActivities = {
      importDataset: async (i: { name: string }) => ({ dataset: ref(i.name), imported: 3, rejected: 0 }),
      // pass 0 generates until pass 1 is finished, so pass 1 finishes first
      processShard: async (i: { stage: string; shard: number }) => {
        if (i.stage === 'pass-000') await pass1Done.wait;
        return { shard: i.shard, counts: COUNTS, resumed: 0, attempt: 1 };
      },
      finalizeStage: async (i: { stage: string; output: string }) => {
        if (i.stage === 'pass-001') setTimeout(() => pass1Done.open(), 200);
        return { output: ref(i.output), rejects: [], counts: { ...COUNTS, rejected: 1 } };
      },
      dedupPass: async (i: { pass: number; output: string }) => ({
        output: ref(i.output),
        items: 3,
        kept: 2,
        exactDuplicates: 1,
        nearDuplicates: 0,
      }),
      finalizeCorpus: async (i: { name: string }) => ({
        dataset: ref(i.name, 6, 3),
        rejects: ['corpus/rejects.jsonl'],
      }),
    };
    await harness.withWorker(activities, async (run) => {
      const handle = await run.client.workflow.start<typeof synthesizeCorpus>('synthesizeCorpus', {
        taskQueue: run.taskQueue,
        workflowId: run.id('synth-view'),
        args: [{ ...input, maxConcurrentPasses: 2 }],
      });
      await handle.result();
      const progress = await handle.query<Record<string, unknown>>('progress');
      expect(Object.keys(progress)[0]).toBe('summary');
      expect(progress.summary).toEqual({ done: 3, total: 3, unit: 'passes', kept: 6, rejected: 3, duplicates: 3 });
      expect(progress.phase).toBe('done');
      const finished = progress.finishedStages as Array<{ stage: string }>;
      expect(finished.map((s) => s.stage)).toEqual(['pass-000', 'pass-001', 'pass-002']);
      // pass 1 did finish first
      const done = (await historyOf(handle)).flatMap((e) => {
        const id = e.childWorkflowExecutionCompletedEventAttributes?.workflowExecution?.workflowId;
        return id ? [id.slice(-8)] : [];
      });
      expect(done.indexOf('pass-001')).toBeLessThan(done.indexOf('pass-000'));

      const pass = await run.client.workflow.getHandle(`${handle.workflowId}/pass-001`).describe();
      expect(await pass.staticSummary()).toBe('synthesizeCorpus corpus · pass 2/3 · seed 8001');
      const described = await handle.describe();
      expect(described.typedSearchAttributes.get(STATE)).toBe('done');
      expect(described.typedSearchAttributes.get(defineSearchAttributeKey('PromptcotRunKey', 'KEYWORD'))).toBe('view1');
      expect(described.memo).toMatchObject({
        output: 'datasets/corpus/view1/corpus/manifest.json',
        rejects: ['corpus/rejects.jsonl'],
      });
      if (process.env.UPDATE_HISTORY_FIXTURES)
        saveHistoryFixture('synthesizeCorpus-run-view', harness.env.address, handle.workflowId);
      const text = await details(handle);
      expect(text).toContain('3 of 3 passes');
      expect(text).toContain('kept 6 · rejected 3 · duplicates 3');
    });
  });

  it('says in its details that a re-started run reused the stages an earlier run had finished', async () => {
    const activities: StubActivities = {
      importDataset: async (i: { name: string }) => ({ dataset: ref(i.name, 3, 2), imported: 3, rejected: 0 }),
      // both shards were finished by an earlier run with the same names
      processShard: async (i: { shard: number }) => ({
        shard: i.shard,
        counts: COUNTS,
        resumed: 0,
        attempt: 1,
        reused: true,
      }),
      finalizeStage: async (i: { output: string }) => ({ output: ref(i.output), rejects: [], counts: COUNTS }),
    };
    await harness.withWorker(activities, async (run) => {
      const handle = await run.client.workflow.start<typeof batchInference>('batchInference', {
        taskQueue: run.taskQueue,
        workflowId: run.id('resumed'),
        args: [{ name: 'resumed', inputFiles: ['prompts.jsonl'] }],
      });
      const result = await handle.result();
      expect(result.completions.reusedShards).toBe(2);
      expect(await details(handle)).toContain(
        '_resumed: 1 finished stage reused as it was, from an earlier run with the same names_',
      );
    });
  });

  it('says cancelled in its phase, state and details when the run was cancelled', async () => {
    const shardRunning = gate();
    const release = gate();
    const activities: StubActivities = {
      importDataset: async (i: { name: string }) => ({ dataset: ref(i.name), imported: 3, rejected: 0 }),
      processShard: async (i: { shard: number }) => {
        shardRunning.open();
        await release.wait; // the shard finishes what it has in flight, as a cancelled shard does
        return { shard: i.shard, counts: COUNTS, resumed: 0, attempt: 1 };
      },
      finalizeStage: async (i: { output: string }) => ({ output: ref(i.output), rejects: [], counts: COUNTS }),
    };
    await harness.withWorker(activities, async (run) => {
      const handle = await run.client.workflow.start<typeof batchInference>('batchInference', {
        taskQueue: run.taskQueue,
        workflowId: run.id('cancelled'),
        args: [{ name: 'cancelled', inputFiles: ['prompts.jsonl'] }],
      });
      await shardRunning.wait;
      expect(await attribute(handle, STEP)).toBe('completions');
      await handle.cancel();
      // the stage child has the cancellation before its shard finishes
      const stage = run.client.workflow.getHandle(`${handle.workflowId}/completions`);
      await untilHandled(stage, 'the cancel request', (e) =>
        Boolean(e.workflowExecutionCancelRequestedEventAttributes),
      );
      release.open();
      const err = await handle.result().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      expect((await handle.describe()).status.name).toBe('CANCELLED');
      expect(await attribute(handle, STATE)).toBe('cancelled');
      // the step it was at stays in PromptcotStep; the phase says how the run ended
      expect(await attribute(handle, STEP)).toBe('completions');
      expect((await handle.query<{ phase: string }>('progress')).phase).toBe('cancelled');
      expect(await details(handle)).toContain('**batchInference** `cancelled`: cancelled');
    });
  });

  // ---- a missing input file ----------------------------------------------------------------------------------------

  it('fails a run whose input file is missing at once, with a non-retryable error naming the path', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'run-view-'));
    const store = new DatasetStore(root);
    const missing = path.join(root, 'no-such-prompts.jsonl');
    try {
      // the real import activity's code
      const activities: StubActivities = {
        importDataset: (i: Parameters<typeof importJsonl>[1]) => importJsonl(store, i),
      };
      await harness.withWorker(activities, async (run) => {
        const handle = await run.client.workflow.start<typeof batchInference>('batchInference', {
          taskQueue: run.taskQueue,
          workflowId: run.id('missing-input'),
          args: [{ name: 'missing', inputFiles: [missing] }],
        });
        const err = await handle.result().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(WorkflowFailedError);
        const activityFailure = (err as WorkflowFailedError).cause!;
        const cause = activityFailure.cause as ApplicationFailure;
        expect(cause.type).toBe('InvalidInput');
        expect(cause.nonRetryable).toBe(true);
        expect(cause.message).toContain(`input file not found: ${missing}`);
        // one attempt, no retries
        const events = await historyOf(handle);
        const failed = events.filter((e) => e.activityTaskFailedEventAttributes);
        expect(failed).toHaveLength(1);
        const started = events.find((e) => e.activityTaskStartedEventAttributes)!;
        expect(started.activityTaskStartedEventAttributes!.attempt).toBe(1);
        expect((await handle.describe()).typedSearchAttributes.get(STATE)).toBe('failed');
        expect((await handle.query<{ phase: string }>('progress')).phase).toBe('failed');
        expect(await details(handle)).toContain(`input file not found: ${missing}`);
      });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
