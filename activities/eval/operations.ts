// Item operations of evaluation (spec §5), run by the generic stage:
//  - sampleCell (inference): one sample of a cell at seed + run; a pre-templated prompt goes raw to
//    /v1/completions (the benchmarks end their prompt with `<think>\n`), a plain one through the chat template;
//  - scoreCell (sandbox): math by our verifier in both modes, the primary one deciding (strict: the last
//    `\boxed{}` after `</think>`; qwen-parity: the published scorer's whole-text extraction with the last-number
//    fallback); code by the sandbox under LiveCodeBench rules (every test passes, a per-test time limit,
//    call-based when the problem names a function).
import { performance } from 'node:perf_hooks';
import { lastBoxedContent, mathEqualDetailed, textAfterThink, extractAnswer } from '../../domain/math';
import { SampleCellOperation, ScoreCellOperation, type Scorer } from '../../domain/evaluate';
import { chatSamples } from '../inference/chat-samples';
import { evaluateCompletion, isSandboxUnavailable } from '../sandbox/activities';
import { implement, RetryLaterError } from '../stage/operation';
import { loadTests } from './tests';

export const sampleCell = implement(SampleCellOperation, {
  needs: ['pool'],
  async run(cell, sampling, ctx, { pool }) {
    const started = performance.now();
    const target = cell.target;
    let completion: string;
    let finishReason: string | null;
    let usage: { promptTokens: number; completionTokens: number };
    let servedBy: string;
    if (cell.templated) {
      const { client, model } = pool.forRole(target.role, target.endpoint);
      const r = await client.complete(
        {
          prompt: cell.prompt,
          model: target.model ?? model,
          temperature: sampling.temperature,
          topP: sampling.topP,
          maxTokens: sampling.maxTokens,
          seed: cell.seed,
          n: 1,
        },
        { signal: ctx.signal },
      );
      completion = r.choices[0]?.text ?? '';
      finishReason = r.choices[0]?.finishReason ?? null;
      usage = r.usage;
      servedBy = r.model;
    } else {
      const [s] = await chatSamples(pool, target, cell.prompt, [cell.seed], sampling, ctx.signal);
      completion = s!.text;
      finishReason = s!.finishReason;
      usage = s!.usage;
      servedBy = s!.model;
    }
    return {
      rows: [
        {
          ...cell,
          completion,
          finishReason,
          outputTokens: usage.completionTokens,
          promptTokens: usage.promptTokens,
          servedBy,
          latencyMs: Math.round(performance.now() - started),
          attempt: ctx.attempt,
        },
      ],
    };
  },
});

/** The math verdicts of a completion in both modes. */
export function mathVerdicts(
  completion: string,
  reference: string,
): { strict: { correct: boolean; extracted: string }; parity: { correct: boolean; extracted: string } } {
  // strict: a thinking model's answer is the last box after its reasoning; none when the reasoning never ended
  const strictBox = completion.includes('</think>') ? lastBoxedContent(textAfterThink(completion)) : null;
  const strict = strictBox === null ? '' : strictBox;
  const parity = extractAnswer(completion, { wholeText: true });
  const equal = (x: string) => x !== '' && mathEqualDetailed(x, reference).equal;
  return {
    strict: { correct: equal(strict), extracted: strict },
    parity: { correct: equal(parity), extracted: parity },
  };
}

function primary(scorer: Scorer, v: ReturnType<typeof mathVerdicts>): { correct: boolean; extracted: string } {
  return scorer.math === 'strict' ? v.strict : v.parity;
}

export const scoreCell = implement(ScoreCellOperation, {
  needs: ['sandbox'],
  async run(cell, params, ctx, { sandbox }) {
    const truncated = cell.finishReason === 'length';
    const base = {
      id: cell.id,
      model: cell.model,
      benchmark: cell.benchmark,
      kind: cell.kind,
      problem: cell.problem,
      run: cell.run,
      seed: cell.seed,
      ...(cell.problemId !== undefined ? { problemId: cell.problemId } : {}),
      truncated,
      outputTokens: cell.outputTokens,
      latencyMs: cell.latencyMs,
      scorer: params.version,
    };
    if (cell.kind === 'math') {
      if (cell.answer === undefined) return { reject: 'field answer: a math cell needs the reference answer' };
      const v = mathVerdicts(cell.completion, cell.answer);
      const p = primary(params.scorer, v);
      return {
        rows: [
          {
            ...base,
            correct: p.correct,
            answered: p.extracted !== '',
            reason:
              p.extracted === ''
                ? truncated
                  ? 'cut at max tokens, no answer'
                  : 'no final answer'
                : p.correct
                  ? 'equal to the reference'
                  : 'not equal to the reference',
            strict: v.strict,
            parity: v.parity,
          },
        ],
      };
    }
    if (!cell.tests) return { reject: 'field tests: a code cell needs its tests' };
    const { tests, fnName } = await loadTests(cell.tests, cell.fnName);
    const limitMs = params.scorer.timeLimitSeconds * 1000;
    try {
      const r = await evaluateCompletion(
        { ...sandbox, wallTimeMs: limitMs, cpuTimeMs: limitMs },
        { completion: cell.completion, tests, ...(fnName !== undefined ? { fnName } : {}) },
        { signal: ctx.signal },
      );
      return {
        rows: [
          {
            ...base,
            correct: r.reward === 1,
            answered: !r.noCode,
            reason: r.noCode ? 'no program in the completion' : `${r.passed}/${r.total} tests pass`,
            tests: { passed: r.passed, total: r.total },
          },
        ],
      };
    } catch (err) {
      // this worker cannot run programs: the shard stops and is retried (elsewhere), no verdict is invented
      if (isSandboxUnavailable(err)) throw new RetryLaterError((err as Error).message);
      throw err;
    }
  },
});
