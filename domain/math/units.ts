// Units of measurement written after an answer value: recognition, canonical spelling and conversion.
//
// Normalisation (normalize.ts) separates a trailing unit from the value. A unit this module RECOGNISES (`cm`,
// "centimeters", `km/h`, "square feet", `m^2`, "hours", `min`, `kg`, "dollars"...) is kept, in canonical spelling,
// so that the comparison can tell `5 cm` from `5 m`, `cm^2` from `cm^3` and hours from minutes; a word it does not
// recognise ("ways", "apples", "students", "units") is a counting noun and is dropped, as the published grader
// dropped every unit.
//
// A unit is a product of base units with integer powers: "square centimeters" = cm^2, "m/s^2" = m s^-2, "miles
// per hour" = mi h^-1. Each base unit belongs to a dimension and has a factor to a reference unit of it (metre,
// second, gram, dollar, month), so two units of the same dimension convert (`2 hours` = `120 minutes`,
// `1 km` = `1000 m`); units of different dimensions never compare equal. Years and months share a dimension of
// their own (12 months = 1 year; a month is not a fixed number of days).
//
// Factors are exact rationals (the table's decimals), so conversions compare exactly.
//
// Everything here is a linear scan over at most `MAX_UNIT_PHRASE` characters: no backtracking regexes.

import * as Q from './rational';

interface BaseUnit {
  /** Canonical spelling (also a recognised alias, so canonical text re-normalises to itself). */
  readonly symbol: string;
  readonly dimension: 'L' | 'T' | 'M' | 'money' | 'month' | 'V';
  /** Factor to the dimension's reference unit. */
  readonly factor: number;
  /** Power of the dimension (litres are L^3; the factor is then to m^3). */
  readonly power?: number;
}

const BASES: Record<string, BaseUnit> = {
  mm: { symbol: 'mm', dimension: 'L', factor: 1e-3 },
  cm: { symbol: 'cm', dimension: 'L', factor: 1e-2 },
  dm: { symbol: 'dm', dimension: 'L', factor: 1e-1 },
  m: { symbol: 'm', dimension: 'L', factor: 1 },
  km: { symbol: 'km', dimension: 'L', factor: 1e3 },
  in: { symbol: 'in', dimension: 'L', factor: 0.0254 },
  ft: { symbol: 'ft', dimension: 'L', factor: 0.3048 },
  yd: { symbol: 'yd', dimension: 'L', factor: 0.9144 },
  mi: { symbol: 'mi', dimension: 'L', factor: 1609.344 },
  s: { symbol: 's', dimension: 'T', factor: 1 },
  min: { symbol: 'min', dimension: 'T', factor: 60 },
  h: { symbol: 'h', dimension: 'T', factor: 3600 },
  day: { symbol: 'day', dimension: 'T', factor: 86400 },
  week: { symbol: 'week', dimension: 'T', factor: 604800 },
  month: { symbol: 'month', dimension: 'month', factor: 1 },
  year: { symbol: 'year', dimension: 'month', factor: 12 },
  mg: { symbol: 'mg', dimension: 'M', factor: 1e-3 },
  g: { symbol: 'g', dimension: 'M', factor: 1 },
  kg: { symbol: 'kg', dimension: 'M', factor: 1e3 },
  lb: { symbol: 'lb', dimension: 'M', factor: 453.59237 },
  oz: { symbol: 'oz', dimension: 'M', factor: 28.349523125 },
  mL: { symbol: 'mL', dimension: 'L', factor: 1e-6, power: 3 },
  L: { symbol: 'L', dimension: 'L', factor: 1e-3, power: 3 },
  dollar: { symbol: 'dollar', dimension: 'money', factor: 1 },
  cent: { symbol: 'cent', dimension: 'money', factor: 0.01 },
};

/** Aliases (matched exactly first, then lower-cased; a trailing plural "s" / "es" is accepted on names). */
const ALIASES: Record<string, string> = {
  millimeter: 'mm',
  millimetre: 'mm',
  centimeter: 'cm',
  centimetre: 'cm',
  decimeter: 'dm',
  decimetre: 'dm',
  meter: 'm',
  metre: 'm',
  kilometer: 'km',
  kilometre: 'km',
  inch: 'in',
  inches: 'in',
  foot: 'ft',
  feet: 'ft',
  yard: 'yd',
  mile: 'mi',
  sec: 's',
  second: 's',
  minute: 'min',
  mins: 'min',
  hr: 'h',
  hrs: 'h',
  hour: 'h',
  days: 'day',
  weeks: 'week',
  wk: 'week',
  months: 'month',
  yr: 'year',
  yrs: 'year',
  years: 'year',
  milligram: 'mg',
  gram: 'g',
  gm: 'g',
  kilogram: 'kg',
  kilo: 'kg',
  lbs: 'lb',
  pound: 'lb',
  ounce: 'oz',
  milliliter: 'mL',
  millilitre: 'mL',
  ml: 'mL',
  liter: 'L',
  litre: 'L',
  l: 'L',
  dollars: 'dollar',
  cents: 'cent',
};

/** Compound names for a whole unit. */
const COMPOUNDS: Record<string, string> = { mph: 'mi/h', kph: 'km/h', kmh: 'km/h', fps: 'ft/s', mps: 'm/s' };

/** Longest unit phrase considered ("square centimeters per second" fits). */
export const MAX_UNIT_PHRASE = 48;

export interface Unit {
  /** Canonical spelling: `cm^2`, `km/h`, `m/s^2`, `kg m/s^2`. Re-parses to the same unit. */
  readonly text: string;
  /** Factor to the reference units of its dimensions (exact). */
  readonly factor: Q.Rational;
  /** Dimension signature: `L2`, `L1.T-1`... */
  readonly dimensions: string;
}

function baseOf(word: string): BaseUnit | null {
  const exact = BASES[word] ?? BASES[ALIASES[word] ?? ''];
  if (exact) return exact;
  if (word.length < 3) return null; // `Cm`, `KM`, `S` are not guessed
  const lower = word.toLowerCase();
  const direct = BASES[lower] ?? BASES[ALIASES[lower] ?? ''];
  if (direct) return direct;
  for (const suffix of ['es', 's']) {
    if (lower.endsWith(suffix)) {
      const stem = lower.slice(0, -suffix.length);
      const found = BASES[ALIASES[stem] ?? ''] ?? (stem.length >= 3 ? BASES[stem] : undefined);
      if (found) return found;
    }
  }
  return null;
}

type Token = { kind: 'word'; text: string } | { kind: 'power'; value: number } | { kind: 'per' };

/** Splits a unit phrase into words, `/` (or "per") and `^2` / `^{3}` / `²` powers; null on anything else. */
function tokenize(phrase: string): Token[] | null {
  const tokens: Token[] = [];
  let i = 0;
  while (i < phrase.length) {
    const ch = phrase[i];
    if (ch === ' ' || ch === '\t' || ch === '.' || ch === '*' || ch === '~') {
      i++;
      continue;
    }
    if (ch === '/') {
      tokens.push({ kind: 'per' });
      i++;
      continue;
    }
    if (ch === '\u00b2' || ch === '\u00b3') {
      tokens.push({ kind: 'power', value: ch === '\u00b2' ? 2 : 3 });
      i++;
      continue;
    }
    if (ch === '^') {
      let j = i + 1;
      const braced = phrase[j] === '{';
      if (braced) j++;
      let sign = 1;
      if (phrase[j] === '-') {
        sign = -1;
        j++;
      }
      const digit = phrase[j];
      if (digit === undefined || digit < '1' || digit > '4') return null;
      j++;
      if (braced) {
        if (phrase[j] !== '}') return null;
        j++;
      }
      tokens.push({ kind: 'power', value: sign * Number(digit) });
      i = j;
      continue;
    }
    if (/[A-Za-z]/.test(ch)) {
      let j = i;
      while (j < phrase.length && /[A-Za-z]/.test(phrase[j])) j++;
      const word = phrase.slice(i, j);
      tokens.push(word.toLowerCase() === 'per' ? { kind: 'per' } : { kind: 'word', text: word });
      i = j;
      continue;
    }
    return null;
  }
  return tokens;
}

const POWER_WORDS: Record<string, number> = { square: 2, sq: 2, squared: 2, cubic: 3, cu: 3, cubed: 3 };

/** The unit a phrase names, or null when it is not (entirely) a recognised unit. */
export function parseUnit(phrase: string): Unit | null {
  if (phrase.length > MAX_UNIT_PHRASE) return null;
  const trimmed = phrase.trim();
  const compound = COMPOUNDS[trimmed.toLowerCase()];
  const tokens = tokenize(compound ?? trimmed);
  if (!tokens || tokens.length === 0) return null;
  const powers = new Map<string, number>(); // canonical symbol -> power
  const order: string[] = [];
  let denominator = false;
  let pendingPower = 1;
  let last: string | null = null;
  let any = false;
  for (const token of tokens) {
    if (token.kind === 'per') {
      if (!any || denominator) return null;
      denominator = true;
      last = null;
      continue;
    }
    if (token.kind === 'power') {
      if (last === null) return null;
      const sign = denominator ? -1 : 1;
      powers.set(last, (powers.get(last) ?? 0) + sign * (token.value - 1));
      last = null;
      continue;
    }
    const lower = token.text.toLowerCase();
    if (lower in POWER_WORDS) {
      if (lower === 'squared' || lower === 'cubed') {
        if (last === null) return null;
        const sign = denominator ? -1 : 1;
        powers.set(last, (powers.get(last) ?? 0) + sign * (POWER_WORDS[lower] - 1));
        last = null;
      } else pendingPower = POWER_WORDS[lower];
      continue;
    }
    const base = baseOf(token.text);
    if (!base) return null;
    const sign = denominator ? -1 : 1;
    if (!powers.has(base.symbol)) order.push(base.symbol);
    powers.set(base.symbol, (powers.get(base.symbol) ?? 0) + sign * pendingPower);
    pendingPower = 1;
    last = base.symbol;
    any = true;
  }
  if (!any || pendingPower !== 1) return null;
  return buildUnit(order, powers);
}

function buildUnit(order: readonly string[], powers: ReadonlyMap<string, number>): Unit | null {
  let factor: Q.Rational | null = Q.ONE;
  const dimensions = new Map<string, number>();
  const numerator: string[] = [];
  const denominator: string[] = [];
  for (const symbol of order) {
    const power = powers.get(symbol) ?? 0;
    if (power === 0) continue;
    const base = BASES[symbol];
    const baseFactor = Q.parseDecimalLiteral(String(base.factor))?.value ?? null;
    const powered = baseFactor ? Q.powerInteger(baseFactor, BigInt(power)) : null;
    factor = factor && powered ? Q.multiply(factor, powered) : null;
    if (factor === null) return null;
    dimensions.set(base.dimension, (dimensions.get(base.dimension) ?? 0) + power * (base.power ?? 1));
    const magnitude = Math.abs(power);
    const rendered = magnitude === 1 ? symbol : `${symbol}^${magnitude}`;
    (power > 0 ? numerator : denominator).push(rendered);
  }
  if (numerator.length === 0 || factor === null) return null;
  const signature = [...dimensions]
    .filter(([, p]) => p !== 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([d, p]) => `${d}${p}`)
    .join('.');
  const text = numerator.join(' ') + (denominator.length > 0 ? `/${denominator.join(' ')}` : '');
  return { text, factor, dimensions: signature };
}

/** Is `word` any kind of unit word (used to decide whether a trailing phrase may be dropped or kept)? */
export function isUnitWord(word: string): boolean {
  return baseOf(word) !== null || word.toLowerCase() in POWER_WORDS || word.toLowerCase() === 'per';
}
