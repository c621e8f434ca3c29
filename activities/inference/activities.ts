// Temporal activities over the process's InferencePool: one model call each. Shard activities that make many calls
// use the pool directly; these serve workflows that need a single call (and tests).
//
// While a call waits (queued in the limiter, in flight, or backing off), the activity heartbeats when it has a
// heartbeat timeout, so a worker crash is noticed quickly and a cancellation reaches it (the cancellation signal
// aborts the HTTP request). NonRetryableInferenceError becomes a non-retryable ApplicationFailure of that type;
// InferenceUnavailableError a retryable ApplicationFailure of that type, so Temporal retries it per the activity's
// retry policy. Outside an activity context (plain unit tests) the functions work as ordinary async functions.
import { asyncLocalStorage, type Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { MODEL_ROLES, type ModelRole } from '../../domain/platform/config';
import type { ChatRequest, GenerationResult, SpanScores } from './client';
import { InferenceUnavailableError, NonRetryableInferenceError } from './errors';
import type { InferencePool } from './pool';
import type { Span } from './spans';

export interface ChatCompletionInput {
  role: ModelRole;
  /** `request.model` overrides the role's model. */
  request: ChatRequest;
}

export interface ScoreSpansInput {
  role: ModelRole;
  text: string;
  spans: Span[];
}

function currentContext(): Context | undefined {
  try {
    return asyncLocalStorage.getStore();
  } catch {
    return undefined;
  }
}

/** Heartbeats every third of the heartbeat timeout (at most every 10 s) until `work` settles. */
async function withHeartbeats<T>(work: (signal: AbortSignal | undefined) => Promise<T>): Promise<T> {
  const ctx = currentContext();
  if (!ctx) return work(undefined);
  const timeoutMs = ctx.info.heartbeatTimeoutMs;
  if (!timeoutMs) return work(ctx.cancellationSignal);
  const intervalMs = Math.max(100, Math.min(10_000, Math.floor(timeoutMs / 3)));
  ctx.heartbeat();
  const timer = setInterval(() => ctx.heartbeat(), intervalMs);
  try {
    return await work(ctx.cancellationSignal);
  } finally {
    clearInterval(timer);
  }
}

function toFailure(err: unknown): unknown {
  if (err instanceof NonRetryableInferenceError) {
    return ApplicationFailure.create({
      message: err.message,
      type: 'NonRetryableInferenceError',
      nonRetryable: true,
      details: [{ kind: err.kind, status: err.status ?? null }],
    });
  }
  if (err instanceof InferenceUnavailableError) {
    return ApplicationFailure.create({
      message: err.message,
      type: 'InferenceUnavailableError',
      nonRetryable: false,
      details: [{ kind: err.kind, status: err.status ?? null, attempts: err.attempts }],
    });
  }
  return err;
}

function checkRole(role: unknown): ModelRole {
  if (typeof role !== 'string' || !(MODEL_ROLES as readonly string[]).includes(role)) {
    throw ApplicationFailure.nonRetryable(
      `role: unknown model role ${JSON.stringify(role)} (one of ${MODEL_ROLES.join(', ')})`,
      'InvalidInput',
    );
  }
  return role as ModelRole;
}

export function createInferenceActivities(pool: InferencePool) {
  return {
    async chatCompletion(input: ChatCompletionInput): Promise<GenerationResult> {
      const { client, model } = pool.forRole(checkRole(input.role));
      try {
        return await withHeartbeats((signal) =>
          client.chat({ ...input.request, model: input.request.model ?? model }, { signal }),
        );
      } catch (err) {
        throw toFailure(err);
      }
    },

    async scoreSpans(input: ScoreSpansInput): Promise<SpanScores> {
      const { client, model } = pool.forRole(checkRole(input.role));
      try {
        return await withHeartbeats((signal) =>
          client.scoreSpans({ text: input.text, spans: input.spans, model }, { signal }),
        );
      } catch (err) {
        throw toFailure(err);
      }
    },
  };
}

export type InferenceActivities = ReturnType<typeof createInferenceActivities>;
