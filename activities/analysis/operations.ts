// Item operations of the corpus analyses (spec §6), run by the generic stage:
//  - teacherReference (inference): the teacher's answer to a sampled problem, one chat request at a seed derived
//    from the run seed and the item; math: the last `\boxed{}` of its final answer (after any `</think>`, the
//    content when the server returns the reasoning apart) is the reference, null when there is none; its completion
//    tokens (reasoning included, as the server counts them) are the difficulty's token measure;
//  - solveProblem (inference): the solver's zero-shot answer; a math item without a reference and a code item
//    without tests are set aside under `no-reference` / `no-tests` (the report counts them, nothing is invented);
//  - scoreSolution (sandbox): math by our verifier (the solver's last box against the reference), code by the
//    sandbox (every test passes, call-based when the problem names a function);
//  - embedProblem (cpu): the L2-normalised sentence embedding of one problem (./embedders.ts).
import {
  analysisPrompt,
  EmbedProblemOperation,
  ScoreSolutionOperation,
  SolveProblemOperation,
  TeacherReferenceOperation,
} from '../../domain/analyze-corpora';
import { lastBoxedContent, mathEqualDetailed, textAfterThink } from '../../domain/math';
import { chatSamples, seedsFor } from '../inference/chat-samples';
import { evaluateCompletion, isSandboxUnavailable } from '../sandbox/activities';
import { implement, RetryLaterError, setAside } from '../stage/operation';
import { embedderFor, encodeVector } from './embedders';

/** The final answer of a chat sample: its content, after `</think>` when the reasoning came inline. */
function finalAnswer(content: string): string {
  return textAfterThink(content);
}

export const teacherReference = implement(TeacherReferenceOperation, {
  needs: ['pool'],
  async run(item, params, ctx, { pool }) {
    const [seed] = seedsFor(params.seed, `${item.id}\u0000analysis-teacher`, 1);
    const extra = params.reasoningEffort ? { reasoning_effort: params.reasoningEffort } : undefined;
    const [s] = await chatSamples(
      pool,
      params,
      analysisPrompt(item.domain, item.problem, item.fnName),
      [seed!],
      { ...params, ...(extra ? { extra } : {}) },
      ctx.signal,
    );
    const content = finalAnswer(s!.content);
    const reference = item.domain === 'math' && s!.finishReason !== 'length' ? lastBoxedContent(content) : null;
    return {
      rows: [
        {
          ...item,
          teacher: {
            content,
            reference,
            completionTokens: s!.usage.completionTokens,
            ...(s!.usage.reasoningTokens !== undefined ? { reasoningTokens: s!.usage.reasoningTokens } : {}),
            finishReason: s!.finishReason,
            model: s!.model,
            attempt: ctx.attempt,
          },
        },
      ],
    };
  },
});

export const solveProblem = implement(SolveProblemOperation, {
  needs: ['pool'],
  async run(item, params, ctx, { pool }) {
    if (item.domain === 'math' && item.teacher.reference === null)
      return setAside('no-reference', "the teacher's answer has no \\boxed{} reference", {
        corpus: item.corpus,
        finishReason: item.teacher.finishReason,
      });
    if (item.domain === 'code' && !item.tests?.length)
      return setAside('no-tests', 'a code problem without tests has no pass rate', { corpus: item.corpus });
    const [seed] = seedsFor(params.seed, `${item.id}\u0000analysis-solver`, 1);
    const [s] = await chatSamples(
      pool,
      params,
      analysisPrompt(item.domain, item.problem, item.fnName),
      [seed!],
      params,
      ctx.signal,
    );
    const { tests: _t, ...rest } = item;
    return {
      rows: [
        {
          ...rest,
          ...(item.tests ? { tests: item.tests } : {}),
          teacher: item.teacher,
          solver: {
            content: s!.text,
            completionTokens: s!.usage.completionTokens,
            finishReason: s!.finishReason,
            model: s!.model,
            attempt: ctx.attempt,
          },
        },
      ],
    };
  },
});

export const scoreSolution = implement(ScoreSolutionOperation, {
  needs: ['sandbox'],
  async run(item, params, ctx, { sandbox }) {
    const base = {
      id: item.id,
      corpus: item.corpus,
      itemId: item.itemId,
      domain: item.domain,
      teacherTokens: item.teacher.completionTokens,
      solverTokens: item.solver.completionTokens,
    };
    if (item.domain === 'math') {
      const reference = item.teacher.reference;
      if (reference === null) return setAside('no-reference', 'no reference to score against', { corpus: item.corpus });
      const extracted = lastBoxedContent(finalAnswer(item.solver.content)) ?? '';
      const correct = extracted !== '' && mathEqualDetailed(extracted, reference).equal;
      return {
        rows: [
          {
            ...base,
            correct,
            extracted,
            reference,
            reason:
              extracted === ''
                ? 'no final \\boxed{} answer'
                : correct
                  ? 'equal to the reference'
                  : 'not equal to the reference',
          },
        ],
      };
    }
    if (!item.tests?.length) return setAside('no-tests', 'no tests to run', { corpus: item.corpus });
    const limitMs = params.timeLimitSeconds * 1000;
    try {
      const r = await evaluateCompletion(
        { ...sandbox, wallTimeMs: limitMs, cpuTimeMs: limitMs },
        { completion: item.solver.content, tests: item.tests, ...(item.fnName ? { fnName: item.fnName } : {}) },
        { signal: ctx.signal },
      );
      return {
        rows: [
          {
            ...base,
            correct: r.reward === 1,
            extracted: r.noCode ? '' : 'program',
            tests: { passed: r.passed, total: r.total },
            reason: r.noCode ? 'no program in the answer' : `${r.passed}/${r.total} tests pass`,
          },
        ],
      };
    } catch (err) {
      // this worker cannot run programs: the shard is retried (elsewhere), no verdict is invented
      if (isSandboxUnavailable(err)) throw new RetryLaterError((err as Error).message);
      throw err;
    }
  },
});

export const embedProblem = implement(EmbedProblemOperation, {
  async run(item, params, ctx) {
    if (params.embedder.kind === 'auto')
      return { reject: 'params embedder: `auto` is resolved by prepareCorpusAnalysis before the stage' };
    const embedder = await embedderFor(params.embedder);
    const vector = await embedder.embed(item.problem, ctx.signal);
    return {
      rows: [{ id: item.id, corpus: item.corpus, vector: encodeVector(vector), dimensions: vector.length }],
    };
  },
});
