// synthesizeCorpus on a real Temporal server: scripted p_θ completions from the fake server for the parsing and
// dedup assertions, a refresh run that dedups against the first, cancel + restart without any repeated request,
// and the real-inference path on the local node-llama-cpp server.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { DatasetStore } from '../../activities/datasets/store';
import type { Config } from '../../domain/platform/config';
import { formatGeneration, type SynthesisProgress, type SynthesisResult } from '../../domain/synthesize-corpus';
import { startFakeOpenAIServer, type FakeOpenAIServer } from '../../lib/fake-openai-server';
import { readRunView, renderRunView } from '../../lib/progress-view';
import { generateTinyModel } from '../../lib/tiny-model';
import { testConfig } from '../support/config';
import { runTestWorkers } from '../support/workers';
import { writeJsonl } from '../support/files';
import { startLocalModelProcess } from '../support/local-model';
import { bundleWorkflows } from '../support/temporal';
import { useTemporalAndFake } from '../support/temporal-and-fake';

/** A made-up word per number, at least 4 letters, so that distinct problems share no words. */
function word(n: number): string {
  const letters = 'bcdfghjklmnpqrstvwxz';
  let w = '';
  let x = n + 1;
  while (x > 0 || w.length < 5) {
    w += letters[x % letters.length]! + 'aeiou'[x % 5]!;
    x = Math.floor(x / letters.length);
  }
  return w;
}

function sentence(seed: number, length = 24): string {
  return Array.from({ length }, (_, i) => word(seed * 97 + i * 13)).join(' ');
}

/** p_θ's scripted behaviour per concept record (found in the prompt) and seed. */
function scriptedCompletion(body: Record<string, unknown>): string {
  const prompt = String(body.prompt);
  const seed = Number(body.seed);
  const record = /Concept set (\d+)/.exec(prompt)?.[1];
  const n = Number(record);
  if (n === 0) return 'I could not come up with anything in the right format.'; // unparseable, every pass
  if (n === 1) return formatGeneration('same idea', `Compute ${sentence(1)}.`); // the same problem every pass
  if (n === 2) return formatGeneration('tweak', `Compute ${sentence(2)} with ${word(5000 + seed)}.`); // near duplicates
  if (n === 3 || n === 4) return formatGeneration('shared', `Evaluate ${sentence(34)}.`); // 3 and 4 collide
  if (n === 5) return formatGeneration('proof', `Prove that ${sentence(500 + seed)} holds.`); // dropped by the math filter
  return formatGeneration(`rationale ${n}`, `Find ${sentence(1000 + n * 100 + seed)}.`); // distinct
}

const PASSES = 3;
const RECORDS = 10;

describe('synthesizeCorpus', () => {
  const ctx = useTemporalAndFake('synthesis', {
    latencyMs: 2,
    respond: scriptedCompletion,
    key: (b) => `${String(b.prompt)}|${String(b.seed)}`,
  });
  const { tmp } = ctx;
  let env: TestWorkflowEnvironment;
  let bundle: WorkflowBundleWithSourceMap;
  let fake: FakeOpenAIServer;
  let config: Config;
  let store: DatasetStore;
  let conceptFile: string;

  beforeAll(async () => {
    ({ env, fake } = ctx);
    bundle = await bundleWorkflows();
    config = testConfig({
      address: env.address,
      storageRoot: path.join(tmp.dir, 'store'),
      baseUrl: fake.url,
      maxConcurrency: 16,
    });
    store = new DatasetStore(config.storage.root);
    ctx.workers = await runTestWorkers(env.nativeConnection, config, bundle, ['orchestration', 'inference', 'cpu']);
    conceptFile = writeJsonl(path.join(tmp.dir, 'concepts.jsonl'), [
      ...Array.from({ length: RECORDS }, (_, i) => ({
        id: `cs${i}`,
        foundational_concepts: [`Concept set ${i}`, 'Counting'],
        level: 'AIME',
      })),
      { id: 'broken', foundational_concepts: [] },
    ]);
  });

  async function rowsOf(ref: SynthesisResult['corpus']): Promise<Array<Record<string, any>>> {
    const rows: Array<Record<string, any>> = [];
    for await (const row of store.readAll(ref)) rows.push(row as Record<string, any>);
    return rows;
  }

  it('generates, parses, filters, deduplicates and formats a corpus, with provenance and per-pass progress', async () => {
    fake.reset();
    const handle = await env.client.workflow.start('synthesizeCorpus', {
      taskQueue: config.taskQueues.orchestration,
      workflowId: `synth-${Date.now()}`,
      args: [
        {
          name: 'corpus-a',
          runKey: 'first',
          conceptFiles: [conceptFile],
          domain: 'math',
          passes: PASSES,
          mathFilters: true,
          shardSize: 4,
        },
      ],
    });
    const result = (await handle.result()) as SynthesisResult;
    // 10 records x 3 passes; cs0 never parses; cs5 is a proof (math filter).
    expect(result.concepts).toMatchObject({ imported: RECORDS, rejected: 1 });
    expect(result.totals.generated).toBe(RECORDS * PASSES);
    expect(result.totals.rejected).toBe(2 * PASSES);
    expect(result.totals.parsed).toBe((RECORDS - 2) * PASSES);
    // Duplicates: cs1 and cs3 in passes 1 and 2 repeat their pass-0 problems (exact), cs4 repeats cs3 in every pass
    // (exact), cs2 in passes 1 and 2 differs from its pass-0 problem by one word (near).
    expect(result.totals.exactDuplicates).toBe(2 + 2 + PASSES);
    expect(result.totals.nearDuplicates).toBe(2);
    expect(result.totals.kept).toBe((RECORDS - 2) * PASSES - 9);
    expect(result.passes.map((p) => p.seed)).toEqual([8000, 8001, 8002]);
    expect(fake.requests).toBe(RECORDS * PASSES);

    const rows = await rowsOf(result.corpus);
    expect(rows).toHaveLength(result.totals.kept);
    const first = rows.find((r) => r.id === 'cs6@0')!;
    expect(first).toMatchObject({
      conceptSetId: 'cs6',
      pass: 0,
      seed: 8000,
      domain: 'math',
      level: 'AIME',
      rationale: 'rationale 6',
      concepts: ['Concept set 6', 'Counting'],
    });
    expect(first.prompt).toBe(
      `${first.problem}\nPlease reason step by step, and put your final answer within \\boxed{}.`,
    );
    expect(rows.filter((r) => r.conceptSetId === 'cs1').map((r) => r.pass)).toEqual([0]);

    const rejects = result.rejects.flatMap((f) =>
      readFileSync(store.resolve(f), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    );
    expect(rejects.find((r) => r.source.sourceId === 'cs1@1').reason).toBe('exact duplicate of first/cs1@0');
    expect(rejects.find((r) => r.source.sourceId === 'cs2@2').reason).toMatch(
      /^near duplicate of first\/cs2@0 \(Jaccard 0\.\d+\)$/,
    );
    expect(rejects.find((r) => r.source.sourceId === 'cs4@0').reason).toBe('exact duplicate of first/cs3@0');

    const view = renderRunView(await readRunView(env.client, handle.workflowId));
    expect(view).toContain('passes 3/3 done: generated 30 parsed 24 duplicates 9 kept 15');
    const progress = await handle.query<SynthesisProgress>('progress');
    expect(progress.phase).toBe('done');
    expect(progress.passes[1]).toMatchObject({
      pass: 1,
      status: 'done',
      generated: RECORDS,
      parsed: RECORDS - 2,
      rejected: 2,
      duplicates: 4,
      kept: RECORDS - 6,
    });
  });

  it('a refresh run deduplicates against everything the corpus generated before', async () => {
    fake.reset();
    const result = (await env.client.workflow.execute('synthesizeCorpus', {
      taskQueue: config.taskQueues.orchestration,
      workflowId: `synth-refresh-${Date.now()}`,
      args: [
        {
          name: 'corpus-a',
          runKey: 'second',
          conceptFiles: [conceptFile],
          domain: 'math',
          passes: 1,
          seeds: 'run',
          mathFilters: true,
        },
      ],
    })) as SynthesisResult;
    expect(result.passes[0]!.seed).not.toBe(8000);
    // cs1, cs3 and cs4 produce problems the first run kept (exact duplicates); cs2's new word keeps it near its first.
    const rejects = result.rejects.flatMap((f) =>
      readFileSync(store.resolve(f), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    );
    expect(rejects.find((r) => r.source.sourceId === 'cs1@0').reason).toBe('exact duplicate of first/cs1@0');
    expect(rejects.find((r) => r.source.sourceId === 'cs3@0').reason).toBe('exact duplicate of first/cs3@0');
    expect(result.totals.exactDuplicates).toBe(3);
    expect(result.totals.nearDuplicates).toBe(1);
    expect(result.totals.kept).toBe(RECORDS - 2 - 4);
  });

  it('cancelled halfway and restarted with the same runKey, it never asks for a generation twice', async () => {
    fake.reset();
    const records = 400;
    const file = writeJsonl(
      path.join(tmp.dir, 'many.jsonl'),
      Array.from({ length: records }, (_, i) => ({ id: `m${i}`, prompt: `Concept set ${10 + i}: write a problem.` })),
    );
    const slow = await startFakeOpenAIServer({
      latencyMs: 50,
      respond: scriptedCompletion,
      key: (b) => `${String(b.prompt)}|${String(b.seed)}`,
    });
    const cfg = testConfig({
      address: env.address,
      storageRoot: config.storage.root,
      baseUrl: slow.url,
      maxConcurrency: 4,
    });
    const resumeWorkers = await runTestWorkers(env.nativeConnection, cfg, bundle, [
      'orchestration',
      'inference',
      'cpu',
    ]);
    try {
      const args = [
        {
          name: 'corpus-resume',
          runKey: 'r1',
          conceptFiles: [file],
          domain: 'code',
          passes: 2,
          shardSize: 100,
          heartbeatTimeoutSeconds: 1,
          maxConcurrentPasses: 1,
        },
      ];
      const first = await env.client.workflow.start('synthesizeCorpus', {
        taskQueue: cfg.taskQueues.orchestration,
        workflowId: `resume-a-${Date.now()}`,
        args,
      });
      const deadline = Date.now() + 60_000;
      while (slow.requests < records * 0.3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await first.cancel();
      await expect(first.result()).rejects.toThrow();
      const beforeRestart = slow.requests;
      expect(beforeRestart).toBeLessThan(records); // cancelled in the middle of the first pass

      const second = await env.client.workflow.execute('synthesizeCorpus', {
        taskQueue: cfg.taskQueues.orchestration,
        workflowId: `resume-b-${Date.now()}`,
        args,
      });
      const result = second as SynthesisResult;
      expect(result.totals.generated).toBe(records * 2);
      expect(slow.requests).toBe(records * 2);
      const counts = [...slow.countsByKey().values()];
      expect(counts.length).toBe(records * 2);
      expect(counts.every((c) => c === 1)).toBe(true);
      const rows = await rowsOf(result.corpus);
      expect(rows[0]!.prompt.startsWith('You will be given a question (problem specification)')).toBe(true);
    } finally {
      await resumeWorkers.stop();
      await slow.close();
    }
  });

  it('runs on real inference against the local model server (gibberish is set aside, the run completes)', async () => {
    const model = generateTinyModel({ outPath: path.join(tmp.dir, 'tiny.gguf') });
    const local = await startLocalModelProcess(model.path, { name: 'tiny', parallel: 2 });
    const cfg = testConfig({
      address: env.address,
      storageRoot: config.storage.root,
      baseUrl: local.url,
      model: 'tiny',
      maxConcurrency: 2,
    });
    const localWorkers = await runTestWorkers(env.nativeConnection, cfg, bundle, ['orchestration', 'inference', 'cpu']);
    try {
      const result = (await env.client.workflow.execute('synthesizeCorpus', {
        taskQueue: cfg.taskQueues.orchestration,
        workflowId: `synth-real-${Date.now()}`,
        args: [
          { name: 'corpus-real', conceptFiles: [conceptFile], domain: 'code', passes: 2, sampling: { maxTokens: 48 } },
        ],
      })) as SynthesisResult;
      expect(result.totals.generated).toBe(RECORDS * 2);
      expect(result.totals.rejected + result.totals.parsed).toBe(RECORDS * 2);
      const rejects = readFileSync(
        store.resolve(`datasets/corpus-real/${result.runKey}/generated/pass-000/rejects-00000.jsonl`),
        'utf8',
      )
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(rejects[0].reason).toMatch(/^unparseable generation/);
      expect(typeof rejects[0].detail.completion).toBe('string');
      expect(rejects[0].detail).toMatchObject({ pass: 0, seed: 8000, model: 'tiny' });
    } finally {
      await localWorkers.stop();
      await local.stop();
    }
  });
});
