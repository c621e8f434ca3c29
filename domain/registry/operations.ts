// Item operations that a stage can map over a dataset: their names, parameter schemas and the queue they run on.
// Workflows validate parameters here before scheduling any work; activities/operations implements them.
import { z } from 'zod';
import { MODEL_ROLES } from '../platform/config';
import { SampleRationalesParamsSchema, ScoreRationaleParamsSchema } from '../em-rationale-loop';
import { ConstructRewardParamsSchema, CrossCheckParamsSchema, PrepareSelfPlayParamsSchema, SampleRolloutsParamsSchema, ScoreRolloutParamsSchema } from '../self-play';
import { AnnotateRationaleParamsSchema, ExtractConceptsParamsSchema, GenerateProblemParamsSchema } from '../synthesize-corpus';

/** Where an operation's shard activities run: a queue kind from temporal.yaml. */
export const QueueKindSchema = z.enum(['orchestration', 'inference', 'cpu', 'sandbox', 'training']);
export type QueueKind = z.infer<typeof QueueKindSchema>;

export const NoopParamsSchema = z
  .object({
    /** Simulated work per item, for tests and benchmarks. */
    delayMs: z.number().int().nonnegative().default(0),
  })
  .strict();

export const SamplingSchema = z
  .object({
    n: z.number().int().min(1).max(128).default(1),
    temperature: z.number().min(0).max(5).default(0.8),
    topP: z.number().gt(0).max(1).default(1),
    maxTokens: z.number().int().positive().default(4096),
    stop: z.array(z.string()).max(16).optional(),
    /** Run seed; each item's request seed is derived from it and the item id. */
    seed: z.number().int().nonnegative().default(0),
  })
  .strict();
export type Sampling = z.output<typeof SamplingSchema>;

export const ChatCompletionParamsSchema = z
  .object({
    role: z.enum(MODEL_ROLES).default('policy'),
    /** Overrides the role's model name. */
    model: z.string().min(1).optional(),
    sampling: SamplingSchema.prefault({}),
    /** Item field holding the user prompt (a string) when the item has no `messages`. */
    promptField: z.string().min(1).default('prompt'),
    system: z.string().optional(),
  })
  .strict();
export type ChatCompletionParams = z.output<typeof ChatCompletionParamsSchema>;

export const OPERATIONS = {
  noop: { queue: 'cpu' as QueueKind, params: NoopParamsSchema },
  chatCompletion: { queue: 'inference' as QueueKind, params: ChatCompletionParamsSchema },
  generateProblem: { queue: 'inference' as QueueKind, params: GenerateProblemParamsSchema },
  extractConcepts: { queue: 'inference' as QueueKind, params: ExtractConceptsParamsSchema },
  annotateRationale: { queue: 'inference' as QueueKind, params: AnnotateRationaleParamsSchema },
  sampleRationales: { queue: 'inference' as QueueKind, params: SampleRationalesParamsSchema },
  scoreRationale: { queue: 'inference' as QueueKind, params: ScoreRationaleParamsSchema },
  prepareSelfPlayPrompt: { queue: 'cpu' as QueueKind, params: PrepareSelfPlayParamsSchema },
  constructReward: { queue: 'inference' as QueueKind, params: ConstructRewardParamsSchema },
  crossCheckTests: { queue: 'sandbox' as QueueKind, params: CrossCheckParamsSchema },
  sampleRollouts: { queue: 'inference' as QueueKind, params: SampleRolloutsParamsSchema },
  scoreRollout: { queue: 'sandbox' as QueueKind, params: ScoreRolloutParamsSchema },
} as const;

export type OperationName = keyof typeof OPERATIONS;
export const OPERATION_NAMES = Object.keys(OPERATIONS) as [OperationName, ...OperationName[]];

export function isOperationName(name: string): name is OperationName {
  return Object.prototype.hasOwnProperty.call(OPERATIONS, name);
}
