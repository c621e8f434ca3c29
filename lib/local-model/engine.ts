// The local model server's inference engine: one node-llama-cpp model, one context with `parallel` sequences,
// teacher-forced scoring (exact full-vocabulary log-probs) and seeded generation (see http.ts for the API).
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
import { logSumExp, sampleFromLogits, seedHash, topIndices, Utf8Assembler } from './sampling';

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
  ) {
    const metadata = model.fileInfo.metadata as { tokenizer?: { ggml?: { tokens?: unknown } } };
    const tokens = metadata.tokenizer?.ggml?.tokens;
    this.vocabStrings = Array.isArray(tokens) ? (tokens as string[]) : undefined;
    this.vocabSize = this.vocabStrings?.length ?? 0; // 0: learnt from the first logits
    this.bos = model.tokens.shouldPrependBosToken ? model.tokens.bos : null;
    this.gpt2CharToByte = new Map(gpt2ByteToChar().map((ch, b) => [ch, b]));
  }

  static async create(options: EngineOptions): Promise<Engine> {
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
        {
          generateNext: {
            logits: { filter: { tokens: [tokens[i + 1]!], includeTop: Math.max(1, topK) } },
            totalLogitWeight: true,
          },
        },
      ];
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

  /** Runs one sample (prompt evaluation, then generation) on a free sequence. */
  async sample(req: SampleRequest): Promise<SampleResult> {
    return this.pool.use(async (seq) => {
      const wantGeneration = req.maxTokens > 0;
      const { scores, next } = await this.evaluatePrompt(
        seq,
        req.tokens,
        req.scorePrompt,
        req.logprobs ?? 0,
        wantGeneration,
      );
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
