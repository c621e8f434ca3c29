// MinHash signatures over 32-bit word hashes, deterministic in every process.
//
// Permutation i maps a word hash h to (a_i * h + b_i) mod 2^32 (a_i odd, so the map is a bijection of the 32-bit
// values); the signature value is the minimum over the document's words. The a_i, b_i come from a seeded PRNG
// (mulberry32), never Math.random, so signatures are the same across processes and runs. Word hashes are already
// well mixed (fmix32), which is what makes the minimum of each map a uniformly chosen word of the set: for two sets,
// P(signature values agree) = Jaccard.
import { mulberry32 } from '../../domain/core/random';

// Hot loops call Math.imul through a module constant: a global lookup of `Math` is slow where code runs in a vm
// context (jest), and this costs nothing elsewhere.
const imul = Math.imul;

export const DEFAULT_NUM_PERM = 128;
export const DEFAULT_MINHASH_SEED = 0x5eed_1f2c;

export class MinHasher {
  readonly numPerm: number;
  readonly seed: number;
  /** Multipliers (odd) and offsets of the permutations, as int32 for Math.imul. */
  readonly a: Int32Array;
  readonly b: Int32Array;

  constructor(numPerm = DEFAULT_NUM_PERM, seed = DEFAULT_MINHASH_SEED) {
    if (!Number.isInteger(numPerm) || numPerm < 1)
      throw new Error(`numPerm must be a positive integer, got ${numPerm}`);
    this.numPerm = numPerm;
    this.seed = seed >>> 0;
    const rand = mulberry32(this.seed);
    const u32 = () => Math.floor(rand() * 4294967296) >>> 0;
    this.a = new Int32Array(numPerm);
    this.b = new Int32Array(numPerm);
    for (let i = 0; i < numPerm; i++) {
      // 32 random bits from two draws (mulberry32 gives 32 bits per draw; mixing two avoids any weak low bits).
      this.a[i] = (u32() ^ (u32() << 16)) | 1;
      this.b[i] = u32() ^ (u32() >>> 7);
    }
  }

  /**
   * The signature of a set of word hashes: `count` values (default all `numPerm`; a prefix is the same as the
   * prefix of the full signature). An empty set gives all 0xffffffff.
   */
  signature(wordHashes: Uint32Array, count = this.numPerm, out: Uint32Array = new Uint32Array(count)): Uint32Array {
    if (count > this.numPerm) throw new Error(`signature of ${count} values from ${this.numPerm} permutations`);
    const a = this.a;
    const b = this.b;
    const n = wordHashes.length;
    // Minimum in signed space (x ^ 0x80000000 orders like x unsigned), so everything stays int32; four
    // permutations per pass over the words.
    let i = 0;
    for (; i + 4 <= count; i += 4) {
      const a0 = a[i]!,
        a1 = a[i + 1]!,
        a2 = a[i + 2]!,
        a3 = a[i + 3]!;
      const b0 = b[i]! ^ 0x80000000,
        b1 = b[i + 1]! ^ 0x80000000,
        b2 = b[i + 2]! ^ 0x80000000,
        b3 = b[i + 3]! ^ 0x80000000;
      let m0 = 0x7fffffff,
        m1 = 0x7fffffff,
        m2 = 0x7fffffff,
        m3 = 0x7fffffff;
      for (let j = 0; j < n; j++) {
        const h = wordHashes[j]! | 0;
        // (a*h + b) ^ 0x80000000 == a*h + (b ^ 0x80000000) (mod 2^32)
        const v0 = (imul(a0, h) + b0) | 0;
        const v1 = (imul(a1, h) + b1) | 0;
        const v2 = (imul(a2, h) + b2) | 0;
        const v3 = (imul(a3, h) + b3) | 0;
        if (v0 < m0) m0 = v0;
        if (v1 < m1) m1 = v1;
        if (v2 < m2) m2 = v2;
        if (v3 < m3) m3 = v3;
      }
      out[i] = m0 ^ 0x80000000;
      out[i + 1] = m1 ^ 0x80000000;
      out[i + 2] = m2 ^ 0x80000000;
      out[i + 3] = m3 ^ 0x80000000;
    }
    for (; i < count; i++) {
      const ai = a[i]!;
      const bi = b[i]! ^ 0x80000000;
      let m = 0x7fffffff;
      for (let j = 0; j < n; j++) {
        const v = (imul(ai, wordHashes[j]! | 0) + bi) | 0;
        if (v < m) m = v;
      }
      out[i] = m ^ 0x80000000;
    }
    return out;
  }

  /** The reference computation of one signature value (unsigned arithmetic, no tricks), for tests. */
  value(wordHashes: Uint32Array, perm: number): number {
    let min = 0xffffffff;
    for (const h of wordHashes) {
      const v = Number((BigInt(this.a[perm]! >>> 0) * BigInt(h) + BigInt(this.b[perm]! >>> 0)) % 4294967296n);
      if (v < min) min = v;
    }
    return min;
  }
}

/** The share of equal positions of two signatures: the MinHash estimate of their Jaccard similarity. */
export function estimateJaccard(x: Uint32Array, y: Uint32Array): number {
  if (x.length !== y.length) throw new Error('signatures of different lengths');
  let same = 0;
  for (let i = 0; i < x.length; i++) if (x[i] === y[i]) same++;
  return same / x.length;
}

/**
 * Exact Jaccard similarity of two sorted, duplicate-free uint32 sets: `x` and `y[yStart, yStart + yLen)`.
 * Two empty sets give 0 (an empty set is nobody's near duplicate).
 */
export function jaccardSorted(x: Uint32Array, y: Uint32Array, yStart = 0, yLen = y.length - yStart): number {
  const nx = x.length;
  if (nx === 0 || yLen === 0) return 0;
  let i = 0;
  let j = yStart;
  const yEnd = yStart + yLen;
  let inter = 0;
  while (i < nx && j < yEnd) {
    const a = x[i]!;
    const b = y[j]!;
    if (a === b) {
      inter++;
      i++;
      j++;
    } else if (a < b) i++;
    else j++;
  }
  return inter / (nx + yLen - inter);
}
