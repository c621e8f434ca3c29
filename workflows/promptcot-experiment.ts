// promptcotExperiment: the whole PromptCoT 2.0 method as one durable graph (domain/experiment.ts):
//   cold start -> EM iterations -> corpus synthesis per domain -> training prompts -> self-play and/or SFT ->
//   evaluation of the base model and each trained one -> the report (Markdown, HTML, PNG plots).
// Each step is the existing pipeline as a child workflow `<workflow id>/<step>`, its datasets named
// `<name>/<step>/…`. A finished step is recorded in the experiment's ledger (store: experiments/<name>/steps/), so a
// re-run with the same name starts at the first unfinished step and redoes no finished one; inside an unfinished
// step the pipelines reuse their finished stages and shards as always.
// Budgets: before a step spends, its upper-bound token estimate per role is checked against what is left (and the
// wall clock against its budget); a step that does not fit holds the run, with the reason in the current details,
// until `raiseBudget` (JSON of new limits) or `skipStep` (the step's name). Spend per step, role and model (and
// cost, with endpoint prices) is summed from what the stages recorded. Operable like the pipelines: `pause`,
// `resume`, `retryStep`, `abandon`, and the `status` / `progress` queries.
import {
  ApplicationFailure,
  condition,
  defineQuery,
  defineSignal,
  executeChild,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { z } from 'zod';
import type { ExperimentLedgerActivities, Ledger, StepRecord } from '../activities/experiment/ledger';
import type { ExperimentPromptActivities, TrainingPromptsResult } from '../activities/experiment/prompts';
import type { ExperimentReportActivities, ExperimentReportResult } from '../activities/experiment/report';
import { AnalyzeCorporaInputSchema } from '../domain/analyze-corpora';
import { ColdStartInputSchema } from '../domain/cold-start';
import type { DatasetRef } from '../domain/core/dataset';
import type { ModelVersion } from '../domain/core/models';
import type { PipelineProgress } from '../domain/core/progress';
import { signalHint, runSummary } from '../domain/core/run-view';
import { hashToSeed } from '../domain/core/seeds';
import { addSpend, spendTokens, type SpendEntry } from '../domain/core/spend';
import { EmInputSchema } from '../domain/em-rationale-loop';
import { EvaluateInputSchema, type Benchmark } from '../domain/evaluate';
import {
  analysisInput,
  BudgetRaiseSchema,
  budgetShortfall,
  childName,
  coldStartInput,
  emInput,
  estimateStep,
  evaluateInput,
  experimentSteps,
  ExperimentInputSchema,
  raiseBudget,
  selfPlayInput,
  sftInput,
  synthesisInput,
  type Budget,
  type BudgetRaise,
  type ExperimentDomain,
  type ExperimentInput,
  type ExperimentModel,
  type ExperimentParsed,
  type ExperimentStepKind,
  type TokenEstimate,
} from '../domain/experiment';
import { SelfPlayInputSchema } from '../domain/self-play';
import { SftDistillInputSchema } from '../domain/sft-distill';
import { SynthesizeCorpusInputSchema, type SynthesisResult } from '../domain/synthesize-corpus';
import { bookkeepingActivities, datasetActivities } from './bookkeeping';
import { parseIsoTime, workflowNow, workflowNowIso } from './clock';
import { analyzeCorpora, type AnalyzeCorporaResult } from './analyze-corpora';
import { coldStart, type ColdStartResult } from './cold-start';
import { emRationaleLoop, type EmResult } from './em-rationale-loop';
import { evaluate, type EvaluateResult } from './evaluate';
import { followRun, runViewOf } from './run-view';
import { trackProgress } from './run-stage';
import { selfPlay } from './self-play';
import { sftDistill } from './sft-distill';
import { stepRunner, type StepStatus } from './steps';
import { synthesizeCorpus } from './synthesize-corpus';
import { parseWorkflowInput } from './validate';

export type ExperimentStepState = 'waiting' | 'running' | 'done' | 'reused' | 'skipped' | 'held';

export interface ExperimentStepView {
  step: string;
  state: ExperimentStepState;
  /** why it was skipped or is held */
  reason?: string;
  /** prompt + completion tokens it spent */
  tokens?: number;
}

export interface ExperimentStatus extends StepStatus {
  paused: boolean;
  steps: ExperimentStepView[];
  budget: Budget;
  /** spend so far, by role, endpoint and model */
  spent: SpendEntry[];
  /** the step the budget holds, with why */
  budgetHold?: { step: string; reason: string; estimate: TokenEstimate };
}

export interface ExperimentResult {
  steps: ExperimentStepView[];
  /** steps an earlier run of this experiment had finished, taken from its ledger */
  reusedSteps: string[];
  spent: SpendEntry[];
  report: ExperimentReportResult;
  models: ExperimentModel[];
}

export const experimentStatusQuery = defineQuery<ExperimentStatus>('status');
export const raiseBudgetSignal = defineSignal<[BudgetRaise]>('raiseBudget');
export const skipStepSignal = defineSignal<[string]>('skipStep');

type ExperimentActivities = ExperimentLedgerActivities & ExperimentPromptActivities & ExperimentReportActivities;

/** A step's settings, hashed: a re-run whose step would get another input is refused, not mixed with the old one. */
function inputHash(value: unknown): string {
  return hashToSeed(JSON.stringify(value ?? null)).toString(16);
}

export async function promptcotExperiment(raw: ExperimentInput): Promise<ExperimentResult> {
  const input: ExperimentParsed = parseWorkflowInput(ExperimentInputSchema, raw);
  const wf = workflowInfo().workflowId;
  const planned = experimentSteps(input);
  const skipRequests = new Set<string>();
  let budgetVersion = 0;
  const status: ExperimentStatus = {
    step: 'start',
    paused: false,
    steps: planned.map((step) => ({ step, state: 'waiting' })),
    budget: input.budget,
    spent: [],
  };
  const progress: PipelineProgress = {
    pipeline: 'promptcotExperiment',
    phase: 'start',
    finishedStages: [],
    notes: [],
    graph: status.steps,
  };
  const runner = stepRunner(status, progress, {
    maxConcurrentShards: 8,
    itemConcurrency: 16,
    heartbeatTimeoutSeconds: 60,
  });
  setHandler(experimentStatusQuery, () => ({ ...status, paused: runner.paused }), {
    description: 'Every step and its state, the budget, the spend so far, and the step a budget holds (with why)',
  });
  setHandler(
    raiseBudgetSignal,
    (raise) => {
      const parsed = BudgetRaiseSchema.safeParse(raise);
      if (!parsed.success) {
        progress.notes.push(`raiseBudget ignored: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
        return;
      }
      status.budget = raiseBudget(status.budget, parsed.data);
      budgetVersion++;
      progress.notes.push(`budget raised: ${JSON.stringify(parsed.data)}`);
    },
    { description: 'New limits (JSON: {"tokens": {"total": N, "roles": {"teacher": N}}, "wallClockHours": H})' },
  );
  setHandler(
    skipStepSignal,
    (step) => {
      skipRequests.add(String(step));
      budgetVersion++;
    },
    { description: 'Skips a step (by name) that has not started: a step the budget holds, or a later one' },
  );
  trackProgress(progress, { name: input.name });
  const view = runViewOf(progress)!;
  return followRun(progress, () => run());

  async function run(): Promise<ExperimentResult> {
    const bookkeeping = bookkeepingActivities();
    const deployment = await bookkeeping.describeDeployment();
    view.useSearchAttributes(deployment.searchAttributes);
    const exp = datasetActivities<ExperimentActivities>(deployment.taskQueues.cpu, '2 hours');
    const ledger: Ledger = await exp.openLedger({ name: input.name, now: workflowNowIso() });
    const firstStart = parseIsoTime(ledger.startedAt);
    for (const r of Object.values(ledger.steps)) addSpend(status.spent, r.spend);
    const reusedSteps: string[] = [];
    const records: Record<string, StepRecord> = {};

    const viewOf = (step: string) => status.steps.find((s) => s.step === step)!;
    const mark = (step: string, state: ExperimentStepState, extra: Partial<ExperimentStepView> = {}) => {
      Object.assign(viewOf(step), { state, ...extra });
      view.update();
    };

    /** Waits until the budget lets the step start, or it is skipped; returns 'skip' for a skipped step. */
    async function budgetGate(step: string, estimate: TokenEstimate): Promise<'go' | 'skip'> {
      for (;;) {
        if (skipRequests.has(step)) return 'skip';
        const reason = budgetShortfall(status.budget, status.spent, estimate, (workflowNow() - firstStart) / 3_600_000);
        if (!reason) {
          status.budgetHold = undefined;
          return 'go';
        }
        status.budgetHold = { step, reason, estimate };
        mark(step, 'held', { reason });
        progress.notes.push(`step ${step} held by the budget: ${reason}`);
        view.state = 'paused';
        view.waitingFor = `the budget: step \`${step}\` would exceed it (${reason}). ${signalHint(wf, 'raiseBudget')} \`'{"tokens":{"total":N}}'\` raises it, or ${signalHint(wf, 'skipStep')} \`'"${step}"'\` skips the step.`;
        view.update();
        const seen = budgetVersion;
        await condition(() => budgetVersion !== seen);
        view.state = 'running';
        view.waitingFor = undefined;
      }
    }

    async function record(step: string, r: Omit<StepRecord, 'step' | 'finishedAt'>): Promise<StepRecord> {
      const done = await exp.recordStep({
        name: input.name,
        record: { step, ...r, finishedAt: workflowNowIso() },
      });
      records[step] = done;
      return done;
    }

    /**
     * One step: taken from the ledger when an earlier run finished it; else its budget is checked, it runs (a failed
     * step waits for retryStep or abandon), its spend is summed, and it is recorded.
     */
    async function stepOf<T>(
      step: string,
      spec: {
        kind: ExperimentStepKind;
        schema?: z.ZodType;
        input: Record<string, unknown>;
        /** the items the step's estimate counts (seed problems, triples, concepts, prompts) */
        items?: () => Promise<number> | number;
        benchmarks?: Benchmark[];
        run: () => Promise<T>;
      },
    ): Promise<T | undefined> {
      const hash = inputHash(spec.input);
      const before = ledger.steps[step];
      if (before) {
        if (before.inputHash !== hash)
          throw ApplicationFailure.nonRetryable(
            `step ${step} of experiment ${input.name} finished earlier with another input; start the experiment under a new name, or give that step's output in the input`,
            'InvalidInput',
          );
        records[step] = before;
        reusedSteps.push(step);
        mark(step, before.status === 'done' ? 'reused' : 'skipped', {
          ...(before.reason ? { reason: before.reason } : {}),
          tokens: spendTokens(before.spend),
        });
        return before.status === 'done' ? (before.result as T) : undefined;
      }
      if (skipRequests.has(step)) {
        await record(step, { inputHash: hash, status: 'skipped', reason: 'skipStep signal', spend: [] });
        mark(step, 'skipped', { reason: 'skipStep signal' });
        return undefined;
      }
      let estimate: TokenEstimate = {};
      if (spec.schema) {
        const parsed = spec.schema.parse(spec.input) as Record<string, unknown>;
        const sizes = spec.benchmarks
          ? await exp.stepSizes({ benchmarks: spec.benchmarks })
          : { lines: 0, benchmarkProblems: {} };
        const items = spec.items ? await spec.items() : 0;
        estimate = estimateStep(
          spec.kind,
          parsed,
          items,
          status.budget.promptTokensPerRequest,
          sizes.benchmarkProblems,
        );
      }
      if ((await budgetGate(step, estimate)) === 'skip') {
        await record(step, { inputHash: hash, status: 'skipped', reason: 'skipStep signal', spend: [], estimate });
        mark(step, 'skipped', { reason: 'skipStep signal (held by the budget)' });
        return undefined;
      }
      const startedAt = workflowNowIso();
      mark(step, 'running', { reason: undefined });
      const result = await runner.step(step, spec.run);
      const spend = await exp.stepSpend({ prefix: childName(input, step) });
      addSpend(status.spent, spend);
      await record(step, { inputHash: hash, status: 'done', result, spend, estimate, startedAt });
      mark(step, 'done', { tokens: spendTokens(spend) });
      return result;
    }

    /** A pipeline as the step's child: `<workflow id>/<step>`, its one-line summary naming this run. */
    const child = <R>(step: string, workflow: string, fn: (arg: never) => Promise<R>, args: Record<string, unknown>) =>
      executeChild(fn as (arg: Record<string, unknown>) => Promise<R>, {
        workflowId: `${wf}/${step}`,
        staticSummary: `${runSummary(workflow, args)} · step ${step} of promptcotExperiment ${input.name}`,
        args: [args],
      });

    /** A step that cannot run because an earlier one was skipped: recorded as skipped, with why. */
    async function cannotRun(step: string, reason: string): Promise<undefined> {
      if (!ledger.steps[step]) await record(step, { inputHash: inputHash(null), status: 'skipped', reason, spend: [] });
      mark(step, 'skipped', { reason });
      progress.notes.push(`step ${step} skipped: ${reason}`);
      return undefined;
    }

    // cold start: seed problems -> concepts -> rationales (the seed triples)
    let triples: DatasetRef | undefined = input.seedTriples;
    let cold: ColdStartResult | undefined;
    if (planned.includes('cold-start')) {
      const args = coldStartInput(input);
      cold = await stepOf('cold-start', {
        kind: 'cold-start',
        schema: ColdStartInputSchema,
        input: args,
        items: async () => (await exp.stepSizes({ files: input.seedProblemFiles })).lines,
        run: () => child('cold-start', 'coldStart', coldStart, args),
      });
      triples = cold?.triples.output;
    }

    // EM: the rationale model and p_theta refined on the triples; p_theta then writes the corpora
    let promptGenerator: ModelVersion = input.models.promptGenerator;
    let em: EmResult | undefined;
    if (planned.includes('em')) {
      if (!triples) await cannotRun('em', 'no seed triples (the cold start was skipped)');
      else {
        const args = emInput(input, triples);
        em = await stepOf('em', {
          kind: 'em',
          schema: EmInputSchema,
          input: args,
          items: () => triples!.items,
          run: () => child('em', 'emRationaleLoop', emRationaleLoop, args),
        });
        if (em) {
          promptGenerator = em.models.promptGenerator;
          triples = em.triples;
        }
      }
    }

    // corpora: synthesized per domain from the concept files or the triples' concepts, or given
    const concepts: DatasetRef | undefined = input.conceptFiles
      ? (
          await bookkeeping.importDataset({
            files: input.conceptFiles,
            name: childName(input, 'concepts'),
            shardSize: input.shardSize,
            schema: 'concept',
          })
        ).dataset
      : triples;
    const corpora: Array<{ domain: ExperimentDomain; dataset: DatasetRef; synthesis?: SynthesisResult }> = [];
    for (const domain of input.domains) {
      const given = input.corpora[domain];
      if (given) {
        corpora.push({ domain, dataset: given });
        continue;
      }
      const step = `synthesize-${domain}`;
      if (!concepts) {
        await cannotRun(step, 'no concepts (no seed triples)');
        continue;
      }
      const args = synthesisInput(input, domain, concepts, promptGenerator);
      const synthesis = await stepOf(step, {
        kind: 'synthesize',
        schema: SynthesizeCorpusInputSchema,
        input: args,
        items: () => concepts.items,
        run: () => child(step, 'synthesizeCorpus', synthesizeCorpus, args),
      });
      if (synthesis) corpora.push({ domain, dataset: synthesis.corpus, synthesis });
    }

    // the corpus analyses: the experiment's corpora against the others (difficulty, diversity)
    let analyzed: AnalyzeCorporaResult | undefined;
    if (planned.includes('analyze')) {
      // an empty corpus (nothing synthesized survived) has nothing to measure: the others are still compared
      const measurable = corpora.filter((c) => c.dataset.items > 0);
      const args = analysisInput(input, measurable);
      for (const c of corpora)
        if (c.dataset.items === 0) progress.notes.push(`analyze: corpus ${c.domain} is empty and left out`);
      if ((args.corpora as unknown[]).length < 2) await cannotRun('analyze', 'fewer than two non-empty corpora');
      else {
        analyzed = await stepOf('analyze', {
          kind: 'analyze',
          schema: AnalyzeCorporaInputSchema,
          input: args,
          run: () => child('analyze', 'analyzeCorpora', analyzeCorpora, args),
        });
      }
    }

    // the training prompts: the corpora as prompt records, and the extra prompt files
    let prompts: TrainingPromptsResult | undefined;
    let promptRejects: string | undefined;
    if (planned.includes('prompts')) {
      const args = {
        corpora: corpora.map((c) => ({ domain: c.domain, dataset: c.dataset })),
        extra: input.extraPromptFiles,
      };
      prompts = await stepOf('prompts', {
        kind: 'prompts',
        input: args,
        run: async () => {
          const extra =
            input.extraPromptFiles.length > 0
              ? await bookkeeping.importDataset({
                  files: input.extraPromptFiles,
                  name: `${childName(input, 'prompts')}/extra`,
                  shardSize: input.shardSize,
                  schema: 'selfPlayPrompt',
                })
              : undefined;
          promptRejects = extra?.rejects;
          const built = await exp.buildTrainingPrompts({
            corpora: args.corpora,
            ...(extra ? { extra: extra.dataset } : {}),
            output: `${childName(input, 'prompts')}/all`,
            shardSize: input.shardSize,
          });
          return { ...built, ...(extra?.rejects ? { rejects: extra.rejects } : {}) };
        },
      });
      if (prompts)
        view.memo({ output: prompts.dataset.manifest, ...(promptRejects ? { rejects: [promptRejects] } : {}) });
    }

    const models: ExperimentModel[] = [{ label: 'base', role: 'policy', version: input.models.policy }];
    /** A step that trains on the training prompts (self-play, SFT): it cannot run without them. */
    async function onPrompts<R>(
      step: 'self-play' | 'sft',
      pipeline: string,
      schema: z.ZodType,
      build: (input: ExperimentParsed, prompts: DatasetRef) => Record<string, unknown>,
      fn: (arg: never) => Promise<R>,
    ): Promise<R | undefined> {
      if (!planned.includes(step)) return undefined;
      if (!prompts || prompts.dataset.items === 0)
        return cannotRun(step, prompts ? 'no training prompts' : 'no training prompts (the prompts step was skipped)');
      const dataset = prompts.dataset;
      const args = build(input, dataset);
      return stepOf(step, {
        kind: step,
        schema,
        input: args,
        items: () => dataset.items,
        run: () => child(step, pipeline, fn, args),
      });
    }
    const selfPlayed = await onPrompts('self-play', 'selfPlay', SelfPlayInputSchema, selfPlayInput, selfPlay);
    if (selfPlayed && selfPlayed.rounds.some((r) => r.trained))
      models.push({ label: 'self-play', role: 'policy', version: selfPlayed.policy });
    const distilled = await onPrompts('sft', 'sftDistill', SftDistillInputSchema, sftInput, sftDistill);
    if (distilled?.training === 'trained') models.push({ label: 'sft', role: 'student', version: distilled.student });

    let evaluated: EvaluateResult | undefined;
    if (planned.includes('evaluate')) {
      const args = evaluateInput(input, models);
      const parsed = EvaluateInputSchema.parse(args);
      evaluated = await stepOf('evaluate', {
        kind: 'evaluate',
        schema: EvaluateInputSchema,
        input: args,
        benchmarks: parsed.benchmarks,
        run: () => child('evaluate', 'evaluate', evaluate, args),
      });
    }

    // the report: every step's outcome, the curves and tables, the spend
    status.step = progress.phase = 'report';
    mark('report', 'running');
    const report = await runner.step('report', () =>
      exp.writeExperimentReport({
        name: input.name,
        workflowId: wf,
        steps: status.steps.filter((s) => s.step !== 'report'),
        records,
        budget: status.budget,
        spent: status.spent,
        em,
        cold,
        corpora: corpora.map((c) => ({
          domain: c.domain,
          dataset: c.dataset,
          ...(c.synthesis ? { synthesis: c.synthesis } : {}),
        })),
        prompts,
        selfPlay: selfPlayed,
        sft: distilled,
        evaluation: evaluated,
        ...(analyzed ? { analysis: analyzed.analysis } : {}),
        models,
      }),
    );
    mark('report', 'done');
    view.memo({ reports: [report.markdown, report.html] });
    status.step = progress.phase = 'done';
    return { steps: status.steps, reusedSteps, spent: status.spent, report, models };
  }
}
