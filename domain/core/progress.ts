// What every pipeline workflow reports by its `progress` query, so the CLI and the UI can follow any run.
import type { StageCounts, StageResult } from './stage';

/** The first field of the `progress` query: how far the run is, at a glance (domain/core/run-view.ts). */
export interface ProgressSummary {
  done: number;
  total: number;
  /** what done/total count */
  unit: 'passes' | 'stages' | 'steps';
  kept: number;
  rejected: number;
  duplicates: number;
}

export interface PipelineProgress {
  /** Filled in by the query (never stored): done/total, kept, rejected, duplicates. */
  summary?: ProgressSummary;
  pipeline: string;
  /** The step in progress; `done`, `failed`, `cancelled` or `stopped` once the run has ended. */
  phase: string;
  /** The running stage child workflow, whose own `progress` query has shard and item counts. */
  currentStage?: { stage: string; workflowId: string };
  /** Finished stages in the order they started (pass order for synthesizeCorpus). */
  finishedStages: Array<{ stage: string; counts: StageCounts; output: StageResult['output'] }>;
  /** How many stages the run has in all, where the pipeline knows it up front. */
  stagesTotal?: number;
  /** A graph of pipelines (promptcotExperiment): every step and its state, in order. */
  graph?: Array<{ step: string; state: string; reason?: string; tokens?: number }>;
  notes: string[];
}
