import { appendFileSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { NearDuplicateIndex, type DedupResult } from '../../activities/dedup/lsh-index';
import { MinHasher, estimateJaccard, jaccardSorted } from '../../activities/dedup/minhash';
import { DEFAULT_STOP_WORDS, WordFilter, frequentWords, hashWord, problemWords } from '../../activities/dedup/words';
import { syntheticProblems, type SyntheticProblem } from '../../lib/bench/dedup';
import { statementOfPrompt } from '../../lib/bench/problem-vocabulary';
import { RealisticProblemGenerator } from '../../lib/bench/realistic-problems';
import { tempDir } from '../support/files';

function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 || b.size === 0) return 0;
  let inter = 0;
  for (const w of a) if (b.has(w)) inter++;
  return inter / (a.size + b.size - inter);
}

describe('problemWords', () => {
  it('lowercases, splits on whitespace and ()[]{}$^+-*/=, keeps words of 4+ characters that are not numbers', () => {
    expect(problemWords('Triangle ABC has CIRCUMCIRCLE Omega')).toEqual(['triangle', 'circumcircle', 'omega']);
    expect(problemWords('alpha(beta)gamma[delta]{epsilon}$zeta^theta+iota-kappa*lambda/mu=omega')).toEqual([
      'alpha',
      'beta',
      'gamma',
      'delta',
      'epsilon',
      'zeta',
      'theta',
      'iota',
      'kappa',
      'lambda',
      'omega',
    ]);
    // tabs, newlines, Python's other whitespace (\x1c-\x1f, NEL, NBSP, ideographic space) separate words
    expect(problemWords('lemma\ttheta\nsigma\x1cdelta\u0085kappa\u00a0gamma\u3000omega')).toEqual([
      'lemma',
      'theta',
      'sigma',
      'delta',
      'kappa',
      'gamma',
      'omega',
    ]);
    // numbers: only 0-9 . , characters are dropped; mixed tokens are words
    expect(problemWords('1000 3.14159 1,000,000 .... 2024, x2024 10th 12ab 1.5e3')).toEqual([
      'x2024',
      '10th',
      '12ab',
      '1.5e3',
    ]);
    // other punctuation stays part of the word (as in the published code)
    expect(problemWords('parabola, parabola. parabola')).toEqual(['parabola,', 'parabola.', 'parabola']);
    // unique, in order of first appearance
    expect(problemWords('sigma delta sigma SIGMA delta')).toEqual(['sigma', 'delta']);
    expect(problemWords('')).toEqual([]);
  });

  it('measures length in code points', () => {
    expect(problemWords('𝔸𝔹𝔽 𝔸𝔹𝔽𝔾 été')).toEqual(['𝔸𝔹𝔽𝔾']);
    expect(problemWords('𝔸𝔹𝔽 été', { minWordLength: 3 })).toEqual(['𝔸𝔹𝔽', 'été']);
  });

  it('drops stop words (also with surrounding . , ; : ! ? quotes), configurably', () => {
    expect(problemWords('Find the number of positive integers n such that the polynomial has integer roots.')).toEqual([
      'polynomial',
      'roots.',
    ]);
    expect(problemWords('integer, "integers" (value) given: value? \\frac{a}{b} \\sqrt{x}')).toEqual(['\\sqrt']);
    expect(problemWords('Find the polynomial', { stopWords: [] })).toEqual(['find', 'polynomial']);
    expect(problemWords('Find the polynomial roots', { extraStopWords: ['Polynomial'] })).toEqual(['roots']);
    expect(problemWords('Find the polynomial roots', { minWordLength: 6 })).toEqual(['polynomial']);
    for (const w of DEFAULT_STOP_WORDS) {
      expect(w).toBe(w.toLowerCase());
      expect(w.length).toBeGreaterThanOrEqual(4);
      expect(problemWords(`${w} ${w.toUpperCase()} ${w}.`)).toEqual([]);
    }
    expect(DEFAULT_STOP_WORDS.length).toBeGreaterThan(300);
    // content words of mathematics are not stop words
    for (const w of ['triangle', 'prime', 'probability', 'polynomial', 'circle', 'sequence', 'graph', 'matrix'])
      expect(DEFAULT_STOP_WORDS).not.toContain(w);
  });

  it('does not depend on what came before (the published running common-word cache did, §8 bug 15)', () => {
    const text = 'A lemma about the circumcircle of triangle ABC';
    const before = problemWords(text);
    for (let i = 0; i < 2000; i++) problemWords(`lemma circumcircle triangle number ${i}`);
    expect(problemWords(text)).toEqual(before);
    expect(before).toEqual(['lemma', 'circumcircle', 'triangle']);
  });

  it('frequentWords: a document-frequency stop list that does not depend on the order of the corpus', () => {
    const corpus = ['lemma circumcircle triangle', 'lemma triangle incircle', 'lemma parabola', 'lemma lemma focus'];
    expect(frequentWords(corpus, 2)).toEqual(['lemma', 'triangle']);
    expect(frequentWords([...corpus].reverse(), 2)).toEqual(['lemma', 'triangle']);
    expect(frequentWords(corpus, 4)).toEqual(['lemma']);
    const extra = frequentWords(corpus, 2);
    expect(problemWords('lemma about a triangle and a parabola', { extraStopWords: extra })).toEqual(['parabola']);
  });

  it('word hashes are the sorted unique hashes of the words', () => {
    const f = new WordFilter();
    const text = 'sigma delta theta sigma kappa, kappa';
    const expected = [...new Set(problemWords(text).map((w) => hashWord(w)))].sort((a, b) => a - b);
    expect([...f.wordHashes(text)]).toEqual(expected);
  });
});

describe('MinHash', () => {
  it('signatures equal the plain unsigned computation of (a_i * h + b_i) mod 2^32, the same in every process', () => {
    const hasher = new MinHasher();
    const f = new WordFilter();
    const hashes = f.wordHashes(
      'Let ABC be a triangle with circumcircle omega and incircle gamma; the tangent at vertex meets',
    );
    const sig = hasher.signature(hashes);
    expect(sig.length).toBe(128);
    for (let i = 0; i < 128; i++) expect(sig[i]).toBe(hasher.value(hashes, i));
    // a prefix is the prefix of the full signature
    expect([...hasher.signature(hashes, 100)]).toEqual([...sig.subarray(0, 100)]);
    // golden values: fixed seeds and hashes, no Math.random, so these never change between processes or runs
    expect(hashWord('triangle')).toBe(GOLDEN.triangle);
    expect([...sig.subarray(0, 4)]).toEqual(GOLDEN.signature);
    expect(new MinHasher().signature(new Uint32Array(0))[0]).toBe(0xffffffff);
  });

  it('estimates Jaccard without bias', () => {
    const hasher = new MinHasher();
    let err = 0;
    let errAbs = 0;
    const n = 300;
    for (let k = 0; k < n; k++) {
      // two sets of 60 random hashes sharing `s` of them
      const shared = 5 + (k % 50);
      const a = new Set<number>();
      const b = new Set<number>();
      for (let i = 0; i < shared; i++) {
        const h = hashWord(`shared-${k}-${i}`);
        a.add(h);
        b.add(h);
      }
      for (let i = 0; a.size < 60; i++) a.add(hashWord(`a-${k}-${i}`));
      for (let i = 0; b.size < 60; i++) b.add(hashWord(`b-${k}-${i}`));
      const sa = Uint32Array.from(a).sort();
      const sb = Uint32Array.from(b).sort();
      const exact = jaccardSorted(sa, sb);
      const est = estimateJaccard(hasher.signature(sa), hasher.signature(sb));
      err += est - exact;
      errAbs += Math.abs(est - exact);
    }
    expect(Math.abs(err / n)).toBeLessThan(0.01); // unbiased
    expect(errAbs / n).toBeLessThan(0.05); // ~ sqrt(J(1-J)/128)
  });
});

/** The published procedure, done exactly: first come wins, exact string, then word-set Jaccard > 0.2 against every kept problem. */
function referenceDedup(
  problems: SyntheticProblem[],
  wordsOf: (p: SyntheticProblem) => ReadonlySet<string>,
  threshold = 0.2,
): Map<string, { exact: boolean }> {
  const dropped = new Map<string, { exact: boolean }>();
  const keptTexts = new Set<string>();
  const keptWords: Array<ReadonlySet<string>> = [];
  for (const p of problems) {
    const text = p.text.trim();
    if (keptTexts.has(text)) {
      dropped.set(p.id, { exact: true });
      continue;
    }
    const words = wordsOf(p);
    if (words.size > 0 && keptWords.some((k) => jaccard(words, k) > threshold)) {
      dropped.set(p.id, { exact: false });
      continue;
    }
    keptTexts.add(text);
    keptWords.push(words);
  }
  return dropped;
}

function runIndex(index: NearDuplicateIndex, problems: SyntheticProblem[]): Map<string, DedupResult> {
  const results = new Map<string, DedupResult>();
  for (const p of problems) results.set(p.id, index.checkAndAdd(p.id, p.text));
  return results;
}

const FIXTURE = syntheticProblems({
  count: 2000,
  seed: 11,
  nearDupRate: 0.5,
  exactDupRate: 0.02,
  emptyRate: 0.01,
  editMin: 0.25,
  editMax: 0.95,
  sourceWindow: 200,
});

describe('NearDuplicateIndex', () => {
  const tmp = tempDir('dedup');
  afterAll(() => tmp.remove());

  it('agrees with an exact O(n^2) computation up to LSH misses, and every drop is a real duplicate', () => {
    const problems = FIXTURE;
    const byId = new Map(problems.map((p, i) => [p.id, { p, i, words: new Set(problemWords(p.text)) }]));
    // the fixture puts many near copies around the threshold
    const nearCopies = problems.filter((p) => p.kind === 'near');
    const around = nearCopies.filter((p) => {
      const j = jaccard(byId.get(p.id)!.words, byId.get(problems[p.source!]!.id)!.words);
      return j > 0.1 && j < 0.3;
    });
    expect(nearCopies.length).toBeGreaterThan(800);
    expect(around.length).toBeGreaterThan(300);

    const reference = referenceDedup(problems, (p) => byId.get(p.id)!.words);
    const index = new NearDuplicateIndex();
    const results = runIndex(index, problems);

    const keptByIndex: string[] = [];
    let misses = 0; // reference drops, index keeps
    let extra = 0; // index drops, reference keeps
    let lshMissesAgainstOwnKept = 0;
    for (const p of problems) {
      const r = results.get(p.id)!;
      const ref = reference.get(p.id);
      if (r.duplicate && !ref) extra++;
      if (!r.duplicate && ref) misses++;
      if (r.duplicate) {
        // no false positives: the named earlier problem was kept and really is a duplicate
        const of = byId.get(r.of)!;
        expect(of.i).toBeLessThan(byId.get(p.id)!.i);
        expect(results.get(r.of)!.duplicate).toBe(false);
        if (r.exact) {
          expect(of.p.text.trim()).toBe(p.text.trim());
          expect(ref).toEqual({ exact: true });
        } else {
          const j = jaccard(byId.get(p.id)!.words, of.words);
          expect(r.jaccard).toBeCloseTo(j, 12);
          expect(j).toBeGreaterThan(0.2);
        }
      } else {
        // a problem the index kept: did LSH miss a duplicate among what the index had kept?
        const words = byId.get(p.id)!.words;
        if (words.size > 0 && keptByIndex.some((id) => jaccard(words, byId.get(id)!.words) > 0.2))
          lshMissesAgainstOwnKept++;
        keptByIndex.push(p.id);
      }
    }
    const stats = index.stats();
    console.log(
      `dedup agreement on ${problems.length} problems: reference drops ${reference.size} ` +
        `(${[...reference.values()].filter((d) => !d.exact).length} near), index drops ${stats.exactDuplicates + stats.nearDuplicates} ` +
        `(${stats.nearDuplicates} near); misses ${misses}, extra ${extra}, LSH misses against the index's own kept set ${lshMissesAgainstOwnKept}; ` +
        `candidates/check ${(stats.candidatesChecked / stats.checks).toFixed(1)}`,
    );
    expect(reference.size).toBeGreaterThan(300);
    expect(misses + extra).toBeLessThan(0.02 * problems.length);
    expect(lshMissesAgainstOwnKept).toBeLessThan(0.02 * problems.length);
    // exact duplicates are always found
    for (const [id, d] of reference)
      if (d.exact) expect(results.get(id)).toMatchObject({ duplicate: true, exact: true });
    expect(index.size).toBe(keptByIndex.length);
    expect(stats.documents).toBe(keptByIndex.length);
    expect(stats.checks).toBe(problems.length);
  });

  it('reports the highest-Jaccard earlier problem, and a strict threshold', () => {
    const index = new NearDuplicateIndex();
    const query = 'alpha beta gamma delta epsilon zeta theta iota kappa omega';
    index.add('a', 'alpha beta gamma delta epsilon zeta theta tau1 tau2 tau3'); // J = 7/13
    index.add('b', 'alpha beta gamma delta epsilon zeta theta iota kappa sigma'); // J = 9/11
    index.add('c', 'alpha beta gamma delta epsilon zeta theta iota kappa upsilon'); // J = 9/11, later than b
    expect(index.check(query)).toEqual({ duplicate: true, of: 'b', jaccard: 9 / 11, exact: false });
    // exactly at the threshold is not a duplicate: J = 2/10 = 0.2 (strict >)
    const t = new NearDuplicateIndex({ threshold: 0.2 });
    t.add('x', 'aaaa bbbb cccc dddd eeee ffff');
    expect(t.check('aaaa bbbb gggg hhhh iiii jjjj')).toEqual({ duplicate: false }); // 2/10
    expect(new NearDuplicateIndex({ threshold: 0.19 }).checkAndAdd('x', 'aaaa bbbb cccc dddd eeee ffff')).toEqual({
      duplicate: false,
    });
  });

  it('problems with no kept words take part in exact dedup only', () => {
    const index = new NearDuplicateIndex();
    expect(index.checkAndAdd('e1', 'What is 2+2?')).toEqual({ duplicate: false });
    expect(index.checkAndAdd('e2', 'What is 3+3?')).toEqual({ duplicate: false });
    expect(index.checkAndAdd('e3', '  What is 2+2?\n')).toEqual({ duplicate: true, of: 'e1', jaccard: 1, exact: true });
    expect(index.stats()).toMatchObject({
      documents: 2,
      emptyWordSets: 2,
      exactDuplicates: 1,
      nearDuplicates: 0,
      bandEntries: 0,
    });
  });

  it('a word seen many times before does not change a decision (order independence, §8 bug 15)', () => {
    const a = 'lemma circumcircle triangle tangent incircle radius chord secant';
    const b = 'lemma circumcircle triangle tangent parabola focus directrix vertex';
    const fresh = new NearDuplicateIndex();
    fresh.add('a', a);
    const busy = new NearDuplicateIndex();
    // 1500 problems sharing lemma, circumcircle and triangle (J with b = 3/16): the published cache would have made
    // these three common words by now, and a, b would no longer be duplicates (J 1/9)
    for (let i = 0; i < 1500; i++)
      busy.add(
        `f${i}`,
        `lemma circumcircle triangle ${['xa', 'xb', 'xc', 'xd', 'xe', 'xf', 'xg', 'xh'].map((x) => `${x}${i}word`).join(' ')}`,
      );
    busy.add('a', a);
    const r1 = fresh.check(b);
    const r2 = busy.check(b);
    expect(r1).toEqual({ duplicate: true, of: 'a', jaccard: 4 / 12, exact: false });
    expect(r2).toEqual(r1);
  });

  it('persists: a reopened index dedups against everything before, and decides as one run would', () => {
    const problems = FIXTURE;
    const file = path.join(tmp.dir, 'half', 'index.pclsh');
    const half = problems.length / 2;
    const first = NearDuplicateIndex.open(file);
    const r1 = runIndex(first, problems.slice(0, half));
    first.close();
    const keptFirst = [...r1.values()].filter((r) => !r.duplicate).length;

    const second = NearDuplicateIndex.open(file);
    expect(second.size).toBe(keptFirst);
    expect(second.stats()).toMatchObject({ loadedDocuments: keptFirst, discardedTailBytes: 0 });
    const r2 = runIndex(second, problems.slice(half));
    second.close();

    const oneRun = runIndex(new NearDuplicateIndex(), problems);
    for (const p of problems) expect(r1.get(p.id) ?? r2.get(p.id)).toEqual(oneRun.get(p.id));
    // the second half found duplicates of first-half problems
    expect([...r2.values()].filter((r) => r.duplicate && Number(r.of.slice(1)) < half).length).toBeGreaterThan(0);

    const third = NearDuplicateIndex.open(file);
    expect(third.size).toBe([...oneRun.values()].filter((r) => !r.duplicate).length);
    // a retried run: the same id and text is recognised, not added twice
    const kept = problems.find((p) => !oneRun.get(p.id)!.duplicate)!;
    expect(third.checkAndAdd(kept.id, kept.text)).toEqual({ duplicate: false, alreadyIndexed: true });
    expect(third.checkAndAdd('other-id', kept.text)).toEqual({ duplicate: true, of: kept.id, jaccard: 1, exact: true });
    expect(third.size).toBe([...oneRun.values()].filter((r) => !r.duplicate).length);
    third.close();
  });

  it('ignores a torn last record, cuts it off, and appends after it', () => {
    const file = path.join(tmp.dir, 'torn.pclsh');
    const index = NearDuplicateIndex.open(file);
    index.add('a', 'alpha beta gamma delta epsilon');
    index.add('b', 'sigma kappa lambda omega theta');
    index.flush();
    const afterA = statSync(file).size;
    // what was flushed is on disk for another reader
    const reader = NearDuplicateIndex.open(file);
    expect(reader.size).toBe(2);
    reader.close();
    index.add('c', 'parabola hyperbola ellipse circle focus');
    index.close();
    const full = statSync(file).size;

    // killed mid-write: the last record lacks its end
    truncateSync(file, full - 7);
    let reopened = NearDuplicateIndex.open(file);
    expect(reopened.size).toBe(2);
    expect(reopened.stats().discardedTailBytes).toBe(full - 7 - afterA);
    expect(statSync(file).size).toBe(afterA); // cut before appending
    expect(reopened.checkAndAdd('c2', 'parabola hyperbola ellipse circle focus')).toEqual({ duplicate: false });
    expect(reopened.check('alpha beta gamma delta epsilon')).toMatchObject({ duplicate: true, of: 'a' });
    reopened.close();
    reopened = NearDuplicateIndex.open(file);
    expect(reopened.size).toBe(3);
    expect(reopened.check('parabola hyperbola ellipse circle focus')).toMatchObject({
      duplicate: true,
      of: 'c2',
      exact: true,
    });
    reopened.close();

    // a complete last record whose bytes did not all reach the disk (bad checksum, nothing after it)
    const whole = readFileSync(file);
    const flipped = Buffer.from(whole);
    flipped[flipped.length - 1] ^= 0xff;
    writeFileSync(file, flipped);
    const partial = NearDuplicateIndex.open(file);
    expect(partial.size).toBe(2);
    partial.close();
    writeFileSync(file, whole);

    // a torn length field (3 bytes), and a zero-filled tail (blocks never written before a crash)
    const good = statSync(file).size;
    appendFileSync(file, Buffer.from([0x40, 0x00, 0x00]));
    const cut = NearDuplicateIndex.open(file);
    expect(cut.size).toBe(3);
    cut.close();
    expect(statSync(file).size).toBe(good);
    appendFileSync(file, Buffer.alloc(4096));
    const z = NearDuplicateIndex.open(file);
    expect(z.size).toBe(3);
    expect(z.stats().discardedTailBytes).toBe(4096);
    z.close();
  });

  it('round-trips ids of any length and script, and problems without words', () => {
    const file = path.join(tmp.dir, 'ids.pclsh');
    const index = NearDuplicateIndex.open(file, { autoFlushBytes: 64 });
    const ids = ['', 'x', 'xy', 'xyz', 'problème-ü', '问题-7', 'a'.repeat(1000)];
    ids.forEach((id, i) => index.add(id, `lemma${i} circumcircle${i} parabola${i} tangent${i}`));
    index.add('no-words', 'What is 2+2?');
    index.close();
    const reopened = NearDuplicateIndex.open(file);
    expect(reopened.size).toBe(ids.length + 1);
    ids.forEach((id, i) =>
      expect(reopened.check(`lemma${i} circumcircle${i} parabola${i} tangent${i} hyperbola`)).toMatchObject({
        duplicate: true,
        of: id,
        exact: false,
      }),
    );
    expect(reopened.check('What is 2+2?')).toMatchObject({ duplicate: true, of: 'no-words', exact: true });
    expect(reopened.stats()).toMatchObject({ emptyWordSets: 1, loadedDocuments: ids.length + 1 });
    reopened.close();
  });

  it('refuses a corrupt record with data after it (unless repair), and a file built with other word rules', () => {
    const file = path.join(tmp.dir, 'corrupt.pclsh');
    const index = NearDuplicateIndex.open(file);
    index.add('a', 'alpha beta gamma delta epsilon');
    index.add('b', 'sigma kappa lambda omega theta');
    index.close();
    const bytes = readFileSync(file);
    const headerLen = 12 + bytes.readUInt32LE(8);
    bytes[headerLen + 8 + 2] ^= 0xff; // inside the first record's payload
    writeFileSync(file, bytes);
    expect(() => NearDuplicateIndex.open(file)).toThrow(/corrupt record at byte \d+ \(checksum mismatch\)/);
    const repaired = NearDuplicateIndex.open(file, { repair: true });
    expect(repaired.size).toBe(0);
    repaired.close();

    const other = path.join(tmp.dir, 'other.pclsh');
    NearDuplicateIndex.open(other).close();
    expect(() => NearDuplicateIndex.open(other, { minWordLength: 5 })).toThrow(/minWordLength/);
    expect(() => NearDuplicateIndex.open(other, { extraStopWords: ['lemma'] })).toThrow(/stopWords/);
    expect(() => NearDuplicateIndex.open(other, { bands: 20, rows: 5 })).toThrow(/bands/);
    NearDuplicateIndex.open(other, { threshold: 0.5 }).close(); // the threshold is free
  });

  it('is deterministic: two fresh indexes make the same decisions', () => {
    const problems = FIXTURE.slice(0, 1000);
    const a = runIndex(new NearDuplicateIndex(), problems);
    const b = runIndex(new NearDuplicateIndex(), problems);
    expect([...b]).toEqual([...a]);
    const i1 = new NearDuplicateIndex();
    const i2 = new NearDuplicateIndex();
    expect([...i1.signature(problems[0]!.text)]).toEqual([...i2.signature(problems[0]!.text)]);
  });
});

/** Per decision, against the index's own kept documents: drops that are not real duplicates, duplicates missed. */
function decisionsAgainstExact(problems: SyntheticProblem[], index: NearDuplicateIndex) {
  const words = new Map(problems.map((p) => [p.id, new Set(problemWords(p.text))]));
  const kept: string[] = [];
  let falseDrops = 0;
  let misses = 0;
  for (const p of problems) {
    const w = words.get(p.id)!;
    const exactBest = Math.max(0, ...kept.map((id) => jaccard(w, words.get(id)!)));
    const r = index.checkAndAdd(p.id, p.text);
    if (r.duplicate && !r.exact && !(jaccard(w, words.get(r.of)!) > 0.2 && kept.includes(r.of))) falseDrops++;
    if (!r.duplicate && exactBest > 0.2) misses++;
    if (!r.duplicate) kept.push(p.id);
  }
  return { falseDrops, misses, kept: kept.length };
}

describe('NearDuplicateIndex with frequent words', () => {
  const tmp = tempDir('dedup-frequent');
  afterAll(() => tmp.remove());
  const FREQUENT = frequentWords(
    FIXTURE.map((p) => p.text),
    40,
  );

  it('decides as the exact rule does, at least as well as the default index', () => {
    expect(FREQUENT.length).toBeGreaterThan(20);
    const problems = FIXTURE.slice(0, 1200);
    const plain = new NearDuplicateIndex();
    const split = new NearDuplicateIndex({ frequentWords: FREQUENT, frequentBucketLimit: 8 });
    const a = decisionsAgainstExact(problems, plain);
    const b = decisionsAgainstExact(problems, split);
    expect(a.falseDrops).toBe(0);
    expect(b.falseDrops).toBe(0);
    expect(b.misses).toBeLessThanOrEqual(a.misses);
  });

  it('on problems with the vocabulary of real ones, checks fewer LSH candidates than the default index', () => {
    const sample = new RealisticProblemGenerator({ seed: 5 });
    const frequent = frequentWords(
      Array.from({ length: 4000 }, () => sample.next().text),
      4,
    );
    const plain = new NearDuplicateIndex();
    const split = new NearDuplicateIndex({ frequentWords: frequent });
    const problems = new RealisticProblemGenerator({ seed: 6 });
    for (let i = 0; i < 8000; i++) {
      const p = problems.next();
      plain.checkAndAdd(p.id, p.text);
      split.checkAndAdd(p.id, p.text);
    }
    const candidatesPerCheck = (i: NearDuplicateIndex) => i.stats().candidatesChecked / i.stats().checks;
    expect(candidatesPerCheck(split)).toBeLessThan(0.8 * candidatesPerCheck(plain));
    // the same problems come out as near duplicates, up to the LSH misses of either
    const near = (i: NearDuplicateIndex) => i.stats().nearDuplicates;
    expect(Math.abs(near(split) - near(plain))).toBeLessThan(0.03 * near(plain));
  });

  it('finds a duplicate whose shared words are all frequent, and one whose shared words are all other words', () => {
    const frequent = ['Lemma', 'circumcircle', 'triangle', 'tangent'];
    const index = new NearDuplicateIndex({ frequentWords: frequent });
    expect(index.frequentWords).toEqual(['circumcircle', 'lemma', 'tangent', 'triangle']);
    index.add('a', 'lemma circumcircle triangle tangent alpha1 beta1');
    index.add('b', 'parabola hyperbola ellipse directrix focus1 focus2');
    // shares only frequent words: J = 4/8
    expect(index.check('lemma circumcircle triangle tangent gamma2 delta2')).toEqual({
      duplicate: true,
      of: 'a',
      jaccard: 0.5,
      exact: false,
    });
    // shares only other words: J = 5/7
    expect(index.check('parabola hyperbola ellipse directrix focus1 lemma')).toEqual({
      duplicate: true,
      of: 'b',
      jaccard: 5 / 7,
      exact: false,
    });
    // the word sets compared are whole: frequent words count in the Jaccard (J = 2/10 is not above 0.2)
    expect(index.check('lemma circumcircle omega3 sigma3 kappa3 theta3')).toEqual({ duplicate: false });
  });

  it('a frequent-word bucket keeps its first documents only', () => {
    const index = new NearDuplicateIndex({
      frequentWords: ['lemma', 'circumcircle', 'triangle', 'tangent'],
      frequentBucketLimit: 2,
    });
    // the same frequent words: the same frequent-word band keys
    for (let i = 0; i < 5; i++) index.add(`d${i}`, `lemma circumcircle triangle tangent rare${i}x rare${i}y`);
    expect(index.stats().frequentKeysDropped).toBe(3 * index.bands);
    // d0 and d1 are in the buckets (J = 0.5 with each document; the earliest wins)
    expect(index.check('lemma circumcircle triangle tangent other1 other2')).toMatchObject({
      duplicate: true,
      of: 'd0',
    });
    // a document whose bucket was full is still found through its other words
    expect(index.check('lemma rare4x rare4y')).toMatchObject({ duplicate: true, of: 'd4' });
    expect(() => new NearDuplicateIndex({ frequentBucketLimit: 0 })).toThrow(/frequentBucketLimit/);
  });

  it('keeps its frequent words in its file: reopened without them it decides as one run; others are refused', () => {
    const problems = FIXTURE;
    const options = { frequentWords: FREQUENT, frequentBucketLimit: 4 };
    const file = path.join(tmp.dir, 'frequent.pclsh');
    const half = problems.length / 2;
    const first = NearDuplicateIndex.open(file, options);
    const r1 = runIndex(first, problems.slice(0, half));
    first.close();
    const second = NearDuplicateIndex.open(file); // no options: the stored ones
    expect(second.frequentWords).toEqual([...FREQUENT].sort());
    expect(second.frequentBucketLimit).toBe(4);
    const r2 = runIndex(second, problems.slice(half));
    const stats = second.stats();
    second.close();
    const oneRun = new NearDuplicateIndex(options);
    const all = runIndex(oneRun, problems);
    for (const p of problems) expect(r1.get(p.id) ?? r2.get(p.id)).toEqual(all.get(p.id));
    expect(stats.frequentKeysDropped).toBe(oneRun.stats().frequentKeysDropped);
    expect(stats.frequentKeysDropped).toBeGreaterThan(0);

    expect(() => NearDuplicateIndex.open(file, { frequentWords: ['other'] })).toThrow(/frequentWords/);
    expect(() => NearDuplicateIndex.open(file, { frequentWords: [] })).toThrow(/frequentWords/);
    expect(() => NearDuplicateIndex.open(file, { ...options, frequentBucketLimit: 8 })).toThrow(/frequentBucketLimit/);
    NearDuplicateIndex.open(file, options).close(); // the same ones, named again

    // a default index keeps the format-1 header it always had, and refuses frequent words
    const plain = path.join(tmp.dir, 'plain.pclsh');
    NearDuplicateIndex.open(plain).close();
    const bytes = readFileSync(plain);
    const header = JSON.parse(bytes.toString('utf8', 12, 12 + bytes.readUInt32LE(8))) as Record<string, unknown>;
    expect(header.format).toBe(1);
    expect(Object.keys(header).filter((k) => k.startsWith('frequent'))).toEqual([]);
    expect(() => NearDuplicateIndex.open(plain, options)).toThrow(/format|frequentWords/);
  });
});

describe('NearDuplicateIndex with document-frequency stop words', () => {
  const tmp = tempDir('dedup-df-stop');
  afterAll(() => tmp.remove());

  it('keeps its extra stop words in its file, so that a reopened index decides by the same word sets', () => {
    const extra = frequentWords(
      FIXTURE.map((p) => p.text),
      40,
    );
    const file = path.join(tmp.dir, 'df.pclsh');
    const half = FIXTURE.length / 2;
    const first = NearDuplicateIndex.open(file, { extraStopWords: new Set(extra) }); // read once
    const r1 = runIndex(first, FIXTURE.slice(0, half));
    first.close();
    const second = NearDuplicateIndex.open(file); // the stored list
    expect(second.extraStopWords).toEqual([...extra].sort());
    const r2 = runIndex(second, FIXTURE.slice(half));
    second.close();
    const all = runIndex(new NearDuplicateIndex({ extraStopWords: extra }), FIXTURE);
    for (const p of FIXTURE) expect(r1.get(p.id) ?? r2.get(p.id)).toEqual(all.get(p.id));
    // frequent words are out of the word sets: fewer near duplicates than the fixed stop list alone finds
    const plain = runIndex(new NearDuplicateIndex(), FIXTURE);
    const near = (m: Map<string, DedupResult>) => [...m.values()].filter((r) => r.duplicate && !r.exact).length;
    expect(near(all)).toBeLessThan(near(plain));
    expect(() => NearDuplicateIndex.open(file, { extraStopWords: ['lemma'] })).toThrow(/stopWords/);
  });
});

describe('realistic problems (lib/bench/realistic-problems)', () => {
  it('takes the statement out of a benchmark prompt', () => {
    const prompt =
      '<|im_start|>user\nFind the number of primes below $100$.\nPlease reason step by step, and put your final answer within \\boxed{}.<|im_end|>\n<|im_start|>assistant\n<think>\n';
    expect(statementOfPrompt(prompt)).toBe('Find the number of primes below $100$.');
  });

  it('is deterministic, and a sample of the benchmarks size has their word-set statistics', () => {
    const a = new RealisticProblemGenerator({ seed: 3 });
    const b = new RealisticProblemGenerator({ seed: 3 });
    const texts = Array.from({ length: 200 }, () => a.next());
    expect(Array.from({ length: 200 }, () => b.next())).toEqual(texts);
    expect(new Set(texts.map((p) => p.domain))).toEqual(new Set(['math', 'code']));
    expect(texts.filter((p) => p.kind === 'near').length).toBeGreaterThan(0);
    // stock phrasing of real statements
    expect(texts.some((p) => /The first line|Find the|Let /.test(p.text))).toBe(true);
    for (const domain of ['math', 'code'] as const) {
      const { real, generated } = RealisticProblemGenerator.calibration(domain, { seed: 1 });
      expect(generated.problems).toBe(real.problems);
      expect(generated.keptWordsPerProblem / real.keptWordsPerProblem).toBeGreaterThan(0.75);
      expect(generated.keptWordsPerProblem / real.keptWordsPerProblem).toBeLessThan(1.33);
      expect(generated.pairJaccard.mean / real.pairJaccard.mean).toBeGreaterThan(0.5);
      expect(generated.pairJaccard.mean / real.pairJaccard.mean).toBeLessThan(2);
    }
  });
});

// Fixed outputs of the hash functions (see 'the same in every process').
const GOLDEN = { triangle: 2404896756, signature: [358606031, 1442608913, 877719147, 599582826] };
