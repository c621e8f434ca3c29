// Benchmark of near-duplicate problem detection (activities/dedup): `npm run bench -- dedup [--problems 100000]`.
//
// Generates seeded synthetic problems (60-150 tokens: a third filler and boilerplate words, a tenth LaTeX fragments
// and numbers, the rest content words: pseudo-words from a 20,000-word Zipf vocabulary, 70% of them from the
// problem's topic, one of 400 topics of 250 words, so problems of one topic share words and meet as LSH candidates;
// 7% are edited copies and 1% exact copies of recent problems), runs them through a persisted NearDuplicateIndex
// (checkAndAdd, first come wins; best of two runs after a warm-up), then reopens the file. Reports problems/s, LSH
// candidates per check, peak memory, the duplicate counts and the load time; also the same on an in-memory index,
// and the cost of the word and MinHash steps alone. Options: --problems N, --seed S.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { mulberry32 } from '../../domain/core/random';
import { NearDuplicateIndex } from '../../activities/dedup/lsh-index';
import { MinHasher } from '../../activities/dedup/minhash';
import { DEFAULT_STOP_WORDS, wordFilter } from '../../activities/dedup/words';

export interface SyntheticOptions {
  count: number;
  seed: number;
  /** Share of problems that are edited copies of an earlier problem. Default 0.07. */
  nearDupRate?: number;
  /** Share of problems that are exact copies (some with extra surrounding whitespace). Default 0.01. */
  exactDupRate?: number;
  /** The edit strength of a near copy (share of its topic words replaced) is uniform in [editMin, editMax]. */
  editMin?: number;
  editMax?: number;
  minTokens?: number;
  maxTokens?: number;
  /** Copies are made of one of the last `sourceWindow` problems. Default 4000. */
  sourceWindow?: number;
  /** Share of problems with no kept word at all (exact dedup only). Default 0.002. */
  emptyRate?: number;
}

export interface SyntheticProblem {
  id: string;
  text: string;
  kind: 'base' | 'near' | 'exact' | 'empty';
  /** For copies: the index of the problem copied. */
  source?: number;
  /** For near copies: the edit strength. */
  edit?: number;
}

const SHORT_WORDS = [
  'the',
  'of',
  'a',
  'is',
  'and',
  'to',
  'in',
  'be',
  'at',
  'by',
  'for',
  'on',
  'we',
  'it',
  'an',
  'as',
  'if',
  'or',
  'let',
  'are',
  'how',
  'all',
  'can',
  'its',
];
const CONSONANTS = [
  'b',
  'c',
  'd',
  'f',
  'g',
  'h',
  'k',
  'l',
  'm',
  'n',
  'p',
  'r',
  's',
  't',
  'v',
  'z',
  'br',
  'ch',
  'st',
  'tr',
  'pl',
  'gr',
];
const VOWELS = ['a', 'e', 'i', 'o', 'u', 'ai', 'ou', 'ea'];
const VARS = ['x', 'y', 'z', 'n', 'k', 'a', 'b', 'p', 'q', 'm'];

interface Token {
  s: string;
  content: boolean;
}

/** Seeded synthetic problems for tests and benchmarks. */
export function syntheticProblems(opts: SyntheticOptions): SyntheticProblem[] {
  const rand = mulberry32(opts.seed);
  const int = (n: number) => Math.floor(rand() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const nearRate = opts.nearDupRate ?? 0.07;
  const exactRate = opts.exactDupRate ?? 0.01;
  const emptyRate = opts.emptyRate ?? 0.002;
  const editMin = opts.editMin ?? 0.03;
  const editMax = opts.editMax ?? 0.35;
  const minTokens = opts.minTokens ?? 60;
  const maxTokens = opts.maxTokens ?? 150;
  const window = opts.sourceWindow ?? 4000;

  // Vocabulary of pseudo-words, Zipf-distributed; topics are subsets of it.
  const vocabSet = new Set<string>();
  while (vocabSet.size < 20000) {
    let w = '';
    const syll = 2 + int(3);
    for (let s = 0; s < syll; s++) w += pick(CONSONANTS) + pick(VOWELS);
    if (rand() < 0.3) w += pick(CONSONANTS);
    vocabSet.add(w);
  }
  const vocab = [...vocabSet];
  const zipfCdf = new Float64Array(vocab.length);
  let acc = 0;
  for (let i = 0; i < vocab.length; i++) zipfCdf[i] = acc += 1 / (i + 10);
  const zipf = (): string => {
    const u = rand() * acc;
    let lo = 0;
    let hi = vocab.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (zipfCdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return vocab[lo]!;
  };
  const topics = Array.from({ length: 400 }, () => Array.from({ length: 250 }, () => vocab[int(vocab.length)]!));
  const filler = [...DEFAULT_STOP_WORDS.filter((w) => !w.startsWith('\\')), ...SHORT_WORDS, ...SHORT_WORDS];

  const contentWord = (topic: readonly string[]): string =>
    rand() < 0.7 ? topic[Math.floor(rand() * rand() * topic.length)]! : zipf();
  const mathToken = (): string => {
    const r = rand();
    if (r < 0.35) return String(int(r < 0.1 ? 10 : 3000));
    if (r < 0.45) return pick(['1,000', '3.14', '0.5', '2.75', '10,000']);
    if (r < 0.75) return `$${pick(VARS)}^${2 + int(4)}+${int(20)}${pick(VARS)}=${int(500)}$`;
    if (r < 0.9) return `\\frac{${pick(VARS)}}{${1 + int(9)}}`;
    return `$f(${pick(VARS)})$`;
  };
  const baseTokens = (): Token[] => {
    const topic = pick(topics);
    const len = minTokens + int(maxTokens - minTokens + 1);
    const out: Token[] = [];
    for (let i = 0; i < len; i++) {
      const r = rand();
      if (r < 0.33) out.push({ s: pick(filler), content: false });
      else if (r < 0.43) out.push({ s: mathToken(), content: false });
      else out.push({ s: contentWord(topic), content: true });
    }
    return out;
  };
  const render = (tokens: Token[]): string => {
    const parts: string[] = [];
    let sentenceStart = true;
    for (let i = 0; i < tokens.length; i++) {
      let s = tokens[i]!.s;
      if (sentenceStart) s = s.charAt(0).toUpperCase() + s.slice(1);
      sentenceStart = false;
      const r = rand();
      if (i === tokens.length - 1) s += rand() < 0.5 ? '?' : '.';
      else if (r < 0.07) {
        s += '.';
        sentenceStart = true;
      } else if (r < 0.12) s += ',';
      parts.push(s);
    }
    return parts.join(' ');
  };
  const edit = (src: Token[], e: number): Token[] => {
    const topic = pick(topics);
    const out: Token[] = [];
    for (const t of src) {
      if (!t.content) {
        out.push(rand() < e / 3 ? { s: rand() < 0.5 ? pick(filler) : mathToken(), content: false } : t);
        continue;
      }
      const r = rand();
      if (r < e / 6) continue; // delete
      out.push(r < e ? { s: contentWord(topic), content: true } : t);
      if (rand() < e / 6) out.push({ s: contentWord(topic), content: true }); // insert
    }
    // swap two chunks now and then (a reworded order)
    if (rand() < 0.3 && out.length > 20) {
      const cut = 5 + int(out.length - 10);
      return [...out.slice(cut), ...out.slice(0, cut)];
    }
    return out;
  };

  const problems: SyntheticProblem[] = [];
  const tokensOf = new Map<number, Token[]>(); // the last `window` problems that have tokens
  for (let i = 0; i < opts.count; i++) {
    const r = rand();
    const id = `p${i}`;
    const back = 1 + int(Math.min(window, i));
    const source = i - back;
    const sourceTokens = i > 0 ? tokensOf.get(source) : undefined;
    if (i > 0 && r < exactRate) {
      const text = problems[source]!.text;
      problems.push({ id, text: rand() < 0.3 ? `  ${text}\n` : text, kind: 'exact', source });
    } else if (r < exactRate + emptyRate) {
      problems.push({
        id,
        text: `What is ${mathToken()} + ${int(100)}? Find the value of ${mathToken()}.`,
        kind: 'empty',
      });
    } else if (sourceTokens && r < exactRate + emptyRate + nearRate) {
      const e = editMin + rand() * (editMax - editMin);
      const tokens = edit(sourceTokens, e);
      problems.push({ id, text: render(tokens), kind: 'near', source, edit: e });
      tokensOf.set(i, tokens);
    } else {
      const tokens = baseTokens();
      problems.push({ id, text: render(tokens), kind: 'base' });
      tokensOf.set(i, tokens);
    }
    tokensOf.delete(i - window);
  }
  return problems;
}

function argValue(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

/** A full garbage collection (without --expose-gc on the command line), so the memory baseline holds no garbage. */
function collectGarbage(): void {
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
}

export async function benchDedup(): Promise<Record<string, unknown>> {
  const count = argValue('problems', 100_000);
  const seed = argValue('seed', 2024);
  const t0 = performance.now();
  const problems = syntheticProblems({ count, seed, nearDupRate: 0.07, exactDupRate: 0.01 });
  const generateSeconds = (performance.now() - t0) / 1000;
  const words = problems.reduce((s, p) => s + p.text.split(/\s+/).length, 0) / problems.length;

  const dir = mkdtempSync(path.join(os.tmpdir(), 'promptcot-dedup-bench-'));
  try {
    // Cost of the steps alone.
    const filter = wordFilter();
    const hasher = new MinHasher();
    let t = performance.now();
    const allHashes = problems.map((p) => filter.wordHashes(p.text));
    const wordsSeconds = (performance.now() - t) / 1000;
    t = performance.now();
    const sig = new Uint32Array(128);
    for (const h of allHashes) hasher.signature(h, 128, sig);
    const minhash128Seconds = (performance.now() - t) / 1000;
    const uniqueWords = allHashes.reduce((s, h) => s + h.length, 0) / allHashes.length;
    allHashes.length = 0;

    // Warm-up (JIT), not measured.
    const warm = new NearDuplicateIndex();
    for (let i = 0; i < Math.min(20_000, count); i++) warm.checkAndAdd(problems[i]!.id, problems[i]!.text);

    const MiB = 1024 * 1024;
    const mem = { rss: 0, heapUsed: 0, arrayBuffers: 0 };
    const sample = () => {
      const m = process.memoryUsage();
      mem.rss = Math.max(mem.rss, m.rss);
      mem.heapUsed = Math.max(mem.heapUsed, m.heapUsed);
      mem.arrayBuffers = Math.max(mem.arrayBuffers, m.arrayBuffers);
    };
    /** One persisted run (checkAndAdd on every problem, then close): seconds, duplicate counts, stats. */
    const persistedRun = (file: string, sampleMemory: boolean) => {
      const start = performance.now();
      const index = NearDuplicateIndex.open(file);
      let exact = 0;
      let near = 0;
      const kept: boolean[] = [];
      for (let i = 0; i < problems.length; i++) {
        const p = problems[i]!;
        const r = index.checkAndAdd(p.id, p.text);
        kept.push(!r.duplicate);
        if (r.duplicate) {
          if (r.exact) exact++;
          else near++;
        }
        if (sampleMemory && (i & 1023) === 0) sample();
      }
      index.close();
      const seconds = (performance.now() - start) / 1000;
      if (sampleMemory) sample();
      return { seconds, exact, near, kept, stats: index.stats() };
    };

    collectGarbage();
    const base = process.memoryUsage();
    const first = persistedRun(path.join(dir, 'index.pclsh'), true);
    const second = persistedRun(path.join(dir, 'index-2.pclsh'), false);
    const file = path.join(dir, 'index.pclsh');
    const seconds = Math.min(first.seconds, second.seconds);
    const stats = first.stats;

    // Reopen: load time, and the loaded index must know every kept problem.
    collectGarbage();
    const beforeLoad = process.memoryUsage().rss;
    t = performance.now();
    const reopened = NearDuplicateIndex.open(file);
    const loadSeconds = (performance.now() - t) / 1000;
    const loadRssMiB = (process.memoryUsage().rss - beforeLoad) / MiB;
    let recheckedKept = 0;
    for (let i = 0; i < problems.length; i += 97) {
      if (!first.kept[i]) continue;
      const r = reopened.check(problems[i]!.text);
      if (!r.duplicate || !r.exact || r.of !== problems[i]!.id)
        throw new Error(`reopened index lost ${problems[i]!.id}`);
      recheckedKept++;
    }
    reopened.close();

    // The same on an in-memory index (no file), best of two.
    const memTimes: number[] = [];
    let memStats = stats;
    for (let rep = 0; rep < 2; rep++) {
      const index = new NearDuplicateIndex();
      t = performance.now();
      for (const p of problems) index.checkAndAdd(p.id, p.text);
      memTimes.push((performance.now() - t) / 1000);
      memStats = index.stats();
    }
    const memSeconds = Math.min(...memTimes);
    const sameCounts = [second.stats, memStats].every(
      (s) =>
        s.exactDuplicates === stats.exactDuplicates &&
        s.nearDuplicates === stats.nearDuplicates &&
        s.documents === stats.documents,
    );

    return {
      bench: 'dedup',
      node: process.version,
      cpus: os.cpus().length,
      problems: count,
      input: {
        nearCopies: problems.filter((p) => p.kind === 'near').length,
        exactCopies: problems.filter((p) => p.kind === 'exact').length,
        noWordProblems: problems.filter((p) => p.kind === 'empty').length,
        avgTokens: +words.toFixed(1),
        avgUniqueKeptWords: +uniqueWords.toFixed(1),
        generateSeconds: +generateSeconds.toFixed(2),
      },
      persisted: {
        seconds: +seconds.toFixed(3),
        problemsPerSecond: Math.round(count / seconds),
        target: 20_000,
        runs: [first.seconds, second.seconds].map((x) => +x.toFixed(3)),
        kept: stats.documents,
        exactDuplicates: first.exact,
        nearDuplicates: first.near,
        candidatesPerCheck: +(stats.candidatesChecked / stats.checks).toFixed(2),
        buckets: stats.buckets,
        fileMiB: +(statSync(file).size / MiB).toFixed(1),
        indexTablesMiB: +(stats.tableBytes / MiB).toFixed(1),
      },
      inMemory: {
        seconds: +memSeconds.toFixed(3),
        problemsPerSecond: Math.round(count / memSeconds),
        runs: memTimes.map((x) => +x.toFixed(3)),
        sameDecisions: sameCounts,
      },
      steps: {
        wordsMicrosPerProblem: +((wordsSeconds * 1e6) / count).toFixed(2),
        minhash128MicrosPerProblem: +((minhash128Seconds * 1e6) / count).toFixed(2),
      },
      memory: {
        baselineRssMiB: +(base.rss / MiB).toFixed(1),
        peakRssMiB: +(mem.rss / MiB).toFixed(1),
        baselineHeapUsedMiB: +(base.heapUsed / MiB).toFixed(1),
        peakHeapUsedMiB: +(mem.heapUsed / MiB).toFixed(1),
        baselineArrayBuffersMiB: +(base.arrayBuffers / MiB).toFixed(1),
        peakArrayBuffersMiB: +(mem.arrayBuffers / MiB).toFixed(1),
        note: 'baseline: the generated corpus and a 20k-problem warm-up index in memory; peak: sampled every 1,024 problems of the first persisted run',
      },
      reload: {
        loadSeconds: +loadSeconds.toFixed(3),
        documents: reopened.size,
        rssGrowthMiB: +loadRssMiB.toFixed(1),
        recheckedKept,
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
