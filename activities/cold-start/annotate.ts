// Cold start of the EM loop (spec §1.4): concepts of a seed problem, then the rationale of (concepts, problem).
// Both use an instruct model through its chat template; their outputs build concept files and seed triples.
import { formatGeneration } from '../../domain/synthesize-corpus';
import {
  AnnotateRationaleOperation,
  ExtractConceptsOperation,
  parseConceptList,
  parseThinkingProcess,
  type AnnotateRationaleParams,
  type Annotator,
  type ExtractConceptsParams,
} from '../../domain/cold-start';
import { deriveSeed, hashToSeed } from '../../domain/core/seeds';
import type { InferencePool } from '../inference/pool';
import { numberedConcepts, render } from '../prompts';
import { implement, type ItemContext } from '../stage/operation';

type Params = ExtractConceptsParams | AnnotateRationaleParams;

/** The annotators that work on one problem (see AnnotatorSchema): all of them, or the one its id hashes to. */
function annotatorsFor(params: Params, id: string): Array<{ annotator: Annotator; k: number }> {
  const all = params.annotators ?? [{ role: params.role, ...(params.model ? { model: params.model } : {}) }];
  if (params.annotatorPolicy === 'all') return all.map((annotator, k) => ({ annotator, k }));
  const k = hashToSeed(id) % all.length;
  return [{ annotator: all[k]!, k }];
}

async function ask(
  pool: InferencePool,
  annotator: Annotator,
  params: Params,
  content: string,
  ctx: ItemContext,
  k: number,
) {
  const { client, model } = pool.forRole(annotator.role);
  const response = await client.chat(
    {
      messages: [{ role: 'user', content }],
      model: annotator.model ?? model,
      temperature: params.temperature,
      maxTokens: params.maxTokens,
      seed: deriveSeed(params.seed, ctx.sourceId, k),
      n: 1,
    },
    { signal: ctx.signal },
  );
  const answer = response.choices[0]?.text ?? '';
  return {
    answer,
    provenance: {
      sourceId: ctx.sourceId,
      stage: ctx.stage,
      model: response.model,
      role: annotator.role,
      usage: response.usage,
      attempt: ctx.attempt,
    },
  };
}

/** `{problem, level?}` → `{problem, foundational_concepts, level}`: a concept record for synthesis. */
export const extractConcepts = implement(ExtractConceptsOperation, {
  needs: ['pool'],
  async run(problem, params, ctx, { pool }) {
    const parsed = { data: problem };
    const content = render('concept-extraction', { problem: parsed.data.problem, num_concepts: params.numConcepts });
    const level = parsed.data.level ?? params.level;
    const several = params.annotatorPolicy === 'all';
    const outcomes = await Promise.all(
      annotatorsFor(params, ctx.sourceId).map(async ({ annotator, k }) => {
        const { answer, provenance } = await ask(pool, annotator, params, content, ctx, several ? k : 0);
        const concepts = parseConceptList(answer);
        if (!concepts) return { failed: { annotator: k, answer, ...provenance } };
        const id = several ? `${ctx.sourceId}~${k}` : ctx.sourceId;
        return {
          row: {
            id,
            problem: parsed.data.problem,
            foundational_concepts: concepts,
            level: level ?? null,
            annotator: { ...annotator, index: k },
            provenance,
          },
        };
      }),
    );
    const rows = outcomes.flatMap((o) => (o.row ? [o.row] : []));
    if (rows.length === 0)
      return {
        reject: 'no list of concepts in the answer',
        detail: outcomes.length === 1 ? outcomes[0]!.failed : outcomes.map((o) => o.failed),
      };
    return { rows };
  },
});

/** `{problem, foundational_concepts, level}` → the seed triple (c, z, x) with p_θ's training target. */
export const annotateRationale = implement(AnnotateRationaleOperation, {
  needs: ['pool'],
  async run(conceptProblem, params, ctx, { pool }) {
    const parsed = { data: conceptProblem };
    const { problem, foundational_concepts: concepts } = parsed.data;
    const level = parsed.data.level ?? params.level;
    if (level === undefined) return { reject: 'field level: missing, and no default level in params' };
    const content = render('rationale-annotation', {
      problem,
      numbered_concepts: numberedConcepts(concepts),
      difficulty_level: level,
    });
    // the annotator that extracted the concepts writes the rationale
    const recorded = parsed.data.annotator;
    const { annotator, k } = recorded
      ? {
          annotator: { role: recorded.role, ...(recorded.model ? { model: recorded.model } : {}) },
          k: recorded.index ?? 0,
        }
      : annotatorsFor({ ...params, annotatorPolicy: 'one' }, ctx.sourceId)[0]!;
    const { answer, provenance } = await ask(pool, annotator, params, content, ctx, k);
    const rationale = parseThinkingProcess(answer);
    if (!rationale)
      return { reject: "no text after 'Thinking Process:' in the answer", detail: { answer, ...provenance } };
    return {
      rows: [
        {
          id: ctx.sourceId,
          foundational_concepts: concepts,
          level,
          problem,
          rationale,
          target: formatGeneration(rationale, problem),
          annotator: { ...annotator, index: k },
          provenance,
        },
      ],
    };
  },
});
