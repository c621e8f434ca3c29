// LaTeX scalar expressions: parsing (via @cortex-js/compute-engine's standalone LaTeX parser) and bounded evaluation.
//
// Parsing: `LatexSyntax.parse` (the `latex-syntax` entry of @cortex-js/compute-engine: LaTeX -> MathJSON, no engine,
// no simplification) gives a MathJSON tree, which we convert into our own small expression tree. Only a whitelist of
// operators is accepted (arithmetic, powers and roots, exp/log, trigonometric and hyperbolic functions, abs, floor,
// ceil, factorial, binomial, mod, gcd/lcm, min/max, finite sums and products); anything else (strings, sets,
// relations, derivatives, integrals, parse errors) makes the expression "not evaluable" and the caller falls back
// to string comparison. We never call the compute engine's evaluator or simplifier: some inputs (`9^{9^9}`, sums to
// 1e9) ran there for tens of seconds, and its time limits are clock-based, not deterministic.
//
// Reading decisions (applied the same way to both sides of a comparison):
// - `e` and `\mathrm{e}` are Euler's number, `i` and `\mathrm{i}` the imaginary unit, `\pi` is pi; every other
//   letter (or Greek letter, or `x_1`) is a free variable.
// - An integer written before a proper integer fraction is a mixed number: `2\frac{1}{2}` = 5/2 (as in the MATH
//   answers), while `2\frac{\sqrt{3}}{2}` or `x\frac{1}{2}` are products.
// - `\sin^{-1} x` is arcsin x (likewise cos, tan, cot, sec, csc), not 1/sin x.
// - `30^\circ` is read as 30 (degrees are dropped in normalisation, and `Degrees(x)` here evaluates to x).
// - `\log x` without a base is base 10 (the parser's reading), `\ln` is natural, `\log_b x` has base b.
//
// Evaluation has two modes: `evaluateExact` (BigInt rationals; null as soon as a value is irrational, complex or
// involves a variable) and `evaluateNumeric` (complex doubles, with variables bound to sample values). Both spend
// steps from an `EvaluationBudget`; sums/products longer than `MAX_LOOP_ITERATIONS` and overflowing values raise
// `BoundExceeded`. Parsed expressions are memoised (a pure cache: the same text always gives the same tree).
import type { LatexSyntax as LatexSyntaxClass } from '@cortex-js/compute-engine';
import { BoundExceeded, EvaluationBudget } from './budget';
import * as C from './complex';
import type { Complex } from './complex';
import * as Q from './rational';
import type { Rational } from './rational';

// The package's subpath exports are not visible to `moduleResolution: node10`; the class type comes from its main
// typings and the (much smaller, engine-free) implementation from the `latex-syntax` entry.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const latexSyntaxModule = require('@cortex-js/compute-engine/latex-syntax') as {
  LatexSyntax: typeof LatexSyntaxClass;
};

/**
 * Longest LaTeX text handed to the parser; longer scalars are compared as strings only. The parser's cost grows
 * faster than linearly on hostile text (800 characters of `-` took 10 ms, 400 took 3 ms), and a real scalar answer
 * is far shorter (lists, tuples and matrices are split into items before parsing).
 */
export const MAX_PARSE_LENGTH = 400;
/** Budget steps charged per character for a parse that is not memoised (about the parser's worst cost per character). */
export const PARSE_STEPS_PER_CHARACTER = 50;
/** Budget steps charged per node evaluated exactly (BigInt arithmetic costs several times a double operation). */
const EXACT_STEPS_PER_NODE = 4;
/** Deepest accepted expression tree. */
export const MAX_TREE_DEPTH = 60;
/** Longest finite sum or product evaluated term by term. */
export const MAX_LOOP_ITERATIONS = 10_000;
/** Largest n for which n! is computed exactly (beyond this the numeric path overflows anyway past 170). */
const MAX_EXACT_FACTORIAL = 3000;

export type ConstantName = 'pi' | 'e' | 'i' | 'infinity';

export type ExprNode =
  | { readonly op: 'number'; readonly value: Rational; readonly decimal: boolean }
  | { readonly op: 'constant'; readonly name: ConstantName }
  | { readonly op: 'variable'; readonly name: string }
  | {
      readonly op: 'loop';
      readonly kind: 'Sum' | 'Product';
      readonly index: string;
      readonly lower: ExprNode;
      readonly upper: ExprNode;
      readonly body: ExprNode;
    }
  | { readonly op: 'apply'; readonly fn: FunctionName; readonly args: readonly ExprNode[] };

/** Functions we evaluate, with their accepted argument counts [min, max]. */
const FUNCTION_ARITY = {
  Add: [1, Infinity],
  Subtract: [1, 2],
  Negate: [1, 1],
  Multiply: [1, Infinity],
  Divide: [2, 2],
  Power: [2, 2],
  Sqrt: [1, 1],
  Root: [2, 2],
  Exp: [1, 1],
  Ln: [1, 1],
  Log: [1, 2],
  Sin: [1, 1],
  Cos: [1, 1],
  Tan: [1, 1],
  Cot: [1, 1],
  Sec: [1, 1],
  Csc: [1, 1],
  Arcsin: [1, 1],
  Arccos: [1, 1],
  Arctan: [1, 1],
  Sinh: [1, 1],
  Cosh: [1, 1],
  Tanh: [1, 1],
  Abs: [1, 1],
  Floor: [1, 1],
  Ceil: [1, 1],
  Round: [1, 1],
  Factorial: [1, 1],
  Factorial2: [1, 1],
  Binomial: [2, 2],
  Mod: [2, 2],
  GCD: [1, Infinity],
  LCM: [1, Infinity],
  Max: [1, Infinity],
  Min: [1, Infinity],
} as const satisfies Record<string, readonly [number, number]>;

export type FunctionName = keyof typeof FUNCTION_ARITY;

/** MathJSON heads renamed onto our functions (the rest of the mapping is done in `convertApplication`). */
const FUNCTION_ALIASES: Record<string, FunctionName> = {
  Ceiling: 'Ceil',
  Gcd: 'GCD',
  Lcm: 'LCM',
};

const INVERSE_TRIG: Record<string, string> = {
  Sin: 'Arcsin',
  Cos: 'Arccos',
  Tan: 'Arctan',
  Cot: 'Arccot',
  Sec: 'Arcsec',
  Csc: 'Arccsc',
};

const SYMBOL_CONSTANTS: Record<string, ConstantName> = {
  Pi: 'pi',
  pi: 'pi',
  ExponentialE: 'e',
  e: 'e',
  ImaginaryUnit: 'i',
  i: 'i',
  PositiveInfinity: 'infinity',
};

export interface LatexExpression {
  readonly tree: ExprNode;
  /** Free variables, sorted. */
  readonly variables: readonly string[];
  /** True when a literal was written with a non-zero fractional part (`0.7071`): the answer is an approximation. */
  readonly approximate: boolean;
}

export type ParsedLatex =
  | { readonly ok: true; readonly expression: LatexExpression }
  | { readonly ok: false; readonly reason: 'unsupported' | 'too-large' };

/** Raised while converting a MathJSON tree that contains something we do not evaluate. */
class Unsupported extends Error {}

/** Raised while evaluating when a value is undefined (division by zero, log 0, non-integer factorial...). */
export class NotEvaluable extends Error {}

let latexParser: LatexSyntaxClass | null = null;

function parser(): LatexSyntaxClass {
  latexParser ??= new latexSyntaxModule.LatexSyntax();
  return latexParser;
}

const PARSE_CACHE_LIMIT = 20_000;
const parseCache = new Map<string, ParsedLatex>();

/** Drops memoised parses (for benchmarks that want cold numbers). */
export function clearLatexExpressionCache(): void {
  parseCache.clear();
}

/**
 * Parses a normalised scalar LaTeX answer into an evaluable expression (memoised). With a budget, a parse that is
 * not memoised first spends PARSE_STEPS_PER_CHARACTER steps per character (BoundExceeded when they are not left).
 */
export function parseLatexExpression(latex: string, budget?: EvaluationBudget): ParsedLatex {
  const cached = parseCache.get(latex);
  if (cached) return cached;
  if (budget && latex.length <= MAX_PARSE_LENGTH) budget.spend(PARSE_STEPS_PER_CHARACTER * Math.max(1, latex.length));
  const parsed = parseUncached(latex);
  if (parseCache.size >= PARSE_CACHE_LIMIT) parseCache.clear();
  parseCache.set(latex, parsed);
  return parsed;
}

/**
 * Inputs the parser is known to handle in exponential time, refused before parsing (as "too-large"). Its error
 * recovery and optional-argument readings backtrack at every nesting level:
 * - nested `[` (the parser tries an optional-argument reading at each level: 8 levels of `[1+` took 17 ms, 12
 *   levels 0.1 s, 16 levels 15 s) -> at most MAX_SQUARE_DEPTH;
 * - an operator with a missing operand inside brackets (`(1+(1+(...)`: x2.3 per level, `[-[-...]]`: x13 per level)
 *   -> an operator directly before a closing bracket, a comma or the end is refused;
 * - runs of operators (300 `-` took 20-50 ms) -> at most MAX_OPERATOR_RUN in a row;
 * - absolute-value bars (20 `|` in a row took 0.1 s) -> at most MAX_BARS;
 * and brackets of all kinds nested deeper than MAX_BRACKET_DEPTH. Real answers stay far below every limit.
 */
const MAX_SQUARE_DEPTH = 3;
const MAX_BRACKET_DEPTH = 24;
const MAX_BARS = 10;
const MAX_OPERATOR_RUN = 3;

function isOperator(ch: string): boolean {
  return (
    ch === '+' ||
    ch === '-' ||
    ch === '*' ||
    ch === '/' ||
    ch === '^' ||
    ch === '_' ||
    ch === '=' ||
    ch === '<' ||
    ch === '>'
  );
}

function parserHazard(latex: string): boolean {
  let square = 0;
  let all = 0;
  let bars = 0;
  let operatorRun = 0;
  let pendingOperator = false; // an operator that still needs its right operand
  for (let i = 0; i < latex.length; i++) {
    const ch = latex[i];
    if (ch === ' ') continue;
    if (ch === '|' && ++bars > MAX_BARS) return true;
    if (isOperator(ch) && latex[i - 1] !== '\\') {
      if (++operatorRun > MAX_OPERATOR_RUN) return true;
      pendingOperator = true;
      continue;
    }
    operatorRun = 0;
    const closes = ch === ']' || ch === ')' || ch === '}' || ch === ',' || ch === '&';
    if (pendingOperator && closes && latex[i - 1] !== '\\') return true;
    pendingOperator = false;
    if (ch === '[') square++;
    else if (ch === ']') square = Math.max(0, square - 1);
    if (ch === '[' || ch === '(' || ch === '{') all++;
    else if (ch === ']' || ch === ')' || ch === '}') all = Math.max(0, all - 1);
    if (square > MAX_SQUARE_DEPTH || all > MAX_BRACKET_DEPTH) return true;
  }
  return pendingOperator;
}

function parseUncached(latex: string): ParsedLatex {
  if (latex.length > MAX_PARSE_LENGTH || parserHazard(latex)) return { ok: false, reason: 'too-large' };
  let json: unknown;
  try {
    json = parser().parse(latex);
  } catch {
    return { ok: false, reason: 'unsupported' };
  }
  if (json === null || json === undefined) return { ok: false, reason: 'unsupported' };
  try {
    const context = { variables: new Set<string>(), approximate: false };
    const tree = convert(json, context, 0);
    const variables = [...context.variables].sort();
    return { ok: true, expression: { tree, variables, approximate: context.approximate } };
  } catch (error) {
    if (error instanceof Unsupported) return { ok: false, reason: 'unsupported' };
    if (error instanceof BoundExceeded) return { ok: false, reason: 'too-large' };
    throw error;
  }
}

interface ConvertContext {
  variables: Set<string>;
  approximate: boolean;
}

function numberNode(value: Rational, decimal: boolean, context: ConvertContext): ExprNode {
  if (decimal) context.approximate = true;
  return { op: 'number', value, decimal };
}

function convertNumberText(text: string, context: ConvertContext): ExprNode {
  const literal = Q.parseDecimalLiteral(text);
  if (!literal) {
    if (text === '+Infinity' || text === 'Infinity') return { op: 'constant', name: 'infinity' };
    if (text === '-Infinity') return { op: 'apply', fn: 'Negate', args: [{ op: 'constant', name: 'infinity' }] };
    throw new Unsupported(text);
  }
  return numberNode(literal.value, literal.decimal, context);
}

function convertSymbol(name: string, context: ConvertContext): ExprNode {
  const constant = SYMBOL_CONSTANTS[name];
  if (constant) return { op: 'constant', name: constant };
  if (name === 'NegativeInfinity') return { op: 'apply', fn: 'Negate', args: [{ op: 'constant', name: 'infinity' }] };
  if (name.startsWith("'")) throw new Unsupported(name); // a string literal (text)
  // Single letters, Greek letter names (`alpha`) and subscripted names (`x_1`) are variables; capitalised
  // multi-letter names are MathJSON constants or sets we do not evaluate (`RealNumbers`, `EmptySet`).
  if (/^[A-Za-z](?:_[A-Za-z0-9]+)?$/.test(name) || /^[a-z][a-z]+(?:_[A-Za-z0-9]+)?$/.test(name)) {
    context.variables.add(name);
    return { op: 'variable', name };
  }
  throw new Unsupported(name);
}

function convert(json: unknown, context: ConvertContext, depth: number): ExprNode {
  if (depth > MAX_TREE_DEPTH) throw new BoundExceeded('input-size');
  if (typeof json === 'number') {
    if (!Number.isFinite(json)) throw new Unsupported(String(json));
    return convertNumberText(String(json), context);
  }
  if (typeof json === 'string') return convertSymbol(json, context);
  if (Array.isArray(json)) return convertApplication(json as unknown[], context, depth);
  if (json !== null && typeof json === 'object') {
    const object = json as Record<string, unknown>;
    if (typeof object.num === 'string') return convertNumberText(object.num, context);
    if (typeof object.sym === 'string') return convertSymbol(object.sym, context);
    if (Array.isArray(object.fn)) return convertApplication(object.fn as unknown[], context, depth);
  }
  throw new Unsupported(JSON.stringify(json));
}

function isIntegerLiteral(node: ExprNode): node is { op: 'number'; value: Rational; decimal: boolean } {
  return node.op === 'number' && !node.decimal && Q.isInteger(node.value);
}

/** `2\frac{1}{2}` -> 2 + 1/2 when the fraction is a proper fraction of integer literals. */
function mixedNumber(args: readonly ExprNode[]): ExprNode | null {
  if (args.length !== 2) return null;
  const [whole, fraction] = args;
  if (!isIntegerLiteral(whole) || whole.value.num < 0n) return null;
  if (fraction.op !== 'apply' || fraction.fn !== 'Divide') return null;
  const [top, bottom] = fraction.args;
  if (!isIntegerLiteral(top) || !isIntegerLiteral(bottom)) return null;
  if (top.value.num <= 0n || bottom.value.num <= top.value.num) return null;
  return { op: 'apply', fn: 'Add', args: [whole, fraction] };
}

function apply(fn: FunctionName, args: ExprNode[]): ExprNode {
  const [min, max] = FUNCTION_ARITY[fn];
  if (args.length < min || args.length > max) throw new Unsupported(fn);
  return { op: 'apply', fn, args };
}

function convertLoop(kind: 'Sum' | 'Product', rest: unknown[], context: ConvertContext, depth: number): ExprNode {
  // ["Sum", body, ["Tuple" | "Limits" | "Triple", index, lower, upper]]
  if (rest.length !== 2 || !Array.isArray(rest[1])) throw new Unsupported(kind);
  const limits = rest[1] as unknown[];
  if (limits.length !== 4 || typeof limits[1] !== 'string') throw new Unsupported(kind);
  const index = limits[1];
  const lower = convert(limits[2], context, depth + 1);
  const upper = convert(limits[3], context, depth + 1);
  const hadIndex = context.variables.has(index);
  const body = convert(rest[0], context, depth + 1);
  if (!hadIndex) context.variables.delete(index); // the index is bound, not free
  return { op: 'loop', kind, index, lower, upper, body };
}

function convertApplication(json: unknown[], context: ConvertContext, depth: number): ExprNode {
  const [head, ...rest] = json;
  if (typeof head !== 'string') throw new Unsupported('head');
  if (head === 'Sum' || head === 'Product') return convertLoop(head, rest, context, depth);
  if (head === 'Delimiter') {
    // A parenthesised single value; tuples and lists are handled by the answer-shape parser, not here.
    if (rest.length < 1 || (rest.length === 2 && !isPlainDelimiter(rest[1])) || rest.length > 2)
      throw new Unsupported(head);
    return convert(rest[0], context, depth + 1);
  }
  if (head === 'Sequence') {
    if (rest.length !== 1) throw new Unsupported(head);
    return convert(rest[0], context, depth + 1);
  }
  if (head === 'Degrees') {
    if (rest.length !== 1) throw new Unsupported(head);
    return convert(rest[0], context, depth + 1);
  }
  if (head === 'Rational') {
    if (rest.length !== 2) throw new Unsupported(head);
    return apply(
      'Divide',
      rest.map((arg) => convert(arg, context, depth + 1)),
    );
  }
  const args = rest.map((arg) => convert(arg, context, depth + 1));
  if (head === 'InvisibleOperator') return mixedNumber(args) ?? apply('Multiply', args);
  if (head === 'Power' && args.length === 2) {
    const inverse = inverseTrigonometric(args[0], args[1]);
    if (inverse) return inverse;
  }
  if (head === 'Square') return apply('Power', [args[0], numberNode(Q.rational(2n)!, false, context)]);
  if (head === 'Lb') return apply('Log', [args[0], numberNode(Q.rational(2n)!, false, context)]);
  if (head === 'Lg') return apply('Log', [args[0], numberNode(Q.rational(10n)!, false, context)]);
  const alias = FUNCTION_ALIASES[head];
  const name = alias ?? head;
  if (!(name in FUNCTION_ARITY)) {
    const inverse = INVERSE_FUNCTION_HEADS[name];
    if (inverse) return inverse(args);
    throw new Unsupported(head);
  }
  return apply(name as FunctionName, args);
}

function isPlainDelimiter(value: unknown): boolean {
  // The optional second argument of Delimiter describes the fences, e.g. {"str": "()"}.
  if (value === null || typeof value !== 'object') return false;
  const fences = (value as Record<string, unknown>).str;
  return fences === '()' || fences === '(,)' || fences === '[]' || fences === '{}';
}

/** arccot, arcsec and arccsc rewritten through arctan, arccos and arcsin. */
const INVERSE_FUNCTION_HEADS: Record<string, (args: ExprNode[]) => ExprNode> = {
  Arccot: (args) => apply('Arctan', [apply('Divide', [{ op: 'number', value: Q.ONE, decimal: false }, single(args)])]),
  Arcsec: (args) => apply('Arccos', [apply('Divide', [{ op: 'number', value: Q.ONE, decimal: false }, single(args)])]),
  Arccsc: (args) => apply('Arcsin', [apply('Divide', [{ op: 'number', value: Q.ONE, decimal: false }, single(args)])]),
};

function single(args: ExprNode[]): ExprNode {
  if (args.length !== 1) throw new Unsupported('arity');
  return args[0];
}

/** `\sin^{-1} x` parses as Power(Sin(x), -1); it means arcsin x. */
function inverseTrigonometric(base: ExprNode, exponent: ExprNode): ExprNode | null {
  if (base.op !== 'apply' || !(base.fn in INVERSE_TRIG)) return null;
  const isMinusOne =
    exponent.op === 'apply' &&
    exponent.fn === 'Negate' &&
    exponent.args.length === 1 &&
    exponent.args[0].op === 'number' &&
    Q.equals(exponent.args[0].value, Q.ONE);
  if (!isMinusOne) return null;
  const inverse = INVERSE_TRIG[base.fn];
  const builder = INVERSE_FUNCTION_HEADS[inverse];
  if (builder) return builder([...base.args]);
  return apply(inverse as FunctionName, [...base.args]);
}

// ---------------------------------------------------------------------------------------------------------------
// Exact evaluation (rationals only)

type ExactEnv = ReadonlyMap<string, Rational>;

/** The exact rational value, or null when it is not a rational computable within the size limits. */
export function evaluateExact(node: ExprNode, budget: EvaluationBudget, env: ExactEnv = new Map()): Rational | null {
  budget.spend(EXACT_STEPS_PER_NODE);
  switch (node.op) {
    case 'number':
      return node.value;
    case 'constant':
      return null;
    case 'variable':
      return env.get(node.name) ?? null;
    case 'loop':
      return exactLoop(node, budget, env);
    case 'apply':
      return exactApply(node.fn, node.args, budget, env);
  }
}

function exactAll(args: readonly ExprNode[], budget: EvaluationBudget, env: ExactEnv): Rational[] | null {
  const values: Rational[] = [];
  for (const arg of args) {
    const value = evaluateExact(arg, budget, env);
    if (value === null) return null;
    values.push(value);
  }
  return values;
}

function exactFold(values: Rational[], step: (a: Rational, b: Rational) => Rational | null): Rational | null {
  let acc: Rational | null = values[0];
  for (let k = 1; k < values.length && acc !== null; k++) acc = step(acc, values[k]);
  return acc;
}

function toSafeInteger(value: Rational): number | null {
  if (!Q.isInteger(value)) return null;
  const n = Number(value.num);
  return Number.isSafeInteger(n) ? n : null;
}

/** log2 of n!, an upper estimate (used to skip exact products that would exceed the rational size limit). */
function log2Factorial(n: number): number {
  return n < 2 ? 0 : n * Math.log2(n);
}

function exactFactorial(n: number, step: number, budget: EvaluationBudget): Rational | null {
  if (n < 0 || n > MAX_EXACT_FACTORIAL || log2Factorial(n) / step > 2 * Q.MAX_RATIONAL_BITS) return null;
  budget.spend(Math.ceil(n / step));
  let product = 1n;
  for (let k = n; k > 1; k -= step) product *= BigInt(k);
  return Q.rational(product);
}

function exactApply(
  fn: FunctionName,
  args: readonly ExprNode[],
  budget: EvaluationBudget,
  env: ExactEnv,
): Rational | null {
  const values = exactAll(args, budget, env);
  if (values === null) return null;
  const [a, b] = values;
  switch (fn) {
    case 'Add':
      return exactFold(values, Q.add);
    case 'Subtract':
      return values.length === 1 ? Q.negate(a) : Q.subtract(a, b);
    case 'Negate':
      return Q.negate(a);
    case 'Multiply':
      return exactFold(values, Q.multiply);
    case 'Divide':
      return Q.divide(a, b);
    case 'Power':
      return exactPower(a, b);
    case 'Sqrt':
      return Q.rationalRoot(a, 2);
    case 'Root': {
      const k = toSafeInteger(b);
      return k === null ? null : Q.rationalRoot(a, k);
    }
    case 'Abs':
      return a.num < 0n ? Q.negate(a) : a;
    case 'Floor':
      return Q.rational(floorDiv(a.num, a.den));
    case 'Ceil':
      return Q.rational(-floorDiv(-a.num, a.den));
    case 'Round':
      return Q.rational(floorDiv(2n * a.num + a.den, 2n * a.den));
    case 'Factorial': {
      const n = toSafeInteger(a);
      return n === null ? null : exactFactorial(n, 1, budget);
    }
    case 'Factorial2': {
      const n = toSafeInteger(a);
      return n === null ? null : exactFactorial(n, 2, budget);
    }
    case 'Binomial':
      return exactBinomial(a, b, budget);
    case 'Mod':
      if (!Q.isInteger(a) || !Q.isInteger(b) || b.num === 0n) return null;
      return Q.rational(((a.num % b.num) + b.num) % b.num);
    case 'GCD':
    case 'LCM':
      return exactGcdLcm(fn, values);
    case 'Max':
      return values.reduce((m, v) => (compareRationals(v, m) > 0 ? v : m));
    case 'Min':
      return values.reduce((m, v) => (compareRationals(v, m) < 0 ? v : m));
    default:
      return null; // transcendental functions are irrational in general; the numeric path handles them
  }
}

function floorDiv(num: bigint, den: bigint): bigint {
  const q = num / den;
  return num % den !== 0n && num < 0n !== den < 0n ? q - 1n : q;
}

function compareRationals(a: Rational, b: Rational): number {
  const d = a.num * b.den - b.num * a.den;
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}

function exactPower(base: Rational, exponent: Rational): Rational | null {
  if (Q.isInteger(exponent)) return Q.powerInteger(base, exponent.num);
  // p/q: the exact q-th root (if any), then the integer power.
  const q = Number(exponent.den);
  if (!Number.isSafeInteger(q)) return null;
  const root = Q.rationalRoot(base, q);
  return root === null ? null : Q.powerInteger(root, exponent.num);
}

function exactBinomial(n: Rational, k: Rational, budget: EvaluationBudget): Rational | null {
  const nn = toSafeInteger(n);
  const kk = toSafeInteger(k);
  if (nn === null || kk === null || nn < 0 || nn > 100_000) return null;
  if (kk < 0 || kk > nn) return Q.ZERO;
  const small = Math.min(kk, nn - kk);
  if (small * Math.log2(Math.max(2, nn)) > 2 * Q.MAX_RATIONAL_BITS) return null;
  budget.spend(small);
  let result = 1n;
  for (let j = 1; j <= small; j++) result = (result * BigInt(nn - small + j)) / BigInt(j);
  return Q.rational(result);
}

function exactGcdLcm(fn: 'GCD' | 'LCM', values: Rational[]): Rational | null {
  if (!values.every(Q.isInteger)) return null;
  let acc = values[0].num < 0n ? -values[0].num : values[0].num;
  for (let k = 1; k < values.length; k++) {
    const v = values[k].num < 0n ? -values[k].num : values[k].num;
    if (fn === 'GCD') acc = Q.gcd(acc, v);
    else acc = acc === 0n || v === 0n ? 0n : (acc / Q.gcd(acc, v)) * v;
  }
  return Q.rational(acc);
}

function loopBounds(lower: number, upper: number): number {
  const count = upper - lower + 1;
  if (count > MAX_LOOP_ITERATIONS) throw new BoundExceeded('steps');
  return Math.max(0, count);
}

function exactLoop(node: Extract<ExprNode, { op: 'loop' }>, budget: EvaluationBudget, env: ExactEnv): Rational | null {
  const lowerValue = evaluateExact(node.lower, budget, env);
  const upperValue = evaluateExact(node.upper, budget, env);
  if (lowerValue === null || upperValue === null) return null;
  const lower = toSafeInteger(lowerValue);
  const upper = toSafeInteger(upperValue);
  if (lower === null || upper === null) return null;
  const count = loopBounds(lower, upper);
  let acc: Rational | null = node.kind === 'Sum' ? Q.ZERO : Q.ONE;
  const inner = new Map(env);
  for (let k = 0; k < count && acc !== null; k++) {
    inner.set(node.index, Q.rational(BigInt(lower + k))!);
    const term = evaluateExact(node.body, budget, inner);
    if (term === null) return null;
    acc = node.kind === 'Sum' ? Q.add(acc, term) : Q.multiply(acc, term);
  }
  return acc;
}

// ---------------------------------------------------------------------------------------------------------------
// Numeric evaluation (complex doubles)

export type NumericEnv = ReadonlyMap<string, Complex>;

const CONSTANT_VALUES: Record<ConstantName, Complex> = {
  pi: C.complex(Math.PI),
  e: C.complex(Math.E),
  i: C.C_I,
  infinity: C.complex(Number.POSITIVE_INFINITY),
};

/**
 * The complex value of the expression with `env` binding its variables. Throws `NotEvaluable` when the value is
 * undefined (division by zero, log 0, unbound variable) and `BoundExceeded` when the budget runs out or finite
 * inputs overflow.
 */
export function evaluateNumeric(node: ExprNode, budget: EvaluationBudget, env: NumericEnv): Complex {
  budget.spend();
  switch (node.op) {
    case 'number':
      return C.complex(Q.toNumber(node.value));
    case 'constant':
      return CONSTANT_VALUES[node.name];
    case 'variable': {
      const value = env.get(node.name);
      if (!value) throw new NotEvaluable(`unbound ${node.name}`);
      return value;
    }
    case 'loop':
      return numericLoop(node, budget, env);
    case 'apply': {
      const values = node.args.map((arg) => evaluateNumeric(arg, budget, env));
      const result = numericApply(node.fn, values, budget);
      if (C.isNaNComplex(result)) throw new NotEvaluable(node.fn);
      if (!C.isFiniteComplex(result) && values.every(C.isFiniteComplex)) throw new BoundExceeded('magnitude');
      return result;
    }
  }
}

function realInteger(z: Complex): number {
  if (z.im !== 0 || !Number.isInteger(z.re)) throw new NotEvaluable('integer expected');
  return z.re;
}

function realValue(z: Complex): number {
  if (z.im !== 0) throw new NotEvaluable('real expected');
  return z.re;
}

function numericFactorial(n: number, step: number, budget: EvaluationBudget): Complex {
  if (n < 0) throw new NotEvaluable('negative factorial');
  if (n > 400) throw new BoundExceeded('magnitude');
  budget.spend(Math.ceil(n / step));
  let product = 1;
  for (let k = n; k > 1; k -= step) product *= k;
  return C.complex(product);
}

function numericBinomial(n: number, k: number, budget: EvaluationBudget): Complex {
  if (n < 0) throw new NotEvaluable('binomial');
  if (k < 0 || k > n) return C.C_ZERO;
  const small = Math.min(k, n - k);
  if (small > MAX_LOOP_ITERATIONS) throw new BoundExceeded('steps');
  budget.spend(small);
  let result = 1;
  for (let j = 1; j <= small; j++) result = (result * (n - small + j)) / j;
  return C.complex(result <= 2 ** 53 ? Math.round(result) : result);
}

function numericGcdLcm(fn: 'GCD' | 'LCM', values: Complex[]): Complex {
  let acc = Math.abs(realInteger(values[0]));
  for (let k = 1; k < values.length; k++) {
    let a = acc;
    let b = Math.abs(realInteger(values[k]));
    const product = a * b;
    while (b !== 0) [a, b] = [b, a % b];
    acc = fn === 'GCD' ? a : a === 0 ? 0 : product / a;
  }
  return C.complex(acc);
}

function logarithm(value: Complex, base?: Complex): Complex {
  if (value.re === 0 && value.im === 0) throw new NotEvaluable('log 0');
  const ln = C.cLog(value);
  return base ? C.cDiv(ln, C.cLog(base)) : ln;
}

function numericApply(fn: FunctionName, values: Complex[], budget: EvaluationBudget): Complex {
  const [a, b] = values;
  switch (fn) {
    case 'Add':
      return values.reduce(C.cAdd);
    case 'Subtract':
      return values.length === 1 ? C.cNeg(a) : C.cSub(a, b);
    case 'Negate':
      return C.cNeg(a);
    case 'Multiply':
      return values.reduce(C.cMul);
    case 'Divide':
      if (b.re === 0 && b.im === 0) throw new NotEvaluable('division by zero');
      return C.cDiv(a, b);
    case 'Power':
      return C.cPow(a, b);
    case 'Sqrt':
      return C.cSqrt(a);
    case 'Root':
      return C.cRoot(a, b);
    case 'Exp':
      return C.cExp(a);
    case 'Ln':
      return logarithm(a);
    case 'Log':
      return logarithm(a, values.length === 2 ? b : C.complex(10));
    case 'Sin':
      return C.cSin(a);
    case 'Cos':
      return C.cCos(a);
    case 'Tan':
      return C.cTan(a);
    case 'Cot':
      return C.cDiv(C.C_ONE, C.cTan(a));
    case 'Sec':
      return C.cDiv(C.C_ONE, C.cCos(a));
    case 'Csc':
      return C.cDiv(C.C_ONE, C.cSin(a));
    case 'Arcsin':
      return C.complex(Math.asin(realValue(a)));
    case 'Arccos':
      return C.complex(Math.acos(realValue(a)));
    case 'Arctan':
      return C.complex(Math.atan(realValue(a)));
    case 'Sinh':
      return C.complex(Math.sinh(realValue(a)));
    case 'Cosh':
      return C.complex(Math.cosh(realValue(a)));
    case 'Tanh':
      return C.complex(Math.tanh(realValue(a)));
    case 'Abs':
      return C.complex(C.cAbs(a));
    case 'Floor':
      return C.complex(Math.floor(realValue(a)));
    case 'Ceil':
      return C.complex(Math.ceil(realValue(a)));
    case 'Round':
      return C.complex(Math.round(realValue(a)));
    case 'Factorial':
      return numericFactorial(realInteger(a), 1, budget);
    case 'Factorial2':
      return numericFactorial(realInteger(a), 2, budget);
    case 'Binomial':
      return numericBinomial(realInteger(a), realInteger(b), budget);
    case 'Mod': {
      const m = realValue(b);
      if (m === 0) throw new NotEvaluable('mod 0');
      return C.complex(((realValue(a) % m) + m) % m);
    }
    case 'GCD':
    case 'LCM':
      return numericGcdLcm(fn, values);
    case 'Max':
      return C.complex(Math.max(...values.map(realValue)));
    case 'Min':
      return C.complex(Math.min(...values.map(realValue)));
  }
}

function numericLoop(node: Extract<ExprNode, { op: 'loop' }>, budget: EvaluationBudget, env: NumericEnv): Complex {
  const lower = realInteger(evaluateNumeric(node.lower, budget, env));
  const upper = realInteger(evaluateNumeric(node.upper, budget, env));
  const count = loopBounds(lower, upper);
  let acc = node.kind === 'Sum' ? C.C_ZERO : C.C_ONE;
  const inner = new Map(env);
  for (let k = 0; k < count; k++) {
    inner.set(node.index, C.complex(lower + k));
    const term = evaluateNumeric(node.body, budget, inner);
    acc = node.kind === 'Sum' ? C.cAdd(acc, term) : C.cMul(acc, term);
  }
  if (!C.isFiniteComplex(acc)) throw new BoundExceeded('magnitude');
  return acc;
}

/** Builds `a - b` from two parsed expressions (used to compare equations). */
export function differenceOf(a: LatexExpression, b: LatexExpression): LatexExpression {
  const variables = [...new Set([...a.variables, ...b.variables])].sort();
  return {
    tree: { op: 'apply', fn: 'Subtract', args: [a.tree, b.tree] },
    variables,
    approximate: a.approximate || b.approximate,
  };
}

/** Builds `factor * a` for a rational factor (used for the percent variants ref/100 and ref*100). */
export function scaledBy(a: LatexExpression, factor: Rational): LatexExpression {
  return {
    tree: { op: 'apply', fn: 'Multiply', args: [{ op: 'number', value: factor, decimal: false }, a.tree] },
    variables: a.variables,
    approximate: a.approximate,
  };
}
