// Word sets for near-duplicate detection of generated problems (method.md §2.3 step 3).
//
// The published rules: lowercase; the characters ()[]{}$^+-*/= become spaces; split on whitespace (Python's
// str.split() set); keep words of at least 4 characters (code points) that are neither made only of 0-9 . ,
// characters nor only of digits (Python's isdigit(): `١٢٣٤`, `²³⁴⁵`).
// Words keep any other punctuation ("integer," and "integer" are different words), as in the published code.
//
// The published code also drops "common words" through a running-frequency cache (a word joins it once it has been
// seen more than 1000 times), so whether two problems count as duplicates depends on what came before them (§8 bug
// 15). Here that filter is a fixed, order-independent stop-word list instead (DEFAULT_STOP_WORDS, about 550 words):
// English function words, number words, and the boilerplate of maths and programming problem statements ("find",
// "given", "positive", "integer", "input", "output", "guaranteed", LaTeX commands such as "\frac" and "\leq"), all
// of at least 4 characters (shorter words are dropped by the length rule anyway). It deliberately leaves out
// mathematical content words ("triangle", "prime", "probability", "polynomial"): those are what tells two problems
// apart. Stop words are matched after trimming surrounding . , ; : ! ? quotes and backticks, so "integer," and
// "integer." are stop words too; words that are not stop words are kept untrimmed. Configurable: `stopWords`
// replaces the list, `extraStopWords` adds to it, `minWordLength` changes the length rule.
//
// A fixed list removes less than the published cache does on a large corpus (there, after a warm-up, every word
// seen 1000+ times is gone), so unrelated problems share more words and MinHash-LSH (50 x 2, which already
// reports pairs of Jaccard ~0.05 as candidates) finds more candidates to check. `frequentWords` derives extra stop
// words from a corpus by document frequency, which depends only on the corpus, not on its order.
import { isPyWhitespace } from '../../domain/core/py-strings';

// Hot loops call Math.imul through a module constant: a global lookup of `Math` is slow where code runs in a vm
// context (jest), and this costs nothing elsewhere.
const imul = Math.imul;

/** The default stop words (lowercase, each at least 4 characters). */
export const DEFAULT_STOP_WORDS: readonly string[] = Object.freeze(
  [
    // English function words, pronouns, auxiliaries, frequent adverbs and verbs
    'able',
    'about',
    'above',
    'according',
    'across',
    'actually',
    'after',
    'afterwards',
    'again',
    'against',
    'ahead',
    'almost',
    'alone',
    'along',
    'already',
    'also',
    'although',
    'always',
    'among',
    'amongst',
    'another',
    'anybody',
    'anyhow',
    'anyone',
    'anything',
    'anyway',
    'anywhere',
    'apart',
    'appear',
    'appears',
    'around',
    'aside',
    'asked',
    'away',
    'back',
    'became',
    'because',
    'become',
    'becomes',
    'becoming',
    'been',
    'before',
    'beforehand',
    'begin',
    'begins',
    'behind',
    'being',
    'below',
    'beside',
    'besides',
    'between',
    'beyond',
    'both',
    'brief',
    'briefly',
    'came',
    'cannot',
    'cant',
    "can't",
    'certain',
    'certainly',
    'change',
    'changes',
    'clearly',
    'come',
    'comes',
    'could',
    "couldn't",
    'decide',
    'decided',
    'describe',
    'described',
    'despite',
    'does',
    "doesn't",
    'doing',
    'done',
    "don't",
    'down',
    'during',
    'each',
    'either',
    'else',
    'elsewhere',
    'enough',
    'especially',
    'even',
    'ever',
    'every',
    'everybody',
    'everyone',
    'everything',
    'everywhere',
    'except',
    'fact',
    'find',
    'finds',
    'found',
    'from',
    'fully',
    'further',
    'furthermore',
    'gets',
    'getting',
    'give',
    'given',
    'gives',
    'giving',
    'goes',
    'going',
    'gone',
    'gotten',
    'happen',
    'happens',
    'hard',
    'have',
    "haven't",
    'having',
    'help',
    'helps',
    'hence',
    'here',
    'hereby',
    'herein',
    'hers',
    'herself',
    'himself',
    'however',
    "i'm",
    'i.e.',
    'indeed',
    'instead',
    'into',
    "isn't",
    "it's",
    'itself',
    'just',
    'keep',
    'keeps',
    'kept',
    'kind',
    'know',
    'known',
    'knows',
    'last',
    'later',
    'latter',
    'least',
    'less',
    "let's",
    'like',
    'likely',
    'look',
    'looks',
    'made',
    'mainly',
    'make',
    'makes',
    'making',
    'many',
    'maybe',
    'mean',
    'means',
    'might',
    'more',
    'moreover',
    'most',
    'mostly',
    'much',
    'must',
    'myself',
    'namely',
    'near',
    'nearly',
    'need',
    'needed',
    'needs',
    'neither',
    'never',
    'nevertheless',
    'next',
    'nobody',
    'none',
    'nothing',
    'noting',
    'once',
    'ones',
    'only',
    'onto',
    'other',
    'others',
    'otherwise',
    'ours',
    'ourselves',
    'over',
    'overall',
    'part',
    'perhaps',
    'please',
    'quite',
    'rather',
    'really',
    'regarding',
    'said',
    'same',
    'says',
    'seem',
    'seems',
    'seen',
    'several',
    'shall',
    'should',
    'simply',
    'since',
    'some',
    'somebody',
    'somehow',
    'someone',
    'something',
    'sometimes',
    'somewhere',
    'soon',
    'still',
    'such',
    'sure',
    'take',
    'taken',
    'takes',
    'taking',
    'tell',
    'tells',
    'than',
    'that',
    "that's",
    'their',
    'theirs',
    'them',
    'themselves',
    'then',
    'thence',
    'there',
    "there's",
    'thereafter',
    'thereby',
    'therefore',
    'therein',
    'thereof',
    'these',
    'they',
    'thing',
    'things',
    'think',
    'this',
    'thorough',
    'those',
    'though',
    'through',
    'throughout',
    'thus',
    'time',
    'times',
    'together',
    'told',
    'took',
    'toward',
    'towards',
    'tries',
    'try',
    'trying',
    'turn',
    'turns',
    'under',
    'unless',
    'until',
    'upon',
    'used',
    'useful',
    'uses',
    'using',
    'usually',
    'various',
    'very',
    'want',
    'wants',
    'well',
    'went',
    'were',
    'what',
    'whatever',
    "what's",
    'when',
    'whence',
    'whenever',
    'where',
    'whereas',
    'whereby',
    'wherein',
    'wherever',
    'whether',
    'which',
    'while',
    'whole',
    'whom',
    'whose',
    'will',
    'wish',
    'with',
    'within',
    'without',
    "won't",
    'would',
    "you're",
    'your',
    'yours',
    'yourself',
    'yourselves',
    // number words
    'zero',
    'three',
    'four',
    'five',
    'seven',
    'eight',
    'nine',
    'eleven',
    'twelve',
    'twenty',
    'hundred',
    'thousand',
    'million',
    'billion',
    'once',
    'twice',
    'half',
    'first',
    'second',
    'third',
    'fourth',
    'fifth',
    'last',
    // instructions and boilerplate of maths problem statements
    'answer',
    'answers',
    'assume',
    'assuming',
    'calculate',
    'case',
    'cases',
    'choose',
    'chosen',
    'compute',
    'condition',
    'conditions',
    'consider',
    'considered',
    'considering',
    'define',
    'defined',
    'defines',
    'denote',
    'denoted',
    'denotes',
    'denoting',
    'determine',
    'different',
    'distinct',
    'equal',
    'equals',
    'evaluate',
    'exactly',
    'exist',
    'exists',
    'explain',
    'express',
    'expressed',
    'finding',
    'following',
    'follows',
    'form',
    'greatest',
    'hold',
    'holds',
    'integer',
    'integers',
    'largest',
    'maximum',
    'minimum',
    'negative',
    'nonnegative',
    'nonzero',
    'note',
    'number',
    'numbers',
    'obtain',
    'obtained',
    'possible',
    'positive',
    'problem',
    'problems',
    'prove',
    'question',
    'real',
    'reals',
    'relatively',
    'respectively',
    'result',
    'resulting',
    'satisfied',
    'satisfies',
    'satisfy',
    'satisfying',
    'show',
    'shown',
    'simplest',
    'simplify',
    'smallest',
    'solution',
    'solutions',
    'solve',
    'suppose',
    'total',
    'true',
    'false',
    'value',
    'values',
    'write',
    'written',
    // boilerplate of programming problem statements
    'additional',
    'arbitrary',
    'array',
    'arrays',
    'called',
    'character',
    'characters',
    'consist',
    'consisting',
    'consists',
    'constraint',
    'constraints',
    'contain',
    'contains',
    'containing',
    'data',
    'describes',
    'describing',
    'description',
    'easy',
    'element',
    'elements',
    'example',
    'examples',
    'exceed',
    'exceeds',
    'explanation',
    'followed',
    'format',
    'formally',
    'function',
    'guaranteed',
    'hack',
    'hacks',
    'index',
    'indices',
    'initial',
    'initially',
    'input',
    'inputs',
    'length',
    'limit',
    'limits',
    'line',
    'lines',
    'lowercase',
    'memory',
    'modulo',
    'multiple',
    'notes',
    'numbered',
    'operation',
    'operations',
    'output',
    'outputs',
    'perform',
    'performing',
    'possibly',
    'print',
    'printed',
    'prints',
    'program',
    'query',
    'queries',
    'read',
    'reads',
    'receive',
    'recognized',
    'representing',
    'required',
    'response',
    'return',
    'returns',
    'sample',
    'separated',
    'simple',
    'single',
    'size',
    'solved',
    'space',
    'spaces',
    'standard',
    'starting',
    'stdin',
    'stdout',
    'string',
    'strings',
    'task',
    'tasks',
    'test',
    'tests',
    'testcase',
    'testcases',
    'type',
    'types',
    'uppercase',
    'version',
    'versions',
    'words',
    // LaTeX notation that carries no content
    '\\begin',
    '\\boxed',
    '\\cdot',
    '\\cdots',
    '\\dfrac',
    '\\displaystyle',
    '\\dots',
    '\\end',
    '\\frac',
    '\\geq',
    '\\ldots',
    '\\left',
    '\\leq',
    '\\mathbb',
    '\\mathbf',
    '\\mathcal',
    '\\mathrm',
    '\\neq',
    '\\operatorname',
    '\\qquad',
    '\\quad',
    '\\right',
    '\\text',
    '\\textbf',
    '\\textit',
    '\\texttt',
    '\\tfrac',
    '\\times',
  ].filter((w) => w.length >= 4),
);

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
// into spaces. Classes of ASCII characters: 0 = part of a word, 1 = part of a word that may be a number
// (0-9 . ,), 2 = separator.
const ASCII_CLASS = new Uint8Array(128);
for (const ch of '0123456789.,') ASCII_CLASS[ch.charCodeAt(0)] = 1;
for (const c of [9, 10, 11, 12, 13, 28, 29, 30, 31, 32]) ASCII_CLASS[c] = 2;
for (const ch of '()[]{}$^+-*/=') ASCII_CLASS[ch.charCodeAt(0)] = 2;

/** Class (0 or 2) of a non-ASCII code unit: the Unicode whitespace of Python's str.split(). */
function nonAsciiClass(c: number): number {
  return isPyWhitespace(c) ? 2 : 0;
}

// Python's str.isdigit(): characters of Numeric_Type Decimal (general category Nd) or Digit. JavaScript has no
// Numeric_Type property, so the Digit ones (superscripts, circled and parenthesised digits, ...; Unicode 14, as
// Python 3.11's unicodedata lists them) are given as ranges.
const DIGIT_TYPE_RANGES: ReadonlyArray<readonly [number, number]> = [
  [0xb2, 0xb3],
  [0xb9, 0xb9],
  [0x1369, 0x1371],
  [0x19da, 0x19da],
  [0x2070, 0x2070],
  [0x2074, 0x2079],
  [0x2080, 0x2089],
  [0x2460, 0x2468],
  [0x2474, 0x247c],
  [0x2488, 0x2490],
  [0x24ea, 0x24ea],
  [0x24f5, 0x24fd],
  [0x24ff, 0x24ff],
  [0x2776, 0x277e],
  [0x2780, 0x2788],
  [0x278a, 0x2792],
  [0x10a40, 0x10a43],
  [0x10e60, 0x10e68],
  [0x11052, 0x1105a],
  [0x1f100, 0x1f10a],
];
const ND = /^\p{Nd}$/u;
let bmpDigits: Uint8Array | undefined;

/** Python str.isdigit() of one code point. */
export function isPyDigit(cp: number): boolean {
  if (cp < 128) return cp >= 48 && cp <= 57;
  if (cp < 0x10000) {
    if (!bmpDigits) {
      bmpDigits = new Uint8Array(0x10000);
      for (let c = 128; c < 0x10000; c++) if (ND.test(String.fromCharCode(c))) bmpDigits[c] = 1;
      for (const [a, b] of DIGIT_TYPE_RANGES) for (let c = a; c <= b && c < 0x10000; c++) bmpDigits[c] = 1;
    }
    return bmpDigits[cp] === 1;
  }
  return ND.test(String.fromCodePoint(cp)) || DIGIT_TYPE_RANGES.some(([a, b]) => cp >= a && cp <= b);
}

/** Punctuation trimmed from both ends of a word before the stop-word lookup. */
function isTrimmed(c: number): boolean {
  return (
    c === 46 /* . */ ||
    c === 44 /* , */ ||
    c === 59 /* ; */ ||
    c === 58 /* : */ ||
    c === 33 /* ! */ ||
    c === 63 /* ? */ ||
    c === 34 /* " */ ||
    c === 39 /* ' */ ||
    c === 96
  ); /* ` */
}

/**
 * Whether the non-ASCII code unit at `i` belongs to a digit: a BMP digit, the first half of a surrogate pair whose
 * code point is one, or the second half of such a pair (decided with its first half).
 */
function unitIsDigit(text: string, i: number, c: number): boolean {
  if (c >= 0xd800 && c <= 0xdbff) {
    const d = text.charCodeAt(i + 1);
    return d >= 0xdc00 && d <= 0xdfff && isPyDigit(((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000);
  }
  if (c >= 0xdc00 && c <= 0xdfff) {
    const p = text.charCodeAt(i - 1);
    return p >= 0xd800 && p <= 0xdbff; // its pair was checked with the first half
  }
  return isPyDigit(c);
}

function trimPunctuation(w: string): string {
  let s = 0;
  let e = w.length;
  while (s < e && isTrimmed(w.charCodeAt(s))) s++;
  while (e > s && isTrimmed(w.charCodeAt(e - 1))) e--;
  return w.slice(s, e);
}

/** 32-bit finaliser (murmur3 fmix32): spreads every input bit over the output. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The 32-bit hash of a word (FNV-1a over UTF-16 code units, then fmix32): the same in every process. */
export function hashWord(word: string, start = 0, end = word.length): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = imul(h ^ word.charCodeAt(i), 0x01000193);
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
    // Stop words are kept lowercased and trimmed like the words they are compared with ("i.e." -> "i.e").
    const stop = new Set<string>();
    for (const w of [...(options.stopWords ?? DEFAULT_STOP_WORDS), ...(options.extraStopWords ?? [])]) {
      const t = trimPunctuation(w.toLowerCase());
      if (t.length > 0) stop.add(t);
    }
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
      b = fmix32(imul(b, 31) ^ w.length ^ hashWord(w, 0, w.length >> 1));
    }
    return {
      minWordLength: this.minWordLength,
      stopWords: sorted.length,
      stopWordsHash: a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0'),
    };
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
      let cls = c < 128 ? ASCII_CLASS[c]! : nonAsciiClass(c);
      if (cls === 2) {
        i++;
        continue;
      }
      const start = i;
      let h = 0x811c9dc5;
      let numeric = 1; // 1 while every character is one of 0-9 . ,
      let digits = true; // while every character is a digit (Python's isdigit(): any script, superscripts, ...)
      let lowSurrogates = 0;
      for (;;) {
        h = imul(h ^ c, 0x01000193);
        numeric &= cls;
        if (digits) digits = c < 128 ? c >= 48 && c <= 57 : unitIsDigit(lower, i, c);
        if (++i >= n) break;
        c = lower.charCodeAt(i);
        if (c < 128) cls = ASCII_CLASS[c]!;
        else {
          cls = nonAsciiClass(c);
          if (c >= 0xdc00 && c <= 0xdfff) lowSurrogates++; // second half of a surrogate pair: not a character of its own
        }
        if (cls === 2) break;
      }
      const end = i;
      if (end - start - lowSurrogates < min || numeric === 1 || digits) continue;
      const hash = fmix32(h);
      if (checkStop) {
        let s = start;
        let e = end;
        while (s < e && isTrimmed(lower.charCodeAt(s))) s++;
        while (e > s && isTrimmed(lower.charCodeAt(e - 1))) e--;
        if (
          s === start && e === end
            ? this.isStop(lower, s, e, hash | 0)
            : e > s && this.isStop(lower, s, e, hashWord(lower, s, e) | 0)
        )
          continue;
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
    return this.uniqueHashesView(text).slice().sort();
  }

  /**
   * The hashes of the problem's unique words in order of first appearance (no sort: the index needs a set, not
   * an order), as a view of scratch space that the next call of any WordFilter overwrites.
   */
  uniqueHashesView(text: string): Uint32Array {
    const { count } = this.scan(text);
    // drop repeats through a small open-addressing set (0 is the empty slot; the hash 0 is tracked apart)
    let cap = 256;
    while (cap < count * 2) cap *= 2;
    if (seenSlots.length < cap) seenSlots = new Int32Array(cap);
    const seen = seenSlots;
    seen.fill(0, 0, cap);
    const mask = cap - 1;
    const out = scratchHashes;
    let zero = false;
    let m = 0;
    for (let k = 0; k < count; k++) {
      const h = out[k]! | 0;
      if (h === 0) {
        if (!zero) out[m++] = 0;
        zero = true;
        continue;
      }
      let i = h & mask;
      for (;;) {
        const v = seen[i]!;
        if (v === 0) {
          seen[i] = h;
          out[m++] = h;
          break;
        }
        if (v === h) break;
        i = (i + 1) & mask;
      }
    }
    return out.subarray(0, m);
  }
}

let seenSlots = new Int32Array(256);

const DEFAULT_FILTER = new WordFilter();
const filters = new WeakMap<WordOptions, WordFilter>();

/** The filter for `options` (compiled once per options object). */
export function wordFilter(options?: WordOptions): WordFilter {
  if (!options) return DEFAULT_FILTER;
  let f = filters.get(options);
  if (!f) filters.set(options, (f = new WordFilter(options)));
  return f;
}

/**
 * The words (under `options`' rules, stop words already dropped) that occur in at least `minDocuments` of
 * `texts`, sorted. It depends only on the collection of texts, never on their order, so it is an order-independent
 * stand-in for the published running "common words" cache: derive it once from a corpus and pass it as
 * `extraStopWords` (a persisted index must keep the same list for its whole life; its file records a fingerprint).
 */
export function frequentWords(texts: Iterable<string>, minDocuments: number, options?: WordOptions): string[] {
  const filter = wordFilter(options);
  const df = new Map<string, number>();
  for (const text of texts) for (const w of filter.words(text)) df.set(w, (df.get(w) ?? 0) + 1);
  return [...df]
    .filter(([, n]) => n >= minDocuments)
    .map(([w]) => w)
    .sort();
}

/**
 * The unique words of a problem under the rules above (lowercase; split on whitespace and ( ) [ ] { } $ ^ + - * / =;
 * at least `minWordLength` characters; not only 0-9 . ,; not a stop word), in order of first appearance.
 */
export function problemWords(text: string, options?: WordOptions): string[] {
  return wordFilter(options).words(text);
}
