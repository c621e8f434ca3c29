// Seeded problem statements with the vocabulary of real math and code problems, for dedup benchmarks at corpus
// scale (lib/bench/dedup-scale.ts). Unlike lib/bench/dedup.ts's pseudo-words, every token is drawn from the real
// token counts of lib/bench/data/problem-vocabulary.json (./problem-vocabulary.ts), so the words dedup keeps are
// shared between problems as often as real ones are.
//
// A problem of a domain (math or code):
//   - its length (tokens) is a real statement's length, times a factor in [0.85, 1.15];
//   - it is a run of sentences; a sentence starts with a real opening ("Find the", "Let", "The first line") and
//     has a geometric length with the real mean; now and then a real stock phrase is put in ("where $m$ and $n$
//     are relatively prime positive integers.", "It is guaranteed that the sum of $n$ over all test cases");
//   - every other token is drawn by its real count. A token that dedup keeps words of (a content token) is, with
//     probability `themeShare`, replaced by a word of the problem's theme: the content tokens of two real problems
//     (concepts combined), so that content words co-occur and repeat as in real problems; and a plain word is, with
//     probability `tailShare`, replaced by a word of a long tail (`tailWords` pseudo-words made of the starts and
//     ends of real words, drawn by Zipf's law), which stands for the vocabulary a large corpus has and ~500
//     benchmark problems do not.
// Near copies (`nearDupRate`) are edits of one of the last `sourceWindow` problems (content words replaced,
// dropped or added, sentences rotated: another pass of the same concepts); exact copies (`exactDupRate`) repeat
// one, some with extra surrounding whitespace.
//
// The defaults are fitted so that a generated sample of the benchmark's size matches the real statements'
// word-set statistics (kept words per problem, share of words found in one problem only, pair Jaccard: mean and
// shares above 0.1 and 0.2); `calibration()` reports both side by side.
import { mulberry32 } from '../../domain/core/random';
import { wordFilter } from '../../activities/dedup/words';
import {
  loadProblemVocabulary,
  tokenCounts,
  wordSetStatistics,
  type DomainVocabulary,
  type ProblemVocabulary,
  type VocabularyDomain,
  type WordSetStatistics,
} from './problem-vocabulary';

export interface RealisticProblemOptions {
  seed: number;
  /** 'mixed': each problem is code with probability `codeShare`, else math. Default 'mixed'. */
  domain?: VocabularyDomain | 'mixed';
  /** Default 0.5. */
  codeShare?: number;
  /** Share of problems that are edited copies of a recent problem. Default 0.07. */
  nearDupRate?: number;
  /** Share of problems that are exact copies of a recent problem. Default 0.01. */
  exactDupRate?: number;
  /** The edit strength of a near copy (share of content tokens changed) is uniform in [editMin, editMax]. */
  editMin?: number;
  editMax?: number;
  /** Copies are made of one of the last `sourceWindow` problems. Default 20,000. */
  sourceWindow?: number;
  /** Real statements whose content words a problem mixes (concepts combined). Default 3. */
  themes?: number;
  /** Share of each of those statements' content tokens a problem uses. Default 0.4. */
  themeShare?: number;
  /** Content words drawn by count, as a share of the leading statement's content tokens. Default 0. */
  frequentShare?: number;
  /** Share of plain words replaced by a long-tail word. Default 0.25. */
  tailShare?: number;
  /** Long-tail pseudo-words. Default 300,000. */
  tailWords?: number;
  /** Vocabulary (default: the committed file). */
  vocabulary?: ProblemVocabulary;
}

export interface RealisticProblem {
  id: string;
  text: string;
  domain: VocabularyDomain;
  kind: 'base' | 'near' | 'exact';
  /** For copies: the ordinal of the problem copied. */
  source?: number;
}

/** One domain's vocabulary compiled for sampling: urns (a token index per occurrence) give exact frequencies. */
interface CompiledDomain {
  tokens: string[];
  /** Token index per occurrence of a token in the real statements. */
  urn: Int32Array;
  /** Token index per occurrence of a content token. */
  contentUrn: Int32Array;
  /** Whether dedup keeps a word of the token. */
  content: Uint8Array;
  /** Plain words (letters, then at most one punctuation mark) that the long tail may replace. */
  plain: Uint8Array;
  /** The distinct content tokens of each real statement. */
  themes: Int32Array[];
  /** The phrases each real statement contains. */
  themePhrases: Int32Array[];
  openings: string[][];
  openingUrn: Int32Array;
  phrases: string[][];
  phraseUrn: Int32Array;
  lengths: number[];
  sentenceTokens: number;
  /** Probability that a token slot starts a stock phrase (the phrases' real share of the tokens). */
  phraseRate: number;
  statistics: WordSetStatistics;
}

function urnOf(counts: readonly number[]): Int32Array {
  const total = counts.reduce((s, c) => s + c, 0);
  const urn = new Int32Array(total);
  let at = 0;
  counts.forEach((c, i) => urn.fill(i, at, (at += c)));
  return urn;
}

function compile(v: DomainVocabulary): CompiledDomain {
  const filter = wordFilter();
  const counts = tokenCounts(v);
  const tokens = counts.map(([t]) => t);
  const urn = urnOf(counts.map(([, c]) => c));
  const content = Uint8Array.from(tokens, (t) => (filter.words(t).length > 0 ? 1 : 0));
  const plain = Uint8Array.from(tokens, (t, i) => (content[i] === 1 && /^[A-Za-z]{4,}[.,;:?!]?$/.test(t) ? 1 : 0));
  const contentUrn = urn.filter((t) => content[t] === 1);
  const themePhrases = v.themePhrases.map((list) =>
    list === '' ? new Int32Array(0) : Int32Array.from(list.split(' '), (x) => parseInt(x, 36)),
  );
  const themes = v.themes.map((theme) => Int32Array.from(theme.split(' '), (x) => parseInt(x, 36)));
  const phraseUses = v.phrases.reduce((s, [, c]) => s + c, 0);
  const phraseLength = v.phrases.reduce((s, [p, c]) => s + p.split(' ').length * c, 0) / Math.max(1, phraseUses);
  return {
    tokens,
    urn,
    contentUrn,
    content,
    plain,
    themes,
    themePhrases,
    openings: v.openings.map(([o]) => o.split(' ')),
    openingUrn: urnOf(v.openings.map(([, c]) => c)),
    phrases: v.phrases.map(([p]) => p.split(' ')),
    phraseUrn: urnOf(v.phrases.map(([, c]) => c)),
    lengths: v.lengths,
    sentenceTokens: v.sentenceTokens,
    // a slot starts a phrase with the rate that makes phrases cover their real share of the tokens
    phraseRate: v.phraseCoverage / Math.max(1, phraseLength * (1 - v.phraseCoverage) + v.phraseCoverage),
    statistics: v.statistics,
  };
}

/** The letters-only content words of both domains, for building long-tail words. */
function tailParts(domains: CompiledDomain[]): string[] {
  const parts = new Set<string>();
  for (const d of domains)
    d.tokens.forEach((t, i) => {
      if (d.plain[i] === 1 && /^[a-z]{5,}$/.test(t)) parts.add(t);
    });
  return [...parts].sort();
}

/** A streaming generator: `next()` gives problem 0, 1, 2, ... (the same sequence for the same options). */
export class RealisticProblemGenerator {
  private readonly rand: () => number;
  private readonly domains: Record<VocabularyDomain, CompiledDomain>;
  private readonly parts: string[];
  private readonly tail: Map<number, string> = new Map();
  private readonly opts: Required<Omit<RealisticProblemOptions, 'vocabulary' | 'domain'>> & {
    domain: VocabularyDomain | 'mixed';
  };
  /** Tokens of the last `sourceWindow` problems (ring), with their domain. */
  private readonly window: Array<{ tokens: string[]; domain: VocabularyDomain; text: string } | undefined>;
  private count = 0;
  /** Content words of the problem being composed that have been used once. */
  private used = 0;

  constructor(options: RealisticProblemOptions) {
    this.opts = {
      seed: options.seed,
      domain: options.domain ?? 'mixed',
      codeShare: options.codeShare ?? 0.5,
      nearDupRate: options.nearDupRate ?? 0.07,
      exactDupRate: options.exactDupRate ?? 0.01,
      editMin: options.editMin ?? 0.05,
      editMax: options.editMax ?? 0.6,
      sourceWindow: options.sourceWindow ?? 20_000,
      themes: options.themes ?? 3,
      themeShare: options.themeShare ?? 0.4,
      frequentShare: options.frequentShare ?? 0,
      tailShare: options.tailShare ?? 0.25,
      tailWords: options.tailWords ?? 300_000,
    };
    this.rand = mulberry32(options.seed);
    const vocabulary = options.vocabulary ?? loadProblemVocabulary();
    this.domains = { math: compile(vocabulary.math), code: compile(vocabulary.code) };
    this.parts = tailParts([this.domains.math, this.domains.code]);
    this.window = new Array<undefined>(this.opts.sourceWindow).fill(undefined);
  }

  next(): RealisticProblem {
    const i = this.count++;
    const id = `p${i}`;
    const rand = this.rand;
    const o = this.opts;
    const r = rand();
    const back = 1 + Math.floor(rand() * Math.min(o.sourceWindow, Math.max(1, i)));
    const source = i - back;
    const from = i > 0 ? this.window[source % o.sourceWindow] : undefined;
    let problem: RealisticProblem;
    let tokens: string[];
    if (from && r < o.exactDupRate) {
      problem = { id, text: rand() < 0.3 ? `  ${from.text}\n` : from.text, domain: from.domain, kind: 'exact', source };
      tokens = from.tokens;
    } else if (from && r < o.exactDupRate + o.nearDupRate) {
      const edit = o.editMin + rand() * (o.editMax - o.editMin);
      tokens = this.edit(this.domains[from.domain], from.tokens, edit);
      problem = { id, text: this.render(tokens, from.domain), domain: from.domain, kind: 'near', source };
    } else {
      const domain: VocabularyDomain =
        o.domain === 'mixed' ? (rand() < o.codeShare ? 'code' : 'math') : (o.domain as VocabularyDomain);
      tokens = this.compose(this.domains[domain]);
      problem = { id, text: this.render(tokens, domain), domain, kind: 'base' };
    }
    this.window[i % o.sourceWindow] = { tokens, domain: problem.domain, text: problem.text };
    return problem;
  }

  /**
   * The content words a problem uses: a random part (`themeShare` of each) of two real statements' content tokens
   * (concepts combined) and a few drawn by count; plain words among them are long-tail words with probability
   * `tailShare`. Content slots of the text pick from these, so words repeat within a problem as in real ones.
   */
  private contentSet(d: CompiledDomain, a: Int32Array): string[] {
    const rand = this.rand;
    const o = this.opts;
    const out: string[] = [];
    const add = (t: number) =>
      out.push(d.plain[t] === 1 && rand() < o.tailShare ? this.tailWord(d.tokens[t]!) : d.tokens[t]!);
    const others = Array.from({ length: o.themes - 1 }, () => d.themes[Math.floor(rand() * d.themes.length)]!);
    for (const theme of [a, ...others]) for (const t of theme) if (rand() < o.themeShare) add(t);
    const frequent = Math.round(o.frequentShare * a.length);
    for (let k = 0; k < frequent; k++) add(d.contentUrn[Math.floor(rand() * d.contentUrn.length)]!);
    if (out.length === 0) add(d.contentUrn[Math.floor(rand() * d.contentUrn.length)]!);
    for (let k = out.length - 1; k > 0; k--) {
      const j = Math.floor(rand() * (k + 1));
      [out[k], out[j]] = [out[j]!, out[k]!];
    }
    return out;
  }

  /** A problem's tokens, sentence breaks marked with '' (paragraph breaks with '\n'). */
  private compose(d: CompiledDomain): string[] {
    const rand = this.rand;
    // the length of the statement whose theme leads
    const lead = Math.floor(rand() * d.themes.length);
    const len = Math.max(8, Math.round(d.lengths[lead]! * (0.85 + 0.3 * rand())));
    const words = this.contentSet(d, d.themes[lead]!);
    this.used = 0;
    const out: string[] = [];
    let n = 0;
    while (n < len) {
      const opening = d.openings[d.openingUrn[Math.floor(rand() * d.openingUrn.length)]!]!;
      for (const t of opening) out.push(t);
      n += opening.length;
      // geometric sentence length with the real mean
      const p = 1 / Math.max(2, d.sentenceTokens - opening.length);
      while (n < len) {
        if (rand() < d.phraseRate) {
          // mostly a phrase of the leading statement (boilerplate goes with its topic), else any by its count
          const own = d.themePhrases[lead]!;
          const k =
            own.length > 0 && rand() < 0.7
              ? own[Math.floor(rand() * own.length)]!
              : d.phraseUrn[Math.floor(rand() * d.phraseUrn.length)]!;
          const phrase = d.phrases[k]!;
          for (const t of phrase) out.push(t);
          n += phrase.length;
        } else {
          out.push(this.token(d, words));
          n++;
        }
        if (rand() < p) break;
      }
      out.push(rand() < 0.25 ? '\n' : '');
    }
    return out;
  }

  /**
   * One token drawn by its real count; a content token is replaced by one of the problem's content words (each
   * once in turn, then any of them again).
   */
  private token(d: CompiledDomain, words: string[]): string {
    const t = d.urn[Math.floor(this.rand() * d.urn.length)]!;
    if (d.content[t] !== 1) return d.tokens[t]!;
    return this.used < words.length ? words[this.used++]! : words[Math.floor(this.rand() * words.length)]!;
  }

  /**
   * A long-tail word: ranks 0..tailWords-1 drawn by Zipf's law as if they came after the ~5,000 real content
   * words (rank r has weight 1 / (5000 + r)), keeping the punctuation of the word it replaces.
   */
  private tailWord(replaced: string): string {
    const m = this.opts.tailWords;
    const r0 = 5000;
    const rank = Math.min(m - 1, Math.floor(r0 * Math.exp(this.rand() * Math.log((r0 + m) / r0)) - r0));
    let w = this.tail.get(rank);
    if (w === undefined) {
      // start of one real word, end of another: deterministic in the rank
      const parts = this.parts;
      const h1 = Math.imul(rank + 1, 0x9e3779b1) >>> 0;
      const h2 = Math.imul(rank + 7, 0x85ebca6b) >>> 0;
      const a = parts[h1 % parts.length]!;
      const b = parts[h2 % parts.length]!;
      w = a.slice(0, 2 + (h1 % Math.max(1, a.length - 3))) + b.slice(b.length - 2 - (h2 % Math.max(1, b.length - 3)));
      if (w.length < 4) w += b.slice(0, 4 - w.length);
      this.tail.set(rank, w);
    }
    const last = replaced.charAt(replaced.length - 1);
    const punct = /[.,;:?!]/.test(last) ? last : '';
    return /^[A-Z]/.test(replaced) ? w.charAt(0).toUpperCase() + w.slice(1) + punct : w + punct;
  }

  private edit(d: CompiledDomain, src: string[], e: number): string[] {
    const rand = this.rand;
    const words = this.contentSet(d, d.themes[Math.floor(rand() * d.themes.length)]!);
    this.used = words.length; // edits draw any of them
    const filter = wordFilter();
    const out: string[] = [];
    for (const t of src) {
      if (t === '' || t === '\n' || filter.words(t).length === 0) {
        out.push(t !== '' && t !== '\n' && rand() < e / 3 ? d.tokens[d.urn[Math.floor(rand() * d.urn.length)]!]! : t);
        continue;
      }
      const r = rand();
      if (r < e / 6) continue; // dropped
      out.push(r < e ? this.token(d, words) : t);
      if (rand() < e / 6) out.push(this.token(d, words)); // added
    }
    // sentences in another order now and then: rotate at a sentence break
    if (rand() < 0.3) {
      const breaks = out.flatMap((t, k) => (t === '' || t === '\n' ? [k] : []));
      if (breaks.length > 2) {
        const cut = breaks[Math.floor(rand() * (breaks.length - 1))]! + 1;
        return [...out.slice(cut), ...out.slice(0, cut)];
      }
    }
    return out;
  }

  private render(tokens: string[], domain: VocabularyDomain): string {
    let text = '';
    let sentenceStart = true;
    for (let k = 0; k < tokens.length; k++) {
      const t = tokens[k]!;
      if (t === '' || t === '\n') {
        // a full stop after a content word or a formula ("... integers.", "$n$."), never after "the"
        const last = text.slice(text.lastIndexOf(' ') + 1);
        if (!sentenceStart && !/[.?!:]["')$]*$/.test(last) && (/\$$/.test(last) || wordFilter().words(last).length > 0))
          text += domain === 'code' && t === '\n' ? ':' : '.';
        text += t === '\n' ? '\n\n' : ' ';
        sentenceStart = true;
        continue;
      }
      if (!sentenceStart && text !== '' && !text.endsWith('\n') && !text.endsWith(' ')) text += ' ';
      text += sentenceStart && /^[a-z]/.test(t) ? t.charAt(0).toUpperCase() + t.slice(1) : t;
      sentenceStart = false;
    }
    return text.trim();
  }

  /** Word-set statistics of `n` fresh base problems of a domain against the real ones (a separate generator). */
  static calibration(
    domain: VocabularyDomain,
    options: Omit<RealisticProblemOptions, 'domain' | 'nearDupRate' | 'exactDupRate'>,
  ): { real: WordSetStatistics; generated: WordSetStatistics } {
    const g = new RealisticProblemGenerator({ ...options, domain, nearDupRate: 0, exactDupRate: 0 });
    const real = g.domains[domain].statistics;
    const texts = Array.from({ length: real.problems }, () => g.next().text);
    return { real, generated: wordSetStatistics(texts) };
  }
}
