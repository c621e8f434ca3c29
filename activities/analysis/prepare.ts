// What the corpus analyses start from, read once per corpus (files or a dataset, in order):
//   every usable problem into `<name>/problems` (what the embedder reads: `<label>/<id>`, the corpus, the text);
//   a seeded uniform sample per corpus into `<name>/sample` (Algorithm R with mulberry32 seeded by the run seed and
//     the label: the same corpus and seed give the same sample on every host; a corpus smaller than the sample is
//     taken whole), with the domain and, for code, the tests (`input_output` as LiveCodeBench gives it, or `tests`:
//     [{input, output}]);
//   the near-duplicate count of each corpus by the project's dedup index (first come wins, as in synthesis);
//   the embedder made concrete (`auto` → the shipped ONNX model or the fallback) and described for the report.
// A record is usable with a non-empty `problem` (or `prompt`, a chat-formatted one taken without its turn markers)
// and, when the difficulty analysis runs, a domain (`domain`, a self-play `source`, or the corpus' default). Any
// other line goes to the rejects file with its file (or dataset shard) and line and the field at fault.
import path from 'node:path';
import type { DatasetRef, RejectRecord } from '../../domain/core/dataset';
import { mulberry32 } from '../../domain/core/random';
import { deriveSeed } from '../../domain/core/seeds';
import { withoutChatTurn } from '../../domain/self-play';
import {
  ANALYSIS_DOMAINS,
  type AnalysisDomain,
  type Corpus,
  type CorpusProblem,
  type DifficultyItem,
  type EmbedderDescription,
  type EmbedderSpec,
  type ResolvedEmbedder,
} from '../../domain/analyze-corpora';
import { parseInputOutput } from '../datasets/code-benchmark';
import { readRecords, type DatasetStore, type RecordLine } from '../datasets/store';
import { once } from '../datasets/once';
import { throttledHeartbeat } from '../datasets/rejects';
import { writeDataset } from '../datasets/write';
import { NearDuplicateIndex } from '../dedup/lsh-index';
import { describeEmbedder, resolveEmbedder } from './embedders';

export interface PrepareCorpusAnalysisInput {
  name: string;
  corpora: Corpus[];
  seed: number;
  /** 0: no difficulty sample */
  sampleSize: number;
  /** the embedder to resolve; absent: no diversity analysis */
  embedder?: EmbedderSpec;
  nearDuplicateThreshold: number;
  shardSize: number;
  /** `<name>/problems`; the sample is `<name>/sample` */
  output: string;
}

export interface PreparedCorpus {
  label: string;
  problems: number;
  rejected: number;
  sampled: number;
  domains: Record<AnalysisDomain | 'none', number>;
  nearDuplicates: number;
}

export interface PrepareCorpusAnalysisResult {
  problems: DatasetRef;
  sample?: DatasetRef;
  corpora: PreparedCorpus[];
  embedder?: { spec: ResolvedEmbedder; description: EmbedderDescription };
  rejects?: string;
}

interface Located {
  record?: Record<string, unknown>;
  bad?: string;
  raw: string;
  where: { file?: string; dataset?: string; shard?: number; line: number };
  /** the id a record without one gets */
  fallbackId: string;
}

async function* corpusRecords(store: DatasetStore, corpus: Corpus): AsyncGenerator<Located> {
  const located = (r: RecordLine, where: Located['where'], fallbackId: string): Located =>
    r.ok
      ? { record: r.value as Record<string, unknown>, raw: r.raw, where, fallbackId }
      : { bad: r.reason, raw: r.raw, where, fallbackId };
  if (corpus.files) {
    for (const f of corpus.files) {
      const file = path.resolve(f);
      for await (const r of readRecords(file))
        yield located(r, { file, line: r.line }, `${path.basename(file)}:${r.line}`);
    }
    return;
  }
  const manifest = await store.readManifest(corpus.dataset!);
  for (let shard = 0; shard < manifest.shards.length; shard++) {
    const file = await store.localShard(manifest, shard);
    for await (const r of readRecords(file))
      yield located(r, { dataset: manifest.name, shard, line: r.line }, `${shard}:${r.line}`);
  }
}

type Parsed =
  | {
      ok: true;
      itemId: string;
      problem: string;
      domain?: AnalysisDomain;
      tests?: DifficultyItem['tests'];
      fnName?: string;
    }
  | { ok: false; reason: string };

function parseProblem(record: Record<string, unknown>, corpus: Corpus, fallbackId: string): Parsed {
  const id = record.id;
  if (id !== undefined && typeof id !== 'string' && typeof id !== 'number')
    return { ok: false, reason: 'field id: must be a string or a number' };
  const itemId = id === undefined || id === '' ? fallbackId : String(id);
  const text =
    typeof record.problem === 'string' && record.problem.trim() !== ''
      ? record.problem
      : typeof record.prompt === 'string'
        ? withoutChatTurn(record.prompt)
        : '';
  if (text.trim() === '') return { ok: false, reason: 'field problem: missing or empty (and no non-empty `prompt`)' };
  let domain: AnalysisDomain | undefined;
  if (record.domain !== undefined) {
    if (!(ANALYSIS_DOMAINS as readonly unknown[]).includes(record.domain))
      return {
        ok: false,
        reason: `field domain: ${JSON.stringify(record.domain)} is not one of ${ANALYSIS_DOMAINS.join(', ')}`,
      };
    domain = record.domain as AnalysisDomain;
  } else if (typeof record.source === 'string') domain = record.source.endsWith('-Code') ? 'code' : 'math';
  else domain = corpus.domain;
  let tests: DifficultyItem['tests'];
  let fnName: string | undefined;
  if (record.input_output !== undefined) {
    try {
      const io = parseInputOutput(record.input_output, 'input_output');
      tests = io.tests;
      fnName = io.fnName;
    } catch (err) {
      return { ok: false, reason: `field input_output: ${(err as Error).message}` };
    }
  } else if (record.tests !== undefined) {
    const list = record.tests;
    if (!Array.isArray(list)) return { ok: false, reason: 'field tests: must be a list of {input, output}' };
    for (let i = 0; i < list.length; i++) {
      const t = list[i] as { input?: unknown; output?: unknown } | null;
      if (typeof t?.input !== 'string' || typeof t.output !== 'string')
        return { ok: false, reason: `field tests[${i}]: needs string input and output` };
    }
    tests = (list as Array<{ input: string; output: string }>).map((t) => ({ input: t.input, output: t.output }));
  }
  return {
    ok: true,
    itemId,
    problem: text.trim(),
    ...(domain ? { domain } : {}),
    ...(tests ? { tests } : {}),
    ...(fnName ? { fnName } : {}),
  };
}

export function createCorpusAnalysisPrepareActivities(store: DatasetStore) {
  return {
    async prepareCorpusAnalysis(input: PrepareCorpusAnalysisInput): Promise<PrepareCorpusAnalysisResult> {
      return once(store, input.output, async () => {
        const beat = throttledHeartbeat();
        const rejects: RejectRecord[] = [];
        const prepared: PreparedCorpus[] = [];
        const samples: DifficultyItem[][] = [];
        const difficulty = input.sampleSize > 0;
        let read = 0;
        async function* problems(): AsyncGenerator<CorpusProblem> {
          for (const corpus of input.corpora) {
            const summary: PreparedCorpus = {
              label: corpus.label,
              problems: 0,
              rejected: 0,
              sampled: 0,
              domains: { math: 0, code: 0, none: 0 },
              nearDuplicates: 0,
            };
            const dedup = new NearDuplicateIndex({ threshold: input.nearDuplicateThreshold });
            const random = mulberry32(deriveSeed(input.seed, corpus.label));
            const reservoir: Array<{ index: number; item: DifficultyItem }> = [];
            const seen = new Set<string>();
            for await (const l of corpusRecords(store, corpus)) {
              beat({ corpus: corpus.label, read: ++read });
              const reject = (reason: string) => {
                summary.rejected++;
                rejects.push({
                  kind: 'rejected',
                  stage: 'prepare',
                  reason: `${corpus.label}: ${reason}`,
                  source: l.where,
                  ...(l.record ? { record: l.record } : { raw: l.raw }),
                });
              };
              if (!l.record) {
                reject(`line ${l.where.line}: ${l.bad!}`);
                continue;
              }
              const p = parseProblem(l.record, corpus, l.fallbackId);
              if (!p.ok) {
                reject(p.reason);
                continue;
              }
              if (difficulty && !p.domain) {
                reject(
                  'field domain: no `domain`, self-play `source` or corpus `domain` (math or code) for the difficulty analysis',
                );
                continue;
              }
              if (seen.has(p.itemId)) {
                reject(`field id: "${p.itemId}" appears twice in the corpus`);
                continue;
              }
              seen.add(p.itemId);
              const id = `${corpus.label}/${p.itemId}`;
              if (dedup.checkAndAdd(id, p.problem).duplicate) summary.nearDuplicates++;
              summary.domains[p.domain ?? 'none']++;
              const index = summary.problems++;
              if (difficulty) {
                const item: DifficultyItem = {
                  id,
                  corpus: corpus.label,
                  itemId: p.itemId,
                  domain: p.domain!,
                  problem: p.problem,
                  ...(p.tests ? { tests: p.tests } : {}),
                  ...(p.fnName ? { fnName: p.fnName } : {}),
                };
                // Algorithm R: item i (0-based) replaces a uniform slot with probability k / (i + 1)
                if (reservoir.length < input.sampleSize) reservoir.push({ index, item });
                else {
                  const j = Math.floor(random() * (index + 1));
                  if (j < input.sampleSize) reservoir[j] = { index, item };
                }
              }
              yield { id, corpus: corpus.label, itemId: p.itemId, problem: p.problem };
            }
            dedup.close();
            reservoir.sort((a, b) => a.index - b.index);
            summary.sampled = reservoir.length;
            samples.push(reservoir.map((r) => r.item));
            prepared.push(summary);
          }
        }
        const problemsRef = await writeDataset(store, input.output, problems(), {
          shardSize: input.shardSize,
          producedBy: { stage: 'prepareCorpusAnalysis', seed: input.seed },
        });
        const empty = prepared.filter((c) => c.problems === 0).map((c) => c.label);
        if (empty.length > 0)
          throw new Error(`no usable problems in corpus ${empty.join(', ')} (see the rejects of ${input.output})`);
        const sample = difficulty
          ? await writeDataset(store, `${input.name}/sample`, samples.flat(), {
              shardSize: input.shardSize,
              producedBy: { stage: 'prepareCorpusAnalysis', seed: input.seed, sampleSize: input.sampleSize },
            })
          : undefined;
        let rejectsFile: string | undefined;
        if (rejects.length > 0) {
          const abs = path.join(store.datasetDir(input.output), 'rejects.jsonl');
          await store.writeAtomic(abs, rejects.map((r) => JSON.stringify(r)).join('\n') + '\n');
          rejectsFile = store.relative(abs);
        }
        let embedder: PrepareCorpusAnalysisResult['embedder'];
        if (input.embedder) {
          const { embedder: spec, why } = resolveEmbedder(input.embedder);
          embedder = { spec, description: await describeEmbedder(spec, why) };
        }
        return {
          problems: problemsRef,
          ...(sample ? { sample } : {}),
          corpora: prepared,
          ...(embedder ? { embedder } : {}),
          ...(rejectsFile ? { rejects: rejectsFile } : {}),
        };
      });
    },
  };
}
