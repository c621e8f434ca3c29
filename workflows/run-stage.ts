// How every pipeline runs a stage: a mapDatasetStage child with the id `<workflow id>/<name>`, shown as the
// current stage while it runs and recorded among the finished ones after; and the `progress` query every pipeline
// answers, so the CLI and the Web UI can follow any run the same way.
import { defineQuery, executeChild, setHandler, workflowInfo } from '@temporalio/workflow';
import type { PipelineProgress } from '../domain/core/progress';
import type { StageInput, StageResult } from '../domain/core/stage';
import { mapDatasetStage } from './stage';

export const pipelineProgressQuery = defineQuery<PipelineProgress>('progress');

/** Answers the `progress` query with `progress` (mutated in place as the run goes); call before the first await. */
export function trackProgress<P extends PipelineProgress>(progress: P): P {
  setHandler(pipelineProgressQuery, () => progress);
  return progress;
}

/** A stage of a pipeline: `name` names the child workflow and the progress entry; `input.stage` defaults to it. */
export type PipelineStage = Omit<StageInput, 'stage'> & { name: string; stage?: string };

export async function runStage(
  progress: PipelineProgress,
  { name, stage, ...input }: PipelineStage,
): Promise<StageResult> {
  const workflowId = `${workflowInfo().workflowId}/${name}`;
  const current = { stage: name, workflowId };
  progress.currentStage = current;
  try {
    const result = await executeChild(mapDatasetStage, { workflowId, args: [{ stage: stage ?? name, ...input }] });
    progress.finishedStages.push({ stage: name, counts: result.counts, output: result.output });
    return result;
  } finally {
    // passes of a corpus run side by side: only this stage's own entry is cleared
    if (progress.currentStage === current) progress.currentStage = undefined;
  }
}
