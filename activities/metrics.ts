// Our counters for dashboards, recorded on the SDK's metric meter, so that they appear on the worker's Prometheus
// endpoint next to the SDK's own worker metrics (temporal.yaml `metrics`, workers/main.ts). Until a worker process
// hands its meter over (useMetricMeter) every count goes to the SDK's no-op meter: unit tests, benchmarks and
// workers without a metrics port pay for nothing but the call.
//
// The process-wide meter (the Runtime's) rather than each activity's `Context.current().metricMeter`: the inference
// pool and the sandbox serve every activity of the process and also run outside activity contexts.
//
// Every counter is cumulative; a dashboard shows rates (items/s, tokens/s) with Prometheus' rate().
import { noopMetricMeter, type MetricCounter, type MetricMeter } from '@temporalio/common';

/** The names under which our counters are exported (documented in README "Metrics"; the dashboard uses them). */
export const METRIC_NAMES = {
  stageItems: 'promptcot_stage_items',
  stageRows: 'promptcot_stage_rows',
  inferenceRequests: 'promptcot_inference_requests',
  inferenceTokens: 'promptcot_inference_tokens',
  inferenceRetries: 'promptcot_inference_retries',
  inferenceErrors: 'promptcot_inference_errors',
  sandboxVerdicts: 'promptcot_sandbox_verdicts',
} as const;

class Counters {
  readonly stageItems: MetricCounter;
  readonly stageRows: MetricCounter;
  readonly inferenceRequests: MetricCounter;
  readonly inferenceTokens: MetricCounter;
  readonly inferenceRetries: MetricCounter;
  readonly inferenceErrors: MetricCounter;
  readonly sandboxVerdicts: MetricCounter;

  constructor(meter: MetricMeter) {
    const n = METRIC_NAMES;
    this.stageItems = meter.createCounter(n.stageItems, 'items', 'stage items finished, by stage, operation, outcome');
    this.stageRows = meter.createCounter(n.stageRows, 'rows', 'output rows (samples) written, by stage and operation');
    this.inferenceRequests = meter.createCounter(
      n.inferenceRequests,
      'calls',
      'model calls (each possibly several HTTP attempts), by endpoint, role, model, operation, outcome',
    );
    this.inferenceTokens = meter.createCounter(
      n.inferenceTokens,
      'tokens',
      'tokens the servers reported, by endpoint, role, model and type (prompt, completion)',
    );
    this.inferenceRetries = meter.createCounter(
      n.inferenceRetries,
      'retries',
      'in-process retries of model calls, by the kind of failure retried',
    );
    this.inferenceErrors = meter.createCounter(
      n.inferenceErrors,
      'attempts',
      'failed HTTP attempts of model calls, by kind (retried or not)',
    );
    this.sandboxVerdicts = meter.createCounter(
      n.sandboxVerdicts,
      'tests',
      'verdicts of sandboxed test runs, by language and verdict',
    );
  }
}

let meter: MetricMeter = noopMetricMeter;
let counters: Counters | undefined;

/** Records every count from now on on `next` (a worker process: the Runtime's meter, once it is installed). */
export function useMetricMeter(next: MetricMeter): void {
  meter = next;
  counters = undefined;
}

function current(): Counters {
  return (counters ??= new Counters(meter));
}

export type ItemOutcomeKind = 'kept' | 'rejected' | 'failed';

/** One finished item of a stage shard, and the rows it produced. */
export function countStageItem(stage: string, operation: string, outcome: ItemOutcomeKind, rows: number): void {
  const c = current();
  const tags = { stage, operation };
  c.stageItems.add(1, { ...tags, outcome });
  if (rows > 0) c.stageRows.add(rows, tags);
}

/** Where a model call went; `role` is 'none' for a client used without a role. */
export interface InferenceCallTags {
  endpoint: string;
  role: string;
  model: string;
  operation: string;
}

export function countInferenceCall(tags: InferenceCallTags, outcome: 'succeeded' | 'failed' | 'cancelled'): void {
  current().inferenceRequests.add(1, { ...tags, outcome });
}

export function countInferenceTokens(tags: InferenceCallTags, promptTokens: number, completionTokens: number): void {
  const { endpoint, role, model } = tags;
  const c = current();
  if (promptTokens > 0) c.inferenceTokens.add(promptTokens, { endpoint, role, model, type: 'prompt' });
  if (completionTokens > 0) c.inferenceTokens.add(completionTokens, { endpoint, role, model, type: 'completion' });
}

/** A failed HTTP attempt of a call, and whether the client retries it. */
export function countInferenceFailure(tags: InferenceCallTags, kind: string, retried: boolean): void {
  const c = current();
  c.inferenceErrors.add(1, { ...tags, kind });
  if (retried) c.inferenceRetries.add(1, { ...tags, kind });
}

/** The verdicts of one program's tests. */
export function countSandboxVerdicts(language: string, verdicts: ReadonlyArray<{ verdict: string }>): void {
  const byVerdict = new Map<string, number>();
  for (const v of verdicts) byVerdict.set(v.verdict, (byVerdict.get(v.verdict) ?? 0) + 1);
  const c = current();
  for (const [verdict, n] of byVerdict) c.sandboxVerdicts.add(n, { language, verdict });
}
