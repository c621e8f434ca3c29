/**
 * LiveCodeBench stdio comparison (`grade_stdio`): strip both outputs, split on '\n', strip each line;
 * the line counts must match; each line must be equal exactly or, failing that, both lines split on
 * whitespace must have the same number of tokens and every token pair must be equal as decimals
 * (Python `Decimal` equality: `1.0 == 1`, `1e2 == 100`). A token that is not a decimal → mismatch.
 */
export interface CompareResult {
  ok: boolean;
  reason?: string;
}

/** Python str.strip() whitespace (ASCII + the common Unicode spaces). */
const WS = '[\\s\\u001c-\\u001f\\u0085]';
const STRIP_RE = new RegExp(`^${WS}+|${WS}+$`, 'g');
const SPLIT_RE = new RegExp(`${WS}+`);

function pyStrip(s: string): string {
  return s.replace(STRIP_RE, '');
}

function pySplit(s: string): string[] {
  const t = pyStrip(s);
  return t === '' ? [] : t.split(SPLIT_RE);
}

interface DecimalValue {
  kind: 'finite' | 'inf' | 'nan';
  negative: boolean;
  /** significant digits without leading/trailing zeros ('' for zero) */
  digits: string;
  /** value = digits × 10^exponent */
  exponent: bigint;
}

const DECIMAL_RE = /^([+-])?(?:(\d+)(?:\.(\d*))?|\.(\d+))(?:[eE]([+-]?\d+))?$/;
const SPECIAL_RE = /^([+-])?(inf|infinity|s?nan\d*)$/i;

/** Parses a token the way Python's Decimal(str) does (underscores aside); undefined if not a number. */
export function parseDecimal(token: string): DecimalValue | undefined {
  const special = SPECIAL_RE.exec(token);
  if (special) {
    const negative = special[1] === '-';
    const word = special[2]!.toLowerCase();
    return { kind: word.startsWith('inf') ? 'inf' : 'nan', negative, digits: '', exponent: 0n };
  }
  const m = DECIMAL_RE.exec(token);
  if (!m) return undefined;
  const negative = m[1] === '-';
  const intPart = m[2] ?? '';
  const fracPart = m[3] ?? m[4] ?? '';
  let exponent = (m[5] !== undefined ? BigInt(m[5]) : 0n) - BigInt(fracPart.length);
  let digits = (intPart + fracPart).replace(/^0+/, '');
  const trailing = digits.length - digits.replace(/0+$/, '').length;
  digits = digits.slice(0, digits.length - trailing);
  exponent += BigInt(trailing);
  if (digits === '') exponent = 0n;
  return { kind: 'finite', negative: digits === '' ? false : negative, digits, exponent };
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

export function compareStdio(expected: string, actual: string): CompareResult {
  const expLines = pyStrip(expected).split('\n').map(pyStrip);
  const actLines = pyStrip(actual).split('\n').map(pyStrip);
  if (expLines.length !== actLines.length) {
    return { ok: false, reason: `line count: expected ${expLines.length} got ${actLines.length}` };
  }
  for (let i = 0; i < expLines.length; i++) {
    const e = expLines[i]!;
    const a = actLines[i]!;
    if (e === a) continue;
    const et = pySplit(e);
    const at = pySplit(a);
    const fail: CompareResult = { ok: false, reason: `line ${i + 1}: expected ${show(e)} got ${show(a)}` };
    if (et.length !== at.length) return fail;
    for (let j = 0; j < et.length; j++) {
      if (!decimalEquals(et[j]!, at[j]!)) return fail;
    }
  }
  return { ok: true };
}
