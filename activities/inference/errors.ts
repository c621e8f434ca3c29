// Which inference failures are worth retrying, and the errors the inference client throws.
//
// Retryable (transient): HTTP 408, 409, 429 and 5xx; timeouts; connection refused / reset / dropped; a response
// body that is not valid JSON, is cut short, or lacks the fields every OpenAI-compatible server sends.
// Non-retryable: every other HTTP status (400 bad request, context too long, 401, 403, 404, 422, ...), and answers
// that can never be used (e.g. echoed tokens that do not reproduce the prompt).
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';

export type FailureKind =
  | 'rate_limited' // 429
  | 'server_error' // 5xx, 408, 409
  | 'timeout' // no (complete) answer within timeoutMs
  | 'connection' // refused, reset, dropped, DNS
  | 'malformed_response' // not JSON, truncated, missing fields
  | 'client_error' // other 4xx: bad request, context too long, auth, unknown model
  | 'protocol' // the server answered but its answer cannot serve this request (e.g. echo mismatch)
  | 'unknown';

export interface ClassifiedFailure {
  retryable: boolean;
  kind: FailureKind;
  /** HTTP status, when the server answered. */
  status?: number;
  /** The server's (or the transport's) message. */
  message: string;
  /** Delay the server asked for (Retry-After / retry-after-ms), in ms. */
  retryAfterMs?: number;
}

/** Base class of everything the inference client throws on purpose. */
export class InferenceError extends Error {
  override name = 'InferenceError';
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly kind: FailureKind,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Retrying cannot help (bad request, context too long, auth, unusable answer): fail the activity for good. */
export class NonRetryableInferenceError extends InferenceError {
  override name = 'NonRetryableInferenceError';
  constructor(message: string, kind: FailureKind = 'client_error', status?: number, options?: { cause?: unknown }) {
    super(message, false, kind, status, options);
  }
}

/** The endpoint kept failing transiently through all in-process retries; Temporal should retry the activity later. */
export class InferenceUnavailableError extends InferenceError {
  override name = 'InferenceUnavailableError';
  constructor(
    message: string,
    readonly attempts: number,
    readonly lastFailure: ClassifiedFailure,
    options?: { cause?: unknown },
  ) {
    super(message, true, lastFailure.kind, lastFailure.status, options);
  }
}

/** A 2xx answer whose body is unusable in a way a retry may fix (not JSON, truncated, missing fields). */
export class MalformedResponseError extends Error {
  override name = 'MalformedResponseError';
}

/** The attempt's own deadline (timeoutMs, which covers reading the body too) passed. */
export class InferenceTimeoutError extends Error {
  override name = 'InferenceTimeoutError';
}

export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || (status >= 500 && status <= 599);
}

/** Longest server-requested wait we honour in-process; a longer one is still waited, capped at this. */
export const MAX_RETRY_AFTER_MS = 300_000;

/**
 * Parses `retry-after-ms` (milliseconds) or `Retry-After` (delta-seconds or an HTTP date) into milliseconds.
 * Returns undefined when absent or unparsable.
 */
export function parseRetryAfter(
  headers: { get(name: string): string | null } | undefined,
  nowMs = Date.now(),
): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get('retry-after-ms');
  if (ms !== null && ms.trim() !== '') {
    const value = Number(ms);
    if (Number.isFinite(value) && value >= 0) return Math.min(value, MAX_RETRY_AFTER_MS);
  }
  const raw = headers.get('retry-after');
  if (raw === null || raw.trim() === '') return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, MAX_RETRY_AFTER_MS);
  const date = Date.parse(raw);
  if (!Number.isNaN(date)) return Math.min(Math.max(0, date - nowMs), MAX_RETRY_AFTER_MS);
  return undefined;
}

const CONNECTION_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EADDRNOTAVAIL',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
]);
const TIMEOUT_CODES = new Set([
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

function errorCodes(err: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current !== null && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    current = (current as { cause?: unknown }).cause;
  }
  return codes;
}

function messageOf(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    const causeMessage =
      cause instanceof Error && cause.message && cause.message !== err.message ? ` (${cause.message})` : '';
    return `${err.message}${causeMessage}`;
  }
  return String(err);
}

/** The server's own error message from an OpenAI-style error body, else the SDK's message. */
function apiErrorMessage(err: APIError): string {
  const body = err.error as { message?: unknown } | string | undefined;
  if (body && typeof body === 'object' && typeof body.message === 'string' && body.message !== '') return body.message;
  if (typeof body === 'string' && body !== '') return body;
  return err.message;
}

/**
 * Classifies one failed attempt. Callers check their own abort signal first (a cancellation is not a failure) and
 * pass an InferenceTimeoutError when the attempt's own deadline aborted it.
 */
export function classifyError(err: unknown): ClassifiedFailure {
  if (err instanceof InferenceError) {
    return { retryable: err.retryable, kind: err.kind, status: err.status, message: err.message };
  }
  if (err instanceof InferenceTimeoutError || err instanceof APIConnectionTimeoutError) {
    return { retryable: true, kind: 'timeout', message: messageOf(err) };
  }
  if (err instanceof APIError && typeof err.status === 'number') {
    const status = err.status;
    const message = apiErrorMessage(err);
    if (isRetryableStatus(status)) {
      return {
        retryable: true,
        kind: status === 429 ? 'rate_limited' : 'server_error',
        status,
        message,
        retryAfterMs: parseRetryAfter(err.headers),
      };
    }
    return { retryable: false, kind: 'client_error', status, message };
  }
  if (err instanceof MalformedResponseError || err instanceof SyntaxError) {
    return { retryable: true, kind: 'malformed_response', message: `malformed response: ${messageOf(err)}` };
  }
  const codes = errorCodes(err);
  if (codes.some((c) => TIMEOUT_CODES.has(c))) return { retryable: true, kind: 'timeout', message: messageOf(err) };
  if (err instanceof APIUserAbortError) {
    // Aborted without the caller or the deadline asking: treat like a dropped connection.
    return { retryable: true, kind: 'connection', message: messageOf(err) };
  }
  if (codes.includes('ERR_RESPONSE_BODY_INCOMPLETE')) {
    return { retryable: true, kind: 'malformed_response', message: `response cut short: ${messageOf(err)}` };
  }
  if (err instanceof APIConnectionError) return { retryable: true, kind: 'connection', message: messageOf(err) };
  // The SDK wraps every failure before the response headers into APIConnectionError, so a raw socket error here
  // came while reading the body: the answer was cut short.
  if (codes.some((c) => CONNECTION_CODES.has(c))) {
    return { retryable: true, kind: 'malformed_response', message: `response cut short: ${messageOf(err)}` };
  }
  const text = messageOf(err);
  // A body cut short surfaces from the stream reader as "terminated" / "aborted" / "premature close".
  if (/terminated|aborted|premature close|socket hang up|other side closed/i.test(text)) {
    return { retryable: true, kind: 'malformed_response', message: `response cut short: ${text}` };
  }
  // Unknown failures are retried: a transient fault we did not foresee should not fail a long run for good, and a
  // bug still surfaces (as InferenceUnavailableError with this message) after maxRetries.
  return { retryable: true, kind: 'unknown', message: text };
}
