// Near-duplicate index of problems: exact dedup on the trimmed problem string, then MinHash-LSH (50 bands x 2 rows
// over the first 100 of 128 permutations, as datasketch's MinHashLSH(num_perm=128, params=(50, 2))) with an exact
// word-set Jaccard check of every LSH candidate; Jaccard > threshold (strict, default 0.2) is a duplicate
// (method.md §2.3 step 3). Word rules and the order-independent stop-word list: ./words.ts.
//
// A problem whose word set is empty (all words short, numeric or stop words) only takes part in exact dedup: it is
// nobody's near duplicate and has no near duplicates.
//
// Where a candidate's Jaccard equals the best one found so far, the earlier document wins; `of` names the
// candidate with the highest Jaccard.
//
// Frequent words (`frequentWords`, off by default): with realistic text, unrelated problems share frequent words
// ("sequence", "vertices", "triangle"), so 50 x 2 bands make a pair of Jaccard 0.05-0.1 a candidate 12-40% of the
// time and the candidates of a check grow with the index (lib/bench/dedup-scale.ts). Given a fixed list F of
// frequent words, a document gets its band keys twice: from the MinHash of its words outside F (bands 0..b-1) and
// from the MinHash of its words in F (bands b..2b-1), and a bucket of the second kind keeps only its first
// `frequentBucketLimit` documents. The exact check still compares whole word sets, so the rule is unchanged: when
// J(x, y) > t, the pair's union splits into words outside F and words in F, and J is a weighted mean of the two
// parts' Jaccards, so one of them is at least J and its bands make the pair a candidate at least as often as the
// whole set's would. Only the limit loses candidates, and only among documents whose frequent words many earlier
// documents share (of which any duplicate decides). The bench measures the decisions against an exact search.
//
// Layout (everything in typed arrays, so 100k+ documents cost little GC time):
//   - per document: id (string), exact-text hash (2 x 32 bits), and a record in one word pool: a 480-bit bitmap of
//     its words, its word count (together one 64-byte line), then its unique 32-bit word hashes;
//   - one open-addressing multimap for all bands: 32-bit key = hash(band index, the band's `rows` signature values)
//     -> record; a key collision between different bands or values only adds a candidate, which the exact Jaccard
//     check then rejects;
//   - one open-addressing table of exact-text hashes -> document ordinal.
// The exact Jaccard of a candidate is computed only when an upper bound of the intersection (from the bitmaps:
// every shared word sets the same bit in both) allows it to exceed the threshold; the bound never rejects a true
// duplicate. Word-set Jaccard is over 32-bit word hashes, so two different words with the same hash (about 1 in
// 4 billion per pair) count as one.
//
// Persistence (`NearDuplicateIndex.open(file)`): an append-only binary log, one header then one record per added
// document: [u32 payload bytes][u32 crc32(payload)][payload: exact hash a, b | u32 id bytes, id UTF-8 padded to 4 |
// u32 word count, word hashes | band keys (none when there are no words; with frequent words, `bands` per
// non-empty part, so the count follows from the word hashes)], little-endian. The header (JSON) holds the word rules
// and LSH parameters a reopened index must share, and the frequent words themselves (format 2; an index without
// them writes format 1, as before), which `open` takes when it is not given them. Loading re-inserts the
// stored band keys, so no MinHash is recomputed. A torn last record (a process killed mid-write, or a zero-filled
// tail after a crash) is ignored and cut off before new records are appended; a bad record with valid data after it
// is corruption and fails the open (unless `repair`). Records are buffered and written in order, so after any crash
// the file holds a prefix of the documents added; `flush()` writes and fsyncs. One writer per file.
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  truncateSync,
  writeSync,
  existsSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { DEFAULT_MINHASH_SEED, DEFAULT_NUM_PERM, MinHasher } from './minhash';
import { WordFilter, fmix32, hashWord, type WordOptions } from './words';

// Hot loops call Math.imul through a module constant: a global lookup of `Math` is slow where code runs in a vm
// context (jest), and this costs nothing elsewhere.
const imul = Math.imul;

export const DEFAULT_THRESHOLD = 0.2;
export const DEFAULT_BANDS = 50;
export const DEFAULT_ROWS = 2;
export const DEFAULT_FREQUENT_BUCKET_LIMIT = 64;

export interface NearDuplicateOptions extends WordOptions {
  /** A candidate is a duplicate when its exact word-set Jaccard is strictly greater than this. Default 0.2. */
  threshold?: number;
  /** MinHash permutations (default 128); LSH uses the first bands x rows of them. */
  numPerm?: number;
  bands?: number;
  rows?: number;
  /** Seed of the MinHash permutations. */
  seed?: number;
  /**
   * Frequent words (as `problemWords` gives them): fixed for the life of an index and stored in its file. With
   * them, a document gets two sets of band keys, one from the MinHash of its other words and one from the MinHash
   * of its frequent words, and a band bucket of the second kind keeps only its first `frequentBucketLimit`
   * documents; the exact Jaccard check still compares whole word sets. Derive them by document frequency from a
   * sample of the corpus (`frequentWords(texts, minDocuments)` of ./words). Default none (one set of band keys
   * over all words, every bucket whole).
   */
  frequentWords?: Iterable<string>;
  /** Documents a frequent-word bucket keeps (with `frequentWords`). Default 64. */
  frequentBucketLimit?: number;
}

export interface OpenOptions extends NearDuplicateOptions {
  /** Pending records are written (without fsync) once they reach this many bytes. Default 1 MiB. */
  autoFlushBytes?: number;
  /** A corrupt record in the middle of the file: cut the file there instead of failing. Default false. */
  repair?: boolean;
}

export type DedupResult =
  | {
      duplicate: false;
      /** checkAndAdd: this id with this exact text is already in the index (a retried run). */ alreadyIndexed?: true;
    }
  | { duplicate: true; /** id of the earlier problem */ of: string; jaccard: number; exact: boolean };

export interface DedupStats {
  documents: number;
  /** Distinct (band, band key) buckets. */
  buckets: number;
  bandEntries: number;
  /** With `frequentWords`: frequent-word band keys not stored because their bucket was full. */
  frequentKeysDropped: number;
  checks: number;
  /** Distinct LSH candidates looked at (each at most once per check). */
  candidatesChecked: number;
  exactDuplicates: number;
  nearDuplicates: number;
  /** checkAndAdd calls whose id and text were already in the index. */
  alreadyIndexed: number;
  /** Documents added whose word set is empty (exact dedup only). */
  emptyWordSets: number;
  /** Documents read from the file at open. */
  loadedDocuments: number;
  /** Bytes of a torn tail dropped at open. */
  discardedTailBytes: number;
  /** Bytes held in typed arrays (ids and JS objects not counted). */
  tableBytes: number;
  file?: string;
}

const MAGIC = 'PCTDEDUP';
/** 1: one set of band keys per document; 2: with frequent words (two sets, see NearDuplicateOptions). */
const FORMAT = 1;
const FORMAT_FREQUENT_WORDS = 2;

if (os.endianness() !== 'LE')
  throw new Error('activities/dedup/lsh-index: the persisted format assumes a little-endian machine');

/**
 * Two independent 32-bit hashes of a string (an FNV-1a lane and a multiply-xorshift lane over pairs of UTF-16
 * code units, both finalised), into out[0], out[1].
 */
function exactHash(s: string, out: Int32Array): void {
  const n = s.length;
  let h1 = 0x811c9dc5 ^ n;
  let h2 = 0x3c6ef372;
  let i = 0;
  for (; i + 1 < n; i += 2) {
    const c = s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16);
    h1 = imul(h1 ^ c, 0x01000193);
    h2 = imul(h2 + c, 0x5bd1e995);
    h2 ^= h2 >>> 13;
  }
  if (i < n) {
    const c = s.charCodeAt(i);
    h1 = imul(h1 ^ c, 0x01000193);
    h2 = imul(h2 + c, 0x5bd1e995);
    h2 ^= h2 >>> 13;
  }
  out[0] = fmix32(h1 ^ n) | 0;
  out[1] = fmix32(h2 ^ imul(n, 0x27d4eb2d)) | 0;
}

/** Key of one LSH band: murmur3-style mix of the band index and the band's signature values; never 0. */
function bandKey(sig: Uint32Array, offset: number, rows: number, band: number): number {
  let k = imul(band + 1, 0x9e3779b1);
  for (let r = 0; r < rows; r++) {
    let v = imul(sig[offset + r]!, 0xcc9e2d51);
    v = (v << 15) | (v >>> 17);
    v = imul(v, 0x1b873593);
    k ^= v;
    k = (k << 13) | (k >>> 19);
    k = (imul(k, 5) + 0xe6546b64) | 0;
  }
  k = fmix32(k ^ rows) | 0;
  return k === 0 ? 1 : k;
}

/** Bits of a record's bitmap: 15 x 32, so that bitmap and word count fill one 64-byte cache line. */
const RECORD_BITS = 480;

/** The bitmap bit of a word hash (multiply-shift of its top 16 bits onto [0, 480)). */
function bitOf(h: number): number {
  return ((h >>> 16) * RECORD_BITS) >>> 16;
}

function pow2AtLeast(n: number): number {
  let c = 16;
  while (c < n) c *= 2;
  return c;
}

/** The hashes of the last text checked or added (one at a time: `add` after `check` reuses them). */
interface Prepared {
  text: string | undefined;
  exact: Int32Array; // [a, b]
  /** Unique word hashes, in order of first appearance (a view of `hashBuf`). */
  hashes: Uint32Array;
  hashBuf: Uint32Array;
  /** The band keys (a view of `keyBuf`): empty when there are no words. */
  bandKeys: Int32Array;
  keyBuf: Int32Array;
  /** Band keys from this position on are frequent-word keys, whose buckets keep a limited number of documents. */
  limitedFrom: number;
}

const NOT_DUPLICATE: DedupResult = Object.freeze({ duplicate: false }) as DedupResult;

interface Params {
  format: number;
  minWordLength: number;
  stopWords: number;
  stopWordsHash: string;
  numPerm: number;
  bands: number;
  rows: number;
  seed: number;
  /** Only with frequent words (format 2), so that format-1 files keep their header as it was. */
  frequentWords?: number;
  frequentWordsHash?: string;
  frequentBucketLimit?: number;
}

/** Keys of the header that only some indexes have: a file and an index must agree on having them. */
const OPTIONAL_PARAMS = ['frequentWords', 'frequentWordsHash', 'frequentBucketLimit'] as const;

/** The header (JSON) of a persisted index. */
function readHeader(file: string): Record<string, unknown> {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(12);
    if (readSync(fd, head, 0, 12, 0) < 12 || head.toString('latin1', 0, 8) !== MAGIC)
      throw new Error(`${file}: not a dedup index (bad magic)`);
    const len = head.readUInt32LE(8);
    const json = Buffer.alloc(len);
    if (readSync(fd, json, 0, len, 12) < len) throw new Error(`${file}: bad header`);
    try {
      return JSON.parse(json.toString('utf8')) as Record<string, unknown>;
    } catch {
      throw new Error(`${file}: bad header`);
    }
  } finally {
    closeSync(fd);
  }
}

/** A stable 64-bit fingerprint (hex) of a sorted word list. */
function wordListHash(words: readonly string[]): string {
  let a = 0x3c6ef372;
  let b = 0x1b873593;
  for (const w of words) {
    a = fmix32(a ^ hashWord(w));
    b = fmix32(imul(b, 31) ^ w.length ^ hashWord(w, 0, w.length >> 1));
  }
  return a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0');
}

/**
 * Streaming near-duplicate detection over problems, first come wins:
 *
 *   const index = NearDuplicateIndex.open('runs/data/dedup/problems.pclsh'); // or new NearDuplicateIndex() in memory
 *   for (const p of problems) if (!index.checkAndAdd(p.id, p.problem).duplicate) keep(p);
 *   index.flush(); // before reporting the batch as done: what was flushed survives a crash
 *   index.close();
 *
 * Synchronous and single-threaded; one process writes a file at a time.
 */
export class NearDuplicateIndex {
  readonly threshold: number;
  readonly bands: number;
  readonly rows: number;
  private readonly filter: WordFilter;
  private readonly hasher: MinHasher;
  private readonly params: Params;

  // documents
  private ids: string[] = [];
  private docMeta = new Uint32Array(2 * 1024); // [start of its words in pool, word count] per document
  private docCap = 1024;
  /**
   * Per document a record at a multiple of 16 (one 64-byte cache line): 15 words of bitmap (480 bits, a bit per
   * word hash: `bitOf`), the word count, then the word hashes. The band table points at records (offset / 16),
   * so one cache line gives a candidate's size and an upper bound of its intersection with the query.
   */
  private pool = new Uint32Array(1 << 16);
  private poolUsed = 0;
  // band multimap
  private bandSlots = 1 << 16;
  private bandTable = new Int32Array(2 << 16); // [key, record offset / 16] per slot, key 0 = empty
  private bandEntries = 0;
  private bucketCount = 0;
  // exact hashes
  private exA = new Int32Array(1 << 12);
  private exB = new Int32Array(1 << 12);
  private exDoc = new Int32Array(1 << 12); // ordinal + 1; 0 = empty
  private exCount = 0;

  private counters = {
    checks: 0,
    candidatesChecked: 0,
    exactDuplicates: 0,
    nearDuplicates: 0,
    alreadyIndexed: 0,
    emptyWordSets: 0,
    loadedDocuments: 0,
    discardedTailBytes: 0,
    frequentKeysDropped: 0,
  };
  private readonly sigScratch: Uint32Array;
  /** The frequent words (sorted), and their hashes as an open-addressing set (0 = empty; the hash 0 apart). */
  readonly frequentWords: readonly string[];
  readonly frequentBucketLimit: number;
  /** `extraStopWords` as given (sorted, unique): stored in the file's header. */
  readonly extraStopWords: readonly string[];
  private readonly frequentSet: Int32Array;
  private readonly frequentHasZero: boolean;
  /** Scratch: a document's words split into the other words and the frequent ones. */
  private rareBuf = new Uint32Array(256);
  private frequentBuf = new Uint32Array(256);
  private qTable = new Int32Array(64);
  private qMask = 63;
  /** The query's bitmap (as the records'), and its bits hit by more than one query word with their extra count. */
  private readonly qBits = new Int32Array(15);
  private readonly qCount = new Int32Array(RECORD_BITS);
  private qMulti = new Int32Array(64);
  private qMultiExtra = new Int32Array(64);
  private qMultiCount = 0;
  private cand = new Int32Array(1024);
  private seen = new Int32Array(256);
  /** Where the prefetching reads go (so they are not optimised away). */
  private sink = 0;
  private qHasZero = 0;
  private readonly last: Prepared;

  // persistence
  private file: string | undefined;
  private fd = -1;
  private autoFlushBytes = 1 << 20;
  private pendingBuf = Buffer.from(new ArrayBuffer(0)); // allocated by open()
  private pendingU32 = new Uint32Array(0);
  private pendingLen = 0;
  private unsynced = false;

  constructor(options: NearDuplicateOptions = {}) {
    this.threshold = options.threshold ?? DEFAULT_THRESHOLD;
    if (!(this.threshold >= 0 && this.threshold < 1))
      throw new Error(`threshold must be in [0, 1), got ${this.threshold}`);
    this.bands = options.bands ?? DEFAULT_BANDS;
    this.rows = options.rows ?? DEFAULT_ROWS;
    const numPerm = options.numPerm ?? DEFAULT_NUM_PERM;
    if (
      !Number.isInteger(this.bands) ||
      !Number.isInteger(this.rows) ||
      this.bands < 1 ||
      this.rows < 1 ||
      this.bands * this.rows > numPerm
    ) {
      throw new Error(
        `bands x rows (${this.bands} x ${this.rows}) must be positive integers with a product of at most numPerm (${numPerm})`,
      );
    }
    const extraStopWords = [...(options.extraStopWords ?? [])]; // an iterable may be read once only
    this.filter = new WordFilter({ ...options, extraStopWords });
    this.hasher = new MinHasher(numPerm, options.seed ?? DEFAULT_MINHASH_SEED);
    this.sigScratch = new Uint32Array(this.bands * this.rows);
    this.frequentWords = [...new Set([...(options.frequentWords ?? [])].map((w) => w.toLowerCase()))].sort();
    this.extraStopWords = [...new Set(extraStopWords)].sort();
    this.frequentBucketLimit = options.frequentBucketLimit ?? DEFAULT_FREQUENT_BUCKET_LIMIT;
    if (!Number.isInteger(this.frequentBucketLimit) || this.frequentBucketLimit < 1)
      throw new Error(`frequentBucketLimit must be a positive integer, got ${this.frequentBucketLimit}`);
    let cap = 16;
    while (cap < this.frequentWords.length * 4) cap *= 2;
    this.frequentSet = new Int32Array(this.frequentWords.length > 0 ? cap : 0);
    let zero = false;
    for (const w of this.frequentWords) {
      const h = hashWord(w) | 0;
      if (h === 0) {
        zero = true;
        continue;
      }
      let i = h & (cap - 1);
      while (this.frequentSet[i] !== 0 && this.frequentSet[i] !== h) i = (i + 1) & (cap - 1);
      this.frequentSet[i] = h;
    }
    this.frequentHasZero = zero;
    const keyBuf = new Int32Array(2 * this.bands);
    const hashBuf = new Uint32Array(256);
    this.last = {
      text: undefined,
      exact: new Int32Array(2),
      hashes: hashBuf.subarray(0, 0),
      hashBuf,
      bandKeys: keyBuf.subarray(0, 0),
      keyBuf,
      limitedFrom: 0,
    };
    this.params = {
      format: this.frequentWords.length > 0 ? FORMAT_FREQUENT_WORDS : FORMAT,
      ...this.filter.fingerprint(),
      numPerm,
      bands: this.bands,
      rows: this.rows,
      seed: this.hasher.seed,
    };
    if (this.frequentWords.length > 0) {
      this.params.frequentWords = this.frequentWords.length;
      this.params.frequentWordsHash = wordListHash(this.frequentWords);
      this.params.frequentBucketLimit = this.frequentBucketLimit;
    }
  }

  /**
   * Opens (or creates) a persisted index: loads every document of `file`, then appends new ones to it. The word
   * rules and LSH parameters must be those the file was built with (the threshold may differ).
   */
  static open(file: string, options: OpenOptions = {}): NearDuplicateIndex {
    // An index keeps the word lists it was built with (frequent words, extra stop words such as a document-frequency
    // list): opening it without naming them again takes the stored ones.
    if ((options.frequentWords === undefined || options.extraStopWords === undefined) && existsSync(file)) {
      const stored = readHeader(file);
      if (options.frequentWords === undefined && Array.isArray(stored.frequentWordList))
        options = {
          ...options,
          frequentWords: stored.frequentWordList as string[],
          frequentBucketLimit:
            options.frequentBucketLimit ?? (stored.frequentBucketLimit as number | undefined) ?? undefined,
        };
      if (options.extraStopWords === undefined && Array.isArray(stored.extraStopWordList))
        options = { ...options, extraStopWords: stored.extraStopWordList as string[] };
    }
    const index = new NearDuplicateIndex(options);
    index.autoFlushBytes = options.autoFlushBytes ?? 1 << 20;
    index.pendingBuf = Buffer.from(new ArrayBuffer(pow2AtLeast(Math.max(index.autoFlushBytes, 4096))));
    index.pendingU32 = new Uint32Array(index.pendingBuf.buffer);
    index.file = file;
    if (!existsSync(file)) {
      mkdirSync(path.dirname(file), { recursive: true });
      const json = Buffer.from(
        JSON.stringify({
          ...index.params,
          ...(index.frequentWords.length > 0 && { frequentWordList: index.frequentWords }),
          ...(index.extraStopWords.length > 0 && { extraStopWordList: index.extraStopWords }),
          created: new Date().toISOString(),
        }),
      );
      const header = Buffer.alloc(12 + ((json.length + 3) & ~3), 0x20);
      header.write(MAGIC, 0, 'latin1');
      header.writeUInt32LE(header.length - 12, 8);
      json.copy(header, 12);
      const tmp = `${file}.tmp-${process.pid}`;
      const fd = openSync(tmp, 'w');
      try {
        writeSync(fd, header);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, file);
      try {
        const dfd = openSync(path.dirname(file), 'r');
        fsyncSync(dfd);
        closeSync(dfd);
      } catch {
        // directories cannot be fsynced everywhere; the rename is still atomic
      }
    } else {
      const goodEnd = index.load(file, options.repair ?? false);
      if (index.counters.discardedTailBytes > 0) truncateSync(file, goodEnd);
    }
    index.fd = openSync(file, 'a');
    return index;
  }

  get size(): number {
    return this.ids.length;
  }

  /** Is `text` an exact or near duplicate of a document in the index? Does not change the index. */
  check(text: string): DedupResult {
    const p = this.prepare(text);
    this.counters.checks++;
    const exact = this.findExact(p.exact[0]!, p.exact[1]!);
    if (exact >= 0) {
      this.counters.exactDuplicates++;
      return { duplicate: true, of: this.ids[exact]!, jaccard: 1, exact: true };
    }
    return this.checkNear(p);
  }

  /** Adds a document (call after a check that found no duplicate: `add` itself checks nothing). */
  add(id: string, text: string): void {
    if (this.file !== undefined && this.fd < 0) throw new Error(`dedup index ${this.file} is closed`);
    const p = this.prepare(text);
    const ordinal = this.insert(
      id,
      p.exact[0]!,
      p.exact[1]!,
      p.hashes,
      0,
      p.hashes.length,
      p.bandKeys,
      0,
      p.bandKeys.length,
      p.limitedFrom,
    );
    if (p.hashes.length === 0) this.counters.emptyWordSets++;
    if (this.fd >= 0) this.appendRecord(ordinal, p);
  }

  /**
   * Checks and, when no duplicate is found, adds: first come wins. A document whose id and exact text are already
   * in the index (a retried run that got as far as adding it) is not added again and is reported as not a
   * duplicate, with `alreadyIndexed`, so a retry makes the same decisions as the first attempt.
   */
  checkAndAdd(id: string, text: string): DedupResult {
    const p = this.prepare(text);
    this.counters.checks++;
    const exact = this.findExact(p.exact[0]!, p.exact[1]!);
    if (exact >= 0) {
      if (this.ids[exact] === id) {
        this.counters.alreadyIndexed++;
        return { duplicate: false, alreadyIndexed: true };
      }
      this.counters.exactDuplicates++;
      return { duplicate: true, of: this.ids[exact]!, jaccard: 1, exact: true };
    }
    const r = this.checkNear(p);
    if (!r.duplicate) this.add(id, text);
    return r;
  }

  /** Writes pending records and fsyncs the file (no-op for an in-memory index). */
  flush(): void {
    if (this.fd < 0) return;
    this.writePending();
    if (this.unsynced) {
      fsyncSync(this.fd);
      this.unsynced = false;
    }
  }

  /** Flushes and closes the file; the index stays usable for `check` in memory. */
  close(): void {
    if (this.fd < 0) return;
    this.flush();
    closeSync(this.fd);
    this.fd = -1;
  }

  stats(): DedupStats {
    const tableBytes =
      this.docMeta.byteLength +
      this.pool.byteLength +
      this.bandTable.byteLength +
      this.exA.byteLength * 3 +
      this.cand.byteLength;
    return {
      documents: this.ids.length,
      buckets: this.bucketCount,
      bandEntries: this.bandEntries,
      ...this.counters,
      tableBytes,
      ...(this.file !== undefined ? { file: this.file } : {}),
    };
  }

  /** The word hashes of a stored document (by insertion ordinal), sorted ascending. */
  wordHashesOf(ordinal: number): Uint32Array {
    const s = this.docMeta[2 * ordinal]!;
    return this.pool.slice(s, s + this.docMeta[2 * ordinal + 1]!).sort();
  }

  /** The MinHash signature (all `numPerm` values) of a text under this index's word rules. */
  signature(text: string): Uint32Array {
    return this.hasher.signature(this.filter.wordHashes(text.trim()));
  }

  // ---------------------------------------------------------------------------------------------------------------

  private prepare(text: string): Prepared {
    const p = this.last;
    if (p.text === text) return p;
    p.text = undefined; // in case of an exception below
    const trimmed = text.trim();
    exactHash(trimmed, p.exact);
    const view = this.filter.uniqueHashesView(trimmed);
    const n = view.length;
    if (n > p.hashBuf.length) p.hashBuf = new Uint32Array(Math.max(n, 2 * p.hashBuf.length));
    p.hashBuf.set(view);
    p.hashes = p.hashBuf.subarray(0, n);
    p.limitedFrom = 0;
    if (n === 0) p.bandKeys = p.keyBuf.subarray(0, 0);
    else if (this.frequentSet.length === 0) {
      this.addBandKeys(p.hashes, p.keyBuf, 0, 0);
      p.bandKeys = p.keyBuf.subarray(0, this.bands);
      p.limitedFrom = this.bands;
    } else {
      // the other words' keys (bands 0..b-1), then the frequent words' keys (bands b..2b-1)
      if (this.rareBuf.length < n) {
        this.rareBuf = new Uint32Array(2 * n);
        this.frequentBuf = new Uint32Array(2 * n);
      }
      let rare = 0;
      let frequent = 0;
      for (let k = 0; k < n; k++) {
        const h = p.hashes[k]!;
        if (this.isFrequent(h | 0)) this.frequentBuf[frequent++] = h;
        else this.rareBuf[rare++] = h;
      }
      let nk = 0;
      if (rare > 0) nk = this.addBandKeys(this.rareBuf.subarray(0, rare), p.keyBuf, nk, 0);
      p.limitedFrom = nk;
      if (frequent > 0) nk = this.addBandKeys(this.frequentBuf.subarray(0, frequent), p.keyBuf, nk, this.bands);
      p.bandKeys = p.keyBuf.subarray(0, nk);
    }
    p.text = text;
    return p;
  }

  /** Writes the band keys of a word set's MinHash at keys[at..], band indexes from `firstBand`; returns the end. */
  private addBandKeys(words: Uint32Array, keys: Int32Array, at: number, firstBand: number): number {
    const sig = this.hasher.signature(words, this.bands * this.rows, this.sigScratch);
    for (let b = 0; b < this.bands; b++) keys[at++] = bandKey(sig, b * this.rows, this.rows, firstBand + b);
    return at;
  }

  private isFrequent(h: number): boolean {
    if (h === 0) return this.frequentHasZero;
    const t = this.frequentSet;
    const mask = t.length - 1;
    let i = h & mask;
    for (;;) {
      const x = t[i]!;
      if (x === h) return true;
      if (x === 0) return false;
      i = (i + 1) & mask;
    }
  }

  /**
   * Band keys of a stored record (`n` words at u32[at..]): all `bands` when there are no frequent words, else
   * `bands` for the other words if any, then `bands` for the frequent words if any. Returns [keys, limitedFrom].
   */
  private recordKeys(u32: Uint32Array, at: number, n: number): [number, number] {
    if (n === 0) return [0, 0];
    if (this.frequentSet.length === 0) return [this.bands, this.bands];
    let frequent = 0;
    for (let k = 0; k < n; k++) if (this.isFrequent(u32[at + k]! | 0)) frequent++;
    const rareKeys = frequent < n ? this.bands : 0;
    return [rareKeys + (frequent > 0 ? this.bands : 0), rareKeys];
  }

  private findExact(a: number, b: number): number {
    const mask = this.exDoc.length - 1;
    let i = a & mask;
    for (;;) {
      const d = this.exDoc[i]!;
      if (d === 0) return -1;
      if (this.exA[i] === a && this.exB[i] === b) return d - 1;
      i = (i + 1) & mask;
    }
  }

  private checkNear(p: Prepared): DedupResult {
    const q = p.hashes;
    const nq = q.length;
    if (nq === 0 || this.ids.length === 0) return NOT_DUPLICATE;
    // Gather the candidates of every band, then look at each distinct one once; the highest Jaccard wins, the
    // earliest document on a tie.
    const table = this.bandTable;
    const mask = this.bandSlots - 1;
    const nb = p.bandKeys.length;
    // Memory-level parallelism: touch the first slot of every band before probing (independent loads, so the
    // cache misses overlap instead of queueing behind the probe loop's branches). Same for the candidates below.
    let sink = 0;
    for (let b = 0; b < nb; b++) sink ^= table[2 * (p.bandKeys[b]! & mask)]!;
    let nc = 0;
    for (let b = 0; b < nb; b++) {
      const k = p.bandKeys[b]!;
      let i = k & mask;
      for (;;) {
        const slot = table[2 * i]!;
        if (slot === 0) break;
        if (slot === k) {
          if (nc === this.cand.length) {
            const grown = new Int32Array(nc * 2);
            grown.set(this.cand);
            this.cand = grown;
          }
          this.cand[nc++] = table[2 * i + 1]!;
        }
        i = (i + 1) & mask;
      }
    }
    if (nc === 0) {
      this.sink = sink;
      return NOT_DUPLICATE;
    }
    const cand = this.cand;
    let distinct = 0;
    {
      // distinct candidates through a small open-addressing set (kept in L1; a sort costs more)
      let cap = 256;
      while (cap < nc * 2) cap *= 2;
      if (this.seen.length < cap) this.seen = new Int32Array(cap);
      const seen = this.seen;
      seen.fill(0, 0, cap);
      const smask = cap - 1;
      for (let x = 0; x < nc; x++) {
        const d = cand[x]!;
        let i = (imul(d, 0x9e3779b1) >>> 12) & smask;
        for (;;) {
          const v = seen[i]!;
          if (v === 0) {
            seen[i] = d + 1;
            cand[distinct++] = d;
            break;
          }
          if (v === d + 1) break;
          i = (i + 1) & smask;
        }
      }
    }
    // cand[] now holds the records (offset / 16) of distinct candidates; record order is insertion order.
    const pool = this.pool;
    for (let x = 0; x < distinct; x++) {
      const rec = cand[x]! * 16;
      sink ^= pool[rec]! ^ pool[rec + 15]!; // (two lines when the buffer is not 64-byte aligned)
    }
    this.sink = sink;
    const threshold = this.threshold;
    let best = -1;
    let bestJ = threshold;
    let tableReady = false;
    const qb = this.qBits;
    for (let x = 0; x < distinct; x++) {
      const rec = cand[x]! * 16;
      const len = pool[rec + 15]!;
      // Jaccard <= min/max of the sizes: skip candidates that cannot beat (or tie) the best so far.
      const bound = len < nq ? len / nq : nq / len;
      if (bound < bestJ || (bound === bestJ && best < 0)) continue;
      if (!tableReady) {
        this.buildQueryTable(q);
        tableReady = true;
      }
      // Jaccard = I / (nq + len - I) >= bestJ needs I >= bestJ * (nq + len) / (1 + bestJ). First an upper bound
      // of I from the bitmaps (every shared word sets the same bit in both), then the exact count for the few
      // that pass.
      const need = (bestJ * (nq + len)) / (1 + bestJ) - 1e-9;
      let acc = 0; // bytes of partial popcounts (each <= 8 per word, 15 words: no overflow)
      for (let w = 0; w < 15; w++) {
        let v = pool[rec + w]! & qb[w]!;
        v = v - ((v >>> 1) & 0x55555555);
        v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
        acc += (v + (v >>> 4)) & 0x0f0f0f0f;
      }
      acc = (acc & 0x00ff00ff) + ((acc >>> 8) & 0x00ff00ff);
      let upper = (acc & 0xffff) + (acc >>> 16);
      for (let m = 0; m < this.qMultiCount; m++) {
        const b = this.qMulti[m]!;
        if ((pool[rec + (b >>> 5)]! >>> (b & 31)) & 1) upper += this.qMultiExtra[m]!;
      }
      if (upper < need) continue;
      const inter = this.intersect(rec + 16, len, need);
      if (inter < 0) continue;
      const j = inter / (nq + len - inter);
      if (j > bestJ || (j === bestJ && best >= 0 && rec < best)) {
        best = rec;
        bestJ = j;
      }
    }
    this.counters.candidatesChecked += distinct;
    if (best < 0) return NOT_DUPLICATE;
    this.counters.nearDuplicates++;
    return { duplicate: true, of: this.ids[this.ordinalAt(best + 16)]!, jaccard: bestJ, exact: false };
  }

  /** The ordinal of the document whose words start at pool offset `start` (binary search: starts increase). */
  private ordinalAt(start: number): number {
    let lo = 0;
    let hi = this.ids.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.docMeta[2 * mid]! < start) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * The query's word hashes as a bitmap like the records' (with the bits that several query words share, so
   * that the sum over a record's bits bounds the intersection from above) and as an open-addressing set (0 kept
   * aside), for exact intersections.
   */
  private buildQueryTable(q: Uint32Array): void {
    const bits = this.qBits;
    const count = this.qCount;
    bits.fill(0);
    count.fill(0);
    this.qMultiCount = 0;
    for (let k = 0; k < q.length; k++) {
      const b = bitOf(q[k]!);
      bits[b >>> 5]! |= 1 << (b & 31);
      count[b]!++;
    }
    for (let k = 0; k < q.length; k++) {
      const b = bitOf(q[k]!);
      const c = count[b]!;
      if (c > 1) {
        count[b] = 0; // once per bit
        if (this.qMultiCount === this.qMulti.length) {
          const m = new Int32Array(this.qMulti.length * 2);
          m.set(this.qMulti);
          this.qMulti = m;
          const e = new Int32Array(this.qMulti.length);
          e.set(this.qMultiExtra);
          this.qMultiExtra = e;
        }
        this.qMulti[this.qMultiCount] = b;
        this.qMultiExtra[this.qMultiCount++] = c - 1;
      }
    }
    let cap = 64;
    while (cap < q.length * 4) cap *= 2;
    if (this.qTable.length < cap) this.qTable = new Int32Array(cap);
    const t = this.qTable;
    t.fill(0, 0, cap);
    this.qMask = cap - 1;
    const mask = cap - 1;
    this.qHasZero = 0;
    for (let k = 0; k < q.length; k++) {
      const h = q[k]! | 0;
      if (h === 0) {
        this.qHasZero = 1;
        continue;
      }
      let i = h & mask;
      while (t[i] !== 0) i = (i + 1) & mask;
      t[i] = h;
    }
  }

  /**
   * |query words ∩ pool[start, start + len)|, or -1 as soon as it cannot reach `need` (the words of a document
   * are distinct, so each counts once).
   */
  private intersect(start: number, len: number, need: number): number {
    const t = this.qTable;
    const mask = this.qMask;
    const pool = this.pool;
    let inter = 0;
    for (let k = 0; k < len; k++) {
      if (inter + (len - k) < need) return -1;
      const h = pool[start + k]! | 0;
      if (h === 0) {
        inter += this.qHasZero;
        continue;
      }
      let i = h & mask;
      for (;;) {
        const x = t[i]!;
        if (x === h) {
          inter++;
          break;
        }
        if (x === 0) break;
        i = (i + 1) & mask;
      }
    }
    return inter < need ? -1 : inter;
  }

  /** Stores one document; returns its ordinal. */
  private insert(
    id: string,
    a: number,
    b: number,
    words: Uint32Array,
    wOff: number,
    wLen: number,
    keys: Int32Array | Uint32Array,
    kOff: number,
    kLen: number,
    limitedFrom: number,
  ): number {
    const d = this.ids.length;
    if (d === this.docCap) this.growDocs(d * 2);
    this.ids.push(id);
    // the record: bitmap, count, words; the next record starts at the next multiple of 16
    const size = (16 + wLen + 15) & ~15;
    if (this.poolUsed + size > this.pool.length) this.growPool(this.poolUsed + size);
    const rec = this.poolUsed;
    const pool = this.pool;
    for (let k = wOff; k < wOff + wLen; k++) {
      const b = bitOf(words[k]!);
      pool[rec + (b >>> 5)]! |= 1 << (b & 31);
    }
    pool[rec + 15] = wLen;
    pool.set(wLen === words.length && wOff === 0 ? words : words.subarray(wOff, wOff + wLen), rec + 16);
    this.docMeta[2 * d] = rec + 16;
    this.docMeta[2 * d + 1] = wLen;
    this.poolUsed += size;
    const recordKey = rec / 16;
    // exact table (load <= 1/2)
    if ((this.exCount + 1) * 2 > this.exDoc.length) this.growExact(this.exDoc.length * 2);
    this.putExact(a, b, d + 1);
    this.exCount++;
    // band multimap (load <= 0.7)
    if ((this.bandEntries + kLen) * 10 > this.bandSlots * 7)
      this.growBands(pow2AtLeast(((this.bandEntries + kLen) * 10) / 5));
    const table = this.bandTable;
    const mask = this.bandSlots - 1;
    const limit = this.frequentBucketLimit;
    for (let j = 0; j < kLen; j++) {
      const k = keys[kOff + j]! | 0;
      let i = k & mask;
      let same = 0;
      for (;;) {
        const slot = table[2 * i]!;
        if (slot === 0) break;
        if (slot === k) same++;
        i = (i + 1) & mask;
      }
      if (j >= limitedFrom && same >= limit) {
        this.counters.frequentKeysDropped++; // a full frequent-word bucket keeps its first documents
        continue;
      }
      table[2 * i] = k;
      table[2 * i + 1] = recordKey;
      if (same === 0) this.bucketCount++;
      this.bandEntries++;
    }
    return d;
  }

  private putExact(a: number, b: number, v: number): void {
    const mask = this.exDoc.length - 1;
    let i = a & mask;
    while (this.exDoc[i] !== 0) i = (i + 1) & mask;
    this.exA[i] = a;
    this.exB[i] = b;
    this.exDoc[i] = v;
  }

  private growDocs(cap: number): void {
    if (cap <= this.docCap) return;
    const m = new Uint32Array(2 * cap);
    m.set(this.docMeta);
    this.docMeta = m;
    this.docCap = cap;
  }

  private growPool(need: number): void {
    let cap = this.pool.length;
    while (cap < need) cap *= 2;
    const p = new Uint32Array(cap);
    p.set(this.pool.subarray(0, this.poolUsed));
    this.pool = p;
  }

  private growExact(cap: number): void {
    if (cap <= this.exDoc.length) return;
    const [oa, ob, od] = [this.exA, this.exB, this.exDoc];
    this.exA = new Int32Array(cap);
    this.exB = new Int32Array(cap);
    this.exDoc = new Int32Array(cap);
    for (let i = 0; i < od.length; i++) if (od[i] !== 0) this.putExact(oa[i]!, ob[i]!, od[i]!);
  }

  private growBands(slots: number): void {
    if (slots <= this.bandSlots) return;
    const old = this.bandTable;
    const table = new Int32Array(2 * slots);
    const mask = slots - 1;
    for (let j = 0; j < old.length; j += 2) {
      const k = old[j]!;
      if (k === 0) continue;
      let i = k & mask;
      while (table[2 * i] !== 0) i = (i + 1) & mask;
      table[2 * i] = k;
      table[2 * i + 1] = old[j + 1]!;
    }
    this.bandTable = table;
    this.bandSlots = slots;
  }

  // --- persistence -----------------------------------------------------------------------------------------------

  private appendRecord(ordinal: number, p: Prepared): void {
    const id = this.ids[ordinal]!;
    const idBytes = Buffer.byteLength(id, 'utf8');
    const idWords = (idBytes + 3) >> 2;
    const n = p.hashes.length;
    const payloadWords = 3 + idWords + 1 + n + p.bandKeys.length;
    const recordBytes = 8 + payloadWords * 4;
    if (this.pendingLen + recordBytes > this.pendingBuf.length) {
      this.writePending();
      if (recordBytes > this.pendingBuf.length) {
        this.pendingBuf = Buffer.from(new ArrayBuffer(pow2AtLeast(recordBytes)));
        this.pendingU32 = new Uint32Array(this.pendingBuf.buffer);
      }
    }
    const u32 = this.pendingU32;
    const at = this.pendingLen;
    let w = at >> 2;
    u32[w + 2] = p.exact[0]!;
    u32[w + 3] = p.exact[1]!;
    u32[w + 4] = idBytes;
    if (idWords > 0) u32[w + 4 + idWords] = 0; // padding
    this.pendingBuf.write(id, at + 20, idBytes, 'utf8');
    w += 5 + idWords;
    u32[w++] = n;
    u32.set(p.hashes, w);
    w += n;
    u32.set(p.bandKeys, w);
    u32[(at >> 2) + 0] = payloadWords * 4;
    u32[(at >> 2) + 1] = crc32(this.pendingBuf.subarray(at + 8, at + recordBytes));
    this.pendingLen += recordBytes;
    if (this.pendingLen >= this.autoFlushBytes) this.writePending();
  }

  private writePending(): void {
    let off = 0;
    while (off < this.pendingLen) off += writeSync(this.fd, this.pendingBuf, off, this.pendingLen - off);
    if (this.pendingLen > 0) this.unsynced = true;
    this.pendingLen = 0;
  }

  /** Loads every valid record; returns the end offset of the last valid one. */
  private load(file: string, repair: boolean): number {
    let buf = readFileSync(file);
    if (buf.byteOffset % 4 !== 0) buf = Buffer.from(Uint8Array.prototype.slice.call(buf));
    const size = buf.length;
    if (size < 12 || buf.toString('latin1', 0, 8) !== MAGIC) throw new Error(`${file}: not a dedup index (bad magic)`);
    const headerLen = buf.readUInt32LE(8);
    if (headerLen % 4 !== 0 || 12 + headerLen > size) throw new Error(`${file}: bad header`);
    let stored: Record<string, unknown>;
    try {
      stored = JSON.parse(buf.toString('utf8', 12, 12 + headerLen)) as Record<string, unknown>;
    } catch {
      throw new Error(`${file}: bad header`);
    }
    // the frequent words first: with or without them is what a format mismatch would mean
    const keys = new Set([...OPTIONAL_PARAMS, ...Object.keys(this.params)]);
    const shown = (v: unknown) => (v === undefined ? 'none' : JSON.stringify(v));
    for (const k of keys) {
      const v = (this.params as unknown as Record<string, unknown>)[k];
      if (stored[k] !== v) {
        throw new Error(
          `${file} was built with ${k}=${shown(stored[k])}, this index has ${k}=${shown(v)} (word rules and LSH parameters must match)`,
        );
      }
    }
    const u32 = new Uint32Array(buf.buffer, buf.byteOffset, size >> 2);
    const bands = this.bands;

    // Pass 1: walk the length fields to size the tables (stops at the first implausible record).
    let docs = 0;
    let words = 0;
    for (let off = 12 + headerLen; off + 8 <= size;) {
      const len = u32[off >> 2]!;
      if (len < 16 || len % 4 !== 0 || off + 8 + len > size) break;
      const idWords = (u32[(off >> 2) + 4]! + 3) >> 2;
      if (20 + idWords * 4 + 4 > 8 + len) break;
      docs++;
      words += u32[(off >> 2) + 5 + idWords]!;
      off += 8 + len;
    }
    this.growDocs(pow2AtLeast(docs));
    if (words + 31 * docs > this.pool.length) this.growPool(words + 31 * docs);
    this.growExact(pow2AtLeast(docs * 2 + 2));
    this.growBands(pow2AtLeast((docs * bands * 10) / 7 + 1));

    // Pass 2: validate and insert.
    let off = 12 + headerLen;
    while (off < size) {
      const bad = this.validRecord(buf, u32, off, size);
      if (bad === undefined) {
        const w = off >> 2;
        const idBytes = u32[w + 4]!;
        const idWords = (idBytes + 3) >> 2;
        const id = buf.toString('utf8', off + 20, off + 20 + idBytes);
        const n = u32[w + 5 + idWords]!;
        const wordsAt = w + 6 + idWords;
        const [k, limitedFrom] = this.recordKeys(u32, wordsAt, n);
        this.insert(id, u32[w + 2]! | 0, u32[w + 3]! | 0, u32, wordsAt, n, u32, wordsAt + n, k, limitedFrom);
        if (n === 0) this.counters.emptyWordSets++;
        this.counters.loadedDocuments++;
        off += 8 + u32[w]!;
        continue;
      }
      // A torn tail: the record runs past the end of the file, is the last one and fails its checksum, or the rest
      // of the file is zeros (blocks allocated but never written before a crash).
      const len = size - off >= 8 ? u32[off >> 2]! : 0;
      const torn =
        size - off < 8 ||
        off + 8 + len > size ||
        (len % 4 === 0 && off + 8 + len === size) ||
        buf.subarray(off).every((x) => x === 0);
      if (torn || repair) {
        this.counters.discardedTailBytes = size - off;
        return off;
      }
      throw new Error(
        `${file}: corrupt record at byte ${off} (${bad}) with data after it; open with { repair: true } to cut the file there`,
      );
    }
    return off;
  }

  /** undefined when the record at `off` is complete and well-formed, else why not. */
  private validRecord(buf: Buffer, u32: Uint32Array, off: number, size: number): string | undefined {
    if (size - off < 8) return 'truncated header';
    const w = off >> 2;
    const len = u32[w]!;
    if (len < 16 || len % 4 !== 0) return `bad length ${len}`;
    if (off + 8 + len > size) return 'truncated';
    if (crc32(buf.subarray(off + 8, off + 8 + len)) !== u32[w + 1]) return 'checksum mismatch';
    const idBytes = u32[w + 4]!;
    const idWords = (idBytes + 3) >> 2;
    if (20 + idWords * 4 + 4 > 8 + len) return 'bad id length';
    const n = u32[w + 5 + idWords]!;
    if (20 + idWords * 4 + 4 + 4 * n > 8 + len) return `length ${len} too short for ${n} words`;
    const expected = 4 * (3 + idWords + 1 + n + this.recordKeys(u32, w + 6 + idWords, n)[0]);
    if (expected !== len) return `length ${len} does not match its contents (${expected})`;
    return undefined;
  }
}
