// Materialises a training dataset into the one JSONL file a trainer reads: rows checked for the fields the kind
// needs, bad ones set aside in rejects.jsonl with their shard, line and reason; both files written atomically.
import { promises as fsp } from 'node:fs';
import type { DatasetRef, RejectRecord } from '../../domain/core/dataset';
import { trainingRowProblem, type TrainingKind } from '../../domain/platform/training';
import { LineAppender, tempPathFor, writeFileAtomic } from '../datasets/jsonl';
import { DatasetStore, readRecords } from '../datasets/store';

export interface TrainingData {
  rows: number;
  rejected: number;
  /** The first few reasons rows were set aside, for error messages. */
  sampleReasons: string[];
}

export interface MaterialiseOptions {
  store: DatasetStore;
  data: DatasetRef;
  kind: TrainingKind;
  /** Names the stage in reject records, e.g. `train:em-run1/iter-1/q_phi`. */
  stage: string;
  dataFile: string;
  rejectsFile: string;
  onProgress?: (progress: { rows: number; rejected: number }) => void;
  /** Stops materialising (the partial file is discarded) when aborted. */
  signal?: AbortSignal;
}

export async function materialiseTrainingData(options: MaterialiseOptions): Promise<TrainingData> {
  const manifest = await options.store.readManifest(options.data);
  const rejectsTemp = tempPathFor(options.rejectsFile);
  const rejects = await LineAppender.open(rejectsTemp);
  let rows = 0;
  let rejected = 0;
  const sampleReasons: string[] = [];
  const setAside = (reject: RejectRecord) => {
    rejects.append(JSON.stringify(reject));
    rejected++;
    if (sampleReasons.length < 3)
      sampleReasons.push(`shard ${reject.source.shard} line ${reject.source.line}: ${reject.reason}`);
  };
  async function* lines(): AsyncGenerator<string> {
    for (let shard = 0; shard < manifest.shards.length; shard++) {
      for await (const r of readRecords(await options.store.localShard(manifest, shard))) {
        if (options.signal?.aborted) throw options.signal.reason;
        const source = { dataset: manifest.name, shard, line: r.line };
        if (!r.ok) {
          setAside({ kind: 'rejected', stage: options.stage, reason: r.reason, source, raw: r.raw.slice(0, 10_000) });
        } else {
          const row = r.value as Record<string, unknown>;
          const problem = trainingRowProblem(options.kind, row);
          const sourceId = typeof row.id === 'string' || typeof row.id === 'number' ? String(row.id) : undefined;
          if (problem !== undefined) {
            setAside({
              kind: 'rejected',
              stage: options.stage,
              reason: problem,
              source: { ...source, sourceId },
              record: row,
            });
          } else {
            rows++;
            yield r.raw + '\n';
          }
        }
        if ((rows + rejected) % 5000 === 0) options.onProgress?.({ rows, rejected });
      }
    }
  }
  try {
    await writeFileAtomic(options.dataFile, lines());
  } catch (err) {
    await rejects.close();
    await fsp.rm(rejectsTemp, { force: true });
    throw err;
  }
  await rejects.close();
  if (rejected > 0) await fsp.rename(rejectsTemp, options.rejectsFile);
  else {
    await fsp.rm(rejectsTemp, { force: true });
    await fsp.rm(options.rejectsFile, { force: true });
  }
  options.onProgress?.({ rows, rejected });
  return { rows, rejected, sampleReasons };
}
