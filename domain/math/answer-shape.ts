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
//
// Added readings (issue 12):
// - a top-level `:` makes a ratio (`2:3`, `1:2:3`); `H:MM` is a clock time (`21:00`) and is compared as one;
// - `A\setminus B` (also `\backslash`) is a set difference: `\mathbb{R}\setminus\{0\}`; `x\ne a` is ℝ without a;
// - a set-builder `\{x \mid cond\}` / `\{x : cond\}` / `\{x\in\mathbb{R} | cond\}` is the set its condition
//   describes (an inequality, `x\ne a`, or a union of them);
// - a linear inequality in one variable is solved: `-x>-1` = `x<1`, `2x+1\ge3` = `x\ge1`;
// - `\pm` inside a set or list item gives two items (`\{\pm2\}` = `\{2,-2\}`); a union of finite sets is one set;
// - an equation `E=c` whose side E names a quantity (a function value `f(2)`, or variables combined without numeric
//   coefficients: `a+b`, `m+n+p`, `abc`) and whose other side is a constant has the value c (`a+b=25` = 25).
import { EvaluationBudget } from './budget';
import { evaluateExact, parseLatexExpression } from './latex-expression';
import { splitTopLevel, wrappingPairEnd } from './latex-text';
import * as Q from './rational';

export type AnswerShape =
  | { readonly kind: 'empty' }
  | { readonly kind: 'scalar'; readonly text: string }
  | {
      readonly kind: 'equation';
      readonly lhs: string;
      readonly rhs: string;
      /** The side that is a lone variable (`y=2x+1`); two equations with such labels compare by value. */
      readonly label: 'left' | 'right' | null;
      /** The side naming the quantity whose value the other (constant) side gives: a label, `f(2)`, `a+b`. */
      readonly named: 'left' | 'right' | null;
    }
  | {
      readonly kind: 'bracketed';
      readonly open: '(' | '[';
      readonly close: ')' | ']';
      readonly items: readonly AnswerShape[];
    }
  | { readonly kind: 'set'; readonly items: readonly AnswerShape[] }
  | { readonly kind: 'list'; readonly items: readonly AnswerShape[] }
  | { readonly kind: 'union'; readonly parts: readonly AnswerShape[] }
  | { readonly kind: 'matrix'; readonly rows: readonly (readonly AnswerShape[])[] }
  | { readonly kind: 'ratio'; readonly parts: readonly AnswerShape[]; readonly clock: boolean }
  | { readonly kind: 'difference'; readonly left: AnswerShape; readonly right: AnswerShape };

/** Nesting deeper than this is read as a scalar (and then compared as text). */
const MAX_SHAPE_DEPTH = 8;

const VARIABLE = String.raw`(?:[A-Za-z]|[A-Za-z]_\{?[A-Za-z0-9]+\}?|\\(?:alpha|beta|gamma|theta|phi|lambda|mu|omega))`;
const LONE_VARIABLE = new RegExp(`^${VARIABLE}$`);
/** What may name an answer on the side of an equation: `y`, `f(x)`, `(a,b,c)`. */
const EQUATION_LABEL = new RegExp(
  `^(?:${VARIABLE}|[A-Za-z]\\(${VARIABLE}(?:,${VARIABLE})*\\)|\\(${VARIABLE}(?:,${VARIABLE})+\\))$`,
);

function scalar(text: string): AnswerShape {
  return { kind: 'scalar', text };
}

function items(texts: readonly string[], depth: number): AnswerShape[] {
  return texts.map((text) => parseAnswerShape(text, depth + 1));
}

/** Items of a set or a list: an item with `\pm` stands for its two values. */
function collectionItems(texts: readonly string[], depth: number): AnswerShape[] {
  const out: AnswerShape[] = [];
  for (const text of texts) {
    const shape = parseAnswerShape(text, depth + 1);
    if (shape.kind === 'list' && /\\(?:pm|mp)(?![A-Za-z])/.test(text)) out.push(...shape.items);
    else out.push(shape);
  }
  return out;
}

const REALS = '\\mathbb{R}';

/** `\{x \mid x>2\}`, `\{x : x\ne0\}`, `\{x\in\mathbb{R} | x<1\}` -> the set the condition describes. */
function parseSetBuilder(inner: string, depth: number): AnswerShape | null {
  for (const separator of ['\\mid', ':', '|']) {
    const parts = splitTopLevel(inner, separator);
    if (parts.length !== 2) continue;
    const [head, condition] = parts.map((p) => p.trim());
    const variable = /^([A-Za-z])(?:\\in\\mathbb\{R\})?$/.exec(head);
    if (!variable || condition === '') return null;
    return parseCondition(condition, variable[1], depth);
  }
  return null;
}

/** A condition on one variable: inequalities, `x\ne a`, joined by `\cup` (or) / `,`; null when not of that form. */
function parseCondition(condition: string, variable: string, depth: number): AnswerShape | null {
  const parts = splitTopLevel(condition, '\\cup');
  const shapes: AnswerShape[] = [];
  for (const part of parts) {
    const shape = parseInequality(part.trim(), depth);
    if (!shape || !mentionsOnly(part, variable)) return null;
    shapes.push(shape);
  }
  return shapes.length === 1 ? shapes[0] : { kind: 'union', parts: shapes };
}

/** The only letter variable of `text` (outside command names) is `variable`. */
function mentionsOnly(text: string, variable: string): boolean {
  const letters = text.replace(/\\[A-Za-z]+/g, ' ').match(/[A-Za-z]/g) ?? [];
  return letters.every((letter) => letter === variable);
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
    const builder = parseSetBuilder(inner, depth);
    if (builder) return builder;
    return { kind: 'set', items: inner.trim() === '' ? [] : collectionItems(splitTopLevel(inner, ','), depth) };
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
  const named =
    label ??
    (namesQuantity(lhs) && isConstantText(rhs) ? 'left' : namesQuantity(rhs) && isConstantText(lhs) ? 'right' : null);
  return { kind: 'equation', lhs, rhs, label, named };
}

/** No variable: letters only inside command names. */
function isConstantText(text: string): boolean {
  return !/[A-Za-z]/.test(text.replace(/\\[A-Za-z]+/g, ''));
}

/**
 * A side that names the quantity asked for: `f(2)`, `P(1)`, `a+b`, `a^2+b^2`, `abc`, `\angle ABC`, `m+n+p`. It has
 * a letter and no digit outside function arguments, subscripts and exponents (a numeric coefficient or term makes
 * it an equation to solve: `2x=4`, `x+1=5`).
 */
function namesQuantity(side: string): boolean {
  if (side.length > 60 || /[<>=]|\\(?:le|ge|ne)(?![A-Za-z])/.test(side)) return false;
  const stripped = side
    .replace(/[A-Za-z]\([^()]*\)/g, 'F')
    .replace(/[_^]\{[^{}]*\}/g, '')
    .replace(/[_^][A-Za-z0-9]/g, '');
  return /[A-Za-z]/.test(stripped.replace(/\\[A-Za-z]+/g, '')) && !/\d/.test(stripped);
}

type Relation = '<' | '>' | '\\le' | '\\ge' | '\\ne';

const RELATION_PATTERN = /\\(?:le|ge|lt|gt|ne)(?![A-Za-z])|<|>/g;

function splitRelations(text: string): { parts: string[]; relations: Relation[] } | null {
  const parts: string[] = [];
  const relations: Relation[] = [];
  let last = 0;
  RELATION_PATTERN.lastIndex = 0;
  for (let match = RELATION_PATTERN.exec(text); match !== null; match = RELATION_PATTERN.exec(text)) {
    parts.push(text.slice(last, match.index));
    const token = match[0] === '\\lt' ? '<' : match[0] === '\\gt' ? '>' : (match[0] as Relation);
    relations.push(token);
    last = match.index + match[0].length;
    if (relations.length > 3) return null;
  }
  parts.push(text.slice(last));
  if (relations.length === 0 || parts.some((part) => part.trim() === '')) return null;
  return { parts: parts.map((p) => p.trim()), relations };
}

const INFINITY = scalar('\\infty');
const MINUS_INFINITY = scalar('-\\infty');

function interval(lower: AnswerShape, lowerClosed: boolean, upper: AnswerShape, upperClosed: boolean): AnswerShape {
  return { kind: 'bracketed', open: lowerClosed ? '[' : '(', close: upperClosed ? ']' : ')', items: [lower, upper] };
}

const FLIPPED: Record<Relation, Relation> = { '<': '>', '>': '<', '\\le': '\\ge', '\\ge': '\\le', '\\ne': '\\ne' };

function rationalText(value: Q.Rational): string {
  const sign = value.num < 0n ? '-' : '';
  const num = value.num < 0n ? -value.num : value.num;
  return value.den === 1n ? `${sign}${num}` : `${sign}\\frac{${num}}{${value.den}}`;
}

/**
 * `a*v+b REL c` with rational a != 0, b, c (checked exactly at v = 0, 1, 2, -3) -> `v REL' (c-b)/a`, the relation
 * flipped when a < 0. `-x>-1` -> [x, '<', 1]. Null when the side is not linear in one variable.
 */
function solveLinear(
  side: string,
  constant: string,
  relation: Relation,
): { variable: string; relation: Relation; bound: string } | null {
  if (side.length > 200 || constant.length > 200) return null;
  const parsedSide = parseLatexExpression(side);
  const parsedConstant = parseLatexExpression(constant);
  if (!parsedSide.ok || !parsedConstant.ok) return null;
  if (parsedSide.expression.variables.length !== 1 || parsedConstant.expression.variables.length !== 0) return null;
  const variable = parsedSide.expression.variables[0];
  if (!/^[A-Za-z]$/.test(variable)) return null;
  const budget = new EvaluationBudget(20_000);
  try {
    const at = (v: bigint) => evaluateExact(parsedSide.expression.tree, budget, new Map([[variable, Q.rational(v)!]]));
    const [v0, v1, v2, vm3] = [at(0n), at(1n), at(2n), at(-3n)];
    const c = evaluateExact(parsedConstant.expression.tree, budget);
    if (!v0 || !v1 || !v2 || !vm3 || !c) return null;
    const a = Q.subtract(v1, v0);
    if (!a || a.num === 0n) return null;
    const twice = Q.add(Q.multiply(a, Q.rational(2n)!)!, v0);
    const minusThree = Q.add(Q.multiply(a, Q.rational(-3n)!)!, v0);
    if (!twice || !minusThree || !Q.equals(twice, v2) || !Q.equals(minusThree, vm3)) return null;
    const difference = Q.subtract(c, v0);
    const bound = difference ? Q.divide(difference, a) : null;
    if (!bound) return null;
    return { variable, relation: a.num < 0n ? FLIPPED[relation] : relation, bound: rationalText(bound) };
  } catch {
    return null;
  }
}

/** ℝ without the point `value`: `x\ne3`. */
function allRealsExcept(value: string, depth: number): AnswerShape {
  return {
    kind: 'difference',
    left: scalar(REALS),
    right: { kind: 'set', items: [parseAnswerShape(value, depth + 1)] },
  };
}

/** `x<3`, `x\ge5`, `3>x`, `-1<x\le3`, `3\ge x>-1`, `-x>-1`, `x\ne0` -> intervals / sets; null for anything else. */
function parseInequality(text: string, depth = 0): AnswerShape | null {
  const split = splitRelations(text);
  if (!split) return null;
  const { parts, relations } = split;
  const closed = (r: Relation) => r === '\\le' || r === '\\ge';
  const upward = (r: Relation) => r === '<' || r === '\\le';
  if (relations.includes('\\ne')) {
    if (parts.length !== 2) return null;
    const [left, right] = parts;
    if (LONE_VARIABLE.test(left) && isConstantText(right)) return allRealsExcept(right, depth);
    if (LONE_VARIABLE.test(right) && isConstantText(left)) return allRealsExcept(left, depth);
    return null;
  }
  if (parts.length === 2) {
    let [left, right] = parts;
    let [r] = relations;
    if (!LONE_VARIABLE.test(left) && !LONE_VARIABLE.test(right)) {
      const solved = isConstantText(right)
        ? solveLinear(left, right, r)
        : isConstantText(left)
          ? solveLinear(right, left, FLIPPED[r])
          : null;
      if (!solved) return null;
      [left, right, r] = [solved.variable, solved.bound, solved.relation];
    }
    if (LONE_VARIABLE.test(left) && !LONE_VARIABLE.test(right)) {
      return upward(r)
        ? interval(MINUS_INFINITY, false, scalar(right), closed(r))
        : interval(scalar(right), closed(r), INFINITY, false);
    }
    if (LONE_VARIABLE.test(right) && !LONE_VARIABLE.test(left)) {
      return upward(r)
        ? interval(scalar(left), closed(r), INFINITY, false)
        : interval(MINUS_INFINITY, false, scalar(left), closed(r));
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

/** `2:3`, `1:2:3` (ratios) and `21:00` (a clock time: `H:MM` or `H:MM:SS`). */
function parseRatio(text: string, depth: number): AnswerShape | null {
  if (!text.includes(':')) return null;
  const parts = splitTopLevel(text, ':');
  if (parts.length < 2 || parts.length > 4 || parts.some((p) => p.trim() === '')) return null;
  const clock = /^\d{1,2}:\d{2}(?::\d{2})?$/.test(text);
  return {
    kind: 'ratio',
    parts: items(
      parts.map((p) => p.trim()),
      depth,
    ),
    clock,
  };
}

/** `A\setminus B`: `\mathbb{R}\setminus\{0\}`, `[0,5]\setminus\{1,2\}`. */
function parseDifference(text: string, depth: number): AnswerShape | null {
  if (!text.includes('\\setminus')) return null;
  const parts = splitTopLevel(text, '\\setminus');
  if (parts.length !== 2 || parts.some((p) => p.trim() === '')) return null;
  return {
    kind: 'difference',
    left: parseAnswerShape(parts[0], depth + 1),
    right: parseAnswerShape(parts[1], depth + 1),
  };
}

function expandPlusMinus(text: string, depth: number): AnswerShape | null {
  const occurrences = text.match(/\\(?:pm|mp)(?![A-Za-z])/g);
  if (!occurrences || occurrences.length !== 1) return null;
  const plus = text.replace(/\\(?:pm|mp)(?![A-Za-z])/, '+').replace(/^\+/, '');
  const minus = text.replace(/\\(?:pm|mp)(?![A-Za-z])/, '-');
  return { kind: 'list', items: [parseAnswerShape(plus, depth + 1), parseAnswerShape(minus, depth + 1)] };
}

const SHAPE_CACHE_LIMIT = 5_000;
const shapeCache = new Map<string, AnswerShape>();

/** Drops memoised shapes (for benchmarks that want cold numbers). */
export function clearAnswerShapeCache(): void {
  shapeCache.clear();
}

/** Reads a normalised answer into its shape (memoised at the top level: a pure function of the text). */
export function parseAnswerShape(text: string, depth = 0): AnswerShape {
  if (depth > 0) return parseShape(text, depth);
  const cached = shapeCache.get(text);
  if (cached) return cached;
  const shape = parseShape(text, 0);
  if (shapeCache.size >= SHAPE_CACHE_LIMIT) shapeCache.clear();
  shapeCache.set(text, shape);
  return shape;
}

function parseShape(text: string, depth: number): AnswerShape {
  const trimmed = text.trim();
  if (trimmed === '') return { kind: 'empty' };
  if (depth > MAX_SHAPE_DEPTH) return scalar(trimmed);
  if (trimmed === '\\emptyset') return { kind: 'set', items: [] };
  const unionParts = splitTopLevel(trimmed, '\\cup');
  if (unionParts.length > 1) {
    const parts = items(unionParts, depth);
    // a union of finite sets is one finite set
    if (parts.every((part) => part.kind === 'set')) {
      return { kind: 'set', items: parts.flatMap((part) => (part.kind === 'set' ? part.items : [])) };
    }
    return { kind: 'union', parts };
  }
  const difference = parseDifference(trimmed, depth);
  if (difference) return difference;
  const listItems = splitTopLevel(trimmed, ',');
  if (listItems.length > 1) return { kind: 'list', items: collectionItems(listItems, depth) };
  return (
    parseRatio(trimmed, depth) ??
    expandPlusMinus(trimmed, depth) ??
    parseWrapped(trimmed, depth) ??
    parseEquation(trimmed) ??
    parseInequality(trimmed, depth) ??
    scalar(trimmed)
  );
}
