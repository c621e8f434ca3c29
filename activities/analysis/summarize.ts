// The report of the corpus analyses: the scored sample (difficulty) and the embeddings (diversity) of every corpus
// reduced to the numbers of domain/analyze-corpora.ts, written to reports/<name>/: analysis.md (the section of
// renderCorpusAnalysisSection), analysis.json (the same numbers), mds.png (the corpora on the MDS plane) and
// mds.csv (their coordinates).
//   Difficulty per corpus: accuracy (math) and pass rate (code) over the scored problems, teacher tokens over the
//     problems kept (math: with a reference; code: every answered one), each a mean with se = sd / √n and the
//     seeded percentile bootstrap of domain/eval/metrics.ts (values in id order, so row order does not matter).
//     `failed` = sampled − no reference − no tests − scored: what a stage could not finish.
//   Diversity: per corpus the sum of its vectors (float64) and a seeded sample for the pairwise distances: the
//     problems with the `pairwiseSample` smallest deriveSeed(seed, id) keys, so it does not depend on read order.
import path from 'node:path';
import { classicalMds, cosineDistanceMatrix, meanPairwiseDistance } from '../../domain/analysis/mds';
import {
  renderCorpusAnalysisSection,
  type CorpusAnalysis,
  type CorpusSummary,
  type EmbedderDescription,
  type EmbeddingRow,
  type MeanEstimate,
  type ReferenceRow,
  type ScoredRow,
} from '../../domain/analyze-corpora';
import type { DatasetRef } from '../../domain/core/dataset';
import { deriveSeed } from '../../domain/core/seeds';
import { bootstrapCi, type BootstrapOptions } from '../../domain/eval/metrics';
import { once } from '../datasets/once';
import { throttledHeartbeat } from '../datasets/rejects';
import type { DatasetStore } from '../datasets/store';
import { renderScatterPng } from '../reports/plot';
import { decodeVector } from './embedders';
import type { PreparedCorpus } from './prepare';

export interface SummarizeCorpusAnalysisInput {
  name: string;
  seed: number;
  corpora: PreparedCorpus[];
  nearDuplicateThreshold: number;
  bootstrap: BootstrapOptions;
  difficulty?: { reference: DatasetRef; scored: DatasetRef; teacher: string; solver: string; sampleSize: number };
  diversity?: { embeddings: DatasetRef; embedder: EmbedderDescription; pairwiseSample: number };
  /** a dataset folder for the `.done.json` of a finished summary */
  output: string;
}

/** A mean with se and the seeded bootstrap CI; null for no values. */
export function meanEstimate(values: readonly number[], bootstrap: BootstrapOptions): MeanEstimate | null {
  const n = values.length;
  if (n === 0) return null;
  const mean = values.reduce((s, x) => s + x, 0) / n;
  const sd = n < 2 ? 0 : Math.sqrt(values.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1));
  return { mean, se: sd / Math.sqrt(n), ci: bootstrapCi(values, bootstrap), n };
}

function inIdOrder<T extends { id: string }>(rows: T[], value: (r: T) => number): number[] {
  return [...rows].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map(value);
}

/** The `k` entries with the smallest keys (ties: the smaller id), kept while streaming. */
class SmallestKeys {
  readonly items: Array<{ key: number; id: string; vector: Float32Array }> = [];
  constructor(private readonly k: number) {}
  offer(key: number, id: string, vector: () => Float32Array): void {
    const worst = this.items[this.items.length - 1];
    const before = (a: { key: number; id: string }, b: { key: number; id: string }) =>
      a.key < b.key || (a.key === b.key && a.id < b.id);
    if (this.items.length >= this.k && worst && !before({ key, id }, worst)) return;
    let at = this.items.length;
    while (at > 0 && before({ key, id }, this.items[at - 1]!)) at--;
    this.items.splice(at, 0, { key, id, vector: vector() });
    if (this.items.length > this.k) this.items.pop();
  }
}

export function createCorpusAnalysisSummaryActivities(store: DatasetStore) {
  return {
    async summarizeCorpusAnalysis(input: SummarizeCorpusAnalysisInput): Promise<CorpusAnalysis> {
      return once(store, input.output, async () => {
        const beat = throttledHeartbeat();
        const labels = input.corpora.map((c) => c.label);
        const summaries: CorpusSummary[] = input.corpora.map((c) => {
          const domains = (['math', 'code'] as const).filter((d) => c.domains[d] > 0);
          return {
            label: c.label,
            domain: domains.length === 2 ? 'mixed' : (domains[0] ?? 'none'),
            problems: c.problems,
            rejected: c.rejected,
            nearDuplicates: {
              count: c.nearDuplicates,
              rate: c.problems > 0 ? c.nearDuplicates / c.problems : 0,
              threshold: input.nearDuplicateThreshold,
            },
          };
        });
        const index = new Map(labels.map((l, i) => [l, i]));
        const analysis: CorpusAnalysis = {
          name: input.name,
          seed: input.seed,
          corpora: summaries,
          files: { markdown: '', json: '' },
        };

        if (input.difficulty) {
          const d = input.difficulty;
          const kept = labels.map(() => [] as ReferenceRow[]);
          const noReference = labels.map(() => 0);
          const noTests = labels.map(() => 0);
          let read = 0;
          for await (const raw of store.readAll(d.reference)) {
            const r = raw as ReferenceRow;
            beat({ phase: 'reference', read: ++read });
            const i = index.get(r.corpus)!;
            if (r.domain === 'math' && r.teacher.reference === null) noReference[i]!++;
            else {
              kept[i]!.push(r);
              if (r.domain === 'code' && !r.tests?.length) noTests[i]!++;
            }
          }
          const scored = labels.map(() => [] as ScoredRow[]);
          for await (const raw of store.readAll(d.scored)) {
            const r = raw as ScoredRow;
            beat({ phase: 'scored', read: ++read });
            scored[index.get(r.corpus)!]!.push(r);
          }
          summaries.forEach((s, i) => {
            const rows = scored[i]!;
            const math = rows.filter((r) => r.domain === 'math');
            const code = rows.filter((r) => r.domain === 'code');
            const correct = (r: ScoredRow) => (r.correct ? 1 : 0);
            s.difficulty = {
              sampled: input.corpora[i]!.sampled,
              noReference: noReference[i]!,
              noTests: noTests[i]!,
              failed: input.corpora[i]!.sampled - noReference[i]! - noTests[i]! - rows.length,
              accuracy: meanEstimate(inIdOrder(math, correct), input.bootstrap),
              passRate: meanEstimate(inIdOrder(code, correct), input.bootstrap),
              teacherTokens: meanEstimate(
                inIdOrder(kept[i]!, (r) => r.teacher.completionTokens),
                input.bootstrap,
              ),
              teacherReasoningTokens: kept[i]!.every((r) => r.teacher.reasoningTokens !== undefined)
                ? meanEstimate(
                    inIdOrder(kept[i]!, (r) => r.teacher.reasoningTokens!),
                    input.bootstrap,
                  )
                : null,
            };
          });
          analysis.difficulty = {
            teacher: d.teacher,
            solver: d.solver,
            sampleSize: d.sampleSize,
            bootstrap: input.bootstrap,
          };
        }

        let plot: Buffer | undefined;
        let csv: string | undefined;
        if (input.diversity) {
          const v = input.diversity;
          const sums: Float64Array[] = [];
          const counts = labels.map(() => 0);
          const samples = labels.map(() => new SmallestKeys(v.pairwiseSample));
          let read = 0;
          for await (const raw of store.readAll(v.embeddings)) {
            const r = raw as EmbeddingRow;
            beat({ phase: 'embeddings', read: ++read });
            const i = index.get(r.corpus);
            if (i === undefined)
              throw new Error(`${v.embeddings.name}: row ${r.id} names corpus ${r.corpus}, not in this run`);
            const vector = decodeVector(r.vector, r.dimensions);
            const sum = (sums[i] ??= new Float64Array(r.dimensions));
            if (sum.length !== r.dimensions)
              throw new Error(`${v.embeddings.name}: row ${r.id} has ${r.dimensions} dimensions, others ${sum.length}`);
            for (let k = 0; k < vector.length; k++) sum[k] = sum[k]! + vector[k]!;
            counts[i]!++;
            samples[i]!.offer(deriveSeed(input.seed, r.id), r.id, () => vector);
          }
          const missing = labels.filter((_, i) => counts[i] === 0);
          if (missing.length > 0)
            throw new Error(`no embeddings for corpus ${missing.join(', ')} in ${v.embeddings.name}`);
          const means = sums.map((s, i) => s.map((x) => x / counts[i]!));
          const distances = cosineDistanceMatrix(means);
          const mds = classicalMds(distances, 2);
          summaries.forEach((s, i) => {
            s.diversity = {
              embedded: counts[i]!,
              meanPairwiseDistance: meanPairwiseDistance(samples[i]!.items.map((x) => x.vector)),
              pairwiseSample: samples[i]!.items.length,
            };
          });
          const coordinates = labels.map((label, i) => ({
            label,
            x: mds.coordinates[i]![0]!,
            y: mds.coordinates[i]![1]!,
          }));
          analysis.diversity = {
            embedder: v.embedder,
            distances,
            mds: { coordinates, eigenvalues: mds.eigenvalues, share: mds.share, negativeShare: mds.negativeShare },
          };
          plot = renderScatterPng(coordinates, { width: 640, height: 480 });
          csv = 'corpus,x,y\n' + coordinates.map((p) => `${p.label},${p.x},${p.y}`).join('\n') + '\n';
        }

        const dir = store.resolve(path.join('reports', input.name));
        const files = {
          markdown: path.join(dir, 'analysis.md'),
          json: path.join(dir, 'analysis.json'),
          ...(plot ? { plot: path.join(dir, 'mds.png'), coordinates: path.join(dir, 'mds.csv') } : {}),
        };
        analysis.files = {
          markdown: store.relative(files.markdown),
          json: store.relative(files.json),
          ...(plot ? { plot: store.relative(files.plot!), coordinates: store.relative(files.coordinates!) } : {}),
        };
        if (plot) {
          await store.writeAtomic(files.plot!, plot);
          await store.writeAtomic(files.coordinates!, csv!);
        }
        await store.writeAtomic(files.json, JSON.stringify(analysis, null, 2) + '\n');
        await store.writeAtomic(files.markdown, renderCorpusAnalysisSection(analysis) + '\n');
        return analysis;
      });
    },
  };
}
