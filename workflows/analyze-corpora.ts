// analyzeCorpora (spec §6): are a corpus' problems harder and more diverse than others'? Over two or more corpora:
//   prepare (every usable problem, a seeded uniform sample per corpus, near-duplicate counts, the embedder made
//   concrete; bad records to the rejects file) → difficulty: teacherReference (the teacher's boxed reference and its
//   tokens) → solveProblem (the solver, zero-shot) → scoreSolution (math verifier, or the sandbox on the tests) →
//   diversity: embedProblem over every problem → report (accuracy and tokens with CIs, the 1 − cos matrix of the
//   corpora's mean vectors, classical MDS, the scatter plot, reports/<name>/analysis.md and .json).
// Operable like the other pipelines: `pause` / `resume`, a failed step waits for `retryStep` or `abandon`, `status`
// and `progress` queries; every output has a deterministic name, so a re-run with the same name redoes nothing.
import { defineQuery, setHandler } from '@temporalio/workflow';
import type {
  createCorpusAnalysisPrepareActivities,
  PrepareCorpusAnalysisResult,
} from '../activities/analysis/prepare';
import type { createCorpusAnalysisSummaryActivities } from '../activities/analysis/summarize';
import {
  AnalyzeCorporaInputSchema,
  embedderKey,
  type AnalyzeCorporaInput,
  type AnalyzeCorporaParsed,
  type CorpusAnalysis,
} from '../domain/analyze-corpora';
import type { PipelineProgress } from '../domain/core/progress';
import type { StageResult } from '../domain/core/stage';
import { bookkeepingActivities, datasetActivities } from './bookkeeping';
import { followRun, runViewOf } from './run-view';
import { trackProgress } from './run-stage';
import { stepRunner, type StepStatus } from './steps';
import { parseWorkflowInput } from './validate';

export interface AnalyzeCorporaStatus extends StepStatus {
  paused: boolean;
  /** usable problems per corpus, once prepared */
  problems?: Record<string, number>;
  embedder?: string;
}

export interface AnalyzeCorporaResult {
  prepared: PrepareCorpusAnalysisResult;
  /** the difficulty stages (absent when disabled) */
  difficulty?: { reference: StageResult; solved: StageResult; scored: StageResult };
  embeddings?: StageResult;
  analysis: CorpusAnalysis;
}

export const analyzeCorporaStatusQuery = defineQuery<AnalyzeCorporaStatus>('status');

function who(o: { role: string; model?: string | undefined }): string {
  return o.model ? `${o.model} (role ${o.role})` : `role ${o.role}`;
}

export async function analyzeCorpora(raw: AnalyzeCorporaInput): Promise<AnalyzeCorporaResult> {
  const input: AnalyzeCorporaParsed = parseWorkflowInput(AnalyzeCorporaInputSchema, raw);
  const status: AnalyzeCorporaStatus = { step: 'start', paused: false };
  const progress: PipelineProgress = { pipeline: 'analyzeCorpora', phase: 'start', finishedStages: [], notes: [] };
  const runner = stepRunner(status, progress, input);
  const { step, stage } = runner;
  setHandler(analyzeCorporaStatusQuery, () => ({ ...status, paused: runner.paused }), {
    description: 'The step, a failed step, the problems per corpus and the embedder',
  });
  trackProgress(progress, { name: input.name });
  const view = runViewOf(progress)!;
  return followRun(progress, () => run());

  async function run(): Promise<AnalyzeCorporaResult> {
    const bookkeeping = bookkeepingActivities();
    const deployment = await bookkeeping.describeDeployment();
    view.useSearchAttributes(deployment.searchAttributes);
    const analysis = datasetActivities<
      ReturnType<typeof createCorpusAnalysisPrepareActivities> &
        ReturnType<typeof createCorpusAnalysisSummaryActivities>
    >(deployment.taskQueues.cpu);
    const d = input.difficulty;
    const v = input.diversity;
    const prepared = await step('prepare', () =>
      analysis.prepareCorpusAnalysis({
        name: input.name,
        corpora: input.corpora,
        seed: input.seed,
        sampleSize: d.enabled ? d.sampleSize : 0,
        ...(v.enabled ? { embedder: v.embedder } : {}),
        nearDuplicateThreshold: v.nearDuplicateThreshold,
        shardSize: input.shardSize,
        output: `${input.name}/problems`,
      }),
    );
    status.problems = Object.fromEntries(prepared.corpora.map((c) => [c.label, c.problems]));
    status.embedder = prepared.embedder?.description.kind;
    const rejects = prepared.rejects ? [prepared.rejects] : [];

    let difficulty: AnalyzeCorporaResult['difficulty'];
    if (d.enabled && prepared.sample) {
      const reference = await step('reference', () =>
        stage(
          'reference',
          'teacherReference',
          { ...d.teacher, seed: input.seed },
          prepared.sample!,
          `${input.name}/reference`,
        ),
      );
      const solved = await step('solve', () =>
        stage('solve', 'solveProblem', { ...d.solver, seed: input.seed }, reference.output, `${input.name}/solved`),
      );
      const scored = await step('score', () =>
        stage('score', 'scoreSolution', d.scorer, solved.output, `${input.name}/scored`, {
          itemConcurrency: input.scoreItemConcurrency,
        }),
      );
      difficulty = { reference, solved, scored };
      rejects.push(...reference.rejects, ...solved.rejects, ...scored.rejects);
      const lost = reference.counts.failed + solved.counts.failed + scored.counts.failed + scored.counts.rejected;
      if (lost > 0)
        progress.notes.push(`${lost} sampled problems could not be answered or scored: see the stages' rejects files`);
    }

    let embeddings: StageResult | undefined;
    if (v.enabled && prepared.embedder) {
      const spec = prepared.embedder.spec;
      embeddings = await step('embed', () =>
        stage(
          'embed',
          'embedProblem',
          { embedder: spec },
          prepared.problems,
          `${input.name}/embeddings/${embedderKey(spec)}`,
          {
            itemConcurrency: input.embedItemConcurrency,
          },
        ),
      );
      rejects.push(...embeddings.rejects);
    }

    const result = await step('report', () =>
      analysis.summarizeCorpusAnalysis({
        name: input.name,
        seed: input.seed,
        corpora: prepared.corpora,
        nearDuplicateThreshold: v.nearDuplicateThreshold,
        bootstrap: input.bootstrap,
        ...(difficulty
          ? {
              difficulty: {
                reference: difficulty.reference.output,
                scored: difficulty.scored.output,
                teacher: who(d.teacher),
                solver: who(d.solver),
                sampleSize: d.sampleSize,
              },
            }
          : {}),
        ...(embeddings && prepared.embedder
          ? {
              diversity: {
                embeddings: embeddings.output,
                embedder: prepared.embedder.description,
                pairwiseSample: v.pairwiseSample,
              },
            }
          : {}),
        output: `${input.name}/analysis`,
      }),
    );
    view.memo({
      output: prepared.problems.manifest,
      reports: [result.files.markdown, result.files.json, ...(result.files.plot ? [result.files.plot] : [])],
      rejects,
    });
    status.step = progress.phase = 'done';
    return { prepared, ...(difficulty ? { difficulty } : {}), ...(embeddings ? { embeddings } : {}), analysis: result };
  }
}
