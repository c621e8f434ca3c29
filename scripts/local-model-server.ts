// An OpenAI-compatible HTTP server (node:http) on node-llama-cpp, serving any GGUF file on the CPU.
//
//   npm run model:serve [-- --model models/tiny-bigram.gguf --port 8765 --name tiny-bigram]
//
// Flags left out come from `localModel` in temporal.yaml (loadConfig). Routes:
//   GET  /health                 {status: 'ok'}
//   GET  /v1/models              OpenAI model list (one model)
//   POST /v1/completions         legacy completions: echo, logprobs (exact, full-vocabulary log-softmax), n, seed, stop
//   POST /v1/chat/completions    chat completions with the fixed template below
//
// Log-probabilities are the model's raw distribution (before temperature / top_p), as in vLLM. Prompt scoring
// (`echo: true, logprobs: k, max_tokens: 0`) asks llama.cpp for the logit of the actual next token, the top-k
// logits and the total weight Σ exp(logit - max) at every position, so log p = logit - max - ln(total) over the
// full vocabulary without shipping the vocabulary to JavaScript. Generation samples in JavaScript from the full
// logits with a seeded PRNG: the same request with the same seed gives the same output; sample j of n uses seed + j.
//
// Token texts: every token is given the characters that become complete once its bytes are appended (a streaming
// UTF-8 decode). Concatenating `tokens` gives the returned text exactly and `text_offset` is the character offset
// where each token's text starts; a token holding the first bytes of a multi-byte character has the empty text and
// the character goes to the token holding its last byte. Invalid UTF-8 decodes to U+FFFD. `top_logprobs` keys use
// the token's own text, or `bytes:\xNN…` for tokens that are not valid UTF-8 by themselves (OpenAI's convention).
//
// Chat template (fixed, for every model): each message renders as `<|{role}|>\n{content}\n`, then the prompt ends
// with `<|assistant|>\n`; the model's BOS token is prepended when the model asks for one. Content may be a string
// or an array of `{type: 'text', text}` parts (joined without separator). Generation also stops at any
// `<|system|>`, `<|user|>`, `<|assistant|>`, `<|developer|>` or `<|tool|>` marker, which is not returned.
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import type { ControlledEvaluateInputItem, Llama, LlamaContext, LlamaContextSequence, LlamaModel, Token } from 'node-llama-cpp';
import { defaultConfigPath, loadConfig } from '../activities/config';
import { LocalModelConfigSchema } from '../domain/config';
import { formatPath } from '../domain/validation';
import { DEFAULT_TINY_MODEL_PATH, generateTinyModel, gpt2ByteToChar } from './tiny-model';
import { mulberry32 } from '../domain/random';

// ---------------------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------------------

export interface LocalModelServerOptions {
  /** GGUF file to serve. */
  modelPath: string;
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
  /** TCP port; 0 picks a free one (default 8765). */
  port?: number;
  /** Model id reported by /v1/models and accepted in requests (default: the file name without .gguf). */
  modelName?: string;
  /** Context size of each parallel sequence, in tokens (default 4096). */
  contextSize?: number;
  /** Number of sequences evaluated in parallel (batched together); further requests queue (default 4). */
  parallel?: number;
  /** CPU threads; default 1 for models under 64 MiB (faster for tiny models), llama.cpp's default otherwise. */
  threads?: number;
  /** Compute backend; default false (the prebuilt CPU binary, never compiles llama.cpp). */
  gpu?: false | 'auto' | 'cuda' | 'vulkan';
  /** Called with one line per notable event (start, server errors). Default: nothing. */
  log?: (line: string) => void;
}

export interface LocalModelServer {
  /** Base URL for OpenAI clients, e.g. http://127.0.0.1:8765/v1 */
  url: string;
  port: number;
  host: string;
  modelName: string;
  /** Stops listening, ends open connections and frees the model. */
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------------
// node-llama-cpp loading (ESM-only package from CommonJS)
// ---------------------------------------------------------------------------------------------------------

type NodeLlamaCpp = typeof import('node-llama-cpp');

/** A real dynamic import that neither TypeScript nor a bundler rewrites into require(). */
const importEsm = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;

let nodeLlamaCpp: Promise<NodeLlamaCpp> | undefined;
function loadNodeLlamaCpp(): Promise<NodeLlamaCpp> {
  nodeLlamaCpp ??= importEsm('node-llama-cpp') as Promise<NodeLlamaCpp>;
  return nodeLlamaCpp;
}

// ---------------------------------------------------------------------------------------------------------
// Small utilities
// ---------------------------------------------------------------------------------------------------------

/** An error answered with an OpenAI-style body. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
    readonly type: string = status >= 500 ? 'server_error' : 'invalid_request_error',
    readonly code: string | null = null,
  ) {
    super(message);
  }
}


/** 32-bit hash of a (possibly large or negative) integer seed, so that every safe integer gives its own stream. */
function seedHash(seed: number): number {
  let h = 0x811c9dc5;
  for (const ch of `promptcot:${seed}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}

/** Turns incoming bytes into text; each push returns the characters completed by these bytes. */
class Utf8Assembler {
  private readonly decoder = new TextDecoder('utf-8', { fatal: false });
  push(bytes: Uint8Array): string {
    return this.decoder.decode(bytes, { stream: true });
  }
  /** Pending bytes of an incomplete character (rendered as U+FFFD). */
  flush(): string {
    return this.decoder.decode();
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Text of a token for `top_logprobs` keys and chat `token` fields: its UTF-8 text or `bytes:\xNN…`. */
function displayToken(bytes: Uint8Array): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return `bytes:${[...bytes].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('')}`;
  }
}

function logSumExp(logits: Float64Array): number {
  let max = -Infinity;
  for (const v of logits) if (v > max) max = v;
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (const v of logits) sum += Math.exp(v - max);
  return max + Math.log(sum);
}

/** Indices of the k largest values, largest first (ties: lower index first). */
function topIndices(values: Float64Array, k: number): number[] {
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
function sampleFromLogits(logits: Float64Array, temperature: number, topP: number, rand: () => number): number {
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

// ---------------------------------------------------------------------------------------------------------
// The inference engine: one model, one context with `parallel` sequences
// ---------------------------------------------------------------------------------------------------------

/** Log-prob record of one token. */
interface TokenLogprob {
  token: Token;
  /** null when the token has no context (first token of a model without BOS). */
  logprob: number | null;
  /** Most likely alternatives at this position: [token, logprob], best first; null without context. */
  top: Array<[Token, number]> | null;
}

interface SampleRequest {
  /** Prompt tokens, BOS included when the model uses one. */
  tokens: Token[];
  /** Number of leading tokens that are not part of the prompt text (BOS). */
  hiddenPrefix: number;
  maxTokens: number;
  temperature: number;
  topP: number;
  seed: number;
  stop: string[];
  /** Top alternatives to report per token; null: no logprobs at all. */
  logprobs: number | null;
  /** Score the prompt tokens (completions with echo + logprobs). */
  scorePrompt: boolean;
  isAborted: () => boolean;
}

interface SampleResult {
  /** Generated text (stop sequences removed). */
  text: string;
  /** Generated tokens with their text pieces (concatenation = text). */
  pieces: string[];
  tokens: Token[];
  logprobs: TokenLogprob[];
  /** Prompt token scores, aligned with the prompt tokens after the hidden prefix (when scorePrompt). */
  promptLogprobs: TokenLogprob[] | null;
  finishReason: 'stop' | 'length';
  /** Tokens sampled, including a final EOS. */
  completionTokens: number;
}

/** A FIFO pool of context sequences: a request waits until one is free. */
class SequencePool {
  private readonly waiters: Array<(seq: LlamaContextSequence) => void> = [];
  constructor(private readonly free: LlamaContextSequence[]) {}

  async use<T>(fn: (seq: LlamaContextSequence) => Promise<T>): Promise<T> {
    const seq = this.free.pop() ?? (await new Promise<LlamaContextSequence>((resolve) => this.waiters.push(resolve)));
    try {
      return await fn(seq);
    } finally {
      const next = this.waiters.shift();
      if (next) next(seq);
      else this.free.push(seq);
    }
  }
}

class Engine {
  readonly vocabSize: number;
  readonly bos: Token | null;
  private readonly tokenBytesCache = new Map<Token, Uint8Array>();
  private readonly vocabStrings: readonly string[] | undefined;
  private readonly gpt2CharToByte: Map<string, number>;

  private constructor(
    readonly llama: Llama,
    readonly model: LlamaModel,
    readonly context: LlamaContext,
    readonly pool: SequencePool,
  ) {
    const metadata = model.fileInfo.metadata as { tokenizer?: { ggml?: { tokens?: unknown } } };
    const tokens = metadata.tokenizer?.ggml?.tokens;
    this.vocabStrings = Array.isArray(tokens) ? (tokens as string[]) : undefined;
    this.vocabSize = this.vocabStrings?.length ?? 0; // 0: learnt from the first logits
    this.bos = model.tokens.shouldPrependBosToken ? model.tokens.bos : null;
    this.gpt2CharToByte = new Map(gpt2ByteToChar().map((ch, b) => [ch, b]));
  }

  static async create(options: Required<Pick<LocalModelServerOptions, 'modelPath' | 'contextSize' | 'parallel'>> & LocalModelServerOptions): Promise<Engine> {
    const { getLlama, LlamaLogLevel } = await loadNodeLlamaCpp();
    const llama = await getLlama({ gpu: options.gpu ?? false, build: 'never', logLevel: LlamaLogLevel.error });
    try {
      const model = await llama.loadModel({ modelPath: options.modelPath });
      const small = statSync(options.modelPath).size < 64 * 1024 * 1024;
      const threads = options.threads ?? (small ? 1 : undefined);
      const context = await model.createContext({
        contextSize: options.contextSize,
        sequences: options.parallel,
        ...(threads !== undefined ? { threads } : {}),
      });
      const sequences = Array.from({ length: options.parallel }, () => context.getSequence());
      return new Engine(llama, model, context, new SequencePool(sequences.reverse()));
    } catch (err) {
      await llama.dispose();
      throw err;
    }
  }

  get contextSize(): number {
    return this.context.contextSize;
  }

  async dispose(): Promise<void> {
    await this.context.dispose();
    await this.model.dispose();
    await this.llama.dispose();
  }

  tokenize(text: string): Token[] {
    return this.model.tokenize(text, false);
  }

  /** Prompt tokens with the model's BOS, and how many leading tokens are not prompt text. */
  promptTokens(text: string): { tokens: Token[]; hiddenPrefix: number } {
    const tokens = this.tokenize(text);
    return this.bos !== null ? { tokens: [this.bos, ...tokens], hiddenPrefix: 1 } : { tokens, hiddenPrefix: 0 };
  }

  /**
   * The bytes a token contributes to the text. Read from the vocabulary where possible (byte-level BPE and
   * SentencePiece byte tokens), since a JS string cannot carry a partial UTF-8 character.
   */
  tokenBytes(token: Token): Uint8Array {
    const cached = this.tokenBytesCache.get(token);
    if (cached) return cached;
    let bytes: Uint8Array | undefined;
    const attrs = this.model.getTokenAttributes(token);
    if (attrs.control || this.model.isEogToken(token)) {
      bytes = new Uint8Array(0);
    } else {
      const piece = this.vocabStrings?.[token];
      const type = this.model.vocabularyType;
      if (piece !== undefined && type === 'bpe') {
        const mapped = [...piece].map((ch) => this.gpt2CharToByte.get(ch));
        if (mapped.every((b) => b !== undefined)) bytes = Uint8Array.from(mapped as number[]);
      } else if (piece !== undefined && type === 'spm') {
        const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(piece);
        if (attrs.byte && m) bytes = Uint8Array.of(parseInt(m[1]!, 16));
        else if (!attrs.byte) bytes = Buffer.from(piece.replace(/\u2581/g, ' '), 'utf8');
      }
      bytes ??= Buffer.from(this.model.detokenize([token], false), 'utf8');
    }
    this.tokenBytesCache.set(token, bytes);
    return bytes;
  }

  /** Full-vocabulary raw logits as a dense array. */
  private denseLogits(map: Map<Token, number> | undefined): Float64Array {
    if (!map) throw new Error('llama.cpp returned no logits');
    let size = this.vocabSize;
    if (size === 0) for (const t of map.keys()) size = Math.max(size, t + 1);
    const out = new Float64Array(size).fill(-Infinity);
    for (const [t, v] of map) out[t] = v;
    return out;
  }

  /**
   * Evaluates the prompt into `seq`. With `score`, the whole prompt is evaluated afresh and every token after
   * the first gets its exact log-prob (and top-k alternatives); otherwise the longest cached prefix is reused.
   * Returns the full logits after the last prompt token when `wantNext`.
   */
  private async evaluatePrompt(
    seq: LlamaContextSequence,
    tokens: Token[],
    score: boolean,
    topK: number,
    wantNext: boolean,
  ): Promise<{ scores: TokenLogprob[] | null; next: Float64Array | null }> {
    if (!score && !wantNext) return { scores: null, next: null };
    let keep = 0;
    if (!score) keep = Math.min(seq.compareContextTokens(tokens).firstDifferentIndex, tokens.length - 1);
    if (seq.nextTokenIndex > keep) await seq.eraseContextTokenRanges([{ start: keep, end: seq.nextTokenIndex }]);
    const last = tokens.length - 1;
    const input: ControlledEvaluateInputItem[] = tokens.slice(keep).map((token, j): ControlledEvaluateInputItem => {
      const i = keep + j;
      if (i === last) return wantNext ? [token, { generateNext: { logits: true } }] : token;
      if (!score) return token;
      // The actual next token's logit, the top max(k, 1) logits (the first is the maximum) and
      // Σ exp(logit - max) over the full vocabulary.
      return [
        token,
        { generateNext: { logits: { filter: { tokens: [tokens[i + 1]!], includeTop: Math.max(1, topK) } }, totalLogitWeight: true } },
      ];
    });
    const results = await seq.controlledEvaluate(input);
    let scores: TokenLogprob[] | null = null;
    if (score) {
      scores = [{ token: tokens[0]!, logprob: null, top: null }];
      for (let i = 0; i < last; i++) {
        const next = results[i]?.next;
        if (!next?.logits || next.totalLogitWeight === undefined) throw new Error(`llama.cpp returned no logits for prompt token ${i}`);
        const entries = [...next.logits.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
        const lse = entries[0]![1] + Math.log(next.totalLogitWeight);
        const actual = next.logits.get(tokens[i + 1]!);
        if (actual === undefined) throw new Error(`llama.cpp returned no logit for prompt token ${i + 1}`);
        scores.push({
          token: tokens[i + 1]!,
          logprob: actual - lse,
          top: entries.slice(0, topK).map(([t, v]) => [t, v - lse]),
        });
      }
    }
    const next = wantNext ? this.denseLogits(results[last - keep]?.next.logits) : null;
    return { scores, next };
  }

  /** Evaluates one more token and returns the full logits after it. */
  private async step(seq: LlamaContextSequence, token: Token): Promise<Float64Array> {
    const [result] = await seq.controlledEvaluate([[token, { generateNext: { logits: true } }]]);
    return this.denseLogits(result?.next.logits);
  }

  /** Runs one sample (prompt evaluation, then generation) on a free sequence. */
  async sample(req: SampleRequest): Promise<SampleResult> {
    return this.pool.use(async (seq) => {
      const wantGeneration = req.maxTokens > 0;
      const { scores, next } = await this.evaluatePrompt(seq, req.tokens, req.scorePrompt, req.logprobs ?? 0, wantGeneration);
      const result: SampleResult = {
        text: '',
        pieces: [],
        tokens: [],
        logprobs: [],
        promptLogprobs: scores ? scores.slice(req.hiddenPrefix) : null,
        finishReason: 'length',
        completionTokens: 0,
      };
      if (!wantGeneration || !next) return result;

      const rand = mulberry32(seedHash(req.seed));
      const assembler = new Utf8Assembler();
      const maxStop = Math.max(0, ...req.stop.map((s) => s.length));
      let logits = next;
      for (;;) {
        if (req.isAborted()) break;
        const token = sampleFromLogits(logits, req.temperature, req.topP, rand) as Token;
        result.completionTokens++;
        if (this.model.isEogToken(token)) {
          result.finishReason = 'stop';
          break;
        }
        if (req.logprobs !== null) {
          const lse = logSumExp(logits);
          result.logprobs.push({
            token,
            logprob: logits[token]! - lse,
            top: topIndices(logits, req.logprobs).map((t) => [t as Token, logits[t]! - lse]),
          });
        }
        const piece = assembler.push(this.tokenBytes(token));
        const searchFrom = Math.max(0, result.text.length - maxStop + 1);
        result.tokens.push(token);
        result.pieces.push(piece);
        result.text += piece;
        const stopAt = firstStop(result.text, req.stop, searchFrom);
        if (stopAt !== -1) {
          truncateResult(result, stopAt);
          result.finishReason = 'stop';
          return result;
        }
        if (result.completionTokens >= req.maxTokens || seq.nextTokenIndex + 1 >= seq.contextSize) {
          result.finishReason = 'length';
          break;
        }
        logits = await this.step(seq, token);
      }
      // Bytes of an unfinished character go to the last token, as U+FFFD.
      const rest = assembler.flush();
      if (rest !== '' && result.pieces.length > 0) {
        result.pieces[result.pieces.length - 1] += rest;
        result.text += rest;
      }
      return result;
    });
  }
}

/** Earliest position of any stop string whose match ends at or after `from`. */
function firstStop(text: string, stops: readonly string[], from: number): number {
  let best = -1;
  for (const s of stops) {
    if (s === '') continue;
    const i = text.indexOf(s, Math.max(0, from - s.length + 1));
    if (i !== -1 && (best === -1 || i < best)) best = i;
  }
  return best;
}

/** Cuts the generated text at `end` characters, dropping the tokens (and log-probs) that start at or after it. */
function truncateResult(result: SampleResult, end: number): void {
  let offset = 0;
  let keep = 0;
  for (; keep < result.pieces.length; keep++) {
    if (offset >= end) break;
    const piece = result.pieces[keep]!;
    if (offset + piece.length > end) result.pieces[keep] = piece.slice(0, end - offset);
    offset += piece.length;
  }
  result.pieces.length = keep;
  result.tokens.length = keep;
  if (result.logprobs.length > keep) result.logprobs.length = keep;
  result.text = result.text.slice(0, end);
}

// ---------------------------------------------------------------------------------------------------------
// Request schemas
// ---------------------------------------------------------------------------------------------------------

const stopSchema = z.union([z.string(), z.array(z.string()).max(16)]).nullish();
const common = {
  model: z.string().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  n: z.number().int().min(1).max(64).nullish(),
  seed: z.number().int().nullish(),
  stop: stopSchema,
  stream: z.literal(false, { message: 'streaming is not supported' }).nullish(),
};

const CompletionRequestSchema = z
  .object({
    ...common,
    prompt: z.union([z.string(), z.array(z.string()).min(1)], { message: 'expected a string or a non-empty array of strings' }),
    max_tokens: z.number().int().min(0).nullish(),
    echo: z.boolean().nullish(),
    logprobs: z.number().int().min(0).max(20).nullish(),
  })
  .loose();

const ChatMessageSchema = z
  .object({
    role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
    content: z
      .union([z.string(), z.array(z.object({ type: z.literal('text'), text: z.string() }).loose()), z.null()])
      .optional(),
  })
  .loose();

const ChatRequestSchema = z
  .object({
    ...common,
    messages: z.array(ChatMessageSchema).min(1),
    max_tokens: z.number().int().min(1).nullish(),
    max_completion_tokens: z.number().int().min(1).nullish(),
    logprobs: z.boolean().nullish(),
    top_logprobs: z.number().int().min(0).max(20).nullish(),
  })
  .loose();

type ChatMessage = z.output<typeof ChatMessageSchema>;

const CHAT_ROLES = ['system', 'developer', 'user', 'assistant', 'tool'] as const;
const CHAT_STOPS = CHAT_ROLES.map((r) => `<|${r}|>`);

/** The fixed chat template (see the header comment). */
export function renderChatPrompt(messages: ReadonlyArray<{ role: string; content?: string | null | ReadonlyArray<{ text: string }> }>): string {
  let out = '';
  for (const m of messages) {
    const content = typeof m.content === 'string' ? m.content : (m.content ?? []).map((p) => p.text).join('');
    out += `<|${m.role}|>\n${content}\n`;
  }
  return `${out}<|assistant|>\n`;
}

function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = formatPath(issue.path.map((k) => (typeof k === 'number' ? k : String(k))));
  throw new HttpError(400, `Invalid value for '${field}': ${issue.message}`, field);
}

function stopList(stop: string | string[] | null | undefined): string[] {
  if (stop === null || stop === undefined) return [];
  return (typeof stop === 'string' ? [stop] : stop).filter((s) => s !== '');
}

// ---------------------------------------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------------------------------------

const MAX_BODY_BYTES = 64 * 1024 * 1024;

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `request body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw new HttpError(400, 'request body must be a JSON object');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, `request body is not valid JSON: ${(err as Error).message}`);
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'request body must be a JSON object');
  return body;
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(data) });
  res.end(data);
}

function sendError(res: http.ServerResponse, err: HttpError): void {
  sendJson(res, err.status, { error: { message: err.message, type: err.type, param: err.param, code: err.code } });
}

class Server {
  private readonly created = Math.floor(Date.now() / 1000);

  constructor(
    private readonly engine: Engine,
    private readonly modelName: string,
    private readonly log: (line: string) => void,
  ) {}

  handle = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    void this.route(req, res).catch((err: unknown) => {
      if (err instanceof HttpError) return sendError(res, err);
      this.log(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      sendError(res, new HttpError(500, `internal error: ${err instanceof Error ? err.message : String(err)}`));
    });
  };

  private async route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    const routes: Record<string, Record<string, () => Promise<unknown> | unknown>> = {
      '/health': { GET: () => ({ status: 'ok' }) },
      '/v1/models': { GET: () => ({ object: 'list', data: [this.modelCard()] }) },
      [`/v1/models/${this.modelName}`]: { GET: () => this.modelCard() },
      '/v1/completions': { POST: async () => this.completions(await readJson(req), res) },
      '/v1/chat/completions': { POST: async () => this.chatCompletions(await readJson(req), res) },
    };
    const route = routes[pathname];
    if (!route) throw new HttpError(404, `unknown route: ${method} ${pathname}`, null, 'not_found_error');
    const handler = route[method];
    if (!handler) throw new HttpError(405, `method ${method} not allowed on ${pathname}`, null, 'invalid_request_error');
    sendJson(res, 200, await handler());
  }

  private modelCard() {
    return {
      id: this.modelName,
      object: 'model',
      created: this.created,
      owned_by: 'local',
      max_model_len: this.engine.contextSize,
    };
  }

  private checkModel(model: string | null | undefined): void {
    if (model !== null && model !== undefined && model !== this.modelName) {
      throw new HttpError(404, `The model '${model}' does not exist (this server serves '${this.modelName}')`, 'model', 'invalid_request_error', 'model_not_found');
    }
  }

  /** Aborts generation when the client goes away. */
  private abortFlag(res: http.ServerResponse): () => boolean {
    let aborted = false;
    res.on('close', () => {
      if (!res.writableFinished) aborted = true;
    });
    return () => aborted;
  }

  /** A prompt must fit in the context, with room for one more token when something is generated. */
  private checkPromptLength(tokens: Token[], param: string, generates: boolean): void {
    if (tokens.length + (generates ? 1 : 0) > this.engine.contextSize) {
      throw new HttpError(400, `${param} is too long: ${tokens.length} tokens, the context holds ${this.engine.contextSize}`, param);
    }
  }

  private async completions(body: unknown, res: http.ServerResponse): Promise<unknown> {
    const r = parseBody(CompletionRequestSchema, body);
    this.checkModel(r.model);
    const prompts = typeof r.prompt === 'string' ? [r.prompt] : r.prompt;
    const n = r.n ?? 1;
    const maxTokens = r.max_tokens ?? 16;
    const echo = r.echo ?? false;
    const logprobs = r.logprobs ?? null;
    const baseSeed = r.seed ?? randomInt(0, 2 ** 31);
    const isAborted = this.abortFlag(res);
    const encoded = prompts.map((p, i) => {
      const e = this.engine.promptTokens(p);
      if (e.tokens.length === 0) throw new HttpError(400, 'prompt must not be empty for a model without a BOS token', prompts.length > 1 ? `prompt[${i}]` : 'prompt');
      this.checkPromptLength(e.tokens, prompts.length > 1 ? `prompt[${i}]` : 'prompt', maxTokens > 0);
      return e;
    });
    const jobs = encoded.flatMap((e) =>
      Array.from({ length: n }, (_, j) =>
        this.engine.sample({
          ...e,
          maxTokens,
          temperature: r.temperature ?? 1,
          topP: r.top_p ?? 1,
          seed: baseSeed + j,
          stop: stopList(r.stop),
          logprobs,
          scorePrompt: echo && logprobs !== null,
          isAborted,
        }),
      ),
    );
    const results = await Promise.all(jobs);
    const choices = results.map((s, index) => {
      const prompt = encoded[Math.floor(index / n)]!;
      const promptPieces = echo ? this.promptPieces(prompt.tokens.slice(prompt.hiddenPrefix)) : [];
      const text = promptPieces.join('') + s.text;
      let lp: unknown = null;
      if (logprobs !== null) {
        const records: TokenLogprob[] = [...(echo ? (s.promptLogprobs ?? []) : []), ...s.logprobs];
        const pieces = [...promptPieces, ...s.pieces];
        const offsets: number[] = [];
        let offset = 0;
        for (const p of pieces) {
          offsets.push(offset);
          offset += p.length;
        }
        lp = {
          tokens: pieces,
          token_logprobs: records.map((t) => t.logprob),
          top_logprobs: records.map((t) => (t.top === null ? null : this.topDict(t.top, t.token, t.logprob))),
          text_offset: offsets,
        };
      }
      return { index, text, logprobs: lp, finish_reason: s.finishReason };
    });
    const promptTokens = encoded.reduce((a, e) => a + e.tokens.length, 0);
    const completionTokens = results.reduce((a, s) => a + s.completionTokens, 0);
    return {
      id: `cmpl-${randomBytes(12).toString('hex')}`,
      object: 'text_completion',
      created: Math.floor(Date.now() / 1000),
      model: this.modelName,
      choices,
      usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
    };
  }

  /** Texts of prompt tokens (streaming UTF-8 decode), without the prefix space a SentencePiece tokenizer adds. */
  private promptPieces(tokens: Token[]): string[] {
    const assembler = new Utf8Assembler();
    const pieces = tokens.map((t) => assembler.push(this.engine.tokenBytes(t)));
    const rest = assembler.flush();
    if (rest !== '' && pieces.length > 0) pieces[pieces.length - 1] += rest;
    if (this.engine.model.vocabularyType === 'spm' && pieces.length > 0 && pieces[0]!.startsWith(' ')) {
      // llama.cpp SPM tokenizers add a leading space to the text; it is not part of the prompt.
      pieces[0] = pieces[0]!.slice(1);
    }
    return pieces;
  }

  /** OpenAI legacy `top_logprobs` entry: up to k alternatives plus the actual token. */
  private topDict(top: Array<[Token, number]>, token: Token, logprob: number | null): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [t, v] of top) {
      const key = displayToken(this.engine.tokenBytes(t));
      if (!(key in out)) out[key] = v;
    }
    const key = displayToken(this.engine.tokenBytes(token));
    if (logprob !== null && !(key in out)) out[key] = logprob;
    return out;
  }

  private async chatCompletions(body: unknown, res: http.ServerResponse): Promise<unknown> {
    const r = parseBody(ChatRequestSchema, body);
    this.checkModel(r.model);
    const prompt = renderChatPrompt(r.messages.map((m: ChatMessage) => ({ role: m.role, content: m.content })));
    const encoded = this.engine.promptTokens(prompt);
    this.checkPromptLength(encoded.tokens, 'messages', true);
    const n = r.n ?? 1;
    const remaining = this.engine.contextSize - encoded.tokens.length;
    const maxTokens = Math.min(r.max_completion_tokens ?? r.max_tokens ?? remaining, remaining);
    const baseSeed = r.seed ?? randomInt(0, 2 ** 31);
    const wantLogprobs = r.logprobs === true;
    const isAborted = this.abortFlag(res);
    const results = await Promise.all(
      Array.from({ length: n }, (_, j) =>
        this.engine.sample({
          ...encoded,
          maxTokens,
          temperature: r.temperature ?? 1,
          topP: r.top_p ?? 1,
          seed: baseSeed + j,
          stop: [...stopList(r.stop), ...CHAT_STOPS],
          logprobs: wantLogprobs ? (r.top_logprobs ?? 0) : null,
          scorePrompt: false,
          isAborted,
        }),
      ),
    );
    const tokenInfo = (t: Token, logprob: number) => {
      const bytes = this.engine.tokenBytes(t);
      return { token: displayToken(bytes), logprob, bytes: [...bytes] };
    };
    const completionTokens = results.reduce((a, s) => a + s.completionTokens, 0);
    return {
      id: `chatcmpl-${randomBytes(12).toString('hex')}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: this.modelName,
      choices: results.map((s, index) => ({
        index,
        message: { role: 'assistant', content: s.text },
        logprobs: wantLogprobs
          ? {
              content: s.logprobs.map((t) => ({
                ...tokenInfo(t.token, t.logprob ?? 0),
                top_logprobs: (t.top ?? []).map(([alt, v]) => tokenInfo(alt, v)),
              })),
            }
          : null,
        finish_reason: s.finishReason,
      })),
      usage: {
        prompt_tokens: encoded.tokens.length,
        completion_tokens: completionTokens,
        total_tokens: encoded.tokens.length + completionTokens,
      },
    };
  }
}

/** Loads the model and starts listening; resolves once requests can be served. */
export async function startLocalModelServer(options: LocalModelServerOptions): Promise<LocalModelServer> {
  const modelPath = path.resolve(options.modelPath);
  if (!existsSync(modelPath)) throw new Error(`model file not found: ${modelPath}`);
  const host = options.host ?? '127.0.0.1';
  const contextSize = options.contextSize ?? 4096;
  const parallel = options.parallel ?? 4;
  if (!Number.isInteger(contextSize) || contextSize < 16) throw new Error(`contextSize must be an integer >= 16, got ${contextSize}`);
  if (!Number.isInteger(parallel) || parallel < 1) throw new Error(`parallel must be a positive integer, got ${parallel}`);
  const modelName = options.modelName ?? path.basename(modelPath).replace(/\.gguf$/i, '');
  const log = options.log ?? (() => {});
  const engine = await Engine.create({ ...options, modelPath, contextSize, parallel });
  const app = new Server(engine, modelName, log);
  const server = http.createServer(app.handle);
  server.keepAliveTimeout = 30_000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 8765, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await engine.dispose();
    throw err;
  }
  server.on('error', (err) => log(`server error: ${err.message}`));
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}/v1`,
    port,
    host,
    modelName,
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await engine.dispose();
      })();
      return closing;
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// CLI
// ---------------------------------------------------------------------------------------------------------

function intFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name}: expected a non-negative integer, got "${value}"`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      name: { type: 'string' },
      'context-size': { type: 'string' },
      parallel: { type: 'string' },
      threads: { type: 'string' },
      gpu: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(`usage: tsx scripts/local-model-server.ts [--model FILE.gguf] [--host H] [--port P] [--name ID]
                                      [--context-size N] [--parallel N] [--threads N] [--gpu auto|cuda|vulkan]
Defaults come from localModel in temporal.yaml (PROMPTCOT_CONFIG); --port 0 picks a free port.
Prints "listening on <url>" once ready.`);
    return;
  }
  // temporal.yaml supplies the flags left out (it is not read when all are given); without a configuration file
  // the schema defaults apply.
  const configFile = defaultConfigPath();
  const needConfig = [values.model, values.host, values.port, values['context-size'], values.parallel].some((v) => v === undefined);
  const local = needConfig && existsSync(configFile) ? loadConfig(configFile).localModel : LocalModelConfigSchema.parse({});
  const modelPath = path.resolve(values.model ?? local.modelPath);
  if (!existsSync(modelPath) && path.basename(modelPath) === path.basename(DEFAULT_TINY_MODEL_PATH)) {
    // The generated tiny model is rebuilt on demand, so `npm run model:serve` works on a fresh checkout.
    const made = generateTinyModel({ outPath: modelPath });
    console.error(`generated ${made.path} (${made.bytes} bytes)`);
  }
  const gpu = values.gpu;
  if (gpu !== undefined && gpu !== 'auto' && gpu !== 'cuda' && gpu !== 'vulkan') throw new Error(`--gpu: expected auto, cuda or vulkan, got "${gpu}"`);
  const started = Date.now();
  const server = await startLocalModelServer({
    modelPath,
    host: values.host ?? local.host,
    port: intFlag('port', values.port) ?? local.port,
    modelName: values.name,
    contextSize: intFlag('context-size', values['context-size']) ?? local.contextSize,
    parallel: intFlag('parallel', values.parallel) ?? local.parallel,
    threads: intFlag('threads', values.threads),
    gpu: gpu ?? false,
    log: (line) => console.error(line),
  });
  console.log(`listening on ${server.url} (model '${server.modelName}' from ${modelPath}, ready in ${Date.now() - started} ms)`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`${signal}: shutting down`);
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
