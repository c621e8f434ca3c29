// Model versions as the pipelines know them: what to send as `model` to a role's endpoint, and where it came from.
import { z } from 'zod';

/** A model version as the loop knows it: what to send as `model` to the role's endpoint, and where it came from. */
export const ModelVersionSchema = z
  .object({
    version: z.string().min(1),
    /** The served model name (e.g. a LoRA adapter's name); the role's configured model when absent. */
    model: z.string().min(1).optional(),
    adapter: z.string().min(1).optional(),
    endpoint: z.string().min(1).optional(),
  })
  .strict();
export type ModelVersion = z.infer<typeof ModelVersionSchema>;
