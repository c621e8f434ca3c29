// Activities of corpus synthesis: dedup of one generated pass against the corpus's persisted index, and the
// final corpus manifest over all passes.
import { existsSync, promises as fsp, statSync } from 'node:fs';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import {
  rejectsFileName,
  shardFileName,
  type DatasetRef,
  type RejectRecord,
  type ShardInfo,
} from '../../domain/core/dataset';
import type { Domain } from '../../domain/synthesize-corpus';
import { LineAppender, tempPathFor, writeFileAtomic } from '../datasets/jsonl';
import { DatasetStore, readRecords } from '../datasets/store';
import { NearDuplicateIndex } from '../dedup/lsh-index';

export interface DedupPassInput {
  /** Corpus name: owns the persisted index every run of this corpus dedups against. */
  corpus: string;
  /** Index entries are `<runKey>/<row id>`: row ids repeat across runs of a corpus. */
  runKey: string;
  pass: number;
  input: DatasetRef;
  output: string;
  domain: Domain;
  threshold: number;
  minWordLength: number;
}

export interface DedupPassResult {
  output: DatasetRef;
  items: number;
  kept: number;
  exactDuplicates: number;
  nearDuplicates: number;
  rejects?: string;
}

interface GeneratedRow {
  id: string;
  problem: string;
  [key: string]: unknown;
}

export function dedupIndexPath(store: DatasetStore, corpus: string): string {
  return path.join(store.resolve('dedup-indexes'), ...corpus.split('/').slice(0, -1), `${corpus.split('/').pop()}.lsh`);
}

/**
 * With an object store, the corpus's index is kept there too: the passes of a corpus run one at a time, possibly on
 * other hosts, and each uploads the index after flushing it. The index file only grows, so a stored one longer than
 * the local copy is newer (a local one longer than the stored one was flushed here and not uploaded yet: kept).
 */
async function fetchGrownIndex(store: DatasetStore, file: string): Promise<void> {
  if (!store.objects) return;
  const stored = await store.objects.head(store.keyOf(file));
  const local = existsSync(file) ? statSync(file).size : -1;
  if (stored && stored.size > local) {
    const body = await store.objects.get(store.keyOf(file));
    if (body && body.length > local) await writeFileAtomic(file, body);
  }
}

export function createSynthesisActivities(store: DatasetStore) {
  // An open index per corpus is kept between passes, with the file size it last wrote: the dedupPass activities of
  // a corpus run one at a time (the workflow orders them), but possibly in other worker processes, so an index
  // whose file has grown since is loaded again.
  const indexes = new Map<string, { index: NearDuplicateIndex; bytes: number; options: string }>();
  const fileBytes = (file: string) => (existsSync(file) ? statSync(file).size : 0);
  const openIndex = async (corpus: string, options: { threshold: number; minWordLength: number }) => {
    const file = dedupIndexPath(store, corpus);
    await fetchGrownIndex(store, file);
    const cached = indexes.get(file);
    if (cached && cached.bytes === fileBytes(file) && cached.options === JSON.stringify(options))
      return { index: cached.index, file };
    cached?.index.close();
    await fsp.mkdir(path.dirname(file), { recursive: true });
    let index: NearDuplicateIndex;
    try {
      index = NearDuplicateIndex.open(file, options);
    } catch (err) {
      // A file built with other word rules, or a corrupt one: retrying cannot help; say what to do.
      throw ApplicationFailure.nonRetryable(
        `dedup index of corpus "${corpus}": ${(err as Error).message}`,
        'InvalidInput',
      );
    }
    indexes.set(file, { index, bytes: fileBytes(file), options: JSON.stringify(options) });
    return { index, file };
  };

  return {
    /**
     * Keeps the problems of one pass that are neither exact nor near duplicates of anything the corpus kept before
     * (earlier passes, earlier runs). Idempotent: a problem found in the index under its own id was kept by an
     * earlier attempt of this activity and is kept again.
     */
    async dedupPass(input: DedupPassInput): Promise<DedupPassResult> {
      const ctx = Context.current();
      const outDir = store.datasetDir(input.output);
      const doneFile = path.join(outDir, '.done.json');
      const before = await store.readJsonIfPresent<DedupPassResult>(doneFile);
      if (before) return before;
      const { index, file: indexFile } = await openIndex(input.corpus, {
        threshold: input.threshold,
        minWordLength: input.minWordLength,
      });
      const manifest = await store.readManifest(input.input);
      const shards: ShardInfo[] = [];
      // Duplicates stream to a temporary rejects file, renamed into place once the pass is done.
      const rejectsPath = path.join(outDir, rejectsFileName(0));
      const rejectsTemp = tempPathFor(rejectsPath);
      const rejects = await LineAppender.open(rejectsTemp);
      let rejected = 0;
      let items = 0;
      let kept = 0;
      let exactDuplicates = 0;
      let nearDuplicates = 0;
      for (let s = 0; s < manifest.shards.length; s++) {
        const lines: string[] = [];
        for await (const r of readRecords(await store.localShard(manifest, s))) {
          if (!r.ok) throw new Error(`${store.shardPath(manifest, s)}:${r.line}: ${r.reason}`);
          const row = r.value as GeneratedRow;
          items++;
          const key = `${input.runKey}/${row.id}`;
          const verdict = index.check(row.problem);
          if (verdict.duplicate && verdict.of !== key) {
            if (verdict.exact) exactDuplicates++;
            else nearDuplicates++;
            const reject: RejectRecord = {
              kind: 'rejected',
              stage: `dedup-pass-${input.pass}`,
              reason: verdict.exact
                ? `exact duplicate of ${verdict.of}`
                : `near duplicate of ${verdict.of} (Jaccard ${verdict.jaccard.toFixed(3)})`,
              source: { dataset: manifest.name, shard: s, line: r.line, sourceId: row.id },
              record: row,
            };
            rejects.append(JSON.stringify(reject));
            rejected++;
            continue;
          }
          if (!verdict.duplicate) index.add(key, row.problem);
          kept++;
          lines.push(r.raw);
          if (items % 1000 === 0) ctx.heartbeat({ items });
        }
        const file = shardFileName(s);
        await store.writeAtomic(path.join(outDir, file), lines.length > 0 ? lines.join('\n') + '\n' : '');
        shards.push(await store.shardInfo(input.output, file, lines.length));
      }
      // The index is made durable before the outputs: a crash in between is repaired by the idempotent re-run.
      index.flush();
      indexes.get(indexFile)!.bytes = fileBytes(indexFile);
      await store.commit(indexFile);
      await rejects.close();
      if (rejected > 0) {
        await fsp.rename(rejectsTemp, rejectsPath);
        await store.commit(rejectsPath);
      } else await fsp.rm(rejectsTemp, { force: true });
      const output = await store.writeManifest(input.output, shards, {
        stage: `dedup-pass-${input.pass}`,
        input: input.input,
        threshold: input.threshold,
        minWordLength: input.minWordLength,
      });
      const result: DedupPassResult = {
        output,
        items,
        kept,
        exactDuplicates,
        nearDuplicates,
        rejects: rejected > 0 ? store.relative(rejectsPath) : undefined,
      };
      await store.writeAtomic(doneFile, JSON.stringify(result));
      return result;
    },

    /** One manifest over the kept problems of every pass (shards stay where they are). */
    async finalizeCorpus(input: {
      name: string;
      passes: string[];
    }): Promise<{ dataset: DatasetRef; rejects: string[] }> {
      const dir = store.datasetDir(input.name);
      const shards: ShardInfo[] = [];
      const rejects: string[] = [];
      for (const pass of input.passes) {
        const manifest = await store.readManifest(pass);
        const passDir = store.datasetDir(pass);
        for (const shard of manifest.shards)
          shards.push({ ...shard, path: path.relative(dir, path.join(passDir, shard.path)) });
        const rejectsPath = path.join(passDir, rejectsFileName(0));
        if (await store.fetch(rejectsPath)) rejects.push(store.relative(rejectsPath));
      }
      const dataset = await store.writeManifest(input.name, shards, { stage: 'corpus', passes: input.passes });
      return { dataset, rejects };
    },
  };
}

export type SynthesisActivities = ReturnType<typeof createSynthesisActivities>;
