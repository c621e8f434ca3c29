// evaluate (spec §5): models × benchmarks, every (model, benchmark, problem, run) one cell.
//   prepareEvaluation (the cells, bad benchmark lines set aside) → sampleCell over the inference queue (each cell
//   once: a retried shard asks only the missing cells; many evaluation workers share the cells) → scoreCell over
//   the sandbox queue into `scores/<scorer version>` (a changed scorer re-scores the same samples) →
//   summarizeEvaluation (metrics with confidence intervals, Codeforces Elo, paired differences, reports).
// Operable like the other pipelines: `pause` / `resume`, a failed step waits for `retryStep` or `abandon`, `status`
// and `progress` queries; every output has a deterministic name, so a re-run with the same name redoes nothing.
import { defineQuery, setHandler } from '@temporalio/workflow';
import type { createEvaluationPrepareActivities, PrepareEvaluationResult } from '../activities/eval/prepare';
import type { createEvaluationSummaryActivities, SummarizeEvaluationResult } from '../activities/eval/summarize';
import type { PipelineProgress } from '../domain/core/progress';
import {
  benchmarkName,
  EvaluateInputSchema,
  scorerVersion,
  type EvaluateInput,
  type EvaluateParsed,
} from '../domain/evaluate';
import { bookkeepingActivities, datasetActivities } from './bookkeeping';
import { followRun, runViewOf } from './run-view';
import { trackProgress } from './run-stage';
import { stepRunner, type StepStatus } from './steps';
import { parseWorkflowInput } from './validate';

export interface EvaluateStatus extends StepStatus {
  paused: boolean;
  scorer: string;
  cells?: number;
}

export interface EvaluateResult {
  scorer: string;
  prepared: PrepareEvaluationResult;
  summary: SummarizeEvaluationResult;
}

export const evaluateStatusQuery = defineQuery<EvaluateStatus>('status');

export async function evaluate(raw: EvaluateInput): Promise<EvaluateResult> {
  const input: EvaluateParsed = parseWorkflowInput(EvaluateInputSchema, raw);
  const version = scorerVersion(input.scorer);
  const status: EvaluateStatus = { step: 'start', paused: false, scorer: version };
  const progress: PipelineProgress = { pipeline: 'evaluate', phase: 'start', finishedStages: [], notes: [] };
  const runner = stepRunner(status, progress, input);
  const { step, stage } = runner;
  setHandler(evaluateStatusQuery, () => ({ ...status, paused: runner.paused }), {
    description: 'The step, a failed step, the scorer version and the number of cells',
  });
  trackProgress(progress, { name: input.name });
  const view = runViewOf(progress)!;
  return followRun(progress, () => run());

  async function run(): Promise<EvaluateResult> {
    const bookkeeping = bookkeepingActivities();
    const deployment = await bookkeeping.describeDeployment();
    view.useSearchAttributes(deployment.searchAttributes);
    const evaluation = datasetActivities<
      ReturnType<typeof createEvaluationPrepareActivities> & ReturnType<typeof createEvaluationSummaryActivities>
    >(deployment.taskQueues.cpu);
    const prepared = await step('prepare', () =>
      evaluation.prepareEvaluation({
        name: input.name,
        models: input.models,
        benchmarks: input.benchmarks,
        seed: input.seed,
        runs: input.runs,
        output: `${input.name}/cells`,
        shardSize: input.shardSize,
      }),
    );
    status.cells = prepared.cells.items;
    const samples = await step('sample', () =>
      stage('sample', 'sampleCell', input.sampling, prepared.cells, `${input.name}/samples`),
    );
    const scored = await step('score', () =>
      stage(
        'score',
        'scoreCell',
        { scorer: input.scorer, version },
        samples.output,
        `${input.name}/scores/${version}`,
        {
          itemConcurrency: input.scoreItemConcurrency,
        },
      ),
    );
    if (samples.counts.failed + scored.counts.failed + scored.counts.rejected > 0)
      progress.notes.push(
        `${samples.counts.failed} cells could not be sampled and ${scored.counts.failed + scored.counts.rejected} not scored: they are left out of the metrics (see the stages' rejects files)`,
      );
    const summary = await step('report', () =>
      evaluation.summarizeEvaluation({
        name: input.name,
        models: input.models,
        benchmarks: input.benchmarks.map(benchmarkName),
        scored: scored.output,
        samples: samples.output,
        mathMode: input.scorer.math,
        scorer: version,
        bootstrap: input.bootstrap,
        ...(input.codeforcesCache ? { codeforcesCache: input.codeforcesCache } : {}),
        output: `${input.name}/summary/${version}`,
      }),
    );
    view.memo({
      output: scored.output.manifest,
      reports: [summary.files.report, summary.files.metrics],
      rejects: [...(prepared.rejects ? [prepared.rejects] : []), ...samples.rejects, ...scored.rejects],
    });
    status.step = progress.phase = 'done';
    return { scorer: version, prepared, summary };
  }
}
