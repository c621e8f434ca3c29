// The workflows users start (CLI, Web UI, schedules), with the schema of their single JSON input.
import type { z } from 'zod';
import { BatchInferenceInputSchema } from '../batch-inference';
import { StageRequestSchema } from './operations';
import { EmInputSchema } from '../em-rationale-loop';
import { SelfPlayInputSchema } from '../self-play';
import { SynthesizeCorpusInputSchema } from '../synthesize-corpus';
import { ColdStartInputSchema } from '../cold-start';

export const STARTABLE_WORKFLOWS: Record<string, { input: z.ZodType; description: string }> = {
  batchInference: {
    input: BatchInferenceInputSchema,
    description: 'JSONL prompts -> sampled completions with provenance',
  },
  mapDatasetStage: {
    input: StageRequestSchema,
    description: 'map one item operation over a dataset (the generic stage)',
  },
  synthesizeCorpus: {
    input: SynthesizeCorpusInputSchema,
    description: 'concept file -> passes of p_theta -> parsed, deduplicated, formatted problems',
  },
  coldStart: {
    input: ColdStartInputSchema,
    description: 'seed problems -> concepts -> rationales: concept files and seed triples',
  },
  selfPlay: {
    input: SelfPlayInputSchema,
    description:
      'verifiable rewards, then rounds of k policy rollouts -> verdicts -> chosen/rejected DPO pairs -> trainer -> next policy',
  },
  emRationaleLoop: {
    input: EmInputSchema,
    description: 'cold start, warm start, then EM iterations training q_phi (best-of-K rationales) and p_theta',
  },
};
