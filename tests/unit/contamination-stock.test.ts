// Issue 12, item 18: the 13-gram contamination rule must not drop clean prompts for stock phrasing ("where m and n
// are relatively prime positive integers. Find m+n", "You are given an array a of n integers. In one operation
// you…", Codeforces input-format sentences), and must still drop benchmark problems that are re-templated or
// paraphrased with long verbatim spans. Both directions against the real benchmark files.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { preparedOperation } from '../../activities/registry';
import type { ItemContext } from '../../activities/stage/operation';
import { formatProblem, promptWrappers } from '../../activities/prompts/problems';
import { contaminationIndex } from '../../activities/self-play/contamination-index';
import { benchmarkFile } from '../../activities/eval/benchmark-files';
import {
  buildContaminationIndex,
  contaminationWords,
  findContamination,
  withStockPhrasing,
  type ContaminationIndex,
} from '../../domain/contamination';
import { mulberry32 } from '../../domain/core/random';
import { problemOfPrompt, withoutChatTurn } from '../../domain/self-play';
import { tempDir } from '../support/files';

const FILES = (['aime24', 'aime25', 'hmmt25', 'codeforces'] as const).map(benchmarkFile);

function benchmarkTexts(): Array<{ where: string; text: string }> {
  return FILES.flatMap((file) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .map((l, i) => ({ l, i }))
      .filter(({ l }) => l.trim() !== '')
      .map(({ l, i }) => ({
        where: `${path.basename(file)}:${i + 1}`,
        text: (JSON.parse(l) as { prompt: string }).prompt,
      })),
  );
}

/** The bare statement of a benchmark prompt (chat turn and template off). */
function statementOf(prompt: string): string {
  const s = problemOfPrompt(withoutChatTurn(prompt.replace(/<think>\s*$/, '')), promptWrappers());
  return s.replace(/^[\s\S]*?Question:\s*/, '');
}

// ---- a corpus of fresh problems in stock phrasing (seeded, so the figures below are stable)

const NOUNS =
  'lantern orchard river beacon falcon meadow quarry harbor citadel glacier canyon prairie lagoon summit tundra delta archipelago vineyard monastery foundry observatory aqueduct windmill lighthouse caravan bazaar fortress pagoda sanctuary workshop greenhouse library carousel gazebo granary kiosk'.split(
    ' ',
  );
const ADJ =
  'crimson silent ancient hollow golden jagged narrow misty frozen velvet amber cobalt scarlet hidden distant gentle rusty dusty lunar solar'.split(
    ' ',
  );
const VERBS = 'paints stacks labels sorts weighs colors folds rotates flips merges splits swaps'.split(' ');
const THINGS = 'tokens marbles tiles coins cards beads pebbles stamps flags keys'.split(' ');

function freshCorpus(count: number, seed: number): string[] {
  const r = mulberry32(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  const num = () => 2 + Math.floor(r() * 97);
  const out: string[] = [];
  for (let k = 0; k < count; k++) {
    const scene = `In the ${pick(ADJ)} ${pick(NOUNS)} near the ${pick(ADJ)} ${pick(NOUNS)}, a keeper ${pick(VERBS)} ${num()} ${pick(THINGS)} and ${num()} ${pick(THINGS)} beside a ${pick(NOUNS)} every ${pick(['morning', 'evening', 'season', 'week'])}.`;
    const detail = `Each ${pick(THINGS).slice(0, -1)} carries a label from $1$ to $${num()}$, and the ${pick(ADJ)} ones are placed next to a ${pick(NOUNS)}.`;
    switch (k % 6) {
      case 0:
        out.push(
          formatProblem(
            'math',
            `${scene} ${detail} The probability that two chosen ${pick(THINGS)} share a label is $\\tfrac{m}{n}$ where $m$ and $n$ are relatively prime positive integers. Find $m+n$.`,
          ),
        );
        break;
      case 1:
        out.push(
          formatProblem(
            'math',
            `${scene} ${detail} The expected number of ${pick(THINGS)} left by the ${pick(NOUNS)} can be written as $\\frac{m}{n}$, where $m$ and $n$ are relatively prime positive integers. Find $m+n$.`,
          ),
        );
        break;
      case 2:
        out.push(
          formatProblem(
            'math',
            `${scene} ${detail} Let $N$ be the number of ways to order the ${pick(THINGS)}. Find the remainder when $N$ is divided by $1000$.`,
          ),
        );
        break;
      case 3:
        out.push(
          formatProblem(
            'code',
            `You are given an array $a$ of $n$ integers. In one operation you can choose an index $i$ and ${pick(['add', 'subtract'])} ${pick(['one', 'two', 'three'])} to $a_i$ if the ${pick(NOUNS)} rule allows it. ${scene} Find the minimum number of operations to make the array ${pick(['sorted', 'balanced', 'palindromic', 'constant'])}.\n\nInput\n\nThe first line contains a single integer $t$ ($1 \\le t \\le 10^4$) — the number of test cases. The first line of each test case contains a single integer $n$ ($1 \\le n \\le 2 \\cdot 10^5$) — the length of the array. The second line of each test case contains $n$ integers $a_1, a_2, \\ldots, a_n$ ($1 \\le a_i \\le 10^9$).\n\nIt is guaranteed that the sum of $n$ over all test cases does not exceed $2 \\cdot 10^5$.\n\nOutput\n\nFor each test case, output a single integer — the minimum number of operations.`,
          ),
        );
        break;
      case 4:
        out.push(
          formatProblem(
            'code',
            `You are given a string $s$ of length $n$ consisting of lowercase Latin letters. In one operation you can ${pick(['delete', 'duplicate', 'reverse'])} a ${pick(['prefix', 'suffix', 'block'])} of $s$. ${scene} Determine whether $s$ can become a ${pick(['palindrome', 'square', 'rotation of itself'])}.\n\nInput\n\nEach test contains multiple test cases. The first line contains the number of test cases $t$ ($1 \\le t \\le 10^4$). The description of the test cases follows.\n\nOutput\n\nFor each test case, output "YES" if it is possible, and "NO" otherwise.\n\nYou can output the answer in any case (upper or lower). For example, the strings "yEs", "yes", "Yes", and "YES" will be recognized as positive responses.`,
          ),
        );
        break;
      default:
        out.push(
          formatProblem(
            'math',
            `${scene} ${detail} Suppose the ratio of the ${pick(THINGS)} to the ${pick(THINGS)} is $\\tfrac{p}{q}$, where $p$ and $q$ are relatively prime positive integers. Find $p+q$.`,
          ),
        );
    }
  }
  return out;
}

// ---- benchmark problems lightly re-templated or paraphrased with long verbatim spans

function paraphrase(statement: string, every: number): string {
  // one word in `every` replaced: runs of every-1 words stay verbatim
  let k = 0;
  return statement.replace(/[A-Za-z]{3,}/g, (w) => (++k % every === 0 ? `${w}ish` : w));
}

function contaminatedPrompts(texts: Array<{ where: string; text: string }>): Array<{ prompt: string; from: string }> {
  const by = (file: string, line: number) => texts.find((t) => t.where === `${file}:${line}`)!;
  const out: Array<{ prompt: string; from: string }> = [];
  for (const [file, line] of [
    ['promptcot2_aime24_test.jsonl', 3],
    ['promptcot2_aime25_test.jsonl', 7],
    ['promptcot2_hmmt25_test.jsonl', 11],
  ] as const) {
    const t = by(file, line);
    const s = statementOf(t.text);
    out.push({
      prompt: formatProblem(
        'math',
        `Solve the following competition problem carefully. ${s} Give the answer as a single number.`,
      ),
      from: t.where,
    });
    out.push({ prompt: formatProblem('math', paraphrase(s, 12)), from: t.where });
  }
  for (const line of [5, 40, 120, 250, 400]) {
    const t = by('promptcot2_codeforces_test.jsonl', line);
    const s = statementOf(t.text);
    out.push({ prompt: formatProblem('code', `Here is a programming task.\n\n${paraphrase(s, 15)}`), from: t.where });
  }
  // one leaked problem three times, lightly edited each time: copies of one problem are not "many problems"
  const leaked = by('promptcot2_aime24_test.jsonl', 12);
  const s = statementOf(leaked.text);
  for (const edit of [
    (x: string) => `Problem. ${x}`,
    (x: string) => `${x} (Answer with an integer.)`,
    (x: string) => paraphrase(x, 9),
  ]) {
    out.push({ prompt: formatProblem('math', edit(s)), from: leaked.where });
  }
  return out;
}

function statementOfPrompt(prompt: string): string {
  return problemOfPrompt(prompt, promptWrappers());
}

function drops(
  prompts: string[],
  index: ContaminationIndex,
): { exact: number; ngram: number; hits: Array<ReturnType<typeof findContamination>> } {
  const hits = prompts.map((p) => findContamination(statementOfPrompt(p), index));
  return {
    exact: hits.filter((h) => h?.rule === 'contamination-exact').length,
    ngram: hits.filter((h) => h?.rule === 'contamination-ngram').length,
    hits,
  };
}

describe('13-gram contamination and stock phrasing, against the real benchmark files', () => {
  const texts = benchmarkTexts();
  const base = buildContaminationIndex(texts, 13);
  const fresh = freshCorpus(300, 12);
  const dirty = contaminatedPrompts(texts);
  const corpus = [...fresh, ...dirty.map((d) => d.prompt)];
  const index = withStockPhrasing(base, corpus.map(statementOfPrompt));

  it('drops clean prompts for stock phrasing without a reference corpus (the bug this guards against)', () => {
    const without = drops(fresh, base);
    expect(without.exact).toBe(0);
    expect(without.ngram).toBeGreaterThan(10);
  });

  it('keeps every fresh prompt once the corpus is the reference of stock phrasing', () => {
    const withStock = drops(fresh, index);
    expect(withStock.hits.filter((h) => h !== null)).toEqual([]);
    expect(index.leftOut.stock).toBeGreaterThan(0);
    expect(index.reference).toEqual({ texts: corpus.length, minPrompts: 3 });
  });

  it('still drops every re-templated or paraphrased benchmark problem, naming it, also one copied three times', () => {
    const r = drops(
      dirty.map((d) => d.prompt),
      index,
    );
    expect(r.exact + r.ngram).toBe(dirty.length);
    // each names its source, or another version of it (Codeforces easy / hard versions share most of their text)
    const words = (where: string) => new Set(contaminationWords(texts.find((t) => t.where === where)!.text));
    r.hits.forEach((h, i) => {
      if (h!.benchmark === dirty[i]!.from) return;
      const [a, b] = [words(h!.benchmark), words(dirty[i]!.from)];
      expect([...a].filter((w) => b.has(w)).length / new Set([...a, ...b]).size).toBeGreaterThan(0.5);
    });
    expect(r.hits.filter((h, i) => h!.benchmark === dirty[i]!.from).length).toBeGreaterThanOrEqual(dirty.length - 1);
  });

  it('still drops a benchmark problem under our template by the exact rule, even when all its n-grams are phrasing', () => {
    for (const t of [texts[0]!, texts[35]!, texts[100]!, texts[400]!]) {
      expect(
        findContamination(
          statementOfPrompt(formatProblem(t.where.includes('codeforces') ? 'code' : 'math', statementOf(t.text))),
          index,
        ),
      ).toEqual({ rule: 'contamination-exact', benchmark: t.where });
    }
    // a text made only of template n-grams is still found whole
    const phrasing = 'the first line contains a single integer t 1 le t le 10 4 the number of test cases';
    const stories = [
      'Alice paints wooden fences along a winding river while herons watch, and she wants every third plank blue, every fifth plank green, and the rest white',
      'Bob stacks heavy crates inside an abandoned barn during autumn storms, placing lighter boxes above heavier ones so that no tower ever topples over',
      'Carol counts distant stars above a quiet hill each night, recording which constellations rise first and how many meteors cross between midnight and dawn',
    ];
    const tiny = buildContaminationIndex(
      stories.map((story, i) => ({ where: `t:${i + 1}`, text: `${story}. ${phrasing}` })),
      13,
    );
    expect(tiny.ngrams.size).toBeLessThan(tiny.all.size);
    expect(findContamination(`${stories[1]}. ${phrasing}`, tiny)).toEqual({
      rule: 'contamination-exact',
      benchmark: 't:2',
    });
    expect(findContamination(`Dave sorts letters. ${phrasing}`, tiny)).toBeNull();
  });

  it('counts copies of one problem once: three copies of a leaked problem do not make its n-grams stock', () => {
    const leaked = statementOf(texts.find((t) => t.where === 'promptcot2_aime24_test.jsonl:12')!.text);
    const copies = withStockPhrasing(base, [
      leaked,
      `Problem. ${leaked}`,
      `${leaked} (Answer with an integer.)`,
      paraphrase(leaked, 9),
    ]);
    expect(copies.leftOut.stock).toBe(0);
    expect(findContamination(paraphrase(leaked, 9), copies)?.rule).toBe('contamination-ngram');
  });

  describe('through prepareSelfPlayPrompt with the corpus file as the reference (how the workflow calls it)', () => {
    const tmp = tempDir('contamination-stock');
    afterAll(() => tmp.remove());
    const ctx = (): ItemContext => ({
      stage: 't',
      sourceId: 'x',
      shard: 0,
      line: 1,
      attempt: 1,
      signal: new AbortController().signal,
    });

    it('drops the contaminated prompts and no fresh one, counted per rule', async () => {
      const file = path.join(tmp.dir, 'corpus.jsonl');
      const records = corpus.map((prompt, i) => ({
        id: `p${i}`,
        source:
          i < fresh.length ? (prompt.includes('```python') ? 'PromptCoT-Code' : 'OpenSource-Math') : 'OpenSource-Math',
        prompt,
      }));
      writeFileSync(file, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
      const count = async (params: unknown) => {
        const op = preparedOperation('prepareSelfPlayPrompt');
        const p = op.parseParams(params);
        const rules: Record<string, number> = {};
        const droppedFresh: string[] = [];
        for (const [i, rec] of records.entries()) {
          const outcome = await op.run(rec, p, ctx());
          if ('reject' in outcome) {
            const rule = (outcome.detail as { rule: string }).rule;
            rules[rule] = (rules[rule] ?? 0) + 1;
            if (i < fresh.length) droppedFresh.push(rec.id);
          }
        }
        return { rules, droppedFresh };
      };
      const before = await count({ contamination: { benchmarkFiles: FILES, corpusAsReference: false } });
      const after = await count({ contamination: { benchmarkFiles: FILES }, corpusFiles: [file] });
      // printed for the README's figures
      console.log(
        JSON.stringify({
          prompts: records.length,
          fresh: fresh.length,
          contaminated: dirty.length,
          before,
          after: after.rules,
        }),
      );
      expect(before.droppedFresh.length).toBeGreaterThan(10);
      expect(after.droppedFresh).toEqual([]);
      expect((after.rules['contamination-exact'] ?? 0) + (after.rules['contamination-ngram'] ?? 0)).toBe(dirty.length);
      // the index with the reference is built once per file set and reused
      const again = await contaminationIndex(FILES, 13, { corpusFiles: [file], referenceFiles: [], minPrompts: 3 });
      expect(again).toBe(
        await contaminationIndex(FILES, 13, { corpusFiles: [file], referenceFiles: [], minPrompts: 3 }),
      );
      // reference files of ordinary problems work the same way
      const ref = path.join(tmp.dir, 'reference.jsonl');
      writeFileSync(ref, fresh.map((p) => JSON.stringify({ problem: statementOfPrompt(p) })).join('\n') + '\n');
      const viaReference = await count({
        contamination: { benchmarkFiles: FILES, corpusAsReference: false, referenceFiles: [ref] },
      });
      expect(viaReference.droppedFresh).toEqual([]);
    });
  });
});
