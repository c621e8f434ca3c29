/**
 * LiveCodeBench stdio comparison (`grade_stdio`): strip both outputs, split on '\n', strip each line;
 * the line counts must match; each line must be equal exactly or, failing that, both lines split on
 * whitespace must have the same number of tokens and every token pair must be equal as decimals
 * (Python `Decimal` equality: `1.0 == 1`, `1e2 == 100`, `١٢ == 12`). A token that is not a decimal → mismatch.
 *
 * Everything here runs in time linear in the size of the outputs (hand-written scans, no backtracking regular
 * expressions): program output is untrusted, and the cross-check compares every pair of outputs it groups.
 */
export interface CompareResult {
  ok: boolean;
  reason?: string;
}

import { pySplit, pyStrip } from '../../domain/core/py-strings';

export { isPyWhitespace, pySplit, pyStrip } from '../../domain/core/py-strings';

interface DecimalValue {
  kind: 'finite' | 'inf' | 'nan';
  negative: boolean;
  /** significant digits without leading/trailing zeros ('' for zero) */
  digits: string;
  /** value = digits × 10^exponent; the exponent in decimal ('0' for zero) */
  exponent: string;
}

const ND = /^\p{Nd}$/u;
const digitValues = new Map<number, number>();

/**
 * The value 0..9 of a Unicode decimal digit (general category Nd), or -1. Nd digits come in runs of ten
 * code points from 0 to 9 (a Unicode stability rule), so the value is the distance from the run's start, mod 10.
 */
export function unicodeDigitValue(cp: number): number {
  if (cp >= 48 && cp <= 57) return cp - 48;
  if (cp < 128) return -1;
  let v = digitValues.get(cp);
  if (v === undefined) {
    if (!ND.test(String.fromCodePoint(cp))) v = -1;
    else {
      let start = cp;
      while (start > 0 && ND.test(String.fromCodePoint(start - 1))) start--;
      v = (cp - start) % 10;
    }
    digitValues.set(cp, v);
  }
  return v;
}

/**
 * What CPython's decimal module reads from a string before parsing: underscores are removed (anywhere), Unicode
 * decimal digits become ASCII digits, other ASCII characters stay; any other character makes the string invalid
 * (undefined).
 */
function decimalAscii(token: string): string | undefined {
  let ascii = true;
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (c >= 128 || c === 95) {
      ascii = false;
      break;
    }
  }
  if (ascii) return token;
  let out = '';
  for (const ch of token) {
    const cp = ch.codePointAt(0)!;
    if (cp === 95) continue;
    if (cp < 128) out += ch;
    else {
      const d = unicodeDigitValue(cp);
      if (d < 0) return undefined;
      out += String.fromCharCode(48 + d);
    }
  }
  return out;
}

const isDigit = (c: number) => c >= 48 && c <= 57;
/** libmpdec's exponent limits (CPython's decimal): MAX_EMAX and MIN_ETINY. */
const MAX_EMAX = 999999999999999999n;
const MIN_ETINY = -1999999999999999997n;

/** Parses a token the way Python's Decimal(str) does; undefined if it is not a number. Linear in the token. */
export function parseDecimal(token: string): DecimalValue | undefined {
  const s = decimalAscii(token);
  if (s === undefined || s === '') return undefined;
  let i = 0;
  let negative = false;
  if (s[0] === '+' || s[0] === '-') {
    negative = s[0] === '-';
    i = 1;
  }
  const first = s.charCodeAt(i) | 0x20;
  if (first === 0x69 /* i */ || first === 0x6e /* n */ || first === 0x73 /* s */) {
    const rest = s.slice(i).toLowerCase();
    if (rest === 'inf' || rest === 'infinity') return { kind: 'inf', negative, digits: '', exponent: '0' };
    const nan = rest.startsWith('nan') ? 3 : rest.startsWith('snan') ? 4 : 0;
    if (nan === 0) return undefined;
    for (let k = nan; k < rest.length; k++) if (!isDigit(rest.charCodeAt(k))) return undefined;
    return { kind: 'nan', negative, digits: '', exponent: '0' };
  }
  const n = s.length;
  const intStart = i;
  while (i < n && isDigit(s.charCodeAt(i))) i++;
  const intEnd = i;
  let fracStart = i;
  let fracEnd = i;
  if (i < n && s.charCodeAt(i) === 46 /* . */) {
    fracStart = ++i;
    while (i < n && isDigit(s.charCodeAt(i))) i++;
    fracEnd = i;
  }
  if (intEnd === intStart && fracEnd === fracStart) return undefined; // no digit at all
  let expText = '0';
  if (i < n && (s.charCodeAt(i) | 0x20) === 0x65 /* e */) {
    i++;
    const sign = i < n && (s[i] === '+' || s[i] === '-') ? s[i++] : '';
    const digitsStart = i;
    while (i < n && isDigit(s.charCodeAt(i))) i++;
    if (i === digitsStart) return undefined;
    let z = digitsStart;
    while (z < i - 1 && s.charCodeAt(z) === 48) z++;
    if (i - z > 20) return undefined; // far outside the exponent range below
    expText = (sign === '-' ? '-' : '') + s.slice(z, i);
  }
  if (i !== n) return undefined;
  // the coefficient's digits, without leading and trailing zeros
  const all =
    fracEnd === fracStart
      ? s.slice(intStart, intEnd)
      : intEnd === intStart
        ? s.slice(fracStart, fracEnd)
        : s.slice(intStart, intEnd) + s.slice(fracStart, fracEnd);
  const total = all.length;
  let lead = 0;
  while (lead < total && all.charCodeAt(lead) === 48) lead++;
  if (lead === total) {
    if (expText.length > 15) {
      const e = BigInt(expText) - BigInt(fracEnd - fracStart);
      if (e > MAX_EMAX || e < MIN_ETINY) return undefined;
    }
    return { kind: 'finite', negative: false, digits: '', exponent: '0' };
  }
  let trail = total;
  while (all.charCodeAt(trail - 1) === 48) trail--;
  const fracLen = fracEnd - fracStart;
  let exponent: string;
  if (expText.length <= 15) {
    // |exponent| < 10^15 and lengths < 2^32: exact in doubles, and inside libmpdec's range
    exponent = String(Number(expText) - fracLen + (total - trail));
  } else {
    const e = BigInt(expText) - BigInt(fracLen);
    // CPython's decimal refuses a value outside its exponent range: adjusted exponent above MAX_EMAX, or exponent
    // below MIN_ETINY
    if (e + BigInt(total - lead) - 1n > MAX_EMAX || e < MIN_ETINY) return undefined;
    exponent = String(e + BigInt(total - trail));
  }
  return { kind: 'finite', negative, digits: lead === 0 && trail === total ? all : all.slice(lead, trail), exponent };
}

/** Decimal equality as in Python: NaN never equals anything; -0 == 0. */
export function decimalEquals(a: string, b: string): boolean {
  const x = parseDecimal(a);
  const y = parseDecimal(b);
  if (!x || !y) return false;
  if (x.kind === 'nan' || y.kind === 'nan') return false;
  if (x.kind !== y.kind) return false;
  if (x.kind === 'inf') return x.negative === y.negative;
  return x.negative === y.negative && x.digits === y.digits && x.exponent === y.exponent;
}

function show(s: string, max = 80): string {
  return JSON.stringify(s.length > max ? s.slice(0, max) + '…' : s);
}

/** `get_stripped_lines`: the output stripped, split on '\n', each line stripped. */
function strippedLines(s: string): string[] {
  return pyStrip(s).split('\n').map(pyStrip);
}

export function compareStdio(expected: string, actual: string): CompareResult {
  const expLines = strippedLines(expected);
  const actLines = strippedLines(actual);
  if (expLines.length !== actLines.length) {
    return { ok: false, reason: `line count: expected ${expLines.length} got ${actLines.length}` };
  }
  for (let i = 0; i < expLines.length; i++) {
    const e = expLines[i]!;
    const a = actLines[i]!;
    if (e === a) continue;
    const et = pySplit(e);
    const at = pySplit(a);
    let same = et.length === at.length;
    for (let j = 0; same && j < et.length; j++) same = decimalEquals(et[j]!, at[j]!);
    if (!same) return { ok: false, reason: `line ${i + 1}: expected ${show(e)} got ${show(a)}` };
  }
  return { ok: true };
}

/**
 * A key with stdioKey(a) === stdioKey(b) exactly when compareStdio(a, b).ok: a line whose tokens are all numbers
 * (no NaN) stands for their decimal values, any other line for its text (such a line matches only itself, since
 * a NaN or a word never compares equal as a decimal). compareStdio is an equivalence on outputs, so outputs can be
 * grouped by this key in one pass instead of comparing every pair.
 */
export function stdioKey(output: string): string {
  return strippedLines(output)
    .map((line) => {
      const tokens = pySplit(line);
      const values: string[] = [];
      for (const t of tokens) {
        const v = parseDecimal(t);
        if (!v || v.kind === 'nan') return `t${line}`;
        values.push(
          v.kind === 'inf' ? (v.negative ? '-inf' : 'inf') : `${v.negative ? '-' : ''}${v.digits}e${v.exponent}`,
        );
      }
      return tokens.length === 0 ? 't' : `d${values.join(' ')}`;
    })
    .join('\n');
}
