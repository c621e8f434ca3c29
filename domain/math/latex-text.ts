// Scanning LaTeX answer text: balanced brace groups, TeX macro arguments and top-level splitting.
//
// Pure string utilities shared by answer extraction, normalisation and answer-shape parsing. They work on the raw
// characters and know just enough TeX to stay balanced:
// - a backslash escapes the next character, so `\{`, `\}` and `\\` never open or close a group;
// - for bracket depth (`splitTopLevel`, `wrappingPairEnd`), `( [ { \{ \begin{...}` open and `) ] } \} \end{...}` close,
//   whatever their types: intervals such as `[1,2)` are legal answers, so types are not matched.
// Nothing here throws: unbalanced input yields `null` or a best-effort split.

/** The content of the brace group opening at `openIndex` (which must hold `{`) and the index just after it. */
export function readBraceGroup(text: string, openIndex: number): { content: string; end: number } | null {
  if (text[openIndex] !== '{') return null;
  let depth = 0;
  for (let i = openIndex; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\\') {
      i++;
      continue;
    }
    if (ch === '{') depth++;
    else if (ch === '}') {
      depth--;
      if (depth === 0) return { content: text.slice(openIndex + 1, i), end: i + 1 };
    }
  }
  return null;
}

/**
 * For every `{` of `text`, the index of its matching `}` (-1 when it never closes), in one linear pass with the
 * escaping rules of readBraceGroup. Callers that look up many groups (one per `\boxed`, per `\text`) use it so
 * that a text full of unclosed groups costs O(n), not O(n²).
 */
export function matchingBraces(text: string): Int32Array {
  const match = new Int32Array(text.length).fill(-1);
  const open: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\\') {
      i++;
      continue;
    }
    if (ch === '{') open.push(i);
    else if (ch === '}' && open.length > 0) match[open.pop()!] = i;
  }
  return match;
}

/** The brace group opening at `openIndex`, looked up in a matchingBraces table. */
export function braceGroupAt(
  text: string,
  table: Int32Array,
  openIndex: number,
): { content: string; end: number } | null {
  if (text[openIndex] !== '{') return null;
  const close = table[openIndex]!;
  return close < 0 ? null : { content: text.slice(openIndex + 1, close), end: close + 1 };
}

/** A control word at a given position (sticky: no copy of the rest of the text). */
const CONTROL_WORD = /\\[A-Za-z]+/y;

/**
 * One TeX macro argument starting at `index` (spaces skipped): a brace group, a control word (`\pi`), a control
 * symbol (`\,`) or a single character. `braced` tells whether it was written in braces.
 */
export function readMacroArgument(
  text: string,
  index: number,
  table?: Int32Array,
): { content: string; end: number; braced: boolean } | null {
  let i = index;
  while (i < text.length && /\s/.test(text[i])) i++;
  if (i >= text.length) return null;
  if (text[i] === '{') {
    const group = table ? braceGroupAt(text, table, i) : readBraceGroup(text, i);
    return group ? { ...group, braced: true } : null;
  }
  if (text[i] === '}') return null;
  if (text[i] === '\\') {
    CONTROL_WORD.lastIndex = i;
    const word = CONTROL_WORD.exec(text);
    if (word) return { content: word[0], end: i + word[0].length, braced: false };
    if (i + 1 < text.length) return { content: text.slice(i, i + 2), end: i + 2, braced: false };
    return null;
  }
  return { content: text[i], end: i + 1, braced: false };
}

const ENVIRONMENT_WINDOW = 40;

/** +1 / -1 / 0: how the token at `index` changes the bracket depth, and its length. */
function bracketToken(text: string, index: number): { delta: number; length: number } {
  const ch = text[index];
  if (ch === '\\') {
    const next = text[index + 1];
    if (next === '{') return { delta: 1, length: 2 };
    if (next === '}') return { delta: -1, length: 2 };
    // environment names are short: the closing brace is looked for in a bounded window (linear on hostile text)
    if (text.startsWith('\\begin{', index)) {
      const close = text.slice(index, index + ENVIRONMENT_WINDOW).indexOf('}');
      return { delta: 1, length: close < 0 ? 6 : close + 1 };
    }
    if (text.startsWith('\\end{', index)) {
      const close = text.slice(index, index + ENVIRONMENT_WINDOW).indexOf('}');
      return { delta: -1, length: close < 0 ? 4 : close + 1 };
    }
    const word = /^\\[A-Za-z]+/.exec(text.slice(index, index + 40));
    return { delta: 0, length: word ? word[0].length : 2 };
  }
  if (ch === '(' || ch === '[' || ch === '{') return { delta: 1, length: 1 };
  if (ch === ')' || ch === ']' || ch === '}') return { delta: -1, length: 1 };
  return { delta: 0, length: 1 };
}

/**
 * Splits on `separator` where it appears outside every bracket. A separator that is a LaTeX command (`\cup`) only
 * matches as a whole control word (`\cup` does not match inside `\cupdot`).
 */
export function splitTopLevel(text: string, separator: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  const isCommand = /^\\[A-Za-z]+$/.test(separator);
  for (let i = 0; i < text.length;) {
    if (depth === 0 && text.startsWith(separator, i)) {
      const boundaryOk = !isCommand || !/[A-Za-z]/.test(text[i + separator.length] ?? '');
      if (boundaryOk) {
        parts.push(text.slice(start, i));
        i += separator.length;
        start = i;
        continue;
      }
    }
    const token = bracketToken(text, i);
    depth = Math.max(0, depth + token.delta);
    i += token.length;
  }
  parts.push(text.slice(start));
  return parts;
}

/** True when `separator` occurs at bracket depth 0. */
export function hasTopLevel(text: string, separator: string): boolean {
  return splitTopLevel(text, separator).length > 1;
}

/**
 * When the bracket opened by the first token of `text` closes exactly at its end, returns the index where the
 * closing token starts; otherwise `null`. `(1,2)` -> 4; `(1)+(2)` -> null.
 */
export function wrappingPairEnd(text: string): number | null {
  if (text.length < 2) return null;
  let depth = 0;
  for (let i = 0; i < text.length;) {
    const token = bracketToken(text, i);
    depth += token.delta;
    if (depth <= 0) {
      if (i === 0) return null;
      return i + token.length === text.length ? i : null;
    }
    i += token.length;
  }
  return null;
}

/** Compiled patterns of replaceCommandGroups, one per command. */
const commandPatterns = new Map<string, RegExp>();

/** Replaces every `\command{...}` (balanced) by `render(content)`; unbalanced occurrences are left as they are. */
export function replaceCommandGroups(text: string, command: string, render: (content: string) => string): string {
  if (!text.includes(`\\${command}`)) return text;
  let pattern = commandPatterns.get(command);
  if (!pattern) {
    pattern = new RegExp(`\\\\${command}(?![A-Za-z])\\s*\\{`, 'g');
    commandPatterns.set(command, pattern);
  }
  pattern.lastIndex = 0;
  let out = '';
  let last = 0;
  let table: Int32Array | undefined;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    table ??= matchingBraces(text);
    const group = braceGroupAt(text, table, match.index + match[0].length - 1);
    if (!group) continue;
    out += text.slice(last, match.index) + render(group.content);
    last = group.end;
    pattern.lastIndex = group.end;
  }
  return last === 0 ? text : out + text.slice(last);
}
