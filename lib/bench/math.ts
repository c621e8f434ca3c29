// Benchmark of math answer checking (domain/math): `npm run bench -- math` (registered in scripts/bench.ts).
//
// Builds a seeded, deterministic corpus of 10,000 (prediction, reference) pairs in the shapes the self-play reward
// sees: integers (with thousands separators, leading zeros, `.0`, boxes), fractions and decimals, LaTeX
// expressions (radicals, pi, polynomials in x), tuples / intervals / sets, text and multiple-choice answers,
// equations, and long reasoning traces (2k-40k characters, decoy boxes inside `<think>`) whose final boxed answer
// is extracted first, plus 0.5% pathological inputs that must hit a bound (`9^{9^9}`, a sum to 1e9, 500000!).
// About half of the pairs are equal by construction. Each check (extraction when the prediction is a completion,
// then `mathEqualDetailed`) is timed on its own; the LaTeX parser is loaded before timing and the caches start
// cold.
// Reports throughput, latency percentiles, how many checks hit a bound, how many were equal, and how many verdicts
// disagree with the construction label (0 expected). Options: --pairs N, --seed S.
//
// `pathological` (issue 12 item 10): every hostile input of domain/math/hostile.ts (long, nested, repeated and
// whitespace-heavy texts) timed through normalisation + comparison (answers up to the normalisation cap and at
// 100 kB), extraction (completions up to the rollout size limit, MAX_COMPLETION_CHARS) and majority votes over 8
// hostile answers, each call from cold caches, the fastest of 3 runs. `maxMs` is the slowest call; the target is
// under 50 ms.
import { clearMathCaches, extractAnswer, majorityVote, mathEqualDetailed } from '../../domain/math';
import { MAX_COMPLETION_CHARS } from '../../domain/math/extract';
import { hostileAnswers, hostileCompletions } from '../../domain/math/hostile';
import { MAX_ANSWER_CHARS } from '../../domain/math/normalize';
import { mulberry32 } from '../../domain/core/random';

export interface MathPair {
  readonly category: string;
  readonly prediction: string;
  readonly reference: string;
  /** Whether the prediction is a whole completion (extract its answer first). */
  readonly completion: boolean;
  /** The verdict expected by construction. */
  readonly equal: boolean;
}

type Random = () => number;

function int(random: Random, lo: number, hi: number): number {
  return lo + Math.floor(random() * (hi - lo + 1));
}

function pick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)];
}

function gcd(a: number, b: number): number {
  return b === 0 ? Math.abs(a) : gcd(b, a % b);
}

function pair(category: string, prediction: string, reference: string, equal: boolean, completion = false): MathPair {
  return { category, prediction, reference, equal, completion };
}

function integerPair(random: Random): MathPair {
  const n = int(random, 0, 2_000_000);
  const equal = random() < 0.5;
  const value = equal ? n : n + pick(random, [1, -1, 10, 1000]);
  const text = String(value);
  const form = pick(random, [
    text,
    `${text}.0`,
    `\\boxed{${text}}`,
    text.replace(/\B(?=(\d{3})+(?!\d))/g, ','),
    `0${text}`,
    `$${text}$`,
    `${text}\\text{ ways}`,
  ]);
  return pair('integer', form, String(n), equal);
}

function fractionPair(random: Random): MathPair {
  const b = int(random, 2, 400);
  let a = int(random, 1, 999);
  const g = gcd(a, b);
  a /= g;
  const d = b / g;
  const equal = random() < 0.5;
  const k = int(random, 2, 9);
  const [pa, pd] = equal ? [a * k, d * k] : [a * k + 1, d * k];
  const form = pick(random, [`\\frac{${pa}}{${pd}}`, `${pa}/${pd}`, `\\dfrac{${pa}}{${pd}}`, `\\frac{${pa}}{${pd}}`]);
  return pair('fraction', form, `\\frac{${a}}{${d}}`, equal);
}

function decimalPair(random: Random): MathPair {
  const d = int(random, 2, 64);
  const a = int(random, 1, 5 * d);
  const equal = random() < 0.5;
  const digits = equal ? 6 : 2;
  const shift = equal ? 0 : 0.05;
  return pair('decimal', (a / d + shift).toFixed(digits), `\\frac{${a}}{${d}}`, equal);
}

function expressionPair(random: Random): MathPair {
  const k = int(random, 2, 30);
  const m = pick(random, [2, 3, 5, 6, 7, 10, 11, 13, 14, 15, 17, 19, 21, 23]);
  const c = int(random, 1, 50);
  const equal = random() < 0.5;
  const kind = int(random, 0, 4);
  switch (kind) {
    case 0: // k sqrt(m) vs sqrt(k^2 m)
      return pair('expression', `\\sqrt{${k * k * m + (equal ? 0 : 1)}}`, `${k}\\sqrt{${m}}`, equal);
    case 1: // rationalised denominators
      return pair('expression', `\\frac{${k}}{\\sqrt{${m}}}`, `\\frac{${k}\\sqrt{${m}}}{${equal ? m : m + 1}}`, equal);
    case 2: // pi multiples and sums
      return pair('expression', `${c}\\pi+${k}`, equal ? `${k}+\\pi\\cdot${c}` : `${k}+${c + 1}\\pi`, equal);
    case 3: // polynomials in x in another order / factored
      return pair('expression', `(x+${k})(x+${c})`, `x^2+${k + c + (equal ? 0 : 1)}x+${k * c}`, equal);
    default: // surds with a decimal approximation (an unequal one is off by 0.5)
      return pair('expression', (c + k * Math.sqrt(m) + (equal ? 0 : 0.5)).toFixed(6), `${c}+${k}\\sqrt{${m}}`, equal);
  }
}

function structurePair(random: Random): MathPair {
  const a = int(random, -20, 20);
  const b = a + int(random, 1, 30);
  const equal = random() < 0.5;
  const kind = int(random, 0, 3);
  switch (kind) {
    case 0:
      return pair('structure', `\\left(${a}, ${b}\\right)`, equal ? `(${a},${b})` : `(${b},${a})`, equal);
    case 1:
      return pair('structure', `[${a}, ${b})`, equal ? `\\left[${a},${b}\\right)` : `(${a},${b}]`, equal);
    case 2:
      return pair(
        'structure',
        `\\{${b}, ${a}, ${b + 100}\\}`,
        equal ? `\\{${a},${b},${b + 100}\\}` : `\\{${a},${b}\\}`,
        equal,
      );
    default:
      return pair(
        'structure',
        `(-\\infty, ${a})\\cup(${b}, \\infty)`,
        equal ? `(${b},\\infty)\\cup(-\\infty,${a})` : `(-\\infty,${a}]\\cup(${b},\\infty)`,
        equal,
      );
  }
}

function textPair(random: Random): MathPair {
  const equal = random() < 0.5;
  if (random() < 0.5) {
    const letter = pick(random, ['A', 'B', 'C', 'D', 'E']);
    const other = String.fromCharCode(((letter.charCodeAt(0) - 65 + int(random, 1, 4)) % 5) + 65);
    return pair(
      'text',
      pick(random, [`\\text{(${equal ? letter : other})}`, `(${equal ? letter : other})`]),
      letter,
      equal,
    );
  }
  const word = pick(random, ['yes', 'even', 'odd', 'Monday', 'infinitely many', 'no solution']);
  const other = pick(random, ['maybe', 'prime', 'Tuesday', 'finitely many']);
  return pair('text', `\\text{${equal ? word.toUpperCase() : other}}`, word, equal);
}

function equationPair(random: Random): MathPair {
  const m = int(random, 1, 9);
  const c = int(random, 1, 9);
  const equal = random() < 0.5;
  const prediction = pick(random, [`y=${m}x+${c}`, `${m}x+${c}=y`, `y-${m}x=${c}`, `${2 * m}x+${2 * c}=2y`]);
  return pair('equation', prediction, `y = ${m}x + ${equal ? c : c + 1}`, equal);
}

const REASONING_SENTENCES = [
  'Let me consider the case where $n$ is even, so $n = 2k$ for some integer $k$.',
  'Then $a_{n+1} = \\frac{a_n + 1}{2}$, and by induction every term is positive.',
  'Checking small values: $f(1) = 3$, $f(2) = 7$, $f(3) = 13$, which suggests $f(n) = n^2 + n + 1$.',
  'Wait, that does not account for the boundary, so I should subtract the overlap.',
  'Using $\\binom{n}{k} = \\frac{n!}{k!(n-k)!}$ we get the count for each residue class.',
  'Hmm, maybe the answer is \\boxed{17}? No, that double counts the symmetric configurations.',
];

function reasoningPair(random: Random): MathPair {
  const inner = pick(random, [integerPair, fractionPair, expressionPair, structurePair])(random);
  const sentences: string[] = [];
  const length = int(random, 20, 400);
  for (let k = 0; k < length; k++) sentences.push(pick(random, REASONING_SENTENCES));
  const completion = `${sentences.join('\n')}\n</think>\n\nPutting everything together, the answer is $\\boxed{${inner.prediction}}$.`;
  return pair('reasoning', completion, inner.reference, inner.equal, true);
}

/** Inputs that must hit a bound: a tower of powers, a sum to a billion, a factorial beyond double range. */
function pathologicalPair(random: Random): MathPair {
  const n = int(random, 5, 9);
  const prediction = pick(random, [`${n}^{${n}^{${n}}}`, `\\sum_{k=1}^{${n}000000000} k`, `${n}00000!`]);
  return pair('pathological', prediction, `${n}^{${n}^{${n}}}+1`, false);
}

const GENERATORS: ReadonlyArray<readonly [weight: number, generate: (random: Random) => MathPair]> = [
  [0.2, integerPair],
  [0.15, fractionPair],
  [0.1, decimalPair],
  [0.2, expressionPair],
  [0.1, structurePair],
  [0.05, textPair],
  [0.05, equationPair],
  [0.145, reasoningPair],
  [0.005, pathologicalPair],
];

/** The deterministic benchmark corpus. */
export function mathCorpus(count: number, seed: number): MathPair[] {
  const random = mulberry32(seed);
  const corpus: MathPair[] = [];
  for (let k = 0; k < count; k++) {
    let roll = random();
    let generate = GENERATORS[GENERATORS.length - 1][1];
    for (const [weight, candidate] of GENERATORS) {
      if (roll < weight) {
        generate = candidate;
        break;
      }
      roll -= weight;
    }
    corpus.push(generate(random));
  }
  return corpus;
}

function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function round(value: number, digits = 3): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

function argValue(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

/** Fastest of `runs` cold-cache runs, in ms. */
function coldMs(run: () => unknown, runs = 3): number {
  let best = Infinity;
  for (let k = 0; k < runs; k++) {
    clearMathCaches();
    const t0 = performance.now();
    run();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

/** The pathological section: hostile inputs up to the rollout size limit, the slowest call. */
export function benchPathological(): Record<string, unknown> {
  const timings: Array<{ kind: string; name: string; ms: number }> = [];
  for (const size of [MAX_ANSWER_CHARS, 100_000]) {
    for (const { name, text } of hostileAnswers(size)) {
      timings.push({
        kind: 'mathEqual',
        name: `${name} (${text.length} chars)`,
        ms: coldMs(() => mathEqualDetailed(text, '2')),
      });
    }
  }
  for (const { name, text } of hostileCompletions(MAX_COMPLETION_CHARS - 40)) {
    timings.push({
      kind: 'extractAnswer',
      name: `${name} (${text.length} chars)`,
      ms: coldMs(() => extractAnswer(text)),
    });
  }
  for (const size of [300, 1000, MAX_ANSWER_CHARS]) {
    const answers = hostileAnswers(size).map((a, k) => a.text.slice(0, size - (k % 8)));
    for (let k = 0; k + 8 <= answers.length; k += 8) {
      timings.push({
        kind: 'majorityVote',
        name: `8 answers from #${k} (${size} chars)`,
        ms: coldMs(() => majorityVote(answers.slice(k, k + 8))),
      });
    }
  }
  timings.sort((a, b) => b.ms - a.ms);
  const byKind = (kind: string) => timings.filter((t) => t.kind === kind);
  return {
    inputs: timings.length,
    largestInputChars: MAX_COMPLETION_CHARS,
    maxMs: round(timings[0]?.ms ?? 0, 2),
    slowest: timings.slice(0, 5).map((t) => `${t.kind}: ${t.name}: ${round(t.ms, 2)} ms`),
    maxMsByKind: Object.fromEntries(
      ['mathEqual', 'extractAnswer', 'majorityVote'].map((k) => [k, round(byKind(k)[0]?.ms ?? 0, 2)]),
    ),
    countByKind: Object.fromEntries(['mathEqual', 'extractAnswer', 'majorityVote'].map((k) => [k, byKind(k).length])),
    limitMs: 50,
    withinLimit: (timings[0]?.ms ?? 0) < 50,
  };
}

export async function benchMath(): Promise<Record<string, unknown>> {
  const pairs = argValue('pairs', 10_000);
  const corpus = mathCorpus(pairs, argValue('seed', 20250919));
  // Load the LaTeX parser's dictionary once (a one-off ~20 ms), then start from cold caches.
  mathEqualDetailed('\\frac{\\sqrt{2}}{2}', 'x');
  clearMathCaches();
  const latencies: number[] = [];
  const perCategory = new Map<string, { pairs: number; ms: number }>();
  let timeBoundHits = 0;
  let equalCount = 0;
  let labelMismatches = 0;
  const started = performance.now();
  for (const item of corpus) {
    const t0 = performance.now();
    const prediction = item.completion ? extractAnswer(item.prediction) : item.prediction;
    const verdict = mathEqualDetailed(prediction, item.reference);
    const ms = performance.now() - t0;
    latencies.push(ms);
    const stats = perCategory.get(item.category) ?? { pairs: 0, ms: 0 };
    stats.pairs++;
    stats.ms += ms;
    perCategory.set(item.category, stats);
    if (verdict.timedOut) timeBoundHits++;
    if (verdict.equal) equalCount++;
    if (verdict.equal !== item.equal) labelMismatches++;
  }
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    pairs: corpus.length,
    seconds: round(seconds),
    checksPerSecond: Math.round(corpus.length / seconds),
    p50Ms: round(percentile(latencies, 0.5), 4),
    p99Ms: round(percentile(latencies, 0.99), 4),
    maxMs: round(latencies[latencies.length - 1] ?? 0, 3),
    timeBoundHits,
    equalCount,
    expectedEqualCount: corpus.filter((item) => item.equal).length,
    labelMismatches,
    meanMsByCategory: Object.fromEntries([...perCategory].map(([name, s]) => [name, round(s.ms / s.pairs, 4)])),
    pathological: benchPathological(),
  };
}
