// Sampling settings shared by the pipelines' model calls (one fragment, not a copy per schema).
import { z } from 'zod';

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
