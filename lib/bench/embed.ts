// `npm run bench -- embed [--problems 2000] [--concurrency 1,2] [--model-dir models/all-MiniLM-L6-v2-int8]`:
// problems embedded per second by the diversity analysis' embedders on this machine: the MiniLM ONNX model
// (onnxruntime-node with its own threads on every core, `concurrency` problems in flight as the embedProblem
// stage runs them), our WordPiece tokenizer alone, and the bag-of-words fallback, over synthetic problems of realistic length
// and vocabulary (lib/bench/realistic-problems.ts). Prints the JSON summary with word pieces per problem and the
// peak RSS.
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { bagOfWords, OnnxEmbedder } from '../../activities/analysis/embedders';
import { DEFAULT_EMBEDDING_MODEL_DIR } from '../../domain/analyze-corpora';
import { RealisticProblemGenerator } from './realistic-problems';

function argValue(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
}

async function inFlight<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      for (let i = next++; i < items.length; i = next++) await fn(items[i]!);
    }),
  );
}

export async function benchEmbed(): Promise<Record<string, unknown>> {
  const count = Number(argValue('problems', '2000'));
  const levels = argValue('concurrency', '1,2').split(',').map(Number);
  const modelDir = path.resolve(argValue('model-dir', DEFAULT_EMBEDDING_MODEL_DIR));
  const generator = new RealisticProblemGenerator({ seed: 18 });
  const problems = Array.from({ length: count }, () => generator.next().text);
  const chars = problems.reduce((s, p) => s + p.length, 0) / count;

  const embedder = await OnnxEmbedder.load(modelDir, 256);
  let pieces = 0;
  let truncated = 0;
  let started = performance.now();
  for (const p of problems) {
    const n = embedder.tokenizer.encode(p, 256).length;
    pieces += n;
    if (n === 256) truncated++;
  }
  const tokenizerPerSecond = count / ((performance.now() - started) / 1000);

  await inFlight(problems.slice(0, 50), 2, (p) => embedder.embed(p)); // warm-up
  const onnx: Record<string, number> = {};
  for (const level of levels) {
    started = performance.now();
    await inFlight(problems, level, (p) => embedder.embed(p));
    onnx[`concurrency${level}`] = +(count / ((performance.now() - started) / 1000)).toFixed(1);
  }

  started = performance.now();
  for (const p of problems) bagOfWords(p, 1024);
  const bagPerSecond = count / ((performance.now() - started) / 1000);

  return {
    bench: 'embed',
    problems: count,
    cores: os.availableParallelism(),
    model: modelDir,
    meanChars: +chars.toFixed(1),
    meanWordPieces: +(pieces / count).toFixed(1),
    truncatedAt256: truncated,
    onnxProblemsPerSecond: onnx,
    tokenizerProblemsPerSecond: +tokenizerPerSecond.toFixed(0),
    bagOfWordsProblemsPerSecond: +bagPerSecond.toFixed(0),
    peakRssMb: +(process.resourceUsage().maxRSS / 1024).toFixed(0),
  };
}
