// The contamination index of a set of benchmark files, built once per worker process and file set: every problem
// text of the files (`prompt`, `problem` or `question`), indexed by word n-grams (domain/contamination.ts). With a
// reference corpus (the prompt files being checked, and reference files of ordinary problems), the n-grams that
// many different reference problems contain are left out as stock phrasing; that index too is built once per
// worker process and file set.
// A benchmark or reference file that cannot be read, or a benchmark file with a bad line, fails for good, naming
// the file and the line: the check must not silently run against fewer problems than configured. Bad lines of the
// prompt files are the import's business (its rejects file); here they are skipped.
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { buildContaminationIndex, withStockPhrasing, type ContaminationIndex } from '../../domain/contamination';
import { problemOfPrompt } from '../../domain/self-play';
import { readRecords } from '../datasets/store';
import { promptWrappers } from '../prompts/problems';

const TEXT_FIELDS = ['prompt', 'problem', 'question'] as const;
const cache = new Map<string, Promise<ContaminationIndex>>();

async function load(files: readonly string[], n: number): Promise<ContaminationIndex> {
  const texts: Array<{ where: string; text: string }> = [];
  for (const file of files) {
    try {
      for await (const r of readRecords(file)) {
        const where = `${path.basename(file)}:${r.line}`;
        if (!r.ok)
          throw ApplicationFailure.nonRetryable(`contamination: ${file}:${r.line}: ${r.reason}`, 'InvalidInput');
        const record = r.value as Record<string, unknown>;
        const field = TEXT_FIELDS.find((f) => typeof record[f] === 'string');
        if (!field)
          throw ApplicationFailure.nonRetryable(
            `contamination: ${file}:${r.line}: no ${TEXT_FIELDS.join(' / ')} field with the problem text`,
            'InvalidInput',
          );
        texts.push({ where, text: record[field] as string });
      }
    } catch (err) {
      if (err instanceof ApplicationFailure) throw err;
      throw ApplicationFailure.nonRetryable(
        `contamination: cannot read benchmark file ${file}: ${(err as Error).message}`,
        'InvalidInput',
      );
    }
  }
  return buildContaminationIndex(texts, n);
}

export interface ReferenceCorpus {
  /** Prompt files of the corpus being checked: each record's `problem`, else its `prompt` without the template. */
  corpusFiles: readonly string[];
  /** Files of ordinary problems: each record's `prompt`, `problem` or `question`. */
  referenceFiles: readonly string[];
  /** Different reference problems that make a benchmark n-gram stock phrasing. */
  minPrompts: number;
}

/** The problem statements of the reference files, one at a time (bad lines skipped). */
async function referenceTexts(reference: ReferenceCorpus): Promise<string[]> {
  const out: string[] = [];
  const wrappers = promptWrappers();
  const read = async (file: string, text: (record: Record<string, unknown>) => string | undefined) => {
    try {
      for await (const r of readRecords(file)) {
        if (!r.ok || r.value === null || typeof r.value !== 'object') continue;
        const t = text(r.value as Record<string, unknown>);
        if (t !== undefined) out.push(t);
      }
    } catch (err) {
      throw ApplicationFailure.nonRetryable(
        `contamination: cannot read reference file ${file}: ${(err as Error).message}`,
        'InvalidInput',
      );
    }
  };
  for (const file of reference.corpusFiles) {
    await read(file, (r) =>
      typeof r.problem === 'string'
        ? r.problem
        : typeof r.prompt === 'string'
          ? problemOfPrompt(r.prompt, wrappers)
          : undefined,
    );
  }
  for (const file of reference.referenceFiles) {
    await read(file, (r) => {
      const field = TEXT_FIELDS.find((f) => typeof r[f] === 'string');
      return field ? (r[field] as string) : undefined;
    });
  }
  return out;
}

function cached(key: string, build: () => Promise<ContaminationIndex>): Promise<ContaminationIndex> {
  let index = cache.get(key);
  if (!index) {
    index = build();
    cache.set(key, index);
    index.catch(() => cache.delete(key));
  }
  return index;
}

export function contaminationIndex(
  files: readonly string[],
  n: number,
  reference?: ReferenceCorpus,
): Promise<ContaminationIndex> {
  const base = JSON.stringify([files.map((f) => path.resolve(f)), n]);
  const index = cached(base, () => load(files, n));
  if (!reference || reference.corpusFiles.length + reference.referenceFiles.length === 0) return index;
  const key = JSON.stringify([
    base,
    reference.corpusFiles.map((f) => path.resolve(f)),
    reference.referenceFiles.map((f) => path.resolve(f)),
    reference.minPrompts,
  ]);
  return cached(key, async () => withStockPhrasing(await index, await referenceTexts(reference), reference.minPrompts));
}
