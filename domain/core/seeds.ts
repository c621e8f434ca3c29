// Deterministic seeds: a re-run asks the model servers for exactly the same samples.

/** 32-bit FNV-1a of a string, folded to a non-negative 31-bit integer (what OpenAI-compatible servers accept). */
export function hashToSeed(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h & 0x7fffffff;
}

/** The seed of sample `sampleIndex` of item `itemId` in a run seeded with `runSeed`. */
export function deriveSeed(runSeed: number, itemId: string, sampleIndex = 0): number {
  return hashToSeed(`${runSeed}\u0000${itemId}\u0000${sampleIndex}`);
}
