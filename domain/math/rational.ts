// Exact rational numbers (BigInt numerator / denominator) for the exact path of answer comparison.
//
// Integers, fractions, terminating decimals (`0.25` = 1/4), repeating decimals (`0.(3)` = 1/3, as the LaTeX parser
// writes `0.\overline{3}`) and scientific literals (`1.5e3`) are all exact rationals, so `\frac{1}{4}` = `0.25` and
// `204.0` = `204` = `0204` compare exactly, and two different integers never compare equal however large they are
// (the published grader compared them with a relative tolerance of 1e-4, so 10000 = 10001 there).
// Sizes are bounded: an operation whose result would exceed `MAX_RATIONAL_BITS` returns null and the caller falls
// back to floating point.

export interface Rational {
  readonly num: bigint; // sign lives here
  readonly den: bigint; // always > 0, gcd(num, den) = 1
}

/** Results larger than this many bits leave the exact path (null), so exact arithmetic stays cheap. */
export const MAX_RATIONAL_BITS = 4096;

function abs(value: bigint): bigint {
  return value < 0n ? -value : value;
}

export function gcd(a: bigint, b: bigint): bigint {
  let x = abs(a);
  let y = abs(b);
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}

function bitLength(value: bigint): number {
  return abs(value).toString(16).length * 4;
}

/** Builds a reduced rational; null when the denominator is 0 or the result is too large. */
export function rational(num: bigint, den: bigint = 1n): Rational | null {
  if (den === 0n) return null;
  if (den < 0n) {
    num = -num;
    den = -den;
  }
  const g = gcd(num, den);
  const reduced = g > 1n ? { num: num / g, den: den / g } : { num, den };
  if (bitLength(reduced.num) > MAX_RATIONAL_BITS || bitLength(reduced.den) > MAX_RATIONAL_BITS) return null;
  return reduced;
}

export const ZERO: Rational = { num: 0n, den: 1n };
export const ONE: Rational = { num: 1n, den: 1n };

export function isInteger(value: Rational): boolean {
  return value.den === 1n;
}

export function add(a: Rational, b: Rational): Rational | null {
  return rational(a.num * b.den + b.num * a.den, a.den * b.den);
}

export function subtract(a: Rational, b: Rational): Rational | null {
  return rational(a.num * b.den - b.num * a.den, a.den * b.den);
}

export function multiply(a: Rational, b: Rational): Rational | null {
  return rational(a.num * b.num, a.den * b.den);
}

export function divide(a: Rational, b: Rational): Rational | null {
  return rational(a.num * b.den, a.den * b.num);
}

export function negate(a: Rational): Rational {
  return { num: -a.num, den: a.den };
}

export function equals(a: Rational, b: Rational): boolean {
  return a.num === b.num && a.den === b.den;
}

/** a^n for an integer n with |n| * bits(a) bounded; null when too large or 0^negative. */
export function powerInteger(base: Rational, exponent: bigint): Rational | null {
  const size = Math.max(bitLength(base.num), bitLength(base.den), 1);
  if (abs(exponent) * BigInt(size) > BigInt(MAX_RATIONAL_BITS)) {
    if (base.den === 1n && abs(base.num) <= 1n) {
      // 0, 1 and -1 stay small whatever the exponent.
      if (base.num === 0n) return exponent > 0n ? ZERO : null;
      return base.num === 1n || exponent % 2n === 0n ? ONE : { num: -1n, den: 1n };
    }
    return null;
  }
  if (exponent < 0n) {
    if (base.num === 0n) return null;
    return rational(base.den ** -exponent, base.num ** -exponent);
  }
  return rational(base.num ** exponent, base.den ** exponent);
}

/** The exact integer k-th root of a non-negative bigint, or null when there is none. */
export function integerRoot(value: bigint, k: number): bigint | null {
  if (value < 0n) return null;
  if (value < 2n) return value;
  // a value exact as a double has a float root estimate within 1 of the true root; anything larger (where a
  // double loses digits, or is Infinity past 2^1024) takes Newton's iteration on bigints
  if (bitLength(value) <= 53) {
    const estimate = BigInt(Math.round(Math.pow(Number(value), 1 / k)));
    for (const candidate of [estimate - 1n, estimate, estimate + 1n]) {
      if (candidate >= 0n && candidate ** BigInt(k) === value) return candidate;
    }
    return null;
  }
  let x = 1n << BigInt(Math.ceil(bitLength(value) / k) + 1);
  const kb = BigInt(k);
  for (;;) {
    const next = ((kb - 1n) * x + value / x ** (kb - 1n)) / kb;
    if (next >= x) break;
    x = next;
  }
  return x ** kb === value ? x : null;
}

/** The exact k-th root of a rational (odd k accepts negatives), or null when it is irrational. */
export function rationalRoot(value: Rational, k: number): Rational | null {
  if (!Number.isInteger(k) || k < 1 || k > 64) return null;
  const negative = value.num < 0n;
  if (negative && k % 2 === 0) return null;
  const num = integerRoot(abs(value.num), k);
  const den = integerRoot(value.den, k);
  if (num === null || den === null) return null;
  return rational(negative ? -num : num, den);
}

export function toNumber(value: Rational): number {
  const direct = Number(value.num) / Number(value.den);
  if (Number.isFinite(direct)) return direct;
  // Both parts beyond double range: scale them down together.
  const shift = BigInt(Math.max(bitLength(value.num), bitLength(value.den)) - 1000);
  return Number(value.num >> shift) / Number(value.den >> shift);
}

/**
 * Parses a plain numeric literal: `-12`, `0.25`, `.5`, `1.5e3`, `3.(142857)` (repeating block in parentheses).
 * Returns the value and whether it was written with a fractional part (an approximation, unless repeating).
 */
export function parseDecimalLiteral(text: string): { value: Rational; decimal: boolean } | null {
  const match = /^([+-]?)(\d*)(?:\.(\d*)(?:\((\d+)\))?)?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!match) return null;
  const [, sign, whole, fraction = '', repeating = '', exponentText] = match;
  if (whole === '' && fraction === '' && repeating === '') return null;
  const exponent = exponentText ? Number(exponentText) : 0;
  if (Math.abs(exponent) > 1000) return null;
  let value: Rational | null = rational(BigInt((whole || '0') + fraction), 10n ** BigInt(fraction.length));
  if (value && repeating) {
    // 0.d1..dk(r1..rm): the repeating block contributes r / (10^k (10^m - 1)).
    const block = rational(BigInt(repeating), 10n ** BigInt(fraction.length) * (10n ** BigInt(repeating.length) - 1n));
    value = block ? add(value, block) : null;
  }
  if (value && exponent !== 0) {
    const scale = exponent > 0 ? rational(10n ** BigInt(exponent)) : rational(1n, 10n ** BigInt(-exponent));
    value = scale ? multiply(value, scale) : null;
  }
  if (!value) return null;
  if (sign === '-') value = negate(value);
  const decimal = repeating === '' && /[1-9]/.test(fraction);
  return { value, decimal };
}
