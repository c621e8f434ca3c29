import { readFileSync } from 'node:fs';
import path from 'node:path';
import { importJsonl } from '../../activities/datasets/import';
import { DatasetStore } from '../../activities/datasets/store';
import { RetryLaterError, type ItemOperation } from '../../activities/stage/operation';
import { processShard, type ProcessShardEnv } from '../../activities/stage/process-shard';
import { ShardWork } from '../../activities/stage/shard-work';
import { tempDir, writeJsonl } from '../support/files';

function envFor(
  store: DatasetStore,
  op: ItemOperation<unknown>,
  attempt: number,
  signal = new AbortController().signal,
): ProcessShardEnv {
  return { store, operations: () => op, attempt, signal, heartbeat: () => undefined };
}

describe('processShard', () => {
  const tmp = tempDir('shard');
  afterAll(() => tmp.remove());

  it('resumes after a failed attempt without redoing or losing items, and writes rows in input order', async () => {
    const store = new DatasetStore(path.join(tmp.dir, 'store'));
    const records: Array<unknown> = Array.from({ length: 300 }, (_, i) => ({ id: `q${i}`, x: i }));
    records.splice(10, 0, '{not json');
    records.splice(20, 0, { id: 'reject-me', x: -1 });
    const file = writeJsonl(path.join(tmp.dir, 'in.jsonl'), records);
    // Import keeps bad lines out of the dataset; put them into the shard directly to see the stage handle them too.
    const imported = await importJsonl(store, { files: [file], name: 'in', shardSize: 1000 });
    expect(imported.imported).toBe(301);
    expect(imported.rejected).toBe(1);
    const rejectLine = JSON.parse(readFileSync(store.resolve(imported.rejects!), 'utf8').trim());
    expect(rejectLine.source).toEqual({ file, line: 11 });
    expect(rejectLine.reason).toMatch(/invalid JSON/);

    const calls = new Map<string, number>();
    let failAfter = 120;
    const op: ItemOperation<unknown> = {
      parseParams: () => ({}),
      async run(item) {
        const id = String(item.id);
        calls.set(id, (calls.get(id) ?? 0) + 1);
        await new Promise((r) => setTimeout(r, 1));
        if (failAfter-- <= 0) throw new RetryLaterError('server went away');
        if (id === 'reject-me') return { reject: 'field x: must be >= 0' };
        if (id === 'q7') throw new Error('boom'); // an item-specific failure: recorded, not retried
        return { rows: [{ id, y: (item.x as number) * 2 }, { id: `${id}b` }] };
      },
    };
    const input = {
      stage: 's',
      operation: 'test',
      input: imported.dataset,
      shard: 0,
      output: 'out',
      itemConcurrency: 8,
    };
    await expect(processShard(envFor(store, op, 1), input)).rejects.toThrow('server went away');
    failAfter = Number.POSITIVE_INFINITY;
    const result = await processShard(envFor(store, op, 2), input);

    expect(result.counts).toEqual({ items: 301, kept: 299, rows: 598, rejected: 1, failed: 1 });
    expect(result.resumed).toBeGreaterThanOrEqual(110);
    // Only the items in flight when attempt 1 stopped (at most the concurrency) ran twice.
    const twice = [...calls.values()].filter((n) => n > 1).length;
    expect(twice).toBeLessThanOrEqual(8);
    expect(calls.size).toBe(301);

    const out = readFileSync(path.join(store.datasetDir('out'), 'shard-00000.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const expectedIds = Array.from({ length: 300 }, (_, i) => `q${i}`)
      .filter((id) => id !== 'q7')
      .flatMap((id) => [id, `${id}b`]);
    expect(out.map((r) => r.id)).toEqual(expectedIds);
    const rejects = readFileSync(path.join(store.datasetDir('out'), 'rejects-00000.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rejects.map((r) => [r.kind, r.source.sourceId])).toEqual([
      ['failed', 'q7'],
      ['rejected', 'reject-me'],
    ]);
    expect(rejects[0].reason).toBe('Error: boom');

    // A third call finds the shard done and returns the same result without running anything.
    calls.clear();
    expect(await processShard(envFor(store, op, 3), input)).toEqual(result);
    expect(calls.size).toBe(0);
    // Attempt files stay until the stage is finalized (a zombie attempt may still read them).
    expect((await new ShardWork(store.datasetDir('out'), 0).attemptFiles()).length).toBe(2);
  });

  it('ignores a torn last line left by a killed process', async () => {
    const store = new DatasetStore(path.join(tmp.dir, 'store2'));
    const file = writeJsonl(
      path.join(tmp.dir, 'in2.jsonl'),
      Array.from({ length: 20 }, (_, i) => ({ id: i })),
    );
    const { dataset } = await importJsonl(store, { files: [file], name: 'in', shardSize: 100 });
    const work = new ShardWork(store.datasetDir('out'), 0);
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(work.workDir, { recursive: true });
    writeFileSync(
      work.attemptPath(1),
      `${JSON.stringify({ line: 1, outcome: 'kept', rows: [{ id: 0, old: true }] })}\n{"line":2,"outcome":"ke`,
    );
    const seen: string[] = [];
    const op: ItemOperation<unknown> = {
      parseParams: () => ({}),
      run: async (item) => (seen.push(String(item.id)), { rows: [item] }),
    };
    const result = await processShard(envFor(store, op, 2), {
      stage: 's',
      operation: 't',
      input: dataset,
      shard: 0,
      output: 'out',
      itemConcurrency: 4,
    });
    expect(result.counts.rows).toBe(20);
    expect(result.resumed).toBe(1);
    expect(seen).not.toContain('0');
    expect(seen).toContain('1');
    const out = readFileSync(work.outputPath, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(out[0]).toEqual({ id: 0, old: true });
    expect(out.map((r) => String(r.id))).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
  });
});

describe('processShard cancellation', () => {
  const tmp = tempDir('shard-cancel');
  afterAll(() => tmp.remove());

  it('lets items in flight finish and be recorded, so a restart asks for nothing twice', async () => {
    const store = new DatasetStore(path.join(tmp.dir, 'store'));
    const file = writeJsonl(
      path.join(tmp.dir, 'in.jsonl'),
      Array.from({ length: 100 }, (_, i) => ({ id: `c${i}` })),
    );
    const { dataset } = await importJsonl(store, { files: [file], name: 'in', shardSize: 1000 });
    const calls = new Map<string, number>();
    const cancel = new AbortController();
    const op: ItemOperation<unknown> = {
      parseParams: () => ({}),
      async run(item, _params, ctx) {
        calls.set(String(item.id), (calls.get(String(item.id)) ?? 0) + 1);
        if (calls.size === 30) cancel.abort(new Error('cancelled by the user'));
        await new Promise((r) => setTimeout(r, 20));
        if (ctx.signal.aborted) throw ctx.signal.reason;
        return { rows: [item] };
      },
    };
    const input = { stage: 's', operation: 't', input: dataset, shard: 0, output: 'out', itemConcurrency: 6 };
    await expect(processShard({ ...envFor(store, op, 1, cancel.signal), cancelGraceMs: 5000 }, input)).rejects.toThrow(
      'cancelled by the user',
    );
    const requestedBeforeRestart = calls.size;
    const result = await processShard(envFor(store, op, 1), input);
    expect(result.counts.kept).toBe(100);
    expect(result.resumed).toBe(requestedBeforeRestart);
    expect([...calls.values()].every((n) => n === 1)).toBe(true);
  });
});
