// A tiny, deterministic, byte-level bigram language model stored as a real GGUF file.
//
// No npm or Debian package ships language-model weights, so tests and the quick start use this generated model:
// it loads in llama.cpp (through node-llama-cpp) like any other GGUF model, goes through the real tokenizer and
// the real HTTP path, and its log-probabilities can be recomputed exactly in JavaScript (`referenceLogProbs`).
//
// Architecture: llama.cpp's `llama` architecture with one transformer block whose attention and FFN weights are
// all zeros (in particular the attention output and FFN down projections), so the residual stream after the
// block is just the token embedding.
// Token t is embedded as the one-hot vector e_t (n_embd > vocab), hence
//     logits = W_out · (rmsnorm(e_t) ⊙ g) = W_out[:, t] · s,   s = 1 / sqrt(1/n_embd + eps)   (g = 1)
// and W_out[:, t] = L[t, :] / s, where L is a designed bigram log-weight table. The next-token distribution
// therefore depends only on the current token. All tensors are F32, so llama.cpp's numbers match float64 JS
// math to ~1e-5.
//
// Tokenizer: GPT-2 style byte-level BPE (`tokenizer.ggml.model = "gpt2"`) with the 256 byte tokens written in
// the GPT-2 bytes-to-unicode alphabet, no merges, plus two control tokens (BOS, EOS). llama.cpp therefore maps
// text to exactly one token per UTF-8 byte: token id = byte value. There is no prefix space and no whitespace
// rewriting (BPE vocabularies never add a prefix space); BOS is prepended (`add_bos_token = true`), EOS is not.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { mulberry32 } from '../domain/core/random';

// ---------------------------------------------------------------------------------------------------------
// GGUF v3 writer
// ---------------------------------------------------------------------------------------------------------

/** GGUF metadata value types (gguf.h `enum gguf_type`); only the ones this writer emits. */
const GgufType = { UINT32: 4, INT32: 5, FLOAT32: 6, BOOL: 7, STRING: 8, ARRAY: 9 } as const;

/** A typed metadata value; GGUF needs the exact type of every number. */
export type GgufValue =
  | { type: 'u32'; value: number }
  | { type: 'i32'; value: number }
  | { type: 'f32'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'i32[]'; value: readonly number[] }
  | { type: 'f32[]'; value: readonly number[] }
  | { type: 'string[]'; value: readonly string[] };

export interface GgufTensor {
  name: string;
  /** ggml order: dims[0] is the innermost (contiguous) dimension. */
  dims: readonly number[];
  data: Float32Array;
}

const GGML_TYPE_F32 = 0;
export const GGUF_ALIGNMENT = 32;

/** Growable little-endian byte buffer. */
class ByteWriter {
  private buf = Buffer.alloc(1 << 16);
  length = 0;

  private ensure(extra: number): void {
    if (this.length + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + extra) size *= 2;
    const next = Buffer.alloc(size);
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }
  u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(v, this.length);
    this.length += 4;
  }
  i32(v: number): void {
    this.ensure(4);
    this.buf.writeInt32LE(v, this.length);
    this.length += 4;
  }
  u64(v: number): void {
    this.ensure(8);
    this.buf.writeBigUInt64LE(BigInt(v), this.length);
    this.length += 8;
  }
  f32(v: number): void {
    this.ensure(4);
    this.buf.writeFloatLE(v, this.length);
    this.length += 4;
  }
  u8(v: number): void {
    this.ensure(1);
    this.buf.writeUInt8(v, this.length);
    this.length += 1;
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  /** GGUF string: u64 byte length, then UTF-8 bytes (no terminator). */
  str(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.u64(b.length);
    this.bytes(b);
  }
  padTo(alignment: number): void {
    const pad = (alignment - (this.length % alignment)) % alignment;
    this.ensure(pad);
    this.buf.fill(0, this.length, this.length + pad);
    this.length += pad;
  }
  result(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.length));
  }
}

function writeValue(w: ByteWriter, v: GgufValue): void {
  const writeArray = <T>(elementType: number, values: readonly T[], writeOne: (x: T) => void) => {
    w.u32(GgufType.ARRAY);
    w.u32(elementType);
    w.u64(values.length);
    for (const x of values) writeOne(x);
  };
  switch (v.type) {
    case 'u32':
      w.u32(GgufType.UINT32);
      w.u32(v.value);
      return;
    case 'i32':
      w.u32(GgufType.INT32);
      w.i32(v.value);
      return;
    case 'f32':
      w.u32(GgufType.FLOAT32);
      w.f32(v.value);
      return;
    case 'bool':
      w.u32(GgufType.BOOL);
      w.u8(v.value ? 1 : 0);
      return;
    case 'string':
      w.u32(GgufType.STRING);
      w.str(v.value);
      return;
    case 'i32[]':
      return writeArray(GgufType.INT32, v.value, (x) => w.i32(x));
    case 'f32[]':
      return writeArray(GgufType.FLOAT32, v.value, (x) => w.f32(x));
    case 'string[]':
      return writeArray(GgufType.STRING, v.value, (x) => w.str(x));
  }
}

/**
 * Serializes a GGUF v3 file: header, metadata key/values, tensor infos, padding to the alignment, tensor data
 * (each tensor starting at an aligned offset relative to the data section). Only F32 tensors are supported.
 */
export function encodeGguf(
  metadata: ReadonlyArray<readonly [string, GgufValue]>,
  tensors: readonly GgufTensor[],
): Buffer {
  const w = new ByteWriter();
  w.bytes(Buffer.from('GGUF', 'ascii'));
  w.u32(3); // version
  w.u64(tensors.length);
  w.u64(metadata.length);
  for (const [key, value] of metadata) {
    w.str(key);
    writeValue(w, value);
  }
  let offset = 0;
  const offsets: number[] = [];
  for (const t of tensors) {
    const elements = t.dims.reduce((a, b) => a * b, 1);
    if (elements !== t.data.length)
      throw new Error(`tensor ${t.name}: dims ${t.dims.join('x')} != ${t.data.length} values`);
    w.str(t.name);
    w.u32(t.dims.length);
    for (const d of t.dims) w.u64(d);
    w.u32(GGML_TYPE_F32);
    w.u64(offset);
    offsets.push(offset);
    offset += t.data.byteLength;
    offset += (GGUF_ALIGNMENT - (offset % GGUF_ALIGNMENT)) % GGUF_ALIGNMENT;
  }
  w.padTo(GGUF_ALIGNMENT);
  const dataStart = w.length;
  tensors.forEach((t, i) => {
    if (w.length - dataStart !== offsets[i]) throw new Error('internal error: tensor offset mismatch');
    // Copy through a fresh little-endian buffer (all supported platforms are little-endian).
    w.bytes(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    w.padTo(GGUF_ALIGNMENT);
  });
  return w.result();
}

// ---------------------------------------------------------------------------------------------------------
// The bigram model
// ---------------------------------------------------------------------------------------------------------

/** Seed of the committed default model (`models/tiny-bigram.gguf`). */
export const TINY_MODEL_DEFAULT_SEED = 20240917;
/** Bumped whenever the generated bytes change for a given seed. */
export const TINY_MODEL_FORMAT_VERSION = 1;
export const TINY_MODEL_NAME = 'tiny-bigram';

/** Token ids: 0..255 are the bytes themselves. */
export const BYTE_TOKENS = 256;
export const BOS_TOKEN = 256;
export const EOS_TOKEN = 257;
export const TINY_VOCAB_SIZE = 258;
export const BOS_TEXT = '<|begin_of_text|>';
export const EOS_TEXT = '<|end_of_text|>';

const N_EMBD = 320; // > vocab size so that one-hot embeddings fit
// Attention contributes nothing but llama.cpp still computes it, at a cost quadratic in the prompt length:
// one head of dimension 8 keeps that cost small for long prompts.
const N_HEAD = 1;
const HEAD_DIM = 8;
const N_FF = 16;
const RMS_EPS = 1e-5;
const TRAIN_CONTEXT = 65536; // positions play no role in a bigram model

/** llama.cpp token types (llama.h `enum llama_token_type`). */
const TOKEN_TYPE_NORMAL = 1;
const TOKEN_TYPE_CONTROL = 3;

export interface TinyBigramModel {
  seed: number;
  vocabSize: number;
  nEmbd: number;
  rmsEps: number;
  bosToken: number;
  eosToken: number;
  /** Vocabulary strings as stored in the GGUF (bytes in the GPT-2 bytes-to-unicode alphabet). */
  tokenStrings: string[];
  tokenTypes: number[];
  /** F32 tensors, ggml layout (row = innermost dim). */
  tokenEmbedding: Float32Array; // [vocab][n_embd]
  outputNorm: Float32Array; // [n_embd]
  output: Float32Array; // [vocab][n_embd]: logit j = dot(output[j], h)
}

/**
 * GPT-2's reversible byte → unicode-character mapping: printable bytes map to themselves, the others to
 * U+0100 + k in byte order. llama.cpp's BPE tokenizer applies it before looking tokens up.
 */
export function gpt2ByteToChar(): string[] {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const out: string[] = [];
  let extra = 0;
  for (let b = 0; b < 256; b++) out.push(String.fromCodePoint(printable(b) ? b : 256 + extra++));
  return out;
}

function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

// Relative English letter frequencies (per 1000).
const LETTER_FREQ: Record<string, number> = {
  e: 127,
  t: 91,
  a: 82,
  o: 75,
  i: 70,
  n: 67,
  s: 63,
  h: 61,
  r: 60,
  d: 43,
  l: 40,
  c: 28,
  u: 28,
  m: 24,
  w: 24,
  f: 22,
  g: 20,
  y: 20,
  p: 19,
  b: 15,
  v: 10,
  k: 8,
  j: 2,
  x: 2,
  q: 1,
  z: 1,
};

const isLower = (b: number) => b >= 0x61 && b <= 0x7a;
const isUpper = (b: number) => b >= 0x41 && b <= 0x5a;
const isDigit = (b: number) => b >= 0x30 && b <= 0x39;
const isContinuation = (b: number) => b >= 0x80 && b <= 0xbf;
const isLead = (b: number) => b >= 0xc2 && b <= 0xf4;
const SENTENCE_END = new Set([0x2e, 0x21, 0x3f]); // . ! ?
const CLAUSE_END = new Set([0x2c, 0x3b, 0x3a]); // , ; :

/** Context-free log-weight of a next byte: English-like unigram statistics. */
function unigramLogWeight(b: number): number {
  if (isLower(b)) return Math.log((LETTER_FREQ[String.fromCharCode(b)]! / 1000) * 0.75);
  if (isUpper(b)) return Math.log((LETTER_FREQ[String.fromCharCode(b + 32)]! / 1000) * 0.03);
  if (b === 0x20) return Math.log(0.17);
  if (isDigit(b)) return Math.log(0.004);
  if (b === 0x2e || b === 0x2c) return Math.log(0.01);
  if (b === 0x0a) return Math.log(0.012);
  if (b === 0x09) return Math.log(0.0005);
  if (b < 0x20 || b === 0x7f) return Math.log(2e-6);
  if (b < 0x80) return Math.log(0.0015); // other printable ASCII punctuation
  return Math.log(1e-4); // bytes >= 0x80 (UTF-8 fragments)
}

/**
 * Designed bigram log-weights L[prev][next] (float64, unnormalized): English-like unigram statistics, a few
 * contextual rules (capitals after sentence ends, UTF-8 continuation bytes after lead bytes, …), seeded Gaussian
 * noise so that every row differs, and a rare EOS that is more likely after a sentence end or a newline.
 */
export function designBigramLogWeights(seed: number): Float64Array {
  const rand = mulberry32(seed);
  const V = TINY_VOCAB_SIZE;
  const L = new Float64Array(V * V);
  for (let prev = 0; prev < V; prev++) {
    // BOS and EOS rows behave like the start of a line.
    const p = prev >= BYTE_TOKENS ? 0x0a : prev;
    for (let next = 0; next < V; next++) {
      let w: number;
      if (next === BOS_TOKEN) {
        w = -30; // never predicted
      } else if (next === EOS_TOKEN) {
        w = Math.log(0.002);
        if (SENTENCE_END.has(p)) w += Math.log(15);
        else if (p === 0x0a) w += Math.log(8);
        if (prev >= BYTE_TOKENS) w = Math.log(1e-4); // an empty text is very unlikely
      } else {
        w = unigramLogWeight(next);
        if (p === 0x20) {
          if (next === 0x20) w -= 3.5;
          if (isLower(next)) w += 0.3;
          if (isUpper(next)) w += 1.5;
          if (next === 0x0a || SENTENCE_END.has(next) || CLAUSE_END.has(next)) w -= 2;
        } else if (isLower(p) || isUpper(p)) {
          if (next === 0x20) w += 0.2;
          if (isUpper(next)) w -= 2;
          if (isUpper(p) && isLower(next)) w += 1;
        } else if (SENTENCE_END.has(p)) {
          if (next === 0x20) w += 2.5;
          if (next === 0x0a) w += 2;
          if (isLower(next) || isUpper(next)) w -= 2.5;
        } else if (CLAUSE_END.has(p)) {
          if (next === 0x20) w += 3;
          if (isLower(next) || isUpper(next)) w -= 2;
        } else if (p === 0x0a) {
          if (isUpper(next)) w += 2;
          if (next === 0x20) w -= 1.5;
        } else if (isDigit(p)) {
          if (isDigit(next)) w += 2;
        } else if (isLead(p)) {
          w += isContinuation(next) ? 12 : -3;
        } else if (isContinuation(p)) {
          if (isContinuation(next)) w += 4;
        }
        w += 0.7 * gaussian(rand);
      }
      L[prev * V + next] = Math.max(-30, Math.min(10, w));
    }
  }
  return L;
}

/** Builds the model tensors and vocabulary for a seed (pure, deterministic). */
export function buildTinyBigramModel(seed: number = TINY_MODEL_DEFAULT_SEED): TinyBigramModel {
  const V = TINY_VOCAB_SIZE;
  const L = designBigramLogWeights(seed);
  const tokenEmbedding = new Float32Array(V * N_EMBD);
  for (let t = 0; t < V; t++) tokenEmbedding[t * N_EMBD + t] = 1;
  const outputNorm = new Float32Array(N_EMBD).fill(1);
  // rmsnorm(e_t) has the single non-zero value s at position t.
  const s = 1 / Math.sqrt(1 / N_EMBD + RMS_EPS);
  const output = new Float32Array(V * N_EMBD);
  for (let prev = 0; prev < V; prev++) {
    for (let next = 0; next < V; next++) output[next * N_EMBD + prev] = L[prev * V + next]! / s;
  }
  const byteChars = gpt2ByteToChar();
  return {
    seed,
    vocabSize: V,
    nEmbd: N_EMBD,
    rmsEps: RMS_EPS,
    bosToken: BOS_TOKEN,
    eosToken: EOS_TOKEN,
    tokenStrings: [...byteChars, BOS_TEXT, EOS_TEXT],
    tokenTypes: [...byteChars.map(() => TOKEN_TYPE_NORMAL), TOKEN_TYPE_CONTROL, TOKEN_TYPE_CONTROL],
    tokenEmbedding,
    outputNorm,
    output,
  };
}

/** The complete GGUF file for a model. */
export function encodeTinyModelGguf(model: TinyBigramModel): Buffer {
  const E = model.nEmbd;
  const V = model.vocabSize;
  const A = N_HEAD * HEAD_DIM;
  const zeros = (n: number) => new Float32Array(n);
  const ones = (n: number) => new Float32Array(n).fill(1);
  const arch = 'llama';
  const metadata: Array<[string, GgufValue]> = [
    ['general.architecture', { type: 'string', value: arch }],
    ['general.name', { type: 'string', value: TINY_MODEL_NAME }],
    [
      'general.description',
      { type: 'string', value: 'Byte-level bigram model generated by scripts/make-tiny-model.ts (PromptCoT tests)' },
    ],
    ['general.file_type', { type: 'u32', value: 0 }], // all F32
    ['general.alignment', { type: 'u32', value: GGUF_ALIGNMENT }],
    ['promptcot.tiny_bigram.seed', { type: 'u32', value: model.seed >>> 0 }],
    ['promptcot.tiny_bigram.format_version', { type: 'u32', value: TINY_MODEL_FORMAT_VERSION }],
    [`${arch}.context_length`, { type: 'u32', value: TRAIN_CONTEXT }],
    [`${arch}.embedding_length`, { type: 'u32', value: E }],
    [`${arch}.block_count`, { type: 'u32', value: 1 }],
    [`${arch}.feed_forward_length`, { type: 'u32', value: N_FF }],
    [`${arch}.attention.head_count`, { type: 'u32', value: N_HEAD }],
    [`${arch}.attention.head_count_kv`, { type: 'u32', value: N_HEAD }],
    [`${arch}.attention.layer_norm_rms_epsilon`, { type: 'f32', value: model.rmsEps }],
    [`${arch}.attention.key_length`, { type: 'u32', value: HEAD_DIM }],
    [`${arch}.attention.value_length`, { type: 'u32', value: HEAD_DIM }],
    [`${arch}.rope.dimension_count`, { type: 'u32', value: HEAD_DIM }],
    [`${arch}.vocab_size`, { type: 'u32', value: V }],
    ['tokenizer.ggml.model', { type: 'string', value: 'gpt2' }],
    ['tokenizer.ggml.pre', { type: 'string', value: 'default' }],
    ['tokenizer.ggml.tokens', { type: 'string[]', value: model.tokenStrings }],
    ['tokenizer.ggml.token_type', { type: 'i32[]', value: model.tokenTypes }],
    ['tokenizer.ggml.merges', { type: 'string[]', value: [] }],
    ['tokenizer.ggml.bos_token_id', { type: 'u32', value: model.bosToken }],
    ['tokenizer.ggml.eos_token_id', { type: 'u32', value: model.eosToken }],
    ['tokenizer.ggml.add_bos_token', { type: 'bool', value: true }],
    ['tokenizer.ggml.add_eos_token', { type: 'bool', value: false }],
  ];
  const tensors: GgufTensor[] = [
    { name: 'token_embd.weight', dims: [E, V], data: model.tokenEmbedding },
    { name: 'output_norm.weight', dims: [E], data: model.outputNorm },
    { name: 'output.weight', dims: [E, V], data: model.output },
    // The single block: its attention and FFN contribute exactly zero to the residual stream.
    { name: 'blk.0.attn_norm.weight', dims: [E], data: ones(E) },
    { name: 'blk.0.attn_q.weight', dims: [E, A], data: zeros(E * A) },
    { name: 'blk.0.attn_k.weight', dims: [E, A], data: zeros(E * A) },
    { name: 'blk.0.attn_v.weight', dims: [E, A], data: zeros(E * A) },
    { name: 'blk.0.attn_output.weight', dims: [A, E], data: zeros(A * E) },
    { name: 'blk.0.ffn_norm.weight', dims: [E], data: ones(E) },
    { name: 'blk.0.ffn_gate.weight', dims: [E, N_FF], data: zeros(E * N_FF) },
    { name: 'blk.0.ffn_up.weight', dims: [E, N_FF], data: zeros(E * N_FF) },
    { name: 'blk.0.ffn_down.weight', dims: [N_FF, E], data: zeros(N_FF * E) },
  ];
  return encodeGguf(metadata, tensors);
}

// ---------------------------------------------------------------------------------------------------------
// Independent reference computations (float64, no llama.cpp involved)
// ---------------------------------------------------------------------------------------------------------

const defaultModels = new Map<number, TinyBigramModel>();
/** The model for a seed, built once per process. */
export function tinyModel(seed: number = TINY_MODEL_DEFAULT_SEED): TinyBigramModel {
  let m = defaultModels.get(seed);
  if (!m) {
    m = buildTinyBigramModel(seed);
    defaultModels.set(seed, m);
  }
  return m;
}

/**
 * Token ids llama.cpp produces for `text` with this model's tokenizer: BOS (unless `addBos: false`), then one
 * token per UTF-8 byte, token id = byte value. No prefix space is added and whitespace is kept as is. Lone
 * surrogates are encoded as U+FFFD, as node-llama-cpp does when it passes a JS string to llama.cpp.
 */
export function tokenizeBytes(text: string, options: { addBos?: boolean } = {}): number[] {
  const bytes = [...Buffer.from(text, 'utf8')];
  return options.addBos === false ? bytes : [BOS_TOKEN, ...bytes];
}

/** The bytes a token stands for (control tokens render as nothing). */
export function tokenBytes(token: number): number[] {
  return token < BYTE_TOKENS ? [token] : [];
}

/** Full-vocabulary next-token logits after token `prev`, computed from the F32 tensors with float64 math. */
export function referenceLogits(prev: number, model: TinyBigramModel = tinyModel()): Float64Array {
  const E = model.nEmbd;
  const h = model.tokenEmbedding.subarray(prev * E, (prev + 1) * E);
  let ms = 0;
  for (let k = 0; k < E; k++) ms += h[k]! * h[k]!;
  const scale = 1 / Math.sqrt(ms / E + model.rmsEps);
  const x = new Float64Array(E);
  for (let k = 0; k < E; k++) x[k] = h[k]! * scale * model.outputNorm[k]!;
  const logits = new Float64Array(model.vocabSize);
  for (let j = 0; j < model.vocabSize; j++) {
    let acc = 0;
    const row = j * E;
    for (let k = 0; k < E; k++) if (x[k] !== 0) acc += model.output[row + k]! * x[k]!;
    logits[j] = acc;
  }
  return logits;
}

/** log-softmax of the logits after `prev` (float64). */
export function referenceNextLogProbs(prev: number, model: TinyBigramModel = tinyModel()): Float64Array {
  const logits = referenceLogits(prev, model);
  let max = -Infinity;
  for (const v of logits) max = Math.max(max, v);
  let sum = 0;
  for (const v of logits) sum += Math.exp(v - max);
  const lse = max + Math.log(sum);
  return logits.map((v) => v - lse);
}

/**
 * log p(tokens[i] | tokens[i-1]) for i = 1 … n-1 (so the result has tokens.length - 1 entries). With
 * `tokenizeBytes(text)` (which starts with BOS) entry i is the log-prob of the i-th byte of the text.
 */
export function referenceLogProbs(tokens: readonly number[], model: TinyBigramModel = tinyModel()): number[] {
  const rows = new Map<number, Float64Array>();
  const out: number[] = [];
  for (let i = 1; i < tokens.length; i++) {
    const prev = tokens[i - 1]!;
    let row = rows.get(prev);
    if (!row) {
      row = referenceNextLogProbs(prev, model);
      rows.set(prev, row);
    }
    out.push(row[tokens[i]!]!);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Writing the file
// ---------------------------------------------------------------------------------------------------------

export const DEFAULT_TINY_MODEL_PATH = path.join(__dirname, '..', 'models', 'tiny-bigram.gguf');

export interface GenerateTinyModelOptions {
  /** Output file; defaults to models/tiny-bigram.gguf in the project. */
  outPath?: string;
  seed?: number;
  /** Rewrite even when the file already holds exactly this model. */
  force?: boolean;
}

export interface GenerateTinyModelResult {
  path: string;
  seed: number;
  bytes: number;
  /** false when an identical file was already there. */
  written: boolean;
}

/**
 * Writes the GGUF file for a seed (atomically, via a temporary file). An existing file is kept when it is
 * byte-for-byte the file this seed generates, so `npm run model:tiny` is cheap to repeat.
 */
export function generateTinyModel(options: GenerateTinyModelOptions = {}): GenerateTinyModelResult {
  const outPath = path.resolve(options.outPath ?? DEFAULT_TINY_MODEL_PATH);
  const seed = options.seed ?? TINY_MODEL_DEFAULT_SEED;
  const bytes = encodeTinyModelGguf(buildTinyBigramModel(seed));
  if (!options.force && existsSync(outPath)) {
    const existing = readFileSync(outPath);
    if (existing.equals(bytes)) return { path: outPath, seed, bytes: bytes.length, written: false };
  }
  mkdirSync(path.dirname(outPath), { recursive: true });
  const tmp = `${outPath}.${process.pid}.tmp`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, outPath);
  return { path: outPath, seed, bytes: bytes.length, written: true };
}
