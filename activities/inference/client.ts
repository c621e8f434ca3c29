// The one way to call a model server: an OpenAI-compatible endpoint through the `openai` package, with our own
// retries (so that they are counted and share the endpoint's limiter), token accounting and span scoring.
//
// Retry policy (per call): attempt 1 + up to endpoint.maxRetries retries of retryable failures (see errors.ts).
// Before retry k (k = 1, 2, ...) the client waits
//     base = min(maxBackoffMs, initialBackoffMs * 2^(k-1)),  delay = base/2 + random * base/2   ("equal jitter"),
// or longer when the server sent Retry-After / retry-after-ms (delay >= that value plus up to 10% jitter, capped at
// 5 minutes). The limiter slot is given back during the wait. Each attempt has its own deadline of timeoutMs that
// covers connecting, waiting for headers and reading the body. When all attempts failed the call throws
// InferenceUnavailableError (retryable: the Temporal activity fails and Temporal retries it later); a
// non-retryable failure throws NonRetryableInferenceError at once. A caller abort (opts.signal) stops at once,
// also during backoff and while queued in the limiter, and rethrows the signal's reason.
import OpenAI from 'openai';
import type { EndpointConfig } from '../../domain/platform/config';
import { resolveApiKey } from '../config';
import {
  classifyError,
  InferenceTimeoutError,
  InferenceUnavailableError,
  MalformedResponseError,
  NonRetryableInferenceError,
  type ClassifiedFailure,
} from './errors';
import { createNodeHttpFetch, type NodeHttpFetch } from './http-fetch';
import { Limiter } from './limiter';
import {
  alignEchoedTokens,
  SpanScoringError,
  sumSpanLogProbs,
  validateSpans,
  type ScoredToken,
  type Span,
} from './spans';
import { UsageCounter, type InferenceUsage } from './usage';
import { chargeSpend } from './spend';
import { countInferenceCall, countInferenceFailure, countInferenceTokens, type InferenceCallTags } from '../metrics';
import { abortReason, sleep } from './abortable';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface SamplingParams {
  /** Overrides the endpoint's (or role's) model. */
  model?: string;
  n?: number;
  seed?: number;
  temperature?: number;
  topP?: number;
  maxTokens?: number;
  stop?: string[];
  /** Server-specific fields merged into the request body as they are (e.g. vLLM's top_k, min_p). */
  extra?: Record<string, unknown>;
}

export interface ChatRequest extends SamplingParams {
  messages: ChatMessage[];
}

export interface CompletionRequest extends SamplingParams {
  prompt: string;
}

export interface GenerationChoice {
  text: string;
  finishReason: string | null;
  /** Chat only: the thinking a server returned apart from the content (vLLM's `reasoning_content` with a reasoning parser). */
  reasoning?: string;
}

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  /** the completion tokens spent reasoning, where the server says (`completion_tokens_details.reasoning_tokens`) */
  reasoningTokens?: number;
}

export interface GenerationResult {
  model: string;
  choices: GenerationChoice[];
  usage: TokenUsage;
  /** HTTP attempts this call took (1 = no retry). */
  attempts: number;
}

export interface ScoreSpansRequest {
  text: string;
  spans: Span[];
  model?: string;
}

export interface SpanScores {
  /** Sum of token log-probs per span, in the order of the request's spans. */
  spanLogProbs: number[];
  /** Tokens of the text (a server-added BOS excluded). */
  tokenCount: number;
  tokens: ScoredToken[];
  model: string;
  attempts: number;
}

export interface CallOptions {
  signal?: AbortSignal;
}

export interface RetryEvent {
  endpoint: string;
  operation: string;
  /** The attempt that failed (1-based). */
  attempt: number;
  failure: ClassifiedFailure;
  /** Wait before the next attempt. */
  delayMs: number;
}

export interface InferenceClientOptions {
  /** Name for usage accounting and messages (the endpoint's key in the config). */
  name?: string;
  /** Defaults to resolveApiKey(endpoint). */
  apiKey?: string;
  /** Share a limiter; by default the client makes its own from the endpoint's maxConcurrency/requestsPerSecond. */
  limiter?: Limiter;
  /** Replaces the HTTP layer (default: a keep-alive node:http fetch without undici's 5-minute caps). */
  fetch?: (input: string | URL | Request, init?: RequestInit) => Promise<Response>;
  /** Random source for jitter, in [0, 1). */
  random?: () => number;
  /** Called before each backoff wait. */
  onRetry?: (event: RetryEvent) => void;
}

export type RetryPolicy = Pick<EndpointConfig, 'maxRetries' | 'initialBackoffMs' | 'maxBackoffMs'>;

/** The wait before retry number `retry` (1-based); see the policy at the top of this file. */
export function backoffDelayMs(
  retry: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
  retryAfterMs?: number,
): number {
  const base = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** Math.max(0, retry - 1));
  const jittered = base / 2 + random() * (base / 2);
  if (retryAfterMs === undefined) return jittered;
  return Math.max(jittered, retryAfterMs * (1 + 0.1 * random()));
}

function asRecord(value: unknown, what: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new MalformedResponseError(`${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

function choicesOf(body: Record<string, unknown>): Array<Record<string, unknown>> {
  const choices = body.choices;
  if (!Array.isArray(choices) || choices.length === 0) throw new MalformedResponseError('the response has no choices');
  const out = choices.map((c, i) => asRecord(c, `choices[${i}]`));
  // Servers send choices with an index; keep request order.
  if (out.every((c) => typeof c.index === 'number')) out.sort((a, b) => (a.index as number) - (b.index as number));
  return out;
}

function usageOf(body: Record<string, unknown>): TokenUsage {
  const usage = body.usage as
    | {
        prompt_tokens?: unknown;
        completion_tokens?: unknown;
        completion_tokens_details?: { reasoning_tokens?: unknown } | null;
      }
    | null
    | undefined;
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  const reasoning = usage?.completion_tokens_details?.reasoning_tokens;
  return {
    promptTokens: num(usage?.prompt_tokens),
    completionTokens: num(usage?.completion_tokens),
    ...(typeof reasoning === 'number' && Number.isFinite(reasoning) ? { reasoningTokens: reasoning } : {}),
  };
}

function finishReasonOf(choice: Record<string, unknown>): string | null {
  return typeof choice.finish_reason === 'string' ? choice.finish_reason : null;
}

function samplingBody(model: string, req: SamplingParams): Record<string, unknown> {
  const body: Record<string, unknown> = { model };
  if (req.n !== undefined) body.n = req.n;
  if (req.seed !== undefined) body.seed = req.seed;
  if (req.temperature !== undefined) body.temperature = req.temperature;
  if (req.topP !== undefined) body.top_p = req.topP;
  if (req.maxTokens !== undefined) body.max_tokens = req.maxTokens;
  if (req.stop !== undefined && req.stop.length > 0) body.stop = req.stop;
  if (req.extra) Object.assign(body, req.extra);
  return body;
}

export class InferenceClient {
  readonly name: string;
  readonly defaultModel: string;
  readonly limiter: Limiter;
  /** The model role this client's calls are counted under in the metrics (see forRole); undefined: 'none'. */
  readonly role: string | undefined = undefined;
  private readonly openai: OpenAI;
  private readonly endpoint: EndpointConfig;
  private readonly counter: UsageCounter;
  private readonly random: () => number;
  private readonly onRetry?: (event: RetryEvent) => void;
  private readonly http?: NodeHttpFetch;

  constructor(endpoint: EndpointConfig, options: InferenceClientOptions = {}) {
    this.endpoint = endpoint;
    this.name = options.name ?? endpoint.baseUrl;
    this.defaultModel = endpoint.model;
    this.limiter =
      options.limiter ??
      new Limiter({ maxConcurrency: endpoint.maxConcurrency, requestsPerSecond: endpoint.requestsPerSecond });
    this.counter = new UsageCounter(this.name);
    this.random = options.random ?? Math.random;
    this.onRetry = options.onRetry;
    let fetchImpl = options.fetch;
    if (!fetchImpl) {
      this.http = createNodeHttpFetch();
      fetchImpl = this.http.fetch;
    }
    this.openai = new OpenAI({
      baseURL: endpoint.baseUrl,
      apiKey: options.apiKey ?? resolveApiKey(endpoint),
      timeout: endpoint.timeoutMs,
      maxRetries: 0,
      fetch: fetchImpl,
    });
  }

  /** Cumulative usage of this client (the process-wide total per endpoint is processInferenceUsage()). */
  usage(): InferenceUsage {
    return this.counter.snapshot();
  }

  /**
   * This client with its calls counted under a model role in the metrics: the same limiter, connections, retries and
   * usage (a view that inherits everything from this client and only adds the role).
   */
  forRole(role: string): InferenceClient {
    return Object.create(this, { role: { value: role, enumerable: true } }) as InferenceClient;
  }

  /** Closes idle keep-alive connections. The client still works afterwards (it opens new ones). */
  close(): void {
    this.http?.close();
  }

  /** POST /v1/chat/completions. */
  async chat(req: ChatRequest, opts: CallOptions = {}): Promise<GenerationResult> {
    const model = req.model ?? this.defaultModel;
    const body = { ...samplingBody(model, req), messages: req.messages };
    return this.call('chat', model, opts.signal, async (signal) => {
      const raw = asRecord(
        await this.openai.chat.completions.create(body as never, {
          signal,
          timeout: this.endpoint.timeoutMs,
          maxRetries: 0,
        }),
        'the response',
      );
      const choices = choicesOf(raw).map((c, i) => {
        const message = asRecord(c.message, `choices[${i}].message`);
        const content = message.content;
        if (content !== null && content !== undefined && typeof content !== 'string') {
          throw new MalformedResponseError(`choices[${i}].message.content is not a string`);
        }
        const reasoning =
          typeof message.reasoning_content === 'string'
            ? message.reasoning_content
            : typeof message.reasoning === 'string'
              ? message.reasoning
              : undefined;
        return {
          text: content ?? '',
          finishReason: finishReasonOf(c),
          ...(reasoning !== undefined ? { reasoning } : {}),
        };
      });
      const usage = usageOf(raw);
      return {
        value: { model: typeof raw.model === 'string' ? raw.model : model, choices, usage },
        usage,
      };
    });
  }

  /** POST /v1/completions (plain text generation). */
  async complete(req: CompletionRequest, opts: CallOptions = {}): Promise<GenerationResult> {
    const model = req.model ?? this.defaultModel;
    const body = { ...samplingBody(model, req), prompt: req.prompt };
    return this.call('complete', model, opts.signal, async (signal) => {
      const raw = asRecord(
        await this.openai.completions.create(body as never, {
          signal,
          timeout: this.endpoint.timeoutMs,
          maxRetries: 0,
        }),
        'the response',
      );
      const choices = choicesOf(raw).map((c, i) => {
        if (typeof c.text !== 'string') throw new MalformedResponseError(`choices[${i}].text is not a string`);
        return { text: c.text, finishReason: finishReasonOf(c) };
      });
      const usage = usageOf(raw);
      return { value: { model: typeof raw.model === 'string' ? raw.model : model, choices, usage }, usage };
    });
  }

  /**
   * Sums token log-probs of `text` over character spans, via /v1/completions with echo: true, logprobs: 1,
   * max_tokens: 0. See spans.ts for the rules (span membership by token start offset, null first log-prob,
   * echo verification). Alignment and span errors are NonRetryableInferenceError.
   */
  async scoreSpans(req: ScoreSpansRequest, opts: CallOptions = {}): Promise<SpanScores> {
    try {
      validateSpans(req.text, req.spans);
    } catch (err) {
      throw new NonRetryableInferenceError(`scoreSpans: ${(err as Error).message}`, 'protocol');
    }
    const model = req.model ?? this.defaultModel;
    const body = { model, prompt: req.text, echo: true, logprobs: 1, max_tokens: 0 };
    const result = await this.call('scoreSpans', model, opts.signal, async (signal) => {
      const raw = asRecord(
        await this.openai.completions.create(body as never, {
          signal,
          timeout: this.endpoint.timeoutMs,
          maxRetries: 0,
        }),
        'the response',
      );
      const choice = choicesOf(raw)[0]!;
      if (choice.logprobs === undefined) throw new MalformedResponseError('choices[0] has no logprobs');
      let tokens: ScoredToken[];
      try {
        tokens = alignEchoedTokens(req.text, choice.logprobs as never);
      } catch (err) {
        if (err instanceof SpanScoringError) {
          throw new NonRetryableInferenceError(`scoreSpans on ${this.name} (${model}): ${err.message}`, 'protocol');
        }
        throw err;
      }
      const usage = usageOf(raw);
      return { value: { model: typeof raw.model === 'string' ? raw.model : model, tokens }, usage };
    });
    let spanLogProbs: number[];
    try {
      spanLogProbs = sumSpanLogProbs(result.tokens, req.spans);
    } catch (err) {
      throw new NonRetryableInferenceError(`scoreSpans: ${(err as Error).message}`, 'protocol');
    }
    return {
      spanLogProbs,
      tokenCount: result.tokens.length,
      tokens: result.tokens,
      model: result.model,
      attempts: result.attempts,
    };
  }

  /** GET /v1/models: the model ids the server serves. */
  async models(opts: CallOptions = {}): Promise<string[]> {
    const result = await this.call('models', this.defaultModel, opts.signal, async (signal) => {
      const page = await this.openai.models.list({ signal, timeout: this.endpoint.timeoutMs, maxRetries: 0 });
      return { value: { ids: page.data.map((m) => m.id) }, usage: { promptTokens: 0, completionTokens: 0 } };
    });
    return result.ids;
  }

  /** Runs one operation with the limiter, the per-attempt deadline, retries and accounting. */
  private async call<T extends object>(
    operation: string,
    model: string,
    callerSignal: AbortSignal | undefined,
    attemptFn: (signal: AbortSignal) => Promise<{ value: T; usage: TokenUsage }>,
  ): Promise<T & { attempts: number }> {
    this.counter.call();
    const tags: InferenceCallTags = { endpoint: this.name, role: this.role ?? 'none', model, operation };
    // count a call that ends without an answer; each returns the error to throw
    const cancelled = (err: unknown): unknown => {
      this.counter.cancelled();
      countInferenceCall(tags, 'cancelled');
      return err;
    };
    const failed = (err: Error): Error => {
      this.counter.failed();
      countInferenceCall(tags, 'failed');
      return err;
    };
    const { maxRetries, timeoutMs } = this.endpoint;
    for (let attempt = 1; ; attempt++) {
      let failure: ClassifiedFailure;
      let cause: unknown;
      const release = await this.limiter.acquire(callerSignal).catch((err: unknown) => {
        throw cancelled(err);
      });
      const deadline = new AbortController();
      const onCallerAbort = () => deadline.abort(callerSignal!.reason);
      callerSignal?.addEventListener('abort', onCallerAbort, { once: true });
      const timer = setTimeout(
        () => deadline.abort(new InferenceTimeoutError(`no complete answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.counter.attempt(attempt > 1);
      try {
        const { value, usage } = await attemptFn(deadline.signal);
        this.counter.succeeded(usage.promptTokens, usage.completionTokens);
        countInferenceCall(tags, 'succeeded');
        countInferenceTokens(tags, usage.promptTokens, usage.completionTokens);
        chargeSpend({
          role: tags.role,
          endpoint: this.name,
          model,
          promptTokens: usage.promptTokens,
          completionTokens: usage.completionTokens,
        });
        return Object.assign(value, { attempts: attempt });
      } catch (err) {
        if (callerSignal?.aborted) throw cancelled(abortReason(callerSignal));
        cause = err;
        failure = classifyError(deadline.signal.aborted ? deadline.signal.reason : err);
      } finally {
        clearTimeout(timer);
        callerSignal?.removeEventListener('abort', onCallerAbort);
        release();
      }
      this.counter.attemptFailed(failure.kind);
      countInferenceFailure(tags, failure.kind, failure.retryable && attempt <= maxRetries);
      const where = `${operation} on ${this.name}`;
      if (!failure.retryable) {
        if (cause instanceof NonRetryableInferenceError) throw failed(cause);
        const status = failure.status !== undefined ? ` (HTTP ${failure.status})` : '';
        throw failed(
          new NonRetryableInferenceError(`${where} failed${status}: ${failure.message}`, failure.kind, failure.status, {
            cause,
          }),
        );
      }
      if (attempt > maxRetries) {
        const status = failure.status !== undefined ? `HTTP ${failure.status} ` : '';
        throw failed(
          new InferenceUnavailableError(
            `${where} unavailable after ${attempt} attempt${attempt === 1 ? '' : 's'}: last failure ${status}${failure.kind}: ${failure.message}`,
            attempt,
            failure,
            { cause },
          ),
        );
      }
      const delayMs = backoffDelayMs(attempt, this.endpoint, this.random, failure.retryAfterMs);
      this.onRetry?.({ endpoint: this.name, operation, attempt, failure, delayMs });
      try {
        await sleep(delayMs, callerSignal);
      } catch (err) {
        throw cancelled(err);
      }
    }
  }
}
