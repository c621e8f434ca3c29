// Final-answer extraction from a model completion: the published grader's `extract_answer` (Qwen2.5-Math parser),
// with its bugs fixed.
//
// 1. Only the text after the first `</think>` is read when the completion has one (the whole text otherwise, as
//    for code extraction in activities/sandbox/extract-code.ts). The published self-play check read the whole
//    completion, so a `\boxed{}` inside the reasoning counted when the final part had none (spec §8.10); voting
//    and checking now read the same text.
// 2. The LAST complete, non-empty `\boxed{...}` / `\fbox{...}` / `\framebox{...}`, with balanced braces (nested
//    groups such as `\boxed{\frac{\sqrt{3}}{2}}` are kept whole). `\boxed 5` without braces takes the next token.
//    A box whose braces never close (a truncated completion) or an empty `\boxed{}` is skipped in favour of the
//    previous box. The published code split on the bare word "boxed" (prose mentioning "boxed" broke it) and
//    took everything to the end of the text when braces did not balance.
// 3. Otherwise the text after the last "the answer is" / "final answer is" / "final answer:" (any case), up to
//    the end of its math span (`$...$`), line or sentence; the published code took everything to the end.
// 4. Otherwise (unless `useLastNumber: false`) the last number in the text; thousands separators are dropped
//    first, but a comma between numbers is not (the published code deleted every comma, turning "1, 2" into 12).
// The answer is then normalised (normalize.ts). Several boxed answers (`\boxed{1}, \boxed{2}`) yield only the last.
import { braceGroupAt, matchingBraces } from './latex-text';
import { normalizeAnswer } from './normalize';

export type AnswerSource = 'boxed' | 'answer-phrase' | 'last-number' | 'none';

export interface ExtractedAnswer {
  /** The answer text as written (before normalisation). */
  readonly raw: string;
  /** The normalised answer ('' when nothing was found). */
  readonly answer: string;
  /** Where it came from. */
  readonly source: AnswerSource;
}

export interface ExtractOptions {
  /** Fall back to the last number in the text (the published default). Default true. */
  useLastNumber?: boolean;
}

const THINK_END = '</think>';

/** The final part of a completion: the text after the first `</think>`, or the whole text if there is none. */
export function textAfterThink(completion: string): string {
  const end = completion.indexOf(THINK_END);
  return end >= 0 ? completion.slice(end + THINK_END.length) : completion;
}

const BOX_COMMAND = /\\(?:boxed|fbox|framebox)(?![A-Za-z])/g;

/** The content of the last complete, non-empty box in `text`, or null. */
export function lastBoxedContent(text: string): string | null {
  const starts: number[] = [];
  BOX_COMMAND.lastIndex = 0;
  for (let m = BOX_COMMAND.exec(text); m !== null; m = BOX_COMMAND.exec(text)) starts.push(m.index + m[0].length);
  const table = starts.length > 0 ? matchingBraces(text) : new Int32Array(0);
  for (let k = starts.length - 1; k >= 0; k--) {
    const content = boxContentAt(text, starts[k]!, table);
    if (content !== null && content.trim() !== '') return content.trim();
  }
  return null;
}

/** The box argument starting at `index`: a balanced brace group, or one token for `\boxed 5`. */
function boxContentAt(text: string, index: number, table: Int32Array): string | null {
  let i = index;
  while (i < text.length && (text[i] === ' ' || text[i] === '\t')) i++;
  if (text[i] === '{') return braceGroupAt(text, table, i)?.content ?? null;
  if (i === index) return null; // `\boxed` glued to something that is not a brace
  const token = /^[^\s$]+/.exec(text.slice(i));
  return token ? token[0].replace(/[.,;]+$/, '') : null;
}

const ANSWER_PHRASE = /(?:final answer|the answer) is\s*:?|final answer\s*:/gi;

/** The answer after the last "the answer is" / "final answer is" / "final answer:", or null. */
export function answerPhraseContent(text: string): string | null {
  let after: number | null = null;
  ANSWER_PHRASE.lastIndex = 0;
  for (let m = ANSWER_PHRASE.exec(text); m !== null; m = ANSWER_PHRASE.exec(text)) after = m.index + m[0].length;
  if (after === null) return null;
  let rest = text.slice(after).replace(/^[\s*]+/, '');
  const mathSpan = /^\$+([^$]+)\$/.exec(rest) ?? /^\\\(([\s\S]*?)\\\)/.exec(rest);
  if (mathSpan) return mathSpan[1].trim() || null;
  rest = rest.split('\n')[0];
  const sentenceEnd = /\.(?:\s|$)/.exec(rest);
  if (sentenceEnd) rest = rest.slice(0, sentenceEnd.index);
  rest = rest.replace(/\*+/g, '').trim();
  return rest === '' ? null : rest;
}

/** The last number in `text` (`-?\d*\.?\d+`, as published), thousands separators removed; null if none. */
export function lastNumber(text: string): string | null {
  const withoutThousands = text.replace(/(\d),(?=\d{3}(?!\d))/g, '$1');
  const numbers = withoutThousands.match(/-?\d*\.?\d+/g);
  return numbers ? numbers[numbers.length - 1] : null;
}

/** The published post-processing of a raw answer: newlines, a leading ':' and a trailing '.' or '/'. */
function tidyRawAnswer(raw: string): string {
  return raw
    .replace(/\n\s*/g, '')
    .replace(/^:/, '')
    .replace(/[./]$/, '')
    .trim();
}

/** Extracts and normalises the final answer of a completion, saying where it was found. */
export function extractAnswerDetailed(completion: string | null | undefined, options: ExtractOptions = {}): ExtractedAnswer {
  const text = textAfterThink(completion ?? '');
  const candidates: Array<[AnswerSource, () => string | null]> = [
    ['boxed', () => lastBoxedContent(text)],
    ['answer-phrase', () => answerPhraseContent(text)],
    ['last-number', () => (options.useLastNumber === false ? null : lastNumber(text))],
  ];
  for (const [source, find] of candidates) {
    const found = find();
    if (found === null) continue;
    const raw = tidyRawAnswer(found);
    const answer = normalizeAnswer(raw);
    if (answer !== '') return { raw, answer, source };
  }
  return { raw: '', answer: '', source: 'none' };
}

/** The normalised final answer of a completion ('' when there is none). */
export function extractAnswer(completion: string | null | undefined, options?: ExtractOptions): string {
  return extractAnswerDetailed(completion, options).answer;
}
