// Problem synthesis (spec §2): concept records, the synthesizeCorpus input, and the pure text rules of the method:
// rationale/problem markers, concept-list and thinking-process parsing, and the math filters.
import { z } from 'zod';
import { maxTokensField, temperatureField, topPField } from './core/sampling';
import { roleModelEndpointFields, shardSizeField, STAGE_RUN_FIELDS } from './core/fragments';
import { declareOperation } from './core/operation';
import { DatasetNameSchema, DatasetRefSchema, type DatasetRef } from './core/dataset';
import type { PipelineProgress } from './core/progress';

export const DomainSchema = z.enum(['code', 'math']);
export type Domain = z.infer<typeof DomainSchema>;

const conceptList = z.array(z.string().trim().min(1)).min(1).max(50);

/**
 * One line of a concept file. The published files feed `prompt` raw; other copies carry `foundational_concepts`
 * (or `concepts`) and `level`, from which the prompt is built with the problem-generation template.
 */
export const ConceptRecordSchema = z
  .object({
    id: z.union([z.string().min(1), z.number()]).optional(),
    prompt: z.string().trim().min(1).optional(),
    foundational_concepts: conceptList.optional(),
    concepts: conceptList.optional(),
    level: z.string().trim().min(1).optional(),
  })
  .loose()
  .superRefine((r, ctx) => {
    if (r.prompt === undefined && r.foundational_concepts === undefined && r.concepts === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['prompt'],
        message: 'a concept record needs `prompt` or `foundational_concepts`',
      });
    }
    if (r.prompt === undefined && r.level === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['level'],
        message: 'needed to build the prompt when there is no `prompt`',
      });
    }
  });
export type ConceptRecord = z.infer<typeof ConceptRecordSchema>;

export const SynthesisSamplingSchema = z
  .object({
    temperature: temperatureField(0.8),
    topP: topPField(),
    maxTokens: maxTokensField(4096),
  })
  .strict();

export const SynthesizeCorpusInputSchema = z
  .object({
    /** Corpus name: datasets live under `<name>/<runKey>/…`; the dedup index under `<name>` is shared by all runs. */
    name: DatasetNameSchema,
    /** Names this run's datasets; defaults to the workflow id. Re-running with the same runKey resumes. */
    runKey: z
      .string()
      .regex(/^[A-Za-z0-9._-]+$/)
      .max(200)
      .optional(),
    /** Concept record JSONL files (imported first, bad lines set aside), or `concepts`: a dataset of them. */
    conceptFiles: z.array(z.string().min(1)).min(1).optional(),
    concepts: DatasetRefSchema.optional(),
    domain: DomainSchema,
    /** Sampling passes over the concept file (one completion per concept record per pass). */
    passes: z.number().int().min(1).max(1024).default(64),
    /** Seed of pass i is firstSeed + i ('fixed', as published: 8000..8063), or derived from the runKey ('run'). */
    seeds: z.enum(['fixed', 'run']).default('fixed'),
    firstSeed: z.number().int().nonnegative().default(8000),
    sampling: SynthesisSamplingSchema.prefault({}),
    ...roleModelEndpointFields('promptGenerator'),
    dedup: z
      .object({
        threshold: z.number().gt(0).lt(1).default(0.2),
        minWordLength: z.number().int().min(1).max(20).default(4),
      })
      .strict()
      .prefault({}),
    /** Drop math problems without a usable answer (proofs, "the following conditions", …; spec §3.5). */
    mathFilters: z.boolean().default(false),
    shardSize: shardSizeField(1000),
    maxConcurrentPasses: z.number().int().min(1).max(64).default(2),
    ...STAGE_RUN_FIELDS,
  })
  .strict()
  .superRefine((v, ctx) => {
    if (!v.conceptFiles === !v.concepts)
      ctx.addIssue({
        code: 'custom',
        path: ['conceptFiles'],
        message: 'give exactly one of conceptFiles and concepts',
      });
  });
export type SynthesizeCorpusInput = z.input<typeof SynthesizeCorpusInputSchema>;
export type SynthesizeCorpusParsed = z.output<typeof SynthesizeCorpusInputSchema>;

/** Parameters of the generateProblem item operation (one sampling pass). */
export const GenerateProblemParamsSchema = z
  .object({
    ...roleModelEndpointFields('promptGenerator'),
    domain: DomainSchema,
    pass: z.number().int().nonnegative(),
    seed: z.number().int().nonnegative(),
    temperature: temperatureField(0.8),
    topP: topPField(),
    maxTokens: maxTokensField(4096),
    mathFilters: z.boolean().default(false),
  })
  .strict();
export type GenerateProblemParams = z.output<typeof GenerateProblemParamsSchema>;

export interface PassProgress {
  pass: number;
  seed: number;
  status: 'waiting' | 'generating' | 'generated' | 'deduplicating' | 'done';
  /** Concept records sampled, generations parsed, set aside (unparseable, filtered), failed, duplicates, kept. */
  generated: number;
  parsed: number;
  rejected: number;
  failed: number;
  duplicates: number;
  kept: number;
}

export interface SynthesisProgress extends PipelineProgress {
  runKey: string;
  passes: PassProgress[];
}

export interface SynthesisResult {
  runKey: string;
  concepts: { dataset: DatasetRef; imported: number; rejected: number; rejects?: string };
  /** The deduplicated, formatted corpus (all passes). */
  corpus: DatasetRef;
  totals: {
    generated: number;
    parsed: number;
    /** Unparseable or filtered out. */ rejected: number;
    failed: number;
    exactDuplicates: number;
    nearDuplicates: number;
    kept: number;
  };
  passes: Array<Pick<PassProgress, 'pass' | 'seed' | 'generated' | 'parsed' | 'rejected' | 'duplicates' | 'kept'>>;
  /** Rejects files of the dedup step (duplicates, with what they duplicate). */
  rejects: string[];
}

export function passSeed(
  input: Pick<SynthesizeCorpusParsed, 'seeds' | 'firstSeed'>,
  runKey: string,
  pass: number,
  hash: (s: string) => number,
): number {
  return input.seeds === 'fixed' ? input.firstSeed + pass : hash(`${runKey}\u0000pass\u0000${pass}`);
}

export function passLabel(pass: number): string {
  return `pass-${String(pass).padStart(3, '0')}`;
}

// ---- p_θ output: <!-- BEGIN RATIONALE --> z <!-- END RATIONALE --> <!-- BEGIN PROBLEM --> x <!-- END PROBLEM -->

const MARKERS = {
  rationale: ['<!-- BEGIN RATIONALE -->', '<!-- END RATIONALE -->'],
  problem: ['<!-- BEGIN PROBLEM -->', '<!-- END PROBLEM -->'],
} as const;

/**
 * The published `extract_problem_and_rationale`: both markers must occur; the block is what follows the first begin
 * marker up to the next begin or end marker (`text.split(begin)[1].split(end)[0].strip()`), so a repeated begin
 * marker is not part of the block.
 */
function between(text: string, [begin, end]: readonly [string, string]): string | undefined {
  if (!text.includes(begin) || !text.includes(end)) return undefined;
  const from = text.indexOf(begin) + begin.length;
  let to = text.length;
  const nextBegin = text.indexOf(begin, from);
  if (nextBegin >= 0) to = nextBegin;
  const endAt = text.slice(from, to).indexOf(end);
  if (endAt >= 0) to = from + endAt;
  return text.slice(from, to).trim();
}

export type ParsedGeneration = { ok: true; rationale: string; problem: string } | { ok: false; reason: string };

/** The rationale and problem blocks of a generation; a missing marker or an empty block is the reason to drop it. */
export function parseGeneration(completion: string): ParsedGeneration {
  const rationale = between(completion, MARKERS.rationale);
  const problem = between(completion, MARKERS.problem);
  const missing = [rationale === undefined ? 'RATIONALE' : '', problem === undefined ? 'PROBLEM' : ''].filter(Boolean);
  if (missing.length > 0)
    return { ok: false, reason: `unparseable generation: no complete ${missing.join(' / ')} block` };
  if (problem === '') return { ok: false, reason: 'unparseable generation: empty PROBLEM block' };
  if (rationale === '') return { ok: false, reason: 'unparseable generation: empty RATIONALE block' };
  return { ok: true, rationale: rationale!, problem: problem! };
}

/** The training sequence of p_θ for a (concepts, rationale, problem) triple, in the marker format. */
export function formatGeneration(rationale: string, problem: string): string {
  return `${MARKERS.rationale[0]} ${rationale} ${MARKERS.rationale[1]}\n${MARKERS.problem[0]} ${problem} ${MARKERS.problem[1]}`;
}

// ---- math filters (spec §3.5 step 3: problems without a usable final answer)

const MATH_FILTER_PHRASES = [
  'the following conditions:\nPlease reason step by step',
  'the following properties:\nPlease reason step by step',
  'solution to\nPlease reason step by step',
  'the following properties:\nFind',
  'prove that',
  'Prove that',
];

/** Why a formatted math prompt has no usable answer, or undefined when it passes. */
export function mathFilterReason(formattedPrompt: string): string | undefined {
  const hit = MATH_FILTER_PHRASES.find((p) => formattedPrompt.includes(p));
  return hit === undefined ? undefined : `math filter: contains ${JSON.stringify(hit)}`;
}

/** One generated problem of a pass: the parsed rationale and problem, the formatted prompt, and provenance. */
export const GeneratedProblemRowSchema = z
  .object({
    id: z.string(),
    conceptSetId: z.string(),
    pass: z.number().int().nonnegative(),
    seed: z.number().int().nonnegative(),
    model: z.string(),
    finishReason: z.string().nullable(),
    usage: z.unknown(),
    attempt: z.number().int().positive(),
    domain: DomainSchema,
    concepts: z.array(z.string()).nullable(),
    level: z.string().nullable(),
    rationale: z.string(),
    problem: z.string(),
    prompt: z.string(),
  })
  .strict();
export type GeneratedProblemRow = z.infer<typeof GeneratedProblemRowSchema>;

export const GenerateProblemOperation = declareOperation({
  name: 'generateProblem',
  queue: 'inference',
  description: 'one concept record and one sampling pass of p_theta: rationale + problem, parsed and formatted',
  params: GenerateProblemParamsSchema,
  item: ConceptRecordSchema,
  row: GeneratedProblemRowSchema,
});
