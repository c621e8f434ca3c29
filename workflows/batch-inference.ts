// Batch inference: import JSONL prompts into a dataset, then sample completions for every prompt in a durable stage.
import type { PipelineProgress } from '../domain/core/progress';
import { BatchInferenceInputSchema, type BatchInferenceInput } from '../domain/batch-inference';
import type { StageResult } from '../domain/core/stage';
import { bookkeepingActivities } from './bookkeeping';
import { followRun, runViewOf } from './run-view';
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
  const progress = trackProgress<PipelineProgress>(
    { pipeline: 'batchInference', phase: 'import', finishedStages: [], stagesTotal: 1, notes: [] },
    { name: input.name },
  );
  const view = runViewOf(progress)!;
  return followRun(progress, async () => {
    const bookkeeping = bookkeepingActivities();
    if (view.recording) view.useSearchAttributes((await bookkeeping.describeDeployment()).searchAttributes);
    const imported = await bookkeeping.importDataset({
      files: input.inputFiles,
      name: `${input.name}/input`,
      shardSize: input.shardSize,
    });
    progress.notes.push(`imported ${imported.imported} records, rejected ${imported.rejected}`);
    view.addFiles(imported.rejects);

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
    view.memo({
      output: completions.output.manifest,
      rejects: [...(imported.rejects ? [imported.rejects] : []), ...completions.rejects],
    });
    return {
      imported: imported.imported,
      rejectedAtImport: imported.rejected,
      importRejects: imported.rejects,
      completions,
    };
  });
}
