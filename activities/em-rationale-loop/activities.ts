// Activities of the EM rationale loop that work on whole datasets: best-of-K selection with the E-step metrics,
// the SFT sets of q_φ and p_θ, and the run report. Each is idempotent: a finished output carries a `.done.json`
// with the result, which a retry or a re-run returns as it is.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import type { DatasetRef } from '../../domain/core/dataset';
import {
  mean,
  median,
  reward,
  selectBest,
  type EmParsed,
  type EStepMetrics,
  type IterationRecord,
  type ScoredCandidate,
} from '../../domain/em-rationale-loop';
import { formatGeneration } from '../../domain/synthesize-corpus';
import { groupsByItem, once } from '../datasets/once';
import type { DatasetStore } from '../datasets/store';
import { writeDataset } from '../datasets/write';
import { TripleSchema } from '../../domain/em-rationale-loop';
import { sftRow } from './operations';
import { renderLinePlotPng } from '../reports/plot';

interface CandidateRow extends ScoredCandidate {
  itemId: string;
  foundational_concepts: string[];
  level: string;
  problem: string;
  previousRationale: string | null;
  scored?: boolean;
  reward?: number;
}

export interface SelectRationalesInput {
  input: DatasetRef;
  output: string;
  criterion: EmParsed['criterion'];
  shardSize: number;
}

export interface SelectRationalesResult {
  output: DatasetRef;
  metrics: EStepMetrics;
  /** items without any scored candidate and without a previous rationale: left out */
  dropped: number;
}

export function createEmActivities(store: DatasetStore) {
  return {
    /** E-step selection: z* = argmax_k R(c, x, z_k) per item, the selected triples and the iteration's metrics. */
    async selectRationales(input: SelectRationalesInput): Promise<SelectRationalesResult> {
      return once(store, input.output, async () => {
        const ctx = Context.current();
        const rewards: number[] = [];
        const nll: number[] = [];
        let items = 0;
        let unscored = 0;
        let candidates = 0;
        let changed = 0;
        let dropped = 0;
        async function* selected(): AsyncGenerator<Record<string, unknown>> {
          for await (const group of groupsByItem<CandidateRow>(store.readAll(input.input))) {
            items++;
            candidates += group.length;
            const first = group[0]!;
            const best = selectBest(
              group.filter((c) => c.scored === true),
              input.criterion,
            );
            const rationale = best?.rationale ?? first.previousRationale;
            if (!best) unscored++;
            if (rationale === null || rationale === undefined) {
              dropped++;
              continue;
            }
            if (best) {
              rewards.push(reward(best)!);
              if (best.tokensX) nll.push(-best.logpX! / best.tokensX);
            }
            if (rationale !== first.previousRationale) changed++;
            if (items % 500 === 0) ctx.heartbeat({ items });
            yield {
              id: first.itemId,
              foundational_concepts: first.foundational_concepts,
              level: first.level,
              problem: first.problem,
              rationale,
              target: formatGeneration(rationale, first.problem),
              selectedK: best?.k ?? null,
              reward: best ? reward(best) : null,
              logpZ: best?.logpZ ?? null,
              logpX: best?.logpX ?? null,
              tokensZ: best?.tokensZ ?? null,
              tokensX: best?.tokensX ?? null,
              changed: rationale !== first.previousRationale,
              candidates: group.map((c) => ({ k: c.k, reward: c.scored ? (c.reward ?? null) : null })),
            };
          }
        }
        const output = await writeDataset(store, input.output, selected(), {
          shardSize: input.shardSize,
          producedBy: { stage: 'selectRationales', input: input.input, criterion: input.criterion },
        });
        const metrics: EStepMetrics = {
          items,
          unscored,
          candidates,
          meanReward: mean(rewards),
          medianReward: median(rewards),
          meanNllPerTokenX: mean(nll),
          changedFraction: items === 0 ? 0 : changed / items,
        };
        return { output, metrics, dropped };
      });
    },

    /** The SFT set of one model from triples: `{id, prompt, completion}` rows (q_φ: (c, x) → z; p_θ: c → (z, x)). */
    async buildSftData(input: {
      input: DatasetRef;
      output: string;
      role: 'rationaleModel' | 'promptGenerator';
      shardSize: number;
    }): Promise<DatasetRef> {
      return once(store, input.output, async () => {
        async function* rows(): AsyncGenerator<Record<string, unknown>> {
          for await (const raw of store.readAll(input.input)) {
            const t = TripleSchema.parse(raw);
            if (!t.rationale) throw new Error(`${input.input.name}: triple ${t.id} has no rationale`);
            yield { id: t.id, ...sftRow(input.role, { ...t, rationale: t.rationale }) };
          }
        }
        return writeDataset(store, input.output, rows(), {
          shardSize: input.shardSize,
          producedBy: { stage: 'buildSftData', role: input.role, input: input.input },
        });
      });
    },

    /** The run report: every iteration's metrics and model versions as JSON, and mean R per iteration as a PNG. */
    async writeEmReport(input: { name: string; history: IterationRecord[] }): Promise<{ json: string; png: string }> {
      const dir = store.resolve(path.join('reports', input.name));
      await fsp.mkdir(dir, { recursive: true });
      const json = path.join(dir, 'em-report.json');
      const png = path.join(dir, 'mean-reward.png');
      await store.writeAtomic(json, JSON.stringify({ name: input.name, iterations: input.history }, null, 2) + '\n');
      const points = input.history
        .map((h) => ({ x: h.iteration, y: h.eStep.meanReward }))
        .filter((p) => Number.isFinite(p.y));
      await store.writeAtomic(png, renderLinePlotPng(points, { width: 640, height: 400 }));
      return { json: store.relative(json), png: store.relative(png) };
    },
  };
}

export type EmActivities = ReturnType<typeof createEmActivities>;
