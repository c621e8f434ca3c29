// synthesizeCorpus (spec §2): concept file → `passes` sampling passes of the prompt generation model (one durable
// stage each) → markers parsed (unparseable generations set aside) → exact + MinHash-LSH dedup against everything
// the corpus ever produced (a persisted index), pass by pass in order → formatted training prompts with provenance.
import { ActivityCancellationType, condition, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { SynthesisActivities } from '../activities/synthesize-corpus/activities';
import { hashToSeed } from '../domain/core/seeds';
import {
  passLabel,
  passSeed,
  SynthesizeCorpusInputSchema,
  type SynthesizeCorpusInput,
  type SynthesisProgress,
  type SynthesisResult,
} from '../domain/synthesize-corpus';
import { bookkeepingActivities, NON_RETRYABLE } from './bookkeeping';
import { drainingOnCancel } from './cancellation';
import { passSummary } from '../domain/core/run-view';
import { followRun, runViewOf } from './run-view';
import { runStage, trackProgress } from './run-stage';
import type { mapDatasetStage } from './stage';
import { parseWorkflowInput } from './validate';

/** Workflow ids may hold characters dataset names do not (schedules add timestamps with ':'). */
function runKeyOf(workflowId: string): string {
  return workflowId.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 200);
}

export async function synthesizeCorpus(raw: SynthesizeCorpusInput): Promise<SynthesisResult> {
  const input = parseWorkflowInput(SynthesizeCorpusInputSchema, raw);
  const workflowId = workflowInfo().workflowId;
  const runKey = input.runKey ?? runKeyOf(workflowId);
  const base = `${input.name}/${runKey}`;
  const progress: SynthesisProgress = trackProgress(
    {
      pipeline: 'synthesizeCorpus',
      phase: 'import',
      finishedStages: [],
      notes: [],
      runKey,
      passes: Array.from({ length: input.passes }, (_, pass) => ({
        pass,
        seed: passSeed(input, runKey, pass, hashToSeed),
        status: 'waiting' as const,
        generated: 0,
        parsed: 0,
        rejected: 0,
        failed: 0,
        duplicates: 0,
        kept: 0,
      })),
    },
    { name: input.name, runKey },
  );
  const view = runViewOf(progress)!;
  return followRun(progress, async () => {
    const bookkeeping = bookkeepingActivities();
    // with the run view, the deployment is asked first, so that the search attributes show from the start
    const deployment = view.recording ? await bookkeeping.describeDeployment() : undefined;
    view.useSearchAttributes(deployment?.searchAttributes);
    // a dataset of concept records is used as it is (its items are checked by the generate stage, item by item)
    const concepts: SynthesisResult['concepts'] = input.concepts
      ? { dataset: input.concepts, imported: input.concepts.items, rejected: 0 }
      : await bookkeeping.importDataset({
          files: input.conceptFiles!,
          name: `${base}/concepts`,
          shardSize: input.shardSize,
          schema: 'concept',
        });
    progress.notes.push(
      input.concepts
        ? `concept records: ${concepts.imported} from dataset ${input.concepts.name}`
        : `concept records: ${concepts.imported} imported, ${concepts.rejected} rejected${concepts.rejects ? ` (${concepts.rejects})` : ''}`,
    );

    view.addFiles(concepts.rejects);
    const { taskQueues } = deployment ?? (await bookkeeping.describeDeployment());
    const synthesis = proxyActivities<SynthesisActivities>({
      taskQueue: taskQueues.cpu,
      startToCloseTimeout: '6 hours',
      heartbeatTimeout: '2 minutes',
      cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
      retry: { maximumInterval: '1 minute', nonRetryableErrorTypes: NON_RETRYABLE },
    });

    progress.phase = 'generate';
    const generated: Array<Awaited<ReturnType<typeof mapDatasetStage>> | undefined> = [];
    let nextToStart = 0;
    let nextToDedup = 0;
    let running = 0;
    let failure: unknown;
    const dedupTotals = { exact: 0, near: 0 };

    // Dedup runs strictly in pass order (first come wins), as soon as the next pass's generation is done.
    let deduping = false;
    const dedupReady = async () => {
      if (deduping) return;
      deduping = true;
      try {
        while (nextToDedup < input.passes && generated[nextToDedup] !== undefined && failure === undefined) {
          const pass = nextToDedup;
          const state = progress.passes[pass]!;
          state.status = 'deduplicating';
          view.update();
          const result = await synthesis.dedupPass({
            corpus: input.name,
            runKey,
            pass,
            input: generated[pass]!.output,
            output: `${base}/corpus/${passLabel(pass)}`,
            domain: input.domain,
            threshold: input.dedup.threshold,
            minWordLength: input.dedup.minWordLength,
          });
          state.duplicates = result.exactDuplicates + result.nearDuplicates;
          state.kept = result.kept;
          state.status = 'done';
          dedupTotals.exact += result.exactDuplicates;
          dedupTotals.near += result.nearDuplicates;
          nextToDedup++;
          view.update();
        }
      } catch (err) {
        failure ??= err;
      } finally {
        deduping = false;
      }
    };

    const startPass = (pass: number) => {
      const state = progress.passes[pass]!;
      state.status = 'generating';
      running++;
      runStage(progress, {
        name: passLabel(pass),
        summary: passSummary({ name: input.name, pass, passes: input.passes, seed: state.seed }),
        operation: 'generateProblem',
        params: {
          role: input.role,
          model: input.model,
          ...(input.endpoint ? { endpoint: input.endpoint } : {}),
          domain: input.domain,
          pass,
          seed: state.seed,
          temperature: input.sampling.temperature,
          topP: input.sampling.topP,
          maxTokens: input.sampling.maxTokens,
          mathFilters: input.mathFilters,
        },
        input: concepts.dataset,
        output: `${base}/generated/${passLabel(pass)}`,
        maxConcurrentShards: input.maxConcurrentShards,
        itemConcurrency: input.itemConcurrency,
        heartbeatTimeoutSeconds: input.heartbeatTimeoutSeconds,
      })
        .then((result) => {
          generated[pass] = result;
          Object.assign(state, {
            generated: result.counts.items,
            parsed: result.counts.kept,
            rejected: result.counts.rejected,
            failed: result.counts.failed,
            status: 'generated',
          });
          running--;
          view.update();
          void dedupReady();
        })
        .catch((err: unknown) => {
          failure ??= err;
          running--;
        });
    };

    await drainingOnCancel(
      () => running === 0 && !deduping,
      async () => {
        while (nextToStart < input.passes && failure === undefined) {
          await condition(() => running < input.maxConcurrentPasses || failure !== undefined);
          if (failure !== undefined) break;
          startPass(nextToStart++);
        }
        await condition(() => running === 0 && !deduping);
      },
    );
    if (failure !== undefined) throw failure;
    await dedupReady();
    if (failure !== undefined) throw failure;

    progress.phase = 'finalize';
    progress.currentStage = undefined;
    view.update();
    const corpus = await synthesis.finalizeCorpus({
      name: `${base}/corpus`,
      passes: Array.from({ length: input.passes }, (_, p) => `${base}/corpus/${passLabel(p)}`),
    });
    progress.phase = 'done';
    view.memo({
      output: corpus.dataset.manifest,
      rejects: [...(concepts.rejects ? [concepts.rejects] : []), ...corpus.rejects],
    });
    const sum = (key: 'generated' | 'parsed' | 'rejected' | 'failed' | 'duplicates' | 'kept') =>
      progress.passes.reduce((n, p) => n + p[key], 0);
    return {
      runKey,
      concepts: {
        dataset: concepts.dataset,
        imported: concepts.imported,
        rejected: concepts.rejected,
        rejects: concepts.rejects,
      },
      corpus: corpus.dataset,
      totals: {
        generated: sum('generated'),
        parsed: sum('parsed'),
        rejected: sum('rejected'),
        failed: sum('failed'),
        exactDuplicates: dedupTotals.exact,
        nearDuplicates: dedupTotals.near,
        kept: sum('kept'),
      },
      passes: progress.passes.map(({ pass, seed, generated: g, parsed, rejected, duplicates, kept }) => ({
        pass,
        seed,
        generated: g,
        parsed,
        rejected,
        duplicates,
        kept,
      })),
      rejects: corpus.rejects,
    };
  });
}
