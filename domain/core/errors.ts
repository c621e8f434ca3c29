// The failure types that cross an activity boundary, with what each means and whether Temporal may retry it.
// Workflows build their `nonRetryableErrorTypes` from this catalog (FAILURE_TYPES_NOT_RETRIED), and the stage's shard
// activity classifies what an item operation throws with `itemErrorKind`. A test checks that every type the code
// throws is listed here.
export const FAILURES = {
  InvalidInput: {
    retried: false,
    means: 'a workflow input, stage parameters or a request that fails its schema (names the field)',
  },
  DatasetError: { retried: false, means: 'a dataset whose manifest or shards cannot be read' },
  NonRetryableInferenceError: {
    retried: false,
    means: 'the model server refused the request itself (a 4xx other than 408/409/429)',
  },
  InferenceUnavailableError: {
    retried: true,
    means: 'no model server answered in time: the shard stops and is retried later',
  },
  RetryLaterError: {
    retried: true,
    means: 'the world, not the item, is at fault (e.g. no sandbox on this worker): the shard is retried later',
  },
  SandboxUnavailable: {
    retried: false,
    means: 'this worker cannot run untrusted programs (bubblewrap or isolated-vm missing)',
  },
  InvalidChecker: { retried: false, means: "a problem's custom checker fails on its own expected output" },
  ModelActivationFailed: {
    retried: true,
    means: 'a trained model could not be put into service (retried unless the failure says otherwise)',
  },
  TrainingNotConfigured: { retried: false, means: 'temporal.yaml has no `training` section' },
  TrainerSpawnFailed: { retried: false, means: 'the trainer command could not be started' },
  TrainerOutputInvalid: { retried: false, means: 'the trainer exited 0 without a valid report' },
  TrainJobConflict: { retried: false, means: 'a training job name already bound to another input' },
  NoTrainingData: { retried: false, means: 'a training job whose data has no usable row' },
  TrainerFailed: { retried: true, means: 'the trainer exited with an error or died: a new run starts' },
  TrainerSupervisorFailed: { retried: true, means: 'the supervisor of a trainer run failed' },
  StepAbandoned: {
    retried: false,
    means: 'a run whose failed step was abandoned by signal (the message names the step; the cause is its failure)',
  },
} as const satisfies Record<string, { retried: boolean; means: string }>;

export type FailureType = keyof typeof FAILURES;

/** The types Temporal must not retry: every workflow's activity options list these. */
export const FAILURE_TYPES_NOT_RETRIED: FailureType[] = (Object.keys(FAILURES) as FailureType[]).filter(
  (t) => !FAILURES[t].retried,
);

/** Errors by which an item operation says the shard, not the item, must stop and be retried later. */
const SHARD_RETRY_TYPES: ReadonlySet<string> = new Set<FailureType>(['RetryLaterError', 'InferenceUnavailableError']);

/**
 * What an error thrown by an item operation means for its shard:
 *  - 'item': the item failed (recorded with its reason; the shard goes on);
 *  - 'retry-shard': the world is at fault (a `retryLater` error, an unavailable model server): the shard stops,
 *    keeps what it finished, and Temporal retries it later;
 *  - 'fail-shard': a non-retryable ApplicationFailure says the step itself is misconfigured (e.g. a benchmark file
 *    that cannot be read): the shard fails for good rather than marking every item failed.
 */
export function itemErrorKind(err: unknown): 'item' | 'retry-shard' | 'fail-shard' {
  if (err === null || typeof err !== 'object') return 'item';
  const e = err as { name?: unknown; retryLater?: unknown; nonRetryable?: unknown };
  if (e.name === 'ApplicationFailure' && e.nonRetryable === true) return 'fail-shard';
  if (e.retryLater === true || (typeof e.name === 'string' && SHARD_RETRY_TYPES.has(e.name))) return 'retry-shard';
  return 'item';
}
