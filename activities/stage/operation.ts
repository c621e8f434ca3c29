// What an item operation is: a function from one dataset record to output rows, or to a reason to set it aside.

export interface ItemContext {
  stage: string;
  /** The item's id (the record's `id`, or `<file>:<line>` given at import). */
  sourceId: string;
  shard: number;
  line: number;
  /** Temporal activity attempt that processes the item (1 on the first try). */
  attempt: number;
  signal: AbortSignal;
}

/** Rows to keep, or a reason to set the item aside (with an optional detail, e.g. the model output that failed to parse). */
export type ItemOutcome = { rows: Array<Record<string, unknown>> } | { reject: string; detail?: unknown };

export interface ItemOperation<P = unknown> {
  /** Validates parameters (once per shard) into the form `run` takes. */
  parseParams(params: unknown): P;
  run(item: Record<string, unknown>, params: P, ctx: ItemContext): Promise<ItemOutcome>;
}

/**
 * Thrown (or any error with `retryLater: true`, or an inference layer's unavailable error) when the world is at
 * fault rather than the item: the shard stops, keeps what it finished, and Temporal retries it later.
 */
export class RetryLaterError extends Error {
  override name = 'RetryLaterError';
  readonly retryLater = true;
}

const RETRY_LATER_NAMES = new Set(['RetryLaterError', 'InferenceUnavailableError']);

/**
 * Whether an error stops the shard instead of failing one item: the world is at fault (retried later), or a
 * non-retryable ApplicationFailure says the step itself is misconfigured (e.g. a benchmark file that cannot be
 * read), which fails the shard for good rather than marking every item failed.
 */
export function isRetryLater(err: unknown): boolean {
  if (err === null || typeof err !== 'object') return false;
  const e = err as { name?: unknown; retryLater?: unknown; nonRetryable?: unknown };
  if (e.name === 'ApplicationFailure' && e.nonRetryable === true) return true;
  return e.retryLater === true || (typeof e.name === 'string' && RETRY_LATER_NAMES.has(e.name));
}
