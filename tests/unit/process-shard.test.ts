import { readFileSync } from 'node:fs';
import path from 'node:path';
import { importJsonl } from '../../activities/datasets/import';
import { DatasetStore } from '../../activities/datasets/store';
import { RetryLaterError, type ItemOperation } from '../../activities/stage/operation';
import { processShard, type ProcessShardEnv } from '../../activities/stage/process-shard';
import { ShardWork } from '../../activities/stage/shard-work';
import { tempDir, writeJsonl } from '../support/files';
import { STORE_BACKENDS, useStoreBackend } from '../support/stores';

function envFor(
  store: DatasetStore,
  op: ItemOperation<unknown>,
  attempt: number,
  signal = new AbortController().signal,
): ProcessShardEnv {
  return { store, operations: () => op, attempt, signal, heartbeat: () => undefined };
}

/** Reads a stored file as another host would: fetched from the object store when there is one. */
async function readStored(store: DatasetStore, file: string): Promise<string> {
  expect(await store.fetch(file)).toBe(true);
  return readFileSync(file, 'utf8');
}

// Every test runs against both backends; with the object store, attempts run on different "hosts" (stores with the
// same object store and local folders of their own), so only what went through the object store is shared.
describe.each(STORE_BACKENDS)('processShard (%s store)', (kind) => {
  const backend = useStoreBackend(kind);
  const tmp = tempDir('shard');
  afterAll(() => tmp.remove());

  it('resumes after a failed attempt without redoing or losing items, and writes rows in input order', async () => {
    const store = backend.open(path.join(tmp.dir, 'store'));
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
    const host2 = backend.elsewhere(store);
    const result = await processShard(envFor(host2, op, 2), input);

    expect(result.counts).toEqual({ items: 301, kept: 299, rows: 598, rejected: 1, failed: 1 });
    expect(result.resumed).toBeGreaterThanOrEqual(110);
    // Only the items in flight when attempt 1 stopped (at most the concurrency) ran twice.
    const twice = [...calls.values()].filter((n) => n > 1).length;
    expect(twice).toBeLessThanOrEqual(8);
    expect(calls.size).toBe(301);

    const reader = backend.elsewhere(store);
    const out = (await readStored(reader, path.join(reader.datasetDir('out'), 'shard-00000.jsonl')))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const expectedIds = Array.from({ length: 300 }, (_, i) => `q${i}`)
      .filter((id) => id !== 'q7')
      .flatMap((id) => [id, `${id}b`]);
    expect(out.map((r) => r.id)).toEqual(expectedIds);
    const rejects = (await readStored(reader, path.join(reader.datasetDir('out'), 'rejects-00000.jsonl')))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rejects.map((r) => [r.kind, r.source.sourceId])).toEqual([
      ['failed', 'q7'],
      ['rejected', 'reject-me'],
    ]);
    expect(rejects[0].reason).toBe('Error: boom');

    // A third call finds the shard done and returns the same result, marked reused, without running anything.
    calls.clear();
    expect(await processShard(envFor(backend.elsewhere(store), op, 3), input)).toEqual({ ...result, reused: true });
    expect(calls.size).toBe(0);
    // Attempt files stay until the stage is finalized (a zombie attempt may still read them).
    const host4 = backend.elsewhere(store);
    expect((await new ShardWork(host4.datasetDir('out'), 0, host4).attemptFiles()).length).toBe(2);
  });

  it('ignores a torn last line left by a killed process', async () => {
    const writer = backend.open(path.join(tmp.dir, 'store2'));
    const file = writeJsonl(
      path.join(tmp.dir, 'in2.jsonl'),
      Array.from({ length: 20 }, (_, i) => ({ id: i })),
    );
    const { dataset } = await importJsonl(writer, { files: [file], name: 'in', shardSize: 100 });
    const work = new ShardWork(writer.datasetDir('out'), 0);
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(work.workDir, { recursive: true });
    const torn = work.attemptPath(1);
    writeFileSync(
      torn,
      `${JSON.stringify({ line: 1, outcome: 'kept', rows: [{ id: 0, old: true }] })}\n{"line":2,"outcome":"ke`,
    );
    await writer.commit(torn); // as a checkpoint upload of the killed process left it
    const store = backend.elsewhere(writer);
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
    const out = (await readStored(store, new ShardWork(store.datasetDir('out'), 0).outputPath))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(out[0]).toEqual({ id: 0, old: true });
    expect(out.map((r) => String(r.id))).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
  });
});

describe.each(STORE_BACKENDS)('processShard cancellation (%s store)', (kind) => {
  const backend = useStoreBackend(kind);
  const tmp = tempDir('shard-cancel');
  afterAll(() => tmp.remove());

  it('lets items in flight finish and be recorded, so a restart asks for nothing twice', async () => {
    const store = backend.open(path.join(tmp.dir, 'store'));
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
    const result = await processShard(envFor(backend.elsewhere(store), op, 1), input);
    expect(result.counts.kept).toBe(100);
    expect(result.resumed).toBe(requestedBeforeRestart);
    expect([...calls.values()].every((n) => n === 1)).toBe(true);
  });
});

describe('processShard attempt checkpoints (s3 store)', () => {
  const backend = useStoreBackend('s3');
  const tmp = tempDir('shard-checkpoint');
  afterAll(() => tmp.remove());

  it('uploads the attempt file while the shard runs, so a host that dies leaves its finished items behind', async () => {
    const store = backend.open(path.join(tmp.dir, 'store'), { checkpointMs: 100 });
    const file = writeJsonl(
      path.join(tmp.dir, 'in.jsonl'),
      Array.from({ length: 60 }, (_, i) => ({ id: `k${i}` })),
    );
    const { dataset } = await importJsonl(store, { files: [file], name: 'in', shardSize: 1000 });
    const calls = new Map<string, number>();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const op: ItemOperation<unknown> = {
      parseParams: () => ({}),
      async run(item) {
        calls.set(String(item.id), (calls.get(String(item.id)) ?? 0) + 1);
        if (calls.size > 40) await gate; // the first 40 finish, the rest hang as on a host about to die
        return { rows: [item] };
      },
    };
    const input = { stage: 's', operation: 't', input: dataset, shard: 0, output: 'out', itemConcurrency: 4 };
    const running = processShard(envFor(store, op, 1), input);
    // another host sees what the running attempt uploaded, without the attempt ever finishing
    const other = backend.elsewhere(store);
    const seen = async () => (await new ShardWork(other.datasetDir('out'), 0, other).finished()).size;
    const deadline = Date.now() + 10_000;
    while ((await seen()) < 40 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await seen()).toBe(40);
    // uploaded as segments of what each checkpoint added, each byte once
    const stored = await other.listStored(path.join(other.datasetDir('out'), '.work'));
    expect(stored.length).toBeGreaterThan(0);
    for (const o of stored) expect(o.key).toMatch(/\.attempt-1\.[0-9a-f]+\.jsonl\/\d{15}$/);
    const starts = stored.map((o) => Number(o.key.slice(-15))).sort((x, y) => x - y);
    const ends = new Set(stored.map((o) => Number(o.key.slice(-15)) + o.size));
    expect(starts[0]).toBe(0);
    for (const start of starts.slice(1)) expect(ends.has(start)).toBe(true);
    // the next attempt, on the other host, redoes only what was not uploaded, while the first still hangs
    const redone: string[] = [];
    const op2: ItemOperation<unknown> = {
      parseParams: () => ({}),
      run: async (item) => (redone.push(String(item.id)), { rows: [item] }),
    };
    const result = await processShard(envFor(other, op2, 2), input);
    expect(result.counts.kept).toBe(60);
    expect(result.resumed).toBe(40);
    expect(redone.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `k${i + 40}`).sort());
    // the first host, released, finds the shard finished and returns the same result
    release();
    expect(await running).toEqual(result);
    const out = (await readStored(other, new ShardWork(other.datasetDir('out'), 0).outputPath)).trim().split('\n');
    expect(out.map((l) => (JSON.parse(l) as { id: string }).id)).toEqual(Array.from({ length: 60 }, (_, i) => `k${i}`));
  });
});
