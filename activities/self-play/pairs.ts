// Pair construction of one self-play round (spec §3.5) and its report.
//
// Per prompt (its k scored rollouts): the difficulty filter on the pass rate over decided rollouts (undecided math
// comparisons count for neither side, where the published script made timeouts negatives, §8.11), then the valid
// passing rollouts are the chosen set and the valid failing ones the rejected set (identical texts once). Both
// sets are shuffled with a PRNG seeded from (run seed, prompt, round) and paired index by index, at most
// maxPairsPerPrompt. All pairs are then ordered by a key hashed from (run seed, prompt, pair, round): the global
// shuffle is deterministic (the published one was unseeded, §8.12) and needs memory for the keys only.
//
// The report counts every input prompt of the run as kept or dropped by one named rule: the rules applied before
// the rollouts come from the rejects files of those steps, the others from this round; `addsUp` checks the sum.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import type { DatasetRef, RejectRecord } from '../../domain/core/dataset';
import type { ModelVersion } from '../../domain/core/models';
import { mulberry32 } from '../../domain/core/random';
import { deriveSeed } from '../../domain/core/seeds';
import {
  chatFormattedPrompt,
  difficultyDecision,
  PRE_ROLLOUT_RULES,
  ROUND_RULES,
  type DifficultySchema,
  type DropRule,
  type RolloutVerdict,
  type SelfPlayDomain,
} from '../../domain/self-play';
import type { z } from 'zod';
import { readRejects, throttledHeartbeat } from '../datasets/rejects';
import { ShuffledDatasetWriter } from '../datasets/shuffled';
import { groupsByItem, once } from '../datasets/once';
import type { DatasetStore } from '../datasets/store';
import { rolloutValidity, type RolloutProblem } from './validity';

export interface BuildPairsInput {
  /** The run's name: the report goes to `reports/<name>/round-<round>.json`. */
  name: string;
  round: number;
  seed: number;
  k: number;
  scored: DatasetRef;
  /** The prompts with their verifiable rewards (summarised in the report). */
  rewarded: DatasetRef;
  output: string;
  difficulty: z.output<typeof DifficultySchema>;
  maxPairsPerPrompt: number;
  shardSize: number;
  /** Every prompt line the run was given (kept by import or not). */
  prompts: number;
  /** Prompts that went to rollouts this round (the sampling stage's kept items). */
  sampledPrompts: number;
  /** Rollout rows the scoring stage set aside or failed (in its rejects files, with reasons). */
  unscoredRollouts: number;
  /** Rejects files (relative to the storage root) of the import and of every step before the rewards. */
  rejectFiles: string[];
  policy: ModelVersion;
}

interface ScoredRollout {
  itemId: string;
  j: number;
  source: string;
  domain: SelfPlayDomain;
  prompt: string;
  completion: string;
  verdict: RolloutVerdict;
}

export interface RoundReport {
  name: string;
  round: number;
  policy: ModelVersion;
  prompts: number;
  kept: number;
  dropped: Record<DropRule, number>;
  /** prompts = kept + the sum of dropped */
  addsUp: boolean;
  /** passes[n] = prompts with n passing rollouts (n = 0..k) */
  passCountHistogram: number[];
  rollouts: {
    total: number;
    pass: number;
    fail: number;
    undecided: number;
    unscored: number;
    valid: number;
    invalid: Partial<Record<RolloutProblem, number>>;
  };
  pairs: number;
  bySource: Record<string, { prompts: number; kept: number; pairs: number }>;
  difficulty: { maxPassRate: number; keepBoundary: boolean };
  rewards: RewardSummary;
}

/** What the verifiable rewards of the prompts that reached the rollouts are made of. */
export interface RewardSummary {
  code: {
    problems: number;
    withGivenTests: number;
    withWrittenTests: number;
    tests: number;
    /** written tests checked against policy solutions (crossCheckTests) */
    crossCheck: {
      problems: number;
      tests: number;
      agree: number;
      disagree: number;
      undecided: number;
      dropped: number;
    };
  };
  math: { problems: number; referenceAnswers: number; majorityAnswers: number };
}

export async function summariseRewards(rows: AsyncIterable<unknown>): Promise<RewardSummary> {
  const s: RewardSummary = {
    code: {
      problems: 0,
      withGivenTests: 0,
      withWrittenTests: 0,
      tests: 0,
      crossCheck: { problems: 0, tests: 0, agree: 0, disagree: 0, undecided: 0, dropped: 0 },
    },
    math: { problems: 0, referenceAnswers: 0, majorityAnswers: 0 },
  };
  for await (const raw of rows) {
    const row = raw as {
      domain?: string;
      tests?: unknown[];
      testOrigin?: string;
      answerOrigin?: string;
      testCheck?: { agree: number[]; disagree: number[]; undecided: number[]; dropped: number };
    };
    if (row.domain === 'code') {
      s.code.problems++;
      if (row.testOrigin === 'given') s.code.withGivenTests++;
      else s.code.withWrittenTests++;
      s.code.tests += row.tests?.length ?? 0;
      const c = row.testCheck;
      if (c) {
        const x = s.code.crossCheck;
        x.problems++;
        x.tests += c.agree.length + c.disagree.length + c.undecided.length;
        x.agree += c.agree.length;
        x.disagree += c.disagree.length;
        x.undecided += c.undecided.length;
        x.dropped += c.dropped;
      }
    } else {
      s.math.problems++;
      if (row.answerOrigin === 'majority') s.math.majorityAnswers++;
      else s.math.referenceAnswers++;
    }
  }
  return s;
}

export interface BuildPairsResult {
  pairs: DatasetRef;
  report: string;
  summary: Pick<RoundReport, 'prompts' | 'kept' | 'dropped' | 'addsUp' | 'pairs' | 'passCountHistogram'>;
}

function emptyDropped(): Record<DropRule, number> {
  const rules: DropRule[] = [...PRE_ROLLOUT_RULES, ...ROUND_RULES];
  return Object.fromEntries(rules.map((r) => [r, 0])) as Record<DropRule, number>;
}

/** The rule a rejects-file line counts under: the step's own rule name, else a bad record or a failed item. */
export function ruleOfReject(reject: RejectRecord): DropRule {
  const rule = (reject.detail as { rule?: unknown } | undefined)?.rule;
  if (typeof rule === 'string' && (PRE_ROLLOUT_RULES as readonly string[]).includes(rule)) return rule as DropRule;
  return reject.kind === 'failed' ? 'failed' : 'invalid-record';
}

function shuffle<T>(items: T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function uniqueInOrder(texts: string[]): string[] {
  return [...new Set(texts)];
}

export function createSelfPlayActivities(store: DatasetStore) {
  return {
    async buildSelfPlayPairs(input: BuildPairsInput): Promise<BuildPairsResult> {
      return once(store, input.output, async () => {
        const ctx = Context.current();
        const beat = throttledHeartbeat();
        const dropped = emptyDropped();
        const bySource: RoundReport['bySource'] = {};
        const sourceOf = (s: string) => (bySource[s] ??= { prompts: 0, kept: 0, pairs: 0 });
        for await (const { file, reject } of readRejects(store, input.rejectFiles)) {
          beat({ phase: 'rejects', file });
          dropped[ruleOfReject(reject)]++;
          const source = (reject.record as { source?: unknown } | undefined)?.source;
          if (typeof source === 'string') sourceOf(source).prompts++;
        }
        const histogram = new Array<number>(input.k + 1).fill(0);
        const rollouts: RoundReport['rollouts'] = {
          total: 0,
          pass: 0,
          fail: 0,
          undecided: 0,
          unscored: input.unscoredRollouts,
          valid: 0,
          invalid: {},
        };
        let kept = 0;
        let groups = 0;
        let pairCount = 0;

        // pairs in prompt order go to a scratch file, written to the dataset in their seeded order at the end
        const shuffled = await ShuffledDatasetWriter.open(store, input.output, ctx.info.attempt);
        try {
          for await (const group of groupsByItem<ScoredRollout>(store.readAll(input.scored))) {
            groups++;
            beat({ phase: 'pairs', prompts: groups, pairs: pairCount });
            const first = group[0]!;
            const src = sourceOf(first.source);
            src.prompts++;
            let passes = 0;
            let decided = 0;
            const chosen: string[] = [];
            const rejected: string[] = [];
            for (const r of [...group].sort((a, b) => a.j - b.j)) {
              rollouts.total++;
              rollouts[r.verdict]++;
              if (r.verdict !== 'undecided') decided++;
              if (r.verdict === 'pass') passes++;
              const validity = rolloutValidity(r.completion, r.domain);
              if (!validity.valid) {
                rollouts.invalid[validity.problem] = (rollouts.invalid[validity.problem] ?? 0) + 1;
                continue;
              }
              rollouts.valid++;
              if (r.verdict === 'pass') chosen.push(validity.response);
              else if (r.verdict === 'fail') rejected.push(validity.response);
            }
            histogram[Math.min(passes, input.k)]!++;
            const decision = difficultyDecision(passes, decided, input.difficulty);
            if (!decision.keep) {
              dropped[decision.rule]++;
              continue;
            }
            const c = uniqueInOrder(chosen);
            const rj = uniqueInOrder(rejected);
            if (c.length === 0) {
              dropped['no-valid-chosen']++;
              continue;
            }
            if (rj.length === 0) {
              dropped['no-valid-rejected']++;
              continue;
            }
            kept++;
            src.kept++;
            const random = mulberry32(deriveSeed(input.seed, `${first.itemId}\u0000pairs`, input.round));
            const cs = shuffle(c, random);
            const rs = shuffle(rj, random);
            const n = Math.min(input.maxPairsPerPrompt, cs.length, rs.length);
            for (let i = 0; i < n; i++) {
              const id = `${first.itemId}\u0000${i}`;
              shuffled.add(deriveSeed(input.seed, `${id}\u0000order`, input.round), id, {
                source: first.source,
                prompt: chatFormattedPrompt(first.prompt),
                chosen: `\n${cs[i]}`,
                rejected: `\n${rs[i]}`,
              });
              pairCount++;
              src.pairs++;
            }
          }
        } catch (err) {
          await shuffled.discard();
          throw err;
        }
        // prompts sampled whose rollouts all failed to be scored have no group at all
        const withoutRows = Math.max(0, input.sampledPrompts - groups);
        dropped['no-results'] += withoutRows;
        const pairs = await shuffled.write(store, input.output, {
          shardSize: input.shardSize,
          producedBy: { stage: 'buildSelfPlayPairs', round: input.round, seed: input.seed, input: input.scored },
          beat: (written, of) => beat({ phase: 'order', written, of }),
        });
        const droppedTotal = Object.values(dropped).reduce((a, b) => a + b, 0);
        const report: RoundReport = {
          name: input.name,
          round: input.round,
          policy: input.policy,
          prompts: input.prompts,
          kept,
          dropped,
          addsUp: kept + droppedTotal === input.prompts,
          passCountHistogram: histogram,
          rollouts,
          pairs: pairCount,
          bySource,
          difficulty: input.difficulty,
          rewards: await summariseRewards(store.readAll(input.rewarded)),
        };
        const reportFile = store.resolve(path.join('reports', input.name, `round-${input.round}.json`));
        await fsp.mkdir(path.dirname(reportFile), { recursive: true });
        await store.writeAtomic(reportFile, JSON.stringify(report, null, 2) + '\n');
        return {
          pairs,
          report: store.relative(reportFile),
          summary: {
            prompts: report.prompts,
            kept,
            dropped,
            addsUp: report.addsUp,
            pairs: pairCount,
            passCountHistogram: histogram,
          },
        };
      });
    },
  };
}

export type SelfPlayActivities = ReturnType<typeof createSelfPlayActivities>;
