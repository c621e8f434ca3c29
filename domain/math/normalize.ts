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
// - degrees (`^\circ`, `^{\circ}`, `\degree`), currency (`\$`), percent (`\%`, `%`; remembered as a flag so that
//   the comparison can try the percent variants), units: a trailing `\text{ cm}` / `\mbox{...}` / `\mathrm{...}`
//   after a value, or trailing plain words after a number (`5 cm`, `12 square units`, `3 hours`);
// - `\text{x}`, `\textbf{x}`, `\mathrm{x}`, `\mbox{x}`, `\mathbf{x}` ... -> x; a leading number-word phrase ->
//   digits ("five" -> 5); the words "and"/"or" between values -> `,`; "infinity"/"inf" -> `\infty`;
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
import { leadingNumberWordsToDigits } from './number-words';
import { readBraceGroup, readMacroArgument, replaceCommandGroups, splitTopLevel, wrappingPairEnd } from './latex-text';

export interface NormalizedAnswer {
  /** The canonical answer text ('' when nothing is left). */
  readonly text: string;
  /** True when the raw answer was written as a percentage (`%`, `\%`, "percent"). */
  readonly percent: boolean;
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
  [/[\u00a0\u2009\u202f]/g, ' '],
  [/\u043a\u0438/g, ''], // a marker left in some published model outputs
];

function unicodeToLatex(text: string): string {
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
  [/\\neq(?![A-Za-z])/g, '\\ne'],
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

function removeDegrees(text: string): string {
  return text
    .replace(/\^\s*\{\s*\\circ\s*\}/g, '')
    .replace(/\^\s*\\circ(?![A-Za-z])/g, '')
    .replace(/(\d)\s*\{\}\s*$/g, '$1')
    .replace(/\\degree(?![A-Za-z])/g, '');
}

const PERCENT_MARKER = /%|\bpercent\b|\bper\s+cent\b/i;

function removePercent(text: string): string {
  return text.replace(/\\?%/g, '');
}

const TEXT_COMMANDS = [
  'text', 'textrm', 'textnormal', 'textbf', 'textit', 'textsf', 'texttt', 'textup', 'emph', 'mbox', 'hbox',
  'mathrm', 'mathbf', 'mathit', 'mathsf', 'mathtt', 'mathnormal', 'boldsymbol', 'bm',
];

const TRAILING_TEXT_GROUP = new RegExp(`\\\\(?:${TEXT_COMMANDS.join('|')})\\s*\\{`, 'g');

/** Letters of a unit phrase: "cm", " square units", " m/s", "km^2", " dollars." */
const UNIT_PHRASE = /^\s*[A-Za-z][A-Za-z\s./]*(?:\^\{?[23]\}?)?\s*$/;

/** Is `remainder` a value that a unit could follow: it holds a digit and ends like a number or a group? */
function isValueBeforeUnit(remainder: string): boolean {
  const trimmed = remainder.trim();
  return /\d/.test(trimmed) && /[\d})\]|]$/.test(trimmed);
}

/** `5\text{ cm}` -> `5`; `\frac{1}{2}\mbox{ dollars}` -> `\frac{1}{2}`; keeps `2\mathrm{e}` and `\text{(B)}`. */
function removeTrailingTextUnit(text: string): string {
  let out = text;
  for (let round = 0; round < 2; round++) {
    let candidate: { start: number; content: string } | null = null;
    TRAILING_TEXT_GROUP.lastIndex = 0;
    for (let m = TRAILING_TEXT_GROUP.exec(out); m !== null; m = TRAILING_TEXT_GROUP.exec(out)) {
      const group = readBraceGroup(out, m.index + m[0].length - 1);
      if (group && /^\s*(?:\^\{?[23]\}?)?\s*$/.test(out.slice(group.end))) candidate = { start: m.index, content: group.content };
    }
    if (!candidate) return out;
    const { start, content } = candidate;
    const remainder = out.slice(0, start);
    const singleLetter = /^[A-Za-z]$/.test(content);
    if (!isValueBeforeUnit(remainder) || !UNIT_PHRASE.test(content) || singleLetter) return out;
    out = remainder.trimEnd();
  }
  return out;
}

function unwrapTextCommands(text: string): string {
  let out = text;
  for (const command of TEXT_COMMANDS) out = replaceCommandGroups(out, command, (content) => content);
  return out;
}

/** Words that are mathematics, never units. */
const NOT_UNITS = new Set([
  'i', 'e', 'pi', 'sin', 'cos', 'tan', 'cot', 'sec', 'csc', 'log', 'ln', 'exp', 'mod', 'inf', 'infinity',
  'undefined', 'dne', 'and', 'or',
]);
/** One-letter units, accepted only after a space (`5 m`); any other single letter is a variable. */
const ONE_LETTER_UNITS = new Set(['m', 'g', 's', 'h', 'l', 'L', 'K', 'V', 'W', 'J', 'N']);

/** Longest plain-word unit removed after a number ("miles per hour"); longer tails are prose and stay. */
const MAX_UNIT_WORDS = 3;

/** `5 cm` -> `5`, `12 square units` -> `12`, `60 miles per hour` -> `60`, `3 m/s` -> `3`. */
function removeTrailingUnitWords(text: string): string {
  const match = /^(.*?)(\s+[A-Za-z][A-Za-z\s./]*(?:\^\{?[23]\}?)?)\s*$/.exec(text);
  if (!match) return text;
  const [, remainder, unit] = match;
  if (!isValueBeforeUnit(remainder)) return text;
  const words = unit.split(/[\s./^{}0-9]+/).filter((w) => w !== '');
  if (words.length === 0 || words.length > MAX_UNIT_WORDS) return text;
  for (const word of words) {
    if (NOT_UNITS.has(word.toLowerCase())) return text;
    if (word.length === 1 && !ONE_LETTER_UNITS.has(word)) return text;
  }
  return remainder;
}

/** "1 and 2", "x=1 or x=2" -> comma-separated items; `\land` and words containing "and"/"or" are untouched. */
function wordSeparatorsToCommas(text: string): string {
  if (!/(?<![A-Za-z\\])(?:and|or)(?![A-Za-z])/.test(text)) return text;
  const replaced = text.replace(/\s*,?\s*(?<![A-Za-z\\])(?:and|or)(?![A-Za-z])\s*/g, ',');
  if (/^,|,$/.test(replaced.trim())) return text; // "and" at an edge is not a separator
  return replaced;
}

function canonicalInfinityAndSets(text: string): string {
  return text
    .replace(/(?<![A-Za-z\\])(?:infinity|inf)(?![A-Za-z])/gi, '\\infty')
    .replace(/(^|[(,[])\s*\+\s*\\infty/g, '$1\\infty')
    .replace(/\\\{\s*\\\}/g, '\\emptyset');
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
  const items = splitTopLevel(text, ',');
  const stripped = items.map(removeLabel);
  return stripped.join(',');
}

/** Braces the arguments of `\frac`, `\binom` and `\sqrt` written without braces: `\frac12` -> `\frac{1}{2}`. */
function braceMacroArguments(text: string): string {
  const pattern = /\\(frac|binom|sqrt)(?![A-Za-z])/g;
  let out = '';
  let last = 0;
  for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
    let index = m.index + m[0].length;
    let rendered = m[0];
    if (m[1] === 'sqrt') {
      const optional = /^\s*\[([^\]]*)\]/.exec(text.slice(index));
      if (optional) {
        rendered += `[${optional[1]}]`;
        index += optional[0].length;
      }
    }
    const arity = m[1] === 'sqrt' ? 1 : 2;
    let complete = true;
    for (let k = 0; k < arity; k++) {
      const argument = readMacroArgument(text, index);
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
  const out = text
    .replace(/(\d)\.0+(?![\d])/g, '$1')
    .replace(/(\d\.\d*?[1-9])0+(?![\d])/g, '$1')
    .replace(/(^|[^\d}\w])\.(\d)/g, '$10.$2');
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

function trimPunctuation(text: string): string {
  return text
    .replace(/^[\s:,]+/, '')
    .replace(/(?:\\?[.,;/\s])+$/, '')
    .trim();
}

/** One pass of the pipeline. */
function normalizeOnce(text: string): string {
  let out = unicodeToLatex(text);
  out = removeMathDelimiters(out);
  out = unwrapBoxes(out);
  out = canonicalCommands(out);
  out = removeDegrees(out);
  out = removePercent(out);
  out = removeTrailingTextUnit(out);
  out = unwrapTextCommands(out);
  out = leadingNumberWordsToDigits(out);
  out = removeTrailingUnitWords(out);
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

const MAX_PASSES = 4;
const CACHE_LIMIT = 50_000;
const cache = new Map<string, NormalizedAnswer>();

/** Drops memoised results (for benchmarks that want cold numbers). */
export function clearNormalizeCache(): void {
  cache.clear();
}

/** Normalises an answer and reports whether it was written as a percentage. */
export function normalizeAnswerDetailed(raw: string | null | undefined): NormalizedAnswer {
  const input = raw ?? '';
  const cached = cache.get(input);
  if (cached) return cached;
  let text = input;
  // Already canonical: a plain integer needs no pass (most references and many predictions).
  const alreadyCanonical = /^(?:-?[1-9]\d*|0)$/.test(input);
  for (let pass = 0; pass < MAX_PASSES && !alreadyCanonical; pass++) {
    const next = normalizeOnce(text);
    if (next === text) break;
    text = next;
  }
  const result: NormalizedAnswer = { text, percent: PERCENT_MARKER.test(input) };
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(input, result);
  return result;
}

/** The canonical text of an answer (the published grader's `strip_string`, fixed). */
export function normalizeAnswer(raw: string | null | undefined): string {
  return normalizeAnswerDetailed(raw).text;
}
