// Classical (Torgerson) multidimensional scaling of a small distance matrix, and the vector arithmetic the corpus
// analyses share. Pure and deterministic: the workflow bundle may import it, and the same matrix gives the same
// coordinates on every host.
//
// Classical MDS: with D the k×k distances, B = −½·J·(D∘D)·J (J = I − 11ᵀ/k, double centring); B = VΛVᵀ by cyclic
// Jacobi rotations (k is the number of corpora: tiny); axis a is v_a·√λ_a for the a-th largest eigenvalue (0 when
// λ_a ≤ 0). When D is Euclidean, B is the Gram matrix of centred points and the coordinates reproduce D exactly in
// as many dimensions as B has positive eigenvalues; 1 − cos distances need not be Euclidean, so the negative
// eigenvalues' share is reported too. Signs: an eigenvector's sign is arbitrary, so each axis is flipped to make
// its largest-magnitude coordinate positive (the first such point on a tie), which fixes the picture across runs.

export interface MdsResult {
  /** one [x, y, …] per input point */
  coordinates: number[][];
  /** every eigenvalue of B, largest first */
  eigenvalues: number[];
  /** each kept axis' eigenvalue over the sum of the positive eigenvalues */
  share: number[];
  /** the sum of |negative eigenvalues| over the sum of |all eigenvalues| (0 for Euclidean distances) */
  negativeShare: number;
}

/** Eigenvalues and eigenvectors (columns of `vectors`) of a symmetric matrix, by cyclic Jacobi rotations. */
export function symmetricEigen(matrix: readonly (readonly number[])[]): { values: number[]; vectors: number[][] } {
  const n = matrix.length;
  const a = matrix.map((row, i) => {
    if (row.length !== n) throw new RangeError(`row ${i} has ${row.length} entries, the matrix is ${n}×${n}`);
    return [...row];
  });
  const v: number[][] = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
  const scale = Math.max(1e-300, ...a.flat().map(Math.abs));
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p]![q]! ** 2;
    if (Math.sqrt(off) <= 1e-15 * scale) break;
    for (let p = 0; p < n; p++)
      for (let q = p + 1; q < n; q++) {
        const apq = a[p]![q]!;
        if (Math.abs(apq) <= 1e-300) continue;
        const theta = (a[q]![q]! - a[p]![p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k]![p]!;
          const akq = a[k]![q]!;
          a[k]![p] = c * akp - s * akq;
          a[k]![q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p]![k]!;
          const aqk = a[q]![k]!;
          a[p]![k] = c * apk - s * aqk;
          a[q]![k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k]![p]!;
          const vkq = v[k]![q]!;
          v[k]![p] = c * vkp - s * vkq;
          v[k]![q] = s * vkp + c * vkq;
        }
      }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => a[y]![y]! - a[x]![x]! || x - y);
  return {
    values: order.map((i) => a[i]![i]!),
    vectors: Array.from({ length: n }, (_, row) => order.map((i) => v[row]![i]!)),
  };
}

/** Classical MDS of a symmetric distance matrix into `dimensions` axes (deterministic signs). */
export function classicalMds(distances: readonly (readonly number[])[], dimensions = 2): MdsResult {
  const k = distances.length;
  if (k === 0) throw new RangeError('MDS of no points');
  distances.forEach((row, i) => {
    if (row.length !== k) throw new RangeError(`distance row ${i} has ${row.length} entries, expected ${k}`);
    row.forEach((d, j) => {
      if (!Number.isFinite(d) || d < 0) throw new RangeError(`distance [${i}][${j}] = ${d} is not a finite d ≥ 0`);
      if (Math.abs(d - distances[j]![i]!) > 1e-9 * Math.max(1, d))
        throw new RangeError(`distances are not symmetric at [${i}][${j}]`);
    });
  });
  const squared = distances.map((row) => row.map((d) => d * d));
  const rowMean = squared.map((row) => row.reduce((s, x) => s + x, 0) / k);
  const total = rowMean.reduce((s, x) => s + x, 0) / k;
  const b = squared.map((row, i) => row.map((d2, j) => -0.5 * (d2 - rowMean[i]! - rowMean[j]! + total)));
  const { values, vectors } = symmetricEigen(b);
  const positive = values.reduce((s, x) => s + Math.max(0, x), 0);
  const absolute = values.reduce((s, x) => s + Math.abs(x), 0);
  const negative = values.reduce((s, x) => s + Math.max(0, -x), 0);
  const coordinates = Array.from({ length: k }, () => new Array<number>(dimensions).fill(0));
  const share: number[] = [];
  for (let axis = 0; axis < dimensions; axis++) {
    const lambda = axis < k ? values[axis]! : 0;
    // below round-off of the largest eigenvalue an axis carries nothing: its direction would be noise
    const kept = lambda > 1e-12 * Math.max(1e-300, Math.abs(values[0] ?? 0));
    share.push(kept && positive > 0 ? lambda / positive : 0);
    if (!kept) continue;
    const column = vectors.map((row) => row[axis]!);
    let pivot = 0;
    for (let i = 1; i < k; i++) if (Math.abs(column[i]!) > Math.abs(column[pivot]!) + 1e-12) pivot = i;
    const sign = column[pivot]! < 0 ? -1 : 1;
    const root = Math.sqrt(lambda);
    for (let i = 0; i < k; i++) coordinates[i]![axis] = sign * column[i]! * root;
  }
  return { coordinates, eigenvalues: values, share, negativeShare: absolute > 0 ? negative / absolute : 0 };
}

/** The cosine distance 1 − cos(a, b); 1 when either vector is zero. */
export function cosineDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`vectors of ${a.length} and ${b.length} dimensions`);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  if (na === 0 || nb === 0) return 1;
  return 1 - dot / Math.sqrt(na * nb);
}

/** The matrix of 1 − cos between every pair of vectors (0 on the diagonal, exactly symmetric). */
export function cosineDistanceMatrix(vectors: readonly ArrayLike<number>[]): number[][] {
  const m = vectors.map(() => new Array<number>(vectors.length).fill(0));
  for (let i = 0; i < vectors.length; i++)
    for (let j = i + 1; j < vectors.length; j++)
      m[i]![j] = m[j]![i] = Math.max(0, cosineDistance(vectors[i]!, vectors[j]!));
  return m;
}

/** The mean of 1 − cos over every unordered pair (null for fewer than two vectors). */
export function meanPairwiseDistance(vectors: readonly ArrayLike<number>[]): number | null {
  if (vectors.length < 2) return null;
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < vectors.length; i++)
    for (let j = i + 1; j < vectors.length; j++) {
      sum += cosineDistance(vectors[i]!, vectors[j]!);
      pairs++;
    }
  return sum / pairs;
}
