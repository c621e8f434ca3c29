// Majority voting over extracted answers: the reference answer of a synthetic problem when there is none (spec
// §3.4, "majority of 8 generations").
//
// Answers are normalised, then clustered greedily in input order: each answer joins the first existing cluster
// whose representative (its first member) it `mathEqual`s, or starts a new cluster. The largest cluster wins; ties
// go to the cluster that appeared first, so the result depends only on the input order (deterministic).
// Empty or unextractable answers never join a cluster and can never win (the published script compared them with
// `math_equal("", "")`, which is true, so a majority of failed extractions could become the reference; §8.9).
// When no answer is usable the winner is null. `agreement` is the winner's share of ALL answers (empty ones
// included), so 5 agreeing out of 8 rollouts gives 0.625 whether or not the other 3 were extractable.
// Comparisons that hit a bound count as "not equal" and are reported in `boundHits`.
// Bounded time: all comparisons of one vote share ONE step budget (`stepBudget`, default VOTE_STEP_BUDGET), so a
// vote over hostile answers costs about as much as one comparison; answers are normalised with the input cap of
// normalize.ts. Percent signs and units stay in the normalised answers, so `50\%` and `0.5` share a cluster
// (mathEqual semantics) and `5 cm` and `5 m` do not.
import { EvaluationBudget } from './budget';
import { mathEqualWithBudget } from './equal';
import type { MathEqualOptions } from './equal';
import { extractAnswer } from './extract';
import { normalizeAnswer } from './normalize';

export interface VoteCluster {
  /** The normalised answer of the cluster's first member. */
  readonly representative: string;
  /** Indexes (into the input) of the answers in this cluster, in input order. */
  readonly members: readonly number[];
  readonly size: number;
}

export interface MajorityVote {
  /** The winning cluster's representative, or null when no answer was usable. */
  readonly winner: string | null;
  /** Index of the first answer of the winning cluster. */
  readonly winnerIndex: number | null;
  /** Clusters in order of first appearance. */
  readonly clusters: readonly VoteCluster[];
  /** Winner size / number of answers (0 when there is no winner). */
  readonly agreement: number;
  /** Answers that were non-empty after normalisation. */
  readonly validCount: number;
  /** All answers given. */
  readonly total: number;
  /** Comparisons stopped by a bound (treated as not equal). */
  readonly boundHits: number;
}

interface MutableCluster {
  representative: string;
  members: number[];
}

/** Steps one whole vote may spend on comparisons (about one comparison's default budget). */
export const VOTE_STEP_BUDGET = 100_000;

/** Clusters normalised answers; empty ones are skipped. */
function clusterAnswers(
  answers: readonly string[],
  options: MathEqualOptions | undefined,
): { clusters: MutableCluster[]; boundHits: number } {
  const clusters: MutableCluster[] = [];
  let boundHits = 0;
  const budget = new EvaluationBudget(options?.stepBudget ?? VOTE_STEP_BUDGET);
  answers.forEach((answer, index) => {
    if (answer === '') return;
    for (const cluster of clusters) {
      const verdict = mathEqualWithBudget(answer, cluster.representative, options, budget);
      if (verdict.timedOut) boundHits++;
      if (verdict.equal) {
        cluster.members.push(index);
        return;
      }
    }
    clusters.push({ representative: answer, members: [index] });
  });
  return { clusters, boundHits };
}

/** The first cluster with the most members (a strictly larger cluster is needed to replace an earlier one). */
function largestCluster(clusters: readonly MutableCluster[]): MutableCluster | null {
  let best: MutableCluster | null = null;
  for (const cluster of clusters) if (best === null || cluster.members.length > best.members.length) best = cluster;
  return best;
}

/** Majority vote over answers (raw or normalised; null/undefined/empty count as unusable). */
export function majorityVote(
  answers: ReadonlyArray<string | null | undefined>,
  options?: MathEqualOptions,
): MajorityVote {
  const normalised = answers.map((answer) => normalizeAnswer(answer));
  const { clusters, boundHits } = clusterAnswers(normalised, options);
  const winner = largestCluster(clusters);
  return {
    winner: winner?.representative ?? null,
    winnerIndex: winner?.members[0] ?? null,
    clusters: clusters.map((c) => ({ representative: c.representative, members: c.members, size: c.members.length })),
    agreement: winner && answers.length > 0 ? winner.members.length / answers.length : 0,
    validCount: normalised.filter((a) => a !== '').length,
    total: answers.length,
    boundHits,
  };
}

/** Majority vote over completions: each one's answer is extracted from the text after `</think>`. */
export function majorityVoteOfCompletions(
  completions: ReadonlyArray<string | null | undefined>,
  options?: MathEqualOptions,
): MajorityVote {
  return majorityVote(
    completions.map((completion) => extractAnswer(completion)),
    options,
  );
}
