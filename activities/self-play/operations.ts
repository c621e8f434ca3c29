// Item operations of self-play (spec §3), run by the generic stage:
//  - prepareSelfPlayPrompt (cpu): checks the record, finds the statement inside the prompt, drops contaminated
//    prompts (exact and n-gram overlap with the benchmark files) and synthetic math prompts with a rejected pattern;
//  - constructReward (inference): code: the tests that came with the problem, else one test per round from the
//    test-case writer (JSON in a fenced block), set aside when too few are valid; math: the reference answer, else
//    the majority vote of N generations, set aside when there is none or it is trivial (synthetic math);
//  - sampleRollouts (inference): k rollouts of the policy per prompt, one row each, distinct seeds;
//  - scoreRollout (sandbox): the verdict of one rollout: all tests pass in the sandbox, or the boxed answer equals
//    the reference.
// A prompt set aside carries `detail.rule`, the rule name the round report counts it under.
import {
  extractAnswer,
  majorityVoteOfCompletions,
  matchedPromptPattern,
  mathEqualDetailed,
  trivialAnswerReason,
} from '../../domain/math';
import { findContamination } from '../../domain/contamination';
import {
  ConstructRewardOperation,
  domainOfSource,
  parseTestCaseCompletion,
  PrepareSelfPlayPromptOperation,
  problemOfPrompt,
  rolloutSeedKey,
  withoutChatTurn,
  SampleRolloutsOperation,
  ScoreRolloutOperation,
  type DropRule,
  type RolloutVerdict,
  type TestCaseRecord,
} from '../../domain/self-play';
import { chatSamples, seedsFor } from '../inference/chat-samples';
import { render } from '../prompts';
import { promptWrappers } from '../prompts/problems';
import { evaluateCompletion, isSandboxUnavailable } from '../sandbox/activities';
import { contaminationIndex } from './contamination-index';
import { implement, RetryLaterError, setAside } from '../stage/operation';

const drop = (rule: DropRule, reason: string, detail?: Record<string, unknown>) => setAside(rule, reason, detail);

export const prepareSelfPlayPrompt = implement(PrepareSelfPlayPromptOperation, {
  async run(p, params) {
    const domain = domainOfSource(p.source);
    // the policy gets the prompt as its user message, and the pair rows put the chat turn around it once
    const prompt = withoutChatTurn(p.prompt);
    const problem = p.problem ?? problemOfPrompt(prompt, promptWrappers());
    const { benchmarkFiles, ngram, referenceFiles, corpusAsReference, stockMinPrompts } = params.contamination;
    if (benchmarkFiles.length > 0) {
      const reference = {
        corpusFiles: corpusAsReference ? params.corpusFiles : [],
        referenceFiles,
        minPrompts: stockMinPrompts,
      };
      const hit = findContamination(problem, await contaminationIndex(benchmarkFiles, ngram, reference));
      if (hit)
        return drop(hit.rule, `overlaps ${hit.benchmark}${hit.ngram ? ` (${ngram}-gram "${hit.ngram}")` : ''}`, {
          benchmark: hit.benchmark,
          ngram: hit.ngram,
        });
    }
    if (p.source === 'PromptCoT-Math') {
      const pattern = matchedPromptPattern(prompt);
      if (pattern !== null)
        return drop('math-prompt-pattern', `prompt contains ${JSON.stringify(pattern)}`, { pattern });
    }
    const answer = p.answer !== undefined && p.answer !== null && p.answer.trim() !== '' ? p.answer : undefined;
    return {
      rows: [
        {
          id: p.id,
          source: p.source,
          domain,
          prompt,
          problem,
          ...(answer !== undefined ? { answer } : {}),
          ...(p.test_cases && p.test_cases.length > 0 ? { test_cases: p.test_cases } : {}),
          ...(p.completions ? { completions: p.completions } : {}),
        },
      ],
    };
  },
});

export const constructReward = implement(ConstructRewardOperation, {
  needs: ['pool'],
  async run(p, params, ctx, { pool }) {
    const item = ctx.record;
    if (p.domain === 'code') {
      if (p.test_cases && p.test_cases.length > 0)
        return { rows: [{ ...item, domain: p.domain, tests: p.test_cases, testOrigin: 'given' as const }] };
      const w = params.testCases;
      // one test per round, each round its own seed (spec §3.2: 4 rounds, seeds 0..3); rounds are independent
      const written = await chatSamples(
        pool,
        w,
        render('test-case-writer', { problem: p.problem }),
        seedsFor(params.seed, `${p.id}\u0000tests`, w.rounds),
        w,
        ctx.signal,
      );
      const rounds = written.map((sample, r) => ({
        round: r,
        parsed: parseTestCaseCompletion(sample.text),
        finishReason: sample.finishReason,
      }));
      const tests: TestCaseRecord[] = [];
      const seen = new Set<string>();
      const problems: string[] = [];
      for (const r of rounds) {
        if (!r.parsed.ok)
          problems.push(
            `round ${r.round}: ${r.parsed.reason}${r.finishReason === 'length' ? ' (cut at max tokens)' : ''}`,
          );
        else if (seen.has(r.parsed.test.input)) problems.push(`round ${r.round}: same input as an earlier round`);
        else {
          seen.add(r.parsed.test.input);
          tests.push(r.parsed.test);
        }
      }
      const writing = { rounds: w.rounds, valid: tests.length, problems };
      if (tests.length < w.minTests)
        return drop(
          'too-few-tests',
          `${tests.length} valid of ${w.rounds} written, ${w.minTests} needed (${problems.join('; ')})`,
          writing,
        );
      return { rows: [{ ...item, domain: p.domain, tests, testOrigin: 'written' as const, testWriting: writing }] };
    }
    let answer = p.answer ?? undefined;
    let answerOrigin: 'reference' | 'majority' = 'reference';
    let vote: Record<string, unknown> | undefined;
    if (answer === undefined) {
      const a = params.mathAnswers;
      const generations = await chatSamples(
        pool,
        a,
        p.prompt,
        seedsFor(params.seed, `${p.id}\u0000answer`, a.n),
        a,
        ctx.signal,
      );
      const result = majorityVoteOfCompletions(generations.map((g) => g.text));
      vote = {
        agreement: result.agreement,
        validCount: result.validCount,
        total: result.total,
        clusters: result.clusters.map((c) => ({ answer: c.representative, size: c.size })),
      };
      if (result.winner === null)
        return drop('no-answer', `no reference answer and none of ${a.n} generations gave one`, { vote });
      answer = result.winner;
      answerOrigin = 'majority';
    }
    if (p.source === 'PromptCoT-Math') {
      const trivial = trivialAnswerReason(answer);
      if (trivial !== null)
        return drop('trivial-answer', `answer ${JSON.stringify(answer)} is ${trivial}`, { answer, trivial });
    }
    return { rows: [{ ...item, domain: p.domain, answer, answerOrigin, ...(vote ? { vote } : {}) }] };
  },
});

export const sampleRollouts = implement(SampleRolloutsOperation, {
  needs: ['pool'],
  async run(p, params, ctx, { pool }) {
    const item = ctx.record;
    const earlier =
      params.reuseCompletions && Array.isArray(item.completions)
        ? (item.completions as unknown[]).filter((c): c is string => typeof c === 'string').slice(0, params.k)
        : [];
    // rollout j has seed deriveSeed(run seed, prompt⊕round, j): sampling only the missing ones keeps every seed
    const seeds = seedsFor(params.seed, rolloutSeedKey(p.id, params.round), params.k - earlier.length, earlier.length);
    const sampled = await chatSamples(pool, params, p.prompt, seeds, params.sampling, ctx.signal);
    const reward = p.domain === 'code' ? { tests: item.tests } : { answer: item.answer };
    const base = { itemId: p.id, round: params.round, source: p.source, domain: p.domain, prompt: p.prompt, ...reward };
    return {
      rows: [
        ...earlier.map((completion, j) => ({
          id: `${p.id}#${params.round}.${j}`,
          ...base,
          j,
          completion,
          reused: true,
        })),
        ...sampled.map((r, i) => {
          const j = earlier.length + i;
          return {
            id: `${p.id}#${params.round}.${j}`,
            ...base,
            j,
            completion: r.text,
            seed: r.seed,
            finishReason: r.finishReason,
            model: r.model,
            usage: r.usage,
            attempt: ctx.attempt,
          };
        }),
      ],
    };
  },
});

/** The verdict of one rollout, with what decided it. */
export type RolloutScore = {
  verdict: RolloutVerdict;
  reason: string;
  tests?: { passed: number; total: number; verdicts: Record<string, number> };
  extracted?: string;
};

/**
 * Why a rollout has no final answer to score, or undefined. The policy is a thinking model whose chat template opens
 * `<think>` in the prompt, so a completion without `</think>` (cut at max tokens, or never finished) is all
 * thinking: a `\boxed{}` or a program in it is a draft, not an answer.
 */
function noFinalAnswer(completion: string, finishReason: unknown): string | undefined {
  if (!completion.includes('</think>'))
    return finishReason === 'length' ? 'cut at max tokens while thinking' : 'thinking not finished: no </think>';
  return undefined;
}

export const scoreRollout = implement(ScoreRolloutOperation, {
  needs: ['sandbox'],
  async run(rollout, _params, ctx, { sandbox }) {
    const item = ctx.record;
    const completion = rollout.completion;
    let score: RolloutScore;
    const unfinished = noFinalAnswer(completion, item.finishReason);
    if (unfinished !== undefined) score = { verdict: 'fail', reason: unfinished };
    else if (item.domain === 'code') {
      const tests = item.tests as TestCaseRecord[] | undefined;
      if (!Array.isArray(tests) || tests.length === 0) return { reject: 'field tests: a code rollout needs tests' };
      try {
        const r = await evaluateCompletion(sandbox, { completion, tests }, { signal: ctx.signal });
        const verdicts: Record<string, number> = {};
        for (const v of r.verdicts) verdicts[v.verdict] = (verdicts[v.verdict] ?? 0) + 1;
        score = {
          verdict: r.reward === 1 ? 'pass' : 'fail',
          reason: r.noCode ? 'no program in the completion' : `${r.passed}/${r.total} tests pass`,
          tests: { passed: r.passed, total: r.total, verdicts },
        };
      } catch (err) {
        // this worker cannot run programs: the shard stops and is retried (elsewhere), no verdict is invented
        if (isSandboxUnavailable(err)) throw new RetryLaterError((err as Error).message);
        throw err;
      }
    } else {
      const reference = typeof item.answer === 'string' ? item.answer : '';
      const extracted = extractAnswer(completion);
      if (extracted === '') score = { verdict: 'fail', reason: 'no final answer', extracted };
      else {
        const r = mathEqualDetailed(extracted, reference);
        score = r.equal
          ? { verdict: 'pass', reason: `equal (${r.method})`, extracted }
          : r.timedOut
            ? { verdict: 'undecided', reason: `comparison stopped by the ${r.bound} bound`, extracted }
            : { verdict: 'fail', reason: 'not equal to the reference', extracted };
      }
    }
    return {
      rows: [
        {
          ...item,
          itemId: rollout.itemId,
          completion,
          verdict: score.verdict,
          reward: score.verdict === 'pass' ? (1 as const) : (0 as const),
          score,
          scoredBy: { stage: ctx.stage, attempt: ctx.attempt },
        },
      ],
    };
  },
});
