// End-to-end check of the embedded OpenAI-compatible server on the generated tiny bigram model: real GGUF file,
// real llama.cpp (node-llama-cpp, in a child process since jest cannot load that ESM-only package), real HTTP.
// Log-probs and greedy decoding are compared with an independent float64 computation from the same seed; native
// sampling (llama.cpp's own sampler, whose random stream we do not reproduce) is checked for determinism per seed
// and for drawing from the model's distribution.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { renderChatPrompt } from '../../lib/local-model/http';
import { startLocalModelProcess, type LocalModelProcess } from '../support/local-model';
import {
  generateTinyModel,
  referenceLogProbs,
  referenceNextLogProbs,
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

describe('native sampling (generation without log-probs)', () => {
  const EOS = 257;
  /** The next-token distribution of the tiny model after byte `prev` (float64 reference). */
  const nextProbs = (prev: number) => Array.from(referenceNextLogProbs(prev, model), Math.exp);

  test('temperature 0 follows the argmax chain of the model exactly', async () => {
    const { json } = await post('/completions', { prompt: 'The answer is', max_tokens: 40, temperature: 0 });
    const expected: number[] = [];
    let prev = 's'.charCodeAt(0);
    let finish = 'length';
    while (expected.length < 40) {
      const p = nextProbs(prev);
      const best = p.indexOf(Math.max(...p));
      if (best === EOS) {
        finish = 'stop';
        break;
      }
      expected.push(best);
      prev = best;
    }
    expect(json.choices[0].text).toBe(Buffer.from(expected).toString('utf8'));
    expect(json.choices[0].finish_reason).toBe(finish);
    expect(json.usage.completion_tokens).toBe(expected.length + (finish === 'stop' ? 1 : 0));
  });

  test('first tokens drawn over many seeds follow the model distribution', async () => {
    // 256 single-token samples after "Th" (prev byte 'h'), bucketed by their text; EOS gives "".
    const replies = await Promise.all(
      [0, 64, 128, 192].map((seed) => post('/completions', { prompt: 'Th', max_tokens: 1, n: 64, seed })),
    );
    const counts = new Map<string, number>();
    for (const r of replies) for (const c of r.json.choices) counts.set(c.text, (counts.get(c.text) ?? 0) + 1);
    const expected = new Map<string, number>();
    nextProbs('h'.charCodeAt(0)).forEach((p, t) => {
      const key = t === EOS ? '' : t < 128 ? String.fromCharCode(t) : '\uFFFD';
      if (t !== EOS - 1) expected.set(key, (expected.get(key) ?? 0) + p); // EOS - 1: BOS, never generated
    });
    const n = 256;
    // Each bucket with an expected count of at least 5 lies within 5 standard deviations of it.
    for (const [key, p] of expected) {
      if (p * n < 5) continue;
      const sd = Math.sqrt(n * p * (1 - p));
      expect(Math.abs((counts.get(key) ?? 0) - n * p)).toBeLessThan(5 * sd);
    }
    // Nothing the model gives no weight is drawn.
    for (const key of counts.keys()) expect(expected.get(key) ?? 0).toBeGreaterThan(0);
  });

  test('a small top_p keeps only the most likely token', async () => {
    const { json } = await post('/completions', { prompt: 'Th', max_tokens: 1, n: 16, seed: 5, top_p: 0.01 });
    const p = nextProbs('h'.charCodeAt(0));
    const best = String.fromCharCode(p.indexOf(Math.max(...p)));
    for (const c of json.choices) expect(c.text).toBe(best);
  });

  test('ignore_eos makes exactly max_tokens tokens; the seed still decides the text', async () => {
    const body = { prompt: 'Once', max_tokens: 200, seed: 9, n: 4, ignore_eos: true };
    const { json } = await post('/completions', body);
    expect(json.usage.completion_tokens).toBe(4 * 200);
    for (const c of json.choices) expect(c.finish_reason).toBe('length');
    const again = await post('/completions', body);
    expect(again.json.choices.map((c: any) => c.text)).toEqual(json.choices.map((c: any) => c.text));
  });

  test('the same seed gives the same text while other requests share the batch', async () => {
    const body = { prompt: 'Seeded', max_tokens: 120, seed: 31 };
    const alone = await post('/completions', body);
    const [busy] = await Promise.all([
      post('/completions', body),
      post('/completions', { prompt: 'Other text', max_tokens: 150, seed: 1 }),
      post('/chat/completions', { messages: [{ role: 'user', content: 'hi' }], max_tokens: 150, seed: 2 }),
    ]);
    expect(busy.json.choices[0].text).toBe(alone.json.choices[0].text);
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
