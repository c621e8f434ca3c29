// The batch inference pipeline: JSONL prompts in, sampled completions (with provenance) out, through the
// chatCompletion operation.
import { z } from 'zod';
import { roleModelFields, shardSizeField, STAGE_RUN_FIELDS } from './core/fragments';
import { DatasetNameSchema } from './core/dataset';
import { AnyRecordSchema, declareOperation } from './core/operation';
import { MODEL_ROLES } from './core/roles';
import { SamplingSchema } from './core/sampling';

export const ChatCompletionParamsSchema = z
  .object({
    ...roleModelFields('policy'),
    sampling: SamplingSchema.prefault({}),
    /** Item field holding the user prompt (a string) when the item has no `messages`. */
    promptField: z.string().min(1).default('prompt'),
    system: z.string().optional(),
  })
  .strict();
export type ChatCompletionParams = z.output<typeof ChatCompletionParamsSchema>;

export const ChatMessageSchema = z.object({ role: z.enum(['system', 'user', 'assistant']), content: z.string() });
export type ChatMessage = z.infer<typeof ChatMessageSchema>;

/** One sampled completion of an item's messages (or prompt field), with its provenance. */
export const CompletionRowSchema = z
  .object({
    id: z.string(),
    sourceId: z.string(),
    sample: z.number().int().nonnegative(),
    messages: z.array(ChatMessageSchema).min(1),
    completion: z.string(),
    finishReason: z.string().nullable(),
    provenance: z
      .object({
        stage: z.string(),
        sourceId: z.string(),
        role: z.enum(MODEL_ROLES),
        model: z.string(),
        attempt: z.number(),
      })
      .loose(),
  })
  .strict();

export const ChatCompletionOperation = declareOperation({
  name: 'chatCompletion',
  queue: 'inference',
  description: 'one chat completion request per record (n samples) through the endpoint of a model role',
  params: ChatCompletionParamsSchema,
  // `messages` or the prompt field named by the params: checked by the operation, which knows the field
  item: AnyRecordSchema,
  row: CompletionRowSchema,
});

export const BatchInferenceInputSchema = z
  .object({
    /** Names the run's datasets: `<name>/input` and `<name>/completions`. */
    name: DatasetNameSchema,
    /** JSONL files on the workers' storage, each line an object with `prompt` (or `messages`). */
    inputFiles: z.array(z.string().min(1)).min(1),
    shardSize: shardSizeField(1000),
    chat: ChatCompletionParamsSchema.prefault({}),
    ...STAGE_RUN_FIELDS,
  })
  .strict();
export type BatchInferenceInput = z.input<typeof BatchInferenceInputSchema>;
