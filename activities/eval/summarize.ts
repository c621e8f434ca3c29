// The metrics and reports of an evaluation run: the scored cells grouped by (model, benchmark); per group the
// metrics of domain/eval/metrics.ts (avg@k with its spread across runs and a bootstrap CI over problems, pass@k,
// maj@k, no-answer and truncation rates, tokens), for math the other scoring mode beside the primary one with the
// cells where they differ, for Codeforces the Elo estimate (with a standings cache); each model after the first
// against the first as a paired difference per benchmark. Written to reports/<name>/<scorer version>/: metrics.json, cells.jsonl
// (one line per cell: verdict, tokens, latency and where its completion is), report.md and chart.png.
import { createReadStream, promises as fsp, readFileSync } from 'node:fs';
import path from 'node:path';
import type { DatasetRef } from '../../domain/core/dataset';
import type { EvaluatedModel, ScoredCell } from '../../domain/evaluate';
import { codeforcesElo } from '../../domain/eval/codeforces-elo';
import { benchmarkMetrics, pairedDifference, type BenchmarkMetrics, type CellScore } from '../../domain/eval/metrics';
import { majorityVote } from '../../domain/math';
import { LineAppender } from '../datasets/jsonl';
import { once } from '../datasets/once';
import { throttledHeartbeat } from '../datasets/rejects';
import type { DatasetStore } from '../datasets/store';
import { CODEFORCES_DIR } from './benchmark-files';
import { readCodeforcesCache } from './codeforces-cache';
import { evaluationReport } from './report';

export interface SummarizeEvaluationInput {
  name: string;
  models: EvaluatedModel[];
  /** the benchmarks in the order they were given */
  benchmarks: string[];
  scored: DatasetRef;
  /** the sampled cells (where each completion is) */
  samples: DatasetRef;
  mathMode: 'strict' | 'qwen-parity';
  scorer: string;
  bootstrap: { samples: number; seed: number };
  codeforcesCache?: string;
  /** written to this dataset's folder as `.done.json`: a finished summary is returned as it was */
  output: string;
}

export interface EloResult {
  rating: number | null;
  percentile: number | null;
  contests: number;
  reasonIfNone?: string;
}

export interface GroupResult {
  model: string;
  benchmark: string;
  metrics: BenchmarkMetrics;
  /** math: the other scoring mode's avg@k, and the cells whose verdicts differ between the modes */
  otherMode?: {
    mode: 'strict' | 'qwen-parity';
    avgAtK: BenchmarkMetrics['avgAtK'];
    differing: number;
    examples: string[];
  };
  elo?: EloResult;
}

export interface SummarizeEvaluationResult {
  results: GroupResult[];
  files: { metrics: string; cells: string; report: string; chart: string };
}

type Mode = 'strict' | 'qwen-parity';

/** Cell scores of one (model, benchmark), the answer clusters of each problem found by the math verifier. */
export function cellScores(rows: readonly ScoredCell[], mode: Mode): CellScore[] {
  const byProblem = new Map<string, ScoredCell[]>();
  for (const r of rows) {
    const list = byProblem.get(r.problem) ?? [];
    list.push(r);
    byProblem.set(r.problem, list);
  }
  const out: CellScore[] = [];
  for (const [problem, cells] of byProblem) {
    cells.sort((a, b) => a.run - b.run);
    const verdict = (c: ScoredCell) => (mode === 'strict' ? c.strict : c.parity);
    let keys: Array<string | null> | undefined;
    if (cells[0]!.kind === 'math') {
      const vote = majorityVote(cells.map((c) => verdict(c)?.extracted ?? ''));
      keys = cells.map(() => null);
      vote.clusters.forEach((cluster, k) => {
        for (const member of cluster.members) if (verdict(cells[member]!)?.extracted) keys![member] = `c${k}`;
      });
    }
    cells.forEach((c, i) => {
      const v = verdict(c);
      out.push({
        problem,
        run: c.run,
        correct: v ? v.correct : c.correct,
        answered: v ? v.extracted !== '' : c.answered,
        truncated: c.truncated,
        outputTokens: c.outputTokens,
        ...(keys ? { answerKey: keys[i]! } : {}),
      });
    });
  }
  return out;
}

export function createEvaluationSummaryActivities(store: DatasetStore) {
  return {
    async summarizeEvaluation(input: SummarizeEvaluationInput): Promise<SummarizeEvaluationResult> {
      return once(store, input.output, async () => {
        const beat = throttledHeartbeat();
        const reportDir = store.resolve(path.join('reports', input.name, input.scorer));
        const cellsFile = path.join(reportDir, 'cells.jsonl');
        const log = await LineAppender.open(`${cellsFile}.partial`);
        const groups = new Map<string, ScoredCell[]>();
        let read = 0;
        try {
          for await (const raw of store.readAll(input.scored)) {
            const c = raw as ScoredCell;
            beat({ phase: 'read', cells: read++ });
            const key = `${c.model}\u0000${c.benchmark}`;
            const list = groups.get(key) ?? [];
            list.push(c);
            groups.set(key, list);
            log.append(
              JSON.stringify({
                id: c.id,
                model: c.model,
                benchmark: c.benchmark,
                problem: c.problem,
                run: c.run,
                seed: c.seed,
                correct: c.correct,
                answered: c.answered,
                truncated: c.truncated,
                reason: c.reason,
                ...(c.strict ? { strict: c.strict, parity: c.parity } : {}),
                ...(c.tests ? { tests: c.tests } : {}),
                outputTokens: c.outputTokens,
                latencyMs: c.latencyMs,
                completion: { dataset: input.samples.name, id: c.id },
              }),
            );
          }
        } finally {
          await log.close();
        }
        await store.writeAtomic(cellsFile, createReadStream(`${cellsFile}.partial`));
        await fsp.rm(`${cellsFile}.partial`, { force: true });

        const cache = input.codeforcesCache ? readCodeforcesCache(input.codeforcesCache) : undefined;
        const ratings = JSON.parse(readFileSync(path.join(CODEFORCES_DIR, 'ratings_2024.json'), 'utf8')) as Record<
          string,
          number
        >;
        const other = (m: Mode): Mode => (m === 'strict' ? 'qwen-parity' : 'strict');
        const results: GroupResult[] = [];
        const scoresOf = new Map<string, CellScore[]>();
        for (const model of input.models)
          for (const benchmark of input.benchmarks) {
            const rows = groups.get(`${model.label}\u0000${benchmark}`) ?? [];
            if (rows.length === 0) continue;
            const scores = cellScores(rows, input.mathMode);
            scoresOf.set(`${model.label}\u0000${benchmark}`, scores);
            const result: GroupResult = {
              model: model.label,
              benchmark,
              metrics: benchmarkMetrics(scores, { bootstrap: input.bootstrap }),
            };
            if (rows[0]!.kind === 'math') {
              const mode = other(input.mathMode);
              const differing = rows.filter((r) => r.strict && r.parity && r.strict.correct !== r.parity.correct);
              result.otherMode = {
                mode,
                avgAtK: benchmarkMetrics(cellScores(rows, mode), { bootstrap: input.bootstrap }).avgAtK,
                differing: differing.length,
                examples: differing.slice(0, 10).map((r) => r.id),
              };
            }
            if (benchmark === 'codeforces') result.elo = elo(rows, cache, ratings);
            results.push(result);
          }
        const comparisons = input.models.slice(1).flatMap((m) =>
          input.benchmarks.flatMap((benchmark) => {
            const a = scoresOf.get(`${input.models[0]!.label}\u0000${benchmark}`);
            const b = scoresOf.get(`${m.label}\u0000${benchmark}`);
            if (!a || !b) return [];
            return [
              {
                a: input.models[0]!.label,
                b: m.label,
                benchmark,
                difference: pairedDifference(a, b, { bootstrap: input.bootstrap }),
              },
            ];
          }),
        );
        const report = evaluationReport({
          name: input.name,
          models: input.models.map((m) => ({
            label: m.label,
            ...(m.model ? { model: m.model } : {}),
            ...(m.version ? { version: m.version } : {}),
          })),
          results: results.map((r) => ({
            model: r.model,
            benchmark: r.benchmark,
            metrics: r.metrics,
            ...(r.elo ? { elo: r.elo } : {}),
          })),
          comparisons,
        });
        const files = {
          metrics: path.join(reportDir, 'metrics.json'),
          cells: cellsFile,
          report: path.join(reportDir, 'report.md'),
          chart: path.join(reportDir, 'chart.png'),
        };
        const json = {
          ...report.json,
          name: input.name,
          scorer: input.scorer,
          mathMode: input.mathMode,
          results,
          comparisons,
        };
        await store.writeAtomic(files.metrics, JSON.stringify(json, null, 2) + '\n');
        await store.writeAtomic(files.report, report.markdown);
        await store.writeAtomic(files.chart, report.png);
        return {
          results,
          files: {
            metrics: store.relative(files.metrics),
            cells: store.relative(files.cells),
            report: store.relative(files.report),
            chart: store.relative(files.chart),
          },
        };
      });
    },
  };
}

function elo(
  rows: readonly ScoredCell[],
  cache: ReturnType<typeof readCodeforcesCache> | undefined,
  ratings: Record<string, number>,
): EloResult {
  if (!cache)
    return {
      rating: null,
      percentile: null,
      contests: 0,
      reasonIfNone:
        'no Codeforces standings cache: give `codeforcesCache` (made by `npm run cli -- codeforces-cache`, where the Codeforces API is reachable)',
    };
  const byProblem = new Map<string, boolean[]>();
  for (const r of [...rows].sort((a, b) => a.run - b.run)) {
    const id = r.problemId ?? r.problem;
    const list = byProblem.get(id) ?? [];
    list.push(r.correct);
    byProblem.set(id, list);
  }
  const e = codeforcesElo(
    [...byProblem].map(([problemId, passes]) => ({ problemId, passes })),
    cache,
    ratings,
  );
  return {
    rating: e.rating,
    percentile: e.percentile,
    contests: e.contests,
    ...(e.reasonIfNone ? { reasonIfNone: e.reasonIfNone } : {}),
  };
}
