// Answer normalisation: the behaviour of the published grader's `strip_string` (Qwen2.5-Math parser), with its bugs
// fixed. The result is a canonical string: two answers that normalise to the same text (case-insensitively) are
// equal without any parsing, and majority voting and the trivial-answer filter work on these strings.
//
// What it does, in order (the whole pipeline is repeated until nothing changes, so normalisation is idempotent):
// - unicode math (−, ×, π, √, ≤, ∞, °, ∪, ∅) -> LaTeX; math delimiters `$`, `\(`, `\)`, `\[`, `\]` removed;
//   `\displaystyle` and line breaks removed; `\boxed{x}`, `\fbox{x}`, `\framebox{x}` unwrapped;
// - `\dfrac`/`\tfrac` -> `\frac`, `\dbinom`/`\tbinom` -> `\binom`, `\leq`/`\geq`/`\neq` -> `\le`/`\ge`/`\ne`,
//   `\left`/`\right`/`\big...` sizing removed, `bmatrix`/`array` -> `pmatrix`, `\langle a,b\rangle` -> `(a,b)`,
//   `\lbrace` -> `\{`, spacing commands (`\!`, `\,`, `\;`, `\quad`, `~`) removed;
// - degrees (`^\circ`, `^{\circ}`, `\degree`) and currency (`\$`) dropped; percent (`\%`, `%`, "percent") and
//   units (a trailing `\text{ cm}` / `\mbox{...}` / `\mathrm{...}` after a value, or trailing plain words after a
//   number: `5 cm`, `12 square units`, `3 hours`) are separated from the value. A percent sign and a RECOGNISED
//   unit (units.ts) are KEPT in the canonical text as a suffix (`50\%`, `5\text{ cm}`, `3\text{ h}`), so that the
//   answer a rollout's extraction returns still says it (the comparison needs both); unrecognised words after a
//   number ("ways", "apples", "square units") are dropped as counting nouns;
// - a time of day with AM/PM becomes 24-hour `H:MM` (`9:00 PM` -> `21:00`, `12 AM` -> `0:00`); ordinals lose their
//   suffix (`12^{th}`, `21st` -> the number); plain-text maths (`sqrt(2)`, `pi/2`, `2^(1/3)`, `sin(x)`) becomes
//   LaTeX; a leading answer phrase inside the answer (`\text{The answer is } 5`, `Answer: 5`) is removed;
// - `\text{x}`, `\textbf{x}`, `\mathrm{x}`, `\mbox{x}`, `\mathbf{x}` ... -> x; a leading number-word phrase ->
//   digits ("five" -> 5); the words "and"/"or" between values -> `,` ("or" between two inequalities -> `\cup`);
//   "infinity"/"inf" -> `\infty`;
//   `\varnothing`, `\{\}` -> `\emptyset`; `(-\infty,\infty)` -> `\mathbb{R}`;
// - labels: `x=3`, `k = \frac12`, `f(x)=5`, `\theta=30` -> the value when the value contains no variable (so
//   `y=2x+1` stays an equation, compared as one), `x\in[1,2]` -> `[1,2]`; applied to each comma-separated item;
// - thousands separators (`1,000`, `12{,}345`, `1\,000`) removed when the digit groups are exactly 3 wide;
// - `\frac12` -> `\frac{1}{2}`, `\sqrt2` -> `\sqrt{2}` (one TeX token, as TeX reads it: `\sqrt23` is `\sqrt{2}3`),
//   `a/b` of two integers -> `\frac{a}{b}`, `204.0` -> 204, `2.50` -> 2.5, `.5` -> 0.5, `033` -> 33;
// - whitespace removed except between two letters (keeps "no solution" and `\pi r` intact); a whole answer wrapped
//   in `{...}` unwrapped (or read as a set when it holds a top-level comma); trailing `.`, `,`, `;`, `/` and a
//   leading `:` removed.
//
// Published bugs fixed here (examples): `\rightarrow` lost its `\right` ("arrow"); every "and" was deleted
// ("1 and 2" -> "12", `\land` -> `\l`); single letters were removed as units ("a+b" -> "+b", so `a+b` = `c+b`);
// "x=" was deleted anywhere ("2x=4" -> "24"); `\mbox{...}` was dropped with its content; `\pi r` became `\pir`;
// `j` became `i` when the answer had no `i`; "inf" inside `\inf`/"infinite" became `\infty`; word2number read
// any number word anywhere in the answer.
//
// Bounded time: the raw answer is capped at `MAX_ANSWER_CHARS` (2,048) BEFORE any normalisation (a longer one is
// "oversized": only its whitespace is removed, and the comparison treats it as a string), and every step is a
// linear scan or a regular expression without nested or overlapping quantifiers.
import { leadingNumberWordsToDigits } from './number-words';
import {
  matchingBraces,
  braceGroupAt,
  readMacroArgument,
  replaceCommandGroups,
  splitTopLevel,
  wrappingPairEnd,
} from './latex-text';
import { MAX_UNIT_PHRASE, parseUnit } from './units';
import type { Unit } from './units';

export interface NormalizedAnswer {
  /** The canonical answer text ('' when nothing is left): the value plus a `\%` or unit suffix when it had one. */
  readonly text: string;
  /** The canonical value without its percent sign or unit (what is compared by value). */
  readonly value: string;
  /** True when the raw answer was written as a percentage (`%`, `\%`, "percent"). */
  readonly percent: boolean;
  /** The recognised unit written after the value, or null. */
  readonly unit: Unit | null;
  /** True when the raw answer was longer than MAX_ANSWER_CHARS (not normalised; compared as a string only). */
  readonly oversized: boolean;
}

/** Longest raw answer that is normalised (a real final answer is far shorter; a longer one is not parsed). */
export const MAX_ANSWER_CHARS = 2048;

/** What the pipeline separated from the value. */
interface Found {
  percent: boolean;
  unit: Unit | null;
}

const UNICODE_TO_LATEX: ReadonlyArray<readonly [RegExp, string]> = [
  [/[\u2212\u2013\u2014]/g, '-'],
  [/\u00d7/g, '\\times '],
  [/[\u00b7\u22c5]/g, '\\cdot '],
  [/\u00f7/g, '\\div '],
  [/\u03c0/g, '\\pi '],
  [/\u221e/g, '\\infty '],
  [/\u221a/g, '\\sqrt'],
  [/\u2264/g, '\\le '],
  [/\u2265/g, '\\ge '],
  [/\u2260/g, '\\ne '],
  [/\u00b0/g, '^\\circ '],
  [/\u222a/g, '\\cup '],
  [/\u2229/g, '\\cap '],
  [/\u2205/g, '\\emptyset '],
  [/\u211d/g, '\\mathbb{R}'],
  [/\u00b2/g, '^2'],
  [/\u00b3/g, '^3'],
  [/[\u00a0\u2009\u202f]/g, ' '],
  [/\u043a\u0438/g, ''], // a marker left in some published model outputs
];

function unicodeToLatex(text: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(text)) return text;
  let out = text;
  for (const [pattern, replacement] of UNICODE_TO_LATEX) out = out.replace(pattern, replacement);
  return out;
}

function removeMathDelimiters(text: string): string {
  return text
    .replace(/\\\$/g, ' ') // currency: \$5 -> 5
    .replace(/\$/g, '')
    .replace(/(?<!\\)\\[()[\]]/g, '')
    .replace(/\\(?:displaystyle|textstyle|scriptstyle)(?![A-Za-z])/g, '')
    .replace(/[\r\n]+/g, ' ');
}

function unwrapBoxes(text: string): string {
  let out = text;
  for (const command of ['boxed', 'fbox', 'framebox']) out = replaceCommandGroups(out, command, (content) => content);
  return out;
}

const COMMAND_REWRITES: ReadonlyArray<readonly [RegExp, string]> = [
  [/\\[dt]frac(?![A-Za-z])/g, '\\frac'],
  [/\\[dt]binom(?![A-Za-z])/g, '\\binom'],
  [/\\(?:leqslant|leq)(?![A-Za-z])/g, '\\le'],
  [/\\(?:geqslant|geq)(?![A-Za-z])/g, '\\ge'],
  [/\\(?:neq)(?![A-Za-z])/g, '\\ne'],
  [/\\(?:left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|Biggl|Biggr|big|Big|bigg|Bigg)(?![A-Za-z])\.?/g, ''],
  [/\\begin\{array\}\{[^{}]*\}/g, '\\begin{pmatrix}'],
  [/\\end\{array\}/g, '\\end{pmatrix}'],
  [/\{(?:[bB]matrix|matrix|smallmatrix)\}/g, '{pmatrix}'],
  [/\\langle(?![A-Za-z])/g, '('],
  [/\\rangle(?![A-Za-z])/g, ')'],
  [/\\(?:lvert|rvert|vert)(?![A-Za-z])/g, '|'],
  [/\\lbrace(?![A-Za-z])/g, '\\{'],
  [/\\rbrace(?![A-Za-z])/g, '\\}'],
  [/\\(?:varnothing)(?![A-Za-z])/g, '\\emptyset'],
  [/\\infin(?![A-Za-z])/g, '\\infty'],
  [/\\R(?![A-Za-z])/g, '\\mathbb{R}'],
  [/\\mathbb\s*R(?![A-Za-z])/g, '\\mathbb{R}'],
  [/\\backslash(?![A-Za-z])/g, '\\setminus'],
  [/\\mathbb\{R\}\s*-\s*\\\{/g, '\\mathbb{R}\\setminus\\{'],
  [/\\colon(?![A-Za-z])/g, ':'],
  [/(?<!\\)\\!/g, ''],
  [/\\(?:quad|qquad|enspace|thinspace|medspace|thickspace)(?![A-Za-z])/g, ' '],
  [/(?<!\\)\\[,:; ]/g, ' '],
  [/~/g, ' '],
];

function canonicalCommands(text: string): string {
  let out = text;
  for (const [pattern, replacement] of COMMAND_REWRITES) out = out.replace(pattern, replacement);
  return out;
}

/**
 * `9:00 PM` -> `21:00`, `9 a.m.` -> `9:00`, `12:30\text{ AM}` -> `0:30` (the whole answer only). Hours 1-12 with a
 * meridiem; without one the text is left as written (a 24-hour time or a ratio).
 */
const TIME_OF_DAY =
  /^\s*(\d{1,2})(?::(\d{2}))?\s*(?:\\(?:text|mathrm|textrm|mbox|rm)\s*\{\s*([AaPp])\.?\s*[Mm]\.?\s*\}|([AaPp])\.?\s*[Mm](?![A-Za-z])\.?)\s*$/;

function timeOfDay(text: string): string {
  const match = TIME_OF_DAY.exec(text);
  if (!match) return text;
  const hour = Number(match[1]);
  const minutes = match[2] ?? '00';
  if (hour < 1 || hour > 12 || Number(minutes) > 59) return text;
  const pm = (match[3] ?? match[4]).toLowerCase() === 'p';
  const hour24 = (hour % 12) + (pm ? 12 : 0);
  return `${hour24}:${minutes}`;
}

function removeDegrees(text: string): string {
  const out = text
    .replace(/\^\s*\{\s*\\circ\s*\}/g, '')
    .replace(/\^\s*\\circ(?![A-Za-z])/g, '')
    .replace(/\\degree(?![A-Za-z])/g, '');
  // `5{}` (left by a removed `^{\circ}` in some outputs) -> 5
  const trimmed = out.trimEnd();
  if (trimmed.endsWith('{}')) {
    const before = trimmed.slice(0, -2).trimEnd();
    if (/\d$/.test(before)) return before;
  }
  return out;
}

const PERCENT_MARKER = /%|\bpercent\b|\bper\s?cent\b/i;

function removePercent(text: string, found: Found): string {
  if (!text.includes('%')) return text;
  found.percent = true;
  return text.replace(/\\?%/g, '');
}

const TEXT_COMMANDS = [
  'text',
  'textrm',
  'textnormal',
  'textbf',
  'textit',
  'textsf',
  'texttt',
  'textup',
  'emph',
  'mbox',
  'hbox',
  'mathrm',
  'mathbf',
  'mathit',
  'mathsf',
  'mathtt',
  'mathnormal',
  'boldsymbol',
  'bm',
  'operatorname',
];

const TRAILING_TEXT_GROUP = new RegExp(`\\\\(?:${TEXT_COMMANDS.join('|')})\\s*\\{`, 'g');

/** A unit phrase: letters, spaces, `.`, `/` and powers (`^2`, `^{3}`, `^-1`); checked by a linear scan. */
function looksLikeUnitPhrase(content: string): boolean {
  const phrase = content.trim();
  if (phrase === '' || phrase.length > MAX_UNIT_PHRASE || !/^[A-Za-z]/.test(phrase)) return false;
  for (let i = 0; i < phrase.length; i++) {
    const ch = phrase[i];
    if (/[A-Za-z\s./]/.test(ch)) continue;
    if (ch === '^' || ch === '{' || ch === '}' || ch === '-') continue;
    if (/[1-4]/.test(ch) && (phrase[i - 1] === '^' || phrase[i - 1] === '{' || phrase[i - 1] === '-')) continue;
    return false;
  }
  return true;
}

/** Is `remainder` a value that a unit could follow: it holds a digit and ends like a number, a group or `\pi`? */
function isValueBeforeUnit(remainder: string): boolean {
  const trimmed = remainder.trim();
  return /\d/.test(trimmed) && (/[\d})\]|!]$/.test(trimmed) || /(?:^|[^A-Za-z])\\?pi$/.test(trimmed));
}

/** A trailing power after a unit group: `^2`, `^{3}`, `^-1`; returns where it starts (or `end` when none). */
function trailingPowerStart(text: string, end: number): number {
  for (const suffix of ['^2', '^3', '^{2}', '^{3}', '^{-1}', '^-1', '^{-2}', '^-2']) {
    if (text.endsWith(suffix, end)) return end - suffix.length;
  }
  return end;
}

/** Records a unit separated from the value (the first one wins; a later, different one is not recorded). */
function recordUnit(found: Found, phrase: string): void {
  const unit = parseUnit(phrase);
  if (unit && found.unit === null) found.unit = unit;
}

/** `5\text{ cm}` -> `5` (unit cm); `\frac{1}{2}\mbox{ dollars}`; keeps `2\mathrm{e}` and `\text{(B)}`. */
function removeTrailingTextUnit(text: string, found: Found): string {
  let out = text;
  for (let round = 0; round < 2; round++) {
    const trimmedEnd = out.trimEnd().length;
    const powerStart = trailingPowerStart(out, trimmedEnd);
    const groupEnds = new Set([trimmedEnd, out.slice(0, powerStart).trimEnd().length]);
    let candidate: { start: number; content: string } | null = null;
    let table: Int32Array | null = null;
    TRAILING_TEXT_GROUP.lastIndex = 0;
    for (let m = TRAILING_TEXT_GROUP.exec(out); m !== null; m = TRAILING_TEXT_GROUP.exec(out)) {
      table ??= matchingBraces(out);
      const group = braceGroupAt(out, table, m.index + m[0].length - 1);
      if (group && groupEnds.has(group.end)) candidate = { start: m.index, content: group.content };
    }
    if (!candidate) return out;
    const { start, content } = candidate;
    const remainder = out.slice(0, start);
    const singleLetter = /^[A-Za-z]$/.test(content);
    if (!isValueBeforeUnit(remainder) || !looksLikeUnitPhrase(content) || singleLetter) return out;
    const power = powerStart < trimmedEnd ? out.slice(powerStart, trimmedEnd) : '';
    recordUnit(found, content + power);
    out = remainder.trimEnd();
  }
  return out;
}

function unwrapTextCommands(text: string): string {
  if (!text.includes('\\')) return text;
  let out = text;
  for (const command of TEXT_COMMANDS) out = replaceCommandGroups(out, command, (content) => content);
  return out;
}

/**
 * A leading answer phrase inside the answer: `The answer is 5`, `Answer: 5`, `Final answer: \frac12` -> the rest;
 * also a short phrase ending in "is" or ":" when a value follows (`The number of ways is 12`).
 */
const ANSWER_PREFIX = /^\s*(?:the\s+)?(?:final\s+|correct\s+|right\s+)?(?:answer|option|choice)\s*(?:is\b|:)\s*/i;
const PHRASE_PREFIX = /^\s*[A-Za-z][A-Za-z ]{0,60}?\s(?:is|are|equals)\s+|^\s*[A-Za-z][A-Za-z ]{0,60}?:\s*/;

function removeAnswerPhrase(text: string): string {
  const answer = ANSWER_PREFIX.exec(text);
  if (answer && answer[0].length < text.length) return text.slice(answer[0].length);
  const phrase = PHRASE_PREFIX.exec(text);
  if (!phrase) return text;
  const rest = text.slice(phrase[0].length);
  return /[\d\\]/.test(rest) || /^\(?[A-E]\)?\.?$/.test(rest.trim()) ? rest : text;
}

/** Function names written without a backslash in plain-text answers. */
const PLAIN_FUNCTIONS = /(?<![A-Za-z\\])(sqrt|cbrt|pi|sin|cos|tan|cot|ln|log|exp|arcsin|arccos|arctan)(?![A-Za-z])/g;

/**
 * Plain-text maths to LaTeX: `sqrt(2)` -> `\sqrt{2}`, `cbrt(x)` -> `\sqrt[3]{x}`, `pi/2` -> `\pi/2`,
 * `2^(1/3)` -> `2^{1/3}`, `sin(x)` -> `\sin(x)`. One pass with a stack of open parentheses (linear).
 */
function plainTextMath(text: string): string {
  let out = /[a-z]/.test(text)
    ? text.replace(PLAIN_FUNCTIONS, (name: string) => (name === 'cbrt' ? '\\sqrt[3]' : `\\${name}`))
    : text;
  if (!out.includes('(')) return out;
  if (!out.includes('\\sqrt(') && !out.includes('\\sqrt[3](') && !out.includes('^(')) return out;
  let result = '';
  const stack: boolean[] = []; // true: this parenthesis became a brace
  for (let i = 0; i < out.length; i++) {
    const ch = out[i];
    if (ch === '(') {
      const asBrace = out.endsWith('\\sqrt', i) || out.endsWith('\\sqrt[3]', i) || out.endsWith('^', i);
      stack.push(asBrace);
      result += asBrace ? '{' : '(';
    } else if (ch === ')') {
      result += stack.pop() ? '}' : ')';
    } else result += ch;
  }
  out = result;
  return out;
}

/** `12^{th}`, `12^\text{th}` (already unwrapped), `21st`, `2nd` -> the number. */
function removeOrdinalSuffixes(text: string): string {
  if (!/st|nd|rd|th/.test(text)) return text;
  return text.replace(
    /(\d)\s*(?:\^\s*\{\s*(?:st|nd|rd|th)\s*\}|\^\s*(?:st|nd|rd|th)|(?:st|nd|rd|th))(?![A-Za-z])/g,
    '$1',
  );
}

/** Words that are mathematics, never units. */
const NOT_UNITS = new Set([
  'i',
  'e',
  'pi',
  'sin',
  'cos',
  'tan',
  'cot',
  'sec',
  'csc',
  'log',
  'ln',
  'exp',
  'mod',
  'inf',
  'infinity',
  'undefined',
  'dne',
  'and',
  'or',
]);
/** One-letter units, accepted only after a space (`5 m`); any other single letter is a variable. */
const ONE_LETTER_UNITS = new Set(['m', 'g', 's', 'h', 'l', 'L', 'K', 'V', 'W', 'J', 'N']);

/** Longest unrecognised plain-word phrase dropped after a number ("cups of flour"); longer tails are prose. */
const MAX_UNIT_WORDS = 3;

/**
 * Where a trailing phrase of unit characters (letters, spaces, `.`, `/`, powers) starts, scanning back from the end;
 * the phrase itself must start after a space with a letter. Returns the candidate starts (the spaces before the
 * phrase's words), leftmost first.
 */
function trailingPhraseStarts(text: string): number[] {
  let k = text.length;
  const limit = Math.max(0, text.length - 4 * MAX_UNIT_PHRASE);
  while (k > limit) {
    const ch = text[k - 1];
    if (/[A-Za-z\s./^{}-]/.test(ch)) {
      k--;
      continue;
    }
    if (/[1-4]/.test(ch) && k >= 2 && (text[k - 2] === '^' || text[k - 2] === '{' || text[k - 2] === '-')) {
      k--;
      continue;
    }
    break;
  }
  const starts: number[] = [];
  for (let i = k; i < text.length - 1; i++) {
    if (/\s/.test(text[i]) && (i === k || !/\s/.test(text[i - 1]))) {
      let j = i;
      while (j < text.length && /\s/.test(text[j])) j++;
      if (j < text.length && /[A-Za-z]/.test(text[j])) starts.push(i);
    }
  }
  return starts;
}

/** The old rule for an unrecognised phrase: at most three words, none of them mathematics or a stray letter. */
function isCountingNounPhrase(unit: string): boolean {
  const words = unit.split(/[\s./^{}0-9-]+/).filter((w) => w !== '');
  if (words.length === 0 || words.length > MAX_UNIT_WORDS) return false;
  for (const word of words) {
    if (NOT_UNITS.has(word.toLowerCase())) return false;
    if (word.length === 1 && !ONE_LETTER_UNITS.has(word)) return false;
  }
  return true;
}

/** `5 cm` -> `5` (unit cm), `12 square units` -> `12`, `60 miles per hour` -> `60` (mi/h), `3 m/s` -> `3`. */
function removeTrailingUnitWords(text: string, found: Found): string {
  if (!/[A-Za-z]/.test(text)) return text;
  if (!text.includes(',')) return removeTrailingUnitWordsOfItem(text, found);
  const items = splitTopLevel(text, ',');
  if (items.length > 1) return items.map((item) => removeTrailingUnitWordsOfItem(item, found)).join(',');
  return removeTrailingUnitWordsOfItem(text, found);
}

function removeTrailingUnitWordsOfItem(text: string, found: Found): string {
  const trimmed = text.trimEnd();
  const starts = trailingPhraseStarts(trimmed);
  if (starts.length === 0) return text;
  for (const start of starts) {
    const phrase = trimmed.slice(start).trim();
    if (phrase.length > MAX_UNIT_PHRASE) continue;
    const remainder = trimmed.slice(0, start);
    if (/^percent$|^per\s?cent$/i.test(phrase) && isValueBeforeUnit(remainder)) {
      found.percent = true;
      return remainder;
    }
    if (parseUnit(phrase) && isValueBeforeUnit(remainder)) {
      recordUnit(found, phrase);
      return remainder;
    }
  }
  const start = starts[0];
  const remainder = trimmed.slice(0, start);
  const phrase = trimmed.slice(start);
  if (!isValueBeforeUnit(remainder) || !isCountingNounPhrase(phrase)) return text;
  return remainder;
}

const SEPARATOR_WORD = /(?<![A-Za-z\\])(and|or)(?![A-Za-z])/g;
const RELATION = /<|>|\\(?:le|ge|lt|gt|ne)(?![A-Za-z])/;

/**
 * "1 and 2", "x=1 or x=2" -> comma-separated items; "x<-1 or x>2" -> `x<-1\cup x>2` (a union of solution sets);
 * `\land` and words containing "and"/"or" are untouched. One scan over the separators (linear).
 */
function wordSeparatorsToCommas(text: string): string {
  if (!text.includes('and') && !text.includes('or')) return text;
  const parts: string[] = [];
  const words: string[] = [];
  let last = 0;
  SEPARATOR_WORD.lastIndex = 0;
  for (let m = SEPARATOR_WORD.exec(text); m !== null; m = SEPARATOR_WORD.exec(text)) {
    parts.push(text.slice(last, m.index));
    words.push(m[1]);
    last = m.index + m[0].length;
  }
  if (words.length === 0) return text;
  parts.push(text.slice(last));
  const cleaned = parts.map((part, k) => {
    let t = part.trim();
    if (k < parts.length - 1 && t.endsWith(',')) t = t.slice(0, -1).trim();
    return t;
  });
  if (cleaned.some((part) => part === '')) return text; // "and" at an edge is not a separator
  let out = cleaned[0];
  for (let k = 0; k < words.length; k++) {
    const relations = RELATION.test(cleaned[k]) && RELATION.test(cleaned[k + 1]);
    const joiner = relations ? (words[k] === 'or' ? '\\cup ' : '\\cap ') : ',';
    out += joiner + cleaned[k + 1];
  }
  return out;
}

function canonicalInfinityAndSets(text: string): string {
  if (!/[iI][nN][fF]|\\\{|real/i.test(text)) return text;
  return text
    .replace(/(?<![A-Za-z\\])(?:infinity|inf)(?![A-Za-z])/gi, '\\infty')
    .replace(/(^|[(,[])\s*\+\s*\\infty/g, '$1\\infty')
    .replace(/\\\{\s*\\\}/g, '\\emptyset')
    .replace(/^all real numbers$|^all reals$|^the set of (?:all )?real numbers$|^real numbers$/i, '\\mathbb{R}');
}

/** `1,000,000` -> 1000000, `12{,}345` -> 12345, `1 000` -> 1000; `3{,}5` -> 3.5 (a decimal comma). */
function removeThousandsSeparators(text: string): string {
  let out = text.replace(/(\d)\{,\}(?=\d{3}(?!\d))/g, '$1').replace(/(\d)\{,\}(\d)/g, '$1.$2');
  const trimmed = out.trim();
  if (/^-?\d{1,3}(?:,\d{3})+(?:\.\d+)?$/.test(trimmed) || /^-?\d{1,3}(?: \d{3})+(?:\.\d+)?$/.test(trimmed)) {
    out = trimmed.replace(/[, ]/g, '');
  }
  return out;
}

/** Whitespace goes, except a single space between two letters ("no solution", `\pi r`). */
function removeSpaces(text: string): string {
  return text.trim().replace(/\s+/g, (space, offset: number, whole: string) => {
    const before = whole[offset - 1] ?? '';
    const after = whole[offset + space.length] ?? '';
    return /[A-Za-z]/.test(before) && /[A-Za-z]/.test(after) ? ' ' : '';
  });
}

const LABEL =
  /^(?:[A-Za-z]{1,2}|[A-Za-z]_\{?[A-Za-z0-9]+\}?|\\[A-Za-z]+|[A-Za-z]\([A-Za-z]\)|\([A-Za-z](?:,[A-Za-z])+\))'*\s*=(?!=)\s*(.+)$/s;

/** True when `value` mentions no variable: letters only inside LaTeX command names. */
function isConstantValue(value: string): boolean {
  return !/[A-Za-z]/.test(value.replace(/\\[A-Za-z]+/g, ''));
}

function removeLabel(item: string): string {
  const membership = /^[A-Za-z](?:_\{?[A-Za-z0-9]+\}?)?\s*\\in(?![A-Za-z])\s*(.+)$/s.exec(item);
  if (membership) return membership[1];
  if (splitTopLevel(item, '=').length !== 2) return item;
  const label = LABEL.exec(item);
  if (!label || !isConstantValue(label[1])) return item;
  return label[1];
}

/** Removes labels from each top-level comma item: `x=1,y=2` -> `1,2`. */
function removeLabels(text: string): string {
  if (!text.includes('=') && !text.includes('\\in')) return text;
  const items = splitTopLevel(text, ',');
  const stripped = items.map(removeLabel);
  return stripped.join(',');
}

const SQRT_OPTIONAL = /\s*\[([^\]]{0,64})\]/y;

/** Braces the arguments of `\frac`, `\binom` and `\sqrt` written without braces: `\frac12` -> `\frac{1}{2}`. */
function braceMacroArguments(text: string): string {
  if (!text.includes('\\')) return text;
  const pattern = /\\(frac|binom|sqrt)(?![A-Za-z])/g;
  let out = '';
  let last = 0;
  let table: Int32Array | undefined;
  for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
    table ??= matchingBraces(text);
    let index = m.index + m[0].length;
    let rendered = m[0];
    if (m[1] === 'sqrt') {
      SQRT_OPTIONAL.lastIndex = index;
      const optional = SQRT_OPTIONAL.exec(text);
      if (optional) {
        rendered += `[${optional[1]}]`;
        index += optional[0].length;
      }
    }
    const arity = m[1] === 'sqrt' ? 1 : 2;
    let complete = true;
    for (let k = 0; k < arity; k++) {
      const argument = readMacroArgument(text, index, table);
      if (!argument) {
        complete = false;
        break;
      }
      rendered += `{${argument.content}}`;
      index = argument.end;
    }
    if (!complete) continue;
    out += text.slice(last, m.index) + rendered;
    last = index;
    pattern.lastIndex = index;
  }
  return last === 0 ? text : out + text.slice(last);
}

/** `x^{2}` -> `x^2`, `a_{1}` -> `a_1`: single-character scripts lose their braces. */
function unbraceSingleScripts(text: string): string {
  return text.replace(/([\^_])\{([A-Za-z0-9])\}/g, '$1$2');
}

/** `3/4` -> `\frac{3}{4}` when the whole answer is a quotient of two integers. */
function slashFraction(text: string): string {
  const match = /^(-?)(\d+)\/(\d+)$/.exec(text);
  return match ? `${match[1]}\\frac{${match[2]}}{${match[3]}}` : text;
}

/** `204.0` -> 204, `2.50` -> 2.5, `.5` -> 0.5, and items that are integers lose leading zeros (`033` -> 33). */
function canonicalDecimals(text: string): string {
  const out = text.includes('.')
    ? text
        .replace(/(\d)\.0+(?![\d])/g, '$1')
        .replace(/(\d\.\d*?[1-9])0+(?![\d])/g, '$1')
        .replace(/(^|[^\d}\w])\.(\d)/g, '$10.$2')
    : text;
  if (!/(?:^|[^\d.])0\d/.test(out) && !/^-?0\d/.test(out)) return out;
  return splitTopLevel(out, ',')
    .map((item) => item.replace(/^(-?)0+(?=\d)/, '$1'))
    .join(',');
}

/** `{5}` -> `5`; `{1,2}` -> `\{1,2\}` (a set written without backslashes). */
function unwrapOuterGroup(text: string): string {
  let out = text;
  while (out.startsWith('{') && wrappingPairEnd(out) === out.length - 1) {
    const inner = out.slice(1, -1);
    if (splitTopLevel(inner, ',').length > 1) return `\\{${inner}\\}`;
    out = inner;
  }
  return out;
}

function canonicalReals(text: string): string {
  return text.replace(/^\(-\\infty,\\infty\)$/, '\\mathbb{R}');
}

/** Leading `:`/`,`/spaces and trailing `.`, `,`, `;`, `/`, spaces (and `\,`-style escapes) go; a backward scan. */
function trimPunctuation(text: string): string {
  let start = 0;
  while (start < text.length && /[\s:,]/.test(text[start])) start++;
  let end = text.length;
  while (end > start && /[.,;/\s]/.test(text[end - 1])) end -= end - 2 >= start && text[end - 2] === '\\' ? 2 : 1;
  return text.slice(start, end).trim();
}

/** One pass of the pipeline. */
function normalizeOnce(text: string, found: Found): string {
  let out = unicodeToLatex(text);
  out = removeMathDelimiters(out);
  out = unwrapBoxes(out);
  out = canonicalCommands(out);
  out = timeOfDay(out);
  out = removeDegrees(out);
  out = removePercent(out, found);
  out = removeTrailingTextUnit(out, found);
  out = unwrapTextCommands(out);
  out = removeAnswerPhrase(out);
  out = removeOrdinalSuffixes(out);
  out = leadingNumberWordsToDigits(out);
  out = removeTrailingUnitWords(out, found);
  out = plainTextMath(out);
  out = timeOfDay(out);
  out = wordSeparatorsToCommas(out);
  out = canonicalInfinityAndSets(out);
  out = removeThousandsSeparators(out);
  out = removeSpaces(out);
  out = removeLabels(out);
  out = braceMacroArguments(out);
  out = unbraceSingleScripts(out);
  out = slashFraction(out);
  out = canonicalDecimals(out);
  out = unwrapOuterGroup(out);
  out = canonicalReals(out);
  out = trimPunctuation(out);
  return out;
}

/** The canonical text: the value, then `\%` for a percentage, then `\text{ unit}` for a recognised unit. */
function withSuffix(value: string, found: Found): string {
  if (value === '') return '';
  let text = value;
  if (found.percent) text += '\\%';
  if (found.unit) text += `\\text{ ${found.unit.text}}`;
  return text;
}

const MAX_PASSES = 4;
const CACHE_LIMIT = 20_000;
/** Longer inputs are not memoised (the cache must not hold megabytes of hostile text). */
const MAX_CACHED_INPUT = 1024;
const cache = new Map<string, NormalizedAnswer>();

/** Drops memoised results (for benchmarks that want cold numbers). */
export function clearNormalizeCache(): void {
  cache.clear();
}

function oversizedAnswer(input: string): NormalizedAnswer {
  const text = input.replace(/\s+/g, '');
  return { text, value: text, percent: false, unit: null, oversized: true };
}

/** Normalises an answer and reports whether it was written as a percentage and with which unit. */
export function normalizeAnswerDetailed(raw: string | null | undefined): NormalizedAnswer {
  const input = raw ?? '';
  if (input.length > MAX_ANSWER_CHARS) return oversizedAnswer(input);
  const cached = cache.get(input);
  if (cached) return cached;
  let value = input;
  const found: Found = { percent: PERCENT_MARKER.test(input), unit: null };
  // Already canonical: a plain integer needs no pass (most references and many predictions).
  const alreadyCanonical = /^(?:-?[1-9]\d*|0)$/.test(input);
  for (let pass = 0; pass < MAX_PASSES && !alreadyCanonical; pass++) {
    const next = normalizeOnce(value, found);
    if (next === value) break;
    value = next;
  }
  if (value === '') found.unit = null;
  const result: NormalizedAnswer = {
    text: withSuffix(value, found),
    value,
    percent: found.percent && value !== '',
    unit: found.unit,
    oversized: false,
  };
  if (cache.size >= CACHE_LIMIT - 1) cache.clear();
  if (input.length <= MAX_CACHED_INPUT) cache.set(input, result);
  // normalisation is idempotent: the canonical text normalises to the same result (voting and scoring compare
  // canonical texts, so this saves normalising every answer twice)
  if (result.text.length <= MAX_CACHED_INPUT * 4) cache.set(result.text, result);
  return result;
}

/** The canonical text of an answer (the published grader's `strip_string`, fixed; keeps `\%` and units). */
export function normalizeAnswer(raw: string | null | undefined): string {
  return normalizeAnswerDetailed(raw).text;
}
