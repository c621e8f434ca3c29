// Benchmark of the embedded model server on a real model: `npm run bench -- model-server` (registered in
// scripts/bench.ts). Needs SmolLM2-135M-Instruct from scripts/setup.sh (localModel.chatModelPath), or --model FILE.
//
// Generation: the same prompt, seed, temperature and length through our server (its own process, HTTP POST
// /v1/completions with ignore_eos so every run makes exactly --tokens tokens) and through node-llama-cpp's native
// generation in this process (LlamaContextSequence.evaluate with the sampler the server uses, EOS not stopping it),
// with the same thread count, alternating for --rounds rounds; the medians of tokens/s and their ratio (goal >= 0.8).
// Both reuse the cached prompt prefix between rounds, as the server does. `sameText` says whether both made the same
// text (they should: the same native sampler and seed). With --parallel N (default 4), N requests at once against N
// concurrent native sequences, --rounds times: median aggregate tokens/s.
// Scoring: /v1/completions with echo, logprobs 1 and max_tokens 0 on a ~--score-tokens text: prompt tokens/s,
// against node-llama-cpp evaluating the same tokens without any logits (the prefill speed, an upper bound).
// Options: --model FILE --tokens 256 --rounds 3 --parallel 4 --threads N --seed 7 --temperature 0.8
// --score-tokens 1000.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { LlamaContextSequence, LlamaModel, Token } from 'node-llama-cpp';
import { LocalModelConfigSchema } from '../../domain/platform/config';
import { defaultThreads, loadNodeLlamaCpp } from '../local-model/engine';
import { nativeSeed } from '../local-model/sampling';

const ROOT = path.join(__dirname, '..', '..');

function argValue(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

function argString(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

const PROMPT =
  'The following is a careful, step-by-step solution of a competition problem about prime numbers and modular ' +
  'arithmetic, written for a student preparing for olympiads.\n\nProblem.';

const SCORE_PARAGRAPH =
  'Let n be a positive integer such that n^2 + 1 is divisible by a prime p of the form 4k + 3. Show that this is ' +
  'impossible, and determine all pairs (a, b) of integers with a^2 + b^2 = 3c^2. We first reduce modulo 4, then ' +
  'use infinite descent: if a solution exists, a smallest one exists, and dividing by 3 gives a smaller one. ';

interface ServerProcess {
  url: string;
  child: ChildProcess;
}

/** Our server in its own process, as the quick start runs it. */
function startServer(modelPath: string, threads: number, parallel: number): Promise<ServerProcess> {
  const args = [
    require.resolve('tsx/cli'),
    'scripts/local-model-server.ts',
    ...['--model', modelPath, '--port', '0', '--host', '127.0.0.1', '--name', 'bench'],
    ...['--parallel', String(parallel), '--context-size', '2048', '--threads', String(threads)],
  ];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`model server did not start:\n${output}`)), 120_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const m = /listening on (http:\/\/\S+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1]!, child });
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`model server exited with code ${code}:\n${output}`));
    });
  });
}

/** The parts of a /v1/completions answer the benchmark reads. */
interface CompletionAnswer {
  choices: Array<{ text: string }>;
  usage: { prompt_tokens: number; completion_tokens: number };
}

async function post(url: string, body: unknown): Promise<CompletionAnswer> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json: unknown = await res.json();
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}: ${JSON.stringify(json)}`);
  return json as CompletionAnswer;
}

interface Sampling {
  tokens: number;
  seed: number;
  temperature: number;
}

/** node-llama-cpp's own generation of exactly `tokens` tokens, reusing the cached prefix like the server. */
async function nativeGenerate(
  seq: LlamaContextSequence,
  model: LlamaModel,
  prompt: Token[],
  s: Sampling,
): Promise<{ tokens: number; seconds: number; text: string }> {
  const started = performance.now();
  const keep = Math.min(seq.compareContextTokens(prompt).firstDifferentIndex, prompt.length - 1);
  if (seq.nextTokenIndex > keep) await seq.eraseContextTokenRanges([{ start: keep, end: seq.nextTokenIndex }]);
  const out: Token[] = [];
  for await (const token of seq.evaluate(prompt.slice(keep), {
    temperature: s.temperature,
    topP: 1,
    topK: 0,
    minP: 0,
    seed: nativeSeed(s.seed),
    yieldEogToken: true,
  })) {
    out.push(token);
    if (out.length >= s.tokens) break;
  }
  const seconds = (performance.now() - started) / 1000;
  return { tokens: out.length, seconds, text: model.detokenize(out.filter((t) => !model.isEogToken(t))) };
}

async function serverGenerate(
  url: string,
  s: Sampling,
): Promise<{ tokens: number; seconds: number; text: string; promptTokens: number }> {
  const started = performance.now();
  const json = await post(`${url}/completions`, {
    prompt: PROMPT,
    max_tokens: s.tokens,
    temperature: s.temperature,
    top_p: 1,
    seed: s.seed,
    ignore_eos: true,
  });
  const seconds = (performance.now() - started) / 1000;
  return {
    tokens: json.usage.completion_tokens,
    seconds,
    text: json.choices[0]!.text,
    promptTokens: json.usage.prompt_tokens,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

export async function benchModelServer(): Promise<Record<string, unknown>> {
  const modelPath = path.resolve(ROOT, argString('model') ?? LocalModelConfigSchema.parse({}).chatModelPath);
  if (!existsSync(modelPath))
    throw new Error(`${modelPath} does not exist: run scripts/setup.sh (it extracts SmolLM2 into models/)`);
  const sampling: Sampling = {
    tokens: argValue('tokens', 256),
    seed: argValue('seed', 7),
    temperature: argValue('temperature', 0.8),
  };
  const rounds = argValue('rounds', 3);
  const parallel = argValue('parallel', 4);
  const scoreTokens = argValue('score-tokens', 1000);

  const { getLlama, LlamaLogLevel } = await loadNodeLlamaCpp();
  const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
  const threads = argValue('threads', defaultThreads(modelPath, llama.cpuMathCores));
  const model = await llama.loadModel({ modelPath });
  const context = await model.createContext({ contextSize: 2048, sequences: Math.max(1, parallel), threads });
  const sequences = Array.from({ length: Math.max(1, parallel) }, () => context.getSequence());
  const withBos = (tokens: Token[]) =>
    model.tokens.shouldPrependBosToken && model.tokens.bos !== null ? [model.tokens.bos, ...tokens] : tokens;
  const prompt = withBos(model.tokenize(PROMPT, false));
  const server = await startServer(modelPath, threads, Math.max(1, parallel));
  try {
    // Warm-up (page the weights in, first allocations) on both sides.
    await nativeGenerate(sequences[0]!, model, prompt, { ...sampling, tokens: 8 });
    await serverGenerate(server.url, { ...sampling, tokens: 8 });

    const native: Array<{ tokens: number; seconds: number; text: string }> = [];
    const ours: Array<{ tokens: number; seconds: number; text: string; promptTokens: number }> = [];
    for (let r = 0; r < rounds; r++) {
      native.push(await nativeGenerate(sequences[0]!, model, prompt, sampling));
      ours.push(await serverGenerate(server.url, sampling));
    }
    const nativeRate = median(native.map((x) => x.tokens / x.seconds));
    const serverRate = median(ours.map((x) => x.tokens / x.seconds));

    let parallelResult: Record<string, unknown> | undefined;
    if (parallel > 1) {
      const seeds = Array.from({ length: parallel }, (_, i) => sampling.seed + 100 + i);
      const nativeRates: number[] = [];
      const serverRates: number[] = [];
      let nativeTokens = 0;
      let serverTokens = 0;
      let sameText = true;
      for (let r = 0; r < rounds; r++) {
        let started = performance.now();
        const nativeRuns = await Promise.all(
          seeds.map((seed, i) => nativeGenerate(sequences[i]!, model, prompt, { ...sampling, seed })),
        );
        const nativeSeconds = (performance.now() - started) / 1000;
        started = performance.now();
        const serverRuns = await Promise.all(seeds.map((seed) => serverGenerate(server.url, { ...sampling, seed })));
        const serverSeconds = (performance.now() - started) / 1000;
        nativeTokens = nativeRuns.reduce((a, x) => a + x.tokens, 0);
        serverTokens = serverRuns.reduce((a, x) => a + x.tokens, 0);
        nativeRates.push(nativeTokens / nativeSeconds);
        serverRates.push(serverTokens / serverSeconds);
        sameText &&= nativeRuns.every((x, i) => x.text === serverRuns[i]!.text);
      }
      parallelResult = {
        requests: parallel,
        nativeTokens,
        serverTokens,
        nativeTokensPerSecond: round2(median(nativeRates)),
        serverTokensPerSecond: round2(median(serverRates)),
        ratio: round2(median(serverRates) / median(nativeRates)),
        sameText,
      };
    }

    // Scoring: a text of about `scoreTokens` tokens.
    let scoreText = '';
    while (model.tokenize(scoreText, false).length < scoreTokens) scoreText += SCORE_PARAGRAPH;
    const scoreTokenIds = withBos(model.tokenize(scoreText, false));
    const scoring: Array<{ seconds: number; promptTokens: number }> = [];
    const prefill: number[] = [];
    for (let r = 0; r < rounds; r++) {
      await sequences[0]!.clearHistory();
      let started = performance.now();
      await sequences[0]!.evaluateWithoutGeneratingNewTokens(scoreTokenIds);
      prefill.push((performance.now() - started) / 1000);
      started = performance.now();
      const json = await post(`${server.url}/completions`, {
        prompt: scoreText,
        max_tokens: 0,
        echo: true,
        logprobs: 1,
      });
      scoring.push({ seconds: (performance.now() - started) / 1000, promptTokens: json.usage.prompt_tokens });
    }
    const scoringRate = median(scoring.map((x) => x.promptTokens / x.seconds));
    const prefillRate = median(prefill.map((s) => scoreTokenIds.length / s));

    return {
      bench: 'model-server',
      model: path.basename(modelPath),
      threads,
      promptTokens: ours[0]!.promptTokens,
      maxTokens: sampling.tokens,
      temperature: sampling.temperature,
      seed: sampling.seed,
      rounds,
      generation: {
        nativeTokens: native.map((x) => x.tokens),
        serverTokens: ours.map((x) => x.tokens),
        nativeTokensPerSecond: round2(nativeRate),
        serverTokensPerSecond: round2(serverRate),
        ratio: round2(serverRate / nativeRate),
        sameText: native.every((x, i) => x.text === ours[i]!.text),
      },
      ...(parallelResult ? { parallel: parallelResult } : {}),
      scoring: {
        promptTokens: scoring[0]!.promptTokens,
        serverPromptTokensPerSecond: round2(scoringRate),
        nativePrefillTokensPerSecond: round2(prefillRate),
        ratio: round2(scoringRate / prefillRate),
      },
    };
  } finally {
    server.child.kill('SIGTERM');
    await llama.dispose();
  }
}
