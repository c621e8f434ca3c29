// End-to-end check of the embedded OpenAI-compatible server on the generated tiny bigram model: real GGUF file,
// real llama.cpp (node-llama-cpp, in a child process since jest cannot load that ESM-only package), real HTTP.
// Log-probs are compared with an independent float64 computation from the same seed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { renderChatPrompt } from '../../lib/local-model/http';
import { startLocalModelProcess, type LocalModelProcess } from '../support/local-model';
import {
  generateTinyModel,
  referenceLogProbs,
  tinyModel,
  tokenizeBytes,
  type TinyBigramModel,
} from '../../lib/tiny-model';

const SEED = 424242; // not the default seed: the server must serve the file it is given
const MODEL_NAME = 'tiny-test';

let dir: string;
let server: LocalModelProcess;
let baseUrl: string;
let model: TinyBigramModel;

async function post(route: string, body: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${baseUrl}${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'tiny-model-'));
  const made = generateTinyModel({ outPath: path.join(dir, 'tiny.gguf'), seed: SEED });
  expect(made.written).toBe(true);
  expect(generateTinyModel({ outPath: made.path, seed: SEED }).written).toBe(false); // identical file is kept
  model = tinyModel(SEED);
  server = await startLocalModelProcess(made.path, { name: MODEL_NAME });
  baseUrl = server.url;
  const health = await fetch(`${baseUrl.replace(/\/v1$/, '')}/health`);
  expect(health.status).toBe(200);
  expect(await health.json()).toEqual({ status: 'ok' });
}, 120_000);

afterAll(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('lists the served model', async () => {
  const res = await fetch(`${baseUrl}/models`);
  expect(res.status).toBe(200);
  const body = (await res.json()) as any;
  expect(body.object).toBe('list');
  expect(body.data.map((m: any) => m.id)).toEqual([MODEL_NAME]);
  expect(body.data[0].object).toBe('model');
});

describe('/v1/completions scoring (echo, logprobs, max_tokens 0)', () => {
  const texts = [
    'Hello world',
    'two  spaces,\nnew lines\n\n\tand a tab.',
    'é∑ — non-ASCII 😀 text',
    ' leading and trailing ',
    'x',
  ];

  test.each(texts)('exact log-probs for %j', async (text) => {
    const { status, json } = await post('/completions', {
      model: MODEL_NAME,
      prompt: text,
      max_tokens: 0,
      echo: true,
      logprobs: 1,
    });
    expect(status).toBe(200);
    const choice = json.choices[0];
    expect(choice.text).toBe(text);
    const lp = choice.logprobs;
    const bytes = Buffer.from(text, 'utf8');
    // One token per byte; BOS is context, not text.
    expect(lp.tokens).toHaveLength(bytes.length);
    expect(lp.tokens.join('')).toBe(text);
    let offset = 0;
    lp.tokens.forEach((piece: string, i: number) => {
      expect(lp.text_offset[i]).toBe(offset);
      offset += piece.length;
    });
    const reference = referenceLogProbs(tokenizeBytes(text), model);
    expect(reference).toHaveLength(bytes.length);
    lp.token_logprobs.forEach((v: number, i: number) => {
      expect(typeof v).toBe('number');
      expect(Math.abs(v - reference[i]!)).toBeLessThan(1e-3);
    });
    // top_logprobs holds the most likely token (never less likely than the actual one) plus the actual token.
    lp.top_logprobs.forEach((top: Record<string, number>, i: number) => {
      const values = Object.values(top);
      expect(values.length).toBeGreaterThanOrEqual(1);
      expect(values.length).toBeLessThanOrEqual(2);
      expect(Math.max(...values)).toBeGreaterThanOrEqual(lp.token_logprobs[i] - 1e-9);
    });
    expect(json.usage).toEqual({
      prompt_tokens: bytes.length + 1,
      completion_tokens: 0,
      total_tokens: bytes.length + 1,
    });
  });

  test('a batch of prompts gives one choice per prompt', async () => {
    const { status, json } = await post('/completions', {
      prompt: ['ab', 'cd e'],
      max_tokens: 0,
      echo: true,
      logprobs: 0,
    });
    expect(status).toBe(200);
    expect(json.choices.map((c: any) => c.text)).toEqual(['ab', 'cd e']);
    const reference = referenceLogProbs(tokenizeBytes('cd e'), model);
    json.choices[1].logprobs.token_logprobs.forEach((v: number, i: number) =>
      expect(Math.abs(v - reference[i]!)).toBeLessThan(1e-3),
    );
    expect(json.choices[1].logprobs.top_logprobs[0]).toEqual({ c: json.choices[1].logprobs.token_logprobs[0] });
  });
});

describe('/v1/completions generation', () => {
  test('generated tokens carry the model log-probs and obey max_tokens, seed and n', async () => {
    const body = { prompt: 'The answer is', max_tokens: 24, logprobs: 2, seed: 7, n: 2, temperature: 1 };
    const { status, json } = await post('/completions', body);
    expect(status).toBe(200);
    expect(json.choices).toHaveLength(2);
    for (const choice of json.choices) {
      const lp = choice.logprobs;
      expect(lp.tokens.join('')).toBe(choice.text);
      // Recompute each generated token's log-prob from its predecessor (the prompt ends with 's'). EOS is not
      // part of the text; a text with U+FFFD holds invalid UTF-8 and cannot be mapped back to bytes.
      expect(lp.tokens.length).toBeLessThanOrEqual(24);
      if (!choice.text.includes('\uFFFD')) {
        const generated = [...Buffer.from(choice.text, 'utf8')];
        expect(lp.token_logprobs).toHaveLength(generated.length);
        let prev = 's'.charCodeAt(0);
        generated.forEach((b, i) => {
          expect(Math.abs(lp.token_logprobs[i] - referenceLogProbs([prev, b], model)[0]!)).toBeLessThan(1e-3);
          prev = b;
        });
      }
    }
    const again = await post('/completions', body);
    expect(again.json.choices.map((c: any) => c.text)).toEqual(json.choices.map((c: any) => c.text));
    expect(json.usage.prompt_tokens).toBe(tokenizeBytes('The answer is').length);
    expect(json.usage.completion_tokens).toBeLessThanOrEqual(48);
  });

  test('stop sequences end the text', async () => {
    const { json } = await post('/completions', { prompt: 'Once', max_tokens: 300, stop: [' '], seed: 3 });
    const choice = json.choices[0];
    expect(choice.text).not.toContain(' ');
    expect(choice.finish_reason).toBe('stop');
  });
});

describe('/v1/chat/completions', () => {
  const messages = [
    { role: 'system', content: 'You write competition problems.' },
    { role: 'user', content: 'Give me a problem about primes.' },
  ];

  test('returns text and usage, deterministic per seed, n samples use seed, seed+1, …', async () => {
    const a = await post('/chat/completions', { model: MODEL_NAME, messages, max_tokens: 48, seed: 11, n: 3 });
    expect(a.status).toBe(200);
    expect(a.json.object).toBe('chat.completion');
    expect(a.json.choices).toHaveLength(3);
    for (const c of a.json.choices) {
      expect(c.message.role).toBe('assistant');
      expect(typeof c.message.content).toBe('string');
      expect(['stop', 'length']).toContain(c.finish_reason);
    }
    const promptTokens = tokenizeBytes(renderChatPrompt(messages)).length;
    expect(a.json.usage.prompt_tokens).toBe(promptTokens);
    expect(a.json.usage.completion_tokens).toBeGreaterThan(0);
    expect(a.json.usage.completion_tokens).toBeLessThanOrEqual(3 * 48);
    expect(a.json.usage.total_tokens).toBe(promptTokens + a.json.usage.completion_tokens);
    expect(a.json.choices.some((c: any) => c.message.content.length > 0)).toBe(true);

    const b = await post('/chat/completions', { messages, max_tokens: 48, seed: 11, n: 3 });
    expect(b.json.choices.map((c: any) => c.message.content)).toEqual(
      a.json.choices.map((c: any) => c.message.content),
    );
    const shifted = await post('/chat/completions', { messages, max_tokens: 48, seed: 12 });
    expect(shifted.json.choices[0].message.content).toBe(a.json.choices[1].message.content);
    const other = await post('/chat/completions', { messages, max_tokens: 48, seed: 99 });
    expect(other.json.choices[0].message.content).not.toBe(a.json.choices[0].message.content);
  });

  test('logprobs: true reports each token with its bytes and exact log-prob', async () => {
    const { json } = await post('/chat/completions', {
      messages,
      max_tokens: 32,
      seed: 5,
      logprobs: true,
      top_logprobs: 2,
    });
    const content = json.choices[0].logprobs.content as Array<{
      token: string;
      logprob: number;
      bytes: number[];
      top_logprobs: unknown[];
    }>;
    expect(content.length).toBeGreaterThan(0);
    let prev = '\n'.charCodeAt(0); // the chat prompt ends with "<|assistant|>\n"
    for (const t of content) {
      expect(t.bytes).toHaveLength(1);
      expect(Math.abs(t.logprob - referenceLogProbs([prev, t.bytes[0]!], model)[0]!)).toBeLessThan(1e-3);
      expect(t.top_logprobs).toHaveLength(2);
      prev = t.bytes[0]!;
    }
  });

  test('serves concurrent requests', async () => {
    const replies = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        post('/chat/completions', { messages: [{ role: 'user', content: `q${i}` }], max_tokens: 32, seed: i }),
      ),
    );
    for (const r of replies) expect(r.status).toBe(200);
  });

  test('greedy decoding (temperature 0) ignores the seed', async () => {
    const a = await post('/chat/completions', { messages, max_tokens: 24, temperature: 0, seed: 1 });
    const b = await post('/chat/completions', { messages, max_tokens: 24, temperature: 0, seed: 2 });
    expect(a.json.choices[0].message.content).toBe(b.json.choices[0].message.content);
  });
});

describe('errors', () => {
  test.each([
    ['/completions', { prompt: 'x', max_tokens: -1 }, 'max_tokens'],
    ['/completions', { prompt: 42 }, 'prompt'],
    ['/completions', { prompt: 'x', logprobs: 1.5 }, 'logprobs'],
    ['/chat/completions', { messages: [] }, 'messages'],
    ['/chat/completions', { messages: [{ role: 'wizard', content: 'hi' }] }, 'messages[0].role'],
    ['/chat/completions', { messages: [{ role: 'user', content: 'hi' }], temperature: 'hot' }, 'temperature'],
    ['/chat/completions', { messages: [{ role: 'user', content: 'hi' }], stream: true }, 'stream'],
  ])('%s %j → 400 naming %s', async (route, body, field) => {
    const { status, json } = await post(route, body);
    expect(status).toBe(400);
    expect(json.error.type).toBe('invalid_request_error');
    expect(json.error.param).toBe(field);
    expect(json.error.message).toContain(field);
  });

  test('invalid JSON, unknown model, unknown route', async () => {
    expect((await post('/completions', '{not json')).status).toBe(400);
    const wrongModel = await post('/completions', { model: 'gpt-9', prompt: 'x' });
    expect(wrongModel.status).toBe(404);
    expect(wrongModel.json.error.param).toBe('model');
    const res = await fetch(`${baseUrl}/nothing-here`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as any).error.message).toContain('/v1/nothing-here');
  });
});
