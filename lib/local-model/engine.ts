// The local model server's inference engine: one node-llama-cpp model, one context with `parallel` sequences,
// teacher-forced scoring (exact full-vocabulary log-probs) and seeded generation (see http.ts for the API).
//
// Generation has two paths. Without log-probs, llama.cpp samples natively (`LlamaContextSequence.evaluate` with a
// temperature / top_p / seed sampler): only token ids cross into JavaScript, at node-llama-cpp's own speed. With
// log-probs, the full logits of every position come to JavaScript, which samples from them (sampling.ts) and
// reports exact log-probs; this costs a vocabulary-sized copy per token. Both are deterministic per seed, also
// while other sequences are busy (each sequence has its own KV cache and sampler; a token's logits do not depend on
// what else is in the batch), but they draw from different random streams: asking for log-probs changes which
// sample a seed gives.
import { statSync } from 'node:fs';
import type {
  ControlledEvaluateInputItem,
  Llama,
  LlamaContext,
  LlamaContextSequence,
  LlamaModel,
  Token,
} from 'node-llama-cpp';
import { gpt2ByteToChar } from '../tiny-model';
import { mulberry32 } from '../../domain/core/random';
import { ChatTemplate, type ChatTemplateChoice } from './chat-template';
import { logSumExp, nativeSeed, sampleFromLogits, seedHash, topIndices, Utf8Assembler } from './sampling';

// ---------------------------------------------------------------------------------------------------------
// node-llama-cpp loading (ESM-only package from CommonJS)
// ---------------------------------------------------------------------------------------------------------

export type NodeLlamaCpp = typeof import('node-llama-cpp');

/** A real dynamic import that neither TypeScript nor a bundler rewrites into require(). */
const importEsm = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;

let nodeLlamaCpp: Promise<NodeLlamaCpp> | undefined;
export function loadNodeLlamaCpp(): Promise<NodeLlamaCpp> {
  nodeLlamaCpp ??= importEsm('node-llama-cpp') as Promise<NodeLlamaCpp>;
  return nodeLlamaCpp;
}

// ---------------------------------------------------------------------------------------------------------
// The inference engine: one model, one context with `parallel` sequences
// ---------------------------------------------------------------------------------------------------------

/** Log-prob record of one token. */
export interface TokenLogprob {
  token: Token;
  /** null when the token has no context (first token of a model without BOS). */
  logprob: number | null;
  /** Most likely alternatives at this position: [token, logprob], best first; null without context. */
  top: Array<[Token, number]> | null;
}

export interface SampleRequest {
  /** Prompt tokens, BOS included when the model uses one. */
  tokens: Token[];
  /** Number of leading tokens that are not part of the prompt text (BOS). */
  hiddenPrefix: number;
  maxTokens: number;
  temperature: number;
  topP: number;
  seed: number;
  stop: string[];
  /** Tokens that end generation like EOS and are not returned (a chat template's end-of-turn markers). */
  stopTokens?: readonly Token[];
  /** Keep generating after an end-of-generation token (it counts as a token and adds no text), as vLLM's ignore_eos. */
  ignoreEos?: boolean;
  /** Top alternatives to report per token; null: no logprobs at all. */
  logprobs: number | null;
  /** Score the prompt tokens (completions with echo + logprobs). */
  scorePrompt: boolean;
  isAborted: () => boolean;
}

export interface SampleResult {
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
export class SequencePool {
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

/** What the engine needs of the server options (http.ts). */
export interface EngineOptions {
  modelPath: string;
  contextSize: number;
  parallel: number;
  threads?: number;
  gpu?: false | 'auto' | 'cuda' | 'vulkan';
  chatTemplate?: ChatTemplateChoice;
  log?: (line: string) => void;
}

/**
 * CPU threads when none are given. llama.cpp's threads spin while they wait for each other, so a thread without a
 * core of its own stalls them all: node-llama-cpp's default (4 threads on a 2-core machine) ran SmolLM2 at
 * 0.3 tokens/s instead of ~100. One thread less than the math cores, leaving a core to the workers and the Temporal
 * server that share the machine; one thread for a model under 64 MiB, where more threads only add synchronisation.
 */
export function defaultThreads(modelPath: string, cpuMathCores: number): number {
  if (statSync(modelPath).size < 64 * 1024 * 1024) return 1;
  return Math.max(1, cpuMathCores - 1);
}

export class Engine {
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
    readonly chatTemplate: ChatTemplate,
  ) {
    const metadata = model.fileInfo.metadata as { tokenizer?: { ggml?: { tokens?: unknown } } };
    const tokens = metadata.tokenizer?.ggml?.tokens;
    this.vocabStrings = Array.isArray(tokens) ? (tokens as string[]) : undefined;
    this.vocabSize = this.vocabStrings?.length ?? 0; // 0: learnt from the first logits
    this.bos = model.tokens.shouldPrependBosToken ? model.tokens.bos : null;
    this.gpt2CharToByte = new Map(gpt2ByteToChar().map((ch, b) => [ch, b]));
  }

  static async create(options: EngineOptions): Promise<Engine> {
    const llamaCpp = await loadNodeLlamaCpp();
    const { getLlama, LlamaLogLevel } = llamaCpp;
    const llama = await getLlama({ gpu: options.gpu ?? false, build: 'never', logLevel: LlamaLogLevel.error });
    try {
      const model = await llama.loadModel({ modelPath: options.modelPath });
      const threads = options.threads ?? defaultThreads(options.modelPath, llama.cpuMathCores);
      const context = await model.createContext({
        contextSize: options.contextSize,
        sequences: options.parallel,
        threads,
      });
      const sequences = Array.from({ length: options.parallel }, () => context.getSequence());
      const chatTemplate = ChatTemplate.for(llamaCpp, model, options.chatTemplate ?? 'auto', options.log ?? (() => {}));
      return new Engine(llama, model, context, new SequencePool(sequences.reverse()), chatTemplate);
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
      // The actual next token's logit, the maximum logit and Σ exp(logit - max) over the full vocabulary. The
      // maximum is the greedy sampler's selection (a linear scan); `includeTop` sorts the whole vocabulary in
      // llama.cpp, so it is asked for only when more than one alternative is wanted. (`includeMax` would be the
      // obvious filter, but node-llama-cpp 3.22.1 adds the maximum only when it is already in the list.)
      const filter =
        topK > 1 ? { tokens: [tokens[i + 1]!], includeTop: topK } : { tokens: [tokens[i + 1]!], includeSelected: true };
      return [token, { generateNext: { logits: { filter }, totalLogitWeight: true } }];
    });
    const results = await seq.controlledEvaluate(input);
    let scores: TokenLogprob[] | null = null;
    if (score) {
      scores = [{ token: tokens[0]!, logprob: null, top: null }];
      for (let i = 0; i < last; i++) {
        const next = results[i]?.next;
        if (!next?.logits || next.totalLogitWeight === undefined)
          throw new Error(`llama.cpp returned no logits for prompt token ${i}`);
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

  /**
   * Native generation: llama.cpp samples each token (one seeded sampler for the whole sample) and only the token id
   * crosses into JavaScript. The longest cached prefix of the prompt is reused.
   */
  private async *nativeDraws(seq: LlamaContextSequence, req: SampleRequest): AsyncGenerator<Draw> {
    const keep = Math.min(seq.compareContextTokens(req.tokens).firstDifferentIndex, req.tokens.length - 1);
    if (seq.nextTokenIndex > keep) await seq.eraseContextTokenRanges([{ start: keep, end: seq.nextTokenIndex }]);
    const tokens = seq.evaluate(req.tokens.slice(keep), {
      temperature: req.temperature,
      topP: req.topP,
      topK: 0,
      minP: 0,
      seed: nativeSeed(req.seed),
      yieldEogToken: true,
    });
    for await (const token of tokens) yield { token, logprob: null };
  }

  /**
   * Generation with log-probs: the full logits of every position come to JavaScript, which samples from them with a
   * seeded PRNG (sampling.ts) and reports each token's exact log-prob and top alternatives. Slower than the native
   * path by the cost of shipping the vocabulary per token, and a different random stream for the same seed.
   */
  private async *logitDraws(seq: LlamaContextSequence, req: SampleRequest, first: Float64Array): AsyncGenerator<Draw> {
    const rand = mulberry32(seedHash(req.seed));
    let logits = first;
    for (;;) {
      const token = sampleFromLogits(logits, req.temperature, req.topP, rand) as Token;
      let logprob: TokenLogprob | null = null;
      if (req.logprobs !== null) {
        const lse = logSumExp(logits);
        logprob = {
          token,
          logprob: logits[token]! - lse,
          top: topIndices(logits, req.logprobs).map((t) => [t as Token, logits[t]! - lse]),
        };
      }
      yield { token, logprob };
      logits = await this.step(seq, token);
    }
  }

  /** Runs one sample (prompt evaluation, then generation) on a free sequence. */
  async sample(req: SampleRequest): Promise<SampleResult> {
    return this.pool.use(async (seq) => {
      const result: SampleResult = {
        text: '',
        pieces: [],
        tokens: [],
        logprobs: [],
        promptLogprobs: null,
        finishReason: 'length',
        completionTokens: 0,
      };
      const wantGeneration = req.maxTokens > 0;
      if (req.logprobs === null && !req.scorePrompt) {
        if (wantGeneration) await this.collect(seq, req, this.nativeDraws(seq, req), result);
        return result;
      }
      const { scores, next } = await this.evaluatePrompt(
        seq,
        req.tokens,
        req.scorePrompt,
        req.logprobs ?? 0,
        wantGeneration,
      );
      result.promptLogprobs = scores ? scores.slice(req.hiddenPrefix) : null;
      if (wantGeneration && next) await this.collect(seq, req, this.logitDraws(seq, req, next), result);
      return result;
    });
  }

  /**
   * Turns drawn tokens into the result: text pieces (streaming UTF-8), stop strings and stop tokens, EOS,
   * max_tokens and the end of the context. Leaving the loop ends the draw generator (and its native sampler).
   */
  private async collect(
    seq: LlamaContextSequence,
    req: SampleRequest,
    draws: AsyncIterable<Draw>,
    result: SampleResult,
  ): Promise<void> {
    const assembler = new Utf8Assembler();
    const maxStop = Math.max(0, ...req.stop.map((s) => s.length));
    const stopTokens = new Set(req.stopTokens ?? []);
    for await (const { token, logprob } of draws) {
      if (req.isAborted()) break;
      result.completionTokens++;
      if (stopTokens.has(token) || (!req.ignoreEos && this.model.isEogToken(token))) {
        result.finishReason = 'stop';
        break;
      }
      if (logprob) result.logprobs.push(logprob);
      const piece = assembler.push(this.tokenBytes(token));
      const searchFrom = Math.max(0, result.text.length - maxStop + 1);
      result.tokens.push(token);
      result.pieces.push(piece);
      result.text += piece;
      const stopAt = firstStop(result.text, req.stop, searchFrom);
      if (stopAt !== -1) {
        truncateResult(result, stopAt);
        result.finishReason = 'stop';
        return;
      }
      if (result.completionTokens >= req.maxTokens || seq.nextTokenIndex + 1 >= seq.contextSize) {
        result.finishReason = 'length';
        break;
      }
    }
    // Bytes of an unfinished character go to the last token, as U+FFFD.
    const rest = assembler.flush();
    if (rest !== '' && result.pieces.length > 0) {
      result.pieces[result.pieces.length - 1] += rest;
      result.text += rest;
    }
  }
}

/** One generated token and, on the log-prob path, its log-prob record. */
interface Draw {
  token: Token;
  logprob: TokenLogprob | null;
}

/** Earliest position of any stop string whose match ends at or after `from`. */
export function firstStop(text: string, stops: readonly string[], from: number): number {
  let best = -1;
  for (const s of stops) {
    if (s === '') continue;
    const i = text.indexOf(s, Math.max(0, from - s.length + 1));
    if (i !== -1 && (best === -1 || i < best)) best = i;
  }
  return best;
}

/** Cuts the generated text at `end` characters, dropping the tokens (and log-probs) that start at or after it. */
export function truncateResult(result: SampleResult, end: number): void {
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
