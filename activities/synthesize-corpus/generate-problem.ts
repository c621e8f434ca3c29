// Problem synthesis, one concept record and one sampling pass per item (spec §2.2–2.3): the prompt generation
// model p_θ completes the raw concept prompt (no chat template), and its output is parsed into rationale + problem.
import {
  GenerateProblemOperation,
  mathFilterReason,
  parseGeneration,
  type ConceptRecord,
} from '../../domain/synthesize-corpus';
import { formatProblem } from '../prompts/problems';
import { numberedConcepts, render } from '../prompts';
import { implement } from '../stage/operation';

/** The raw input of p_θ: the record's own prompt, or the problem-generation template over its concepts. */
export function conceptPrompt(record: ConceptRecord): string {
  if (record.prompt !== undefined) return record.prompt;
  const concepts = record.foundational_concepts ?? record.concepts ?? [];
  return render('problem-generation', { numbered_concepts: numberedConcepts(concepts), level: record.level ?? '' });
}

export const generateProblem = implement(GenerateProblemOperation, {
  needs: ['pool'],
  async run(record, params, ctx, { pool }) {
    const { client, model } = pool.forRole(params.role, params.endpoint);
    const response = await client.complete(
      {
        prompt: conceptPrompt(record),
        model: params.model ?? model,
        seed: params.seed,
        temperature: params.temperature,
        topP: params.topP,
        maxTokens: params.maxTokens,
        n: 1,
      },
      { signal: ctx.signal },
    );
    const completion = response.choices[0]?.text ?? '';
    const generation = parseGeneration(completion);
    const provenance = {
      conceptSetId: ctx.sourceId,
      pass: params.pass,
      seed: params.seed,
      model: response.model,
      finishReason: response.choices[0]?.finishReason ?? null,
      usage: response.usage,
      attempt: ctx.attempt,
    };
    if (!generation.ok) return { reject: generation.reason, detail: { completion, ...provenance } };
    const prompt = formatProblem(params.domain, generation.problem);
    if (params.domain === 'math' && params.mathFilters) {
      const reason = mathFilterReason(prompt);
      if (reason) return { reject: reason, detail: { problem: generation.problem, ...provenance } };
    }
    return {
      rows: [
        {
          id: `${ctx.sourceId}@${params.pass}`,
          ...provenance,
          domain: params.domain,
          concepts: record.foundational_concepts ?? record.concepts ?? null,
          level: record.level ?? null,
          rationale: generation.rationale,
          problem: generation.problem,
          prompt,
        },
      ],
    };
  },
});
