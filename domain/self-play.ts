// Self-play (spec §3): the workflow input, the prompt record, the operations' parameters and the pure rules of
// reward construction and pair construction. Deterministic and free of I/O: the workflow imports it too.
//
// Rule names (the round report counts every input prompt as kept or dropped by exactly one of them, in this order):
//   before any rollout:  invalid-record · contamination-exact · contamination-ngram · math-prompt-pattern ·
//                        too-few-tests (code) · no-answer, trivial-answer (math) · failed (an item that errored)
//   per round:           no-results · unsolved · too-easy · no-valid-chosen · no-valid-rejected
import { z } from 'zod';
import { maxTokensField, temperatureField, topPField } from './core/sampling';
import { roleModelEndpointFields, shardSizeField, STAGE_RUN_FIELDS } from './core/fragments';
import { AnyRecordSchema, declareOperation } from './core/operation';
import { DatasetNameSchema, DatasetRefSchema } from './core/dataset';
import { ModelVersionSchema } from './core/models';
import { textAfterThink } from './math/extract';
import { parsePyJson } from './core/py-json';
import { pyStrip } from './core/py-strings';

export const SELF_PLAY_SOURCES = ['PromptCoT-Math', 'OpenSource-Math', 'PromptCoT-Code', 'OpenSource-Code'] as const;
export type SelfPlaySource = (typeof SELF_PLAY_SOURCES)[number];
export type SelfPlayDomain = 'code' | 'math';

export function domainOfSource(source: SelfPlaySource): SelfPlayDomain {
  return source.endsWith('-Code') ? 'code' : 'math';
}

export const PRE_ROLLOUT_RULES = [
  'invalid-record',
  'contamination-exact',
  'contamination-ngram',
  'math-prompt-pattern',
  'too-few-tests',
  'no-answer',
  'trivial-answer',
  'failed',
] as const;
export const ROUND_RULES = ['no-results', 'unsolved', 'too-easy', 'no-valid-chosen', 'no-valid-rejected'] as const;
export type DropRule = (typeof PRE_ROLLOUT_RULES)[number] | (typeof ROUND_RULES)[number];

export const TestCaseSchema = z.object({ input: z.string(), output: z.string() }).strict();
export type TestCaseRecord = z.infer<typeof TestCaseSchema>;

/** One prompt of the self-play corpus. */
export const SelfPlayPromptSchema = z
  .object({
    id: z.union([z.string().min(1), z.number()]).transform(String),
    source: z.enum(SELF_PLAY_SOURCES),
    /** The policy's user message: the formatted training prompt (code or math template of spec §2.3), kept as it is. */
    prompt: z.string().refine((s) => s.trim() !== '', 'must not be empty'),
    /** The bare statement (what the test-case writer sees); taken from `prompt` without its template when absent. */
    problem: z.string().trim().min(1).optional(),
    /** Math: the reference answer; without one, the majority vote of N generations becomes it. */
    answer: z.union([z.string(), z.number()]).transform(String).nullish(),
    /** Code: tests that come with the problem (open-source sets); synthetic problems get written ones. */
    test_cases: z.array(TestCaseSchema).optional(),
    /** Rollouts of the starting policy sampled before: round 1 keeps them and samples only the missing ones. */
    completions: z.array(z.string()).optional(),
  })
  .loose();
export type SelfPlayPrompt = z.output<typeof SelfPlayPromptSchema>;

export const TestCaseWritingSchema = z
  .object({
    ...roleModelEndpointFields('testCaseWriter'),
    /** One test per round (spec §3.2: 4 rounds, seeds 0..3, temperature 0.6, max 16384 tokens). */
    rounds: z.number().int().min(1).max(64).default(4),
    temperature: temperatureField(0.6),
    maxTokens: maxTokensField(16384),
    /** A problem with fewer valid tests is set aside (the paper says 3–4; the published code kept 1). */
    minTests: z.number().int().min(1).default(3),
  })
  .strict();

export const CrossCheckSchema = z
  .object({
    ...roleModelEndpointFields('policy'),
    /** Independent policy solutions run on every written test (0: no cross-check). */
    solutions: z.number().int().min(0).max(32).default(0),
    temperature: temperatureField(0.6),
    maxTokens: maxTokensField(16384),
    /** report: count disagreeing tests only; drop: remove them (then minTests applies again). */
    action: z.enum(['report', 'drop']).default('report'),
  })
  .strict();

export const MathAnswerSchema = z
  .object({
    ...roleModelEndpointFields('teacher'),
    /** Generations voted on when a math prompt has no reference answer (spec §3.1: majority of 8). */
    n: z.number().int().min(1).max(64).default(8),
    temperature: temperatureField(0.6),
    maxTokens: maxTokensField(16384),
  })
  .strict();

export const ContaminationSchema = z
  .object({
    /** Benchmark JSONL files (a `prompt`, `problem` or `question` field per line) to check prompts against. */
    benchmarkFiles: z.array(z.string().min(1)).default([]),
    /** Word n-gram length of the overlap check (the paper: 13, Qwen2.5 style). */
    ngram: z.number().int().min(3).max(64).default(13),
    /**
     * JSONL files of ordinary (not benchmark) problems, a `prompt`, `problem` or `question` field per line: a
     * benchmark n-gram that `stockMinPrompts` different problems of them (or of the corpus) contain is stock phrasing.
     */
    referenceFiles: z.array(z.string().min(1)).default([]),
    /** Whether the prompt files being checked are a reference corpus too (they are ordinary problems, mostly). */
    corpusAsReference: z.boolean().default(true),
    /** Different reference problems (word-set Jaccard below 1/2) that make a benchmark n-gram stock phrasing. */
    stockMinPrompts: z.number().int().min(2).max(1000).default(3),
  })
  .strict();

export const DifficultySchema = z
  .object({
    /** Prompts the policy solves this often are too easy. */
    maxPassRate: z.number().gt(0).max(1).default(0.5),
    /**
     * Whether a pass rate of exactly maxPassRate is kept. Default false, the paper's rule ("solved in at least half
     * of eight attempts were excluded", so 4/8 is dropped); true gives the published script (`> 1/2` dropped).
     */
    keepBoundary: z.boolean().default(false),
  })
  .strict();

export const RolloutSamplingSchema = z
  .object({
    temperature: temperatureField(1.2),
    topP: topPField(),
    /** Output tokens per rollout. The published max_len 81920 is the model's context (prompt + output): set this to what the server allows. */
    maxTokens: maxTokensField(32768),
  })
  .strict();

export const SelfPlayInputSchema = z
  .object({
    name: DatasetNameSchema,
    /** Prompt JSONL files (records: SelfPlayPromptSchema), or a dataset of them. */
    promptFiles: z.array(z.string().min(1)).min(1).optional(),
    prompts: DatasetRefSchema.optional(),
    seed: z.number().int().nonnegative().default(0),
    rounds: z.number().int().min(1).max(100).default(1),
    /** Rollouts per prompt (spec §3.3: 8). */
    k: z.number().int().min(1).max(64).default(8),
    rollouts: RolloutSamplingSchema.prefault({}),
    /** The policy at the start. */
    policy: ModelVersionSchema.default({ version: 'initial' }),
    testCases: TestCaseWritingSchema.prefault({}),
    crossCheck: CrossCheckSchema.prefault({}),
    mathAnswers: MathAnswerSchema.prefault({}),
    contamination: ContaminationSchema.prefault({}),
    difficulty: DifficultySchema.prefault({}),
    /** Pairs per prompt at most (spec §3.5: max_count 10000). */
    maxPairsPerPrompt: z.number().int().min(1).default(10_000),
    training: z
      .object({
        /** false: build the pairs of each round but hand nothing to the trainer (the policy stays). */
        enabled: z.boolean().default(true),
        hyperparameters: z
          .record(z.string(), z.union([z.number(), z.string(), z.boolean()]))
          .default({ learningRate: 1e-6, batchSize: 16, epochs: 1, beta: 0.1 }),
      })
      .strict()
      .prefault({}),
    shardSize: shardSizeField(500),
    maxConcurrentShards: STAGE_RUN_FIELDS.maxConcurrentShards,
    itemConcurrency: STAGE_RUN_FIELDS.itemConcurrency,
    /** Items scored at once per shard of the reward stage (sandbox work is CPU-bound). */
    rewardItemConcurrency: z.number().int().min(1).max(4096).default(4),
    heartbeatTimeoutSeconds: STAGE_RUN_FIELDS.heartbeatTimeoutSeconds,
  })
  .strict()
  .superRefine((v, ctx) => {
    if (!v.promptFiles === !v.prompts)
      ctx.addIssue({ code: 'custom', path: ['promptFiles'], message: 'give exactly one of promptFiles and prompts' });
  });
export type SelfPlayInput = z.input<typeof SelfPlayInputSchema>;
export type SelfPlayParsed = z.output<typeof SelfPlayInputSchema>;

// ---- operation parameters (validated by the stage before any work is scheduled)

export const PrepareSelfPlayParamsSchema = z
  .object({
    contamination: ContaminationSchema.prefault({}),
    /** The prompt files of the run (the workflow passes them): with corpusAsReference, a reference corpus. */
    corpusFiles: z.array(z.string().min(1)).default([]),
  })
  .strict();
export type PrepareSelfPlayParams = z.output<typeof PrepareSelfPlayParamsSchema>;

export const ConstructRewardParamsSchema = z
  .object({
    seed: z.number().int().nonnegative().default(0),
    testCases: TestCaseWritingSchema.prefault({}),
    mathAnswers: MathAnswerSchema.prefault({}),
  })
  .strict();
export type ConstructRewardParams = z.output<typeof ConstructRewardParamsSchema>;

export const CrossCheckParamsSchema = z
  .object({
    seed: z.number().int().nonnegative().default(0),
    crossCheck: CrossCheckSchema.prefault({}),
    minTests: z.number().int().min(1).default(3),
  })
  .strict();
export type CrossCheckParams = z.output<typeof CrossCheckParamsSchema>;

export const SampleRolloutsParamsSchema = z
  .object({
    ...roleModelEndpointFields('policy'),
    k: z.number().int().min(1).max(64).default(8),
    sampling: RolloutSamplingSchema.prefault({}),
    seed: z.number().int().nonnegative().default(0),
    round: z.number().int().min(1).default(1),
    /** Keep `completions` the item brings (round 1 of a run that imports earlier rollouts). */
    reuseCompletions: z.boolean().default(true),
  })
  .strict();
export type SampleRolloutsParams = z.output<typeof SampleRolloutsParamsSchema>;

export const ScoreRolloutParamsSchema = z.object({}).strict();

// ---- reward construction

/** A prompt template around the statement: what comes before `{problem}` and what comes after. */
export interface PromptWrapper {
  prefix: string;
  suffix: string;
}

/**
 * The statement inside a formatted prompt (spec §3.2): a wrapper's prefix is taken off when the prompt starts with
 * it, its suffix when the prompt ends with it (compared after trimming both).
 */
/** A prompt given in its chat format (Qwen style: `<|im_start|>user\n…<|im_end|>\n<|im_start|>assistant`) without the turn markers. */
export function withoutChatTurn(prompt: string): string {
  // the text inside the turn stays as it is: the code template ends in a blank line, which the published pair
  // rows keep (```` ```\n\n<|im_end|> ````)
  const start = /^\s*<\|im_start\|>user\n?/.exec(prompt);
  if (!start) return prompt;
  const end = prompt.lastIndexOf('<|im_end|>');
  if (end < start[0].length || !/^<\|im_end\|>\s*(?:<\|im_start\|>assistant\s*)?$/.test(prompt.slice(end)))
    return prompt;
  return prompt.slice(start[0].length, end);
}

export function problemOfPrompt(prompt: string, wrappers: readonly PromptWrapper[]): string {
  let text = withoutChatTurn(prompt).trim();
  for (const w of wrappers) {
    const prefix = w.prefix.trim();
    const suffix = w.suffix.trim();
    if (prefix !== '' && text.startsWith(prefix)) text = text.slice(prefix.length).trim();
    if (suffix !== '' && text.endsWith(suffix)) text = text.slice(0, text.length - suffix.length).trim();
  }
  return text;
}

export type ParsedTestCase = { ok: true; test: TestCaseRecord } | { ok: false; reason: string };

/**
 * The content of the first ```` ```json ```` block (the published ```` ```json\s*(.*?)\s*``` ````, DOTALL), found
 * with two searches instead of a lazy regex, which is quadratic on long whitespace runs.
 */
function firstJsonBlock(text: string): string | undefined {
  const open = text.indexOf('```json');
  if (open < 0) return undefined;
  const close = text.indexOf('```', open + 7);
  if (close < 0) return undefined;
  return text.slice(open + 7, close).trim();
}

/**
 * One written test from a test-case writer completion (spec §3.2 post-processing): the text after the first
 * `</think>` (all of it when there is none), the first ```json block, a JSON object with string `input` and
 * `output` (other fields are dropped). Structured values are refused, as the prompt demands.
 */
export function parseTestCaseCompletion(completion: string): ParsedTestCase {
  if (!completion.includes('</think>') && completion.includes('<think>'))
    return { ok: false, reason: 'thinking not finished (no </think>)' };
  const answer = textAfterThink(completion);
  const block = firstJsonBlock(answer);
  if (block === undefined) return { ok: false, reason: 'no ```json block' };
  let value: unknown;
  try {
    // as Python's json.loads reads it (NaN / Infinity in an extra field are fine, as in the published script)
    value = parsePyJson(block);
  } catch (err) {
    return { ok: false, reason: `json block does not parse: ${(err as Error).message}` };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return { ok: false, reason: 'json block is not an object' };
  const v = value as Record<string, unknown>;
  for (const field of ['input', 'output'] as const) {
    if (!(field in v)) return { ok: false, reason: `json object has no "${field}"` };
    if (typeof v[field] !== 'string') return { ok: false, reason: `"${field}" is not a string` };
  }
  return { ok: true, test: { input: v.input as string, output: v.output as string } };
}

// ---- trajectories, verdicts, difficulty

export type RolloutVerdict = 'pass' | 'fail' | 'undecided';

/** The seed of rollout j of an item in a round: distinct per rollout, the same on every re-run. */
export function rolloutSeedKey(itemId: string, round: number): string {
  return `${itemId}\u0000round-${round}`;
}

export type DifficultyDecision = { keep: true } | { keep: false; rule: 'no-results' | 'unsolved' | 'too-easy' };

/** Spec §3.5 steps 2 and 4 over the decided rollouts of one prompt (undecided ones count for neither side). */
export function difficultyDecision(
  passes: number,
  decided: number,
  rule: z.output<typeof DifficultySchema>,
): DifficultyDecision {
  if (decided === 0) return { keep: false, rule: 'no-results' };
  if (passes === 0) return { keep: false, rule: 'unsolved' };
  const rate = passes / decided;
  // compare as fractions of integers where possible: 4/8 against 0.5 is exact in floating point anyway
  if (rate > rule.maxPassRate || (rate === rule.maxPassRate && !rule.keepBoundary))
    return { keep: false, rule: 'too-easy' };
  return { keep: true };
}

/**
 * Spec §3.5 step 5 (`fix_qwq_completion`): strip, drop a leading `<think>`, strip again, then start with
 * `<think>\n`. The second strip matters: `<think>\nabc</think>` stays as it is (one newline after the tag).
 */
export function fixThinkCompletion(completion: string): string {
  let text = pyStrip(completion);
  if (text.startsWith('<think>')) text = text.slice('<think>'.length);
  return `<think>\n${pyStrip(text)}`;
}

const THINK_SHAPE = /^<think>([\s\S]*?)<\/think>([\s\S]+)$/;
/**
 * Han and Hangul: the published validity check refuses them in the answer part (language mixing). Its ranges
 * (ideographs with Extension A–F and compatibility ideographs; Hangul Jamo, compatibility Jamo, Jamo Extended-A/B
 * and syllables) together with everything Unicode assigns to the Han and Hangul scripts (Extensions G and later,
 * the compatibility supplement, radicals, halfwidth Jamo).
 */
const CJK =
  /[\p{Script=Han}\p{Script=Hangul}\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u{20000}-\u{2ebef}\u1100-\u11ff\u3130-\u318f\ua960-\ua97f\uac00-\ud7af\ud7b0-\ud7ff]/u;

export type TraceProblem = 'no-think-block' | 'empty-think' | 'extra-think-tag' | 'mixed-language';

/** Spec §3.5 step 6, the part common to both domains: the thinking and the answer of a fixed completion, or what is wrong. */
export function splitTrace(
  fixed: string,
): { ok: true; thinking: string; answer: string } | { ok: false; problem: TraceProblem } {
  const m = THINK_SHAPE.exec(fixed);
  if (!m) return { ok: false, problem: 'no-think-block' };
  const [, thinking, answer] = m as unknown as [string, string, string];
  if (thinking.trim() === '') return { ok: false, problem: 'empty-think' };
  if (/<\/?think>/.test(thinking) || /<\/?think>/.test(answer)) return { ok: false, problem: 'extra-think-tag' };
  if (CJK.test(answer)) return { ok: false, problem: 'mixed-language' };
  return { ok: true, thinking, answer };
}

/** The chat wrapper of the published pair rows (spec §3.5 step 9): the prompt is formatted, not re-templated. */
export function chatFormattedPrompt(prompt: string): string {
  return `<|im_start|>user\n${prompt}<|im_end|>\n<|im_start|>assistant`;
}

// ---- item operations of self-play (activities/self-play/operations.ts, cross-check.ts)

const NOT_PREPARED = 'not a prepared prompt (no problem or domain): run prepareSelfPlayPrompt first';

/** A prompt after prepareSelfPlayPrompt: its statement and domain found, contamination and patterns checked. */
export const PreparedPromptSchema = SelfPlayPromptSchema.extend({
  problem: z.string({ error: NOT_PREPARED }),
  domain: z.enum(['code', 'math'], { error: NOT_PREPARED }),
});

export const PreparedPromptRowSchema = z
  .object({
    id: z.string(),
    source: z.enum(SELF_PLAY_SOURCES),
    domain: z.enum(['code', 'math']),
    prompt: z.string(),
    problem: z.string(),
    answer: z.string().optional(),
    test_cases: z.array(TestCaseSchema).optional(),
    completions: z.array(z.string()).optional(),
  })
  .strict();

/** A prepared prompt with its reward: tests (given or written) for code, a reference or majority answer for math. */
export const RewardedPromptRowSchema = z.union([
  z
    .object({
      domain: z.literal('code'),
      tests: z.array(TestCaseSchema).min(1),
      testOrigin: z.enum(['given', 'written']),
    })
    .loose(),
  z.object({ domain: z.literal('math'), answer: z.string(), answerOrigin: z.enum(['reference', 'majority']) }).loose(),
]);

/** One rollout of the policy on a prompt (round, index j), with the prompt's reward data. */
export const RolloutRowSchema = z
  .object({
    id: z.string(),
    itemId: z.string(),
    round: z.number().int().positive(),
    j: z.number().int().nonnegative(),
    domain: z.enum(['code', 'math']),
    completion: z.string(),
  })
  .loose();

const NOT_A_ROLLOUT = 'not a rollout row (no completion or itemId)';
export const RolloutItemSchema = z
  .object({ itemId: z.string({ error: NOT_A_ROLLOUT }), completion: z.string({ error: NOT_A_ROLLOUT }) })
  .loose();

export const ScoredRolloutRowSchema = RolloutItemSchema.extend({
  verdict: z.enum(['pass', 'fail', 'undecided']),
  reward: z.union([z.literal(0), z.literal(1)]),
  score: z.object({ verdict: z.enum(['pass', 'fail', 'undecided']), reason: z.string() }).loose(),
  scoredBy: z.object({ stage: z.string(), attempt: z.number().int().positive() }).strict(),
});

export const PrepareSelfPlayPromptOperation = declareOperation({
  name: 'prepareSelfPlayPrompt',
  queue: 'cpu',
  description: 'checks a prompt record, finds its statement, drops contaminated prompts and rejected math patterns',
  params: PrepareSelfPlayParamsSchema,
  item: SelfPlayPromptSchema,
  row: PreparedPromptRowSchema,
});

export const ConstructRewardOperation = declareOperation({
  name: 'constructReward',
  queue: 'inference',
  description: 'the reward of a prompt: given or written tests (code), the reference or majority answer (math)',
  params: ConstructRewardParamsSchema,
  item: PreparedPromptSchema,
  row: RewardedPromptRowSchema,
});

export const CrossCheckTestsOperation = declareOperation({
  name: 'crossCheckTests',
  queue: 'sandbox',
  description: 'checks written tests against the majority output of M policy solutions in the sandbox',
  params: CrossCheckParamsSchema,
  // any rewarded prompt: only code prompts with written tests are checked, the rest pass unchanged
  item: AnyRecordSchema,
  row: AnyRecordSchema,
});

export const SampleRolloutsOperation = declareOperation({
  name: 'sampleRollouts',
  queue: 'inference',
  description: 'k rollouts of the policy per prompt, one row each, with distinct reproducible seeds',
  params: SampleRolloutsParamsSchema,
  item: PreparedPromptSchema,
  row: RolloutRowSchema,
});

export const ScoreRolloutOperation = declareOperation({
  name: 'scoreRollout',
  queue: 'sandbox',
  description: 'the verdict of one rollout: every test passes in the sandbox, or the boxed answer equals the reference',
  params: ScoreRolloutParamsSchema,
  item: RolloutItemSchema,
  row: ScoredRolloutRowSchema,
});
