// The cells of an evaluation run: every (model, benchmark, problem, run), from the benchmark files.
//   aime24, aime25, hmmt25: `prompt` (pre-templated) and `reference_solution` ending `#### <answer>`;
//   codeforces: `prompt` and `input_output`, the problem ids of data/codeforces/metadata_cf.json by line;
//   lcb-v5 / lcb-v6: the published problems file (`global_id`, `prompt`, `tests: {fname, md5}`) and a folder of
//     `{global_id}.json` test files, each checked against its md5 here;
//   a user's JSONL: `prompt`, and `answer` (math) or `input_output` (code), `id` optional.
// A line that cannot be used goes to the rejects file with its file, line and reason; the run goes on without it.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { DatasetRef, RejectRecord } from '../../domain/core/dataset';
import {
  benchmarkKind,
  benchmarkName,
  defaultRuns,
  type Benchmark,
  type EvalCell,
  type EvaluatedModel,
  type EvaluateParsed,
  type TestsRef,
} from '../../domain/evaluate';
import { readLines } from '../datasets/jsonl';
import { parseInputOutput } from '../datasets/code-benchmark';
import { once } from '../datasets/once';
import type { DatasetStore } from '../datasets/store';
import { writeDataset } from '../datasets/write';
import { benchmarkFile, codeforcesProblemIds } from './benchmark-files';
import { md5File } from './tests';

export interface PrepareEvaluationInput {
  name: string;
  models: EvaluatedModel[];
  benchmarks: Benchmark[];
  seed: number;
  runs: EvaluateParsed['runs'];
  output: string;
  shardSize: number;
}

export interface PreparedBenchmark {
  name: string;
  kind: 'math' | 'code';
  file: string;
  problems: number;
  rejected: number;
  runs: number;
}

export interface PrepareEvaluationResult {
  cells: DatasetRef;
  benchmarks: PreparedBenchmark[];
  /** the rejects file (relative to the storage root), when a line was set aside */
  rejects?: string;
}

interface Problem {
  problem: string;
  templated: boolean;
  prompt: string;
  answer?: string;
  tests?: TestsRef;
  fnName?: string;
  problemId?: string;
}

const TEMPLATED = /^\s*<\|im_start\|>/;

/** The reference answer of a `reference_solution` (`… #### 33`), or a plain `answer`. */
function referenceAnswer(row: Record<string, unknown>): string | undefined {
  if (typeof row.answer === 'string' || typeof row.answer === 'number') return String(row.answer).trim();
  const solution = row.reference_solution;
  if (typeof solution !== 'string') return undefined;
  const at = solution.lastIndexOf('####');
  return at >= 0 ? solution.slice(at + 4).trim() : undefined;
}

async function readProblems(
  benchmark: Benchmark,
  reject: (r: Omit<RejectRecord, 'kind' | 'stage'>) => void,
): Promise<{ file: string; problems: Problem[] }> {
  const name = benchmarkName(benchmark);
  const kind = benchmarkKind(benchmark);
  const file = path.resolve(typeof benchmark === 'string' ? benchmarkFile(benchmark) : benchmark.file);
  if (!existsSync(file)) throw new Error(`benchmark ${name}: ${file} does not exist`);
  const ids = benchmark === 'codeforces' ? codeforcesProblemIds() : undefined;
  const testsDir =
    typeof benchmark !== 'string' && 'testsDir' in benchmark ? path.resolve(benchmark.testsDir) : undefined;
  const problems: Problem[] = [];
  const seen = new Set<string>();
  let index = -1;
  for await (const l of readLines(file)) {
    if (!l.terminated && l.text === '') continue;
    index++;
    const line = index + 1;
    const bad = (reason: string, record?: unknown) =>
      reject({ reason: `${name}: ${reason}`, source: { file, line }, ...(record ? { record } : { raw: l.text }) });
    let row: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(l.text);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
      row = parsed as Record<string, unknown>;
    } catch (err) {
      bad(`line ${line} is not a JSON object (${(err as Error).message})`);
      continue;
    }
    if (typeof row.prompt !== 'string' || row.prompt.trim() === '') {
      bad('field prompt: missing or empty', row);
      continue;
    }
    const id = String(row.global_id ?? row.id ?? row.idx ?? ids?.[index] ?? index);
    if (seen.has(id)) {
      bad(`field id: "${id}" appears twice`, row);
      continue;
    }
    seen.add(id);
    const p: Problem = { problem: id, templated: TEMPLATED.test(row.prompt), prompt: row.prompt };
    if (kind === 'math') {
      const answer = referenceAnswer(row);
      if (!answer) {
        bad('field answer: no `answer` and no `reference_solution` ending in "#### <answer>"', row);
        continue;
      }
      p.answer = answer;
    } else if (testsDir) {
      const tests = row.tests as { fname?: unknown; md5?: unknown } | undefined;
      if (typeof tests?.fname !== 'string' || typeof tests.md5 !== 'string') {
        bad('field tests: needs {fname, md5} (the published LiveCodeBench layout)', row);
        continue;
      }
      const testFile = path.join(testsDir, tests.fname);
      if (!existsSync(testFile)) {
        bad(`field tests.fname: ${testFile} does not exist`, row);
        continue;
      }
      const md5 = await md5File(testFile);
      if (md5 !== tests.md5) {
        bad(`field tests.md5: ${testFile} has md5 ${md5}, the problems file says ${tests.md5}`, row);
        continue;
      }
      p.tests = { kind: 'file', file: testFile, md5 };
    } else {
      try {
        const io = parseInputOutput(row.input_output, `${file}:${line}`);
        if (io.fnName) p.fnName = io.fnName;
      } catch (err) {
        bad(`field input_output: ${(err as Error).message}`, row);
        continue;
      }
      p.tests = { kind: 'line', file, index };
    }
    if (ids) p.problemId = ids[index];
    problems.push(p);
  }
  return { file, problems };
}

export function createEvaluationPrepareActivities(store: DatasetStore) {
  return {
    async prepareEvaluation(input: PrepareEvaluationInput): Promise<PrepareEvaluationResult> {
      return once(store, input.output, async () => {
        const rejects: RejectRecord[] = [];
        const prepared: Array<PreparedBenchmark & { list: Problem[] }> = [];
        for (const b of input.benchmarks) {
          const before = rejects.length;
          const { file, problems } = await readProblems(b, (r) =>
            rejects.push({ kind: 'rejected', stage: 'prepare', ...r }),
          );
          prepared.push({
            name: benchmarkName(b),
            kind: benchmarkKind(b),
            file,
            problems: problems.length,
            rejected: rejects.length - before,
            runs: defaultRuns(b, input.runs),
            list: problems,
          });
        }
        function* cells(): Generator<EvalCell> {
          for (const m of input.models)
            for (const b of prepared)
              for (const p of b.list)
                for (let run = 0; run < b.runs; run++)
                  yield {
                    id: `${m.label}/${b.name}/${p.problem}#${run}`,
                    model: m.label,
                    target: {
                      role: m.role,
                      ...(m.model ? { model: m.model } : {}),
                      ...(m.endpoint ? { endpoint: m.endpoint } : {}),
                    },
                    benchmark: b.name,
                    kind: b.kind,
                    problem: p.problem,
                    run,
                    seed: input.seed + run,
                    templated: p.templated,
                    prompt: p.prompt,
                    ...(p.answer !== undefined ? { answer: p.answer } : {}),
                    ...(p.tests ? { tests: p.tests } : {}),
                    ...(p.fnName ? { fnName: p.fnName } : {}),
                    ...(p.problemId ? { problemId: p.problemId } : {}),
                  };
        }
        const dataset = await writeDataset(store, input.output, cells(), {
          shardSize: input.shardSize,
          producedBy: { stage: 'prepareEvaluation', seed: input.seed },
        });
        let rejectsFile: string | undefined;
        if (rejects.length > 0) {
          const abs = path.join(store.datasetDir(input.output), 'rejects.jsonl');
          await store.writeAtomic(abs, rejects.map((r) => JSON.stringify(r)).join('\n') + '\n');
          rejectsFile = store.relative(abs);
        }
        return {
          cells: dataset,
          benchmarks: prepared.map(({ list: _list, ...b }) => b),
          ...(rejectsFile ? { rejects: rejectsFile } : {}),
        };
      });
    },
  };
}
