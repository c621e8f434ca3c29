// Our counters (activities/metrics.ts) on a recording meter: model calls through a role of the pool count tokens
// per role and model, retries and failed attempts by kind, and calls by outcome; sandbox verdicts per kind; stage
// items per outcome and their rows. Without a meter of a worker every count goes to the SDK's no-op meter.
import { noopMetricMeter, type MetricCounter, type MetricMeter, type MetricTags } from '@temporalio/common';
import { ConfigSchema, SandboxConfigSchema } from '../../domain/platform/config';
import { evaluateCompletion } from '../../activities/sandbox/activities';
import { InferencePool } from '../../activities/inference/pool';
import { countSandboxVerdicts, countStageItem, METRIC_NAMES, useMetricMeter } from '../../activities/metrics';
import { startFakeOpenAIServer, type FakeOpenAIServer } from '../../lib/fake-openai-server';

/** Sums of every counter, by name and tags. */
class RecordingMeter implements MetricMeter {
  readonly sums = new Map<string, number>();

  createCounter(name: string, unit = '', description = ''): MetricCounter {
    const add = (value: number, tags: MetricTags = {}) => {
      const key = `${name}${JSON.stringify(Object.fromEntries(Object.entries(tags).sort()))}`;
      this.sums.set(key, (this.sums.get(key) ?? 0) + value);
    };
    const counter: MetricCounter = {
      name,
      unit,
      description,
      kind: 'counter',
      valueType: 'int',
      add,
      withTags: () => counter,
    };
    return counter;
  }
  createHistogram = noopMetricMeter.createHistogram.bind(noopMetricMeter);
  createGauge = noopMetricMeter.createGauge.bind(noopMetricMeter);
  withTags(): MetricMeter {
    return this;
  }

  /** The sum of a counter over the series whose tags include `tags`. */
  sum(name: string, tags: Record<string, string> = {}): number {
    let total = 0;
    for (const [key, value] of this.sums) {
      if (!key.startsWith(`${name}{`)) continue;
      const series = JSON.parse(key.slice(name.length)) as Record<string, string>;
      if (Object.entries(tags).every(([k, v]) => series[k] === v)) total += value;
    }
    return total;
  }
}

let server: FakeOpenAIServer;
let meter: RecordingMeter;

beforeAll(async () => {
  server = await startFakeOpenAIServer({ latencyMs: 0, respond: () => 'four words of text' });
});

afterAll(async () => {
  useMetricMeter(noopMetricMeter);
  await server.close();
});

beforeEach(() => {
  meter = new RecordingMeter();
  useMetricMeter(meter);
  server.setFaults(undefined);
});

function pool(): InferencePool {
  const roles: Record<string, { endpoint: string; model?: string }> = Object.fromEntries(
    ['promptGenerator', 'rationaleModel', 'testCaseWriter', 'policy', 'teacher'].map((r) => [r, { endpoint: 'main' }]),
  );
  roles.teacher = { endpoint: 'main', model: 'teacher-model' };
  return new InferencePool(
    ConfigSchema.parse({
      endpoints: { main: { baseUrl: server.url, model: 'fake-model', initialBackoffMs: 5, maxBackoffMs: 10 } },
      roles,
    }),
  );
}

describe('inference metrics', () => {
  it('counts tokens per role and model, and calls by outcome', async () => {
    const p = pool();
    const policy = p.forRole('policy');
    const teacher = p.forRole('teacher');
    expect(p.forRole('policy').client).toBe(policy.client); // one view per role
    const a = await policy.client.chat({ messages: [{ role: 'user', content: 'hi' }], model: policy.model, n: 2 });
    const b = await teacher.client.chat({ messages: [{ role: 'user', content: 'hi' }], model: teacher.model });
    const n = METRIC_NAMES;
    const tokens = (role: string, model: string, type: string) => meter.sum(n.inferenceTokens, { role, model, type });
    expect(tokens('policy', 'fake-model', 'completion')).toBe(a.usage.completionTokens);
    expect(tokens('policy', 'fake-model', 'prompt')).toBe(a.usage.promptTokens);
    expect(tokens('teacher', 'teacher-model', 'completion')).toBe(b.usage.completionTokens);
    expect(a.usage.completionTokens).toBeGreaterThan(0);
    expect(meter.sum(n.inferenceRequests, { endpoint: 'main', operation: 'chat', outcome: 'succeeded' })).toBe(2);
    // the role views share the endpoint's client: its usage counts both calls
    expect(p.usage().main!.calls).toBe(2);
    p.close();
  });

  it('counts retries and failed attempts by kind, and a call that fails for good', async () => {
    const p = pool();
    const { client, model } = p.forRole('rationaleModel');
    server.setFaults([
      { type: 'status', status: 429 },
      { type: 'status', status: 500 },
    ]);
    await client.chat({ messages: [{ role: 'user', content: 'x' }], model });
    server.setFaults([{ type: 'status', status: 400, message: 'bad request' }]);
    await expect(client.chat({ messages: [{ role: 'user', content: 'y' }], model })).rejects.toThrow('bad request');
    const n = METRIC_NAMES;
    const tags = { role: 'rationaleModel', operation: 'chat' };
    expect(meter.sum(n.inferenceRetries, { ...tags, kind: 'rate_limited' })).toBe(1);
    expect(meter.sum(n.inferenceRetries, { ...tags, kind: 'server_error' })).toBe(1);
    expect(meter.sum(n.inferenceRetries, { ...tags, kind: 'client_error' })).toBe(0);
    expect(meter.sum(n.inferenceErrors, tags)).toBe(3);
    expect(meter.sum(n.inferenceErrors, { ...tags, kind: 'client_error' })).toBe(1);
    expect(meter.sum(n.inferenceRequests, { ...tags, outcome: 'succeeded' })).toBe(1);
    expect(meter.sum(n.inferenceRequests, { ...tags, outcome: 'failed' })).toBe(1);
    p.close();
  });
});

describe('stage and sandbox metrics', () => {
  it('counts stage items per outcome and their rows per stage and operation', () => {
    countStageItem('completions', 'chatCompletion', 'kept', 4);
    countStageItem('completions', 'chatCompletion', 'rejected', 0);
    countStageItem('pass-000', 'generateProblem', 'kept', 1);
    const n = METRIC_NAMES;
    expect(meter.sum(n.stageItems, { stage: 'completions' })).toBe(2);
    expect(meter.sum(n.stageItems, { operation: 'chatCompletion', outcome: 'rejected' })).toBe(1);
    expect(meter.sum(n.stageRows, { stage: 'completions', operation: 'chatCompletion' })).toBe(4);
    expect(meter.sum(n.stageRows)).toBe(5);
  });

  it('counts the verdicts of a code reward in the sandbox', async () => {
    const config = SandboxConfigSchema.parse({ wallTimeMs: 8000, cpuTimeMs: 4000, memoryMb: 256, mode: 'fresh' });
    const tests = [
      { input: '2\n', output: '4\n' },
      { input: '3\n', output: '7\n' },
    ];
    const r = await evaluateCompletion(config, { code: 'print(int(input()) * 2)', tests });
    expect(r.passed).toBe(1);
    const n = METRIC_NAMES;
    expect(meter.sum(n.sandboxVerdicts, { language: 'python', verdict: 'pass' })).toBe(1);
    expect(meter.sum(n.sandboxVerdicts, { language: 'python', verdict: 'wrong_answer' })).toBe(1);
  }, 60_000);

  it('counts sandbox verdicts per language and kind', () => {
    countSandboxVerdicts('python', [{ verdict: 'pass' }, { verdict: 'pass' }, { verdict: 'time_limit' }]);
    countSandboxVerdicts('javascript', [{ verdict: 'wrong_answer' }]);
    const n = METRIC_NAMES;
    expect(meter.sum(n.sandboxVerdicts, { language: 'python', verdict: 'pass' })).toBe(2);
    expect(meter.sum(n.sandboxVerdicts, { verdict: 'time_limit' })).toBe(1);
    expect(meter.sum(n.sandboxVerdicts, { language: 'javascript' })).toBe(1);
  });
});
