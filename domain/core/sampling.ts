// Sampling settings shared by the pipelines' model calls (one fragment, not a copy per schema).
import { z } from 'zod';

/** The temperature, top_p and output-token fields of a model call, with the defaults of the call they belong to. */
export const temperatureField = (value: number) => z.number().min(0).max(5).default(value);
export const topPField = (value = 1) => z.number().gt(0).max(1).default(value);
export const maxTokensField = (value: number) => z.number().int().positive().default(value);

export const SamplingSchema = z
  .object({
    n: z.number().int().min(1).max(128).default(1),
    temperature: temperatureField(0.8),
    topP: topPField(),
    maxTokens: maxTokensField(4096),
    stop: z.array(z.string()).max(16).optional(),
    /** Run seed; each item's request seed is derived from it and the item id. */
    seed: z.number().int().nonnegative().default(0),
  })
  .strict();
export type Sampling = z.output<typeof SamplingSchema>;
