// Record schemas that dataset import can check line by line (bad records go to the rejects file with the field).
import type { z } from 'zod';
import { ConceptRecordSchema } from '../synthesize-corpus';
import { SelfPlayPromptSchema } from '../self-play';

export const RECORD_SCHEMAS = {
  concept: ConceptRecordSchema,
  /** a self-play (or SFT) prompt record: `id`, `source`, `prompt`, … */
  selfPlayPrompt: SelfPlayPromptSchema,
} satisfies Record<string, z.ZodType>;

export type RecordSchemaName = keyof typeof RECORD_SCHEMAS;
