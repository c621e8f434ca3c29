// The SFT dataset of a distillation run (spec §4.2 steps 5–6) and its report.
//
// The traces that passed every per-cell filter are read in corpus order (prompt, then sample j); the first one of
// each formatted prompt is kept (`duplicate-prompt` drops the others, across samples and across prompts that format
// the same), and the kept `{prompt, completion}` rows are written in an order hashed from (run seed, row id): the
// same on every run with the same seed, where the published script shuffled unseeded. Beside the JSONL shards go
// the optional Parquet files, the dataset card (README.md) and the token-length histogram; the report
// `reports/<name>/sft.json` counts every cell (prompt lines × n) as kept or dropped by exactly one rule.
import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import path from 'node:path';
import type { DatasetRef, RejectRecord } from '../../domain/core/dataset';
import { deriveSeed } from '../../domain/core/seeds';
import { SFT_RULES, type SftDomain, type SftRule, type SftTraceRow } from '../../domain/sft-distill';
import { once } from '../datasets/once';
import { readRejects, throttledHeartbeat } from '../datasets/rejects';
import { ShuffledDatasetWriter } from '../datasets/shuffled';
import type { DatasetStore } from '../datasets/store';
import { renderHistogramPng } from '../reports/plot';
import { datasetCard, type CardFacts } from './card';
import { writeParquetShards } from './parquet';

/** A rejects file of an earlier step and how many cells one of its lines stands for (n for a prompt, 1 for a cell). */
export interface RejectSource {
  file: string;
  cellsPerLine: number;
}

export interface AssembleSftInput {
  /** The run's name: the report goes to `reports/<name>/sft.json`. */
  name: string;
  seed: number;
  n: number;
  /** Prompt lines given (kept by the import or not). */
  lines: number;
  /** The traces that passed the per-cell filters (filterTrace rows), in corpus order. */
  traces: DatasetRef;
  output: string;
  rejects: RejectSource[];
  shardSize: number;
  parquet: boolean;
  maxLen: number;
  card: Omit<CardFacts, 'name' | 'rows' | 'dropped' | 'cells' | 'histogram' | 'tokenizer' | 'dataFiles' | 'models'>;
}

export interface TokenHistogram {
  binWidth: number;
  /** bins[i] = kept rows with i·binWidth ≤ tokens < (i+1)·binWidth */
  bins: number[];
  min: number;
  max: number;
  mean: number;
}

export interface SftReport {
  name: string;
  seed: number;
  n: number;
  lines: number;
  /** lines × n: every cell is kept or dropped by one rule */
  cells: number;
  kept: number;
  dropped: Record<SftRule, number>;
  addsUp: boolean;
  byDomain: Record<SftDomain, { kept: number; dropped: number }>;
  formats: Record<'harmony' | 'think' | 'split', number>;
  tokenizer: string | null;
  tokenLengths: TokenHistogram;
  models: string[];
  output: DatasetRef;
  files: { card: string; histogram: string; parquet: string[] };
}

export interface AssembleSftResult {
  dataset: DatasetRef;
  report: string;
  summary: Pick<SftReport, 'cells' | 'kept' | 'dropped' | 'addsUp' | 'tokenizer'>;
}

function emptyDropped(): Record<SftRule, number> {
  return Object.fromEntries(SFT_RULES.map((r) => [r, 0])) as Record<SftRule, number>;
}

/** The rule a rejects-file line counts under: the step's own rule name, else a failed item or a bad record. */
export function sftRuleOfReject(reject: RejectRecord): SftRule {
  const rule = (reject.detail as { rule?: unknown } | undefined)?.rule;
  if (typeof rule === 'string' && (SFT_RULES as readonly string[]).includes(rule)) return rule as SftRule;
  return reject.kind === 'failed' ? 'failed' : 'invalid-record';
}

/** 96 bits of the formatted prompt: the set of prompts seen costs ~60 bytes a prompt, not the prompt itself. */
function promptKey(prompt: string): string {
  return createHash('sha256').update(prompt).digest('base64').slice(0, 16);
}

/** The token-length histogram of the kept rows, added to one row at a time (memory does not grow with the rows). */
export class TokenLengths {
  private readonly counts: number[];
  private readonly binWidth: number;
  private n = 0;
  private min = Infinity;
  private max = 0;
  private sum = 0;

  constructor(maxLen: number, bins = 32) {
    this.binWidth = Math.max(1, Math.ceil(maxLen / bins));
    this.counts = new Array<number>(bins).fill(0);
  }

  add(tokens: number): void {
    this.counts[Math.min(this.counts.length - 1, Math.floor(tokens / this.binWidth))]!++;
    this.n++;
    this.min = Math.min(this.min, tokens);
    this.max = Math.max(this.max, tokens);
    this.sum += tokens;
  }

  histogram(): TokenHistogram {
    return {
      binWidth: this.binWidth,
      bins: [...this.counts],
      min: this.n ? this.min : 0,
      max: this.max,
      mean: this.n ? Math.round((this.sum / this.n) * 10) / 10 : 0,
    };
  }
}

export function createSftActivities(store: DatasetStore) {
  return {
    async assembleSftDataset(input: AssembleSftInput): Promise<AssembleSftResult> {
      return once(store, input.output, async () => {
        const beat = throttledHeartbeat();
        const dropped = emptyDropped();
        const byDomain: SftReport['byDomain'] = { code: { kept: 0, dropped: 0 }, math: { kept: 0, dropped: 0 } };
        for (const source of input.rejects) {
          for await (const { file, reject } of readRejects(store, [source.file])) {
            beat({ phase: 'rejects', file });
            const rule = sftRuleOfReject(reject);
            const detailCells = (reject.detail as { cells?: unknown } | undefined)?.cells;
            const cells = typeof detailCells === 'number' ? detailCells : source.cellsPerLine;
            dropped[rule] += cells;
            const domain = (reject.record as { domain?: unknown } | undefined)?.domain;
            if (domain === 'code' || domain === 'math') byDomain[domain].dropped += cells;
          }
        }
        const formats: SftReport['formats'] = { harmony: 0, think: 0, split: 0 };
        const models = new Set<string>();
        const seen = new Set<string>();
        const lengths = new TokenLengths(input.maxLen);
        let tokenizer: string | null = null;
        const shuffled = await ShuffledDatasetWriter.open(store, input.output, Context.current().info.attempt);
        let read = 0;
        try {
          for await (const raw of store.readAll(input.traces)) {
            const row = raw as SftTraceRow;
            beat({ phase: 'dedup', read: read++, kept: shuffled.rows });
            const key = promptKey(row.prompt);
            if (seen.has(key)) {
              dropped['duplicate-prompt']++;
              byDomain[row.domain].dropped++;
              continue;
            }
            seen.add(key);
            byDomain[row.domain].kept++;
            formats[row.format]++;
            models.add(row.model);
            tokenizer ??= row.tokenizer;
            lengths.add(row.tokens);
            shuffled.add(deriveSeed(input.seed, `${row.id}\u0000sft-order`), row.id, {
              prompt: row.prompt,
              completion: row.completion,
            });
          }
        } catch (err) {
          await shuffled.discard();
          throw err;
        }
        const kept = shuffled.rows;
        const dataset = await shuffled.write(store, input.output, {
          shardSize: input.shardSize,
          producedBy: { stage: 'assembleSftDataset', seed: input.seed, input: input.traces },
          beat: (written, of) => beat({ phase: 'order', written, of }),
        });
        const dir = store.datasetDir(input.output);
        const parquet = input.parquet ? await writeParquetShards(store, dataset, beat) : [];
        const histogram = lengths.histogram();
        const png = renderHistogramPng(
          histogram.bins.map((count, i) => ({ from: i * histogram.binWidth, count })),
          { width: 720, height: 360 },
        );
        const reportDir = store.resolve(path.join('reports', input.name));
        const histogramFile = path.join(reportDir, 'token-lengths.png');
        await store.writeAtomic(histogramFile, png);
        await store.writeAtomic(path.join(dir, 'token-lengths.png'), png);
        const cells = input.lines * input.n;
        const droppedTotal = Object.values(dropped).reduce((a, b) => a + b, 0);
        const cardFile = path.join(dir, 'README.md');
        await store.writeAtomic(
          cardFile,
          datasetCard({
            ...input.card,
            name: input.name,
            rows: kept,
            cells,
            dropped,
            histogram,
            tokenizer,
            models: [...models].sort(),
            dataFiles: parquet.length > 0 ? 'shard-*.parquet' : 'shard-*.jsonl',
          }),
        );
        const report: SftReport = {
          name: input.name,
          seed: input.seed,
          n: input.n,
          lines: input.lines,
          cells,
          kept,
          dropped,
          addsUp: kept + droppedTotal === cells,
          byDomain,
          formats,
          tokenizer,
          tokenLengths: histogram,
          models: [...models].sort(),
          output: dataset,
          files: {
            card: store.relative(cardFile),
            histogram: store.relative(histogramFile),
            parquet: parquet.map((f) => store.relative(f)),
          },
        };
        const reportFile = path.join(reportDir, 'sft.json');
        await store.writeAtomic(reportFile, JSON.stringify(report, null, 2) + '\n');
        return {
          dataset,
          report: store.relative(reportFile),
          summary: { cells, kept, dropped, addsUp: report.addsUp, tokenizer },
        };
      });
    },
  };
}

export type SftActivities = ReturnType<typeof createSftActivities>;
