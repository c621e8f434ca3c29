// The dataset store's guarantees on both backends: a folder, and the object store on a real S3-compatible server
// (gofakes3 on loopback), where every read below is made from another "host" (the same object store, an empty local
// folder), so only what went through the object store counts.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { importJsonl } from '../../activities/datasets/import';
import { once } from '../../activities/datasets/once';
import { writeDataset } from '../../activities/datasets/write';
import { materialiseTrainingData } from '../../activities/training/data';
import { createStageActivities } from '../../activities/stage/activities';
import { processShard } from '../../activities/stage/process-shard';
import { ShardWork } from '../../activities/stage/shard-work';
import type { ItemOperation } from '../../activities/stage/operation';
import type { Config } from '../../domain/platform/config';
import { tempDir, writeJsonl } from '../support/files';
import { STORE_BACKENDS, useStoreBackend } from '../support/stores';

describe.each(STORE_BACKENDS)('dataset store (%s)', (kind) => {
  const backend = useStoreBackend(kind);
  const tmp = tempDir(`store-${kind}`);
  afterAll(() => tmp.remove());

  it('imports with rejects, and a re-import from another host returns the dataset without writing it again', async () => {
    const store = backend.open(path.join(tmp.dir, 'a'));
    const file = writeJsonl(path.join(tmp.dir, 'in.jsonl'), [{ id: 'x' }, '{bad', { id: 'x' }, { v: 1 }]);
    const first = await importJsonl(store, { files: [file], name: 'imp', shardSize: 1 });
    expect(first).toMatchObject({ imported: 2, rejected: 2 });
    const other = backend.elsewhere(store);
    expect(await other.has('imp')).toBe(true);
    const again = await importJsonl(other, { files: [file], name: 'imp', shardSize: 1 });
    expect(again).toEqual(first);
    const rows: unknown[] = [];
    for await (const r of backend.elsewhere(store).readAll('imp')) rows.push(r);
    expect(rows).toEqual([{ id: 'x' }, { v: 1, id: 'in.jsonl:4' }]);
    const reader = backend.elsewhere(store);
    const rejects = reader.resolve(first.rejects!);
    expect(await reader.fetch(rejects)).toBe(true);
    expect(readFileSync(rejects, 'utf8').trim().split('\n')).toHaveLength(2);
    // other sources under the same name are refused, wherever the dataset was written
    writeFileSync(file, '{"id":"y"}\n');
    await expect(importJsonl(backend.elsewhere(store), { files: [file], name: 'imp', shardSize: 1 })).rejects.toThrow(
      /already exists with other sources/,
    );
  });

  it('writes datasets shard by shard with the manifest last, and `once` runs a step once across hosts', async () => {
    const store = backend.open(path.join(tmp.dir, 'b'));
    const rows = Array.from({ length: 25 }, (_, i) => ({ i }));
    let runs = 0;
    const make = (s: typeof store) =>
      once(s, 'w', async () => {
        runs++;
        return writeDataset(s, 'w', rows, { shardSize: 10, producedBy: { test: true } });
      });
    const ref = await make(store);
    expect(ref).toMatchObject({ items: 25, shards: 3 });
    expect(await make(backend.elsewhere(store))).toEqual(ref);
    expect(runs).toBe(1);
    const manifest = await backend.elsewhere(store).readManifest(ref);
    expect(manifest.shards.map((s) => s.items)).toEqual([10, 10, 5]);
    const out: unknown[] = [];
    for await (const r of backend.elsewhere(store).readAll(ref)) out.push(r);
    expect(out).toEqual(rows);
    // a dataset without a manifest is not there, though its shards may be
    expect(await backend.elsewhere(store).has('nothing')).toBe(false);
  });

  it('finalizes a stage once every shard is done, idempotently, from any host, and cleans the attempt files', async () => {
    const store = backend.open(path.join(tmp.dir, 'c'));
    const file = writeJsonl(
      path.join(tmp.dir, 'fin.jsonl'),
      Array.from({ length: 30 }, (_, i) => ({ id: `f${i}`, v: i })),
    );
    const { dataset } = await importJsonl(store, { files: [file], name: 'fin/in', shardSize: 10 });
    const op: ItemOperation<unknown> = {
      parseParams: () => ({}),
      run: async (item) => ((item.v as number) % 7 === 3 ? { reject: 'sevens' } : { rows: [item] }),
    };
    const deps = (s: typeof store) =>
      createStageActivities({ config: {} as Config, store: s, operations: () => op as never });
    const input = { stage: 's', operation: 't', input: dataset, output: 'fin/out' };
    await expect(deps(backend.elsewhere(store)).finalizeStage(input)).rejects.toThrow(/shard 0 is not done/);
    for (let shard = 0; shard < 3; shard++) {
      const host = backend.elsewhere(store); // each shard on a host of its own
      await processShard(
        {
          store: host,
          operations: () => op as never,
          attempt: 1,
          signal: new AbortController().signal,
          heartbeat: () => undefined,
        },
        { ...input, shard, itemConcurrency: 2 },
      );
    }
    const first = await deps(backend.elsewhere(store)).finalizeStage(input);
    expect(first.counts).toEqual({ items: 30, kept: 26, rows: 26, rejected: 4, failed: 0 });
    expect(first.rejects).toHaveLength(3);
    const second = await deps(backend.elsewhere(store)).finalizeStage(input);
    expect(second.counts).toEqual(first.counts);
    expect(second.output).toEqual(first.output);
    const check = backend.elsewhere(store);
    for (let shard = 0; shard < 3; shard++) {
      const work = new ShardWork(check.datasetDir('fin/out'), shard, check);
      expect(await work.attemptFiles()).toEqual([]);
    }
    if (check.objects) {
      const keys = (await check.objects.list('datasets/fin/out/')).map((o) => o.key);
      expect(keys.filter((k) => k.includes('.attempt-'))).toEqual([]);
    }
    const ids: string[] = [];
    for await (const r of check.readAll(first.output)) ids.push((r as { id: string }).id);
    expect(ids).toEqual(
      Array.from({ length: 30 }, (_, i) => i)
        .filter((i) => i % 7 !== 3)
        .map((i) => `f${i}`),
    );
  });

  it("materialises a training dataset written on another host into the trainer's local job folder", async () => {
    const store = backend.open(path.join(tmp.dir, 'd'));
    const rows = [
      { prompt: 'p1', completion: 'c1' },
      { prompt: 'p2' }, // no completion: set aside
      { prompt: 'p3', completion: 'c3' },
    ];
    const data = await writeDataset(store, 'sft-data', rows, { shardSize: 2, producedBy: { test: true } });
    const job = path.join(tmp.dir, 'job-d');
    const trainer = backend.elsewhere(store);
    const result = await materialiseTrainingData({
      store: trainer,
      data,
      kind: 'sft',
      stage: 'train:test',
      dataFile: path.join(job, 'data.jsonl'),
      rejectsFile: path.join(job, 'rejects.jsonl'),
    });
    expect(result).toMatchObject({ rows: 2, rejected: 1 });
    expect(readFileSync(path.join(job, 'data.jsonl'), 'utf8').trim().split('\n')).toHaveLength(2);
  });
});
