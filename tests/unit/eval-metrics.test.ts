// Evaluation metrics (domain/eval/metrics.ts) against computations written differently here: pass@k by enumerating
// every k-subset of a problem's cells and by exact binomials in BigInt, maj@k by counting answers and ranking the
// clusters, the spread across runs from per-run tallies, and the bootstrap CI re-implemented plainly with the same
// seed and PRNG (compared exactly where the per-problem values are the same numbers).
import { mulberry32 } from '../../domain/core/random';
import {
  benchmarkMetrics,
  formatEstimate,
  majorityCorrect,
  pairedDifference,
  passAtK,
  type CellScore,
} from '../../domain/eval/metrics';

function cellOf(problem: string, run: number, correct: boolean, extra: Partial<CellScore> = {}): CellScore {
  return { problem, run, correct, answered: true, truncated: false, outputTokens: 100, ...extra };
}

/** Every k-subset of {0..n-1}, as index arrays. */
function subsets(n: number, k: number): number[][] {
  if (k === 0) return [[]];
  if (n < k) return [];
  const without = subsets(n - 1, k);
  const withLast = subsets(n - 1, k - 1).map((s) => [...s, n - 1]);
  return [...without, ...withLast];
}

function passAtKBySubsets(outcomes: readonly boolean[], k: number): number {
  const all = subsets(outcomes.length, k);
  return all.filter((s) => s.some((i) => outcomes[i])).length / all.length;
}

function binomial(n: number, k: number): bigint {
  if (k < 0 || k > n) return 0n;
  let r = 1n;
  for (let i = 0; i < k; i++) r = (r * BigInt(n - i)) / BigInt(i + 1);
  return r;
}

/** 1 − C(n−c,k)/C(n,k) exactly, then to a float: (C(n,k) − C(n−c,k)) / C(n,k) scaled by 1e18. */
function passAtKExact(n: number, c: number, k: number): number {
  const all = binomial(n, k);
  const miss = binomial(n - c, k);
  const scale = 10n ** 18n;
  return Number(((all - miss) * scale) / all) / 1e18;
}

/** Majority of the answers, counted and ranked (count desc, then first position asc). */
function majorityByRanking(cells: readonly CellScore[]): boolean {
  const stats: Record<string, { count: number; first: number; correct: boolean }> = {};
  cells.forEach((c, position) => {
    if (typeof c.answerKey !== 'string') return;
    const s = (stats[c.answerKey] ??= { count: 0, first: position, correct: c.correct });
    s.count += 1;
  });
  const ranked = Object.values(stats).sort((a, b) => b.count - a.count || a.first - b.first);
  return ranked.length > 0 && ranked[0]!.correct;
}

/** The bootstrap percentile CI, written out plainly. */
function plainBootstrap(values: number[], samples: number, seed: number): [number, number] {
  const next = mulberry32(seed);
  const means: number[] = [];
  for (let s = 0; s < samples; s++) {
    let total = 0;
    for (let d = 0; d < values.length; d++) {
      const pick = Math.floor(next() * values.length);
      total += values[pick]!;
    }
    means.push(total / values.length);
  }
  means.sort((a, b) => a - b);
  const at = (q: number) => {
    const pos = q * (means.length - 1);
    const below = Math.floor(pos);
    const above = Math.min(below + 1, means.length - 1);
    return means[below]! + (pos - below) * (means[above]! - means[below]!);
  };
  return [at(0.025), at(0.975)];
}

function plainSd(xs: number[]): number {
  if (xs.length < 2) return 0;
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

/** Random math cells: `problems` problems with the given runs each, answers from a small pool. */
function randomMathCells(seed: number, problems: number, runsOf: (p: number) => number): CellScore[] {
  const next = mulberry32(seed);
  const cells: CellScore[] = [];
  for (let p = 0; p < problems; p++) {
    const id = `p${String(p).padStart(3, '0')}`;
    const skill = next();
    for (let run = 0; run < runsOf(p); run++) {
      const u = next();
      const answered = u > 0.1;
      // answer "a" is the right one; "b" and "c" wrong
      const key = !answered ? null : next() < skill ? 'a' : next() < 0.5 ? 'b' : 'c';
      cells.push(
        cellOf(id, run, key === 'a', {
          answered,
          answerKey: key,
          truncated: !answered && next() < 0.5,
          outputTokens: Math.floor(next() * 5000),
        }),
      );
    }
  }
  return cells;
}

/** The cells of each problem in run order, problems in id order (as the module defines it). */
function byProblem(cells: readonly CellScore[]): CellScore[][] {
  const ids = [...new Set(cells.map((c) => c.problem))].sort();
  return ids.map((id) => cells.filter((c) => c.problem === id).sort((a, b) => a.run - b.run));
}

function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const next = mulberry32(seed);
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('pass@k of one problem', () => {
  it('equals the fraction of k-subsets with a correct cell, and the exact binomial form', () => {
    for (let n = 1; n <= 10; n++)
      for (let c = 0; c <= n; c++)
        for (let k = 1; k <= n; k++) {
          const outcomes = Array.from({ length: n }, (_, i) => i < c);
          const ours = passAtK(n, c, k);
          expect(ours).toBeCloseTo(passAtKBySubsets(outcomes, k), 12);
          expect(ours).toBeCloseTo(passAtKExact(n, c, k), 12);
        }
  });

  it('stays accurate where the binomials are astronomically large', () => {
    for (const [n, c, k] of [
      [1000, 3, 16],
      [5000, 1, 64],
      [400, 399, 200],
      [2000, 0, 100],
    ] as const)
      expect(passAtK(n, c, k)).toBeCloseTo(passAtKExact(n, c, k), 12);
  });

  it('refuses k outside 1..n', () => {
    expect(() => passAtK(4, 1, 5)).toThrow(RangeError);
    expect(() => passAtK(4, 1, 0)).toThrow(RangeError);
  });
});

describe('majority vote of a problem', () => {
  it('agrees with counting and ranking on every answer pattern of four runs', () => {
    const keys = [null, 'x', 'y', 'z'] as const;
    for (let pattern = 0; pattern < 4 ** 4; pattern++) {
      const cells = [0, 1, 2, 3].map((run) => {
        const key = keys[Math.floor(pattern / 4 ** run) % 4]!;
        return cellOf('p', run, key === 'y', { answerKey: key, answered: key !== null });
      });
      expect(majorityCorrect(cells)).toBe(majorityByRanking(cells));
    }
  });

  it('breaks a tie in favour of the cluster seen first', () => {
    const wrongFirst = [
      cellOf('p', 0, false, { answerKey: 'w' }),
      cellOf('p', 1, true, { answerKey: 'r' }),
      cellOf('p', 2, true, { answerKey: 'r' }),
      cellOf('p', 3, false, { answerKey: 'w' }),
    ];
    expect(majorityCorrect(wrongFirst)).toBe(false);
    expect(majorityCorrect([wrongFirst[1]!, wrongFirst[0]!, wrongFirst[2]!, wrongFirst[3]!])).toBe(true);
    expect(majorityCorrect([cellOf('p', 0, false, { answerKey: null, answered: false })])).toBe(false);
  });
});

describe('benchmarkMetrics', () => {
  const bootstrap = { samples: 500, seed: 1234 };

  it('matches independent computations on random math cells with equal runs', () => {
    const cells = randomMathCells(7, 30, () => 16);
    const m = benchmarkMetrics(cells, { bootstrap });
    const groups = byProblem(cells);
    expect([m.problems, m.runs, m.cells]).toEqual([30, 16, 480]);

    // avg@k: per-problem rates; spread from per-run accuracies
    const rates = groups.map((g) => g.filter((c) => c.correct).length / g.length);
    const avg = rates.reduce((a, b) => a + b, 0) / rates.length;
    expect(m.avgAtK.mean).toBe(avg);
    const perRun = Array.from({ length: 16 }, (_, run) => {
      const ofRun = cells.filter((c) => c.run === run);
      return ofRun.filter((c) => c.correct).length / ofRun.length;
    });
    const meanOfRuns = perRun.reduce((a, b) => a + b, 0) / 16;
    expect(meanOfRuns).toBeCloseTo(avg, 12); // equal runs: the paper's avg@16 is the same number
    expect(m.avgAtK.spread).toBe('runs');
    expect(m.avgAtK.sd).toBeCloseTo(plainSd(perRun), 12);
    expect(m.avgAtK.se).toBeCloseTo(plainSd(perRun) / 4, 12);
    expect(m.avgAtK.ci).toEqual(plainBootstrap(rates, 500, 1234));
    expect(m.avgAtK.problems).toBe(30);

    for (const k of [1, 2, 4, 8, 16]) {
      const values = groups.map((g) => passAtKExact(g.length, g.filter((c) => c.correct).length, k));
      const e = m.passAtK[String(k)]!;
      expect(e.problems).toBe(30);
      expect(e.spread).toBe('problems');
      expect(e.mean).toBeCloseTo(values.reduce((a, b) => a + b, 0) / 30, 12);
      expect(e.sd).toBeCloseTo(plainSd(values), 12);
      expect(e.se).toBeCloseTo(plainSd(values) / Math.sqrt(30), 12);
      const ci = plainBootstrap(values, 500, 1234);
      expect(e.ci[0]).toBeCloseTo(ci[0], 12);
      expect(e.ci[1]).toBeCloseTo(ci[1], 12);

      const votes = groups.map((g) => (majorityByRanking(g.slice(0, k)) ? 1 : 0));
      const maj = m.majAtK![String(k)]!;
      expect(maj.mean).toBe(votes.reduce((a, b) => a + b, 0 as number) / 30);
      expect(maj.sd).toBeCloseTo(plainSd(votes), 12);
      expect(maj.ci).toEqual(plainBootstrap(votes, 500, 1234));
    }
    expect(m.passAtK['1']!.mean).toBeCloseTo(avg, 12);
    expect(Object.keys(m.passAtK)).toEqual(['1', '2', '4', '8', '16']);

    expect(m.noAnswerRate).toBe(cells.filter((c) => !c.answered).length / 480);
    expect(m.truncationRate).toBe(cells.filter((c) => c.truncated).length / 480);
    const tokens = cells.map((c) => c.outputTokens).sort((a, b) => a - b);
    expect(m.outputTokens.mean).toBeCloseTo(tokens.reduce((a, b) => a + b, 0) / 480, 9);
    expect(m.outputTokens.median).toBe((tokens[239]! + tokens[240]!) / 2);
    expect(m.bootstrap).toEqual({ samples: 500, seed: 1234, method: 'percentile' });
  });

  it('does not depend on the order of the cells', () => {
    const cells = randomMathCells(11, 12, (p) => 1 + (p % 5));
    expect(benchmarkMetrics(shuffled(cells, 3), { bootstrap })).toEqual(benchmarkMetrics(cells, { bootstrap }));
  });

  it('handles unequal runs: pass@k and maj@k over the problems with at least k cells', () => {
    // A: 4 runs (2 correct), B: 2 runs (1 correct), C: 1 run (correct); ks 1, 2, 4, 8
    const cells = [
      cellOf('A', 0, true, { answerKey: 'r' }),
      cellOf('A', 1, false, { answerKey: 'w' }),
      cellOf('A', 2, true, { answerKey: 'r' }),
      cellOf('A', 3, false, { answerKey: null, answered: false }),
      cellOf('B', 0, false, { answerKey: 'w' }),
      cellOf('B', 1, true, { answerKey: 'r' }),
      cellOf('C', 0, true, { answerKey: 'r' }),
    ];
    const m = benchmarkMetrics(cells, { ks: [8, 1, 2, 4, 2], bootstrap });
    expect([m.problems, m.runs, m.cells]).toEqual([3, 4, 7]);
    expect(m.avgAtK.mean).toBeCloseTo((2 / 4 + 1 / 2 + 1) / 3, 15);
    // runs 0..3 have 3, 2, 1, 1 cells: accuracies 2/3, 1/2, 1, 0
    expect(m.avgAtK.spread).toBe('runs');
    expect(m.avgAtK.sd).toBeCloseTo(plainSd([2 / 3, 1 / 2, 1, 0]), 12);
    expect(m.avgAtK.se).toBeCloseTo(plainSd([2 / 3, 1 / 2, 1, 0]) / 2, 12);
    expect(Object.keys(m.passAtK)).toEqual(['1', '2', '4']); // no problem has 8 cells
    expect(m.passAtK['1']!.problems).toBe(3);
    expect(m.passAtK['2']!.problems).toBe(2);
    expect(m.passAtK['2']!.mean).toBeCloseTo((passAtKBySubsets([true, false, true, false], 2) + 1) / 2, 12);
    expect(m.passAtK['4']!.problems).toBe(1);
    expect(m.passAtK['4']!.mean).toBe(1);
    expect(m.passAtK['4']!.ci).toEqual([1, 1]);
    // maj@1: A r → 1, B w → 0, C r → 1; maj@2: A tie r/w, r first → 1; B tie w/r, w first → 0
    expect(m.majAtK!['1']!.mean).toBeCloseTo(2 / 3, 15);
    expect(m.majAtK!['2']).toMatchObject({ mean: 0.5, problems: 2 });
    expect(m.majAtK!['4']).toMatchObject({ mean: 1, problems: 1 });
  });

  it('all correct and all wrong', () => {
    for (const correct of [true, false]) {
      const cells = ['a', 'b', 'c'].flatMap((p) =>
        [0, 1, 2, 3].map((run) => cellOf(p, run, correct, { answerKey: correct ? 'right' : 'wrong' })),
      );
      const m = benchmarkMetrics(cells, { bootstrap });
      const v = correct ? 1 : 0;
      expect(m.avgAtK).toEqual({ mean: v, sd: 0, se: 0, ci: [v, v], problems: 3, spread: 'runs' });
      for (const e of [...Object.values(m.passAtK), ...Object.values(m.majAtK!)])
        expect(e).toMatchObject({ mean: v, sd: 0, se: 0, ci: [v, v] });
      expect(Object.keys(m.passAtK)).toEqual(['1', '2', '4']);
    }
  });

  it('one run per problem: the spread is over problems; code cells have no maj@k', () => {
    const cells = [cellOf('x', 0, true), cellOf('y', 0, false), cellOf('z', 0, true), cellOf('w', 0, true)];
    const m = benchmarkMetrics(cells, { bootstrap });
    expect(m.majAtK).toBeNull();
    expect(m.avgAtK.spread).toBe('problems');
    expect(m.avgAtK.mean).toBe(0.75);
    expect(m.avgAtK.sd).toBeCloseTo(plainSd([1, 0, 1, 1]), 15);
    expect(m.avgAtK.se).toBeCloseTo(plainSd([1, 0, 1, 1]) / 2, 15);
    // ids in code-unit order: w, x, y, z
    expect(m.avgAtK.ci).toEqual(plainBootstrap([1, 1, 0, 1], 500, 1234));
    expect(Object.keys(m.passAtK)).toEqual(['1']);
  });

  it('uses 1000 resamples with seed 0 by default', () => {
    const cells = randomMathCells(5, 10, () => 2);
    const rates = byProblem(cells).map((g) => g.filter((c) => c.correct).length / g.length);
    expect(benchmarkMetrics(cells).avgAtK.ci).toEqual(plainBootstrap(rates, 1000, 0));
    expect(benchmarkMetrics(cells).bootstrap).toEqual({ samples: 1000, seed: 0, method: 'percentile' });
  });

  it('refuses bad input', () => {
    expect(() => benchmarkMetrics([])).toThrow(/no cells/);
    expect(() => benchmarkMetrics([cellOf('a', 0, true), cellOf('a', 0, false)])).toThrow(/problem a: run 0 twice/);
    expect(() => benchmarkMetrics([cellOf('a', -1, true)])).toThrow(/run must be/);
    expect(() => benchmarkMetrics([cellOf('a', 0, true, { answerKey: 'k' }), cellOf('a', 1, true)])).toThrow(
      /answerKey is set on 1 of 2 cells/,
    );
    expect(() => benchmarkMetrics([cellOf('a', 0, true)], { ks: [0] })).toThrow(/positive integer/);
    expect(() => benchmarkMetrics([cellOf('a', 0, true)], { bootstrap: { samples: 0, seed: 1 } })).toThrow(/samples/);
  });
});

describe('pairedDifference', () => {
  it('is b − a over the common problems, with a bootstrap CI over them', () => {
    const a = randomMathCells(21, 20, () => 8);
    const b = randomMathCells(22, 24, () => 4).filter((c) => c.problem !== 'p003');
    const d = pairedDifference(a, b, { bootstrap: { samples: 300, seed: 9 } });
    const rate = (cells: CellScore[], p: string) => {
      const of = cells.filter((c) => c.problem === p);
      return of.filter((c) => c.correct).length / of.length;
    };
    const common = [...new Set(a.map((c) => c.problem))].filter((p) => b.some((c) => c.problem === p)).sort();
    expect(common).toHaveLength(19);
    const diffs = common.map((p) => rate(b, p) - rate(a, p));
    expect(d.problems).toBe(19);
    expect(d.onlyInA).toBe(1); // p003
    expect(d.onlyInB).toBe(4); // p020..p023
    expect(d.mean).toBe(diffs.reduce((x, y) => x + y, 0) / 19);
    expect(d.sd).toBeCloseTo(plainSd(diffs), 12);
    expect(d.se).toBeCloseTo(plainSd(diffs) / Math.sqrt(19), 12);
    expect(d.ci).toEqual(plainBootstrap(diffs, 300, 9));
  });

  it('of a model with itself is exactly zero; disjoint problem sets are refused', () => {
    const a = randomMathCells(3, 10, () => 4);
    expect(pairedDifference(a, a)).toMatchObject({ problems: 10, mean: 0, sd: 0, se: 0, ci: [0, 0] });
    expect(() => pairedDifference([cellOf('x', 0, true)], [cellOf('y', 0, true)])).toThrow(/no common problems/);
  });
});

describe('formatEstimate', () => {
  it('prints "x.x ± SE [lo, hi]" in percent by default', () => {
    expect(formatEstimate({ mean: 0.731, se: 0.024, ci: [0.683, 0.776] })).toBe('73.1 ± 2.4 [68.3, 77.6]');
    expect(formatEstimate({ mean: 1, se: 0, ci: [1, 1] })).toBe('100.0 ± 0.0 [100.0, 100.0]');
    expect(formatEstimate({ mean: -0.0001, se: 0.01, ci: [-0.03, 0.02] })).toBe('0.0 ± 1.0 [-3.0, 2.0]');
    expect(formatEstimate({ mean: 0.5, se: 0.1, ci: [0.3, 0.7] }, 1)).toBe('0.5 ± 0.1 [0.3, 0.7]');
    expect(formatEstimate({ mean: Number.NaN, se: 0, ci: [0, 0] })).toBe('—');
  });
});
