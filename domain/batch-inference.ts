// Input of the batch inference pipeline: JSONL prompts in, sampled completions (with provenance) out.
import { z } from 'zod';
import { DatasetNameSchema } from './core/dataset';
import { ChatCompletionParamsSchema } from './registry/operations';

export const BatchInferenceInputSchema = z
  .object({
    /** Names the run's datasets: `<name>/input` and `<name>/completions`. */
    name: DatasetNameSchema,
    /** JSONL files on the workers' storage, each line an object with `prompt` (or `messages`). */
    inputFiles: z.array(z.string().min(1)).min(1),
    shardSize: z.number().int().min(1).max(100_000).default(1000),
    chat: ChatCompletionParamsSchema.prefault({}),
    maxConcurrentShards: z.number().int().min(1).max(500).default(8),
    itemConcurrency: z.number().int().min(1).max(4096).default(16),
    heartbeatTimeoutSeconds: z.number().positive().default(60),
  })
  .strict();
export type BatchInferenceInput = z.input<typeof BatchInferenceInputSchema>;
