// Contamination of training prompts by evaluation problems (spec §3.5 step 1; §8.1: the published check was an
// exact-membership test whose function was missing). Two rules, on word sequences (lower-cased runs of letters and
// digits, so templates, chat markers, LaTeX spacing and punctuation do not matter):
//   exact: the prompt's statement occurs whole, as a contiguous word sequence, inside a benchmark problem (or the
//          other way round), e.g. the same problem under another template;
//   ngram: the prompt shares an n-gram of words (n = 13, the Qwen2.5-style check the paper names) with one.
// Pure and deterministic; the index is built by an activity from the benchmark files.

const CHAT_MARKERS = /<\|im_(?:start|end)\|>(?:user|assistant|system)?/g;
const WORD = /[\p{L}\p{N}]+/gu;

export function contaminationWords(text: string): string[] {
  return text.replace(CHAT_MARKERS, ' ').toLowerCase().match(WORD) ?? [];
}

export interface BenchmarkText {
  /** e.g. `promptcot2_aime24_test.jsonl:5` */
  where: string;
  words: string;
}

export interface ContaminationIndex {
  n: number;
  /** n-gram (words joined by one space) → the first benchmark text that has it */
  ngrams: Map<string, number>;
  texts: BenchmarkText[];
}

export function buildContaminationIndex(texts: ReadonlyArray<{ where: string; text: string }>, n: number): ContaminationIndex {
  const ngrams = new Map<string, number>();
  const out: BenchmarkText[] = [];
  texts.forEach((t, i) => {
    const words = contaminationWords(t.text);
    out.push({ where: t.where, words: words.join(' ') });
    for (let j = 0; j + n <= words.length; j++) {
      const key = words.slice(j, j + n).join(' ');
      if (!ngrams.has(key)) ngrams.set(key, i);
    }
  });
  return { n, ngrams, texts: out };
}

export type ContaminationHit = { rule: 'contamination-exact' | 'contamination-ngram'; benchmark: string; ngram?: string };

function contains(haystack: string, needle: string): boolean {
  return needle !== '' && ` ${haystack} `.includes(` ${needle} `);
}

/** The first benchmark problem the statement overlaps, by rule; null when it is clean. */
export function findContamination(statement: string, index: ContaminationIndex): ContaminationHit | null {
  const words = contaminationWords(statement);
  if (words.length === 0) return null;
  const joined = words.join(' ');
  // a contiguous match of n or more words always shares an n-gram, so only those candidates are compared whole
  const candidates = new Set<number>();
  let firstNgram: { key: string; text: number } | undefined;
  for (let j = 0; j + index.n <= words.length; j++) {
    const key = words.slice(j, j + index.n).join(' ');
    const hit = index.ngrams.get(key);
    if (hit !== undefined) {
      candidates.add(hit);
      firstNgram ??= { key, text: hit };
      // other texts with the same n-gram are found by their own n-grams below
    }
  }
  // a statement shorter than n words is contaminated only by an equal benchmark text (a short phrase inside a long
  // problem is no evidence)
  if (words.length < index.n) {
    const equal = index.texts.find((t) => t.words === joined);
    return equal ? { rule: 'contamination-exact', benchmark: equal.where } : null;
  }
  for (const i of [...candidates].sort((a, b) => a - b)) {
    const t = index.texts[i]!;
    if (contains(t.words, joined) || (t.words.split(' ').length >= index.n && contains(joined, t.words))) {
      return { rule: 'contamination-exact', benchmark: t.where };
    }
  }
  if (firstNgram) return { rule: 'contamination-ngram', benchmark: index.texts[firstNgram.text]!.where, ngram: firstNgram.key };
  return null;
}
