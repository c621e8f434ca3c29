// Answer shapes: how a normalised answer is read before comparison (scalar, equation, tuple/interval, set, list,
// union, matrix).
//
// Reading rules (applied in this order to a normalised answer):
// 1. `\emptyset` is the empty set.
// 2. A top-level `\cup` makes a union of its parts (`(-\infty,1)\cup(2,\infty)`).
// 3. A top-level comma makes a bare list (`1,2`; `\frac{-1+\sqrt{17}}{2},\frac{-1-\sqrt{17}}{2}`).
// 4. A single `\pm` (or `\mp`) makes the bare list of its two values: `1\pm\sqrt{2}` = `1+\sqrt{2},1-\sqrt{2}`.
// 5. A whole answer wrapped in `\{...\}` is a set; in `(...)` or `[...]` with a top-level comma it is a bracketed
//    sequence that keeps both bracket kinds (tuples, points, vectors and intervals all live here: `(1,2)`, `[1,2)`,
//    `(1,2,3)`); without a comma the brackets are just grouping (`(5)` = 5, `(B)` = B); `\begin{pmatrix}` is a
//    matrix (rows split on `\\`, cells on `&`).
// 6. One top-level `=` makes an equation; it is "labelled" on the side that is a lone variable (`y=2x+1`,
//    `2x+1=y`). (Normalisation already dropped labels whose value has no variable: `x=3` arrives here as `3`.)
// 7. A one-variable inequality or chain becomes the interval it describes: `x>2` = `(2,\infty)`,
//    `-1<x\le3` = `(-1,3]`.
// 8. Anything else is a scalar (a number, an expression or a word), compared by value or as text.
import { splitTopLevel, wrappingPairEnd } from './latex-text';

export type AnswerShape =
  | { readonly kind: 'empty' }
  | { readonly kind: 'scalar'; readonly text: string }
  | { readonly kind: 'equation'; readonly lhs: string; readonly rhs: string; readonly label: 'left' | 'right' | null }
  | { readonly kind: 'bracketed'; readonly open: '(' | '['; readonly close: ')' | ']'; readonly items: readonly AnswerShape[] }
  | { readonly kind: 'set'; readonly items: readonly AnswerShape[] }
  | { readonly kind: 'list'; readonly items: readonly AnswerShape[] }
  | { readonly kind: 'union'; readonly parts: readonly AnswerShape[] }
  | { readonly kind: 'matrix'; readonly rows: readonly (readonly AnswerShape[])[] };

/** Nesting deeper than this is read as a scalar (and then compared as text). */
const MAX_SHAPE_DEPTH = 8;

const VARIABLE = String.raw`(?:[A-Za-z]|[A-Za-z]_\{?[A-Za-z0-9]+\}?|\\(?:alpha|beta|gamma|theta|phi|lambda|mu|omega))`;
const LONE_VARIABLE = new RegExp(`^${VARIABLE}$`);
/** What may name an answer on the side of an equation: `y`, `f(x)`, `(a,b,c)`. */
const EQUATION_LABEL = new RegExp(`^(?:${VARIABLE}|[A-Za-z]\\(${VARIABLE}(?:,${VARIABLE})*\\)|\\(${VARIABLE}(?:,${VARIABLE})+\\))$`);

function scalar(text: string): AnswerShape {
  return { kind: 'scalar', text };
}

function items(texts: readonly string[], depth: number): AnswerShape[] {
  return texts.map((text) => parseAnswerShape(text, depth + 1));
}

function parseWrapped(text: string, depth: number): AnswerShape | null {
  if (text.startsWith('\\begin{pmatrix}') && text.endsWith('\\end{pmatrix}')) {
    const inner = text.slice('\\begin{pmatrix}'.length, -'\\end{pmatrix}'.length);
    const rows = splitTopLevel(inner, '\\\\')
      .map((row) => row.trim())
      .filter((row) => row !== '')
      .map((row) => items(splitTopLevel(row, '&'), depth));
    return { kind: 'matrix', rows };
  }
  const closeAt = wrappingPairEnd(text);
  if (closeAt === null) return null;
  if (text.startsWith('\\{') && text.slice(closeAt) === '\\}') {
    const inner = text.slice(2, closeAt);
    return { kind: 'set', items: inner.trim() === '' ? [] : items(splitTopLevel(inner, ','), depth) };
  }
  const open = text[0];
  const close = text[text.length - 1];
  if ((open === '(' || open === '[' || open === '{') && (close === ')' || close === ']' || close === '}')) {
    const inner = text.slice(1, -1);
    const parts = splitTopLevel(inner, ',');
    if (parts.length === 1 || open === '{' || close === '}') return parseAnswerShape(inner, depth + 1);
    return { kind: 'bracketed', open: open as '(' | '[', close: close as ')' | ']', items: items(parts, depth) };
  }
  return null;
}

function parseEquation(text: string): AnswerShape | null {
  const sides = splitTopLevel(text, '=');
  if (sides.length !== 2) return null;
  const [lhs, rhs] = sides.map((side) => side.trim());
  if (lhs === '' || rhs === '') return null;
  const label = EQUATION_LABEL.test(lhs) ? 'left' : EQUATION_LABEL.test(rhs) ? 'right' : null;
  return { kind: 'equation', lhs, rhs, label };
}

type Relation = '<' | '>' | '\\le' | '\\ge';

const RELATION_PATTERN = /\\(?:le|ge|lt|gt)(?![A-Za-z])|<|>/;

function splitRelations(text: string): { parts: string[]; relations: Relation[] } | null {
  const parts: string[] = [];
  const relations: Relation[] = [];
  let rest = text;
  for (let match = RELATION_PATTERN.exec(rest); match !== null; match = RELATION_PATTERN.exec(rest)) {
    parts.push(rest.slice(0, match.index));
    const token = match[0] === '\\lt' ? '<' : match[0] === '\\gt' ? '>' : (match[0] as Relation);
    relations.push(token);
    rest = rest.slice(match.index + match[0].length);
  }
  parts.push(rest);
  if (relations.length === 0 || parts.some((part) => part.trim() === '')) return null;
  return { parts: parts.map((p) => p.trim()), relations };
}

const INFINITY = scalar('\\infty');
const MINUS_INFINITY = scalar('-\\infty');

function interval(lower: AnswerShape, lowerClosed: boolean, upper: AnswerShape, upperClosed: boolean): AnswerShape {
  return { kind: 'bracketed', open: lowerClosed ? '[' : '(', close: upperClosed ? ']' : ')', items: [lower, upper] };
}

/** `x<3`, `x\ge5`, `3>x`, `-1<x\le3`, `3\ge x>-1` -> intervals; null for anything else. */
function parseInequality(text: string): AnswerShape | null {
  const split = splitRelations(text);
  if (!split) return null;
  const { parts, relations } = split;
  const closed = (r: Relation) => r === '\\le' || r === '\\ge';
  const upward = (r: Relation) => r === '<' || r === '\\le';
  if (parts.length === 2) {
    const [left, right] = parts;
    const [r] = relations;
    if (LONE_VARIABLE.test(left) && !LONE_VARIABLE.test(right)) {
      return upward(r) ? interval(MINUS_INFINITY, false, scalar(right), closed(r)) : interval(scalar(right), closed(r), INFINITY, false);
    }
    if (LONE_VARIABLE.test(right) && !LONE_VARIABLE.test(left)) {
      return upward(r) ? interval(scalar(left), closed(r), INFINITY, false) : interval(MINUS_INFINITY, false, scalar(left), closed(r));
    }
    return null;
  }
  if (parts.length === 3 && LONE_VARIABLE.test(parts[1]) && upward(relations[0]) === upward(relations[1])) {
    const [a, , b] = parts;
    if (upward(relations[0])) return interval(scalar(a), closed(relations[0]), scalar(b), closed(relations[1]));
    return interval(scalar(b), closed(relations[1]), scalar(a), closed(relations[0]));
  }
  return null;
}

function expandPlusMinus(text: string, depth: number): AnswerShape | null {
  const occurrences = text.match(/\\(?:pm|mp)(?![A-Za-z])/g);
  if (!occurrences || occurrences.length !== 1) return null;
  const plus = text.replace(/\\(?:pm|mp)(?![A-Za-z])/, '+').replace(/^\+/, '');
  const minus = text.replace(/\\(?:pm|mp)(?![A-Za-z])/, '-');
  return { kind: 'list', items: [parseAnswerShape(plus, depth + 1), parseAnswerShape(minus, depth + 1)] };
}

/** Reads a normalised answer into its shape. */
export function parseAnswerShape(text: string, depth = 0): AnswerShape {
  const trimmed = text.trim();
  if (trimmed === '') return { kind: 'empty' };
  if (depth > MAX_SHAPE_DEPTH) return scalar(trimmed);
  if (trimmed === '\\emptyset') return { kind: 'set', items: [] };
  const unionParts = splitTopLevel(trimmed, '\\cup');
  if (unionParts.length > 1) return { kind: 'union', parts: items(unionParts, depth) };
  const listItems = splitTopLevel(trimmed, ',');
  if (listItems.length > 1) return { kind: 'list', items: items(listItems, depth) };
  return (
    expandPlusMinus(trimmed, depth) ??
    parseWrapped(trimmed, depth) ??
    parseEquation(trimmed) ??
    parseInequality(trimmed) ??
    scalar(trimmed)
  );
}
