// Contamination of training prompts by evaluation problems (spec §3.5 step 1; §8.1: the published check was an
// exact-membership test whose function was missing). Two rules, on word sequences (lower-cased runs of letters and
// digits, so templates, chat markers, LaTeX spacing and punctuation do not matter):
//   exact: the prompt's statement occurs whole, as a contiguous word sequence, inside a benchmark problem (or the
//          other way round), e.g. the same problem under another template;
//   ngram: the prompt shares an n-gram of words (n = 13, the Qwen2.5-style check the paper names) with one.
// Pure and deterministic; the index is built by an activity from the benchmark files.

const CHAT_MARKERS = /<\|im_(?:start|end)\|>(?:user|assistant|system)?|<\/?think>/g;
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
  /** n-gram (words joined by one space) → the benchmark texts that have it, in file order */
  ngrams: Map<string, number[]>;
  texts: BenchmarkText[];
  /** n-grams left out as template text: found in this many benchmark texts or more */
  boilerplateThreshold: number;
}

/**
 * Indexes benchmark texts by word n-grams. An n-gram that many of the texts share (at least 3 of them and at least
 * 5%) is their template ("Please reason step by step…", a code-task instruction), not a problem: it is left out,
 * else every prompt formatted with the same template would overlap every benchmark problem.
 */
export function buildContaminationIndex(texts: ReadonlyArray<{ where: string; text: string }>, n: number): ContaminationIndex {
  const ngrams = new Map<string, number[]>();
  const out: BenchmarkText[] = [];
  const seen = new Set<string>();
  texts.forEach((t, i) => {
    const words = contaminationWords(t.text);
    const joined = words.join(' ');
    out.push({ where: t.where, words: joined });
    // a problem repeated in the files counts once (else its own n-grams could pass for template text)
    if (seen.has(joined)) return;
    seen.add(joined);
    for (let j = 0; j + n <= words.length; j++) {
      const key = words.slice(j, j + n).join(' ');
      const owners = ngrams.get(key);
      if (!owners) ngrams.set(key, [i]);
      else if (owners[owners.length - 1] !== i) owners.push(i);
    }
  });
  const boilerplateThreshold = Math.max(3, Math.ceil(seen.size * 0.05));
  for (const [key, owners] of ngrams) if (owners.length >= boilerplateThreshold) ngrams.delete(key);
  return { n, ngrams, texts: out, boilerplateThreshold };
}

export type ContaminationHit = { rule: 'contamination-exact' | 'contamination-ngram'; benchmark: string; ngram?: string };

function contains(haystack: string, needle: string): boolean {
  return needle !== '' && ` ${haystack} `.includes(` ${needle} `);
}

/** The first benchmark problem the statement overlaps, by rule (exact before n-gram); null when it is clean. */
export function findContamination(statement: string, index: ContaminationIndex): ContaminationHit | null {
  const words = contaminationWords(statement);
  if (words.length === 0) return null;
  const joined = words.join(' ');
  // a statement shorter than n words is contaminated only by an equal benchmark text (a short phrase inside a long
  // problem is no evidence)
  if (words.length < index.n) {
    const equal = index.texts.find((t) => t.words === joined);
    return equal ? { rule: 'contamination-exact', benchmark: equal.where } : null;
  }
  // a contiguous match of n or more words always shares an n-gram, so only texts with a shared n-gram are compared whole
  const candidates = new Set<number>();
  let firstNgram: { key: string; text: number } | undefined;
  for (let j = 0; j + index.n <= words.length; j++) {
    const key = words.slice(j, j + index.n).join(' ');
    const owners = index.ngrams.get(key);
    if (!owners) continue;
    for (const o of owners) candidates.add(o);
    firstNgram ??= { key, text: owners[0]! };
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
