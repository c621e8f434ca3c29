// Batch inference: import JSONL prompts into a dataset, then sample completions for every prompt in a durable stage.
import { defineQuery, executeChild, setHandler, workflowInfo } from '@temporalio/workflow';
import { BatchInferenceInputSchema, type BatchInferenceInput } from '../domain/batch-inference';
import type { PipelineProgress } from '../domain/core/progress';
import type { StageResult } from '../domain/core/stage';
import { bookkeepingActivities } from './bookkeeping';
import { mapDatasetStage } from './stage';
import { parseWorkflowInput } from './validate';

export const pipelineProgressQuery = defineQuery<PipelineProgress>('progress');

export interface BatchInferenceResult {
  imported: number;
  rejectedAtImport: number;
  importRejects?: string;
  completions: StageResult;
}

export async function batchInference(raw: BatchInferenceInput): Promise<BatchInferenceResult> {
  const input = parseWorkflowInput(BatchInferenceInputSchema, raw);
  const progress: PipelineProgress = { pipeline: 'batchInference', phase: 'import', finishedStages: [], notes: [] };
  setHandler(pipelineProgressQuery, () => progress);

  const { importDataset } = bookkeepingActivities();
  const imported = await importDataset({ files: input.inputFiles, name: `${input.name}/input`, shardSize: input.shardSize });
  progress.notes.push(`imported ${imported.imported} records, rejected ${imported.rejected}`);

  const stageId = `${workflowInfo().workflowId}/completions`;
  progress.phase = 'completions';
  progress.currentStage = { stage: 'completions', workflowId: stageId };
  const completions = await executeChild(mapDatasetStage, {
    workflowId: stageId,
    args: [
      {
        stage: 'completions',
        operation: 'chatCompletion',
        params: input.chat,
        input: imported.dataset,
        output: `${input.name}/completions`,
        maxConcurrentShards: input.maxConcurrentShards,
        itemConcurrency: input.itemConcurrency,
        heartbeatTimeoutSeconds: input.heartbeatTimeoutSeconds,
      },
    ],
  });
  progress.finishedStages.push({ stage: 'completions', counts: completions.counts, output: completions.output });
  progress.currentStage = undefined;
  progress.phase = 'done';
  return { imported: imported.imported, rejectedAtImport: imported.rejected, importRejects: imported.rejects, completions };
}
