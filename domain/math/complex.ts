// Complex floating-point arithmetic for the numeric path of answer comparison.
//
// Answers are evaluated over the complex numbers so that `3+4i`, `e^{i\pi}` and square roots of negative values at
// sample points have a value instead of failing. Functions use principal branches (`sqrt`, `log`, `pow` via
// exp(b log a)); a purely real computation takes the real fast path and gives exactly what `Math` gives.
// Infinite values only come from the answer's own `\infty`; arithmetic that overflows is reported by the
// evaluator (see latex-expression.ts), not here.

export interface Complex {
  readonly re: number;
  readonly im: number;
}

export function complex(re: number, im = 0): Complex {
  return { re, im };
}

export const C_ZERO = complex(0);
export const C_ONE = complex(1);
export const C_I = complex(0, 1);

export function isReal(z: Complex): boolean {
  return z.im === 0;
}

export function isFiniteComplex(z: Complex): boolean {
  return Number.isFinite(z.re) && Number.isFinite(z.im);
}

export function isNaNComplex(z: Complex): boolean {
  return Number.isNaN(z.re) || Number.isNaN(z.im);
}

export function cAdd(a: Complex, b: Complex): Complex {
  return complex(a.re + b.re, a.im + b.im);
}

export function cSub(a: Complex, b: Complex): Complex {
  return complex(a.re - b.re, a.im - b.im);
}

export function cNeg(a: Complex): Complex {
  return complex(-a.re, a.im === 0 ? 0 : -a.im);
}

export function cMul(a: Complex, b: Complex): Complex {
  if (a.im === 0 && b.im === 0) return complex(a.re * b.re);
  return complex(a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re);
}

export function cDiv(a: Complex, b: Complex): Complex {
  if (a.im === 0 && b.im === 0) return complex(a.re / b.re);
  const scale = b.re * b.re + b.im * b.im;
  return complex((a.re * b.re + a.im * b.im) / scale, (a.im * b.re - a.re * b.im) / scale);
}

export function cAbs(a: Complex): number {
  return a.im === 0 ? Math.abs(a.re) : Math.hypot(a.re, a.im);
}

export function cExp(a: Complex): Complex {
  if (a.im === 0) return complex(Math.exp(a.re));
  const m = Math.exp(a.re);
  return complex(m * Math.cos(a.im), m * Math.sin(a.im));
}

/** Principal natural logarithm. */
export function cLog(a: Complex): Complex {
  if (a.im === 0 && a.re > 0) return complex(Math.log(a.re));
  return complex(Math.log(cAbs(a)), Math.atan2(a.im, a.re));
}

/** Principal square root. */
export function cSqrt(a: Complex): Complex {
  if (a.im === 0) return a.re >= 0 ? complex(Math.sqrt(a.re)) : complex(0, Math.sqrt(-a.re));
  const m = cAbs(a);
  const re = Math.sqrt((m + a.re) / 2);
  const im = Math.sign(a.im) * Math.sqrt((m - a.re) / 2);
  return complex(re, im);
}

/** a^b: real when the real result exists (negative base with an integer exponent), principal branch otherwise. */
export function cPow(a: Complex, b: Complex): Complex {
  if (a.im === 0 && b.im === 0) {
    if (a.re >= 0 || Number.isInteger(b.re)) return complex(Math.pow(a.re, b.re));
  }
  if (a.re === 0 && a.im === 0) return b.re > 0 ? C_ZERO : complex(Number.NaN, Number.NaN);
  return cExp(cMul(b, cLog(a)));
}

/** The real k-th root for odd k and real a (so the cube root of -8 is -2); the principal root otherwise. */
export function cRoot(a: Complex, k: Complex): Complex {
  if (a.im === 0 && k.im === 0 && Number.isInteger(k.re) && Math.abs(k.re) % 2 === 1 && a.re < 0) {
    return complex(-Math.pow(-a.re, 1 / k.re));
  }
  return cPow(a, cDiv(C_ONE, k));
}

export function cSin(a: Complex): Complex {
  if (a.im === 0) return complex(Math.sin(a.re));
  return complex(Math.sin(a.re) * Math.cosh(a.im), Math.cos(a.re) * Math.sinh(a.im));
}

export function cCos(a: Complex): Complex {
  if (a.im === 0) return complex(Math.cos(a.re));
  return complex(Math.cos(a.re) * Math.cosh(a.im), -Math.sin(a.re) * Math.sinh(a.im));
}

export function cTan(a: Complex): Complex {
  return a.im === 0 ? complex(Math.tan(a.re)) : cDiv(cSin(a), cCos(a));
}

/** Distance between two values relative to the larger magnitude (0 when both are exactly equal). */
export function relativeDifference(a: Complex, b: Complex): number {
  const difference = cAbs(cSub(a, b));
  if (difference === 0) return 0;
  return difference / Math.max(cAbs(a), cAbs(b));
}
