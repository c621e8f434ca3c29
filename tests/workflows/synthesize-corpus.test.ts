// synthesizeCorpus with stub activities: sampling passes start in pass order with at most `maxConcurrentPasses`
// generating at once, dedup runs one pass at a time strictly in pass order whatever order the generations finish
// in, and the corpus is finalized only once every pass is deduplicated; a failed pass drains the passes in flight
// before the run fails, and starts no more.
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import type { synthesizeCorpus } from '../../workflows';
import {
  childrenStarted,
  gate,
  untilHandled,
  until,
  useWorkflowHarness,
  type StubActivities,
  type WorkflowRun,
} from '../support/workflow-harness';

const PASSES = 4;
const COUNTS = { items: 3, kept: 3, rows: 3, rejected: 0, failed: 0 };
const ref = (name: string, items = 3, shards = 1) => ({
  name,
  manifest: `datasets/${name}/manifest.json`,
  items,
  shards,
});
const INPUT = {
  name: 'corpus',
  runKey: 'run1',
  conceptFiles: ['concepts.jsonl'],
  domain: 'math' as const,
  passes: PASSES,
  maxConcurrentPasses: 2,
};
const passOf = (stage: string) => Number(/^pass-(\d+)$/.exec(stage)![1]);

interface Stubs {
  activities: StubActivities;
  /** what the stubs saw, in order: `gen-start <pass>`, `gen-end <pass>`, `dedup <pass>`, `finalize` */
  log: string[];
  dedupInputs: string[];
  /** the most passes generating at once, and the most dedups at once */
  maxGenerating: () => number;
  maxDeduping: () => number;
}

/**
 * A pass generates from its one shard's processShard to its stage's finalize. `processShard(pass)` may hold a pass
 * or fail it; `onStart` sees every pass as its shard starts.
 */
function synthesisStubs(
  o: { processShard?: (pass: number) => Promise<void>; onStart?: (pass: number) => void } = {},
): Stubs {
  const log: string[] = [];
  const dedupInputs: string[] = [];
  let generating = 0;
  let maxGenerating = 0;
  let deduping = 0;
  let maxDeduping = 0;
  const activities: StubActivities = {
    importDataset: async (input: { name: string }) => ({ dataset: ref(input.name), imported: 3, rejected: 0 }),
    processShard: async (input: { stage: string; shard: number }) => {
      const pass = passOf(input.stage);
      generating++;
      maxGenerating = Math.max(maxGenerating, generating);
      log.push(`gen-start ${pass}`);
      o.onStart?.(pass);
      try {
        await o.processShard?.(pass);
      } catch (err) {
        generating--;
        throw err;
      }
      return { shard: input.shard, counts: COUNTS, resumed: 0, attempt: 1 };
    },
    finalizeStage: async (input: { stage: string; output: string }) => {
      generating--;
      log.push(`gen-end ${passOf(input.stage)}`);
      return { output: ref(input.output), rejects: [], counts: COUNTS };
    },
    dedupPass: async (input: { pass: number; input: { name: string }; output: string }) => {
      deduping++;
      maxDeduping = Math.max(maxDeduping, deduping);
      log.push(`dedup ${input.pass}`);
      dedupInputs.push(input.input.name);
      // give a second dedup the chance to overlap, were the workflow to start one
      await new Promise((resolve) => setTimeout(resolve, 20));
      deduping--;
      const exactDuplicates = input.pass % 2;
      return { output: ref(input.output), items: 3, kept: 3 - exactDuplicates, exactDuplicates, nearDuplicates: 0 };
    },
    finalizeCorpus: async (input: { name: string; passes: string[] }) => {
      log.push(`finalize ${input.passes.join(',')}`);
      return { dataset: ref(input.name, 10, PASSES), rejects: [] };
    },
  };
  return { activities, log, dedupInputs, maxGenerating: () => maxGenerating, maxDeduping: () => maxDeduping };
}

function start(run: WorkflowRun): Promise<WorkflowHandle<typeof synthesizeCorpus>> {
  return run.client.workflow.start<typeof synthesizeCorpus>('synthesizeCorpus', {
    taskQueue: run.taskQueue,
    workflowId: run.id('synthesize'),
    args: [INPUT],
  });
}

const passIds = async (handle: WorkflowHandle) =>
  (await childrenStarted(handle)).map((id) => id.slice(handle.workflowId.length + 1));

describe('synthesizeCorpus (stub activities)', () => {
  const harness = useWorkflowHarness();

  it('starts passes in order, bounded, dedups them in pass order as they finish, and finalizes after the last', async () => {
    // pass 0 generates until pass 2 has started: pass 1 finishes first, and pass 2 takes its place
    const pass2Started = gate();
    const stubs = synthesisStubs({
      processShard: (pass) => (pass === 0 ? pass2Started.wait : Promise.resolve()),
      onStart: (pass) => pass === 2 && pass2Started.open(),
    });
    await harness.withWorker(stubs.activities, async (run) => {
      const handle = await start(run);
      const result = await handle.result();

      expect(await passIds(handle)).toEqual(['pass-000', 'pass-001', 'pass-002', 'pass-003']);
      // two passes generated at once (pass 0 with 1, then with 2), never three
      expect(stubs.maxGenerating()).toBe(2);
      const at = (entry: string) => stubs.log.indexOf(entry);
      expect(at('gen-end 1')).toBeLessThan(at('gen-end 0'));
      expect(at('gen-start 2')).toBeLessThan(at('gen-end 0'));
      expect(at('gen-start 3')).toBeGreaterThan(Math.min(at('gen-end 0'), at('gen-end 2')));

      // dedup strictly in pass order, one at a time, each pass after its own generation and after the pass before
      const dedups = stubs.log.filter((e) => e.startsWith('dedup'));
      expect(dedups).toEqual(['dedup 0', 'dedup 1', 'dedup 2', 'dedup 3']);
      expect(stubs.maxDeduping()).toBe(1);
      for (let p = 0; p < PASSES; p++) expect(at(`dedup ${p}`)).toBeGreaterThan(at(`gen-end ${p}`));
      expect(at('dedup 1')).toBeGreaterThan(at('gen-end 0'));
      expect(stubs.dedupInputs).toEqual([0, 1, 2, 3].map((p) => `corpus/run1/generated/pass-00${p}`));

      // drained: the corpus is finalized once, last, from every pass in order
      const corpusPasses = [0, 1, 2, 3].map((p) => `corpus/run1/corpus/pass-00${p}`).join(',');
      expect(stubs.log[stubs.log.length - 1]).toBe(`finalize ${corpusPasses}`);
      expect(stubs.log.filter((e) => e.startsWith('finalize'))).toHaveLength(1);

      expect(result.totals).toMatchObject({
        generated: 12,
        parsed: 12,
        exactDuplicates: 2,
        nearDuplicates: 0,
        kept: 10,
      });
      expect(result.passes.map((p) => p.kept)).toEqual([3, 2, 3, 2]);
    });
  });

  it('waits for the passes in flight when one fails, starts no more, and then fails the run', async () => {
    const release0 = gate();
    const stubs = synthesisStubs({
      processShard: async (pass) => {
        if (pass === 0) await release0.wait;
        if (pass === 1) throw ApplicationFailure.nonRetryable('generation stub fails', 'StubFailure');
      },
    });
    await harness.withWorker(stubs.activities, async (run) => {
      const handle = await start(run);
      await untilHandled(handle, 'the failed pass', (e) => Boolean(e.childWorkflowExecutionFailedEventAttributes));
      // pass 0 still generates: the run waits for it rather than failing at once, and starts no other pass
      expect((await handle.describe()).status.name).toBe('RUNNING');
      expect(await passIds(handle)).toEqual(['pass-000', 'pass-001']);

      release0.open();
      const err = await handle.result().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      expect(stubs.log).toContain('gen-end 0');
      expect(await passIds(handle)).toEqual(['pass-000', 'pass-001']);
      // after a failure nothing is deduplicated or finalized
      expect(stubs.log.filter((e) => e.startsWith('dedup') || e.startsWith('finalize'))).toEqual([]);
      const events = await until('the closed history', async () => {
        const h = (await handle.fetchHistory()).events ?? [];
        return h.some((e) => e.workflowExecutionFailedEventAttributes) && h;
      });
      const pass0Done = events.findIndex((e) =>
        e.childWorkflowExecutionCompletedEventAttributes?.workflowExecution?.workflowId?.endsWith('/pass-000'),
      );
      const failed = events.findIndex((e) => e.workflowExecutionFailedEventAttributes);
      expect(pass0Done).toBeGreaterThan(-1);
      expect(pass0Done).toBeLessThan(failed);
    });
  });
});
