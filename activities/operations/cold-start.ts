// Cold start of the EM loop (spec §1.4): concepts of a seed problem, then the rationale of (concepts, problem).
// Both use an instruct model through its chat template; their outputs build concept files and seed triples.
import { z } from 'zod';
import {
  AnnotateRationaleParamsSchema,
  ExtractConceptsParamsSchema,
  formatGeneration,
  parseConceptList,
  parseThinkingProcess,
  type AnnotateRationaleParams,
  type ExtractConceptsParams,
} from '../../domain/synthesis';
import { deriveSeed } from '../../domain/seeds';
import { fieldProblems } from '../../domain/validation';
import type { InferencePool } from '../inference/pool';
import { numberedConcepts, render } from '../prompts';
import { validateWith } from './validate';
import type { ItemContext, ItemOperation } from './types';

const SeedProblemSchema = z.object({ problem: z.string().trim().min(1), level: z.string().trim().min(1).optional() }).loose();
const ConceptProblemSchema = SeedProblemSchema.extend({ foundational_concepts: z.array(z.string().trim().min(1)).min(1) });

function badField(error: z.ZodError): { reject: string } {
  const p = fieldProblems(error)[0]!;
  return { reject: `field ${p.field}: ${p.message}` };
}

async function ask(pool: InferencePool, params: ExtractConceptsParams | AnnotateRationaleParams, content: string, ctx: ItemContext) {
  const { client, model } = pool.forRole(params.role);
  const response = await client.chat(
    { messages: [{ role: 'user', content }], model: params.model ?? model, temperature: params.temperature, maxTokens: params.maxTokens, seed: deriveSeed(params.seed, ctx.sourceId), n: 1 },
    { signal: ctx.signal },
  );
  const answer = response.choices[0]?.text ?? '';
  return { answer, provenance: { sourceId: ctx.sourceId, stage: ctx.stage, model: response.model, role: params.role, usage: response.usage, attempt: ctx.attempt } };
}

/** `{problem, level?}` → `{problem, foundational_concepts, level}`: a concept record for synthesis. */
export function extractConceptsOperation(pool: InferencePool): ItemOperation<ExtractConceptsParams> {
  return {
    parseParams: (params) => validateWith(ExtractConceptsParamsSchema, params ?? {}, 'params'),
    async run(item, params, ctx) {
      const parsed = SeedProblemSchema.safeParse(item);
      if (!parsed.success) return badField(parsed.error);
      const { answer, provenance } = await ask(pool, params, render('concept-extraction', { problem: parsed.data.problem, num_concepts: params.numConcepts }), ctx);
      const concepts = parseConceptList(answer);
      if (!concepts) return { reject: 'no list of concepts in the answer', detail: { answer, ...provenance } };
      const level = parsed.data.level ?? params.level;
      return { rows: [{ id: ctx.sourceId, problem: parsed.data.problem, foundational_concepts: concepts, level: level ?? null, provenance }] };
    },
  };
}

/** `{problem, foundational_concepts, level}` → the seed triple (c, z, x) with p_θ's training target. */
export function annotateRationaleOperation(pool: InferencePool): ItemOperation<AnnotateRationaleParams> {
  return {
    parseParams: (params) => validateWith(AnnotateRationaleParamsSchema, params ?? {}, 'params'),
    async run(item, params, ctx) {
      const parsed = ConceptProblemSchema.safeParse(item);
      if (!parsed.success) return badField(parsed.error);
      const { problem, foundational_concepts: concepts } = parsed.data;
      const level = parsed.data.level ?? params.level;
      if (level === undefined) return { reject: 'field level: missing, and no default level in params' };
      const content = render('rationale-annotation', { problem, numbered_concepts: numberedConcepts(concepts), difficulty_level: level });
      const { answer, provenance } = await ask(pool, params, content, ctx);
      const rationale = parseThinkingProcess(answer);
      if (!rationale) return { reject: "no text after 'Thinking Process:' in the answer", detail: { answer, ...provenance } };
      return {
        rows: [{ id: ctx.sourceId, foundational_concepts: concepts, level, problem, rationale, target: formatGeneration(rationale, problem), provenance }],
      };
    },
  };
}
