// Cold start with several annotators (spec §1.4: four instruct models): one per problem by hash of its id, or all
// of them; the annotator that extracted a problem's concepts writes its rationale.
import { InferencePool } from '../../activities/inference/pool';
import { preparedOperation } from '../../activities/registry';
import type { ItemContext } from '../../activities/stage/operation';
import { startFakeOpenAIServer, type FakeOpenAIServer } from '../../lib/fake-openai-server';
import { testConfig } from '../support/config';

let fake: FakeOpenAIServer;
let pool: InferencePool;

beforeAll(async () => {
  fake = await startFakeOpenAIServer({
    respond: (body) => {
      const ask = (body.messages as Array<{ content: string }>).at(-1)!.content;
      const who = String(body.model);
      return ask.includes('foundational concepts being tested')
        ? `\`\`\`python\n["${who} concept", "parity"]\n\`\`\``
        : `Thinking Process: designed by ${who}.`;
    },
  });
  pool = new InferencePool(testConfig({ address: '127.0.0.1:1', storageRoot: '/tmp/unused', baseUrl: fake.url }));
});
afterAll(async () => {
  pool.close();
  await fake.close();
});

const ctx = (id: string): ItemContext => ({
  stage: 'concepts',
  sourceId: id,
  shard: 0,
  line: 1,
  attempt: 1,
  signal: new AbortController().signal,
});
const annotators = [
  { role: 'teacher' as const, model: 'qwen-72b' },
  { role: 'teacher' as const, model: 'phi-4' },
];

describe('cold start annotators', () => {
  it("'all': every annotator annotates every problem, and writes the rationale of its own concepts", async () => {
    const extract = preparedOperation('extractConcepts', { pool: () => pool });
    const params = extract.parseParams({ annotators, annotatorPolicy: 'all', level: 'AIME' });
    const out = await extract.run({ problem: 'Count the subsets.' }, params, ctx('p1'));
    if (!('rows' in out)) throw new Error(out.reject);
    expect(out.rows.map((r) => [r.id, r.foundational_concepts])).toEqual([
      ['p1~0', ['qwen-72b concept', 'parity']],
      ['p1~1', ['phi-4 concept', 'parity']],
    ]);
    const annotate = preparedOperation('annotateRationale', { pool: () => pool });
    const rparams = annotate.parseParams({ level: 'AIME' });
    const rationales = await Promise.all(out.rows.map((r) => annotate.run(r, rparams, ctx(String(r.id)))));
    expect(rationales.map((o) => ('rows' in o ? o.rows[0]!.rationale : o.reject))).toEqual([
      'designed by qwen-72b.',
      'designed by phi-4.',
    ]);
  });

  it("'one': each problem goes to one annotator chosen by its id, the same on every run, all annotators used", async () => {
    const extract = preparedOperation('extractConcepts', { pool: () => pool });
    const params = extract.parseParams({ annotators, level: 'AIME' });
    const pick = async (id: string) => {
      const out = await extract.run({ problem: `Problem ${id}` }, params, ctx(id));
      if (!('rows' in out)) throw new Error(out.reject);
      expect(out.rows).toHaveLength(1);
      expect(out.rows[0]!.id).toBe(id);
      return (out.rows[0]!.annotator as { model: string }).model;
    };
    const ids = Array.from({ length: 12 }, (_, i) => `q${i}`);
    const first = await Promise.all(ids.map(pick));
    expect(await Promise.all(ids.map(pick))).toEqual(first);
    expect(new Set(first)).toEqual(new Set(['qwen-72b', 'phi-4']));
  });
});
