// Word sets for near-duplicate detection of generated problems (method.md §2.3 step 3).
//
// The published rules: lowercase; the characters ()[]{}$^+-*/= become spaces; split on whitespace; keep words of at
// least 4 characters that are not made only of 0-9 . , characters. Tokens keep any other punctuation ("integer," and
// "integer" are different words), as in the published code.
//
// The published code also drops "common words" through a running-frequency cache (a word joins it once it has been
// seen more than 1000 times), so whether two problems count as duplicates depends on what came before them (§8 bug
// 15). Here the filter is a fixed, order-independent stop-word list instead: English function words and the
// boilerplate of maths and programming problem statements ("find", "given", "positive", "integer", "input",
// "output", common LaTeX commands such as "\frac"), all of at least 4 characters (shorter words are dropped by the
// length rule anyway). The list deliberately leaves out mathematical content words ("triangle", "prime",
// "probability", "polynomial"): those are what tells two problems apart. Stop words are matched after trimming
// surrounding . , ; : ! ? quotes and backticks, so "integer," and "(integer" are stop words too; words that are not
// stop words are kept untrimmed. The list is configurable: `stopWords` replaces it, `extraStopWords` adds to it,
// `minWordLength` changes the length rule.

/** The default stop words (lowercase, each at least 4 characters). */
export const DEFAULT_STOP_WORDS: readonly string[] = Object.freeze([
  // English function words, pronouns, auxiliaries, frequent adverbs and verbs
  'able', 'about', 'above', 'according', 'across', 'actually', 'after', 'afterwards', 'again', 'against', 'ahead',
  'almost', 'alone', 'along', 'already', 'also', 'although', 'always', 'among', 'amongst', 'another', 'anybody',
  'anyhow', 'anyone', 'anything', 'anyway', 'anywhere', 'apart', 'appear', 'appears', 'around', 'aside', 'asked',
  'away', 'back', 'became', 'because', 'become', 'becomes', 'becoming', 'been', 'before', 'beforehand', 'begin',
  'begins', 'behind', 'being', 'below', 'beside', 'besides', 'between', 'beyond', 'both', 'brief', 'briefly',
  'came', 'cannot', 'cant', "can't", 'certain', 'certainly', 'change', 'changes', 'clearly', 'come', 'comes',
  'could', "couldn't", 'decide', 'decided', 'describe', 'described', 'despite', 'does', "doesn't", 'doing', 'done',
  "don't", 'down', 'during', 'each', 'either', 'else', 'elsewhere', 'enough', 'especially', 'even', 'ever',
  'every', 'everybody', 'everyone', 'everything', 'everywhere', 'except', 'fact', 'find', 'finds', 'found', 'from',
  'fully', 'further', 'furthermore', 'gets', 'getting', 'give', 'given', 'gives', 'giving', 'goes', 'going',
  'gone', 'gotten', 'happen', 'happens', 'hard', 'have', "haven't", 'having', 'help', 'helps', 'hence', 'here',
  'hereby', 'herein', 'hers', 'herself', 'himself', 'however', "i'm", 'i.e.', 'indeed', 'instead', 'into',
  "isn't", "it's", 'itself', 'just', 'keep', 'keeps', 'kept', 'kind', 'know', 'known', 'knows', 'last', 'later',
  'latter', 'least', 'less', "let's", 'like', 'likely', 'look', 'looks', 'made', 'mainly', 'make', 'makes',
  'making', 'many', 'maybe', 'mean', 'means', 'might', 'more', 'moreover', 'most', 'mostly', 'much', 'must',
  'myself', 'namely', 'near', 'nearly', 'need', 'needed', 'needs', 'neither', 'never', 'nevertheless', 'next',
  'nobody', 'none', 'nothing', 'noting', 'once', 'ones', 'only', 'onto', 'other', 'others', 'otherwise', 'ours',
  'ourselves', 'over', 'overall', 'part', 'perhaps', 'please', 'quite', 'rather', 'really', 'regarding', 'said',
  'same', 'says', 'seem', 'seems', 'seen', 'several', 'shall', 'should', 'simply', 'since', 'some', 'somebody',
  'somehow', 'someone', 'something', 'sometimes', 'somewhere', 'soon', 'still', 'such', 'sure', 'take', 'taken',
  'takes', 'taking', 'tell', 'tells', 'than', 'that', "that's", 'their', 'theirs', 'them', 'themselves', 'then',
  'thence', 'there', "there's", 'thereafter', 'thereby', 'therefore', 'therein', 'thereof', 'these', 'they',
  'thing', 'things', 'think', 'this', 'thorough', 'those', 'though', 'through', 'throughout', 'thus', 'time',
  'times', 'together', 'told', 'took', 'toward', 'towards', 'tries', 'try', 'trying', 'turn', 'turns', 'under',
  'unless', 'until', 'upon', 'used', 'useful', 'uses', 'using', 'usually', 'various', 'very', 'want', 'wants',
  'well', 'went', 'were', 'what', 'whatever', "what's", 'when', 'whence', 'whenever', 'where', 'whereas',
  'whereby', 'wherein', 'wherever', 'whether', 'which', 'while', 'whole', 'whom', 'whose', 'will', 'wish', 'with',
  'within', 'without', "won't", 'would', "you're", 'your', 'yours', 'yourself', 'yourselves',
  // number words
  'zero', 'three', 'four', 'five', 'seven', 'eight', 'nine', 'eleven', 'twelve', 'twenty', 'hundred', 'thousand',
  'million', 'billion', 'once', 'twice', 'half', 'first', 'second', 'third', 'fourth', 'fifth', 'last',
  // instructions and boilerplate of maths problem statements
  'answer', 'answers', 'assume', 'assuming', 'calculate', 'case', 'cases', 'choose', 'chosen', 'compute',
  'condition', 'conditions', 'consider', 'considered', 'considering', 'define', 'defined', 'defines', 'denote',
  'denoted', 'denotes', 'denoting', 'determine', 'different', 'distinct', 'equal', 'equals', 'evaluate', 'exactly',
  'exist', 'exists', 'explain', 'express', 'expressed', 'finding', 'following', 'follows', 'form', 'greatest',
  'hold', 'holds', 'integer', 'integers', 'largest', 'maximum', 'minimum', 'negative', 'nonnegative', 'nonzero',
  'note', 'number', 'numbers', 'obtain', 'obtained', 'possible', 'positive', 'problem', 'problems', 'prove',
  'question', 'real', 'reals', 'relatively', 'respectively', 'result', 'resulting', 'satisfied', 'satisfies',
  'satisfy', 'satisfying', 'show', 'shown', 'simplest', 'simplify', 'smallest', 'solution', 'solutions', 'solve',
  'suppose', 'total', 'true', 'false', 'value', 'values', 'write', 'written',
  // boilerplate of programming problem statements
  'additional', 'arbitrary', 'array', 'arrays', 'called', 'character', 'characters', 'consist', 'consisting',
  'consists', 'constraint', 'constraints', 'contain', 'contains', 'containing', 'data', 'describes', 'describing',
  'description', 'easy', 'element', 'elements', 'example', 'examples', 'exceed', 'exceeds', 'explanation',
  'followed', 'format', 'formally', 'function', 'guaranteed', 'hack', 'hacks', 'index', 'indices', 'initial',
  'initially', 'input', 'inputs', 'length', 'limit', 'limits', 'line', 'lines', 'lowercase', 'memory', 'modulo',
  'multiple', 'notes', 'numbered', 'operation', 'operations', 'output', 'outputs', 'perform', 'performing',
  'possibly', 'print', 'printed', 'prints', 'program', 'query', 'queries', 'read', 'reads', 'receive', 'recognized',
  'representing', 'required', 'response', 'return', 'returns', 'sample', 'separated', 'simple', 'single', 'size',
  'solved', 'space', 'spaces', 'standard', 'starting', 'stdin', 'stdout', 'string', 'strings', 'task', 'tasks',
  'test', 'tests', 'testcase', 'testcases', 'type', 'types', 'uppercase', 'version', 'versions', 'words',
  // LaTeX notation that carries no content
  '\\begin', '\\boxed', '\\cdot', '\\cdots', '\\dfrac', '\\displaystyle', '\\dots', '\\end', '\\frac', '\\geq',
  '\\ldots', '\\left', '\\leq', '\\mathbb', '\\mathbf', '\\mathcal', '\\mathrm', '\\neq', '\\operatorname',
  '\\qquad', '\\quad', '\\right', '\\text', '\\textbf', '\\textit', '\\texttt', '\\tfrac', '\\times',
].filter((w) => w.length >= 4));

export const DEFAULT_MIN_WORD_LENGTH = 4;

export interface WordOptions {
  /** Keep words of at least this many characters (Unicode code points). Default 4. */
  minWordLength?: number;
  /** Replaces the default stop-word list (`[]` turns stop words off). */
  stopWords?: Iterable<string>;
  /** Added to the stop-word list. */
  extraStopWords?: Iterable<string>;
}

// Separators: Python's str.split() whitespace, plus the characters ()[]{}$^+-*/= that the published code turns
// into spaces.
const ASCII_SEPARATOR = new Uint8Array(128);
for (const c of [9, 10, 11, 12, 13, 28, 29, 30, 31, 32]) ASCII_SEPARATOR[c] = 1;
for (const ch of '()[]{}$^+-*/=') ASCII_SEPARATOR[ch.charCodeAt(0)] = 1;

function isSeparator(c: number): boolean {
  if (c < 128) return ASCII_SEPARATOR[c] === 1;
  return c === 0x85 || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000;
}

/** Punctuation trimmed from both ends of a word before the stop-word lookup. */
function isTrimmed(c: number): boolean {
  return c === 46 /* . */ || c === 44 /* , */ || c === 59 /* ; */ || c === 58 /* : */ || c === 33 /* ! */ || c === 63 /* ? */ || c === 34 /* " */ || c === 39 /* ' */ || c === 96 /* ` */;
}

/** 32-bit finaliser (murmur3 fmix32): spreads every input bit over the output. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The 32-bit hash of a word (FNV-1a over UTF-16 code units, then fmix32): the same in every process. */
export function hashWord(word: string, start = 0, end = word.length): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ word.charCodeAt(i), 0x01000193);
  return fmix32(h);
}

// Scratch space for one tokenisation (the filter is synchronous, so one set per process is enough).
let scratchStarts = new Int32Array(1024);
let scratchEnds = new Int32Array(1024);
let scratchHashes = new Uint32Array(1024);

function growScratch(): void {
  const n = scratchStarts.length * 2;
  const s = new Int32Array(n);
  s.set(scratchStarts);
  scratchStarts = s;
  const e = new Int32Array(n);
  e.set(scratchEnds);
  scratchEnds = e;
  const h = new Uint32Array(n);
  h.set(scratchHashes);
  scratchHashes = h;
}

/** A compiled word filter: the rules above with one set of options. */
export class WordFilter {
  readonly minWordLength: number;
  readonly stopWords: ReadonlySet<string>;

  constructor(options: WordOptions = {}) {
    const min = options.minWordLength ?? DEFAULT_MIN_WORD_LENGTH;
    if (!Number.isInteger(min) || min < 1) throw new Error(`minWordLength must be a positive integer, got ${min}`);
    this.minWordLength = min;
    const stop = new Set<string>();
    for (const w of options.stopWords ?? DEFAULT_STOP_WORDS) stop.add(w.toLowerCase());
    for (const w of options.extraStopWords ?? []) stop.add(w.toLowerCase());
    this.stopWords = stop;
    // Open-addressing table of the stop words' hashes (slot -> index + 1 into stopList), so that the scan looks
    // words up without cutting them out of the text.
    this.stopList = [...stop];
    let cap = 16;
    while (cap < this.stopList.length * 4) cap *= 2;
    this.stopKeys = new Int32Array(cap);
    this.stopIndex = new Int32Array(cap);
    for (let k = 0; k < this.stopList.length; k++) {
      const h = hashWord(this.stopList[k]!) | 0;
      let i = h & (cap - 1);
      while (this.stopIndex[i] !== 0) i = (i + 1) & (cap - 1);
      this.stopKeys[i] = h;
      this.stopIndex[i] = k + 1;
    }
  }

  private readonly stopList: string[];
  private readonly stopKeys: Int32Array;
  private readonly stopIndex: Int32Array;

  /** Is lower[start, end) a stop word? `h` is its hashWord. */
  private isStop(lower: string, start: number, end: number, h: number): boolean {
    const keys = this.stopKeys;
    const index = this.stopIndex;
    const mask = keys.length - 1;
    let i = h & mask;
    for (;;) {
      const k = index[i]!;
      if (k === 0) return false;
      if (keys[i] === h) {
        const w = this.stopList[k - 1]!;
        if (w.length === end - start) {
          let same = true;
          for (let j = 0; j < w.length; j++) {
            if (w.charCodeAt(j) !== lower.charCodeAt(start + j)) {
              same = false;
              break;
            }
          }
          if (same) return true;
        }
      }
      i = (i + 1) & mask;
    }
  }

  /** A stable description of the rules, for checking that a persisted index was built with the same ones. */
  fingerprint(): { minWordLength: number; stopWords: number; stopWordsHash: string } {
    const sorted = [...this.stopWords].sort();
    let a = 0x9747b28c;
    let b = 0x2545f491;
    for (const w of sorted) {
      a = fmix32(a ^ hashWord(w));
      b = fmix32(Math.imul(b, 31) ^ w.length ^ hashWord(w, 0, w.length >> 1));
    }
    return { minWordLength: this.minWordLength, stopWords: sorted.length, stopWordsHash: a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0') };
  }

  /**
   * Scans `text` and leaves the kept words (with repeats) in the scratch arrays: their [start, end) offsets in
   * the returned lowercased text and their hashes. Returns the lowercased text and the count.
   */
  private scan(text: string): { lower: string; count: number } {
    const lower = text.toLowerCase();
    const n = lower.length;
    const min = this.minWordLength;
    const checkStop = this.stopList.length > 0;
    let count = 0;
    let i = 0;
    while (i < n) {
      let c = lower.charCodeAt(i);
      if (isSeparator(c)) {
        i++;
        continue;
      }
      const start = i;
      let h = 0x811c9dc5;
      let numeric = true; // only 0-9 . ,
      let lowSurrogates = 0;
      for (;;) {
        h = Math.imul(h ^ c, 0x01000193);
        if (numeric && !((c >= 48 && c <= 57) || c === 46 || c === 44)) numeric = false;
        if (c >= 0xdc00 && c <= 0xdfff) lowSurrogates++;
        if (++i >= n) break;
        c = lower.charCodeAt(i);
        if (isSeparator(c)) break;
      }
      const end = i;
      if (end - start - lowSurrogates < min || numeric) continue;
      const hash = fmix32(h);
      if (checkStop) {
        let s = start;
        let e = end;
        while (s < e && isTrimmed(lower.charCodeAt(s))) s++;
        while (e > s && isTrimmed(lower.charCodeAt(e - 1))) e--;
        if (s === start && e === end ? this.isStop(lower, s, e, hash | 0) : e > s && this.isStop(lower, s, e, hashWord(lower, s, e) | 0)) continue;
      }
      if (count === scratchStarts.length) growScratch();
      scratchStarts[count] = start;
      scratchEnds[count] = end;
      scratchHashes[count] = hash;
      count++;
    }
    return { lower, count };
  }

  /** The problem's unique words, in order of first appearance. */
  words(text: string): string[] {
    const { lower, count } = this.scan(text);
    const seen = new Set<string>();
    for (let k = 0; k < count; k++) seen.add(lower.slice(scratchStarts[k]!, scratchEnds[k]!));
    return [...seen];
  }

  /** The hashes (`hashWord`) of the problem's unique words, sorted ascending. */
  wordHashes(text: string): Uint32Array {
    const { count } = this.scan(text);
    const out = scratchHashes.slice(0, count).sort();
    let m = 0;
    for (let k = 0; k < count; k++) if (k === 0 || out[k] !== out[m - 1]) out[m++] = out[k]!;
    return m === count ? out : out.slice(0, m);
  }
}

const DEFAULT_FILTER = new WordFilter();
const filters = new WeakMap<WordOptions, WordFilter>();

/** The filter for `options` (compiled once per options object). */
export function wordFilter(options?: WordOptions): WordFilter {
  if (!options) return DEFAULT_FILTER;
  let f = filters.get(options);
  if (!f) filters.set(options, (f = new WordFilter(options)));
  return f;
}

/** The unique words of a problem under the rules above, in order of first appearance. */
export function problemWords(text: string, options?: WordOptions): string[] {
  return wordFilter(options).words(text);
}
