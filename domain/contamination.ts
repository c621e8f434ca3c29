// Contamination of training prompts by evaluation problems (spec §3.5 step 1; §8.1: the published check was an
// exact-membership test whose function was missing). Two rules, on word sequences (lower-cased runs of letters and
// digits, so templates, chat markers, LaTeX spacing and punctuation do not matter):
//   exact: the prompt's statement occurs whole, as a contiguous word sequence, inside a benchmark problem (or the
//          other way round), e.g. the same problem under another template;
//   ngram: the prompt shares an n-gram of words (n = 13, the Qwen2.5-style check the paper names) with one, leaving
//          out n-grams that are phrasing rather than a problem:
//          - template text: an n-gram that 3 or more different benchmark problems share (the benchmark's prompt
//            template, "the first line of each test case contains…", "m and n are relatively prime positive
//            integers. Find m+n");
//          - stock phrasing: a benchmark n-gram that 3 or more different problems of a reference corpus of ordinary
//            problems contain ("You are given an array a of n integers. In one operation you…"). The reference is
//            the corpus being checked (every prompt of it) plus optional reference files. "Different" means word
//            sets with Jaccard similarity below 0.8 (below 1/2 among benchmark problems), so copies or light
//            paraphrases of one leaked problem count once and cannot turn its own n-grams into stock phrasing.
//          A leaked problem still shares its distinctive n-grams (found in one benchmark problem and in fewer than 3
//          different reference problems), so it is still dropped.
// Pure and deterministic; the index is built by an activity from the benchmark files (and the reference corpus).

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
  /** n-gram (words joined by one space) → the benchmark texts that have it, in file order: the evidence of the n-gram rule */
  ngrams: Map<string, number[]>;
  /** every n-gram of the benchmark texts → the texts that have it (candidates of the exact rule) */
  all: Map<string, number[]>;
  /** the first n-gram of each benchmark text → the texts that start with it */
  firsts: Map<string, number[]>;
  texts: BenchmarkText[];
  /** n-grams left out as template text: shared by this many different benchmark texts or more */
  boilerplateThreshold: number;
  /** how many n-grams were left out as template text, and as stock phrasing of the reference corpus */
  leftOut: { template: number; stock: number };
  /** the reference corpus the stock phrasing came from */
  reference: { texts: number; minPrompts: number } | null;
}

/**
 * Word-set Jaccard similarity from which two texts count as one problem. Benchmark problems are real and diverse
 * (different Codeforces problems: median 0.27, 99th percentile 0.42; easy/hard versions of one problem 0.7 and
 * more), so 1/2 there. Reference prompts come from one generator and share its phrasing, while copies and light
 * edits of one problem stay above 0.84, so 0.8 there.
 */
export const BENCHMARK_SAME_PROBLEM = 0.5;
export const REFERENCE_SAME_PROBLEM = 0.8;
/** Different benchmark texts that must share an n-gram for it to be template text. */
export const TEMPLATE_MIN_TEXTS = 3;
/** Different reference problems that must contain a benchmark n-gram for it to be stock phrasing. */
export const STOCK_MIN_PROMPTS = 3;

function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  let common = 0;
  for (const w of small) if (large.has(w)) common++;
  const union = a.size + b.size - common;
  return union === 0 ? 1 : common / union;
}

/** Whether `sets` holds `need` word sets that are pairwise different problems (greedy, in order). */
function differentProblems(sets: ReadonlyArray<ReadonlySet<string>>, need: number): boolean {
  const chosen: Array<ReadonlySet<string>> = [];
  for (const s of sets) {
    if (chosen.every((c) => c !== s && jaccard(c, s) < BENCHMARK_SAME_PROBLEM)) chosen.push(s);
    if (chosen.length >= need) return true;
  }
  return false;
}

function ngramsOf(words: readonly string[], n: number): string[] {
  const out: string[] = [];
  for (let j = 0; j + n <= words.length; j++) out.push(words.slice(j, j + n).join(' '));
  return out;
}

/**
 * Indexes benchmark texts by word n-grams. An n-gram that 3 or more different benchmark problems share is their
 * template ("Please reason step by step…", a code-task instruction, an input-format sentence), not a problem: it is
 * no evidence of the n-gram rule, else every prompt formatted with the same template would overlap the benchmark.
 */
export function buildContaminationIndex(
  texts: ReadonlyArray<{ where: string; text: string }>,
  n: number,
): ContaminationIndex {
  const all = new Map<string, number[]>();
  const firsts = new Map<string, number[]>();
  const out: BenchmarkText[] = [];
  const wordSets: Array<Set<string>> = [];
  const seen = new Set<string>();
  texts.forEach((t, i) => {
    const words = contaminationWords(t.text);
    const joined = words.join(' ');
    out.push({ where: t.where, words: joined });
    wordSets.push(new Set(words));
    // a problem repeated in the files counts once (else its own n-grams could pass for template text)
    if (seen.has(joined)) return;
    seen.add(joined);
    const grams = ngramsOf(words, n);
    if (grams.length > 0) {
      const f = firsts.get(grams[0]!);
      if (f) f.push(i);
      else firsts.set(grams[0]!, [i]);
    }
    for (const key of grams) {
      const owners = all.get(key);
      if (!owners) all.set(key, [i]);
      else if (owners[owners.length - 1] !== i) owners.push(i);
    }
  });
  const ngrams = new Map<string, number[]>();
  let template = 0;
  for (const [key, owners] of all) {
    if (
      owners.length >= TEMPLATE_MIN_TEXTS &&
      differentProblems(
        owners.map((o) => wordSets[o]!),
        TEMPLATE_MIN_TEXTS,
      )
    )
      template++;
    else ngrams.set(key, owners);
  }
  return {
    n,
    ngrams,
    all,
    firsts,
    texts: out,
    boilerplateThreshold: TEMPLATE_MIN_TEXTS,
    leftOut: { template, stock: 0 },
    reference: null,
  };
}

/**
 * Counts, for each evidence n-gram of the index, the different problems of a reference corpus that contain it, and
 * leaves out as stock phrasing those that `minPrompts` or more different problems contain. The corpus is read once,
 * one text at a time; only the word sets of texts that contain an evidence n-gram are kept (up to `minPrompts` per
 * n-gram). Returns a new index; the given one is unchanged.
 */
export function withStockPhrasing(
  index: ContaminationIndex,
  reference: Iterable<string>,
  minPrompts = STOCK_MIN_PROMPTS,
): ContaminationIndex {
  const witnesses = new Map<string, Array<Set<string>>>();
  const stock = new Set<string>();
  let count = 0;
  for (const text of reference) {
    count++;
    const words = contaminationWords(text);
    if (words.length < index.n) continue;
    let set: Set<string> | undefined;
    for (const key of new Set(ngramsOf(words, index.n))) {
      if (stock.has(key) || !index.ngrams.has(key)) continue;
      set ??= new Set(words);
      let list = witnesses.get(key);
      if (!list) witnesses.set(key, (list = []));
      if (list.some((w) => jaccard(w, set!) >= REFERENCE_SAME_PROBLEM)) continue; // the same problem again
      list.push(set);
      if (list.length >= minPrompts) {
        stock.add(key);
        witnesses.delete(key);
      }
    }
  }
  const ngrams = new Map<string, number[]>();
  for (const [key, owners] of index.ngrams) if (!stock.has(key)) ngrams.set(key, owners);
  return {
    ...index,
    ngrams,
    leftOut: { template: index.leftOut.template, stock: stock.size },
    reference: { texts: count, minPrompts },
  };
}

export type ContaminationHit = {
  rule: 'contamination-exact' | 'contamination-ngram';
  benchmark: string;
  ngram?: string;
};

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
  const grams = ngramsOf(words, index.n);
  // exact: the statement inside a text that holds its first and its last n-gram, or a text (of n words or more)
  // inside the statement, starting at one of its n-grams
  const exact = new Set<number>();
  const firstOwners = index.all.get(grams[0]!) ?? [];
  const lastOwners = new Set(index.all.get(grams[grams.length - 1]!) ?? []);
  for (const o of firstOwners) if (lastOwners.has(o) && contains(index.texts[o]!.words, joined)) exact.add(o);
  for (const key of grams)
    for (const o of index.firsts.get(key) ?? []) if (contains(joined, index.texts[o]!.words)) exact.add(o);
  if (exact.size > 0) {
    const first = Math.min(...exact);
    return { rule: 'contamination-exact', benchmark: index.texts[first]!.where };
  }
  for (const key of grams) {
    const owners = index.ngrams.get(key);
    if (owners) return { rule: 'contamination-ngram', benchmark: index.texts[owners[0]!]!.where, ngram: key };
  }
  return null;
}
