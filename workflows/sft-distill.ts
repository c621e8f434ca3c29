// sftDistill (spec §4): teacher-distilled traces for supervised fine-tuning of the student.
//   import (bad lines set aside) → prepareSftPrompt (domain, user message, n cells per prompt) → teacherTrajectory
//   (one trace per cell) → filterTrace (normalise, code / math / length filters) → assembleSftDataset (one row per
//   unique formatted prompt, seeded shuffle, Parquet, dataset card, report) → SFT of the student by the external
//   trainer → activateModel, so the student can be evaluated next.
// Every step has a deterministic name (stage child ids, dataset names, the training job), so a retried step or a
// re-run with the same name redoes nothing that finished; a stage retried after a crash re-asks only the cells no
// earlier attempt finished. Operable: `pause` / `resume`, a failed step waits for `retryStep` or `abandon`, a
// `status` and a `progress` query.
import { defineQuery, setHandler } from '@temporalio/workflow';
import type { AssembleSftResult, SftActivities } from '../activities/sft/assemble';
import type { DatasetRef } from '../domain/core/dataset';
import type { ModelVersion } from '../domain/core/models';
import type { PipelineProgress } from '../domain/core/progress';
import { SftDistillInputSchema, type SftDistillInput, type SftDistillParsed } from '../domain/sft-distill';
import { bookkeepingActivities, datasetActivities, pipelinePrompts } from './bookkeeping';
import { followRun, runViewOf } from './run-view';
import { trackProgress } from './run-stage';
import { baseOf, stepRunner, trainingActivities, type StepStatus } from './steps';
import { parseWorkflowInput } from './validate';

export interface SftDistillStatus extends StepStatus {
  paused: boolean;
  summary?: AssembleSftResult['summary'];
  student: ModelVersion;
}

export interface SftDistillResult {
  dataset: DatasetRef;
  report: string;
  summary: AssembleSftResult['summary'];
  /** The student after SFT (the one given when training is disabled). */
  student: ModelVersion;
  training: 'trained' | 'disabled' | 'no-rows';
}

export const sftDistillStatusQuery = defineQuery<SftDistillStatus>('status');

export async function sftDistill(raw: SftDistillInput): Promise<SftDistillResult> {
  const input: SftDistillParsed = parseWorkflowInput(SftDistillInputSchema, raw);
  const status: SftDistillStatus = { step: 'start', paused: false, student: input.student };
  const progress: PipelineProgress = { pipeline: 'sftDistill', phase: 'start', finishedStages: [], notes: [] };
  const runner = stepRunner(status, progress, input);
  const { step, stage } = runner;
  setHandler(sftDistillStatusQuery, () => ({ ...status, paused: runner.paused }), {
    description: 'The step, a failed step, the dataset summary (kept, dropped per rule) and the student',
  });
  trackProgress(progress, { name: input.name });
  const view = runViewOf(progress)!;
  return followRun(progress, () => distill());

  async function distill(): Promise<SftDistillResult> {
    const bookkeeping = bookkeepingActivities();
    const deployment = await bookkeeping.describeDeployment();
    view.useSearchAttributes(deployment.searchAttributes);
    const { taskQueues } = deployment;
    const sft = datasetActivities<SftActivities>(taskQueues.cpu);
    const training = trainingActivities(taskQueues.training);
    const n = input.teacher.n;

    const given = await pipelinePrompts(step, input, bookkeeping);
    const { lines } = given;
    const rejects: Array<{ file: string; cellsPerLine: number }> = given.rejects
      ? [{ file: given.rejects, cellsPerLine: n }]
      : [];
    const cells = await step('prepare', () =>
      stage(
        'prepare',
        'prepareSftPrompt',
        { n, ...(input.domain ? { domain: input.domain } : {}) },
        given.dataset,
        `${input.name}/cells`,
      ),
    );
    const traces = await step('teacher', () =>
      stage(
        'teacher',
        'teacherTrajectory',
        { seed: input.seed, teacher: input.teacher },
        cells.output,
        `${input.name}/teacher`,
      ),
    );
    const filtered = await step('filter', () =>
      stage('filter', 'filterTrace', input.filters, traces.output, `${input.name}/traces`),
    );
    rejects.push(
      ...cells.rejects.map((file) => ({ file, cellsPerLine: n })),
      ...traces.rejects.map((file) => ({ file, cellsPerLine: 1 })),
      ...filtered.rejects.map((file) => ({ file, cellsPerLine: 1 })),
    );
    const assembled = await step('dataset', () =>
      sft.assembleSftDataset({
        name: input.name,
        seed: input.seed,
        n,
        lines,
        traces: filtered.output,
        output: `${input.name}/sft`,
        rejects,
        shardSize: input.shardSize,
        parquet: input.parquet,
        maxLen: input.filters.maxLen,
        card: {
          source: input.promptFiles ? input.promptFiles.join(', ') : `dataset ${input.prompts!.name}`,
          teacher: {
            role: input.teacher.role,
            ...(input.teacher.model ? { model: input.teacher.model } : {}),
            n,
            temperature: input.teacher.temperature,
            topP: input.teacher.topP,
            maxTokens: input.teacher.maxTokens,
            ...(input.teacher.reasoningEffort ? { reasoningEffort: input.teacher.reasoningEffort } : {}),
          },
          seed: input.seed,
          filters: {
            traceFormat: input.filters.traceFormat,
            maxLen: input.filters.maxLen,
            minLen: input.filters.minLen,
            verifyMath: input.filters.verifyMath,
          },
        },
      }),
    );
    status.summary = assembled.summary;
    if (!assembled.summary.addsUp) progress.notes.push(`the report's counts do not add up (see ${assembled.report})`);
    view.memo({ output: assembled.dataset.manifest, reports: [assembled.report], rejects: rejects.map((r) => r.file) });
    const done = (student: ModelVersion, outcome: SftDistillResult['training']): SftDistillResult => {
      status.step = progress.phase = 'done';
      status.student = student;
      return {
        dataset: assembled.dataset,
        report: assembled.report,
        summary: assembled.summary,
        student,
        training: outcome,
      };
    };
    if (!input.training.enabled) return done(input.student, 'disabled');
    if (assembled.summary.kept === 0) {
      progress.notes.push('no rows kept, so no training; the student stays');
      return done(input.student, 'no-rows');
    }
    const job = `${input.name}/student`;
    const trained = await step(
      'train',
      () =>
        training.train({
          job,
          kind: 'sft',
          role: 'student',
          base: baseOf(input.student),
          data: assembled.dataset,
          hyperparameters: input.training.hyperparameters,
        }),
      job,
    );
    const student = await step('activate', () => training.activateModel({ role: 'student', trained }));
    return done(student, 'trained');
  }
}
