// The WordPiece tokenizer of BERT-style sentence encoders (all-MiniLM-L6-v2), read from the model's tokenizer.json
// (Hugging Face `tokenizers`: BertNormalizer, BertPreTokenizer, WordPiece, the [CLS] … [SEP] template) or from a
// plain vocab.txt (one piece per line, the id is the line number), reproducing `tokenizers`' ids:
//   normalise: drop NUL, U+FFFD and other control characters (tab, newline and carriage return become spaces, as
//     every Unicode white space does); put spaces around CJK ideographs; lower-case and strip accents (NFD, then no
//     combining marks: Mn), both when the normaliser says `lowercase` (strip_accents follows it unless set);
//   pre-tokenise: split at white space (dropped) and around every punctuation character (ASCII punctuation and
//     Unicode P*), each its own word;
//   WordPiece: greedy longest match from the left, continuations prefixed `##`; a word with no full cover, or longer
//     than max_input_chars_per_word characters, is the unknown token;
//   truncate to maxTokens − 2 pieces, add [CLS] and [SEP].
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';

export interface WordPieceOptions {
  lowercase: boolean;
  stripAccents: boolean;
  cleanText: boolean;
  chineseChars: boolean;
  unknown: string;
  prefix: string;
  maxCharsPerWord: number;
}

const DEFAULTS: WordPieceOptions = {
  lowercase: true,
  stripAccents: true,
  cleanText: true,
  chineseChars: true,
  unknown: '[UNK]',
  prefix: '##',
  maxCharsPerWord: 100,
};

const WHITE = /\p{White_Space}/u;
const OTHER = /\p{C}/u;
const MARK = /\p{Mn}/u;
const PUNCT = /\p{P}/u;

function isAsciiPunctuation(cp: number): boolean {
  return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126);
}

function isCjk(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b920 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

export class WordPieceTokenizer {
  readonly options: WordPieceOptions;
  private readonly unknownId: number;
  readonly clsId: number;
  readonly sepId: number;

  constructor(
    private readonly vocab: ReadonlyMap<string, number>,
    options: Partial<WordPieceOptions> = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
    const id = (piece: string) => {
      const v = vocab.get(piece);
      if (v === undefined) throw new Error(`the vocabulary has no ${piece}`);
      return v;
    };
    this.unknownId = id(this.options.unknown);
    this.clsId = id('[CLS]');
    this.sepId = id('[SEP]');
  }

  /** From a model folder: its tokenizer.json, else its vocab.txt (BERT uncased defaults). */
  static fromModelDir(dir: string): WordPieceTokenizer {
    const json = path.join(dir, 'tokenizer.json');
    if (existsSync(json)) return WordPieceTokenizer.fromTokenizerJson(json);
    const txt = path.join(dir, 'vocab.txt');
    if (existsSync(txt)) return WordPieceTokenizer.fromVocabTxt(txt);
    throw new Error(`${dir}: neither tokenizer.json nor vocab.txt (the WordPiece vocabulary of the model)`);
  }

  static fromVocabTxt(file: string): WordPieceTokenizer {
    const vocab = new Map<string, number>();
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, i, all) => {
        const piece = line.replace(/\r$/, '');
        if (piece === '' && i === all.length - 1) return;
        if (!vocab.has(piece)) vocab.set(piece, i);
      });
    return new WordPieceTokenizer(vocab);
  }

  static fromTokenizerJson(file: string): WordPieceTokenizer {
    let body: {
      normalizer?: {
        type?: string;
        lowercase?: boolean;
        strip_accents?: boolean | null;
        clean_text?: boolean;
        handle_chinese_chars?: boolean;
      };
      model?: {
        type?: string;
        vocab?: Record<string, number>;
        unk_token?: string;
        continuing_subword_prefix?: string;
        max_input_chars_per_word?: number;
      };
    };
    try {
      body = JSON.parse(readFileSync(file, 'utf8')) as typeof body;
    } catch (err) {
      throw new Error(`${file}: not a JSON tokenizer (${(err as Error).message})`);
    }
    const model = body.model;
    if (model?.type !== 'WordPiece' || !model.vocab)
      throw new Error(
        `${file}: field model.type is ${JSON.stringify(model?.type)}, expected a WordPiece model with a vocab`,
      );
    const n = body.normalizer;
    if (n && n.type !== 'BertNormalizer')
      throw new Error(
        `${file}: field normalizer.type is ${JSON.stringify(n.type)}; only BertNormalizer is implemented`,
      );
    const lowercase = n?.lowercase ?? true;
    return new WordPieceTokenizer(new Map(Object.entries(model.vocab)), {
      lowercase,
      stripAccents: n?.strip_accents ?? lowercase,
      cleanText: n?.clean_text ?? true,
      chineseChars: n?.handle_chinese_chars ?? true,
      ...(model.unk_token ? { unknown: model.unk_token } : {}),
      ...(model.continuing_subword_prefix !== undefined ? { prefix: model.continuing_subword_prefix } : {}),
      ...(model.max_input_chars_per_word ? { maxCharsPerWord: model.max_input_chars_per_word } : {}),
    });
  }

  normalize(text: string): string {
    const o = this.options;
    let out = '';
    for (const ch of text) {
      const cp = ch.codePointAt(0)!;
      if (o.cleanText) {
        const whiteControl = ch === '\t' || ch === '\n' || ch === '\r';
        // control characters go first (U+0085 is both a control and white space: it is dropped)
        if (cp === 0 || cp === 0xfffd || (!whiteControl && OTHER.test(ch))) continue;
        if (whiteControl || WHITE.test(ch)) {
          out += ' ';
          continue;
        }
      }
      out += o.chineseChars && isCjk(cp) ? ` ${ch} ` : ch;
    }
    if (o.stripAccents) out = [...out.normalize('NFD')].filter((c) => !MARK.test(c)).join('');
    if (o.lowercase) out = out.toLowerCase();
    return out;
  }

  /** The words of normalised text: white space splits (and is dropped), punctuation stands alone. */
  preTokenize(text: string): string[] {
    const words: string[] = [];
    let word = '';
    for (const ch of text) {
      if (WHITE.test(ch)) {
        if (word) words.push(word);
        word = '';
      } else if (isAsciiPunctuation(ch.codePointAt(0)!) || PUNCT.test(ch)) {
        if (word) words.push(word);
        words.push(ch);
        word = '';
      } else word += ch;
    }
    if (word) words.push(word);
    return words;
  }

  private pieces(word: string, into: number[]): void {
    const chars = [...word];
    if (chars.length > this.options.maxCharsPerWord) {
      into.push(this.unknownId);
      return;
    }
    const found: number[] = [];
    let start = 0;
    while (start < chars.length) {
      let end = chars.length;
      let id: number | undefined;
      while (start < end) {
        const piece = (start > 0 ? this.options.prefix : '') + chars.slice(start, end).join('');
        id = this.vocab.get(piece);
        if (id !== undefined) break;
        end--;
      }
      if (id === undefined) {
        into.push(this.unknownId);
        return;
      }
      found.push(id);
      start = end;
    }
    into.push(...found);
  }

  /** The ids of one text: [CLS], at most maxTokens − 2 pieces, [SEP]. */
  encode(text: string, maxTokens = 512): number[] {
    const ids: number[] = [];
    const budget = maxTokens - 2;
    for (const word of this.preTokenize(this.normalize(text))) {
      this.pieces(word, ids);
      if (ids.length >= budget) break;
    }
    return [this.clsId, ...ids.slice(0, budget), this.sepId];
  }
}
