// Item operations of the EM rationale loop (spec §1.5), run by the generic stage:
//  - sampleRationales: q_φ(z|c,x) over one triple, K samples (E-step, temperature 1.0) or one greedy decode
//    (M-step, temperature 0, output 'triple');
//  - scoreRationale: R(c,x,z) = log p_θ(z|c) + log p_θ(x|z,c) of one candidate from one teacher-forced scoring
//    request of p_θ (span sums over the rationale and the problem).
// Both q_φ and p_θ are called as raw completion models on the same text they are trained on (domain/em.ts).
import {
  generationCompletion,
  rationaleCompletion,
  SampleRationalesOperation,
  ScoreRationaleOperation,
  scoringSequence,
  THINKING_PREFIX,
  type CharSpan,
  type Triple,
} from '../../domain/em-rationale-loop';
import { deriveSeed } from '../../domain/core/seeds';
import { formatGeneration } from '../../domain/synthesize-corpus';
import { parseThinkingProcess } from '../../domain/cold-start';
import type { ScoredToken } from '../inference/spans';
import { numberedConcepts, render } from '../prompts';
import { conceptPrompt } from '../synthesize-corpus/generate-problem';
import { implement } from '../stage/operation';

/** q_φ's input for (c, x): the cold-start rationale prompt, followed by a blank line. */
export function rationalePrompt(t: Pick<Triple, 'foundational_concepts' | 'level' | 'problem'>): string {
  return `${render('rationale-annotation', { problem: t.problem, numbered_concepts: numberedConcepts(t.foundational_concepts), difficulty_level: t.level })}\n\n`;
}

/** p_θ's input for c: the concept prompt of problem synthesis. */
export function generationPrompt(t: Pick<Triple, 'foundational_concepts' | 'level'>): string {
  return conceptPrompt({ foundational_concepts: t.foundational_concepts, level: t.level } as Parameters<
    typeof conceptPrompt
  >[0]);
}

/** The rationale in a q_φ completion: after `Thinking Process:` when present (a trained q_φ writes it), else all of it. */
export function parseRationale(completion: string): string | undefined {
  const text = completion.includes(THINKING_PREFIX.trim()) ? parseThinkingProcess(completion) : completion.trim();
  return text ? text : undefined;
}

function tokensIn(tokens: readonly ScoredToken[], span: CharSpan): number {
  return tokens.filter((t) => t.offset >= span.start && t.offset < span.end).length;
}

export const sampleRationales = implement(SampleRationalesOperation, {
  needs: ['pool'],
  async run(triple, params, ctx, { pool }) {
    const { client, model } = pool.forRole(params.role, params.endpoint);
    const prompt = rationalePrompt(triple);
    const k = params.output === 'triple' ? 1 : params.k;
    const samples = await Promise.all(
      Array.from({ length: k }, async (_, i) => {
        const response = await client.complete(
          {
            prompt,
            model: params.model ?? model,
            temperature: params.temperature,
            maxTokens: params.maxTokens,
            seed: deriveSeed(params.seed, `${triple.id}#${i}`),
            n: 1,
          },
          { signal: ctx.signal },
        );
        const text = response.choices[0]?.text ?? '';
        return {
          k: i,
          rationale: parseRationale(text) ?? null,
          model: response.model,
          usage: response.usage,
          finishReason: response.choices[0]?.finishReason ?? null,
        };
      }),
    );
    const base = { foundational_concepts: triple.foundational_concepts, level: triple.level, problem: triple.problem };
    if (params.output === 'triple') {
      const s = samples[0]!;
      const rationale = s.rationale ?? triple.rationale;
      if (!rationale) return { reject: 'q_φ gave no rationale and the triple had none', detail: s };
      return {
        rows: [
          {
            id: triple.id,
            ...base,
            rationale,
            target: formatGeneration(rationale, triple.problem),
            decodeFailed: s.rationale === null,
            provenance: { model: s.model, usage: s.usage, attempt: ctx.attempt },
          },
        ],
      };
    }
    return {
      rows: samples.map((s) => ({
        id: `${triple.id}#${s.k}`,
        itemId: triple.id,
        k: s.k,
        ...base,
        previousRationale: triple.rationale ?? null,
        rationale: s.rationale,
        provenance: { model: s.model, usage: s.usage, finishReason: s.finishReason, attempt: ctx.attempt },
      })),
    };
  },
});

export const scoreRationale = implement(ScoreRationaleOperation, {
  needs: ['pool'],
  async run(c, params, ctx, { pool }) {
    const item = ctx.record as typeof c;
    // an unparseable sample stays in the output (so every item keeps its K rows), marked as not scored
    if (c.rationale === null || c.rationale.trim() === '')
      return { rows: [{ ...item, scored: false as const, scoreError: 'no rationale to score' }] };
    const { client, model } = pool.forRole(params.role, params.endpoint);
    const seq = scoringSequence(generationPrompt(c), c.rationale, c.problem);
    const scores = await client.scoreSpans(
      { text: seq.text, spans: [seq.rationale, seq.problem], model: params.model ?? model },
      { signal: ctx.signal },
    );
    const [logpZ, logpX] = scores.spanLogProbs as [number, number];
    return {
      rows: [
        {
          ...item,
          scored: true as const,
          logpZ,
          logpX,
          reward: logpZ + logpX,
          tokensZ: tokensIn(scores.tokens, seq.rationale),
          tokensX: tokensIn(scores.tokens, seq.problem),
          scoredWith: scores.model,
        },
      ],
    };
  },
});

/** q_φ's and p_θ's SFT rows for a triple (the same texts the operations above sample and score). */
export function sftRow(
  role: 'rationaleModel' | 'promptGenerator',
  t: Triple & { rationale: string },
): { prompt: string; completion: string } {
  return role === 'rationaleModel'
    ? { prompt: rationalePrompt(t), completion: rationaleCompletion(t.rationale) }
    : { prompt: generationPrompt(t), completion: generationCompletion(t.rationale, t.problem) };
}
