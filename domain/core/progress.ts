// What every pipeline workflow reports by its `progress` query, so the CLI and the UI can follow any run.
import type { StageCounts, StageResult } from './stage';

export interface PipelineProgress {
  pipeline: string;
  phase: string;
  /** The running stage child workflow, whose own `progress` query has shard and item counts. */
  currentStage?: { stage: string; workflowId: string };
  finishedStages: Array<{ stage: string; counts: StageCounts; output: StageResult['output'] }>;
  notes: string[];
}
