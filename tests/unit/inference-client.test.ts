// InferenceClient against the fake OpenAI-compatible server over real HTTP: request shape, usage accounting,
// every injected fault, retry limits, non-retryable errors, concurrency and rate limits, span scoring, the pool
// and the Temporal activity wrappers.
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ConfigSchema, type EndpointConfig } from '../../domain/platform/config';
import { createInferenceActivities } from '../../activities/inference/activities';
import {
  backoffDelayMs,
  InferenceClient,
  type GenerationResult,
  type InferenceClientOptions,
} from '../../activities/inference/client';
import {
  InferenceUnavailableError,
  NonRetryableInferenceError,
  parseRetryAfter,
} from '../../activities/inference/errors';
import { Limiter } from '../../activities/inference/limiter';
import { InferencePool } from '../../activities/inference/pool';
import { alignEchoedTokens, SpanScoringError, sumSpanLogProbs } from '../../activities/inference/spans';
import { processInferenceUsage } from '../../activities/inference/usage';
import { fakeLogprob, startFakeOpenAIServer, type Fault, type FakeOpenAIServer } from '../../lib/fake-openai-server';

let server: FakeOpenAIServer;
const clients: InferenceClient[] = [];

function endpoint(overrides: Partial<EndpointConfig> = {}): EndpointConfig {
  return {
    baseUrl: server.url,
    apiKey: 'test-key',
    model: 'fake-model',
    adapters: 'none',
    maxConcurrency: 8,
    requestsPerSecond: 0,
    timeoutMs: 2_000,
    maxRetries: 3,
    initialBackoffMs: 5,
    maxBackoffMs: 20,
    ...overrides,
  };
}

function makeClient(overrides: Partial<EndpointConfig> = {}, options: InferenceClientOptions = {}): InferenceClient {
  const client = new InferenceClient(endpoint(overrides), { name: `test-${clients.length}`, ...options });
  clients.push(client);
  return client;
}

const hello = { messages: [{ role: 'user' as const, content: 'hello' }] };

beforeAll(async () => {
  server = await startFakeOpenAIServer({ latencyMs: 0 });
});

afterAll(async () => {
  for (const c of clients) c.close();
  await server.close();
});

beforeEach(() => {
  server.setFaults(undefined);
  server.reset();
});

describe('chat', () => {
  test('passes sampling parameters through and returns n choices', async () => {
    const client = makeClient();
    const result = await client.chat({
      messages: [
        { role: 'system', content: 'You write hard problems.' },
        { role: 'user', content: 'concepts: graphs, parity' },
      ],
      n: 3,
      seed: 1234,
      temperature: 0.7,
      topP: 0.95,
      maxTokens: 256,
      stop: ['</problem>'],
    });
    expect(result.attempts).toBe(1);
    expect(result.model).toBe('fake-model');
    expect(result.choices.map((c) => c.text)).toEqual(
      [0, 1, 2].map((i) => `echo(seed=1234, i=${i}): concepts: graphs, parity`),
    );
    expect(result.choices.every((c) => c.finishReason === 'stop')).toBe(true);
    expect(server.requestLog).toHaveLength(1);
    const logged = server.requestLog[0]!;
    expect(logged.method).toBe('POST');
    expect(logged.path).toBe('/v1/chat/completions');
    expect(logged.body).toEqual({
      model: 'fake-model',
      messages: [
        { role: 'system', content: 'You write hard problems.' },
        { role: 'user', content: 'concepts: graphs, parity' },
      ],
      n: 3,
      seed: 1234,
      temperature: 0.7,
      top_p: 0.95,
      max_tokens: 256,
      stop: ['</problem>'],
    });
  });

  test('leaves unset parameters out, applies the model override and extra fields', async () => {
    const client = makeClient();
    await client.chat({ ...hello, model: 'other-model', extra: { top_k: 20 } });
    expect(server.requestLog[0]!.body).toEqual({ model: 'other-model', messages: hello.messages, top_k: 20 });
  });

  test('accounts token usage per client and per process', async () => {
    const client = makeClient();
    const before = processInferenceUsage()[client.name]?.promptTokens ?? 0;
    const a = await client.chat({ messages: [{ role: 'user', content: 'x'.repeat(40) }], n: 2 });
    const b = await client.chat({ messages: [{ role: 'user', content: 'y'.repeat(80) }] });
    expect(a.usage.promptTokens).toBe(10);
    expect(b.usage.promptTokens).toBe(20);
    const usage = client.usage();
    expect(usage).toMatchObject({ calls: 2, succeeded: 2, failed: 0, attempts: 2, retries: 0, failedAttempts: 0 });
    expect(usage.promptTokens).toBe(30);
    expect(usage.completionTokens).toBe(a.usage.completionTokens + b.usage.completionTokens);
    expect(usage.completionTokens).toBeGreaterThan(0);
    expect(processInferenceUsage()[client.name]!.promptTokens - before).toBe(30);
  });

  test('keeps the reasoning tokens a server reports (completion_tokens_details), and none where it reports none', async () => {
    const reasoner = await startFakeOpenAIServer({
      latencyMs: 0,
      respond: (body) =>
        JSON.stringify(body).includes('think')
          ? { content: 'The answer is 4.', reasoning: 'r'.repeat(400) }
          : 'plain answer',
    });
    try {
      const client = makeClient({ baseUrl: reasoner.url });
      const thought = await client.chat({ messages: [{ role: 'user', content: 'think: 2 + 2' }] });
      expect(thought.usage.reasoningTokens).toBe(100);
      expect(thought.usage.completionTokens).toBe(100 + Math.ceil('The answer is 4.'.length / 4));
      const plain = await client.chat({ messages: [{ role: 'user', content: 'say hi' }] });
      expect(plain.usage).not.toHaveProperty('reasoningTokens');
    } finally {
      await reasoner.close();
    }
  });

  test('complete() generates with /v1/completions', async () => {
    const client = makeClient();
    const result = await client.complete({ prompt: 'Problem:', seed: 3, n: 2 });
    expect(result.choices.map((c) => c.text)).toEqual([' completion(seed=3, i=0)', ' completion(seed=3, i=1)']);
    expect(server.requestLog[0]!.path).toBe('/v1/completions');
    expect(server.requestLog[0]!.body).toMatchObject({ model: 'fake-model', prompt: 'Problem:', seed: 3, n: 2 });
  });

  test('models() lists the served models', async () => {
    expect(await makeClient().models()).toEqual(['fake-model']);
  });
});

describe('retries', () => {
  const cases: Array<[string, Fault, string]> = [
    ['HTTP 500', { type: 'status', status: 500 }, 'server_error'],
    ['HTTP 503', { type: 'status', status: 503 }, 'server_error'],
    ['a slow answer beyond the timeout', { type: 'slow', delayMs: 3_000 }, 'timeout'],
    ['a dropped connection', { type: 'drop' }, 'connection'],
    ['a malformed body', { type: 'malformed' }, 'malformed_response'],
    ['a truncated body', { type: 'truncated' }, 'malformed_response'],
  ];

  test.each(cases)('%s followed by success succeeds on the second attempt', async (_label, fault, kind) => {
    const events: string[] = [];
    const client = makeClient({ timeoutMs: 300 }, { onRetry: (e) => events.push(e.failure.kind) });
    server.setFaults([fault]);
    const result = await client.chat(hello);
    expect(result.attempts).toBe(2);
    expect(result.choices[0]!.text).toBe('echo(seed=none, i=0): hello');
    expect(server.requests).toBe(2);
    expect(events).toEqual([kind]);
    const usage = client.usage();
    expect(usage).toMatchObject({ calls: 1, succeeded: 1, attempts: 2, retries: 1, failedAttempts: 1 });
    expect(usage.failuresByKind).toEqual({ [kind]: 1 });
  });

  test('429 honours Retry-After', async () => {
    const client = makeClient({ initialBackoffMs: 1, maxBackoffMs: 2 });
    server.setFaults([{ type: 'status', status: 429, retryAfterSec: 1 }]);
    const result = await client.chat(hello);
    expect(result.attempts).toBe(2);
    const [first, second] = server.requestLog;
    expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(950);
    expect(client.usage().failuresByKind).toEqual({ rate_limited: 1 });
    expect(client.usage().retries).toBe(1);
  });

  test('the retry counter grows with every retry', async () => {
    const client = makeClient();
    server.setFaults([{ type: 'status', status: 500 }, { type: 'drop' }]);
    await client.chat(hello);
    expect(client.usage().retries).toBe(2);
    server.setFaults([{ type: 'malformed' }]);
    await client.chat(hello);
    expect(client.usage()).toMatchObject({ calls: 2, succeeded: 2, attempts: 5, retries: 3 });
  });

  test('a persistent 500 throws InferenceUnavailableError after maxRetries', async () => {
    const client = makeClient({ maxRetries: 2 });
    server.setFaults(() => ({ type: 'status', status: 500, message: 'engine crashed' }));
    const err = await client.chat(hello).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InferenceUnavailableError);
    const unavailable = err as InferenceUnavailableError;
    expect(unavailable.retryable).toBe(true);
    expect(unavailable.attempts).toBe(3);
    expect(unavailable.status).toBe(500);
    expect(unavailable.message).toContain('engine crashed');
    expect(server.requests).toBe(3);
    expect(client.usage()).toMatchObject({ calls: 1, failed: 1, attempts: 3, retries: 2, failedAttempts: 3 });
  });

  test('HTTP 400 throws NonRetryableInferenceError with the server message, without retrying', async () => {
    const client = makeClient();
    server.setFaults([{ type: 'status', status: 400, message: "This model's maximum context length is 4096 tokens" }]);
    const err = await client.chat(hello).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NonRetryableInferenceError);
    expect((err as NonRetryableInferenceError).status).toBe(400);
    expect((err as Error).message).toContain('maximum context length is 4096 tokens');
    expect(server.requests).toBe(1);
    expect(client.usage()).toMatchObject({ attempts: 1, retries: 0, failed: 1 });
  });

  test('a caller abort stops the call during backoff', async () => {
    const client = makeClient({ initialBackoffMs: 10_000, maxBackoffMs: 10_000 });
    server.setFaults([{ type: 'status', status: 503 }]);
    const controller = new AbortController();
    const started = Date.now();
    const pending = client.chat(hello, { signal: controller.signal }).catch((e: unknown) => e);
    setTimeout(() => controller.abort(new Error('cancelled by test')), 100);
    const err = await pending;
    expect((err as Error).message).toBe('cancelled by test');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(client.usage()).toMatchObject({ cancelled: 1, failed: 0 });
  });

  test('the limiter slot is given back while waiting to retry', async () => {
    const client = makeClient({ maxConcurrency: 1, initialBackoffMs: 600, maxBackoffMs: 600 });
    server.setFaults([{ type: 'status', status: 500 }]);
    const order: string[] = [];
    const first = client.chat({ messages: [{ role: 'user', content: 'first' }] }).then(() => order.push('first'));
    await new Promise((r) => setTimeout(r, 50));
    const second = client.chat({ messages: [{ role: 'user', content: 'second' }] }).then(() => order.push('second'));
    await Promise.all([first, second]);
    expect(order).toEqual(['second', 'first']);
  });

  test('backoff doubles, is jittered and capped; Retry-After wins when longer', () => {
    const policy = { maxRetries: 6, initialBackoffMs: 100, maxBackoffMs: 1_000 };
    expect(backoffDelayMs(1, policy, () => 0)).toBe(50);
    expect(backoffDelayMs(1, policy, () => 0.999999)).toBeCloseTo(100, 3);
    expect(backoffDelayMs(3, policy, () => 0)).toBe(200);
    expect(backoffDelayMs(10, policy, () => 0)).toBe(500);
    expect(backoffDelayMs(1, policy, () => 0, 2_000)).toBe(2_000);
    expect(parseRetryAfter(new Headers({ 'retry-after': '2' }))).toBe(2_000);
    expect(parseRetryAfter(new Headers({ 'retry-after-ms': '150' }))).toBe(150);
    expect(parseRetryAfter(new Headers({ 'retry-after': new Date(Date.now() + 3_000).toUTCString() }))).toBeGreaterThan(
      1_000,
    );
    expect(parseRetryAfter(new Headers({}))).toBeUndefined();
  });
});

describe('limits', () => {
  test('never more requests in flight than maxConcurrency', async () => {
    const slow = await startFakeOpenAIServer({ latencyMs: 20, logRequests: false });
    try {
      const client = makeClient({ baseUrl: slow.url, maxConcurrency: 4 });
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => client.chat({ messages: [{ role: 'user', content: `q${i}` }] })),
      );
      expect(results).toHaveLength(50);
      expect(slow.requests).toBe(50);
      expect(slow.maxInFlight).toBeLessThanOrEqual(4);
      expect(slow.maxInFlight).toBe(4);
      expect(client.limiter.maxActive).toBe(4);
      expect([...slow.countsByKey().values()].every((n) => n === 1)).toBe(true);
    } finally {
      await slow.close();
    }
  });

  test('requestsPerSecond spaces request starts', async () => {
    const client = makeClient({ requestsPerSecond: 40, maxConcurrency: 16 });
    await Promise.all(
      Array.from({ length: 12 }, (_, i) => client.chat({ messages: [{ role: 'user', content: `r${i}` }] })),
    );
    const times = server.requestLog.map((r) => r.receivedAt).sort((a, b) => a - b);
    const spanMs = times[times.length - 1]! - times[0]!;
    // 12 starts at 40/s: 11 intervals of 25 ms.
    expect(spanMs).toBeGreaterThanOrEqual(11 * 25 * 0.85);
    expect(spanMs).toBeLessThan(11 * 25 * 3);
  });

  test('Limiter: FIFO, abort while queued releases nothing', async () => {
    const limiter = new Limiter({ maxConcurrency: 1 });
    const r1 = await limiter.acquire();
    const controller = new AbortController();
    const queued = limiter.acquire(controller.signal);
    const next = limiter.acquire();
    expect(limiter.pending).toBe(2);
    controller.abort(new Error('gone'));
    await expect(queued).rejects.toThrow('gone');
    expect(limiter.pending).toBe(1);
    r1();
    r1(); // a second release is harmless
    const r3 = await next;
    expect(limiter.active).toBe(1);
    r3();
    expect(limiter.active).toBe(0);
  });
});

describe('scoreSpans', () => {
  const text = 'Concepts: parity. Problem: prove it.';
  const expected = (start: number, end: number) => {
    let sum = 0;
    for (let i = start; i < end; i++) sum += fakeLogprob(text[i]!);
    return sum;
  };

  test('sums token log-probs over two character spans', async () => {
    const client = makeClient();
    const problemStart = text.indexOf('Problem:');
    const spans = [
      { start: 10, end: 17 },
      { start: problemStart, end: text.length },
    ];
    const result = await client.scoreSpans({ text, spans });
    expect(result.tokenCount).toBe(text.length);
    expect(result.spanLogProbs[0]).toBeCloseTo(expected(10, 17), 10);
    expect(result.spanLogProbs[1]).toBeCloseTo(expected(problemStart, text.length), 10);
    expect(result.tokens[0]).toEqual({ text: 'C', offset: 0, logprob: null });
    expect(server.requestLog[0]!.path).toBe('/v1/completions');
    expect(server.requestLog[0]!.body).toEqual({
      model: 'fake-model',
      prompt: text,
      echo: true,
      logprobs: 1,
      max_tokens: 0,
    });
    expect(client.usage().promptTokens).toBe(text.length);
  });

  test('rejects a span over the first token, whose log-prob is null', async () => {
    const client = makeClient();
    const err = await client.scoreSpans({ text, spans: [{ start: 0, end: 8 }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NonRetryableInferenceError);
    expect((err as Error).message).toMatch(/no log-prob/);
  });

  test('rejects spans outside the text before calling the server', async () => {
    const client = makeClient();
    await expect(client.scoreSpans({ text, spans: [{ start: 5, end: 999 }] })).rejects.toThrow(
      NonRetryableInferenceError,
    );
    expect(server.requests).toBe(0);
  });

  test('alignment tolerates a leading BOS, checks offsets and rejects an echo that differs', () => {
    const withBos = alignEchoedTokens('ab c', {
      tokens: ['<s>', 'ab', ' c'],
      token_logprobs: [null, -1, -2],
      text_offset: [0, 3, 5],
    });
    expect(withBos).toEqual([
      { text: 'ab', offset: 0, logprob: -1 },
      { text: ' c', offset: 2, logprob: -2 },
    ]);
    expect(sumSpanLogProbs(withBos, [{ start: 0, end: 4 }])).toEqual([-3]);
    expect(() => alignEchoedTokens('ab c', { tokens: ['ab', 'c'], token_logprobs: [null, -1] })).toThrow(
      SpanScoringError,
    );
    expect(() =>
      alignEchoedTokens('ab c', { tokens: ['ab', ' c'], token_logprobs: [null, -1], text_offset: [0, 3] }),
    ).toThrow(/text_offset/);
    expect(() => alignEchoedTokens('ab', { tokens: ['ab'] })).toThrow(/echo: true/);
  });
});

describe('pool and activities', () => {
  function config() {
    return ConfigSchema.parse({
      endpoints: {
        fake: { baseUrl: server.url, model: 'fake-model', maxRetries: 1, initialBackoffMs: 5, maxBackoffMs: 10 },
      },
      roles: {
        promptGenerator: { endpoint: 'fake', model: 'prompt-gen' },
        rationaleModel: { endpoint: 'fake' },
        testCaseWriter: { endpoint: 'fake' },
        policy: { endpoint: 'fake' },
        teacher: { endpoint: 'fake' },
      },
    });
  }

  test('one client per endpoint, seen by each role under its name, role model overrides', () => {
    const pool = new InferencePool(config());
    const gen = pool.forRole('promptGenerator');
    const policy = pool.forRole('policy');
    // role views of the endpoint's one client: its limiter, connections and usage, each role in the metrics
    expect(Object.getPrototypeOf(gen.client)).toBe(pool.client('fake'));
    expect(Object.getPrototypeOf(policy.client)).toBe(pool.client('fake'));
    expect(gen.client.limiter).toBe(policy.client.limiter);
    expect([gen.client.role, policy.client.role, pool.client('fake').role]).toEqual([
      'promptGenerator',
      'policy',
      undefined,
    ]);
    expect(pool.forRole('policy').client).toBe(policy.client);
    expect(gen.model).toBe('prompt-gen');
    expect(policy.model).toBe('fake-model');
    expect(() => pool.client('nope')).toThrow(/unknown inference endpoint "nope"/);
    pool.close();
  });

  test('activities call the role model and map errors to ApplicationFailure', async () => {
    const pool = new InferencePool(config());
    const activities = createInferenceActivities(pool);
    const result = await activities.chatCompletion({ role: 'promptGenerator', request: hello });
    expect(result.model).toBe('prompt-gen');
    expect(server.requestLog[0]!.body).toMatchObject({ model: 'prompt-gen' });

    const scores = await activities.scoreSpans({ role: 'policy', text: 'abcd', spans: [{ start: 1, end: 3 }] });
    expect(scores.spanLogProbs[0]).toBeCloseTo(fakeLogprob('b') + fakeLogprob('c'), 10);

    server.setFaults([{ type: 'status', status: 400, message: 'bad request' }]);
    const bad = await activities.chatCompletion({ role: 'policy', request: hello }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(ApplicationFailure);
    expect((bad as ApplicationFailure).nonRetryable).toBe(true);
    expect((bad as ApplicationFailure).type).toBe('NonRetryableInferenceError');
    expect((bad as ApplicationFailure).message).toContain('bad request');

    server.setFaults(() => ({ type: 'status', status: 503 }));
    const down = await activities.chatCompletion({ role: 'policy', request: hello }).catch((e: unknown) => e);
    expect(down).toBeInstanceOf(ApplicationFailure);
    expect((down as ApplicationFailure).nonRetryable).toBe(false);
    expect((down as ApplicationFailure).type).toBe('InferenceUnavailableError');
    pool.close();
  });

  test('inside an activity context: heartbeats while waiting, cancellation aborts the request', async () => {
    const slow = await startFakeOpenAIServer({ latencyMs: 400 });
    try {
      const cfg = config();
      cfg.endpoints.fake!.baseUrl = slow.url;
      const pool = new InferencePool(cfg);
      const activities = createInferenceActivities(pool);
      const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 300 });
      let heartbeats = 0;
      env.on('heartbeat', () => heartbeats++);
      const result: GenerationResult = await env.run(activities.chatCompletion, {
        role: 'policy' as const,
        request: hello,
      });
      expect(result.choices[0]!.text).toBe('echo(seed=none, i=0): hello');
      expect(heartbeats).toBeGreaterThanOrEqual(3);

      const cancelEnv = new MockActivityEnvironment({ heartbeatTimeoutMs: 300 });
      const started = Date.now();
      const pending = cancelEnv
        .run(activities.chatCompletion, { role: 'policy' as const, request: hello })
        .catch((e: unknown) => e);
      setTimeout(() => cancelEnv.cancel(), 100);
      const err = await pending;
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).name).toBe('CancelledFailure');
      expect(Date.now() - started).toBeLessThan(350);
      expect(pool.client('fake').usage().cancelled).toBe(1);
      pool.close();
    } finally {
      await slow.close();
    }
  });
});
