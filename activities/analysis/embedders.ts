// Sentence embedders of the diversity analysis, each giving L2-normalised float32 vectors, one text at a time (a
// problem's vector never depends on what else is in its shard):
//   onnx          a BERT-style encoder as an ONNX file run by onnxruntime-node, with our WordPiece tokenizer
//                 (./wordpiece.ts) from the model folder; mean pooling of the last hidden state over the tokens,
//                 then L2 (sentence-transformers' Pooling(mean) + Normalize of all-MiniLM-L6-v2);
//   openai        any OpenAI-compatible `/v1/embeddings` endpoint (the vector is normalised here);
//   bag-of-words  the fallback without a model: words (letters and digits, lower-cased) hashed with a sign into
//                 `dimensions` buckets, weight 1 + ln tf, L2. It measures word overlap, not meaning: reports say so.
// `auto` is resolved on a worker: the ONNX model of DEFAULT_EMBEDDING_MODEL_DIR when its files are there, else the
// fallback. Sessions are loaded once per process and model folder.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import {
  DEFAULT_EMBEDDING_MODEL_DIR,
  type EmbedderDescription,
  type EmbedderSpec,
  type ResolvedEmbedder,
} from '../../domain/analyze-corpora';
import { fmix32, hashWord } from '../dedup/words';
import { WordPieceTokenizer } from './wordpiece';

export interface Embedder {
  readonly dimensions: number;
  embed(text: string, signal?: AbortSignal): Promise<Float32Array>;
}

/** Scales a vector to unit length in place (a zero vector stays zero). */
export function normalizeInPlace(v: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i]! * v[i]!;
  const norm = Math.sqrt(sum);
  if (norm > 0) for (let i = 0; i < v.length; i++) v[i] = v[i]! / norm;
  return v;
}

/** A vector as stored in an embedding row: float32 little-endian, base64. */
export function encodeVector(v: Float32Array): string {
  const bytes = Buffer.alloc(v.length * 4);
  for (let i = 0; i < v.length; i++) bytes.writeFloatLE(v[i]!, i * 4);
  return bytes.toString('base64');
}

export function decodeVector(text: string, dimensions: number): Float32Array {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length !== dimensions * 4)
    throw new Error(`a vector of ${bytes.length} bytes, expected ${dimensions} float32 values`);
  const v = new Float32Array(dimensions);
  for (let i = 0; i < dimensions; i++) v[i] = bytes.readFloatLE(i * 4);
  return v;
}

// ---- ONNX

type Ort = typeof import('onnxruntime-node');
let ort: Ort | undefined;

export class OnnxEmbedder implements Embedder {
  private constructor(
    private readonly session: import('onnxruntime-node').InferenceSession,
    readonly tokenizer: WordPieceTokenizer,
    readonly dimensions: number,
    private readonly maxTokens: number,
    private readonly typeIds: boolean,
  ) {}

  static async load(modelDir: string, maxTokens: number): Promise<OnnxEmbedder> {
    const file = path.join(modelDir, 'model.onnx');
    if (!existsSync(file))
      throw new Error(
        `${path.resolve(file)} does not exist (an ONNX sentence encoder: run scripts/setup.sh for all-MiniLM-L6-v2)`,
      );
    const tokenizer = WordPieceTokenizer.fromModelDir(modelDir);
    ort ??= (await import('onnxruntime-node')) as Ort;
    const session = await ort.InferenceSession.create(file, { graphOptimizationLevel: 'all' });
    for (const name of ['input_ids', 'attention_mask'])
      if (!session.inputNames.includes(name))
        throw new Error(`${file}: the model has no input ${name} (inputs: ${session.inputNames.join(', ')})`);
    const embedder = new OnnxEmbedder(session, tokenizer, 0, maxTokens, session.inputNames.includes('token_type_ids'));
    const probe = await embedder.embed('probe');
    return new OnnxEmbedder(session, tokenizer, probe.length, maxTokens, embedder.typeIds);
  }

  async embed(text: string): Promise<Float32Array> {
    const ids = this.tokenizer.encode(text, this.maxTokens);
    const n = ids.length;
    const tensor = (values: BigInt64Array) => new ort!.Tensor('int64', values, [1, n]);
    const feeds: Record<string, import('onnxruntime-node').Tensor> = {
      input_ids: tensor(BigInt64Array.from(ids, (x) => BigInt(x))),
      attention_mask: tensor(new BigInt64Array(n).fill(1n)),
    };
    if (this.typeIds) feeds.token_type_ids = tensor(new BigInt64Array(n));
    const out = await this.session.run(feeds);
    const hidden = out[this.session.outputNames[0]!]!;
    const dims = hidden.dims;
    if (dims.length !== 3 || dims[1] !== n)
      throw new Error(`unexpected output shape [${dims.join(', ')}] for ${n} tokens`);
    const width = dims[2]!;
    const data = hidden.data as Float32Array;
    const pooled = new Float32Array(width);
    // mean over the tokens in float64, as numpy's float32 sum would be close to; stored as float32
    for (let d = 0; d < width; d++) {
      let sum = 0;
      for (let t = 0; t < n; t++) sum += data[t * width + d]!;
      pooled[d] = sum / n;
    }
    return normalizeInPlace(pooled);
  }
}

// ---- an OpenAI-compatible server

export class EndpointEmbedder implements Embedder {
  dimensions = 0;
  constructor(private readonly spec: Extract<ResolvedEmbedder, { kind: 'openai' }>) {}

  async embed(text: string, signal?: AbortSignal): Promise<Float32Array> {
    const key = this.spec.apiKeyEnv ? process.env[this.spec.apiKeyEnv] : undefined;
    if (this.spec.apiKeyEnv && !key)
      throw new Error(`environment variable ${this.spec.apiKeyEnv} (the embeddings API key) is not set`);
    const url = `${this.spec.baseUrl.replace(/\/+$/, '')}/embeddings`;
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify({ model: this.spec.model, input: [text] }),
      ...(signal ? { signal } : {}),
    });
    const body = (await response.json().catch(() => undefined)) as
      { data?: Array<{ embedding?: unknown }> } | undefined;
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status} ${JSON.stringify(body ?? {}).slice(0, 300)}`);
    const embedding = body?.data?.[0]?.embedding;
    if (!Array.isArray(embedding) || embedding.length === 0 || !embedding.every((x) => typeof x === 'number'))
      throw new Error(`${url}: field data[0].embedding is not a list of numbers`);
    this.dimensions = embedding.length;
    return normalizeInPlace(Float32Array.from(embedding as number[]));
  }
}

// ---- the fallback

export class BagOfWordsEmbedder implements Embedder {
  constructor(readonly dimensions: number) {}

  async embed(text: string): Promise<Float32Array> {
    return Promise.resolve(bagOfWords(text, this.dimensions));
  }
}

/** The bag-of-words vector of a text (synchronous: tests and the bench call it directly). */
export function bagOfWords(text: string, dimensions: number): Float32Array {
  const counts = new Map<string, number>();
  for (const m of text.toLowerCase().matchAll(/[\p{L}\p{N}]+/gu)) counts.set(m[0], (counts.get(m[0]) ?? 0) + 1);
  const v = new Float32Array(dimensions);
  for (const [word, tf] of counts) {
    const h = hashWord(word);
    const sign = fmix32(h ^ 0x9e3779b9) & 1 ? 1 : -1;
    v[h % dimensions] = v[h % dimensions]! + sign * (1 + Math.log(tf));
  }
  return normalizeInPlace(v);
}

// ---- resolution and the per-process cache

function sha256Of(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function onnxFilesPresent(dir: string): boolean {
  return (
    existsSync(path.join(dir, 'model.onnx')) &&
    (existsSync(path.join(dir, 'tokenizer.json')) || existsSync(path.join(dir, 'vocab.txt')))
  );
}

/** `auto` made concrete on this worker, and why. */
export function resolveEmbedder(spec: EmbedderSpec): { embedder: ResolvedEmbedder; why: string } {
  if (spec.kind !== 'auto') return { embedder: spec, why: 'the embedder the input names' };
  const dir = path.resolve(DEFAULT_EMBEDDING_MODEL_DIR);
  if (onnxFilesPresent(dir))
    return {
      embedder: { kind: 'onnx', modelDir: dir, maxTokens: 256 },
      why: `auto: the model in ${DEFAULT_EMBEDDING_MODEL_DIR}`,
    };
  return {
    embedder: { kind: 'bag-of-words', dimensions: 1024 },
    why: `auto: no model in ${DEFAULT_EMBEDDING_MODEL_DIR} (scripts/setup.sh installs all-MiniLM-L6-v2 there), so the bag-of-words fallback; word overlap, not meaning`,
  };
}

const cache = new Map<string, Promise<Embedder>>();

/** The embedder of a resolved spec, loaded once per process. */
export function embedderFor(spec: ResolvedEmbedder): Promise<Embedder> {
  const key = JSON.stringify(spec);
  let hit = cache.get(key);
  if (!hit) {
    hit =
      spec.kind === 'onnx'
        ? OnnxEmbedder.load(spec.modelDir, spec.maxTokens)
        : Promise.resolve(
            spec.kind === 'openai' ? new EndpointEmbedder(spec) : new BagOfWordsEmbedder(spec.dimensions),
          );
    hit.catch(() => cache.delete(key));
    cache.set(key, hit);
  }
  return hit;
}

/** What the report says about an embedder: the model file and its checksum, the server, or the fallback. */
export async function describeEmbedder(spec: ResolvedEmbedder, why: string): Promise<EmbedderDescription> {
  if (spec.kind === 'onnx') {
    const file = path.join(spec.modelDir, 'model.onnx');
    const embedder = await embedderFor(spec);
    const bytes = statSync(file).size;
    return {
      kind: 'onnx',
      description: `${file} (${(bytes / 1e6).toFixed(1)} MB, sha256 ${sha256Of(file).slice(0, 16)}…), mean pooling, L2, at most ${spec.maxTokens} word pieces`,
      dimensions: embedder.dimensions,
      why,
    };
  }
  if (spec.kind === 'openai') {
    const probe = await (await embedderFor(spec)).embed('probe');
    return {
      kind: 'openai',
      description: `model \`${spec.model}\` at ${spec.baseUrl}/embeddings`,
      dimensions: probe.length,
      why,
    };
  }
  return {
    kind: 'bag-of-words',
    description: `hashed bag of words (${spec.dimensions} signed buckets, 1 + ln tf, L2): word overlap, not meaning`,
    dimensions: spec.dimensions,
    why,
  };
}
