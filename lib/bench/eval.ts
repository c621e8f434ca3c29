// `npm run bench -- eval [--math 10000] [--code 10000] [--tests 3] [--concurrency <cores>]`: cells per second
// through evaluation's scoring (scoreCell, as a sandbox worker runs it) on a synthetic log of sampled cells:
// math cells with completions of realistic shape (reasoning, then a boxed, unboxed or wrong answer) through the
// verifier in both modes; code cells with small Python programs (right, wrong, missing) run on their tests in the
// sandbox, `concurrency` cells at a time. Also the summary step's metrics over the math log. Prints the JSON
// summary with the peak RSS.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { preparedOperation } from '../../activities/registry';
import { cellScores } from '../../activities/eval/summarize';
import { SandboxConfigSchema } from '../../domain/platform/config';
import { benchmarkMetrics } from '../../domain/eval/metrics';
import { scorerVersion, ScorerSchema, type ScoredCell } from '../../domain/evaluate';
import { mulberry32 } from '../../domain/core/random';

function argValue(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i]!);
    }),
  );
  return out;
}

function reasoning(random: () => number, sentences: number): string {
  const words = ['we', 'compute', 'the', 'sum', 'of', 'divisors', 'so', 'check', 'case', 'then', 'modulo', 'prime'];
  return Array.from(
    { length: sentences },
    () =>
      Array.from({ length: 12 }, () => words[Math.floor(random() * words.length)]).join(' ') +
      ` $x_${Math.floor(random() * 9)} = ${Math.floor(random() * 1000)}$.`,
  ).join('\n');
}

export async function benchEval(): Promise<Record<string, unknown>> {
  const mathCells = argValue('math', 10_000);
  const codeCells = argValue('code', 10_000);
  const testsPerProblem = argValue('tests', 3);
  const concurrency = argValue('concurrency', os.availableParallelism());
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-eval-'));
  const scorer = ScorerSchema.parse({ timeLimitSeconds: 10 });
  const sandbox = SandboxConfigSchema.parse({ concurrency, wallTimeMs: 10_000, cpuTimeMs: 10_000 });
  const op = preparedOperation('scoreCell', { sandbox: () => sandbox });
  const params = op.parseParams({ scorer, version: scorerVersion(scorer) });
  const ctx = { stage: 'bench', sourceId: 'x', shard: 0, line: 0, attempt: 1, signal: new AbortController().signal };
  let peakRss = process.memoryUsage().rss;
  const sampleRss = () => (peakRss = Math.max(peakRss, process.memoryUsage().rss));
  const base = {
    model: 'bench',
    target: { role: 'policy' as const },
    templated: true,
    prompt: 'p',
    outputTokens: 7000,
    promptTokens: 100,
    servedBy: 'bench',
    latencyMs: 1,
    attempt: 1,
  };
  try {
    // math: 30 problems × runs, answers right / wrong / unboxed / cut off, ~7k-token completions
    const random = mulberry32(7);
    const math = Array.from({ length: mathCells }, (_, i) => {
      const answer = String(100 + (i % 30));
      const r = random();
      const think = reasoning(random, 60);
      const completion =
        r < 0.5
          ? `${think}\n</think>\n\nThus $\\boxed{${answer}}$.`
          : r < 0.7
            ? `${think}\n</think>\n\nThus $\\boxed{\\frac{${Number(answer) * 2}}{2}}$.`
            : r < 0.85
              ? `${think}\n</think>\n\nThe answer is ${answer}.`
              : r < 0.95
                ? `${think}\n</think>\n\nThus $\\boxed{${Number(answer) + 1}}$.`
                : think;
      return {
        ...base,
        id: `m${i}`,
        benchmark: 'math',
        kind: 'math' as const,
        problem: `p${i % 30}`,
        run: Math.floor(i / 30),
        seed: i,
        answer,
        completion,
        finishReason: r < 0.95 ? 'stop' : 'length',
      };
    });
    let t0 = process.hrtime.bigint();
    const scoredMath: ScoredCell[] = [];
    for (const cell of math) {
      const out = await op.run(cell, params, ctx);
      if ('rows' in out) scoredMath.push(out.rows[0] as ScoredCell);
      if (scoredMath.length % 1000 === 0) sampleRss();
    }
    const mathSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    t0 = process.hrtime.bigint();
    const metrics = benchmarkMetrics(cellScores(scoredMath, 'strict'), { bootstrap: { samples: 1000, seed: 0 } });
    const metricsSeconds = Number(process.hrtime.bigint() - t0) / 1e9;

    // code: 50 problems whose tests are in a JSONL line each, programs right / wrong / missing
    const file = path.join(dir, 'code.jsonl');
    writeFileSync(
      file,
      Array.from({ length: 50 }, (_, p) =>
        JSON.stringify({
          prompt: `problem ${p}`,
          input_output: JSON.stringify({
            inputs: Array.from({ length: testsPerProblem }, (_, t) => `${t} ${p}\n`),
            outputs: Array.from({ length: testsPerProblem }, (_, t) => `${t + p}\n`),
          }),
        }),
      ).join('\n') + '\n',
    );
    const code = Array.from({ length: codeCells }, (_, i) => {
      const r = random();
      const body = r < 0.6 ? 'print(a + b)' : r < 0.9 ? 'print(a - b)' : undefined;
      const completion = body
        ? `Plan.\n</think>\n\n\`\`\`python\na, b = map(int, input().split())\n${body}\n\`\`\``
        : 'Plan.\n</think>\n\nNo program.';
      return {
        ...base,
        id: `c${i}`,
        benchmark: 'code',
        kind: 'code' as const,
        problem: `q${i % 50}`,
        run: Math.floor(i / 50),
        seed: i,
        tests: { kind: 'line' as const, file, index: i % 50 },
        completion,
        finishReason: 'stop',
      };
    });
    t0 = process.hrtime.bigint();
    let passed = 0;
    let done = 0;
    await mapLimit(code, concurrency, async (cell) => {
      const out = await op.run(cell, params, ctx);
      if ('rows' in out && (out.rows[0] as ScoredCell).correct) passed++;
      if (++done % 500 === 0) sampleRss();
    });
    const codeSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    sampleRss();
    return {
      bench: 'eval',
      math: {
        cells: mathCells,
        seconds: +mathSeconds.toFixed(2),
        cellsPerSecond: Math.round(mathCells / mathSeconds),
        avgAtK: +metrics.avgAtK.mean.toFixed(4),
        metricsSeconds: +metricsSeconds.toFixed(3),
      },
      code: {
        cells: codeCells,
        testsPerCell: testsPerProblem,
        concurrency,
        seconds: +codeSeconds.toFixed(2),
        cellsPerSecond: +(codeCells / codeSeconds).toFixed(1),
        passed,
      },
      peakRssMiB: Math.round(peakRss / 2 ** 20),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
