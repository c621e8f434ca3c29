// Item operations of SFT distillation (spec §4), run by the generic stage:
//  - prepareSftPrompt (cpu): checks a prompt record, finds its domain and user message, and makes its n cells;
//  - teacherTrajectory (inference): one chat request per cell (its own reproducible seed), the raw answer, the
//    separately returned reasoning, finish reason, tokens and model kept as the server sent them;
//  - filterTrace (cpu): normalisation, then the per-cell filters in rule order (domain/sft-distill.ts), then the
//    published row with its student-token count.
// A cell set aside carries `detail.rule`, the rule name the report counts it under. A stage retry re-asks only
// the cells no earlier attempt finished: each cell is one item.
import { lastBoxedContent, mathEqualDetailed, textAfterThink } from '../../domain/math';
import {
  domainOfPrompt,
  FilterTraceOperation,
  normaliseTrace,
  PrepareSftPromptOperation,
  sftCompletion,
  sftPrompt,
  TeacherTrajectoryOperation,
  traceSeedKey,
  userMessage,
  type SftRule,
} from '../../domain/sft-distill';
import { chatSamples, seedsFor } from '../inference/chat-samples';
import { extractCode } from '../sandbox/extract-code';
import { implement, setAside } from '../stage/operation';
import { loadTokenCounter } from './token-counter';

/** Tokens the length rule adds to the count of prompt + completion (spec §4.2 step 4, the published `+ 20`). */
export const LENGTH_MARGIN = 20;

const drop = (rule: SftRule, reason: string, detail?: Record<string, unknown>) => setAside(rule, reason, detail);

export const prepareSftPrompt = implement(PrepareSftPromptOperation, {
  async run(p, params) {
    const domain = domainOfPrompt(p, params.domain);
    if (!domain)
      return drop('invalid-record', 'field domain: no domain, source or run default (code or math)', {
        cells: params.n,
      });
    const answer = p.answer !== undefined && p.answer !== null && p.answer.trim() !== '' ? p.answer : undefined;
    const prompt = userMessage(p.prompt);
    return {
      rows: Array.from({ length: params.n }, (_, j) => ({
        id: `${p.id}#${j}`,
        itemId: p.id,
        j,
        domain,
        prompt,
        ...(answer !== undefined ? { answer } : {}),
      })),
    };
  },
});

export const teacherTrajectory = implement(TeacherTrajectoryOperation, {
  needs: ['pool'],
  async run(cell, params, ctx, { pool }) {
    const t = params.teacher;
    const [seed] = seedsFor(params.seed, traceSeedKey(cell.itemId), 1, cell.j);
    const extra = t.reasoningEffort ? { reasoning_effort: t.reasoningEffort } : undefined;
    const [sample] = await chatSamples(
      pool,
      t,
      cell.prompt,
      [seed!],
      { ...t, ...(extra ? { extra } : {}) },
      ctx.signal,
    );
    const s = sample!;
    return {
      rows: [
        {
          id: cell.id,
          itemId: cell.itemId,
          j: cell.j,
          domain: cell.domain,
          prompt: cell.prompt,
          ...(cell.answer !== undefined ? { answer: cell.answer } : {}),
          raw: s.content,
          ...(s.reasoning !== undefined ? { reasoning: s.reasoning } : {}),
          finishReason: s.finishReason,
          usage: { promptTokens: s.usage.promptTokens, completionTokens: s.usage.completionTokens },
          model: s.model,
          seed: s.seed,
          attempt: ctx.attempt,
        },
      ],
    };
  },
});

export const filterTrace = implement(FilterTraceOperation, {
  async run(t, filters) {
    if (t.finishReason === 'length') return drop('cut-at-length', 'the teacher stopped at max tokens');
    const normalised = normaliseTrace(t.raw, t.reasoning, filters.traceFormat);
    if (!normalised.ok) return drop(normalised.rule, normalised.reason);
    const { trace, format } = normalised;
    const answerPart = textAfterThink(trace);
    if (t.domain === 'code') {
      if (extractCode(answerPart) === undefined)
        return drop('no-code', 'no program in the last fenced block after </think>');
    } else {
      const boxed = lastBoxedContent(answerPart);
      if (boxed === null) return drop('no-boxed', 'no final \\boxed{} after </think>');
      if (filters.verifyMath) {
        if (t.answer === undefined) return drop('no-reference-answer', 'verifyMath: the prompt has no answer field');
        const r = mathEqualDetailed(boxed, t.answer);
        if (!r.equal)
          return drop(
            'wrong-answer',
            r.timedOut
              ? `comparison of ${JSON.stringify(boxed)} with ${JSON.stringify(t.answer)} stopped by the ${r.bound} bound`
              : `final answer ${JSON.stringify(boxed)} is not ${JSON.stringify(t.answer)}`,
            { boxed, answer: t.answer },
          );
      }
    }
    const prompt = sftPrompt(t.prompt);
    const completion = sftCompletion(trace);
    const counter = await loadTokenCounter(filters.tokenizer);
    const tokens = counter.count(prompt + completion);
    const length = tokens + LENGTH_MARGIN;
    if (length >= filters.maxLen || length < filters.minLen)
      return drop(
        'too-long',
        `${tokens} + ${LENGTH_MARGIN} student tokens, allowed [${filters.minLen}, ${filters.maxLen})`,
        { tokens, tokenizer: counter.id },
      );
    return {
      rows: [
        {
          id: t.id,
          itemId: t.itemId,
          j: t.j,
          domain: t.domain,
          prompt,
          completion,
          tokens,
          tokenizer: counter.id,
          format,
          model: t.model,
          seed: t.seed,
        },
      ],
    };
  },
});
