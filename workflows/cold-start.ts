// coldStart (spec §1.4): seed problems → concepts of each (extractConcepts) → the rationale of each
// (concepts, problem) pair (annotateRationale). The first output is a concept file for synthesizeCorpus; the
// second holds the seed triples (c, z, x) the EM loop starts from.
import type { PipelineProgress } from '../domain/core/progress';
import type { StageInput, StageResult } from '../domain/core/stage';
import { ColdStartInputSchema, type ColdStartInput } from '../domain/cold-start';
import { bookkeepingActivities } from './bookkeeping';
import { followRun, runViewOf } from './run-view';
import { runStage, trackProgress } from './run-stage';
import { parseWorkflowInput } from './validate';

export interface ColdStartResult {
  imported: number;
  rejectedAtImport: number;
  concepts: StageResult;
  triples: StageResult;
}

export async function coldStart(raw: ColdStartInput): Promise<ColdStartResult> {
  const input = parseWorkflowInput(ColdStartInputSchema, raw);
  const progress = trackProgress<PipelineProgress>(
    { pipeline: 'coldStart', phase: 'import', finishedStages: [], stagesTotal: 2, notes: [] },
    { name: input.name },
  );
  const view = runViewOf(progress)!;
  return followRun(progress, async () => {
    const { importDataset, describeDeployment } = bookkeepingActivities();
    if (view.recording) view.useSearchAttributes((await describeDeployment()).searchAttributes);
    const seeds = await importDataset({
      files: input.problemFiles,
      name: `${input.name}/seed-problems`,
      shardSize: input.shardSize,
    });
    view.addFiles(seeds.rejects);

    const stage = (
      name: 'concepts' | 'triples',
      operation: StageInput['operation'],
      params: unknown,
      from: StageResult['output'],
    ) => {
      progress.phase = name;
      return runStage(progress, {
        name,
        operation,
        params,
        input: from,
        output: `${input.name}/${name}`,
        maxConcurrentShards: input.maxConcurrentShards,
        itemConcurrency: input.itemConcurrency,
      });
    };
    const concepts = await stage('concepts', 'extractConcepts', input.concepts, seeds.dataset);
    const triples = await stage(
      'triples',
      'annotateRationale',
      { ...input.rationales, level: input.rationales.level ?? input.concepts.level },
      concepts.output,
    );
    progress.phase = 'done';
    view.memo({
      output: [concepts.output.manifest, triples.output.manifest],
      rejects: [...(seeds.rejects ? [seeds.rejects] : []), ...concepts.rejects, ...triples.rejects],
    });
    return { imported: seeds.imported, rejectedAtImport: seeds.rejected, concepts, triples };
  });
}
