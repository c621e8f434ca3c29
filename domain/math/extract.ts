// Final-answer extraction from a model completion: the published grader's `extract_answer` (Qwen2.5-Math parser),
// with its bugs fixed.
//
// 1. Only the text after the first `</think>` is read when the completion has one (the whole text otherwise, as
//    for code extraction in activities/sandbox/extract-code.ts). The published self-play check read the whole
//    completion, so a `\boxed{}` inside the reasoning counted when the final part had none (spec §8.10); voting
//    and checking now read the same text.
// 2. The complete, non-empty `\boxed{...}` / `\fbox{...}` / `\framebox{...}` boxes of that text, with balanced
//    braces (nested groups such as `\boxed{\frac{\sqrt{3}}{2}}` are kept whole). `\boxed 5` without braces takes
//    the next token. A box whose braces never close (a truncated completion) or an empty `\boxed{}` is skipped.
//    DECISION (issue 12): when the final text boxes several DIFFERENT answers, they are all the answer, joined as a
//    list in text order (`\boxed{1}, \boxed{2}` -> `1,2`, equal to `\{1,2\}` and to `(1,2)`, but not to `2`);
//    repeated boxes of the same answer count once. The published code took only the last box, so a rollout that
//    boxed two candidates scored as correct whenever the reference was the last one. At most the last
//    `MAX_BOXES` boxes are read. The published code split on the bare word "boxed" (prose mentioning "boxed" broke
//    it) and took everything to the end of the text when braces did not balance.
// 3. Otherwise the text after the last answer phrase ("the answer is", "final answer is", "the correct option
//    is", "the correct answer is", "answer:", any case), up to the end of its math span (`$...$`), line, sentence
//    or clause ("15, found after..." -> `15`; "7 because..." -> `7`); the published code took everything to the
//    end.
// 4. Otherwise (unless `useLastNumber: false`) the last number in the text; thousands separators are dropped
//    first, but a comma between numbers is not (the published code deleted every comma, turning "1, 2" into 12).
// The answer is then normalised (normalize.ts); an answer longer than MAX_ANSWER_CHARS is no answer ('').
//
// Bounded time: a final text longer than MAX_COMPLETION_CHARS is read from its last MAX_COMPLETION_CHARS characters
// (answers are at the end), and every scan is linear (brace matching in one pass, sticky regexes, no copies of the
// rest of the text per match).
import { braceGroupAt, matchingBraces, splitTopLevel } from './latex-text';
import { mathEqual } from './equal';
import { MAX_ANSWER_CHARS, normalizeAnswerDetailed } from './normalize';

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
  /** Read the whole completion, its reasoning too (the published scorer's reading), not only the text after `</think>`. */
  wholeText?: boolean;
}

/**
 * The rollout size limit: the longest final text read whole (512 Ki characters, a 32,768-token rollout at 16
 * characters per token; the published 81,920-token context at over 6). Longer texts are read from their end.
 */
export const MAX_COMPLETION_CHARS = 512 * 1024;
/** Boxes read from the end of the final text. */
export const MAX_BOXES = 16;
/** Different boxed answers compared with each other to drop repeats written differently (`\frac12`, `0.5`). */
const MAX_BOXES_COMPARED = 6;

const THINK_END = '</think>';

/** The final part of a completion: the text after the first `</think>`, or the whole text if there is none. */
export function textAfterThink(completion: string): string {
  const end = completion.indexOf(THINK_END);
  return end >= 0 ? completion.slice(end + THINK_END.length) : completion;
}

/** The last MAX_COMPLETION_CHARS characters of a text. */
function boundedTail(text: string): string {
  return text.length > MAX_COMPLETION_CHARS ? text.slice(text.length - MAX_COMPLETION_CHARS) : text;
}

const BOX_COMMAND = /\\(?:boxed|fbox|framebox)(?![A-Za-z])/g;

/** Contents of the last `limit` complete, non-empty boxes of `text`, in text order. */
export function boxedContents(text: string, limit = MAX_BOXES): string[] {
  const starts: number[] = [];
  BOX_COMMAND.lastIndex = 0;
  for (let m = BOX_COMMAND.exec(text); m !== null; m = BOX_COMMAND.exec(text)) starts.push(m.index + m[0].length);
  if (starts.length === 0) return [];
  const table = matchingBraces(text);
  const contents: string[] = [];
  for (let k = starts.length - 1; k >= 0 && contents.length < limit; k--) {
    const content = boxContentAt(text, starts[k]!, table);
    if (content !== null && content.trim() !== '') contents.push(content.trim());
  }
  return contents.reverse();
}

/** The content of the last complete, non-empty box in `text`, or null. */
export function lastBoxedContent(text: string): string | null {
  const contents = boxedContents(text, 1);
  return contents.length > 0 ? contents[0] : null;
}

const BOX_TOKEN = /[^\s$]+/y;

/** The box argument starting at `index`: a balanced brace group, or one token for `\boxed 5`. */
function boxContentAt(text: string, index: number, table: Int32Array): string | null {
  let i = index;
  while (i < text.length && (text[i] === ' ' || text[i] === '\t')) i++;
  if (text[i] === '{') return braceGroupAt(text, table, i)?.content ?? null;
  if (i === index) return null; // `\boxed` glued to something that is not a brace
  BOX_TOKEN.lastIndex = i;
  const token = BOX_TOKEN.exec(text);
  if (!token) return null;
  const word = token[0].length > MAX_ANSWER_CHARS ? token[0].slice(0, MAX_ANSWER_CHARS + 1) : token[0];
  return word.replace(/[.,;]+$/, '');
}

/**
 * Several boxes are one answer: distinct answers (by canonical text, then by value among the first few) joined as
 * a list in text order; one box is returned as it is.
 */
function combineBoxes(contents: readonly string[]): string {
  if (contents.length === 1) return contents[0];
  const kept: string[] = [];
  const keys = new Set<string>();
  for (const content of contents) {
    const key = normalizeAnswerDetailed(content).text;
    if (key === '' || keys.has(key)) continue;
    keys.add(key);
    kept.push(content);
  }
  if (kept.length <= 1) return kept[0] ?? contents[contents.length - 1];
  const distinct: string[] = [];
  for (const content of kept) {
    const repeat =
      kept.length <= MAX_BOXES_COMPARED && distinct.some((other) => mathEqual(content, other, { stepBudget: 10_000 }));
    if (!repeat) distinct.push(content);
  }
  if (distinct.length === 1) return distinct[0];
  // an item that is itself a list keeps its own grouping: `\boxed{1,2}` and `\boxed{3}` -> `\{1,2\},3`
  return distinct.map((content) => (splitTopLevel(content, ',').length > 1 ? `(${content})` : content)).join(', ');
}

const ANSWER_PHRASE =
  /\b(?:(?:the\s+)?(?:final|correct|right|best)\s+(?:answer|option|choice)|the\s+answer)\s+(?:is|would\s+be|will\s+be)\b\s*:?|\b(?:final\s+)?answer\s*:/gi;

/** Words that start a new clause after the answer: "15 because...", "7, found after...". */
const CLAUSE_WORDS = new Set([
  'because',
  'since',
  'as',
  'which',
  'where',
  'when',
  'after',
  'before',
  'found',
  'obtained',
  'given',
  'so',
  'thus',
  'hence',
  'therefore',
  'for',
  'if',
  'from',
  'by',
  'using',
  'with',
  'that',
  'this',
  'we',
  'it',
  'i',
  'and',
  'but',
  'while',
  'though',
  'although',
  'once',
  'via',
  'according',
  'meaning',
  'corresponding',
  'derived',
  'computed',
  'calculated',
  'determined',
  'based',
  'following',
  'upon',
  'which',
  'whose',
  'here',
  'there',
  'is',
  'are',
  'was',
]);

/** Longest text after an answer phrase that is read (the answer itself is far shorter). */
const MAX_PHRASE_SPAN = 2 * MAX_ANSWER_CHARS;

/** The answer after the last answer phrase, or null. */
export function answerPhraseContent(text: string): string | null {
  let after: number | null = null;
  ANSWER_PHRASE.lastIndex = 0;
  for (let m = ANSWER_PHRASE.exec(text); m !== null; m = ANSWER_PHRASE.exec(text)) after = m.index + m[0].length;
  if (after === null) return null;
  let rest = text.slice(after, after + MAX_PHRASE_SPAN);
  let skip = 0;
  while (skip < rest.length && /[\s*]/.test(rest[skip])) skip++;
  rest = rest.slice(skip);
  const mathSpan = /^\$+([^$]+)\$/.exec(rest) ?? /^\\\(([\s\S]*?)\\\)/.exec(rest) ?? /^\\\[([\s\S]*?)\\\]/.exec(rest);
  if (mathSpan) return mathSpan[1].trim() || null;
  const newline = rest.indexOf('\n');
  if (newline >= 0) rest = rest.slice(0, newline);
  const sentenceEnd = /[.!?;](?:\s|$)/.exec(rest);
  if (sentenceEnd) rest = rest.slice(0, sentenceEnd.index);
  rest = cutAtClause(rest).replace(/\*+/g, '').trim();
  return rest === '' ? null : rest;
}

/**
 * The answer part of "15, found after checking" / "7 because ..." / "x = 3 since ...": the text before the first
 * clause word that follows at bracket depth 0 (after a space or a comma). A comma followed by prose ends the
 * answer; "1, 2, and 3" and "x = 1, y = 2" stay whole.
 */
function cutAtClause(text: string): string {
  let depth = 0;
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '\\') {
      i += 2;
      while (i < text.length && /[A-Za-z]/.test(text[i])) i++;
      continue;
    }
    if (ch === '(' || ch === '[' || ch === '{') depth++;
    else if (ch === ')' || ch === ']' || ch === '}') depth = Math.max(0, depth - 1);
    if (depth === 0 && (ch === ' ' || ch === ',') && i > 0) {
      let j = i;
      while (j < text.length && (text[j] === ' ' || text[j] === ',')) j++;
      const comma = text.slice(i, j).includes(',');
      let k = j;
      while (k < text.length && /[A-Za-z]/.test(text[k])) k++;
      const word = text.slice(j, k).toLowerCase();
      const isWord = k > j && (k === text.length || !/[\\({[^_0-9]/.test(text[k]));
      if (isWord && word !== 'and' && word !== 'or' && CLAUSE_WORDS.has(word)) return text.slice(0, i);
      // ", found after" / ", which": a comma then a prose word of 3+ letters
      if (comma && isWord && word.length >= 3 && word !== 'and' && !/^\s*[=<>(]/.test(text.slice(k, k + 3))) {
        return text.slice(0, i);
      }
      i = j; // the run of separators is read once (linear)
      continue;
    }
    i++;
  }
  return text;
}

/**
 * The last number in `text` (`-?\d*\.?\d+`, as published), thousands separators removed; null if none. Only the
 * run of digits, dots and commas that ends at the last digit is matched (a backward scan finds it), so the cost is
 * linear whatever the text.
 */
export function lastNumber(text: string): string | null {
  let end = text.length;
  while (end > 0 && !isDigit(text[end - 1])) end--;
  if (end === 0) return null;
  let start = end;
  // a number longer than an answer may be is no answer: the run is read from at most that far back
  const limit = Math.max(0, end - 2 * MAX_ANSWER_CHARS);
  while (start > limit && (isDigit(text[start - 1]) || text[start - 1] === '.' || text[start - 1] === ',')) start--;
  const segment = text.slice(start, end).replace(/(\d),(?=\d{3}(?!\d))/g, '$1');
  const numbers = segment.match(/\d*\.?\d+/g);
  if (!numbers) return null;
  const last = numbers[numbers.length - 1];
  const startsSegment = segment.endsWith(last) && segment.length === last.length;
  return startsSegment && start > 0 && text[start - 1] === '-' ? `-${last}` : last;
}

function isDigit(ch: string | undefined): boolean {
  return ch !== undefined && ch >= '0' && ch <= '9';
}

/** The published post-processing of a raw answer: newlines, a leading ':' and a trailing '.' or '/'. */
function tidyRawAnswer(raw: string): string {
  return raw.replace(/\n\s*/g, '').replace(/^:/, '').replace(/[./]$/, '').trim();
}

/** Extracts and normalises the final answer of a completion, saying where it was found. */
export function extractAnswerDetailed(
  completion: string | null | undefined,
  options: ExtractOptions = {},
): ExtractedAnswer {
  const text = boundedTail(options.wholeText ? (completion ?? '') : textAfterThink(completion ?? ''));
  const candidates: Array<[AnswerSource, () => string | null]> = [
    [
      'boxed',
      () => {
        const boxes = boxedContents(text);
        return boxes.length > 0 ? combineBoxes(boxes) : null;
      },
    ],
    ['answer-phrase', () => answerPhraseContent(text)],
    ['last-number', () => (options.useLastNumber === false ? null : lastNumber(text))],
  ];
  for (const [source, find] of candidates) {
    const found = find();
    if (found === null) continue;
    // an answer longer than an answer may be is no answer (and is never normalised); no later rule is tried
    if (found.length > MAX_ANSWER_CHARS) break;
    const raw = tidyRawAnswer(found);
    const normalized = normalizeAnswerDetailed(raw);
    if (normalized.oversized) break;
    if (normalized.text !== '') return { raw, answer: normalized.text, source };
  }
  return { raw: '', answer: '', source: 'none' };
}

/** The normalised final answer of a completion ('' when there is none). */
export function extractAnswer(completion: string | null | undefined, options?: ExtractOptions): string {
  return extractAnswerDetailed(completion, options).answer;
}
