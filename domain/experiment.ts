// promptcotExperiment (the whole method as one graph): its input, the steps it runs and the input of each step's
// pipeline, and the budget rules. Pure: the workflow, the CLI and the tests use it.
//
// The graph: cold start (or given seed triples) -> EM iterations -> corpus synthesis per domain (or given corpora)
// -> the training prompts (corpus + extra open-source prompt files) -> self-play rounds and/or SFT distillation ->
// evaluation of the base model and of each trained one -> the report. Every step is the existing pipeline as a
// child, named `<name>/<step>`; what a step needs from earlier ones (triples, models, corpora) is passed on.
//
// Budgets (tokens per role and in all, wall clock) are checked before a step spends: its upper bound (requests x
// (prompt allowance + max tokens), per role, from the step's own input and the sizes known by then) against what is
// left. A step that does not fit holds the run, saying why, until `raiseBudget` makes room or `skipStep` skips it.
import { z } from 'zod';
import { AnalyzeCorporaInputSchema } from './analyze-corpora';
import { ColdStartInputSchema } from './cold-start';
import { DatasetNameSchema, DatasetRefSchema, type DatasetRef } from './core/dataset';
import { ModelVersionSchema, type ModelVersion } from './core/models';
import { MODEL_ROLES } from './core/roles';
import { describeZodError } from './core/validation';
import { EmInputSchema } from './em-rationale-loop';
import { EvaluateInputSchema, benchmarkName, defaultRuns, type Benchmark, type EvaluatedModel } from './evaluate';
import { SelfPlayInputSchema } from './self-play';
import { SftDistillInputSchema } from './sft-distill';
import { SynthesizeCorpusInputSchema } from './synthesize-corpus';
import { tokensByRole, spendTokens, type SpendEntry } from './core/spend';

export const EXPERIMENT_DOMAINS = ['math', 'code'] as const;
export type ExperimentDomain = (typeof EXPERIMENT_DOMAINS)[number];

/** A step's own settings: the fields of its pipeline's input that the experiment does not fill in itself. */
const StepSettingsSchema = z.record(z.string(), z.unknown());
/** `false`: the step does not run. */
const OptionalStepSchema = z.union([z.literal(false), StepSettingsSchema]);

const TokenCountSchema = z.number().int().nonnegative();

export const BudgetSchema = z
  .object({
    tokens: z
      .object({
        /** prompt + completion tokens of all roles together */
        total: TokenCountSchema.optional(),
        /** prompt + completion tokens per model role */
        roles: z.partialRecord(z.enum(MODEL_ROLES), TokenCountSchema).default({}),
      })
      .strict()
      .prefault({}),
    /** Hours from the experiment's first start (re-runs with the same name count on from there). */
    wallClockHours: z.number().positive().optional(),
    /** The prompt tokens a request is assumed to send when a step's cost is estimated before it runs. */
    promptTokensPerRequest: z.number().int().min(0).default(1024),
  })
  .strict();
export type Budget = z.output<typeof BudgetSchema>;
export type BudgetInput = z.input<typeof BudgetSchema>;

const ModelsSchema = z
  .object({
    rationaleModel: ModelVersionSchema.default({ version: 'initial' }),
    promptGenerator: ModelVersionSchema.default({ version: 'initial' }),
    policy: ModelVersionSchema.default({ version: 'initial' }),
    student: ModelVersionSchema.default({ version: 'initial' }),
  })
  .strict();

export const ExperimentInputSchema = z
  .object({
    name: DatasetNameSchema,
    seed: z.number().int().nonnegative().default(0),
    /** The corpora to synthesize (one synthesizeCorpus run per domain). */
    domains: z.array(z.enum(EXPERIMENT_DOMAINS)).min(1).default(['math']),
    /** The models each role starts from. */
    models: ModelsSchema.prefault({}),
    /** Seed problems (JSONL, `problem` per line) for the cold start; or `seedTriples` from an earlier run. */
    seedProblemFiles: z.array(z.string().min(1)).min(1).optional(),
    seedTriples: DatasetRefSchema.optional(),
    /** Concept records (JSONL) that synthesis uses instead of the triples' concepts (e.g. a larger concept pool). */
    conceptFiles: z.array(z.string().min(1)).min(1).optional(),
    /** coldStart's settings (concepts, rationales, …). */
    coldStart: StepSettingsSchema.default({}),
    /** emRationaleLoop's settings (iterations, k, warmStart, …); false: no EM, synthesis uses the given p_theta. */
    em: OptionalStepSchema.default({}),
    /** synthesizeCorpus's settings for every domain (passes, sampling, dedup, …), and per domain on top. */
    synthesis: StepSettingsSchema.default({}),
    synthesisByDomain: z.partialRecord(z.enum(EXPERIMENT_DOMAINS), StepSettingsSchema).default({}),
    /** Corpora given instead of synthesized (the step is skipped for that domain). */
    corpora: z.partialRecord(z.enum(EXPERIMENT_DOMAINS), DatasetRefSchema).default({}),
    /** Prompt files (self-play prompt records, e.g. open-source problems with answers) added to the corpora. */
    extraPromptFiles: z.array(z.string().min(1)).default([]),
    /** selfPlay's settings (rounds, k, rollouts, training, …); false: no self-play. */
    selfPlay: OptionalStepSchema.default(false),
    /** sftDistill's settings (teacher, filters, training, …); false: no SFT. */
    sft: OptionalStepSchema.default(false),
    /** evaluate's settings (benchmarks, runs, sampling, scorer, …); false: no evaluation. */
    evaluate: OptionalStepSchema.default(false),
    /**
     * analyzeCorpora's settings (difficulty, diversity, …): the experiment's corpora against `corpora` (open-source
     * sets, an earlier corpus, the benchmarks: `{label, files | dataset}`); false: no analysis.
     */
    analysis: OptionalStepSchema.default(false),
    budget: BudgetSchema.prefault({}),
    shardSize: z.number().int().min(1).max(100_000).default(500),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (v.seedProblemFiles && v.seedTriples)
      ctx.addIssue({
        code: 'custom',
        path: ['seedTriples'],
        message: 'give one of seedProblemFiles (a cold start runs) and seedTriples, not both',
      });
    const synthesized = v.domains.some((d) => !v.corpora[d]);
    if (synthesized && v.em !== false && !v.seedProblemFiles && !v.seedTriples)
      ctx.addIssue({
        code: 'custom',
        path: ['em'],
        message: 'the EM loop needs seed triples: give seedProblemFiles or seedTriples, or set em to false',
      });
    if (synthesized && !v.seedProblemFiles && !v.seedTriples && !v.conceptFiles)
      ctx.addIssue({
        code: 'custom',
        path: ['conceptFiles'],
        message:
          'synthesis needs concepts: give seedProblemFiles, seedTriples or conceptFiles (or a corpus per domain)',
      });
    // every step's pipeline input, built as the run will build it, must be valid now, not days into the run
    for (const plan of childPlans(v as ExperimentParsed)) {
      const r = plan.schema.safeParse(plan.input);
      if (!r.success)
        ctx.addIssue({
          code: 'custom',
          path: [plan.settingsField],
          message: `step ${plan.step} (${plan.pipeline}): ${describeZodError(r.error)}`,
        });
    }
  });
export type ExperimentInput = z.input<typeof ExperimentInputSchema>;
export type ExperimentParsed = z.output<typeof ExperimentInputSchema>;

export type ExperimentStepKind =
  'cold-start' | 'em' | 'synthesize' | 'analyze' | 'prompts' | 'self-play' | 'sft' | 'evaluate';

/** The steps of an experiment, in order (`report` always ends it). */
export function experimentSteps(input: ExperimentParsed): string[] {
  const steps: string[] = [];
  const synthesized = input.domains.filter((d) => !input.corpora[d]);
  const emRuns = input.em !== false && synthesized.length > 0;
  if (input.seedProblemFiles && (emRuns || (synthesized.length > 0 && !input.conceptFiles))) steps.push('cold-start');
  if (emRuns) steps.push('em');
  for (const d of synthesized) steps.push(`synthesize-${d}`);
  if (input.analysis !== false) steps.push('analyze');
  if (input.selfPlay !== false || input.sft !== false) steps.push('prompts');
  if (input.selfPlay !== false) steps.push('self-play');
  if (input.sft !== false) steps.push('sft');
  if (input.evaluate !== false) steps.push('evaluate');
  steps.push('report');
  return steps;
}

// ---- each step's pipeline input -----------------------------------------------------------------------------------

/** Stands for a dataset an earlier step makes, when inputs are checked before the run. */
const PLACEHOLDER: DatasetRef = {
  name: 'placeholder',
  manifest: 'datasets/placeholder/manifest.json',
  items: 0,
  shards: 0,
};

export function childName(input: Pick<ExperimentParsed, 'name'>, step: string): string {
  return `${input.name}/${step}`;
}

export function coldStartInput(input: ExperimentParsed): Record<string, unknown> {
  return {
    shardSize: input.shardSize,
    ...input.coldStart,
    name: childName(input, 'cold-start'),
    problemFiles: input.seedProblemFiles,
  };
}

export function emInput(input: ExperimentParsed, seedTriples: DatasetRef): Record<string, unknown> {
  const em = input.em === false ? {} : input.em;
  return {
    seed: input.seed,
    shardSize: input.shardSize,
    ...em,
    name: childName(input, 'em'),
    seedTriples,
    models: { rationaleModel: input.models.rationaleModel, promptGenerator: input.models.promptGenerator },
  };
}

/** The served model of a version, as the role-model-endpoint fields of a pipeline input. */
function servedAs(v: ModelVersion): { model?: string; endpoint?: string } {
  return { ...(v.model ? { model: v.model } : {}), ...(v.endpoint ? { endpoint: v.endpoint } : {}) };
}

export function synthesisInput(
  input: ExperimentParsed,
  domain: ExperimentDomain,
  concepts: DatasetRef,
  promptGenerator: ModelVersion,
): Record<string, unknown> {
  return {
    shardSize: input.shardSize,
    firstSeed: input.seed + 8000,
    mathFilters: domain === 'math',
    ...input.synthesis,
    ...input.synthesisByDomain[domain],
    name: childName(input, `synthesize-${domain}`),
    runKey: 'experiment',
    concepts,
    domain,
    role: 'promptGenerator',
    ...servedAs(promptGenerator),
  };
}

export function selfPlayInput(input: ExperimentParsed, prompts: DatasetRef): Record<string, unknown> {
  const settings = input.selfPlay === false ? {} : input.selfPlay;
  return {
    seed: input.seed,
    shardSize: input.shardSize,
    ...settings,
    name: childName(input, 'self-play'),
    prompts,
    policy: input.models.policy,
  };
}

export function sftInput(input: ExperimentParsed, prompts: DatasetRef): Record<string, unknown> {
  const settings = input.sft === false ? {} : input.sft;
  return {
    seed: input.seed,
    shardSize: input.shardSize,
    ...settings,
    name: childName(input, 'sft'),
    prompts,
    student: input.models.student,
  };
}

/** An evaluated model: its label in the report, and the version the step it came from made. */
export interface ExperimentModel {
  label: string;
  role: 'policy' | 'student';
  version: ModelVersion;
}

export function evaluatedModel(m: ExperimentModel): EvaluatedModel {
  return { label: m.label, role: m.role, version: m.version.version, ...servedAs(m.version) };
}

export function evaluateInput(input: ExperimentParsed, models: readonly ExperimentModel[]): Record<string, unknown> {
  const settings = input.evaluate === false ? {} : input.evaluate;
  return {
    seed: input.seed,
    ...settings,
    name: childName(input, 'evaluate'),
    models: models.map(evaluatedModel),
  };
}

/** The experiment's corpora (labelled `promptcot-<domain>`) first, then the corpora they are compared with. */
export function analysisInput(
  input: ExperimentParsed,
  corpora: ReadonlyArray<{ domain: ExperimentDomain; dataset: DatasetRef }>,
): Record<string, unknown> {
  const settings = input.analysis === false ? {} : input.analysis;
  const others = Array.isArray(settings.corpora) ? (settings.corpora as unknown[]) : [];
  return {
    seed: input.seed,
    ...settings,
    name: childName(input, 'analyze'),
    corpora: [
      ...corpora.map((c) => ({ label: `promptcot-${c.domain}`, dataset: c.dataset, domain: c.domain })),
      ...others,
    ],
  };
}

interface ChildPlan {
  step: string;
  pipeline: string;
  settingsField: string;
  schema: z.ZodType;
  input: Record<string, unknown>;
}

/** Every step's pipeline input with placeholders for what earlier steps make (for the check before the run). */
function childPlans(input: ExperimentParsed): ChildPlan[] {
  const plans: ChildPlan[] = [];
  const steps = experimentSteps(input);
  if (steps.includes('cold-start'))
    plans.push({
      step: 'cold-start',
      pipeline: 'coldStart',
      settingsField: 'coldStart',
      schema: ColdStartInputSchema,
      input: coldStartInput(input),
    });
  if (steps.includes('em'))
    plans.push({
      step: 'em',
      pipeline: 'emRationaleLoop',
      settingsField: 'em',
      schema: EmInputSchema,
      input: emInput(input, PLACEHOLDER),
    });
  for (const d of input.domains)
    if (steps.includes(`synthesize-${d}`))
      plans.push({
        step: `synthesize-${d}`,
        pipeline: 'synthesizeCorpus',
        settingsField: input.synthesisByDomain[d] ? `synthesisByDomain.${d}` : 'synthesis',
        schema: SynthesizeCorpusInputSchema,
        input: synthesisInput(input, d, PLACEHOLDER, input.models.promptGenerator),
      });
  if (steps.includes('analyze'))
    plans.push({
      step: 'analyze',
      pipeline: 'analyzeCorpora',
      settingsField: 'analysis',
      schema: AnalyzeCorporaInputSchema,
      input: analysisInput(
        input,
        input.domains.map((domain) => ({ domain, dataset: input.corpora[domain] ?? PLACEHOLDER })),
      ),
    });
  if (steps.includes('self-play'))
    plans.push({
      step: 'self-play',
      pipeline: 'selfPlay',
      settingsField: 'selfPlay',
      schema: SelfPlayInputSchema,
      input: selfPlayInput(input, PLACEHOLDER),
    });
  if (steps.includes('sft'))
    plans.push({
      step: 'sft',
      pipeline: 'sftDistill',
      settingsField: 'sft',
      schema: SftDistillInputSchema,
      input: sftInput(input, PLACEHOLDER),
    });
  if (steps.includes('evaluate'))
    plans.push({
      step: 'evaluate',
      pipeline: 'evaluate',
      settingsField: 'evaluate',
      schema: EvaluateInputSchema,
      input: evaluateInput(input, [{ label: 'base', role: 'policy', version: input.models.policy }]),
    });
  return plans;
}

// ---- budgets ------------------------------------------------------------------------------------------------------

/** Tokens a step may spend at most, per role: requests x (prompt allowance + max tokens). */
export type TokenEstimate = Record<string, number>;

function charge(into: TokenEstimate, role: string, requests: number, maxTokens: number, promptTokens: number): void {
  if (requests <= 0) return;
  into[role] = (into[role] ?? 0) + Math.ceil(requests) * (promptTokens + maxTokens);
}

type Settings = Record<string, unknown>;
const num = (v: unknown, fallback: number): number => (typeof v === 'number' ? v : fallback);
const obj = (v: unknown): Settings => (typeof v === 'object' && v !== null ? (v as Settings) : {});

/**
 * The most a step may spend, per role, from its pipeline's parsed input and the items it will see (seed problems,
 * triples, concepts, prompts; benchmark problems by name). Upper bounds: every request is taken to send the
 * prompt allowance and to use all its max tokens.
 */
export function estimateStep(
  kind: ExperimentStepKind,
  parsed: Settings,
  items: number,
  promptTokens: number,
  benchmarkProblems: Record<string, number> = {},
): TokenEstimate {
  const e: TokenEstimate = {};
  switch (kind) {
    case 'cold-start': {
      // each annotation step asks its annotators (or its one role) once per seed problem; with several annotators
      // and policy `one`, any of them may get every problem, so each is charged for all (an upper bound per role)
      for (const params of [obj(parsed.concepts), obj(parsed.rationales)]) {
        const annotators = (params.annotators as Array<{ role?: string }> | undefined) ?? [
          { role: String(params.role ?? 'rationaleModel') },
        ];
        for (const a of annotators)
          charge(e, String(a.role ?? 'rationaleModel'), items, num(params.maxTokens, 2048), promptTokens);
      }
      break;
    }
    case 'em': {
      const iterations = num(parsed.iterations, 3);
      const k = num(parsed.k, 8);
      const maxTokens = num(parsed.maxTokens, 2048);
      // E-step sampling and the M-step decode by q_phi; the scoring by p_theta sends prompt + candidate, no output
      charge(e, 'rationaleModel', items * iterations * (k + 1), maxTokens, promptTokens);
      charge(e, 'promptGenerator', items * iterations * k, maxTokens, promptTokens);
      break;
    }
    case 'synthesize': {
      const sampling = obj(parsed.sampling);
      charge(
        e,
        String(parsed.role ?? 'promptGenerator'),
        items * num(parsed.passes, 64),
        num(sampling.maxTokens, 4096),
        promptTokens,
      );
      break;
    }
    case 'self-play': {
      const rounds = num(parsed.rounds, 1);
      const rollouts = obj(parsed.rollouts);
      const tests = obj(parsed.testCases);
      const answers = obj(parsed.mathAnswers);
      charge(e, 'policy', items * rounds * num(parsed.k, 8), num(rollouts.maxTokens, 32768), promptTokens);
      charge(
        e,
        String(tests.role ?? 'testCaseWriter'),
        items * num(tests.n, 1),
        num(tests.maxTokens, 16384),
        promptTokens,
      );
      charge(
        e,
        String(answers.role ?? 'policy'),
        items * num(answers.n, 8),
        num(answers.maxTokens, 16384),
        promptTokens,
      );
      break;
    }
    case 'sft': {
      const teacher = obj(parsed.teacher);
      charge(
        e,
        String(teacher.role ?? 'teacher'),
        items * num(teacher.n, 1),
        num(teacher.maxTokens, 16384),
        promptTokens,
      );
      break;
    }
    case 'evaluate': {
      const runs = obj(parsed.runs);
      const sampling = obj(parsed.sampling);
      const defaults = { math: num(runs.math, 16), codeforces: num(runs.codeforces, 8), code: num(runs.code, 1) };
      const benchmarks = (parsed.benchmarks as Benchmark[] | undefined) ?? [];
      const models = (parsed.models as Array<{ role?: string }> | undefined) ?? [];
      for (const m of models)
        for (const b of benchmarks)
          charge(
            e,
            m.role ?? 'policy',
            (benchmarkProblems[benchmarkName(b)] ?? 0) * defaultRuns(b, defaults),
            num(sampling.maxTokens, 32768),
            promptTokens,
          );
      break;
    }
    case 'analyze': {
      // teacher references and solver answers for a sample of each corpus (a smaller corpus is taken whole)
      const difficulty = obj(parsed.difficulty);
      if (difficulty.enabled === false) break;
      const corpora = (parsed.corpora as unknown[] | undefined)?.length ?? 0;
      const sample = num(difficulty.sampleSize, 1000) * corpora;
      const teacher = obj(difficulty.teacher);
      const solver = obj(difficulty.solver);
      charge(e, String(teacher.role ?? 'teacher'), sample, num(teacher.maxTokens, 65536), promptTokens);
      charge(e, String(solver.role ?? 'solver'), sample, num(solver.maxTokens, 8192), promptTokens);
      break;
    }
    case 'prompts':
      break;
  }
  return e;
}

/**
 * Why a step may not start now (undefined: it may): a role's or the total token budget would be exceeded by the
 * step's estimate on top of what was spent, or the wall-clock budget is used up.
 */
export function budgetShortfall(
  budget: Budget,
  spent: readonly SpendEntry[],
  estimate: TokenEstimate,
  elapsedHours: number,
): string | undefined {
  const reasons: string[] = [];
  if (budget.wallClockHours !== undefined && elapsedHours >= budget.wallClockHours)
    reasons.push(
      `the wall-clock budget of ${budget.wallClockHours} h is used up (${elapsedHours.toFixed(2)} h since the first start)`,
    );
  const byRole = tokensByRole(spent);
  for (const [role, limit] of Object.entries(budget.tokens.roles)) {
    const need = estimate[role] ?? 0;
    if (need > 0 && (byRole[role] ?? 0) + need > limit!)
      reasons.push(
        `role ${role}: up to ${need} tokens needed, ${Math.max(0, limit! - (byRole[role] ?? 0))} of its budget ${limit} left`,
      );
  }
  if (budget.tokens.total !== undefined) {
    const need = Object.values(estimate).reduce((a, b) => a + b, 0);
    const used = spendTokens(spent);
    if (need > 0 && used + need > budget.tokens.total)
      reasons.push(
        `in all: up to ${need} tokens needed, ${Math.max(0, budget.tokens.total - used)} of the total budget ${budget.tokens.total} left`,
      );
  }
  return reasons.length > 0 ? reasons.join('; ') : undefined;
}

/** A budget raised by the `raiseBudget` signal: the given limits replace the old ones (roles one by one). */
export const BudgetRaiseSchema = z
  .object({
    tokens: z
      .object({
        total: TokenCountSchema.optional(),
        roles: z.partialRecord(z.enum(MODEL_ROLES), TokenCountSchema).optional(),
      })
      .strict()
      .optional(),
    wallClockHours: z.number().positive().optional(),
  })
  .strict();
export type BudgetRaise = z.infer<typeof BudgetRaiseSchema>;

export function raiseBudget(budget: Budget, raise: BudgetRaise): Budget {
  return {
    ...budget,
    ...(raise.wallClockHours !== undefined ? { wallClockHours: raise.wallClockHours } : {}),
    tokens: {
      total: raise.tokens?.total ?? budget.tokens.total,
      roles: { ...budget.tokens.roles, ...raise.tokens?.roles },
    },
  };
}
