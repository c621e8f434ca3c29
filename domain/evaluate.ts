// Evaluation (spec §5): the workflow input, the benchmarks it addresses, the cells of a run and their scores, and
// the version of the scorer. Deterministic and free of I/O: the workflow imports it too.
//
// A cell is one (model, benchmark, problem, run) with seed = seed + run. Cells are sampled once (a re-run or a
// retried shard asks only the missing ones) and scored by a scorer version: a changed scorer (mode, time limit, or
// SCORER_REVISION after a change of its code) scores the same samples into a new dataset without sampling again.
import { z } from 'zod';
import { declareOperation } from './core/operation';
import { DatasetNameSchema } from './core/dataset';
import { shardSizeField, STAGE_RUN_FIELDS } from './core/fragments';
import { hashToSeed } from './core/seeds';
import { MODEL_ROLES } from './core/roles';
import { maxTokensField, temperatureField, topPField } from './core/sampling';

/** The benchmarks shipped in data/benchmarks, by name. */
export const SHIPPED_BENCHMARKS = ['aime24', 'aime25', 'hmmt25', 'codeforces'] as const;
export type ShippedBenchmark = (typeof SHIPPED_BENCHMARKS)[number];

/** Bumped whenever the scoring code changes what a verdict is: scores of an older revision are not reused. */
export const SCORER_REVISION = 1;

const BenchmarkNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]*$/, 'lower-case letters, digits, ".", "_" and "-"')
  .max(64);

export const BenchmarkSchema = z.union([
  z.enum(SHIPPED_BENCHMARKS),
  z
    .object({
      /** LiveCodeBench in its published layout: the problems file and a folder of `{global_id}.json` test files. */
      name: z.enum(['lcb-v5', 'lcb-v6']),
      file: z.string().min(1),
      testsDir: z.string().min(1),
      runs: z.number().int().min(1).max(256).optional(),
    })
    .strict(),
  z
    .object({
      /** A user's JSONL: `prompt` and `answer` (math) or `input_output` (code) per line, `id` optional. */
      name: BenchmarkNameSchema,
      kind: z.enum(['math', 'code']),
      file: z.string().min(1),
      runs: z.number().int().min(1).max(256).optional(),
    })
    .strict(),
]);
export type Benchmark = z.output<typeof BenchmarkSchema>;

export function benchmarkName(b: Benchmark): string {
  return typeof b === 'string' ? b : b.name;
}

export function benchmarkKind(b: Benchmark): 'math' | 'code' {
  if (typeof b === 'string') return b === 'codeforces' ? 'code' : 'math';
  return 'kind' in b ? b.kind : 'code';
}

/** Runs per problem (spec §5.2): 16 for math, 8 for Codeforces, 1 for LiveCodeBench and other code sets. */
export function defaultRuns(b: Benchmark, runs: { math: number; codeforces: number; code: number }): number {
  if (typeof b !== 'string' && b.runs !== undefined) return b.runs;
  if (b === 'codeforces') return runs.codeforces;
  return benchmarkKind(b) === 'math' ? runs.math : runs.code;
}

export const EvaluatedModelSchema = z
  .object({
    /** The model's name in the report (unique in the run), e.g. `policy-round-2`. */
    label: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, ".", "_" and "-"')
      .max(64),
    role: z.enum(MODEL_ROLES).default('policy'),
    /** Overrides the role's model name (a LoRA name, a served model). */
    model: z.string().min(1).optional(),
    /** Another server (e.g. the one a trainer started), by base URL. */
    endpoint: z.url().optional(),
    /** The version it names (a trained model's version); shown in the report. */
    version: z.string().min(1).optional(),
  })
  .strict();
export type EvaluatedModel = z.output<typeof EvaluatedModelSchema>;

export const ScorerSchema = z
  .object({
    /** strict: the last `\boxed{}` after `</think>`; qwen-parity: the published scorer (whole text, last number). Both are reported. */
    math: z.enum(['strict', 'qwen-parity']).default('strict'),
    /** Seconds per test (LiveCodeBench rule: every test must pass; the published limit is 30 s). */
    timeLimitSeconds: z.number().positive().max(600).default(30),
  })
  .strict();
export type Scorer = z.output<typeof ScorerSchema>;

export const EvaluateInputSchema = z
  .object({
    name: DatasetNameSchema,
    models: z.array(EvaluatedModelSchema).min(1),
    benchmarks: z.array(BenchmarkSchema).min(1),
    /** Run r of a problem is sampled with seed + r. */
    seed: z.number().int().nonnegative().default(0),
    runs: z
      .object({
        math: z.number().int().min(1).max(256).default(16),
        codeforces: z.number().int().min(1).max(256).default(8),
        code: z.number().int().min(1).max(256).default(1),
      })
      .strict()
      .prefault({}),
    sampling: z
      .object({
        temperature: temperatureField(0.6),
        topP: topPField(0.95),
        /** Output tokens per sample (the paper: 81,920 with YaRN); set what the server allows. */
        maxTokens: maxTokensField(32768),
      })
      .strict()
      .prefault({}),
    scorer: ScorerSchema.prefault({}),
    /** Codeforces standings and rating changes (`npm run cli -- codeforces-cache`); without it no Elo. */
    codeforcesCache: z.string().min(1).optional(),
    bootstrap: z
      .object({ samples: z.number().int().min(100).max(100_000).default(1000), seed: z.number().int().default(0) })
      .strict()
      .prefault({}),
    shardSize: shardSizeField(64),
    maxConcurrentShards: STAGE_RUN_FIELDS.maxConcurrentShards,
    itemConcurrency: STAGE_RUN_FIELDS.itemConcurrency,
    /** Cells scored at once per shard (sandbox work is CPU-bound). */
    scoreItemConcurrency: z.number().int().min(1).max(256).default(4),
    heartbeatTimeoutSeconds: STAGE_RUN_FIELDS.heartbeatTimeoutSeconds,
  })
  .strict()
  .superRefine((v, ctx) => {
    const labels = new Set<string>();
    v.models.forEach((m, i) => {
      if (labels.has(m.label))
        ctx.addIssue({ code: 'custom', path: ['models', i, 'label'], message: `label "${m.label}" is used twice` });
      labels.add(m.label);
    });
    const names = new Set<string>();
    v.benchmarks.forEach((b, i) => {
      const name = benchmarkName(b);
      if (names.has(name))
        ctx.addIssue({ code: 'custom', path: ['benchmarks', i], message: `benchmark "${name}" is given twice` });
      names.add(name);
    });
  });
export type EvaluateInput = z.input<typeof EvaluateInputSchema>;
export type EvaluateParsed = z.output<typeof EvaluateInputSchema>;

/** The scorer's version: its settings and the code revision; scores are kept per version. */
export function scorerVersion(scorer: Scorer): string {
  return `v${SCORER_REVISION}-${hashToSeed(JSON.stringify({ math: scorer.math, t: scorer.timeLimitSeconds })).toString(36)}`;
}

// ---- records

/** Where a code problem's tests are: a line of a JSONL with `input_output`, or a LiveCodeBench test file. */
export const TestsRefSchema = z.union([
  z.object({ kind: z.literal('line'), file: z.string(), index: z.number().int().nonnegative() }).strict(),
  z.object({ kind: z.literal('file'), file: z.string(), md5: z.string() }).strict(),
]);
export type TestsRef = z.infer<typeof TestsRefSchema>;

/** One cell: what is asked and what it is scored against. */
export const EvalCellSchema = z
  .object({
    id: z.string(),
    /** the model's label, and where its requests go */
    model: z.string(),
    target: z
      .object({ role: z.enum(MODEL_ROLES), model: z.string().optional(), endpoint: z.string().optional() })
      .strict(),
    benchmark: z.string(),
    kind: z.enum(['math', 'code']),
    problem: z.string(),
    run: z.number().int().nonnegative(),
    seed: z.number().int().nonnegative(),
    /** true: a pre-templated prompt, sent raw to /v1/completions; false: the user message of a chat request. */
    templated: z.boolean(),
    prompt: z.string(),
    answer: z.string().optional(),
    tests: TestsRefSchema.optional(),
    fnName: z.string().optional(),
    /** Codeforces: the problem id (e.g. 1971A) that groups problems into contests for the Elo estimate. */
    problemId: z.string().optional(),
  })
  .strict();
export type EvalCell = z.infer<typeof EvalCellSchema>;

export const SampledCellSchema = EvalCellSchema.extend({
  completion: z.string(),
  finishReason: z.string().nullable(),
  outputTokens: z.number().int().nonnegative(),
  promptTokens: z.number().int().nonnegative(),
  servedBy: z.string(),
  latencyMs: z.number().nonnegative(),
  attempt: z.number().int().positive(),
}).strict();
export type SampledCell = z.infer<typeof SampledCellSchema>;

const NOT_SAMPLED = 'not a sampled cell (run sampleCell first)';
export const SampledCellItemSchema = SampledCellSchema.extend({
  completion: z.string({ error: NOT_SAMPLED }),
}).loose();

export const MathVerdictSchema = z.object({ correct: z.boolean(), extracted: z.string() }).strict();

export const ScoredCellSchema = z
  .object({
    id: z.string(),
    model: z.string(),
    benchmark: z.string(),
    kind: z.enum(['math', 'code']),
    problem: z.string(),
    run: z.number().int().nonnegative(),
    seed: z.number().int().nonnegative(),
    problemId: z.string().optional(),
    correct: z.boolean(),
    answered: z.boolean(),
    truncated: z.boolean(),
    outputTokens: z.number().int().nonnegative(),
    latencyMs: z.number().nonnegative(),
    reason: z.string(),
    /** math: both modes, the primary one decides `correct` */
    strict: MathVerdictSchema.optional(),
    parity: MathVerdictSchema.optional(),
    tests: z.object({ passed: z.number().int(), total: z.number().int() }).strict().optional(),
    scorer: z.string(),
  })
  .strict();
export type ScoredCell = z.infer<typeof ScoredCellSchema>;

export const SampleCellParamsSchema = z
  .object({
    temperature: temperatureField(0.6),
    topP: topPField(0.95),
    maxTokens: maxTokensField(32768),
  })
  .strict();

export const ScoreCellParamsSchema = z.object({ scorer: ScorerSchema.prefault({}), version: z.string() }).strict();

export const SampleCellOperation = declareOperation({
  name: 'sampleCell',
  queue: 'inference',
  description: 'one sample of a (model, benchmark, problem, run) cell, raw completion for templated prompts or chat',
  params: SampleCellParamsSchema,
  item: EvalCellSchema,
  row: SampledCellSchema,
});

export const ScoreCellOperation = declareOperation({
  name: 'scoreCell',
  queue: 'sandbox',
  description: 'the verdict of one sampled cell: math verifier (strict and qwen-parity) or the sandbox on every test',
  params: ScoreCellParamsSchema,
  item: SampledCellItemSchema,
  row: ScoredCellSchema,
});
