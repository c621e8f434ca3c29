// Corpus analyses (spec §6, "harder and more diverse"): the workflow input, the records of its stages, the analysis
// it reports and the Markdown section that shows it. Deterministic and free of I/O: the workflow imports it too.
//
// Difficulty: a seeded uniform sample per corpus (the paper: 1,000); a strong `teacher` answers each sampled
// problem (GPT-OSS-120B, high effort in the paper) and its last `\boxed{}` is the reference (a math item without one
// is counted and dropped); the `solver` (Qwen2.5-72B-Instruct) answers zero-shot and our math verifier compares;
// code problems with tests are scored by the sandbox instead. Reported per corpus: accuracy (lower = harder) and the
// teacher's completion tokens per problem (higher = harder), each with a seeded percentile-bootstrap 95% CI.
// Diversity: every problem embedded (all-MiniLM-L6-v2 by default), per-corpus mean vectors, their 1 − cos matrix,
// classical MDS to 2-D; within each corpus the mean pairwise distance of a seeded sample and the near-duplicate
// rate of the project's dedup index.
import { z } from 'zod';
import { declareOperation } from './core/operation';
import { DatasetNameSchema, DatasetRefSchema } from './core/dataset';
import { roleModelEndpointFields, shardSizeField, STAGE_RUN_FIELDS } from './core/fragments';
import { maxTokensField, temperatureField, topPField } from './core/sampling';
import { hashToSeed } from './core/seeds';

export const ANALYSIS_DOMAINS = ['math', 'code'] as const;
export type AnalysisDomain = (typeof ANALYSIS_DOMAINS)[number];

/** The near-duplicate threshold of the dedup index (word-set Jaccard strictly above it), as synthesis uses it. */
export const DEFAULT_NEAR_DUPLICATE_THRESHOLD = 0.2;
/** The embedding model folder scripts/setup.sh fills (model.onnx and tokenizer.json). */
export const DEFAULT_EMBEDDING_MODEL_DIR = 'models/all-MiniLM-L6-v2-int8';

const LabelSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, ".", "_" and "-"')
  .max(64);

export const CorpusSchema = z
  .object({
    /** The corpus' name in the tables and the plot, unique in the run. */
    label: LabelSchema,
    /** JSONL files of problems (`problem` or `prompt`, `id` optional, `domain` optional, code: `input_output` or `tests`). */
    files: z.array(z.string().min(1)).min(1).optional(),
    /** Or a dataset of them (e.g. a synthesizeCorpus corpus). */
    dataset: DatasetRefSchema.optional(),
    /** The domain of records that carry neither `domain` nor a self-play `source`. */
    domain: z.enum(ANALYSIS_DOMAINS).optional(),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (!v.files === !v.dataset)
      ctx.addIssue({ code: 'custom', path: ['files'], message: 'give exactly one of files and dataset' });
  });
export type Corpus = z.output<typeof CorpusSchema>;

export const EmbedderSchema = z.discriminatedUnion('kind', [
  /** the ONNX model of DEFAULT_EMBEDDING_MODEL_DIR when it is there, else the bag-of-words fallback */
  z.object({ kind: z.literal('auto') }).strict(),
  z
    .object({
      kind: z.literal('onnx'),
      /** A folder with `model.onnx` and `tokenizer.json` (or `vocab.txt`) of a BERT-style sentence encoder. */
      modelDir: z.string().min(1),
      /** Word pieces per problem, [CLS] and [SEP] included (all-MiniLM-L6-v2: 256). */
      maxTokens: z.number().int().min(8).max(8192).default(256),
    })
    .strict(),
  z
    .object({
      kind: z.literal('openai'),
      /** An OpenAI-compatible server's base URL, e.g. http://host:8000/v1 (its `/embeddings` is called). */
      baseUrl: z.url(),
      model: z.string().min(1),
      /** The environment variable holding the API key, if the server wants one. */
      apiKeyEnv: z.string().min(1).optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('bag-of-words'),
      /** Hashed word features (signed), 1 + log tf, L2-normalised. */
      dimensions: z.number().int().min(16).max(65536).default(1024),
    })
    .strict(),
]);
export type EmbedderSpec = z.output<typeof EmbedderSchema>;
/** An embedder the workers resolved (`auto` made concrete). */
export type ResolvedEmbedder = Exclude<EmbedderSpec, { kind: 'auto' }>;

export const TeacherReferenceParamsSchema = z
  .object({
    ...roleModelEndpointFields('teacher'),
    temperature: temperatureField(1.0),
    topP: topPField(1.0),
    /** The paper's teacher thinks for tens of thousands of tokens; set what the server allows. */
    maxTokens: maxTokensField(65536),
    /** gpt-oss `reasoning_effort` (the paper: high). */
    reasoningEffort: z.enum(['low', 'medium', 'high']).optional(),
    seed: z.number().int().nonnegative().default(0),
  })
  .strict();

export const SolveProblemParamsSchema = z
  .object({
    ...roleModelEndpointFields('solver'),
    /** Zero-shot, greedy by default. */
    temperature: temperatureField(0),
    topP: topPField(1.0),
    maxTokens: maxTokensField(8192),
    seed: z.number().int().nonnegative().default(0),
  })
  .strict();

export const ScoreSolutionParamsSchema = z
  .object({ timeLimitSeconds: z.number().positive().max(600).default(10) })
  .strict();

export const EmbedProblemParamsSchema = z.object({ embedder: EmbedderSchema }).strict();

export const AnalyzeCorporaInputSchema = z
  .object({
    name: DatasetNameSchema,
    corpora: z.array(CorpusSchema).min(2),
    seed: z.number().int().nonnegative().default(0),
    difficulty: z
      .object({
        enabled: z.boolean().default(true),
        /** Problems drawn uniformly per corpus (without replacement; a smaller corpus is taken whole). */
        sampleSize: z.number().int().min(1).max(100_000).default(1000),
        teacher: TeacherReferenceParamsSchema.omit({ seed: true }).prefault({}),
        solver: SolveProblemParamsSchema.omit({ seed: true }).prefault({}),
        scorer: ScoreSolutionParamsSchema.prefault({}),
      })
      .strict()
      .prefault({}),
    diversity: z
      .object({
        enabled: z.boolean().default(true),
        embedder: EmbedderSchema.default({ kind: 'auto' }),
        /** Problems per corpus whose pairwise distances give the within-corpus diversity. */
        pairwiseSample: z.number().int().min(2).max(5000).default(500),
        nearDuplicateThreshold: z.number().gt(0).lt(1).default(DEFAULT_NEAR_DUPLICATE_THRESHOLD),
      })
      .strict()
      .prefault({}),
    bootstrap: z
      .object({ samples: z.number().int().min(100).max(100_000).default(1000), seed: z.number().int().default(0) })
      .strict()
      .prefault({}),
    shardSize: shardSizeField(64),
    maxConcurrentShards: STAGE_RUN_FIELDS.maxConcurrentShards,
    itemConcurrency: STAGE_RUN_FIELDS.itemConcurrency,
    /** Solutions scored at once per shard (sandbox work is CPU-bound). */
    scoreItemConcurrency: z.number().int().min(1).max(256).default(2),
    /** Problems embedded at once per shard (a local model is CPU-bound). */
    embedItemConcurrency: z.number().int().min(1).max(256).default(2),
    heartbeatTimeoutSeconds: STAGE_RUN_FIELDS.heartbeatTimeoutSeconds,
  })
  .strict()
  .superRefine((v, ctx) => {
    const labels = new Set<string>();
    v.corpora.forEach((c, i) => {
      if (labels.has(c.label))
        ctx.addIssue({ code: 'custom', path: ['corpora', i, 'label'], message: `label "${c.label}" is used twice` });
      labels.add(c.label);
    });
    if (!v.difficulty.enabled && !v.diversity.enabled)
      ctx.addIssue({
        code: 'custom',
        path: ['difficulty', 'enabled'],
        message: 'enable difficulty, diversity or both',
      });
  });
export type AnalyzeCorporaInput = z.input<typeof AnalyzeCorporaInputSchema>;
export type AnalyzeCorporaParsed = z.output<typeof AnalyzeCorporaInputSchema>;

/** A short name of an embedder for dataset names: the same embedder gives the same name on every run. */
export function embedderKey(e: ResolvedEmbedder): string {
  const what =
    e.kind === 'onnx'
      ? { k: e.kind, d: e.modelDir, t: e.maxTokens }
      : e.kind === 'openai'
        ? { k: e.kind, u: e.baseUrl, m: e.model }
        : { k: e.kind, n: e.dimensions };
  return `${e.kind}-${hashToSeed(JSON.stringify(what)).toString(36)}`;
}

// ---- prompts

const MATH_INSTRUCTION = 'Please reason step by step, and put your final answer within \\boxed{}.';
const CODE_INSTRUCTION =
  'Write a complete Python 3 program that reads the input from standard input and prints the answer to standard ' +
  'output. Give the program in one ```python code block at the end of your answer.';
const CALL_INSTRUCTION = (fn: string) =>
  `Write Python 3 code that defines the function \`${fn}\` (a method of class Solution when the problem gives one). ` +
  'Give the code in one ```python code block at the end of your answer.';

/** The user message the teacher and the solver get for a problem (zero-shot: the problem and the answer format). */
export function analysisPrompt(domain: AnalysisDomain, problem: string, fnName?: string): string {
  const instruction = domain === 'math' ? MATH_INSTRUCTION : fnName ? CALL_INSTRUCTION(fnName) : CODE_INSTRUCTION;
  return `${problem.trim()}\n\n${instruction}`;
}

// ---- records

export const AnalysisTestSchema = z.object({ input: z.string(), output: z.string() }).strict();

/** Every problem of every corpus, what the embedder reads. */
export const CorpusProblemSchema = z
  .object({
    id: z.string(),
    corpus: z.string(),
    itemId: z.string(),
    problem: z.string().min(1),
  })
  .strict();
export type CorpusProblem = z.infer<typeof CorpusProblemSchema>;

/** A sampled problem of the difficulty analysis. */
export const DifficultyItemSchema = z
  .object({
    id: z.string(),
    corpus: z.string(),
    itemId: z.string(),
    domain: z.enum(ANALYSIS_DOMAINS),
    problem: z.string().min(1),
    tests: z.array(AnalysisTestSchema).optional(),
    fnName: z.string().optional(),
  })
  .strict();
export type DifficultyItem = z.infer<typeof DifficultyItemSchema>;

const AnswerSchema = z
  .object({
    /** the answer text (the final content, after any reasoning) */
    content: z.string(),
    completionTokens: z.number().int().nonnegative(),
    /** the part of them spent reasoning, where the server reports it */
    reasoningTokens: z.number().int().nonnegative().optional(),
    finishReason: z.string().nullable(),
    model: z.string(),
    attempt: z.number().int().positive(),
  })
  .strict();

export const ReferenceRowSchema = DifficultyItemSchema.extend({
  teacher: AnswerSchema.extend({
    /** math: the last `\boxed{}` of the teacher's final answer; null: none (the item is dropped) */
    reference: z.string().nullable(),
  }).strict(),
}).strict();
export type ReferenceRow = z.infer<typeof ReferenceRowSchema>;

export const SolvedRowSchema = ReferenceRowSchema.extend({ solver: AnswerSchema }).strict();
export type SolvedRow = z.infer<typeof SolvedRowSchema>;

export const ScoredRowSchema = z
  .object({
    id: z.string(),
    corpus: z.string(),
    itemId: z.string(),
    domain: z.enum(ANALYSIS_DOMAINS),
    correct: z.boolean(),
    /** math: the solver's extracted answer ('' when none); code: whether a program was found */
    extracted: z.string().optional(),
    reference: z.string().optional(),
    tests: z.object({ passed: z.number().int(), total: z.number().int() }).strict().optional(),
    reason: z.string(),
    teacherTokens: z.number().int().nonnegative(),
    solverTokens: z.number().int().nonnegative(),
  })
  .strict();
export type ScoredRow = z.infer<typeof ScoredRowSchema>;

export const EmbeddingRowSchema = z
  .object({
    id: z.string(),
    corpus: z.string(),
    /** the L2-normalised vector, float32 little-endian, base64 */
    vector: z.string(),
    dimensions: z.number().int().positive(),
  })
  .strict();
export type EmbeddingRow = z.infer<typeof EmbeddingRowSchema>;

// a stage's rows are the next stage's items: checked loosely, so that provenance fields pass
const NOT_REFERENCED = 'not a teacher-referenced item (run teacherReference first)';
const NOT_SOLVED = 'not a solved item (run solveProblem first)';

export const TeacherReferenceOperation = declareOperation({
  name: 'teacherReference',
  queue: 'inference',
  description: "the teacher's answer to a sampled problem: its boxed reference (math) and its completion tokens",
  params: TeacherReferenceParamsSchema,
  item: DifficultyItemSchema,
  row: ReferenceRowSchema,
});

export const SolveProblemOperation = declareOperation({
  name: 'solveProblem',
  queue: 'inference',
  description: "the solver's zero-shot answer to a problem that has a reference (math) or tests (code)",
  params: SolveProblemParamsSchema,
  item: ReferenceRowSchema.extend({
    teacher: z.object(ReferenceRowSchema.shape.teacher.shape, { error: NOT_REFERENCED }),
  }).loose(),
  row: SolvedRowSchema,
});

export const ScoreSolutionOperation = declareOperation({
  name: 'scoreSolution',
  queue: 'sandbox',
  description:
    "the verdict on the solver's answer: the math verifier against the reference, or the sandbox on the tests",
  params: ScoreSolutionParamsSchema,
  item: SolvedRowSchema.extend({ solver: z.object(SolvedRowSchema.shape.solver.shape, { error: NOT_SOLVED }) }).loose(),
  row: ScoredRowSchema,
});

export const EmbedProblemOperation = declareOperation({
  name: 'embedProblem',
  queue: 'cpu',
  description:
    'the sentence embedding of one problem (L2-normalised) by the local ONNX model, a server or the fallback',
  params: EmbedProblemParamsSchema,
  item: CorpusProblemSchema,
  row: EmbeddingRowSchema,
});

// ---- the analysis

/** A mean with its standard error and seeded percentile-bootstrap 95% CI over problems. */
export interface MeanEstimate {
  mean: number;
  se: number;
  ci: [number, number];
  /** the problems it averages over */
  n: number;
}

export interface CorpusDifficulty {
  /** problems drawn for the analysis */
  sampled: number;
  /** math items whose teacher answer had no `\boxed{}` (dropped), code items without tests (no pass rate) */
  noReference: number;
  noTests: number;
  /** items the teacher, solver or scorer could not finish (see the stages' rejects) */
  failed: number;
  /** math: the solver's accuracy against the teacher's references */
  accuracy: MeanEstimate | null;
  /** code: the solver's pass rate (every test passes) on the problems that have tests */
  passRate: MeanEstimate | null;
  /** the teacher's completion tokens per kept problem (reasoning + answer, as the server counts them) */
  teacherTokens: MeanEstimate | null;
  /**
   * the teacher's reasoning tokens per kept problem (the paper's measure), where the server reports them for every
   * kept problem (`completion_tokens_details.reasoning_tokens`); null otherwise
   */
  teacherReasoningTokens?: MeanEstimate | null;
}

export interface CorpusDiversity {
  embedded: number;
  /** mean 1 − cos over the pairs of a seeded sample of the corpus' problems */
  meanPairwiseDistance: number | null;
  pairwiseSample: number;
}

export interface CorpusSummary {
  label: string;
  /** the domain of its problems, or `mixed` */
  domain: AnalysisDomain | 'mixed' | 'none';
  problems: number;
  rejected: number;
  nearDuplicates: { count: number; rate: number; threshold: number };
  difficulty?: CorpusDifficulty;
  diversity?: CorpusDiversity;
}

export interface EmbedderDescription {
  kind: ResolvedEmbedder['kind'];
  /** what it is, in words: the model file and its sha256, the server and model, or the fallback's settings */
  description: string;
  dimensions: number;
  /** why it ran: the one asked for, or what `auto` found */
  why: string;
}

export interface CorpusAnalysis {
  name: string;
  seed: number;
  corpora: CorpusSummary[];
  difficulty?: { teacher: string; solver: string; sampleSize: number; bootstrap: { samples: number; seed: number } };
  diversity?: {
    embedder: EmbedderDescription;
    /** 1 − cos of the corpora's mean vectors, in the order of `corpora` */
    distances: number[][];
    mds: {
      coordinates: Array<{ label: string; x: number; y: number }>;
      eigenvalues: number[];
      share: number[];
      negativeShare: number;
    };
  };
  /** paths relative to the storage root */
  files: { markdown: string; json: string; plot?: string; coordinates?: string };
}

const pct = (x: number) => (x * 100).toFixed(1);
const int = (x: number) => x.toLocaleString('en-US', { maximumFractionDigits: 1, minimumFractionDigits: 1 });

function estimateCell(e: MeanEstimate | null | undefined, format: (x: number) => string): string {
  if (!e) return '—';
  return `${format(e.mean)} [${format(e.ci[0])}, ${format(e.ci[1])}] (n=${e.n})`;
}

/**
 * The analysis as a Markdown section (its own `##` heading), in the paper's layout: per corpus the solver's accuracy
 * and the teacher's tokens with their CIs, then the diversity table and the MDS plot. `plotPath` is the PNG as the
 * embedding document should link it (default: the analysis' own file name, for analysis.md beside it).
 */
export function renderCorpusAnalysisSection(
  a: CorpusAnalysis,
  options: { plotPath?: string; heading?: string } = {},
): string {
  const out: string[] = [`## ${options.heading ?? `Corpus analysis: ${a.name}`}`, ''];
  out.push(
    `Corpora: ${a.corpora.map((c) => `**${c.label}** (${c.domain}, ${c.problems} problems, ${c.rejected} records set aside)`).join(', ')}.`,
    '',
  );
  if (a.difficulty) {
    const d = a.difficulty;
    // the paper's measure, the teacher's reasoning tokens, where the server reported them
    const reasoning = a.corpora.some((c) => c.difficulty?.teacherReasoningTokens);
    out.push(
      '### Difficulty',
      '',
      `A seeded uniform sample of up to ${d.sampleSize} problems per corpus (seed ${a.seed}). References: the last \`\\boxed{}\` ` +
        `of the teacher (\`${d.teacher}\`); accuracy: the solver (\`${d.solver}\`) zero-shot, checked by the math verifier ` +
        "(lower = harder); code: the share of problems whose every test passes in the sandbox. Tokens: the teacher's " +
        'completion tokens per problem (higher = harder)' +
        (reasoning
          ? "; reasoning tokens: the part of them the server reports as reasoning (`completion_tokens_details`, '—' where it did not for every problem)"
          : '') +
        '. Brackets: percentile-bootstrap 95% CI over problems ' +
        `(${d.bootstrap.samples} resamples, seed ${d.bootstrap.seed}).`,
      '',
      `| Corpus | Accuracy (%) | Pass rate (%) | Teacher tokens |${reasoning ? ' Reasoning tokens |' : ''} Sampled | No reference | No tests | Failed |`,
      `| --- | --- | --- | --- |${reasoning ? ' --- |' : ''} --- | --- | --- | --- |`,
    );
    for (const c of a.corpora) {
      const x = c.difficulty;
      if (!x) continue;
      out.push(
        `| ${c.label} | ${estimateCell(x.accuracy, pct)} | ${estimateCell(x.passRate, pct)} | ${estimateCell(x.teacherTokens, int)} |${reasoning ? ` ${estimateCell(x.teacherReasoningTokens, int)} |` : ''} ${x.sampled} | ${x.noReference} | ${x.noTests} | ${x.failed} |`,
      );
    }
    out.push('');
  }
  if (a.diversity) {
    const v = a.diversity;
    out.push(
      '### Diversity',
      '',
      `Embedder: **${v.embedder.kind}**, ${v.embedder.description} (${v.embedder.dimensions} dimensions; ${v.embedder.why}).`,
      '',
      '| Corpus | Embedded | Mean pairwise distance (1 − cos) | Sample | Near duplicates |',
      '| --- | --- | --- | --- | --- |',
    );
    for (const c of a.corpora) {
      const x = c.diversity;
      out.push(
        `| ${c.label} | ${x?.embedded ?? 0} | ${x?.meanPairwiseDistance === null || !x ? '—' : x.meanPairwiseDistance.toFixed(4)} | ${x?.pairwiseSample ?? 0} | ${c.nearDuplicates.count} (${pct(c.nearDuplicates.rate)}%, Jaccard > ${c.nearDuplicates.threshold}) |`,
      );
    }
    const labels = a.corpora.map((c) => c.label);
    out.push(
      '',
      "Distances between the corpora's mean vectors (1 − cos):",
      '',
      `| | ${labels.join(' | ')} |`,
      `| --- | ${labels.map(() => '---').join(' | ')} |`,
      ...v.distances.map((row, i) => `| ${labels[i]} | ${row.map((d) => d.toFixed(4)).join(' | ')} |`),
      '',
      `Classical MDS to 2-D: axis 1 carries ${pct(v.mds.share[0] ?? 0)}% and axis 2 ${pct(v.mds.share[1] ?? 0)}% of the positive ` +
        `eigenvalues${v.mds.negativeShare > 0 ? `; negative eigenvalues (the non-Euclidean part of 1 − cos) are ${pct(v.mds.negativeShare)}% of their absolute sum` : ''}.`,
      '',
      '| Corpus | x | y |',
      '| --- | --- | --- |',
      ...v.mds.coordinates.map((p) => `| ${p.label} | ${p.x.toFixed(5)} | ${p.y.toFixed(5)} |`),
      '',
    );
    if (a.files.plot) out.push(`![MDS of the corpora](${options.plotPath ?? 'mds.png'})`, '');
  }
  return out.join('\n');
}
