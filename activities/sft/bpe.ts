// Byte-pair encoding by merge ranks, counting only: how many tokens the BPE model of a tokenizer.json makes of one
// pre-token (a "word"), as Hugging Face's `tokenizers` does in BPE::merge_word + Word::merge_all.
//
// A word starts as one symbol per character (per byte, through the ByteLevel alphabet, when the pre-tokenizer ends
// in ByteLevel); a character missing from the vocabulary becomes the unknown token (consecutive ones fused when
// fuse_unk) or, without an unk_token, is dropped, as in merge_word. Then the adjacent pair of lowest merge rank
// (leftmost among equal ranks) is merged until no adjacent pair has a merge: the order the Rust priority queue
// (rank, then position) produces. Short words take a quadratic scan over a pair-rank array; long ones (a run of
// CJK, a line of `=`) a binary heap over a linked list, O(n log n). Merges live in an open-addressing hash table of
// typed arrays keyed by the two symbol ids, so a lookup allocates nothing.

/** The ByteLevel alphabet of GPT-2 (`bytes_char` in tokenizers): byte -> the printable character standing for it. */
export function byteLevelAlphabet(): string[] {
  const chars: string[] = new Array<string>(256);
  let shifted = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    chars[b] = String.fromCharCode(printable ? b : 256 + shifted++);
  }
  return chars;
}

export interface BpeOptions {
  vocab: Map<string, number>;
  /** In file order; a later duplicate pair overrides an earlier one (as collecting them into a map does in Rust). */
  merges: Array<[string, string]>;
  unkToken: string | null;
  fuseUnk: boolean;
  ignoreMerges: boolean;
  /** The pre-tokenizer ends in ByteLevel: words are mapped byte by byte through the ByteLevel alphabet. */
  byteLevel: boolean;
}

/** Words of up to this many symbols take the quadratic scan. */
const SCAN_LIMIT = 48;
/** Heap keys pack rank * 2^26 + position into a double (exact below 2^53). */
const POSITION_BITS = 2 ** 26;
const NO_RANK = 0x7fffffff;

const imul = Math.imul;

export class BpeCounter {
  private readonly vocab: Map<string, number>;
  private readonly unkId: number;
  private readonly fuseUnk: boolean;
  private readonly ignoreMerges: boolean;
  private readonly byteLevel: boolean;
  private readonly alphabet = byteLevelAlphabet();
  /** Vocabulary id of each byte's ByteLevel character, or -1. */
  private readonly byteIds = new Int32Array(256);
  // Merge table: open addressing, linear probing; slot s holds the pair (left[s], right[s]) -> rank[s], merged[s].
  private readonly mask: number;
  private readonly left: Int32Array;
  private readonly right: Int32Array;
  private readonly rank: Int32Array;
  private readonly merged: Int32Array;
  // Scratch buffers, grown on demand.
  private bytes = new Uint8Array(1024);
  private symbols = new Int32Array(256);
  private pairRanks = new Int32Array(256);
  private next = new Int32Array(256);
  private prev = new Int32Array(256);
  private heap = new Float64Array(256);
  private readonly encoder = new TextEncoder();

  constructor(options: BpeOptions) {
    this.vocab = options.vocab;
    this.fuseUnk = options.fuseUnk;
    this.ignoreMerges = options.ignoreMerges;
    this.byteLevel = options.byteLevel;
    if (options.unkToken !== null) {
      const id = options.vocab.get(options.unkToken);
      if (id === undefined) throw new Error(`unk_token ${JSON.stringify(options.unkToken)} is not in the vocabulary`);
      this.unkId = id;
    } else this.unkId = -1;
    for (let b = 0; b < 256; b++) this.byteIds[b] = options.vocab.get(this.alphabet[b]) ?? -1;

    let capacity = 16;
    while (capacity < options.merges.length * 2) capacity *= 2;
    this.mask = capacity - 1;
    this.left = new Int32Array(capacity).fill(-1);
    this.right = new Int32Array(capacity);
    this.rank = new Int32Array(capacity);
    this.merged = new Int32Array(capacity);
    options.merges.forEach(([a, b], rank) => {
      const leftId = options.vocab.get(a);
      const rightId = options.vocab.get(b);
      const mergedId = options.vocab.get(a + b);
      if (leftId === undefined || rightId === undefined)
        throw new Error(
          `merge ${rank} (${JSON.stringify(a)} ${JSON.stringify(b)}) has a part missing from the vocabulary`,
        );
      if (mergedId === undefined)
        throw new Error(
          `merge ${rank} (${JSON.stringify(a)} ${JSON.stringify(b)}) makes a token missing from the vocabulary`,
        );
      let slot = this.slotOf(leftId, rightId);
      while (this.left[slot] !== -1 && (this.left[slot] !== leftId || this.right[slot] !== rightId))
        slot = (slot + 1) & this.mask;
      this.left[slot] = leftId;
      this.right[slot] = rightId;
      this.rank[slot] = rank;
      this.merged[slot] = mergedId;
    });
  }

  /** Tokens of one pre-token (in the text's own characters; the ByteLevel mapping is applied here). */
  count(word: string): number {
    if (word.length === 0) return 0;
    if (this.ignoreMerges && this.vocab.has(this.modelString(word))) return 1;
    const n = this.byteLevel ? this.byteSymbols(word) : this.charSymbols(word);
    if (n < 2) return n;
    return n <= SCAN_LIMIT ? this.mergeByScan(n) : this.mergeByHeap(n);
  }

  private slotOf(a: number, b: number): number {
    return (imul(a, 0x9e3779b1) ^ imul(b + 0x7f4a7c15, 0x85ebca6b)) & this.mask;
  }

  /** The merge slot of the pair (a, b), or -1. */
  private find(a: number, b: number): number {
    let slot = this.slotOf(a, b);
    for (;;) {
      const l = this.left[slot];
      if (l === -1) return -1;
      if (l === a && this.right[slot] === b) return slot;
      slot = (slot + 1) & this.mask;
    }
  }

  private pairRank(a: number, b: number): number {
    const slot = this.find(a, b);
    return slot < 0 ? NO_RANK : this.rank[slot];
  }

  private modelString(word: string): string {
    if (!this.byteLevel) return word;
    const length = this.utf8(word);
    let s = '';
    for (let i = 0; i < length; i++) s += this.alphabet[this.bytes[i]];
    return s;
  }

  private utf8(word: string): number {
    if (this.bytes.length < word.length * 3) this.bytes = new Uint8Array(word.length * 3 + 16);
    return this.encoder.encodeInto(word, this.bytes).written;
  }

  private ensureSymbols(n: number): void {
    if (this.symbols.length >= n) return;
    const size = Math.max(n, this.symbols.length * 2);
    this.symbols = new Int32Array(size);
    this.pairRanks = new Int32Array(size);
    this.next = new Int32Array(size);
    this.prev = new Int32Array(size);
  }

  /** Fills `symbols` from the UTF-8 bytes of `word`; returns their number. */
  private byteSymbols(word: string): number {
    const length = this.utf8(word);
    this.ensureSymbols(length);
    const symbols = this.symbols;
    let n = 0;
    let pendingUnk = false;
    for (let i = 0; i < length; i++) {
      const id = this.byteIds[this.bytes[i]];
      if (id >= 0) {
        if (pendingUnk) symbols[n++] = this.unkId;
        pendingUnk = false;
        symbols[n++] = id;
      } else if (this.unkId >= 0) {
        if (pendingUnk && !this.fuseUnk) symbols[n++] = this.unkId;
        pendingUnk = true;
      }
    }
    if (pendingUnk) symbols[n++] = this.unkId;
    return n;
  }

  /** Fills `symbols` with one vocabulary id per character of `word`; returns their number. */
  private charSymbols(word: string): number {
    this.ensureSymbols(word.length);
    const symbols = this.symbols;
    let n = 0;
    let pendingUnk = false;
    for (const char of word) {
      const id = this.vocab.get(char);
      if (id !== undefined) {
        if (pendingUnk) symbols[n++] = this.unkId;
        pendingUnk = false;
        symbols[n++] = id;
      } else if (this.unkId >= 0) {
        if (pendingUnk && !this.fuseUnk) symbols[n++] = this.unkId;
        pendingUnk = true;
      }
    }
    if (pendingUnk) symbols[n++] = this.unkId;
    return n;
  }

  private mergeByScan(count: number): number {
    let n = count;
    const symbols = this.symbols;
    const ranks = this.pairRanks;
    for (let i = 0; i + 1 < n; i++) ranks[i] = this.pairRank(symbols[i], symbols[i + 1]);
    for (;;) {
      let best = NO_RANK;
      let at = -1;
      for (let i = 0; i + 1 < n; i++) {
        if (ranks[i] < best) {
          best = ranks[i];
          at = i;
        }
      }
      if (at < 0) return n;
      symbols[at] = this.merged[this.find(symbols[at], symbols[at + 1])];
      for (let i = at + 1; i + 1 < n; i++) {
        symbols[i] = symbols[i + 1];
        ranks[i] = ranks[i + 1];
      }
      n--;
      if (at > 0) ranks[at - 1] = this.pairRank(symbols[at - 1], symbols[at]);
      if (at + 1 < n) ranks[at] = this.pairRank(symbols[at], symbols[at + 1]);
    }
  }

  private mergeByHeap(count: number): number {
    if (count >= POSITION_BITS) throw new Error(`a pre-token of ${count} symbols is too long to count`);
    const symbols = this.symbols;
    const next = this.next;
    const prev = this.prev;
    if (this.heap.length < count) this.heap = new Float64Array(Math.max(count, this.heap.length * 2));
    let size = 0;
    const push = (key: number): void => {
      if (size === this.heap.length) {
        const grown = new Float64Array(size * 2);
        grown.set(this.heap);
        this.heap = grown;
      }
      const heap = this.heap;
      let i = size++;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (heap[parent] <= key) break;
        heap[i] = heap[parent];
        i = parent;
      }
      heap[i] = key;
    };
    const pop = (): number => {
      const heap = this.heap;
      const top = heap[0];
      const last = heap[--size];
      let i = 0;
      for (;;) {
        let child = 2 * i + 1;
        if (child >= size) break;
        if (child + 1 < size && heap[child + 1] < heap[child]) child++;
        if (heap[child] >= last) break;
        heap[i] = heap[child];
        i = child;
      }
      heap[i] = last;
      return top;
    };

    for (let i = 0; i < count; i++) {
      next[i] = i + 1 < count ? i + 1 : -1;
      prev[i] = i - 1;
    }
    for (let i = 0; i + 1 < count; i++) {
      const rank = this.pairRank(symbols[i], symbols[i + 1]);
      if (rank !== NO_RANK) push(rank * POSITION_BITS + i);
    }
    let n = count;
    while (size > 0) {
      const key = pop();
      const rank = Math.floor(key / POSITION_BITS);
      const at = key - rank * POSITION_BITS;
      // A removed symbol has prev = -2; an entry whose pair has changed since is stale.
      if (prev[at] === -2) continue;
      const right = next[at];
      if (right < 0) continue;
      const slot = this.find(symbols[at], symbols[right]);
      if (slot < 0 || this.rank[slot] !== rank) continue;
      symbols[at] = this.merged[slot];
      const after = next[right];
      next[at] = after;
      if (after >= 0) prev[after] = at;
      prev[right] = -2;
      n--;
      const before = prev[at];
      if (before >= 0) {
        const r = this.pairRank(symbols[before], symbols[at]);
        if (r !== NO_RANK) push(r * POSITION_BITS + before);
      }
      if (after >= 0) {
        const r = this.pairRank(symbols[at], symbols[after]);
        if (r !== NO_RANK) push(r * POSITION_BITS + at);
      }
    }
    return n;
  }
}
