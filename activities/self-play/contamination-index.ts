// The contamination index of a set of benchmark files, built once per worker process and file set: every problem
// text of the files (`prompt`, `problem` or `question`), indexed by word n-grams (domain/contamination.ts).
// A benchmark file that cannot be read or has a bad line fails for good, naming the file and the line: the check
// must not silently run against fewer problems than configured.
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { buildContaminationIndex, type ContaminationIndex } from '../../domain/contamination';
import { readRecords } from '../datasets/store';

const TEXT_FIELDS = ['prompt', 'problem', 'question'] as const;
const cache = new Map<string, Promise<ContaminationIndex>>();

async function load(files: readonly string[], n: number): Promise<ContaminationIndex> {
  const texts: Array<{ where: string; text: string }> = [];
  for (const file of files) {
    try {
      for await (const r of readRecords(file)) {
        const where = `${path.basename(file)}:${r.line}`;
        if (!r.ok) throw ApplicationFailure.nonRetryable(`contamination: ${file}:${r.line}: ${r.reason}`, 'InvalidInput');
        const record = r.value as Record<string, unknown>;
        const field = TEXT_FIELDS.find((f) => typeof record[f] === 'string');
        if (!field) throw ApplicationFailure.nonRetryable(`contamination: ${file}:${r.line}: no ${TEXT_FIELDS.join(' / ')} field with the problem text`, 'InvalidInput');
        texts.push({ where, text: record[field] as string });
      }
    } catch (err) {
      if (err instanceof ApplicationFailure) throw err;
      throw ApplicationFailure.nonRetryable(`contamination: cannot read benchmark file ${file}: ${(err as Error).message}`, 'InvalidInput');
    }
  }
  return buildContaminationIndex(texts, n);
}

export function contaminationIndex(files: readonly string[], n: number): Promise<ContaminationIndex> {
  const key = JSON.stringify([files.map((f) => path.resolve(f)), n]);
  let index = cache.get(key);
  if (!index) {
    index = load(files, n);
    cache.set(key, index);
    index.catch(() => cache.delete(key));
  }
  return index;
}
