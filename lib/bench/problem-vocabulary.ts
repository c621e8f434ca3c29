// The vocabulary of real math and code problem statements, for generating realistic problems in benchmarks
// (lib/bench/realistic-problems.ts): word counts, statement lengths, sentence openings ("Find the", "Let $x$ be",
// "Given an array") and stock phrases shared by several problems ("The first line of each test case contains"),
// plus statistics of the real statements under the dedup word rules that the generator is calibrated against.
//
// The committed file lib/bench/data/problem-vocabulary.json was derived from the benchmark files the project's
// evaluation uses (AIME 2024, AIME 2025, HMMT February 2025 and Codeforces test prompts, one JSONL record with a
// `prompt` each): the chat turn and the math / code templates are taken off each prompt, leaving the statement.
// It holds counts, short phrases and bags of content words, not whole problems. Regenerate it with
//   npm run bench -- dedup-scale --write-vocabulary [--benchmarks DIR]
// (DIR defaults to the project's data/benchmarks, else ../shared/data/benchmarks); the benchmarks read the
// committed file and never the originals.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { problemOfPrompt } from '../../domain/self-play';
import { promptWrappers } from '../../activities/prompts/problems';
import { wordFilter } from '../../activities/dedup/words';

export type VocabularyDomain = 'math' | 'code';

/** Statistics of statements under the default dedup word rules (what dedup sees of a problem). */
export interface WordSetStatistics {
  problems: number;
  /** Mean number of distinct kept words per problem. */
  keptWordsPerProblem: number;
  /** Share of the distinct kept words that occur in one problem only. */
  singleProblemWordShare: number;
  /** Word-set Jaccard over all pairs of problems: mean, share of pairs above 0.1 and above 0.2. */
  pairJaccard: { mean: number; above01: number; above02: number };
}

export interface DomainVocabulary {
  /** Tokens (whitespace-separated, as written: "integers.", "$n$", "\\le") per statement, in `themes` order. */
  lengths: number[];
  /**
   * Every token of the statements by count, most frequent first: [count, the tokens of that count joined by
   * spaces] (tokens hold no whitespace; grouped, the file stays small).
   */
  tokens: Array<[number, string]>;
  /**
   * Per statement, the distinct tokens that dedup keeps words of, as positions in `tokens` order (base 36, joined
   * by spaces): which content words occur together, without the text.
   */
  themes: string[];
  /** Per statement, the `phrases` it contains (positions, base 36, joined by spaces). */
  themePhrases: string[];
  /** Sentence openings (their first one to three tokens) with their counts. */
  openings: Array<[string, number]>;
  /** Token runs of 3 to 16 tokens found in at least 3 statements, with the number of statements. */
  phrases: Array<[string, number]>;
  /** Share of the statements' tokens inside an occurrence of one of `phrases`. */
  phraseCoverage: number;
  /** Mean tokens per sentence. */
  sentenceTokens: number;
  /** The real statements under the default word rules: what a generator should reproduce at this size. */
  statistics: WordSetStatistics;
}

export interface ProblemVocabulary {
  source: string;
  files: Record<VocabularyDomain, string[]>;
  math: DomainVocabulary;
  code: DomainVocabulary;
}

export const DEFAULT_VOCABULARY_FILE = path.join(__dirname, 'data', 'problem-vocabulary.json');
const PROJECT_BENCHMARK_DIR = path.join(__dirname, '..', '..', 'data', 'benchmarks');
export const DEFAULT_BENCHMARK_DIR = existsSync(PROJECT_BENCHMARK_DIR)
  ? PROJECT_BENCHMARK_DIR
  : path.join(__dirname, '..', '..', '..', 'shared', 'data', 'benchmarks');

const BENCHMARK_FILES: Record<VocabularyDomain, string[]> = {
  math: ['promptcot2_aime24_test.jsonl', 'promptcot2_aime25_test.jsonl', 'promptcot2_hmmt25_test.jsonl'],
  code: ['promptcot2_codeforces_test.jsonl'],
};

/** The statement of a benchmark prompt: no chat turn, no math or code template, no "Question:" label. */
export function statementOfPrompt(prompt: string): string {
  // the benchmark prompts end with an opened assistant turn and its "<think>"
  let text = problemOfPrompt(prompt.replace(/<think>\s*$/, ''), promptWrappers());
  // the Codeforces prompts put their own prefix and a "Question:" label before the statement
  const question = text.indexOf('Question: ');
  if (question >= 0 && question < 400) text = text.slice(question + 'Question: '.length);
  const readInputs = text.indexOf('\n\nRead the inputs from stdin');
  if (readInputs >= 0) text = text.slice(0, readInputs);
  return text.trim();
}

/** Sentences of a statement as token lists: paragraphs split at blank lines, sentences after . ? ! or a colon. */
export function sentencesOf(statement: string): string[][] {
  const out: string[][] = [];
  for (const paragraph of statement.split(/\n\s*\n/)) {
    let sentence: string[] = [];
    for (const token of paragraph.split(/\s+/)) {
      if (token === '') continue;
      sentence.push(token);
      if (/[.?!:]["')$]*$/.test(token)) {
        out.push(sentence);
        sentence = [];
      }
    }
    if (sentence.length > 0) out.push(sentence);
  }
  return out;
}

/** Word-set statistics of `texts` under the default dedup word rules (all pairs: keep `texts` to a few thousand). */
export function wordSetStatistics(texts: readonly string[]): WordSetStatistics {
  const filter = wordFilter();
  const sets = texts.map((t) => new Set(filter.words(t)));
  const df = new Map<string, number>();
  for (const s of sets) for (const w of s) df.set(w, (df.get(w) ?? 0) + 1);
  let sum = 0;
  let above01 = 0;
  let above02 = 0;
  let pairs = 0;
  for (let i = 0; i < sets.length; i++) {
    const a = sets[i]!;
    for (let j = i + 1; j < sets.length; j++) {
      const b = sets[j]!;
      let inter = 0;
      for (const w of a) if (b.has(w)) inter++;
      const union = a.size + b.size - inter;
      const jac = union === 0 ? 0 : inter / union;
      sum += jac;
      if (jac > 0.1) above01++;
      if (jac > 0.2) above02++;
      pairs++;
    }
  }
  const round = (x: number) => +x.toPrecision(4);
  return {
    problems: texts.length,
    keptWordsPerProblem: round(sets.reduce((s, x) => s + x.size, 0) / Math.max(1, sets.length)),
    singleProblemWordShare: round([...df.values()].filter((n) => n === 1).length / Math.max(1, df.size)),
    pairJaccard: {
      mean: round(sum / Math.max(1, pairs)),
      above01: round(above01 / Math.max(1, pairs)),
      above02: round(above02 / Math.max(1, pairs)),
    },
  };
}

const countsDescending = (m: Map<string, number>): Array<[string, number]> =>
  [...m].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));

function groupByCount(counts: Map<string, number>): Array<[number, string]> {
  const groups = new Map<number, string[]>();
  for (const [token, n] of countsDescending(counts)) {
    const g = groups.get(n);
    if (g) g.push(token);
    else groups.set(n, [token]);
  }
  return [...groups].map(([n, ts]) => [n, ts.join(' ')]);
}

/** Every token of a domain with its count, most frequent first. */
export function tokenCounts(vocabulary: DomainVocabulary): Array<[string, number]> {
  return vocabulary.tokens.flatMap(([n, ts]) => ts.split(' ').map((t): [string, number] => [t, n]));
}

/** Stock phrases: maximal token runs of 3..16 tokens that at least `minProblems` statements contain. */
function stockPhrases(statements: string[][][], minProblems: number, limit: number): Array<[string, number]> {
  const found = new Map<string, number>();
  for (let n = 3; n <= 16; n++) {
    const df = new Map<string, number>();
    statements.forEach((sentences) => {
      const seen = new Set<string>();
      for (const s of sentences)
        for (let i = 0; i + n <= s.length; i++) {
          const key = s.slice(i, i + n).join(' ');
          if (!seen.has(key)) {
            seen.add(key);
            df.set(key, (df.get(key) ?? 0) + 1);
          }
        }
    });
    for (const [k, v] of df) if (v >= minProblems) found.set(k, v);
  }
  // keep a run unless a longer kept run contains it and is found in nearly as many statements
  const byLength = [...found].sort((a, b) => b[0].split(' ').length - a[0].split(' ').length || b[1] - a[1]);
  const kept: Array<[string, number]> = [];
  for (const [phrase, count] of byLength) {
    const padded = ` ${phrase} `;
    if (kept.some(([k, c]) => c >= 0.8 * count && ` ${k} `.includes(padded))) continue;
    kept.push([phrase, count]);
  }
  return kept
    .sort((a, b) => b[1] * b[0].split(' ').length - a[1] * a[0].split(' ').length || (a[0] < b[0] ? -1 : 1))
    .slice(0, limit);
}

/** Share of the tokens of `statements` covered by an occurrence of a phrase. */
function phraseCoverage(statements: string[][][], phrases: Array<[string, number]>): number {
  const byFirst = new Map<string, string[][]>();
  for (const [p] of phrases) {
    const ts = p.split(' ');
    const list = byFirst.get(ts[0]!);
    if (list) list.push(ts);
    else byFirst.set(ts[0]!, [ts]);
  }
  let covered = 0;
  let total = 0;
  for (const doc of statements)
    for (const s of doc) {
      const mark = new Uint8Array(s.length);
      for (let i = 0; i < s.length; i++)
        for (const ts of byFirst.get(s[i]!) ?? [])
          if (i + ts.length <= s.length && ts.every((t, k) => s[i + k] === t)) mark.fill(1, i, i + ts.length);
      covered += mark.reduce((a, b) => a + b, 0);
      total += s.length;
    }
  return covered / Math.max(1, total);
}

/** The vocabulary of one domain's statements. */
export function domainVocabulary(statements: readonly string[]): DomainVocabulary {
  const tokens = new Map<string, number>();
  const openings = new Map<string, number>();
  const split = statements.map(sentencesOf);
  let sentences = 0;
  let sentenceTokens = 0;
  const lengths: number[] = [];
  for (const doc of split) {
    let n = 0;
    for (const s of doc) {
      for (const t of s) tokens.set(t, (tokens.get(t) ?? 0) + 1);
      n += s.length;
      sentences++;
      sentenceTokens += s.length;
    }
    lengths.push(n);
  }
  // openings: the longest of the first 3, 2 tokens that starts 3+ sentences, else the first token
  const starts = new Map<string, number>();
  for (const doc of split)
    for (const s of doc)
      for (let k = 1; k <= Math.min(3, s.length - 1); k++) {
        const key = s.slice(0, k).join(' ');
        starts.set(key, (starts.get(key) ?? 0) + 1);
      }
  for (const doc of split)
    for (const s of doc) {
      let k = Math.min(3, s.length - 1);
      while (k > 1 && (starts.get(s.slice(0, k).join(' ')) ?? 0) < 3) k--;
      if (k < 1) continue;
      const key = s.slice(0, k).join(' ');
      openings.set(key, (openings.get(key) ?? 0) + 1);
    }
  const phrases = stockPhrases(split, 3, 300);
  const grouped = groupByCount(tokens);
  const position = new Map(grouped.flatMap(([, ts]) => ts.split(' ')).map((t, i) => [t, i]));
  const filter = wordFilter();
  const themes = split.map((doc) =>
    [...new Set(doc.flat().filter((t) => filter.words(t).length > 0))]
      .map((t) => position.get(t)!)
      .sort((a, b) => a - b)
      .map((i) => i.toString(36))
      .join(' '),
  );
  const themePhrases = split.map((doc) => {
    const text = ` ${doc.map((sentence) => sentence.join(' ')).join(' \u0000 ')} `;
    return phrases.flatMap(([p], i) => (text.includes(` ${p} `) ? [i.toString(36)] : [])).join(' ');
  });
  return {
    lengths,
    tokens: grouped,
    themes,
    themePhrases,
    openings: countsDescending(openings),
    phrases,
    phraseCoverage: +phraseCoverage(split, phrases).toFixed(4),
    sentenceTokens: +(sentenceTokens / Math.max(1, sentences)).toFixed(2),
    statistics: wordSetStatistics(statements),
  };
}

/** Reads the benchmark files of `dir` and derives the vocabulary of their statements. */
export function buildProblemVocabulary(dir: string = DEFAULT_BENCHMARK_DIR): ProblemVocabulary {
  const read = (domain: VocabularyDomain): string[] =>
    BENCHMARK_FILES[domain].flatMap((name) => {
      const file = path.join(dir, name);
      if (!existsSync(file))
        throw new Error(`problem vocabulary: benchmark file ${file} is missing (pass --benchmarks DIR)`);
      return readFileSync(file, 'utf8')
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line, i) => {
          const record = JSON.parse(line) as { prompt?: unknown };
          if (typeof record.prompt !== 'string') throw new Error(`${file}:${i + 1}: no "prompt" string`);
          return statementOfPrompt(record.prompt);
        });
    });
  return {
    source:
      'Derived from the benchmark test prompts (AIME 2024, AIME 2025, HMMT February 2025, Codeforces) by ' +
      'lib/bench/problem-vocabulary.ts: token counts, sentence openings and stock phrases of the statements, ' +
      'and their word-set statistics under the default dedup rules. Regenerate: ' +
      'npm run bench -- dedup-scale --write-vocabulary [--benchmarks DIR].',
    files: BENCHMARK_FILES,
    math: domainVocabulary(read('math')),
    code: domainVocabulary(read('code')),
  };
}

/** Writes the vocabulary as JSON, formatted as the project's prettier settings format it. */
export async function writeProblemVocabulary(
  vocabulary: ProblemVocabulary,
  file: string = DEFAULT_VOCABULARY_FILE,
): Promise<void> {
  const prettier = await import('prettier');
  const options = (await prettier.resolveConfig(file)) ?? {};
  writeFileSync(file, await prettier.format(JSON.stringify(vocabulary), { ...options, parser: 'json' }));
}

/** The committed vocabulary (or `file`). */
export function loadProblemVocabulary(file: string = DEFAULT_VOCABULARY_FILE): ProblemVocabulary {
  if (!existsSync(file))
    throw new Error(
      `problem vocabulary ${file} is missing: regenerate it with npm run bench -- dedup-scale --write-vocabulary`,
    );
  return JSON.parse(readFileSync(file, 'utf8')) as ProblemVocabulary;
}
