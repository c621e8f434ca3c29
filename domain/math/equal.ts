// Math answer equivalence: `mathEqual(prediction, reference)`, the published grader's `math_equal` re-implemented
// with its bugs fixed and every comparison bounded.
//
// Order of checks (both answers are first normalised, see normalize.ts):
// 1. Empty answers are never equal to anything, not even to another empty answer (the published grader's
//    `"" == ""` let unextractable rollouts win the majority vote and count as correct).
// 2. Case-insensitive string equality of the normalised texts.
// 3. Multiple choice: when the reference is a letter A-E (`B`, `(B)`, `\text{(B)}`), a prediction that is that
//    letter in a choice form (`B`, `(B)`, `B.`, `(B) 12`) is equal. Unlike the published `choice_answer_clean`,
//    the letter is not searched inside arbitrary text (there `a+b` matched the choice B).
// 4. Shapes (answer-shape.ts), compared structurally:
//    - scalars by value (below); text-like scalars (a run of three or more letters, e.g. "yes", "nosolution")
//      only as strings;
//    - bracketed sequences only with the same bracket kinds and item by item: `(1,2)` = `(1,2)` but
//      `(1,2)` != `[1,2]` != `[1,2)` (the published grader stripped brackets and equated them). DECISION: a
//      parenthesised pair is one object, both the point (1,2) and the open interval (1,2); it equals `1<x<2`;
//    - a bare list equals a parenthesised tuple in order, and a set or another bare list in any order (a list of
//      solutions); sets compare as sets (order and repetition ignored); unions part by part in any order;
//    - matrices cell by cell; a one-row or one-column matrix equals a parenthesised tuple of the same entries;
//    - equations: `y=2x+1` = `2x+1=y` = `y-2x=1` (lhs-rhs equal up to a non-zero constant factor, checked at
//      sample points); a labelled equation equals its value (`y=2x+1` = `2x+1`), and two labelled equations
//      with the same value are equal (`x=3` = `y=3`, as in the published grader).
// 5. Percent variants (the published grader always tried ref, ref/100 and ref*100, so a prediction of 1 matched a
//    reference of 100): by default (`percent: 'marked'`) they are tried only when one side was written as a
//    percentage (`50\%` = 0.5 = 50); 'always' restores the published behaviour, 'never' disables them.
//
// Scalar values. DECISION on exact forms vs decimals: integers, fractions and closed forms are compared exactly
// (BigInt rationals when both sides are rational; otherwise double precision with a relative tolerance of 1e-9,
// i.e. up to rounding), so `10000` != `10001`, `\sqrt{2}` != `\frac{99}{70}` and `\frac{\sqrt{2}}{2}` =
// `\sqrt{2}/2` = `\frac{1}{\sqrt{2}}`. When either side is written with a decimal literal (`0.7071`) it is an
// approximation and the published relative tolerance of 1e-4 applies: `0.7071` = `\frac{\sqrt{2}}{2}` but
// `0.71` != `\frac{\sqrt{2}}{2}`; `3.1416` = `\pi`. Expressions with variables are compared at four fixed sample
// points (each variable gets a fixed positive value per point), so `(x+1)^2` = `x^2+2x+1` and `\sqrt{x^2}` = `x`
// (positive samples). `e` is Euler's number, `i` the imaginary unit, `\pi` pi, `\infty` is infinite (equal only
// to itself with the same sign).
//
// Bounds: normalised answers longer than `maxAnswerLength` are compared as strings only; every evaluation spends
// from a step budget (`stepBudget`, default 100,000 per call); values that overflow doubles stop the numeric path.
// When a bound is hit and no equality was found, the result is `{ equal: false, timedOut: true, bound }`.
// All of it is deterministic (no clocks), so a verdict replays identically.
import { parseAnswerShape } from './answer-shape';
import type { AnswerShape } from './answer-shape';
import { BoundExceeded, EvaluationBudget } from './budget';
import type { BoundKind } from './budget';
import * as C from './complex';
import type { Complex } from './complex';
import {
  NotEvaluable,
  differenceOf,
  evaluateExact,
  evaluateNumeric,
  parseLatexExpression,
  scaledBy,
} from './latex-expression';
import type { LatexExpression, NumericEnv } from './latex-expression';
import { normalizeAnswerDetailed } from './normalize';
import type { NormalizedAnswer } from './normalize';
import * as Q from './rational';

export type PercentVariants = 'marked' | 'always' | 'never';

export interface MathEqualOptions {
  /** Relative tolerance for answers written with decimals. Default 1e-4 (the published `isclose(rel_tol=1e-4)`). */
  relativeTolerance?: number;
  /** When to also accept reference/100 and reference*100. Default 'marked'. */
  percent?: PercentVariants;
  /** Evaluation steps one comparison may spend. Default 100,000. */
  stepBudget?: number;
  /** Longest normalised answer that gets more than a string comparison. Default 2,000 characters. */
  maxAnswerLength?: number;
}

export type MathEqualMethod = 'empty' | 'string' | 'choice' | 'value' | 'equation' | 'structure' | 'none';

export interface MathEqualResult {
  readonly equal: boolean;
  /** True when a bound (size, steps, magnitude) stopped the comparison before equality could be shown. */
  readonly timedOut: boolean;
  readonly bound?: BoundKind;
  /** The check that decided (for `equal: false`, 'none' unless the answers were empty). */
  readonly method: MathEqualMethod;
}

/** Relative tolerance for exact forms compared in floating point: rounding only. */
const EXACT_FORM_TOLERANCE = 1e-9;
/** Two values both smaller than this are equal (`\sin\pi` = 0). */
const ZERO_THRESHOLD = 1e-12;
/** Number of sample points for expressions with variables. */
const SAMPLE_POINTS = 10;
/** Points where both sides are defined and agree, needed for expressions with variables. */
const MIN_AGREEING_POINTS = 3;

interface Settings {
  readonly relativeTolerance: number;
  readonly percent: PercentVariants;
  readonly stepBudget: number;
  readonly maxAnswerLength: number;
}

function settings(options: MathEqualOptions = {}): Settings {
  return {
    relativeTolerance: options.relativeTolerance ?? 1e-4,
    percent: options.percent ?? 'marked',
    stepBudget: options.stepBudget ?? 100_000,
    maxAnswerLength: options.maxAnswerLength ?? 2000,
  };
}

/** State of one comparison: the shared budget and the first bound that was hit. */
interface Comparison {
  readonly settings: Settings;
  readonly budget: EvaluationBudget;
  bound: BoundKind | null;
}

// ---------------------------------------------------------------------------------------------------------------
// Multiple choice

const CHOICE_REFERENCE = /^\(?([A-E])\)?$/;
const CHOICE_PREDICTION = /^(?:(?:option|choice)\s*)?(?:\(([A-E])\)|([A-E])(?:$|[.:)]))/i;
/** Another choice marker later in a prediction: `(C)`, or a letter A-E standing alone before `.`/`)`/`:`/`,`/end. */
const OTHER_CHOICE = /\(([A-E])\)|(?<![A-Za-z\\])([A-E])(?=$|[.:),])/g;

/** The choice letter of a reference written as a bare or parenthesised capital A-E. */
export function referenceChoiceLetter(normalizedReference: string): string | null {
  return CHOICE_REFERENCE.exec(normalizedReference)?.[1] ?? null;
}

/**
 * The choice letter of a prediction in a choice form: `B`, `(B)`, `B.`, `B)`, `(B)12`, `option B`. A prediction
 * that names two different choices (`(A),(C)`, `(A)(C)`, `A.C.`) has none: it is not one answer.
 */
export function predictionChoiceLetter(normalizedPrediction: string): string | null {
  const trimmed = normalizedPrediction.trim();
  const match = CHOICE_PREDICTION.exec(trimmed);
  if (!match) return null;
  const written = match[1] ?? match[2];
  const letter = written.toUpperCase();
  if (written !== letter && !/^(?:option|choice)/i.test(trimmed)) return null; // `a.` is not choice A
  const rest = trimmed.slice(match[0].length);
  OTHER_CHOICE.lastIndex = 0;
  for (let other = OTHER_CHOICE.exec(rest); other !== null; other = OTHER_CHOICE.exec(rest)) {
    if ((other[1] ?? other[2]) !== letter) return null;
  }
  return letter;
}

// ---------------------------------------------------------------------------------------------------------------
// Scalars

/** Text-like answers ("yes", "nosolution", "\text{Monday}") are only compared as strings. */
function isTextLike(text: string): boolean {
  const withoutCommands = text.replace(/\\[A-Za-z]+/g, ' ');
  return /[A-Za-z]{3,}/.test(withoutCommands) || /^\s*no\s*$/i.test(withoutCommands);
}

function sameText(a: string, b: string): boolean {
  return a.replace(/\s+/g, '').toLowerCase() === b.replace(/\s+/g, '').toLowerCase();
}

function valuesClose(a: Complex, b: Complex, tolerance: number): boolean {
  if (!C.isFiniteComplex(a) || !C.isFiniteComplex(b)) return a.re === b.re && a.im === b.im;
  if (C.cAbs(a) < ZERO_THRESHOLD && C.cAbs(b) < ZERO_THRESHOLD) return true;
  return C.relativeDifference(a, b) <= tolerance;
}

function toleranceFor(a: LatexExpression, b: LatexExpression, comparison: Comparison): number {
  return a.approximate || b.approximate ? comparison.settings.relativeTolerance : EXACT_FORM_TOLERANCE;
}

/**
 * Sample values: both signs, magnitudes below and above 1 (so that `|x|` != `x`, and `\arcsin x` has points inside
 * its domain), never an integer. Variable k at point t takes SAMPLE_BASE[(t + 3k) mod n], slightly scaled, so two
 * variables never take the same value at a point.
 */
const SAMPLE_BASE = [0.3719, -0.6183, 1.4427, -0.2291, 0.8312, -1.3173, 0.1187, -2.1749, 2.6393, -0.4672];

function sampleValue(point: number, variableIndex: number): number {
  return SAMPLE_BASE[(point + 3 * variableIndex) % SAMPLE_BASE.length] * (1 + 0.0173 * variableIndex);
}

function sampleEnvironments(variables: readonly string[]): NumericEnv[] {
  if (variables.length === 0) return [new Map()];
  const environments: NumericEnv[] = [];
  for (let point = 0; point < SAMPLE_POINTS; point++) {
    environments.push(new Map(variables.map((name, k) => [name, C.complex(sampleValue(point, k))])));
  }
  return environments;
}

/** A value with a noticeable imaginary part (outside the real domain of a real expression). */
function isNonReal(z: Complex): boolean {
  return Math.abs(z.im) > 1e-9 * Math.max(1, Math.abs(z.re));
}

function unionOfVariables(a: LatexExpression, b: LatexExpression): string[] {
  return [...new Set([...a.variables, ...b.variables])].sort();
}

/** The value of `expression` at one environment; `null` where it is undefined (division by zero, ...). */
function valueAt(expression: LatexExpression, env: NumericEnv, comparison: Comparison): Complex | null {
  try {
    return evaluateNumeric(expression.tree, comparison.budget, env);
  } catch (error) {
    if (error instanceof NotEvaluable) return null;
    throw error;
  }
}

function valuesAt(
  expression: LatexExpression,
  environments: readonly NumericEnv[],
  comparison: Comparison,
): (Complex | null)[] {
  return environments.map((env) => valueAt(expression, env, comparison));
}

/** Exact rational comparison when both sides are rational constants; null when that path does not apply. */
function exactlyEqual(a: LatexExpression, b: LatexExpression, comparison: Comparison): boolean | null {
  if (a.variables.length > 0 || b.variables.length > 0) return null;
  const va = evaluateExact(a.tree, comparison.budget);
  if (va === null) return null;
  const vb = evaluateExact(b.tree, comparison.budget);
  if (vb === null) return null;
  if (Q.equals(va, vb)) return true;
  if (!a.approximate && !b.approximate) return false;
  return valuesClose(C.complex(Q.toNumber(va)), C.complex(Q.toNumber(vb)), comparison.settings.relativeTolerance);
}

/**
 * Equal as functions on their common real domain: at every sample point where both sides are defined and both are
 * real (or both non-real) the values agree, and there are enough such points. A point where only one side is
 * defined, or only one is real (`2\ln x` at x < 0, `\sqrt[3]{x}` vs `x^{1/3}`), is outside a common domain and
 * skipped. Points take both signs, so `|x|` != `x` and `\sqrt{x^2}` != `x`.
 */
function expressionsEqual(a: LatexExpression, b: LatexExpression, comparison: Comparison): boolean {
  const exact = exactlyEqual(a, b, comparison);
  if (exact !== null) return exact;
  const environments = sampleEnvironments(unionOfVariables(a, b));
  const tolerance = toleranceFor(a, b, comparison);
  let agreeing = 0;
  for (const env of environments) {
    const va = valueAt(a, env, comparison);
    if (va === null) continue;
    const vb = valueAt(b, env, comparison);
    if (vb === null) continue;
    if (environments.length > 1 && isNonReal(va) !== isNonReal(vb)) continue;
    if (!valuesClose(va, vb, tolerance)) return false;
    agreeing++;
  }
  return agreeing >= Math.min(MIN_AGREEING_POINTS, environments.length);
}

/** Runs `check`, turning a bound into `false` and remembering which bound it was. */
function bounded(comparison: Comparison, check: () => boolean): boolean {
  try {
    return check();
  } catch (error) {
    if (error instanceof BoundExceeded) {
      comparison.bound ??= error.bound;
      return false;
    }
    throw error;
  }
}

function parsedExpression(text: string, comparison: Comparison): LatexExpression | null {
  const parsed = parseLatexExpression(text, comparison.budget);
  return parsed.ok ? parsed.expression : null;
}

const PLAIN_FRACTION = /^(-?)\\frac\{(\d+)\}\{(\d+)\}$/;

/** The value of a plain numeric literal (`-12`, `0.25`, `\frac{3}{4}`) without invoking the LaTeX parser. */
function literalValue(text: string): { value: Q.Rational; decimal: boolean } | null {
  const decimal = Q.parseDecimalLiteral(text);
  if (decimal) return decimal;
  const fraction = PLAIN_FRACTION.exec(text);
  if (!fraction) return null;
  const value = Q.rational(BigInt(fraction[2]), BigInt(fraction[3]));
  if (!value) return null;
  return { value: fraction[1] === '-' ? Q.negate(value) : value, decimal: false };
}

/** The cheap path: both sides are plain literals, compared exactly (or with the decimal tolerance). */
function literalsEqual(a: string, b: string, comparison: Comparison): boolean | null {
  const va = literalValue(a);
  const vb = literalValue(b);
  if (!va || !vb) return null;
  if (Q.equals(va.value, vb.value)) return true;
  if (!va.decimal && !vb.decimal) return false;
  return valuesClose(
    C.complex(Q.toNumber(va.value)),
    C.complex(Q.toNumber(vb.value)),
    comparison.settings.relativeTolerance,
  );
}

function scalarsEqual(a: string, b: string, comparison: Comparison): boolean {
  if (sameText(a, b)) return true;
  const literal = literalsEqual(a, b, comparison);
  if (literal !== null) return literal;
  if (isTextLike(a) || isTextLike(b)) return false;
  const pa = parseLatexExpression(a, comparison.budget);
  const pb = parseLatexExpression(b, comparison.budget);
  if (!pa.ok || !pb.ok) {
    if ((!pa.ok && pa.reason === 'too-large') || (!pb.ok && pb.reason === 'too-large'))
      comparison.bound ??= 'input-size';
    return false;
  }
  return bounded(comparison, () => expressionsEqual(pa.expression, pb.expression, comparison));
}

// ---------------------------------------------------------------------------------------------------------------
// Equations

/** lhs1-rhs1 and lhs2-rhs2 agree up to a non-zero constant factor at the sample points. */
function equationsEquivalent(
  a: Extract<AnswerShape, { kind: 'equation' }>,
  b: Extract<AnswerShape, { kind: 'equation' }>,
  comparison: Comparison,
): boolean {
  const sides = [a.lhs, a.rhs, b.lhs, b.rhs].map((side) => parsedExpression(side, comparison));
  if (sides.some((side) => side === null)) return false;
  const [la, ra, lb, rb] = sides as LatexExpression[];
  const da = differenceOf(la, ra);
  const db = differenceOf(lb, rb);
  const variables = unionOfVariables(da, db);
  if (variables.length === 0) return false;
  return bounded(comparison, () => {
    const environments = sampleEnvironments(variables);
    const valuesA = valuesAt(da, environments, comparison);
    const valuesB = valuesAt(db, environments, comparison);
    const tolerance = toleranceFor(da, db, comparison);
    let ratio: Complex | null = null;
    let informative = 0;
    for (let k = 0; k < environments.length; k++) {
      const [va, vb] = [valuesA[k], valuesB[k]];
      if (va === null || vb === null) continue;
      if (isNonReal(va) !== isNonReal(vb)) continue;
      const zeroA = C.cAbs(va) < ZERO_THRESHOLD;
      const zeroB = C.cAbs(vb) < ZERO_THRESHOLD;
      if (zeroA !== zeroB) return false;
      if (zeroA) continue;
      const r = C.cDiv(va, vb);
      if (ratio === null) ratio = r;
      else if (!valuesClose(ratio, r, tolerance * 10)) return false;
      informative++;
    }
    return informative >= MIN_AGREEING_POINTS;
  });
}

/** The value side of a labelled equation (`y=...`); with `named`, also of `f(2)=5`, `a+b=25`. */
function labelledValue(shape: Extract<AnswerShape, { kind: 'equation' }>, named = false): string | null {
  const side = named ? shape.named : shape.label;
  if (side === 'left') return shape.rhs;
  if (side === 'right') return shape.lhs;
  return null;
}

// ---------------------------------------------------------------------------------------------------------------
// Structures

function pairwiseEqual(a: readonly AnswerShape[], b: readonly AnswerShape[], comparison: Comparison): boolean {
  return a.length === b.length && a.every((item, k) => shapesEqual(item, b[k], comparison));
}

/** Same items in any order, each matched once (a greedy matching; equality is transitive for our values). */
function multisetEqual(a: readonly AnswerShape[], b: readonly AnswerShape[], comparison: Comparison): boolean {
  if (a.length !== b.length) return false;
  const used = new Array<boolean>(b.length).fill(false);
  for (const item of a) {
    const k = b.findIndex((other, index) => !used[index] && shapesEqual(item, other, comparison));
    if (k < 0) return false;
    used[k] = true;
  }
  return true;
}

/** Every item of each side equals some item of the other (order and repetition ignored). */
function setEqual(a: readonly AnswerShape[], b: readonly AnswerShape[], comparison: Comparison): boolean {
  const covers = (xs: readonly AnswerShape[], ys: readonly AnswerShape[]) =>
    xs.every((x) => ys.some((y) => shapesEqual(x, y, comparison)));
  return covers(a, b) && covers(b, a);
}

/** Entries of a one-row or one-column matrix; null for a real matrix. */
function vectorEntries(shape: Extract<AnswerShape, { kind: 'matrix' }>): readonly AnswerShape[] | null {
  if (shape.rows.length === 1) return shape.rows[0];
  if (shape.rows.every((row) => row.length === 1)) return shape.rows.map((row) => row[0]);
  return null;
}

function isParenthesised(shape: AnswerShape): shape is Extract<AnswerShape, { kind: 'bracketed' }> {
  return shape.kind === 'bracketed' && shape.open === '(' && shape.close === ')';
}

function collectionItems(shape: AnswerShape): readonly AnswerShape[] | null {
  if (shape.kind === 'set' || shape.kind === 'list') return shape.items;
  if (shape.kind === 'scalar') return [shape];
  return null;
}

/** Shape-against-shape comparison (symmetric). */
function shapesEqual(a: AnswerShape, b: AnswerShape, comparison: Comparison): boolean {
  comparison.budget.spend(); // item-by-item and set matching are quadratic: every shape comparison is counted
  if (a.kind === 'empty' || b.kind === 'empty') return false;
  if (a.kind === 'scalar' && b.kind === 'scalar') return scalarsEqual(a.text, b.text, comparison);
  if (a.kind === 'equation' || b.kind === 'equation') return equationShapesEqual(a, b, comparison);
  if (a.kind === 'ratio' || b.kind === 'ratio') return ratioShapesEqual(a, b, comparison);
  if (structurallyEqual(a, b, comparison)) return true;
  return isRealSetShape(a) || isRealSetShape(b) ? realSetsEqual(a, b, comparison) : false;
}

/** Shapes of the same structure compared part by part. */
function structurallyEqual(a: AnswerShape, b: AnswerShape, comparison: Comparison): boolean {
  if (a.kind === 'bracketed' && b.kind === 'bracketed') {
    return a.open === b.open && a.close === b.close && pairwiseEqual(a.items, b.items, comparison);
  }
  if (a.kind === 'matrix' && b.kind === 'matrix') {
    return a.rows.length === b.rows.length && a.rows.every((row, k) => pairwiseEqual(row, b.rows[k], comparison));
  }
  if (a.kind === 'matrix' || b.kind === 'matrix') {
    const [matrix, other] = a.kind === 'matrix' ? [a, b] : [b as Extract<AnswerShape, { kind: 'matrix' }>, a];
    const entries = vectorEntries(matrix);
    return entries !== null && isParenthesised(other) && pairwiseEqual(entries, other.items, comparison);
  }
  if (a.kind === 'union' && b.kind === 'union') return multisetEqual(a.parts, b.parts, comparison);
  if (a.kind === 'list' && isParenthesised(b)) return pairwiseEqual(a.items, b.items, comparison);
  if (b.kind === 'list' && isParenthesised(a)) return pairwiseEqual(a.items, b.items, comparison);
  if (a.kind === 'list' && b.kind === 'list') return multisetEqual(a.items, b.items, comparison);
  const itemsA = collectionItems(a);
  const itemsB = collectionItems(b);
  if (itemsA && itemsB && (a.kind === 'set' || b.kind === 'set')) return setEqual(itemsA, itemsB, comparison);
  if (itemsA && itemsB) return multisetEqual(itemsA, itemsB, comparison);
  return false;
}

function equationShapesEqual(a: AnswerShape, b: AnswerShape, comparison: Comparison): boolean {
  if (a.kind === 'equation' && b.kind === 'equation') {
    if (equationsEquivalent(a, b, comparison)) return true;
    const [va, vb] = [labelledValue(a), labelledValue(b)];
    return va !== null && vb !== null && shapesEqual(parseAnswerShape(va, 1), parseAnswerShape(vb, 1), comparison);
  }
  const [equation, other] = a.kind === 'equation' ? [a, b] : [b as Extract<AnswerShape, { kind: 'equation' }>, a];
  const value = labelledValue(equation, true);
  return value !== null && shapesEqual(parseAnswerShape(value, 1), other, comparison);
}

// ---------------------------------------------------------------------------------------------------------------
// Ratios and clock times

/** `a:b` text as the quotient `\frac{a}{b}`. */
function quotientText(a: AnswerShape, b: AnswerShape): string | null {
  return a.kind === 'scalar' && b.kind === 'scalar' ? `\\frac{${a.text}}{${b.text}}` : null;
}

/**
 * Two clock times (`21:00`) are equal when their fields are; two ratios when they are proportional (`4:6` = `2:3`);
 * a two-part ratio equals its quotient (`2:3` = `\frac{2}{3}`). A clock time equals nothing else.
 */
function ratioShapesEqual(a: AnswerShape, b: AnswerShape, comparison: Comparison): boolean {
  if (a.kind === 'ratio' && b.kind === 'ratio') {
    if (a.parts.length !== b.parts.length || a.clock !== b.clock) return false;
    if (a.clock) return pairwiseEqual(a.parts, b.parts, comparison);
    for (let k = 1; k < a.parts.length; k++) {
      const qa = quotientText(a.parts[k], a.parts[0]);
      const qb = quotientText(b.parts[k], b.parts[0]);
      if (qa === null || qb === null || !scalarsEqual(qa, qb, comparison)) return false;
    }
    return true;
  }
  const [ratio, other] = a.kind === 'ratio' ? [a, b] : [b as Extract<AnswerShape, { kind: 'ratio' }>, a];
  if (ratio.clock || ratio.parts.length !== 2 || other.kind !== 'scalar') return false;
  const quotient = quotientText(ratio.parts[0], ratio.parts[1]);
  return quotient !== null && scalarsEqual(quotient, other.text, comparison);
}

// ---------------------------------------------------------------------------------------------------------------
// Subsets of the real line: unions of intervals and points, differences, `\mathbb{R}`

interface Span {
  readonly lo: number;
  readonly hi: number;
  readonly loClosed: boolean;
  readonly hiClosed: boolean;
  /** The endpoint texts (compared with scalarsEqual, so that decimals keep their tolerance). */
  readonly loText: string;
  readonly hiText: string;
}

const MAX_SPANS = 64;

/** Shapes that only make sense as subsets of ℝ: unions, differences and ℝ itself. */
function isRealSetShape(shape: AnswerShape): boolean {
  return (
    shape.kind === 'union' || shape.kind === 'difference' || (shape.kind === 'scalar' && shape.text === '\\mathbb{R}')
  );
}

function realNumber(shape: AnswerShape, comparison: Comparison): number | null {
  if (shape.kind !== 'scalar') return null;
  if (shape.text === '\\infty') return Infinity;
  if (shape.text === '-\\infty') return -Infinity;
  const parsed = parsedExpression(shape.text, comparison);
  if (!parsed || parsed.variables.length > 0) return null;
  const value = valueAt(parsed, new Map(), comparison);
  if (value === null || isNonReal(value) || Number.isNaN(value.re)) return null;
  return value.re;
}

function textOf(shape: AnswerShape): string {
  return shape.kind === 'scalar' ? shape.text : '';
}

/** The subset of ℝ a shape describes, as sorted disjoint spans; null when it is not one (or not numeric). */
function toRealSet(shape: AnswerShape, comparison: Comparison, depth = 0): Span[] | null {
  if (depth > 6) return null;
  switch (shape.kind) {
    case 'scalar':
      return shape.text === '\\mathbb{R}'
        ? [{ lo: -Infinity, hi: Infinity, loClosed: false, hiClosed: false, loText: '-\\infty', hiText: '\\infty' }]
        : null;
    case 'set': {
      if (shape.items.length > MAX_SPANS) return null;
      const spans: Span[] = [];
      for (const item of shape.items) {
        const v = realNumber(item, comparison);
        if (v === null || !Number.isFinite(v)) return null;
        spans.push({ lo: v, hi: v, loClosed: true, hiClosed: true, loText: textOf(item), hiText: textOf(item) });
      }
      return mergeSpans(spans);
    }
    case 'bracketed': {
      if (shape.items.length !== 2) return null;
      const lo = realNumber(shape.items[0], comparison);
      const hi = realNumber(shape.items[1], comparison);
      if (lo === null || hi === null || lo > hi) return null;
      const loClosed = shape.open === '[';
      const hiClosed = shape.close === ']';
      if ((loClosed && !Number.isFinite(lo)) || (hiClosed && !Number.isFinite(hi))) return null;
      if (lo === hi && !(loClosed && hiClosed)) return [];
      return [{ lo, hi, loClosed, hiClosed, loText: textOf(shape.items[0]), hiText: textOf(shape.items[1]) }];
    }
    case 'union': {
      if (shape.parts.length > MAX_SPANS) return null;
      const spans: Span[] = [];
      for (const part of shape.parts) {
        const set = toRealSet(part, comparison, depth + 1);
        if (set === null) return null;
        spans.push(...set);
      }
      return mergeSpans(spans);
    }
    case 'difference': {
      const left = toRealSet(shape.left, comparison, depth + 1);
      const right = toRealSet(shape.right, comparison, depth + 1);
      return left === null || right === null ? null : subtractSpans(left, right);
    }
    default:
      return null;
  }
}

function startsBefore(a: Span, b: Span): number {
  if (a.lo !== b.lo) return a.lo - b.lo;
  return a.loClosed === b.loClosed ? 0 : a.loClosed ? -1 : 1;
}

/** Sorts and merges overlapping or touching spans (`[0,1)` and `[1,2]` make `[0,2]`; `(0,1)` and `(1,2)` stay apart). */
function mergeSpans(spans: readonly Span[]): Span[] {
  const sorted = [...spans].sort(startsBefore);
  const merged: Span[] = [];
  for (const span of sorted) {
    const last = merged[merged.length - 1];
    if (last && (span.lo < last.hi || (span.lo === last.hi && (last.hiClosed || span.loClosed)))) {
      if (span.hi > last.hi || (span.hi === last.hi && span.hiClosed && !last.hiClosed)) {
        merged[merged.length - 1] = { ...last, hi: span.hi, hiClosed: span.hiClosed, hiText: span.hiText };
      }
      continue;
    }
    merged.push(span);
  }
  return merged;
}

/** left minus right (both merged). */
function subtractSpans(left: readonly Span[], right: readonly Span[]): Span[] | null {
  let current: Span[] = [...left];
  for (const cut of right) {
    const next: Span[] = [];
    for (const span of current) {
      const disjoint =
        cut.hi < span.lo ||
        cut.lo > span.hi ||
        (cut.hi === span.lo && !(cut.hiClosed && span.loClosed)) ||
        (cut.lo === span.hi && !(cut.loClosed && span.hiClosed));
      if (disjoint) {
        next.push(span);
        continue;
      }
      // the part of span below the cut
      if (span.lo < cut.lo || (span.lo === cut.lo && span.loClosed && !cut.loClosed)) {
        next.push({ ...span, hi: cut.lo, hiClosed: !cut.loClosed, hiText: cut.loText });
      }
      // the part above the cut
      if (span.hi > cut.hi || (span.hi === cut.hi && span.hiClosed && !cut.hiClosed)) {
        next.push({ ...span, lo: cut.hi, loClosed: !cut.hiClosed, loText: cut.hiText });
      }
    }
    if (next.length > MAX_SPANS) return null;
    current = next;
  }
  return current;
}

function endpointsEqual(a: number, textA: string, b: number, textB: string, comparison: Comparison): boolean {
  if (!Number.isFinite(a) || !Number.isFinite(b)) return a === b;
  if (a === b) return true;
  return textA !== '' && textB !== '' && scalarsEqual(textA, textB, comparison);
}

function realSetsEqual(a: AnswerShape, b: AnswerShape, comparison: Comparison): boolean {
  const sa = toRealSet(a, comparison);
  const sb = toRealSet(b, comparison);
  if (sa === null || sb === null || sa.length !== sb.length) return false;
  return sa.every((span, k) => {
    const other = sb[k];
    return (
      span.loClosed === other.loClosed &&
      span.hiClosed === other.hiClosed &&
      endpointsEqual(span.lo, span.loText, other.lo, other.loText, comparison) &&
      endpointsEqual(span.hi, span.hiText, other.hi, other.hiText, comparison)
    );
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Percent variants

function percentVariantsApply(
  setting: PercentVariants,
  predictionPercent: boolean,
  referencePercent: boolean,
): boolean {
  if (setting === 'never') return false;
  return setting === 'always' || predictionPercent || referencePercent;
}

/** prediction = reference/100 or reference*100 (scalars only). */
function equalUnderPercentVariant(prediction: AnswerShape, reference: AnswerShape, comparison: Comparison): boolean {
  if (prediction.kind !== 'scalar' || reference.kind !== 'scalar') return false;
  if (isTextLike(prediction.text) || isTextLike(reference.text)) return false;
  const pa = parsedExpression(prediction.text, comparison);
  const pb = parsedExpression(reference.text, comparison);
  if (!pa || !pb) return false;
  const factors = [Q.rational(1n, 100n)!, Q.rational(100n)!];
  return factors.some((factor) => bounded(comparison, () => expressionsEqual(pa, scaledBy(pb, factor), comparison)));
}

// ---------------------------------------------------------------------------------------------------------------
// Entry points

function methodFor(prediction: AnswerShape, reference: AnswerShape): MathEqualMethod {
  if (prediction.kind === 'equation' || reference.kind === 'equation') return 'equation';
  if (prediction.kind === 'scalar' && reference.kind === 'scalar') return 'value';
  return 'structure';
}

function result(equal: boolean, method: MathEqualMethod, bound: BoundKind | null = null): MathEqualResult {
  if (equal || bound === null) return { equal, timedOut: false, method };
  return { equal, timedOut: true, bound, method };
}

/**
 * Units (see units.ts): when BOTH answers carry a recognised unit, the units must have the same dimensions, and the
 * values are compared after conversion (`2 h` = `120 min`, `5 cm` != `5 m`, `cm^2` never equals `cm^3`); a unit on
 * one side only is ignored (references are usually bare numbers). Returns the factor that converts the prediction's
 * value into the reference's unit (1 when no conversion applies), or null when the units cannot agree.
 */
function unitFactor(prediction: NormalizedAnswer, reference: NormalizedAnswer): Q.Rational | null {
  if (!prediction.unit || !reference.unit) return Q.ONE;
  if (prediction.unit.dimensions !== reference.unit.dimensions) return null;
  return Q.divide(prediction.unit.factor, reference.unit.factor);
}

function valuesEqualWithFactor(
  prediction: AnswerShape,
  reference: AnswerShape,
  factor: Q.Rational,
  comparison: Comparison,
): boolean {
  if (Q.equals(factor, Q.ONE)) return shapesEqual(prediction, reference, comparison);
  if (prediction.kind !== 'scalar' || reference.kind !== 'scalar') return false;
  const pa = parsedExpression(prediction.text, comparison);
  const pb = parsedExpression(reference.text, comparison);
  if (!pa || !pb) return false;
  return bounded(comparison, () => expressionsEqual(scaledBy(pa, factor), pb, comparison));
}

/** Compares a predicted answer with a reference answer (raw or normalised) and says how it was decided. */
export function mathEqualDetailed(
  prediction: string | null | undefined,
  reference: string | null | undefined,
  options?: MathEqualOptions,
): MathEqualResult {
  return mathEqualWithBudget(prediction, reference, options, new EvaluationBudget(settings(options).stepBudget));
}

/**
 * mathEqualDetailed spending from a budget the caller shares between several comparisons (majority voting bounds
 * a whole vote this way). Not part of the module's public surface.
 */
export function mathEqualWithBudget(
  prediction: string | null | undefined,
  reference: string | null | undefined,
  options: MathEqualOptions | undefined,
  budget: EvaluationBudget,
): MathEqualResult {
  const resolved = settings(options);
  const predicted = normalizeAnswerDetailed(prediction);
  const referenced = normalizeAnswerDetailed(reference);
  if (predicted.text === '' || referenced.text === '') return result(false, 'empty');
  if (predicted.text.toLowerCase() === referenced.text.toLowerCase()) return result(true, 'string');
  if (predicted.oversized || referenced.oversized) return result(false, 'none', 'input-size');
  const factor = unitFactor(predicted, referenced);
  if (factor === null) return result(false, 'none');
  if (
    predicted.value.toLowerCase() === referenced.value.toLowerCase() &&
    Q.equals(factor, Q.ONE) &&
    predicted.percent === referenced.percent
  ) {
    return result(true, 'string');
  }
  const choice = referenceChoiceLetter(referenced.value);
  if (choice !== null && predictionChoiceLetter(predicted.value) === choice) return result(true, 'choice');
  if (predicted.value.length > resolved.maxAnswerLength || referenced.value.length > resolved.maxAnswerLength) {
    return result(false, 'none', 'input-size');
  }
  const comparison: Comparison = { settings: resolved, budget, bound: null };
  if (budget.remaining <= 0) return result(false, 'none', 'steps');
  const predictedShape = parseAnswerShape(predicted.value);
  const referenceShape = parseAnswerShape(referenced.value);
  if (bounded(comparison, () => valuesEqualWithFactor(predictedShape, referenceShape, factor, comparison))) {
    return result(true, methodFor(predictedShape, referenceShape));
  }
  if (
    Q.equals(factor, Q.ONE) &&
    percentVariantsApply(resolved.percent, predicted.percent, referenced.percent) &&
    bounded(comparison, () => equalUnderPercentVariant(predictedShape, referenceShape, comparison))
  ) {
    return result(true, 'value');
  }
  return result(false, 'none', comparison.bound);
}

/** True when the predicted answer is mathematically equal to the reference (see `mathEqualDetailed`). */
export function mathEqual(
  prediction: string | null | undefined,
  reference: string | null | undefined,
  options?: MathEqualOptions,
): boolean {
  return mathEqualDetailed(prediction, reference, options).equal;
}
