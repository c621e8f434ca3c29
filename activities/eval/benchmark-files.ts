// Where the benchmarks shipped with the project live (data/, see data/benchmarks/NOTICE.md and
// data/codeforces/NOTICE.md for their origin and licences). Every reader of a benchmark file goes through here, so
// the folder is named once.
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** The project's data folder (`<repo>/data`). */
export const DATA_DIR = path.join(__dirname, '..', '..', 'data');
/** The PromptCoT 2.0 evaluation sets: `promptcot2_<name>_test.jsonl`. */
export const BENCHMARK_DIR = path.join(DATA_DIR, 'benchmarks');
/** rLLM's Codeforces problem ids (`metadata_cf.json`) and rating distribution (`ratings_2024.json`). */
export const CODEFORCES_DIR = path.join(DATA_DIR, 'codeforces');

export type BenchmarkName = 'aime24' | 'aime25' | 'hmmt25' | 'codeforces';

/** The absolute path of a shipped benchmark file. */
export function benchmarkFile(name: BenchmarkName): string {
  return path.join(BENCHMARK_DIR, `promptcot2_${name}_test.jsonl`);
}

/** Problems of the Codeforces benchmark file, and so ids in `metadata_cf.json`. */
export const CODEFORCES_PROBLEMS = 408;

/**
 * The Codeforces problem ids (`1971A`, `1972D1`, …) of the Codeforces benchmark, one per line of its file and in
 * the same order; the contest of a problem is the leading digits of its id.
 */
export function codeforcesProblemIds(): string[] {
  const file = path.join(CODEFORCES_DIR, 'metadata_cf.json');
  const ids: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (!Array.isArray(ids) || !ids.every((id): id is string => typeof id === 'string'))
    throw new Error(`${file}: expected a JSON array of problem id strings`);
  if (ids.length !== CODEFORCES_PROBLEMS)
    throw new Error(
      `${file}: ${ids.length} problem ids, expected ${CODEFORCES_PROBLEMS} (one per line of ${benchmarkFile('codeforces')})`,
    );
  return ids;
}
