// Sampling and token text for the local model server: seeded PRNG streams, streaming UTF-8 assembly of token
// bytes, log-sum-exp, top-k, and temperature / top-p sampling from full logits.
// ---------------------------------------------------------------------------------------------------------
// Small utilities
// ---------------------------------------------------------------------------------------------------------

/** 32-bit hash of a (possibly large or negative) integer seed, so that every safe integer gives its own stream. */
export function seedHash(seed: number): number {
  let h = 0x811c9dc5;
  for (const ch of `promptcot:${seed}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}

/** Turns incoming bytes into text; each push returns the characters completed by these bytes. */
export class Utf8Assembler {
  private readonly decoder = new TextDecoder('utf-8', { fatal: false });
  push(bytes: Uint8Array): string {
    return this.decoder.decode(bytes, { stream: true });
  }
  /** Pending bytes of an incomplete character (rendered as U+FFFD). */
  flush(): string {
    return this.decoder.decode();
  }
}

export const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Text of a token for `top_logprobs` keys and chat `token` fields: its UTF-8 text or `bytes:\xNN…`. */
export function displayToken(bytes: Uint8Array): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return `bytes:${[...bytes].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('')}`;
  }
}

export function logSumExp(logits: Float64Array): number {
  let max = -Infinity;
  for (const v of logits) if (v > max) max = v;
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (const v of logits) sum += Math.exp(v - max);
  return max + Math.log(sum);
}

/** Indices of the k largest values, largest first (ties: lower index first). */
export function topIndices(values: Float64Array, k: number): number[] {
  const out: number[] = [];
  if (k <= 0) return out;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (out.length === k && v <= values[out[k - 1]!]!) continue;
    let pos = out.length;
    while (pos > 0 && values[out[pos - 1]!]! < v) pos--;
    out.splice(pos, 0, i);
    if (out.length > k) out.pop();
  }
  return out;
}

/**
 * Picks the next token from raw logits: greedy for temperature 0, otherwise softmax(logits / temperature)
 * restricted to the smallest most-likely set with mass >= top_p, drawn with `rand`.
 */
export function sampleFromLogits(logits: Float64Array, temperature: number, topP: number, rand: () => number): number {
  if (temperature <= 0) {
    let best = 0;
    for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
    return best;
  }
  const lse = logSumExp(logits.map((v) => v / temperature));
  const probs = logits.map((v) => Math.exp(v / temperature - lse));
  let candidates: number[];
  let mass = 1;
  if (topP < 1) {
    const order = Array.from(probs.keys()).sort((a, b) => probs[b]! - probs[a]! || a - b);
    candidates = [];
    mass = 0;
    for (const id of order) {
      candidates.push(id);
      mass += probs[id]!;
      if (mass >= topP) break;
    }
  } else {
    candidates = Array.from(probs.keys());
  }
  let u = rand() * mass;
  for (const id of candidates) {
    u -= probs[id]!;
    if (u < 0) return id;
  }
  // Rounding left a sliver of mass: take the last candidate with non-zero probability.
  for (let i = candidates.length - 1; i >= 0; i--) if (probs[candidates[i]!]! > 0) return candidates[i]!;
  return candidates[0]!;
}

/**
 * The seed of llama.cpp's native sampler for a request seed: the same 32-bit hash as the JavaScript streams, except
 * that llama.cpp reads 0xFFFFFFFF (LLAMA_DEFAULT_SEED) as "pick a random seed", so that one value is moved.
 */
export function nativeSeed(seed: number): number {
  const h = seedHash(seed);
  return h === 0xffffffff ? 0xfffffffe : h;
}
