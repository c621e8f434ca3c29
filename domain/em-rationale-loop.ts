// The EM rationale loop (spec §1.2–1.5): schemas of its input and state, the sequences both models are trained and
// scored on, the E-step reward and best-of-K selection, and the per-iteration metrics. Pure: used by the workflow.
//
// Decisions where the spec says UNSPECIFIED or INFERRED (documented in the README too):
// - Training formats. q_φ(z|c,x): prompt = the cold-start rationale prompt over (x, c, level) (spec §1.4, the
//   prompt the seed rationales were written for), completion = `Thinking Process: {z}`. p_θ(z,x|c): prompt = the
//   1.0 concept prompt (spec §2.1), completion = `\n` + the marker format `<!-- BEGIN RATIONALE --> z ... PROBLEM -->`.
// - Reward. R(c,x,z) = log p_θ(z|c) + log p_θ(x|z,c), both from ONE teacher-forced scoring request of p_θ on
//   prompt + completion: the sums of token log-probs over the character span of z and of x (markers and
//   whitespace between them are not part of either span: they are the same for every candidate).
// - Selection. `criterion: 'sum'` (default, the paper's joint log-likelihood) takes argmax R; since a raw sum
//   favours short rationales, `'perToken'` takes argmax of R / (tokens of z + tokens of x) instead. Ties go to the
//   lowest sample index k, so the choice is deterministic; a candidate that could not be parsed or scored never wins.
// - Convergence. Stop after `iterations`, or earlier when the mean selected R improved by less than
//   `minImprovement` over the previous iteration (R is a log-likelihood, so this is in nats).
import { z } from 'zod';
import { maxTokensField, temperatureField } from './core/sampling';
import { roleModelEndpointFields, shardSizeField, STAGE_RUN_FIELDS } from './core/fragments';
import { declareOperation } from './core/operation';
import { ModelVersionSchema, type ModelVersion } from './core/models';
import { MODEL_ROLES } from './core/roles';
import { DatasetNameSchema, DatasetRefSchema } from './core/dataset';
import { formatGeneration } from './synthesize-corpus';
import { ColdStartInputSchema } from './cold-start';

export const EM_ROLES = [
  'rationaleModel',
  'promptGenerator',
] as const satisfies readonly (typeof MODEL_ROLES)[number][];
export type EmRole = (typeof EM_ROLES)[number];

const HyperparametersSchema = z.record(z.string(), z.union([z.number(), z.string(), z.boolean()]));

export const EmInputSchema = z
  .object({
    name: DatasetNameSchema,
    /** Seed triples (c, z, x) from an earlier coldStart run; else `coldStart` builds them first. */
    seedTriples: DatasetRefSchema.optional(),
    coldStart: ColdStartInputSchema.optional(),
    /** The models at the start (after cold start, before the warm start), per role. */
    models: z.object({ rationaleModel: ModelVersionSchema, promptGenerator: ModelVersionSchema }).strict(),
    /** Warm-start SFT of both models on the seed triples (spec §1.4: lr 2e-5, batch 16, 2 epochs). */
    warmStart: z.boolean().default(true),
    iterations: z.number().int().min(1).max(1000).default(3),
    minImprovement: z.number().min(0).optional(),
    /** Rationales sampled from q_φ per (c, x) in the E-step, and their temperature (spec §1.5: 8, 1.0). */
    k: z.number().int().min(1).max(64).default(8),
    temperature: temperatureField(1),
    maxTokens: maxTokensField(2048),
    criterion: z.enum(['sum', 'perToken']).default('sum'),
    seed: z.number().int().nonnegative().default(0),
    hyperparameters: z
      .object({
        warmStart: HyperparametersSchema.default({ learningRate: 2e-5, batchSize: 16, epochs: 2 }),
        eStep: HyperparametersSchema.default({ learningRate: 2e-6, batchSize: 16, epochs: 1 }),
        mStep: HyperparametersSchema.default({ learningRate: 2e-6, batchSize: 16, epochs: 1 }),
      })
      .strict()
      .prefault({}),
    shardSize: shardSizeField(500),
    ...STAGE_RUN_FIELDS,
  })
  .strict()
  .superRefine((v, ctx) => {
    if (!v.seedTriples && !v.coldStart)
      ctx.addIssue({ code: 'custom', path: ['seedTriples'], message: 'give seedTriples, or coldStart to build them' });
  });
export type EmInput = z.input<typeof EmInputSchema>;
export type EmParsed = z.output<typeof EmInputSchema>;

/** Parameters of the E-step sampling and M-step decoding operations (q_φ over (c, x)). */
export const SampleRationalesParamsSchema = z
  .object({
    ...roleModelEndpointFields('rationaleModel'),
    k: z.number().int().min(1).max(64).default(8),
    temperature: temperatureField(1),
    maxTokens: maxTokensField(2048),
    seed: z.number().int().nonnegative().default(0),
    /** 'candidates': one row per sample (E-step); 'triple': the single decoded rationale as the new triple (M-step). */
    output: z.enum(['candidates', 'triple']).default('candidates'),
  })
  .strict();
export type SampleRationalesParams = z.output<typeof SampleRationalesParamsSchema>;

/** Parameters of the scoring operation (p_θ teacher-forced on one candidate). */
export const ScoreRationaleParamsSchema = z
  .object({
    ...roleModelEndpointFields('promptGenerator'),
  })
  .strict();
export type ScoreRationaleParams = z.output<typeof ScoreRationaleParamsSchema>;

// ---- training and scoring sequences

export const THINKING_PREFIX = 'Thinking Process: ';

/** q_φ's training completion for rationale z. */
export function rationaleCompletion(rationale: string): string {
  return `${THINKING_PREFIX}${rationale}`;
}

/** p_θ's training completion for (z, x), which follows the concept prompt directly. */
export function generationCompletion(rationale: string, problem: string): string {
  return `\n${formatGeneration(rationale, problem)}`;
}

export interface CharSpan {
  start: number;
  end: number;
}

/** The text p_θ is scored on (prompt + completion) and the character spans of z and of x in it. */
export function scoringSequence(
  prompt: string,
  rationale: string,
  problem: string,
): { text: string; rationale: CharSpan; problem: CharSpan } {
  const text = prompt + generationCompletion(rationale, problem);
  // offsets from the format itself (never by searching for the texts: z could occur in a marker, x inside z)
  const SENTINEL = '\u0000';
  const zStart = prompt.length + generationCompletion(SENTINEL, problem).indexOf(SENTINEL);
  const xStart = prompt.length + generationCompletion(rationale, SENTINEL).lastIndexOf(SENTINEL);
  return {
    text,
    rationale: { start: zStart, end: zStart + rationale.length },
    problem: { start: xStart, end: xStart + problem.length },
  };
}

// ---- E-step selection

export interface ScoredCandidate {
  k: number;
  rationale: string;
  /** log p_θ(z|c) and log p_θ(x|z,c); absent when the candidate could not be scored */
  logpZ?: number;
  logpX?: number;
  tokensZ?: number;
  tokensX?: number;
}

export function reward(c: ScoredCandidate): number | undefined {
  return c.logpZ === undefined || c.logpX === undefined ? undefined : c.logpZ + c.logpX;
}

function criterionValue(c: ScoredCandidate, criterion: EmParsed['criterion']): number | undefined {
  const r = reward(c);
  if (r === undefined || !Number.isFinite(r)) return undefined;
  if (criterion === 'sum') return r;
  const tokens = (c.tokensZ ?? 0) + (c.tokensX ?? 0);
  return tokens > 0 ? r / tokens : undefined;
}

/** z* = argmax over the scored candidates (ties → lowest k); undefined when none was scored. */
export function selectBest(
  candidates: readonly ScoredCandidate[],
  criterion: EmParsed['criterion'],
): ScoredCandidate | undefined {
  let best: { c: ScoredCandidate; v: number } | undefined;
  for (const c of [...candidates].sort((a, b) => a.k - b.k)) {
    const v = criterionValue(c, criterion);
    if (v === undefined) continue;
    if (!best || v > best.v) best = { c, v };
  }
  return best?.c;
}

// ---- metrics

export interface EStepMetrics {
  items: number;
  /** items with no scored candidate: their previous rationale is kept */
  unscored: number;
  candidates: number;
  meanReward: number;
  medianReward: number;
  /** mean over items of −log p_θ(x|z*,c) / tokens of x */
  meanNllPerTokenX: number;
  /** share of items whose selected rationale differs from the one they had */
  changedFraction: number;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

export interface IterationRecord {
  iteration: number;
  eStep: EStepMetrics;
  /** model versions each step used and produced */
  models: {
    sampledWith: ModelVersion;
    scoredWith: ModelVersion;
    rationaleModel: ModelVersion;
    decodedWith: ModelVersion;
    promptGenerator: ModelVersion;
  };
  datasets: { candidates: string; scored: string; selected: string; decoded: string };
}

/** True when the loop should stop after `history` (count reached, or the mean reward stopped improving). */
export function converged(
  history: readonly IterationRecord[],
  input: Pick<EmParsed, 'iterations' | 'minImprovement'>,
): boolean {
  if (history.length >= input.iterations) return true;
  if (input.minImprovement === undefined || history.length < 2) return false;
  const [prev, last] = history.slice(-2) as [IterationRecord, IterationRecord];
  return last.eStep.meanReward - prev.eStep.meanReward < input.minImprovement;
}

// ---- item operations of the loop (activities/em-rationale-loop/operations.ts)

/** A triple (c, x, level) with its current rationale z, when it has one. */
export const TripleSchema = z
  .object({
    id: z.string().min(1),
    foundational_concepts: z.array(z.string().trim().min(1)).min(1),
    level: z.string().trim().min(1),
    problem: z.string().trim().min(1),
    rationale: z.string().optional(),
  })
  .loose();
export type Triple = z.infer<typeof TripleSchema>;

/** One of the K sampled rationales of a triple (E-step). */
export const CandidateSchema = TripleSchema.extend({
  itemId: z.string().min(1),
  k: z.number().int().nonnegative(),
  rationale: z.string().nullable(),
});

const SampleProvenanceSchema = z.object({ model: z.string(), usage: z.unknown(), attempt: z.number() }).loose();

/** sampleRationales' rows: K candidates (E-step), or one greedily decoded triple with its target (M-step). */
export const SampledRationaleRowSchema = z.union([
  z
    .object({
      id: z.string(),
      itemId: z.string(),
      k: z.number().int().nonnegative(),
      foundational_concepts: z.array(z.string()),
      level: z.string(),
      problem: z.string(),
      previousRationale: z.string().nullable(),
      rationale: z.string().nullable(),
      provenance: SampleProvenanceSchema,
    })
    .strict(),
  z
    .object({
      id: z.string(),
      foundational_concepts: z.array(z.string()),
      level: z.string(),
      problem: z.string(),
      rationale: z.string(),
      target: z.string(),
      decodeFailed: z.boolean(),
      provenance: SampleProvenanceSchema,
    })
    .strict(),
]);

/** A candidate with its reward R = log p(z|c) + log p(x|z,c), or marked as not scored. */
export const ScoredRationaleRowSchema = z.union([
  CandidateSchema.extend({ scored: z.literal(false), scoreError: z.string() }),
  CandidateSchema.extend({
    scored: z.literal(true),
    logpZ: z.number(),
    logpX: z.number(),
    reward: z.number(),
    tokensZ: z.number().int().nonnegative(),
    tokensX: z.number().int().nonnegative(),
    scoredWith: z.string(),
  }),
]);

export const SampleRationalesOperation = declareOperation({
  name: 'sampleRationales',
  queue: 'inference',
  description: 'q_phi(z|c,x) over one triple: K samples (E-step) or one greedy decode (M-step)',
  params: SampleRationalesParamsSchema,
  item: TripleSchema,
  row: SampledRationaleRowSchema,
});

export const ScoreRationaleOperation = declareOperation({
  name: 'scoreRationale',
  queue: 'inference',
  description: 'R(c,x,z) of one candidate from one teacher-forced scoring request of p_theta',
  params: ScoreRationaleParamsSchema,
  item: CandidateSchema,
  row: ScoredRationaleRowSchema,
});
