// A scripted, fault-injecting fake OpenAI-compatible server (node:http) for deterministic tests and benchmarks.
//
//   POST /v1/chat/completions  n choices; text from `respond(body)` (default: an echo of the last user message,
//                              the seed and the choice index), or a scripted choice with `reasoning_content` and
//                              its own finish reason; usage ≈ chars/4 (the reasoning apart, as
//                              completion_tokens_details.reasoning_tokens, when a choice has some).
//   POST /v1/completions       generation like chat (a scripted choice's content and finish reason); with
//                              `echo: true` the prompt comes back as tokens of one character (code point) each, token_logprobs[i] = -(charCode % 7) - 0.5 (null for the
//                              first), text_offset in UTF-16 units; `max_tokens: 0` generates nothing.
//   GET  /v1/models            the configured model ids.
//
// Faults (a queue consumed one per request, or a function of the request index and body):
//   {type:'status', status, retryAfterSec?, message?}  an OpenAI-style error answer (429/500/503, or 400 etc.)
//   {type:'slow', delayMs}                            answers normally after delayMs (on top of latencyMs)
//   {type:'drop'}                                     destroys the socket without answering
//   {type:'malformed'}                                200 with a body that is not JSON
//   {type:'truncated'}                                200, Content-Length larger than what is sent, then the socket ends
//
// CLI: tsx scripts/fake-openai-server.ts --port 9000 --latency 50 [--host 127.0.0.1] [--model fake-model] [--quiet]
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault =
  | { type: 'status'; status: number; retryAfterSec?: number; message?: string }
  | { type: 'slow'; delayMs: number }
  | { type: 'drop' }
  | { type: 'malformed' }
  | { type: 'truncated' };

export type FaultSource = Fault[] | ((requestIndex: number, body: unknown) => Fault | undefined) | undefined;

export interface LoggedRequest {
  index: number;
  method: string;
  path: string;
  body: unknown;
  /** performance.now() when the body was received. */
  receivedAt: number;
  fault?: Fault['type'];
}

/** A scripted chat choice: the content, the thinking returned apart (`reasoning_content`), a finish reason. */
export interface FakeChoice {
  content: string;
  reasoning?: string;
  finishReason?: string;
}

export interface FakeOpenAIServerOptions {
  port?: number;
  host?: string;
  /** Fixed delay before answering (default 0). */
  latencyMs?: number;
  /** Completion text(s) for chat and completions: a string for every choice, or one per choice (cycled). */
  respond?: (body: Record<string, unknown>) => string | FakeChoice | Array<string | FakeChoice>;
  faults?: FaultSource;
  /** Keep a log of every request (default true; turn off for benchmarks). */
  logRequests?: boolean;
  /** Key for countsByKey (default: the last user message, or the prompt). */
  key?: (body: Record<string, unknown>) => string;
  /** Model ids listed by GET /v1/models (default ['fake-model']). */
  models?: string[];
}

export interface FakeOpenAIServer {
  /** http://127.0.0.1:PORT/v1 */
  url: string;
  port: number;
  /** Requests received so far. */
  readonly requests: number;
  readonly requestLog: LoggedRequest[];
  /** Requests being handled now, and the most at once so far. */
  readonly inFlight: number;
  readonly maxInFlight: number;
  countsByKey(): Map<string, number>;
  setFaults(faults: FaultSource): void;
  /** Clears the log, counts and in-flight maximum (not the faults). */
  reset(): void;
  close(): Promise<void>;
}

function lastUserMessage(body: Record<string, unknown>): string {
  const messages = body.messages;
  if (Array.isArray(messages)) {
    for (let i = messages.length - 1; i >= 0; i--) {
      const m = messages[i] as { role?: unknown; content?: unknown } | null;
      if (m && m.role === 'user') return typeof m.content === 'string' ? m.content : JSON.stringify(m.content);
    }
    return '';
  }
  const prompt = body.prompt;
  if (typeof prompt === 'string') return prompt;
  if (Array.isArray(prompt) && typeof prompt[0] === 'string') return prompt[0];
  return '';
}

function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** The deterministic log-prob the fake assigns to a character. */
export function fakeLogprob(char: string): number {
  return -(char.charCodeAt(0) % 7) - 0.5;
}

function promptChars(body: Record<string, unknown>): number {
  const messages = body.messages;
  if (!Array.isArray(messages)) return 0;
  let n = 0;
  for (const m of messages) {
    const content = (m as { content?: unknown } | null)?.content;
    if (typeof content === 'string') n += content.length;
  }
  return n;
}

function errorJson(status: number, message: string): string {
  const type = status === 429 ? 'rate_limit_error' : status >= 500 ? 'server_error' : 'invalid_request_error';
  return JSON.stringify({ error: { message, type, param: null, code: status } });
}

let idCounter = 0;

export async function startFakeOpenAIServer(options: FakeOpenAIServerOptions = {}): Promise<FakeOpenAIServer> {
  const latencyMs = options.latencyMs ?? 0;
  const logRequests = options.logRequests ?? true;
  const keyOf = options.key ?? lastUserMessage;
  const models = options.models ?? ['fake-model'];
  let faults: FaultSource = Array.isArray(options.faults) ? [...options.faults] : options.faults;
  let requests = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  let requestLog: LoggedRequest[] = [];
  let counts = new Map<string, number>();
  const timers = new Set<NodeJS.Timeout>();

  const texts = (
    body: Record<string, unknown>,
    n: number,
    fallback: (i: number) => string,
  ): Array<string | FakeChoice> => {
    const out: Array<string | FakeChoice> = [];
    if (options.respond) {
      const r = options.respond(body);
      const arr = Array.isArray(r) ? r : [r];
      for (let i = 0; i < n; i++) out.push(arr.length === 0 ? '' : arr[i % arr.length]!);
    } else {
      for (let i = 0; i < n; i++) out.push(fallback(i));
    }
    return out;
  };

  const limitText = (text: string, maxTokens: unknown): { text: string; finish: string } => {
    if (typeof maxTokens === 'number' && maxTokens >= 0 && estimateTokens(text) > maxTokens) {
      return { text: text.slice(0, maxTokens * 4), finish: 'length' };
    }
    return { text, finish: 'stop' };
  };

  const chatAnswer = (body: Record<string, unknown>): string => {
    const n = typeof body.n === 'number' && body.n > 0 ? Math.floor(body.n) : 1;
    const user = lastUserMessage(body);
    const seed = body.seed ?? 'none';
    const outs = texts(body, n, (i) => `echo(seed=${String(seed)}, i=${i}): ${user}`);
    let completionTokens = 0;
    let reasoningTokens: number | undefined;
    const choices = outs.map((out, index) => {
      const scripted = typeof out === 'string' ? { content: out } : out;
      const { text, finish } = limitText(scripted.content, body.max_tokens);
      completionTokens += estimateTokens(text) + estimateTokens(scripted.reasoning ?? '');
      if (scripted.reasoning !== undefined)
        reasoningTokens = (reasoningTokens ?? 0) + estimateTokens(scripted.reasoning);
      const message = {
        role: 'assistant',
        content: text,
        ...(scripted.reasoning !== undefined ? { reasoning_content: scripted.reasoning } : {}),
      };
      return { index, message, logprobs: null, finish_reason: scripted.finishReason ?? finish };
    });
    const promptTokens = Math.ceil(promptChars(body) / 4);
    return JSON.stringify({
      id: `chatcmpl-fake-${++idCounter}`,
      object: 'chat.completion',
      created: 0,
      model: typeof body.model === 'string' ? body.model : models[0],
      choices,
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
        total_tokens: promptTokens + completionTokens,
        // as OpenAI reports it for reasoning models: only when some choice reasoned apart
        ...(reasoningTokens !== undefined ? { completion_tokens_details: { reasoning_tokens: reasoningTokens } } : {}),
      },
    });
  };

  const completionAnswer = (body: Record<string, unknown>): string => {
    const n = typeof body.n === 'number' && body.n > 0 ? Math.floor(body.n) : 1;
    const prompt = lastUserMessage(body);
    const echo = body.echo === true;
    const wantLogprobs = typeof body.logprobs === 'number' && body.logprobs >= 0;
    const topK = wantLogprobs ? (body.logprobs as number) : 0;
    const promptTokens = Array.from(prompt);
    const seed = body.seed ?? 'none';
    const generated =
      body.max_tokens === 0
        ? new Array<string>(n).fill('')
        : texts(body, n, (i) => ` completion(seed=${String(seed)}, i=${i})`);
    let completionTokens = 0;
    const choices = generated.map((out, index) => {
      const raw = typeof out === 'string' ? out : out.content;
      const gen = body.max_tokens === 0 ? '' : limitText(raw, body.max_tokens).text;
      const genTokens = Array.from(gen);
      completionTokens += genTokens.length;
      const text = echo ? prompt + gen : gen;
      let logprobs: unknown = null;
      if (wantLogprobs) {
        const toks = echo ? promptTokens.concat(genTokens) : genTokens;
        const tokenLogprobs: Array<number | null> = new Array(toks.length);
        const offsets: number[] = new Array(toks.length);
        const top: Array<Record<string, number> | null> | undefined = topK > 0 ? new Array(toks.length) : undefined;
        let offset = 0;
        for (let i = 0; i < toks.length; i++) {
          const t = toks[i]!;
          const lp = echo && i === 0 ? null : fakeLogprob(t);
          tokenLogprobs[i] = lp;
          offsets[i] = offset;
          if (top) top[i] = lp === null ? null : { [t]: lp };
          offset += t.length;
        }
        logprobs = { tokens: toks, token_logprobs: tokenLogprobs, top_logprobs: top ?? null, text_offset: offsets };
      }
      const scripted = typeof out === 'string' ? undefined : out.finishReason;
      return { index, text, logprobs, finish_reason: body.max_tokens === 0 ? 'length' : (scripted ?? 'stop') };
    });
    return JSON.stringify({
      id: `cmpl-fake-${++idCounter}`,
      object: 'text_completion',
      created: 0,
      model: typeof body.model === 'string' ? body.model : models[0],
      choices,
      usage: {
        prompt_tokens: promptTokens.length,
        completion_tokens: completionTokens,
        total_tokens: promptTokens.length + completionTokens,
      },
    });
  };

  const nextFault = (index: number, body: unknown): Fault | undefined => {
    if (faults === undefined) return undefined;
    if (Array.isArray(faults)) return faults.shift();
    return faults(index, body);
  };

  const later = (ms: number, fn: () => void): void => {
    if (ms <= 0) {
      fn();
      return;
    }
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  const send = (
    res: http.ServerResponse,
    status: number,
    text: string,
    extraHeaders?: Record<string, string>,
  ): void => {
    if (res.destroyed) return;
    const headers: Record<string, string | number> = {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      ...extraHeaders,
    };
    res.writeHead(status, headers);
    res.end(text);
  };

  const handle = (req: http.IncomingMessage, res: http.ServerResponse, raw: string): void => {
    const index = requests++;
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const method = req.method ?? 'GET';
    let body: unknown = undefined;
    let bodyError: string | undefined;
    if (raw !== '') {
      try {
        body = JSON.parse(raw);
      } catch (err) {
        bodyError = `invalid JSON body: ${(err as Error).message}`;
      }
    }
    const record = (body !== null && typeof body === 'object' ? body : {}) as Record<string, unknown>;
    const key = keyOf(record);
    counts.set(key, (counts.get(key) ?? 0) + 1);
    const fault = nextFault(index, body);
    if (logRequests) requestLog.push({ index, method, path, body, receivedAt: performance.now(), fault: fault?.type });

    inFlight++;
    if (inFlight > maxInFlight) maxInFlight = inFlight;
    let done = false;
    const finish = () => {
      if (!done) {
        done = true;
        inFlight--;
      }
    };
    res.once('close', finish);

    const answer = (): void => {
      if (fault?.type === 'drop') {
        req.socket.destroy();
        finish();
        return;
      }
      if (fault?.type === 'status') {
        const headers: Record<string, string> = {};
        if (fault.retryAfterSec !== undefined) headers['retry-after'] = String(fault.retryAfterSec);
        send(
          res,
          fault.status,
          errorJson(fault.status, fault.message ?? `injected fault: HTTP ${fault.status}`),
          headers,
        );
        return;
      }
      if (fault?.type === 'malformed') {
        send(res, 200, '{"id": "cmpl-broken", "choices": [ this is not json');
        return;
      }
      if (bodyError !== undefined && method === 'POST') {
        send(res, 400, errorJson(400, bodyError));
        return;
      }
      let text: string;
      if (method === 'POST' && path === '/v1/chat/completions') text = chatAnswer(record);
      else if (method === 'POST' && path === '/v1/completions') text = completionAnswer(record);
      else if (method === 'GET' && path === '/v1/models') {
        text = JSON.stringify({
          object: 'list',
          data: models.map((id) => ({ id, object: 'model', created: 0, owned_by: 'fake' })),
        });
      } else {
        send(res, 404, errorJson(404, `no route ${method} ${path}`));
        return;
      }
      if (fault?.type === 'truncated') {
        const bytes = Buffer.from(text);
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': bytes.length + 64 });
        res.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => res.socket?.destroy());
        return;
      }
      send(res, 200, text);
    };
    later(latencyMs + (fault?.type === 'slow' ? fault.delayMs : 0), answer);
  };

  const server = http.createServer({ keepAliveTimeout: 60_000, noDelay: true }, (req, res) => {
    if (req.method === 'GET' || req.method === 'HEAD') {
      req.resume();
      handle(req, res, '');
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () =>
      handle(req, res, chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8')),
    );
  });
  server.headersTimeout = 0;
  server.requestTimeout = 0;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = options.host ?? '127.0.0.1';

  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/v1`,
    port,
    get requests() {
      return requests;
    },
    get requestLog() {
      return requestLog;
    },
    get inFlight() {
      return inFlight;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    countsByKey: () => new Map(counts),
    setFaults(next: FaultSource) {
      faults = Array.isArray(next) ? [...next] : next;
    },
    reset() {
      requests = 0;
      maxInFlight = inFlight;
      requestLog = [];
      counts = new Map();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function parseArgs(argv: string[]): Record<string, string | true> {
  const out: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}`);
    const eq = arg.indexOf('=');
    if (eq !== -1) out[arg.slice(2, eq)] = arg.slice(eq + 1);
    else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) out[arg.slice(2)] = argv[++i]!;
    else out[arg.slice(2)] = true;
  }
  return out;
}

export async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.help) {
    console.log(
      'usage: tsx scripts/fake-openai-server.ts [--port 9000] [--host 127.0.0.1] [--latency 50] [--model fake-model] [--quiet]',
    );
    return;
  }
  const num = (name: string, fallback: number): number => {
    const v = args[name];
    if (v === undefined) return fallback;
    const n = Number(v);
    if (v === true || !Number.isFinite(n) || n < 0) throw new Error(`--${name} needs a non-negative number`);
    return n;
  };
  const server = await startFakeOpenAIServer({
    port: num('port', 9000),
    host: typeof args.host === 'string' ? args.host : '127.0.0.1',
    latencyMs: num('latency', 0),
    models: typeof args.model === 'string' ? [args.model] : undefined,
    logRequests: false,
  });
  console.log(`fake OpenAI-compatible server on ${server.url} (latency ${num('latency', 0)} ms); Ctrl-C stops it`);
  const timer = args.quiet
    ? undefined
    : setInterval(() => console.log(`requests: ${server.requests}, in flight: ${server.inFlight}`), 5000);
  const stop = () => {
    if (timer) clearInterval(timer);
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
