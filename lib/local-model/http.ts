// An OpenAI-compatible HTTP server (node:http) on node-llama-cpp, serving any GGUF file on the CPU (or a GPU).
//
//   npm run model:serve   (scripts/local-model-server.ts) [-- --model models/tiny-bigram.gguf --port 8765 --name tiny-bigram]
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
// full vocabulary without shipping the vocabulary to JavaScript. Generation without log-probs is sampled natively by
// llama.cpp (at node-llama-cpp's own speed); generation with log-probs samples in JavaScript from the full logits
// (slower: a vocabulary-sized copy per token) so that each token's log-prob is exact (engine.ts). Either way the same
// request with the same seed gives the same output, also while other requests run; sample j of n uses seed + j;
// temperature 0 is greedy. top_p is applied as llama.cpp orders it, to the distribution before temperature.
// `ignore_eos: true` (vLLM's extra parameter) keeps generating after an end-of-generation token.
//
// Token texts: every token is given the characters that become complete once its bytes are appended (a streaming
// UTF-8 decode). Concatenating `tokens` gives the returned text exactly and `text_offset` is the character offset
// where each token's text starts; a token holding the first bytes of a multi-byte character has the empty text and
// the character goes to the token holding its last byte. Invalid UTF-8 decodes to U+FFFD. `top_logprobs` keys use
// the token's own text, or `bytes:\xNN…` for tokens that are not valid UTF-8 by themselves (OpenAI's convention).
//
// Chat template (chat-template.ts): the GGUF file's own template when it has one (SmolLM2's ChatML, say), otherwise
// a fixed one (`<|{role}|>\n{content}\n` per message, then `<|assistant|>\n`); `chatTemplate: 'fixed'` forces the
// fixed one. Content may be a string or an array of `{type: 'text', text}` parts (joined without separator).
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import type { Token } from 'node-llama-cpp';
import { formatPath } from '../../domain/core/validation';
import { CHAT_ROLES, type ChatTemplateChoice } from './chat-template';
import { Engine, type TokenLogprob } from './engine';
import { displayToken, Utf8Assembler } from './sampling';

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
  /**
   * CPU threads; default 1 for models under 64 MiB (faster for tiny models), otherwise one less than the math cores
   * (at least 1). Never more threads than free cores: llama.cpp's threads spin-wait, and a descheduled one stalls all.
   */
  threads?: number;
  /** Compute backend; default false (the prebuilt CPU binary, never compiles llama.cpp). */
  gpu?: false | 'auto' | 'cuda' | 'vulkan';
  /** Chat template: the GGUF's own when it has one (`auto`, the default) or always the fixed one (`fixed`). */
  chatTemplate?: ChatTemplateChoice;
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
  ignore_eos: z.boolean().nullish(),
};

const CompletionRequestSchema = z
  .object({
    ...common,
    prompt: z.union([z.string(), z.array(z.string()).min(1)], {
      message: 'expected a string or a non-empty array of strings',
    }),
    max_tokens: z.number().int().min(0).nullish(),
    echo: z.boolean().nullish(),
    logprobs: z.number().int().min(0).max(20).nullish(),
  })
  .loose();

const ChatMessageSchema = z
  .object({
    role: z.enum(CHAT_ROLES),
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

export { renderChatPrompt } from './chat-template';

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
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new HttpError(400, 'request body must be a JSON object');
  return body;
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const data = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(data),
  });
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
    if (!handler)
      throw new HttpError(405, `method ${method} not allowed on ${pathname}`, null, 'invalid_request_error');
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
      throw new HttpError(
        404,
        `The model '${model}' does not exist (this server serves '${this.modelName}')`,
        'model',
        'invalid_request_error',
        'model_not_found',
      );
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
      throw new HttpError(
        400,
        `${param} is too long: ${tokens.length} tokens, the context holds ${this.engine.contextSize}`,
        param,
      );
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
      if (e.tokens.length === 0)
        throw new HttpError(
          400,
          'prompt must not be empty for a model without a BOS token',
          prompts.length > 1 ? `prompt[${i}]` : 'prompt',
        );
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
          ignoreEos: r.ignore_eos ?? false,
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
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
        total_tokens: promptTokens + completionTokens,
      },
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
    const chat = this.engine.chatTemplate.render(
      r.messages.map((m: ChatMessage) => ({ role: m.role, content: m.content })),
    );
    const encoded = { tokens: chat.tokens, hiddenPrefix: 0 };
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
          stop: [...stopList(r.stop), ...chat.stop],
          stopTokens: chat.stopTokens,
          ignoreEos: r.ignore_eos ?? false,
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
  if (!Number.isInteger(contextSize) || contextSize < 16)
    throw new Error(`contextSize must be an integer >= 16, got ${contextSize}`);
  if (!Number.isInteger(parallel) || parallel < 1)
    throw new Error(`parallel must be a positive integer, got ${parallel}`);
  const modelName = options.modelName ?? path.basename(modelPath).replace(/\.gguf$/i, '');
  const log = options.log ?? (() => {});
  const engine = await Engine.create({ ...options, modelPath, contextSize, parallel, log });
  log(`model ${modelName}: ${engine.chatTemplate.kind} chat template, context ${engine.contextSize} x ${parallel}`);
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
