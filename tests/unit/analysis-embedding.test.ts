/**
 * @jest-environment ./tests/support/native-typed-arrays-environment.js
 */
// The embedders of the diversity analysis: our WordPiece tokenizer and onnxruntime-node run of the shipped
// all-MiniLM-L6-v2 (int8) against Hugging Face `tokenizers` + Python onnxruntime + numpy on the same files (the
// project's Python tools venv: identical token ids, vectors within 1e-4 cosine), the vocab.txt path, the
// bag-of-words fallback, the stored vector format and the resolution of `auto`.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  bagOfWords,
  decodeVector,
  encodeVector,
  OnnxEmbedder,
  resolveEmbedder,
} from '../../activities/analysis/embedders';
import { WordPieceTokenizer } from '../../activities/analysis/wordpiece';
import { DEFAULT_EMBEDDING_MODEL_DIR } from '../../domain/analyze-corpora';
import { tempDir } from '../support/files';
import { miniLmReference } from '../support/minilm-reference';

const MODEL_DIR = path.resolve(DEFAULT_EMBEDDING_MODEL_DIR);

const TEXTS = [
  'Find all real $x$ such that $x^2 - 5x + 6 = 0$. Please put your answer in \\boxed{}.',
  'Let $ABC$ be a triangle with $AB = 13$, $BC = 14$, $CA = 15$. Compute the inradius.',
  'Café naïve résumé — ÉCOLE Über Ærø',
  '计算 1+1 的值。東京タワー',
  'tab\there\u0085next\u200bzero\u0000nul\ufffdrepl\u2028line',
  `${'a'.repeat(150)} supercalifragilisticexpialidocious`,
  'Given n ≤ 10^5 integers a_1, …, a_n, print the maximum; input: "3\\n1 5 2".',
  'def f(x):\n    return [i**2 for i in range(x)]  # squares',
  // long enough to be cut at 256 word pieces
  Array.from({ length: 300 }, (_, i) => `word${i}`).join(' '),
  'x',
];

function requireModel(): void {
  if (!existsSync(path.join(MODEL_DIR, 'model.onnx')))
    throw new Error(`${MODEL_DIR}/model.onnx is missing: scripts/setup.sh installs all-MiniLM-L6-v2 (int8) there`);
}

describe('the MiniLM ONNX embedder', () => {
  let embedder: OnnxEmbedder;
  beforeAll(async () => {
    requireModel();
    embedder = await OnnxEmbedder.load(MODEL_DIR, 256);
  });

  it('gives the token ids of Hugging Face tokenizers and vectors within 1e-4 cosine of Python onnxruntime', async () => {
    const reference = miniLmReference({ modelDir: MODEL_DIR, texts: TEXTS, maxTokens: 256 });
    expect(embedder.dimensions).toBe(384);
    let worst = 0;
    for (let i = 0; i < TEXTS.length; i++) {
      expect([i, embedder.tokenizer.encode(TEXTS[i]!, 256)]).toEqual([i, reference.ids[i]]);
      const v = await embedder.embed(TEXTS[i]!);
      const r = reference.vectors[i]!;
      let dot = 0;
      let norm = 0;
      for (let d = 0; d < v.length; d++) {
        dot += v[d]! * r[d]!;
        norm += v[d]! * v[d]!;
      }
      expect(Math.sqrt(norm)).toBeCloseTo(1, 5);
      worst = Math.max(worst, 1 - dot);
    }
    expect(reference.ids[8]!.length).toBe(256);
    expect(worst).toBeLessThan(1e-4);
  });

  it('ranks a paraphrase closer than an unrelated problem, and gives the same vector twice', async () => {
    const a = await embedder.embed('How many primes are less than 100?');
    const b = await embedder.embed('Count the prime numbers below one hundred.');
    const c = await embedder.embed('Print the shortest path between two nodes of a weighted graph.');
    const cos = (x: Float32Array, y: Float32Array) => x.reduce((s, xi, i) => s + xi * y[i]!, 0);
    expect(cos(a, b)).toBeGreaterThan(cos(a, c) + 0.2);
    expect(await embedder.embed('How many primes are less than 100?')).toEqual(a);
  });

  it('reads a vocab.txt the same as tokenizer.json (ids are line numbers)', () => {
    const tmp = tempDir('vocab');
    try {
      const vocab = (
        JSON.parse(readFileSync(path.join(MODEL_DIR, 'tokenizer.json'), 'utf8')) as {
          model: { vocab: Record<string, number> };
        }
      ).model.vocab;
      const lines: string[] = [];
      for (const [piece, id] of Object.entries(vocab)) lines[id] = piece;
      mkdirSync(path.join(tmp.dir, 'm'));
      writeFileSync(path.join(tmp.dir, 'm', 'vocab.txt'), lines.join('\n') + '\n');
      const fromTxt = WordPieceTokenizer.fromModelDir(path.join(tmp.dir, 'm'));
      for (const t of TEXTS) expect(fromTxt.encode(t, 256)).toEqual(embedder.tokenizer.encode(t, 256));
      expect(() => WordPieceTokenizer.fromModelDir(tmp.dir)).toThrow(/neither tokenizer.json nor vocab.txt/);
    } finally {
      tmp.remove();
    }
  });
});

describe('the other embedders and the stored vectors', () => {
  it('bag of words: unit length, word order does not matter, shared words bring texts closer', () => {
    const a = bagOfWords('the sum of two primes', 256);
    const b = bagOfWords('primes two of sum the', 256);
    const c = bagOfWords('the product of two squares', 256);
    const d = bagOfWords('graph shortest path', 256);
    const cos = (x: Float32Array, y: Float32Array) => x.reduce((s, xi, i) => s + xi * y[i]!, 0);
    expect(Math.hypot(...a)).toBeCloseTo(1, 6);
    expect(b).toEqual(a);
    expect(cos(a, c)).toBeGreaterThan(cos(a, d));
    expect(Math.hypot(...bagOfWords('', 16))).toBe(0);
  });

  it('a vector survives the row encoding exactly; a wrong length is refused', () => {
    const v = Float32Array.from([0.1, -2.5, 3e-8, 1]);
    expect(decodeVector(encodeVector(v), 4)).toEqual(v);
    expect(() => decodeVector(encodeVector(v), 5)).toThrow(/16 bytes, expected 5/);
  });

  it('auto resolves to the shipped model when its files are there, and says so', () => {
    requireModel();
    const r = resolveEmbedder({ kind: 'auto' });
    expect(r.embedder).toEqual({ kind: 'onnx', modelDir: MODEL_DIR, maxTokens: 256 });
    expect(r.why).toContain(DEFAULT_EMBEDDING_MODEL_DIR);
    expect(resolveEmbedder({ kind: 'bag-of-words', dimensions: 64 }).embedder).toEqual({
      kind: 'bag-of-words',
      dimensions: 64,
    });
  });
});
