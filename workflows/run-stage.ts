// How every pipeline runs a stage: a mapDatasetStage child with the id `<workflow id>/<name>` and a summary naming
// the run and step it belongs to, shown as the current stage while it runs and recorded among the finished ones
// after (in the order the stages started); and the `progress` query every pipeline answers, so the CLI and the Web
// UI can follow any run the same way.
import { defineQuery, executeChild, setHandler, workflowInfo } from '@temporalio/workflow';
import type { PipelineProgress } from '../domain/core/progress';
import { progressSummary, stageSummary } from '../domain/core/run-view';
import type { StageInput, StageResult } from '../domain/core/stage';
import { RunView, runViewOf, type RunIdentity } from './run-view';
import { mapDatasetStage } from './stage';

export const pipelineProgressQuery = defineQuery<PipelineProgress>('progress');

/**
 * Answers the `progress` query with `progress` (mutated in place as the run goes), led by its summary, and gives
 * the run its view in the UI (workflows/run-view.ts: current details, search attributes). Call before the first
 * await.
 */
export function trackProgress<P extends PipelineProgress>(progress: P, identity: RunIdentity = {}): P {
  setHandler(pipelineProgressQuery, () => ({ summary: progressSummary(progress), ...progress }) as P, {
    description:
      'How far the run is: a summary (done/total, kept, rejected, duplicates), the step (phase), the running stage child and the finished stages',
  });
  if (!runViewOf(progress)) new RunView(progress, identity);
  return progress;
}

/** A stage of a pipeline: `name` names the child workflow and the progress entry; `input.stage` defaults to it. */
export type PipelineStage = Omit<StageInput, 'stage'> & {
  name: string;
  stage?: string;
  /** the child's one-line summary in the UI; by default the run, the step and the operation */
  summary?: string;
};

/** The order stages started in, per run, so the finished ones are listed in that order (pass order). */
const startOrder = new WeakMap<PipelineProgress, { next: number; of: Map<string, number> }>();

export async function runStage(
  progress: PipelineProgress,
  { name, stage, summary, ...input }: PipelineStage,
): Promise<StageResult> {
  const workflowId = `${workflowInfo().workflowId}/${name}`;
  const current = { stage: name, workflowId };
  const view = runViewOf(progress);
  const order = startOrder.get(progress) ?? { next: 0, of: new Map<string, number>() };
  startOrder.set(progress, order);
  order.of.set(name, order.next++);
  progress.currentStage = current;
  view?.update();
  try {
    const result = await executeChild(mapDatasetStage, {
      workflowId,
      args: [{ stage: stage ?? name, ...input }],
      staticSummary:
        summary ??
        stageSummary({
          pipeline: progress.pipeline,
          name: view?.identity.name,
          step: name,
          operation: input.operation,
        }),
    });
    const entry = { stage: name, counts: result.counts, output: result.output };
    if (result.reusedShards && view) view.reused(name, result.reusedShards, result.shards);
    const rank = (s: string) => order.of.get(s) ?? Number.MAX_SAFE_INTEGER;
    const at = progress.finishedStages.findIndex((s) => rank(s.stage) > rank(name));
    if (at < 0) progress.finishedStages.push(entry);
    else progress.finishedStages.splice(at, 0, entry);
    return result;
  } finally {
    // passes of a corpus run side by side: only this stage's own entry is cleared
    if (progress.currentStage === current) progress.currentStage = undefined;
    view?.update();
  }
}
