// The geometry of the diversity analysis: classical MDS against configurations with known distances, its
// deterministic signs and eigenvalue shares, the Jacobi eigen-solver, and the cosine distance helpers.
import {
  classicalMds,
  cosineDistance,
  cosineDistanceMatrix,
  meanPairwiseDistance,
  symmetricEigen,
} from '../../domain/analysis/mds';

const euclid = (a: readonly number[], b: readonly number[]) => Math.hypot(...a.map((x, i) => x - b[i]!));
const distancesOf = (points: number[][]) => points.map((p) => points.map((q) => euclid(p, q)));

describe('classical MDS', () => {
  it('reproduces the distances of a known 4-point configuration (a 3 × 4 rectangle, with its diagonals of 5)', () => {
    const points = [
      [0, 0],
      [4, 0],
      [4, 3],
      [0, 3],
    ];
    const d = distancesOf(points);
    expect(d[0]![2]).toBeCloseTo(5, 12);
    const mds = classicalMds(d, 2);
    const recovered = distancesOf(mds.coordinates);
    for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) expect(recovered[i]![j]).toBeCloseTo(d[i]![j]!, 10);
    // centred coordinates: (±2, ±1.5); B's eigenvalues are 4·2² = 16 and 4·1.5² = 9, the rest 0
    expect(mds.eigenvalues[0]).toBeCloseTo(16, 10);
    expect(mds.eigenvalues[1]).toBeCloseTo(9, 10);
    expect(mds.eigenvalues[2]).toBeCloseTo(0, 10);
    expect(mds.share[0]).toBeCloseTo(16 / 25, 12);
    expect(mds.share[1]).toBeCloseTo(9 / 25, 12);
    expect(mds.negativeShare).toBeCloseTo(0, 10);
    // the long side lies on axis 1; every point's coordinates are (±2, ±1.5)
    for (const [x, y] of mds.coordinates) {
      expect(Math.abs(x!)).toBeCloseTo(2, 10);
      expect(Math.abs(y!)).toBeCloseTo(1.5, 10);
    }
  });

  it('fixes the signs: the coordinate of largest magnitude on each axis is positive, whatever the point order', () => {
    // a kite: the point (3, 0) is the farthest from the centroid along axis 1
    const points = [
      [3, 0],
      [-1, 1.2],
      [-1, -1],
      [-0.5, 0.1],
    ];
    const a = classicalMds(distancesOf(points));
    const reversed = classicalMds(distancesOf([...points].reverse()));
    for (let axis = 0; axis < 2; axis++) {
      const column = a.coordinates.map((c) => c[axis]!);
      const big = column.reduce((best, x) => (Math.abs(x) > Math.abs(best) ? x : best), 0);
      expect(big).toBeGreaterThan(0);
      // the same picture for the same points given in another order
      a.coordinates.forEach((c, i) => expect(reversed.coordinates[3 - i]![axis]).toBeCloseTo(c[axis]!, 10));
    }
    const recovered = distancesOf(a.coordinates);
    const d = distancesOf(points);
    for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) expect(recovered[i]![j]).toBeCloseTo(d[i]![j]!, 10);
  });

  it('puts two points on axis 1 at ±d/2, reports negative eigenvalues of non-Euclidean distances, and refuses bad matrices', () => {
    const two = classicalMds([
      [0, 0.3],
      [0.3, 0],
    ]);
    expect(two.coordinates.map((c) => c[0]).sort()).toEqual([expect.closeTo(-0.15, 12), expect.closeTo(0.15, 12)]);
    expect(two.coordinates.every((c) => c[1] === 0)).toBe(true);
    expect(two.share).toEqual([1, 0]);
    // a triangle inequality broken: 1, 1, 3 is not Euclidean
    const broken = classicalMds([
      [0, 1, 3],
      [1, 0, 1],
      [3, 1, 0],
    ]);
    expect(broken.negativeShare).toBeGreaterThan(0);
    expect(broken.eigenvalues.at(-1)!).toBeLessThan(0);
    expect(() =>
      classicalMds([
        [0, 1],
        [2, 0],
      ]),
    ).toThrow(/not symmetric/);
    expect(() =>
      classicalMds([
        [0, -1],
        [-1, 0],
      ]),
    ).toThrow(/finite d ≥ 0/);
    expect(() => classicalMds([])).toThrow(/no points/);
  });

  it('the Jacobi solver diagonalises a symmetric matrix: A·v = λ·v, eigenvalues largest first', () => {
    const a = [
      [4, 1, -2, 2],
      [1, 2, 0, 1],
      [-2, 0, 3, -2],
      [2, 1, -2, -1],
    ];
    const { values, vectors } = symmetricEigen(a);
    expect([...values].sort((x, y) => y - x)).toEqual(values);
    for (let k = 0; k < 4; k++) {
      const v = vectors.map((row) => row[k]!);
      for (let i = 0; i < 4; i++) {
        const av = a[i]!.reduce((s, x, j) => s + x * v[j]!, 0);
        expect(av).toBeCloseTo(values[k]! * v[i]!, 10);
      }
    }
    expect(values.reduce((s, x) => s + x, 0)).toBeCloseTo(4 + 2 + 3 - 1, 10);
  });
});

describe('cosine distances', () => {
  it('1 − cos, a symmetric matrix with a zero diagonal, and the mean over pairs', () => {
    expect(cosineDistance([1, 0], [0, 1])).toBeCloseTo(1, 12);
    expect(cosineDistance([1, 1], [2, 2])).toBeCloseTo(0, 12);
    expect(cosineDistance([1, 0], [-1, 0])).toBeCloseTo(2, 12);
    expect(cosineDistance([0, 0], [1, 0])).toBe(1);
    const m = cosineDistanceMatrix([
      [1, 0],
      [0, 1],
      [1, 1],
    ]);
    expect(m[0]![0]).toBe(0);
    expect(m[0]![1]).toBe(m[1]![0]);
    expect(m[0]![2]).toBeCloseTo(1 - Math.SQRT1_2, 12);
    expect(
      meanPairwiseDistance([
        [1, 0],
        [0, 1],
        [1, 1],
      ]),
    ).toBeCloseTo((1 + 2 * (1 - Math.SQRT1_2)) / 3, 12);
    expect(meanPairwiseDistance([[1, 0]])).toBeNull();
    expect(() => cosineDistance([1], [1, 2])).toThrow(/dimensions/);
  });
});
