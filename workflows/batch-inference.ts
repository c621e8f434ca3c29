// Batch inference: import JSONL prompts into a dataset, then sample completions for every prompt in a durable stage.
import type { PipelineProgress } from '../domain/core/progress';
import { BatchInferenceInputSchema, type BatchInferenceInput } from '../domain/batch-inference';
import type { StageResult } from '../domain/core/stage';
import { bookkeepingActivities } from './bookkeeping';
import { runStage, trackProgress } from './run-stage';
import { parseWorkflowInput } from './validate';

export interface BatchInferenceResult {
  imported: number;
  rejectedAtImport: number;
  importRejects?: string;
  completions: StageResult;
}

export async function batchInference(raw: BatchInferenceInput): Promise<BatchInferenceResult> {
  const input = parseWorkflowInput(BatchInferenceInputSchema, raw);
  const progress = trackProgress<PipelineProgress>({
    pipeline: 'batchInference',
    phase: 'import',
    finishedStages: [],
    notes: [],
  });

  const { importDataset } = bookkeepingActivities();
  const imported = await importDataset({
    files: input.inputFiles,
    name: `${input.name}/input`,
    shardSize: input.shardSize,
  });
  progress.notes.push(`imported ${imported.imported} records, rejected ${imported.rejected}`);

  progress.phase = 'completions';
  const completions = await runStage(progress, {
    name: 'completions',
    operation: 'chatCompletion',
    params: input.chat,
    input: imported.dataset,
    output: `${input.name}/completions`,
    maxConcurrentShards: input.maxConcurrentShards,
    itemConcurrency: input.itemConcurrency,
    heartbeatTimeoutSeconds: input.heartbeatTimeoutSeconds,
  });
  progress.phase = 'done';
  return {
    imported: imported.imported,
    rejectedAtImport: imported.rejected,
    importRejects: imported.rejects,
    completions,
  };
}
