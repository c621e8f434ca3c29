// coldStart on a real Temporal server with scripted instruct-model answers: seed problems → concept records →
// seed triples (c, z, x) in p_θ's training format; bad answers and bad records are set aside with reasons.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DatasetStore } from '../../activities/datasets/store';
import { ConceptRecordSchema, parseGeneration } from '../../domain/synthesize-corpus';
import { testConfig } from '../support/config';
import { runTestWorkers } from '../support/workers';
import { writeJsonl } from '../support/files';
import { bundleWorkflows } from '../support/temporal';
import { useTemporalAndFake } from '../support/temporal-and-fake';

function answer(body: Record<string, unknown>): string {
  const messages = body.messages as Array<{ content: string }>;
  const ask = messages[messages.length - 1]!.content;
  if (ask.includes('identify 3 foundational concepts')) {
    if (ask.includes('NOLIST')) return 'These are hard to pin down.';
    const topic = /Topic (\w+)/.exec(ask)?.[1] ?? 'x';
    return `Step by step...\n\`\`\`python\n["${topic} arithmetic", "${topic} counting", "Parity"]\n\`\`\``;
  }
  if (ask.includes('reverse-engineer a clear thinking process')) {
    if (ask.includes('NORATIONALE')) return 'I would rather not.';
    return `Let me see.\nThinking Process: Start from ${/1\. (.+)/.exec(ask)?.[1]}, then raise the difficulty to ${/Difficulty Level: (.+)/.exec(ask)?.[1]}.`;
  }
  return 'unexpected request';
}

describe('coldStart', () => {
  const ctx = useTemporalAndFake('cold-start', answer);

  it('extracts concepts and annotates rationales of seed problems', async () => {
    const config = testConfig({
      address: ctx.env.address,
      storageRoot: path.join(ctx.tmp.dir, 'store'),
      baseUrl: ctx.fake.url,
    });
    ctx.workers = await runTestWorkers(ctx.env.nativeConnection, config, await bundleWorkflows(), [
      'orchestration',
      'inference',
    ]);
    const file = writeJsonl(path.join(ctx.tmp.dir, 'seed.jsonl'), [
      { id: 'a', problem: 'Topic Alpha: how many subsets...?' },
      { id: 'b', problem: 'Topic Beta: find the remainder...', level: 'HMMT-Feb' },
      { id: 'c', problem: 'NOLIST problem' },
      { id: 'd', problem: 'Topic Delta NORATIONALE' },
      { id: 'e', text: 'no problem field' },
    ]);
    const result = await ctx.env.client.workflow.execute('coldStart', {
      taskQueue: config.taskQueues.orchestration,
      workflowId: `cold-${Date.now()}`,
      args: [{ name: 'seeds', problemFiles: [file], concepts: { numConcepts: 3, level: 'AIME' } }],
    });
    expect(result.concepts.counts).toEqual({ items: 5, kept: 3, rows: 3, rejected: 2, failed: 0 });
    expect(result.triples.counts).toEqual({ items: 3, kept: 2, rows: 2, rejected: 1, failed: 0 });

    const store = new DatasetStore(config.storage.root);
    const concepts: Array<Record<string, any>> = [];
    for await (const r of store.readAll(result.concepts.output)) concepts.push(r as Record<string, any>);
    expect(concepts.map((c) => [c.id, c.foundational_concepts, c.level])).toEqual([
      ['a', ['Alpha arithmetic', 'Alpha counting', 'Parity'], 'AIME'],
      ['b', ['Beta arithmetic', 'Beta counting', 'Parity'], 'HMMT-Feb'],
      ['d', ['Delta arithmetic', 'Delta counting', 'Parity'], 'AIME'],
    ]);
    // The concept records are valid input for synthesizeCorpus.
    expect(concepts.every((c) => ConceptRecordSchema.safeParse(c).success)).toBe(true);

    const triples: Array<Record<string, any>> = [];
    for await (const r of store.readAll(result.triples.output)) triples.push(r as Record<string, any>);
    expect(triples[1]).toMatchObject({
      id: 'b',
      level: 'HMMT-Feb',
      rationale: 'Start from Beta arithmetic, then raise the difficulty to HMMT-Feb.',
    });
    expect(parseGeneration(triples[1]!.target)).toEqual({
      ok: true,
      rationale: triples[1]!.rationale,
      problem: 'Topic Beta: find the remainder...',
    });

    const reasons = [...result.concepts.rejects, ...result.triples.rejects].flatMap((f: string) =>
      readFileSync(store.resolve(f), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).reason),
    );
    expect(reasons).toEqual([
      'no list of concepts in the answer',
      'field problem: Invalid input: expected string, received undefined',
      "no text after 'Thinking Process:' in the answer",
    ]);
  });
});
