// Benchmark metrics of an evaluation (spec §5.2, issue 15): avg@k, unbiased pass@k, maj@k, no-answer and truncation
// rates, output tokens, and the paired difference of two models on the same problems. Pure and deterministic: the
// bootstrap draws from the seeded mulberry32, so the same cells and seed give the same numbers on every host.
//
// Notation: problem i has n_i scored cells (its runs), c_i of them correct; P problems.
// - avg@k: the mean over problems of c_i / n_i. With equal runs this is the mean over runs of the per-run accuracy
//   (the paper's avg@16). Its sd is the sample sd of the per-run accuracies (run r's accuracy over the problems
//   that have run r) and se = sd / √R over the R distinct runs. With a single run there is no spread across runs:
//   sd and se are then taken over problems (sd of c_i / n_i, se = sd / √P). `spread` says which.
// - pass@k: per problem 1 − C(n−c, k) / C(n, k), computed as 1 − Π_{j=n−c+1..n} (1 − k/j) (1 when n − c < k), with
//   no large binomials; the mean over problems. A problem with n_i < k is left out of pass@k (its `problems` says how
//   many were kept); a k that no problem reaches gets no entry. sd and se are over problems.
// - maj@k: the first k cells of a problem in run order; their answers grouped by `answerKey` (null: no answer, never
//   a cluster). The largest cluster wins; a tie goes to the cluster seen first (the one whose earliest cell has the
//   lowest run), like domain/math/vote.ts. The problem counts as correct when the winner's first cell is correct (the
//   caller's clusters are math-equal answers, so its cells agree); no answer among the k counts as wrong. Problems
//   with n_i < k are left out, as for pass@k. Only for math: every cell carries `answerKey` (string or null).
// - Bootstrap CI (percentile method): `samples` resamples of the P problems with replacement — problem index
//   ⌊u·P⌋ for u from mulberry32(seed), P draws per resample — each giving the mean of the per-problem values; the
//   CI is the 2.5 % and 97.5 % quantiles of those means, interpolated linearly between order statistics (position
//   q·(B−1), R's type 7). Problems are ordered by id (code-unit order) first, so the input order of the cells does not
//   matter. Every estimate uses the same seed: on the same problems they see the same resamples.
// - sd is the sample standard deviation (n − 1); 0 for fewer than two values.
import { mulberry32 } from '../core/random';

export interface CellScore {
  /** problem id within the benchmark */
  problem: string;
  /** 0-based run index (seed = baseSeed + run) */
  run: number;
  correct: boolean;
  /** an answer (math: a final box; code: a program) was found */
  answered: boolean;
  /** finish reason length */
  truncated: boolean;
  outputTokens: number;
  /**
   * math: the cluster of equal answers among this problem's cells (same key = math-equal answers), null when no
   * answer; code: undefined
   */
  answerKey?: string | null;
}

/** A proportion in [0, 1] with its uncertainty. */
export interface Estimate {
  mean: number;
  se: number;
  sd: number;
  /** seeded percentile-bootstrap 95% CI over problems */
  ci: [number, number];
  /** the problems the estimate averages over */
  problems: number;
  /** what `sd` and `se` are taken across: runs (avg@k with two or more runs) or problems */
  spread: 'runs' | 'problems';
}

export interface BootstrapOptions {
  /** resamples (default 1000) */
  samples: number;
  /** mulberry32 seed (default 0) */
  seed: number;
}

export interface BenchmarkMetrics {
  problems: number;
  /** the most runs (cells) any problem has */
  runs: number;
  cells: number;
  /** mean pass@1 over runs */
  avgAtK: Estimate;
  /** unbiased pass@k by k, for the k that at least one problem reaches */
  passAtK: Record<string, Estimate>;
  /** math only: majority vote of the first k runs, by k */
  majAtK: Record<string, Estimate> | null;
  /** share of cells without an answer */
  noAnswerRate: number;
  /** share of cells cut off at the token limit */
  truncationRate: number;
  outputTokens: { mean: number; median: number };
  bootstrap: BootstrapOptions & { method: 'percentile' };
}

export interface PairedDifference {
  /** problems both sides have (the difference is over these) */
  problems: number;
  /** problems only one side has, left out */
  onlyInA: number;
  onlyInB: number;
  /** mean over the common problems of (b's − a's per-problem mean correctness) */
  mean: number;
  sd: number;
  se: number;
  ci: [number, number];
}

export const DEFAULT_KS: readonly number[] = [1, 2, 4, 8, 16];
export const DEFAULT_BOOTSTRAP: BootstrapOptions = { samples: 1000, seed: 0 };

/** Unbiased pass@k of one problem with n samples, c correct (Chen et al. 2021), in the stable product form. */
export function passAtK(n: number, c: number, k: number): number {
  if (!(k >= 1 && k <= n)) throw new RangeError(`pass@${k} needs 1 <= k <= n (n = ${n})`);
  if (n - c < k) return 1;
  let missAll = 1;
  for (let j = n - c + 1; j <= n; j++) missAll *= 1 - k / j;
  return 1 - missAll;
}

/**
 * Whether the majority answer among the cells (already in run order) is correct: the largest cluster of equal
 * `answerKey`s, a tie to the cluster seen first, judged by its first cell; false when no cell has an answer.
 */
export function majorityCorrect(cells: readonly Pick<CellScore, 'correct' | 'answerKey'>[]): boolean {
  const clusters = new Map<string, { size: number; correct: boolean }>(); // insertion order = first seen
  for (const cell of cells) {
    if (cell.answerKey === null || cell.answerKey === undefined) continue;
    const cluster = clusters.get(cell.answerKey);
    if (cluster) cluster.size++;
    else clusters.set(cell.answerKey, { size: 1, correct: cell.correct });
  }
  let winner: { size: number; correct: boolean } | undefined;
  for (const cluster of clusters.values()) if (!winner || cluster.size > winner.size) winner = cluster;
  return winner?.correct ?? false;
}

function mean(values: readonly number[]): number {
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

function sampleSd(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const m = mean(values);
  let squares = 0;
  for (const v of values) squares += (v - m) * (v - m);
  return Math.sqrt(squares / (values.length - 1));
}

/** Linear interpolation between order statistics of sorted values (R type 7). */
function quantile(sorted: Float64Array, q: number): number {
  const h = q * (sorted.length - 1);
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

/** Percentile-bootstrap 95% CI of the mean of the values (one per problem), resampling problems. */
export function bootstrapCi(values: readonly number[], options: BootstrapOptions): [number, number] {
  const count = values.length;
  if (count === 0) throw new RangeError('bootstrap of no problems');
  const random = mulberry32(options.seed);
  const means = new Float64Array(options.samples);
  for (let s = 0; s < options.samples; s++) {
    let sum = 0;
    for (let d = 0; d < count; d++) sum += values[Math.floor(random() * count)]!;
    means[s] = sum / count;
  }
  means.sort();
  return [quantile(means, 0.025), quantile(means, 0.975)];
}

function overProblems(values: readonly number[], bootstrap: BootstrapOptions): Estimate {
  const sd = sampleSd(values);
  return {
    mean: mean(values),
    sd,
    se: sd / Math.sqrt(values.length),
    ci: bootstrapCi(values, bootstrap),
    problems: values.length,
    spread: 'problems',
  };
}

function checkBootstrap(b: BootstrapOptions | undefined): BootstrapOptions {
  const options = b ?? DEFAULT_BOOTSTRAP;
  if (!Number.isInteger(options.samples) || options.samples < 1)
    throw new RangeError(`bootstrap samples must be a positive integer, got ${options.samples}`);
  if (!Number.isInteger(options.seed)) throw new RangeError(`bootstrap seed must be an integer, got ${options.seed}`);
  return { samples: options.samples, seed: options.seed };
}

function byId(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The cells of each problem in run order, problems in id order; refuses bad runs and duplicate cells. */
function groupByProblem(cells: readonly CellScore[]): Array<[string, CellScore[]]> {
  const groups = new Map<string, CellScore[]>();
  for (const cell of cells) {
    if (!Number.isInteger(cell.run) || cell.run < 0)
      throw new RangeError(`problem ${cell.problem}: run must be a non-negative integer, got ${cell.run}`);
    if (!Number.isFinite(cell.outputTokens) || cell.outputTokens < 0)
      throw new RangeError(`problem ${cell.problem} run ${cell.run}: bad outputTokens ${cell.outputTokens}`);
    const group = groups.get(cell.problem);
    if (group) group.push(cell);
    else groups.set(cell.problem, [cell]);
  }
  const sorted = [...groups.entries()].sort(([a], [b]) => byId(a, b));
  for (const [problem, group] of sorted) {
    group.sort((a, b) => a.run - b.run);
    for (let i = 1; i < group.length; i++)
      if (group[i]!.run === group[i - 1]!.run) throw new RangeError(`problem ${problem}: run ${group[i]!.run} twice`);
  }
  return sorted;
}

function correctShare(cells: readonly CellScore[]): number {
  let correct = 0;
  for (const cell of cells) if (cell.correct) correct++;
  return correct / cells.length;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The metrics of one (model, benchmark) from its scored cells; throws on no cells. */
export function benchmarkMetrics(
  cells: readonly CellScore[],
  options: { ks?: readonly number[]; bootstrap?: BootstrapOptions } = {},
): BenchmarkMetrics {
  if (cells.length === 0) throw new RangeError('no cells to compute metrics of');
  const bootstrap = checkBootstrap(options.bootstrap);
  const ks = [...new Set(options.ks ?? DEFAULT_KS)].sort((a, b) => a - b);
  for (const k of ks) if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer: ${k}`);
  const groups = groupByProblem(cells);

  const withKeys = cells.filter((c) => c.answerKey !== undefined).length;
  if (withKeys !== 0 && withKeys !== cells.length)
    throw new RangeError(`answerKey is set on ${withKeys} of ${cells.length} cells: all (math) or none (code)`);
  const math = withKeys > 0;

  // avg@k: per-problem pass rates; per-run accuracy for the spread across runs
  const perProblem = groups.map(([, g]) => correctShare(g));
  const byRun = new Map<number, CellScore[]>();
  for (const cell of cells) {
    const run = byRun.get(cell.run);
    if (run) run.push(cell);
    else byRun.set(cell.run, [cell]);
  }
  let avgAtK = overProblems(perProblem, bootstrap);
  if (byRun.size >= 2) {
    const perRun = [...byRun.entries()].sort(([a], [b]) => a - b).map(([, c]) => correctShare(c));
    const sd = sampleSd(perRun);
    avgAtK = { ...avgAtK, sd, se: sd / Math.sqrt(perRun.length), spread: 'runs' };
  }

  const passAt: Record<string, Estimate> = {};
  const majAt: Record<string, Estimate> = {};
  for (const k of ks) {
    const reached = groups.filter(([, g]) => g.length >= k);
    if (reached.length === 0) continue;
    passAt[String(k)] = overProblems(
      reached.map(([, g]) => passAtK(g.length, g.filter((c) => c.correct).length, k)),
      bootstrap,
    );
    if (math)
      majAt[String(k)] = overProblems(
        reached.map(([, g]) => (majorityCorrect(g.slice(0, k)) ? 1 : 0)),
        bootstrap,
      );
  }

  const tokens = cells.map((c) => c.outputTokens);
  return {
    problems: groups.length,
    runs: groups.reduce((most, [, g]) => Math.max(most, g.length), 0),
    cells: cells.length,
    avgAtK,
    passAtK: passAt,
    majAtK: math ? majAt : null,
    noAnswerRate: cells.filter((c) => !c.answered).length / cells.length,
    truncationRate: cells.filter((c) => c.truncated).length / cells.length,
    outputTokens: { mean: mean(tokens), median: median(tokens) },
    bootstrap: { ...bootstrap, method: 'percentile' },
  };
}

/**
 * b − a on the problems both have: per problem the difference of the mean correctness (each side over its own
 * runs), its mean, sd and se over those problems and a percentile-bootstrap CI resampling them. Problems only one
 * side has are left out and counted; throws when the two share no problem.
 */
export function pairedDifference(
  a: readonly CellScore[],
  b: readonly CellScore[],
  options: { bootstrap?: BootstrapOptions } = {},
): PairedDifference {
  const bootstrap = checkBootstrap(options.bootstrap);
  const rateA = new Map(groupByProblem(a).map(([p, g]) => [p, correctShare(g)]));
  const groupsB = groupByProblem(b);
  const differences: number[] = [];
  for (const [problem, g] of groupsB) {
    const ra = rateA.get(problem);
    if (ra !== undefined) differences.push(correctShare(g) - ra);
  }
  if (differences.length === 0)
    throw new RangeError(`no common problems (${rateA.size} on one side, ${groupsB.length} on the other)`);
  const sd = sampleSd(differences);
  return {
    problems: differences.length,
    onlyInA: rateA.size - differences.length,
    onlyInB: groupsB.length - differences.length,
    mean: mean(differences),
    sd,
    se: sd / Math.sqrt(differences.length),
    ci: bootstrapCi(differences, bootstrap),
  };
}

/** "x.x ± SE [lo, hi]" with the values times `scale` (percent by default); "—" when there is no value. */
export function formatEstimate(e: Pick<Estimate, 'mean' | 'se' | 'ci'>, scale = 100): string {
  if (!Number.isFinite(e.mean)) return '—';
  const f = (v: number) => {
    const s = (v * scale).toFixed(1);
    return s === '-0.0' ? '0.0' : s;
  };
  return `${f(e.mean)} ± ${f(e.se)} [${f(e.ci[0])}, ${f(e.ci[1])}]`;
}
