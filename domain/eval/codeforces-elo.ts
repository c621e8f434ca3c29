// Codeforces Elo of a model (spec §5.2, issue 15), computed the way DeepCoder's release script does it (rLLM
// `scripts/deepcoder/benchmark/cf_elo_calc.py` at 18e446c5, itself adapted from QwenLM/CodeElo): the model takes
// part in each contest of the benchmark as one more participant, its attempts at a problem count as sequential
// submissions, it gets the place its score earns in the real final standings, and its rating is the one at which
// Codeforces' expected place of a participant equals that place. The estimate is the mean over contests.
//
// Per contest (id = the leading digits of a problem id, `1972D1` → 1972), from the cached Codeforces API results
// `contest.standings` (problems, rows) and `contest.ratingChanges`:
//  1. Keep the standings rows whose first member's handle also has a rating change, and the rating changes whose
//     handle is in the standings. The contest counts only when both lists then have the same length n > 200.
//  2. Score: for each problem of the standings, in their order, whose `${contestId}${index}` the model attempted,
//     take the first passing attempt i (0-based) among the first passN: score += max(0, points − 50·i) when the
//     problem has points, otherwise score += 1 and penalty += 10·i.
//  3. Place: rank = the index of the first row (standings order) with fewer points, or with equal points and a
//     higher penalty; n when there is none.
//  4. Rating: bisection over integers, lo = 0, hi = max oldRating + 100; while hi − lo > 1, mid = ⌊(lo + hi)/2⌋
//     and seed = 1 + Σ_j 1/(1 + 10^((mid − oldRating_j)/400)) over the n rating changes; seed < rank → hi = mid,
//     otherwise lo = mid. The contest's rating is lo.
// Then rating = the mean of the contest ratings, percentile = round(100 · #{users rated below it} / #users, 1) over
// ratings_2024.json ({rating: users}), with Python's round (half to even) as the script's `bisect_left` + `round`.
//
// The script's quirks, reproduced on purpose (each one changes the number it prints):
//  - The penalty only grows on problems without points: on a contest with points the model's penalty stays 0, so
//    it wins every tie on points against a row with a penalty.
//  - A row with the same points and the same penalty as the model is placed ahead of it.
//  - rank is 0-based (the number of rows placed ahead) but the expected seed it is compared with is 1-based, so
//    the model is rated as if it had finished one place higher.
//  - hi is never returned: the rating is capped at max oldRating + 99, and a model placed ahead of everyone gets
//    exactly that. lo = 0 is never tested: a model below all expectations gets 0.
//  - The −50 per earlier attempt ignores time (on Codeforces points also decay by minute), and a problem's score
//    is clamped at 0, not at the usual 30 % of its points.
//  - Attempted problems missing from the standings' problem list are ignored, as are standings problems never
//    attempted; oldRating is used exactly as the API reports it.
//  - The percentile is of the mean rating, not a mean of per-contest percentiles.
// Where we differ, deliberately: the script fetches the API on each run and treats any failure or malformed reply
// as "skip the contest"; here the cache is validated up front (a bad field is an error naming contest and field)
// and a contest whose fetch failed is skipped with the reason recorded in the cache. The script's command line
// defaults to pass_n = 1; the paper evaluates with up to 8 attempts, our default. A problem id given twice is an
// error (the script keeps the last).
//
// Floating point: Python's `**` calls the C library's pow and JavaScript's has its own; both are within an ulp, so
// a contest rating could differ only where the expected seed at an integer lies within ~1e-12 of the rank.
import { z } from 'zod';
import { describeZodError } from '../core/validation';

// ---- the cache file: what the Codeforces API returns, cut down to the fields used here ----

const ProblemSchema = z.object({
  contestId: z.number().int(),
  index: z.string().min(1),
  /** present on contests scored by points, absent on ICPC-style ones (Div. 3/4, Educational) */
  points: z.number().optional(),
});

const RowSchema = z.object({
  party: z.object({ members: z.array(z.object({ handle: z.string() })).min(1) }),
  points: z.number(),
  penalty: z.number(),
});

const RatingChangeSchema = z.object({ handle: z.string(), oldRating: z.number().int() });

/** `contest.standings` → `result`, as much of it as the rating needs. */
export const CodeforcesStandingsSchema = z.object({ problems: z.array(ProblemSchema), rows: z.array(RowSchema) });
/** `contest.ratingChanges` → `result`. */
export const CodeforcesRatingChangesSchema = z.array(RatingChangeSchema);

const ContestEntrySchema = z
  .object({
    standings: CodeforcesStandingsSchema.optional(),
    ratingChanges: CodeforcesRatingChangesSchema.optional(),
    /** why the fetch got no usable reply (e.g. the API's comment "Rating changes are unavailable…") */
    error: z.string().optional(),
  })
  .refine((e) => e.error !== undefined || (e.standings !== undefined && e.ratingChanges !== undefined), {
    message: 'needs "standings" and "ratingChanges", or "error"',
  });

export const CodeforcesCacheSchema = z.object({
  version: z.literal(1),
  /** the API base the entries came from */
  source: z.string().optional(),
  fetchedAt: z.string().optional(),
  /** by contest id (digits) */
  contests: z.record(z.string().regex(/^\d+$/, 'a contest id is digits'), ContestEntrySchema),
});

export type CodeforcesStandings = z.infer<typeof CodeforcesStandingsSchema>;
export type CodeforcesRatingChanges = z.infer<typeof CodeforcesRatingChangesSchema>;
export type CodeforcesContestEntry = z.infer<typeof ContestEntrySchema>;
export type CodeforcesCache = z.infer<typeof CodeforcesCacheSchema>;

/** Validates a parsed cache file; the error names `source` and every bad field (`contests.1971.standings.rows[3].points`). */
export function parseCodeforcesCache(value: unknown, source = 'Codeforces cache'): CodeforcesCache {
  const parsed = CodeforcesCacheSchema.safeParse(value);
  if (!parsed.success) throw new Error(`${source}: invalid Codeforces cache: ${describeZodError(parsed.error)}`);
  return parsed.data;
}

// ---- the rating ----

export interface CodeforcesProblemAttempts {
  /** Codeforces problem id: contest digits then the problem's index (`1971A`, `1972D1`) */
  problemId: string;
  /** one verdict per attempt, in attempt (run) order */
  passes: boolean[];
}

export interface CodeforcesContestRating {
  contest: string;
  rating: number;
  /** rows of the standings placed ahead of the model (0-based place) */
  rank: number;
  score: number;
  penalty: number;
}

export interface CodeforcesEloResult {
  /** mean of the contest ratings; null when no contest counted */
  rating: number | null;
  /** percent of the rated users below `rating`, one decimal */
  percentile: number | null;
  /** contests that counted */
  contests: number;
  perContest: CodeforcesContestRating[];
  skipped: Array<{ contest: string; reason: string }>;
  /** why `rating` is null */
  reasonIfNone?: string;
}

/** The script's minimum is "more than 200" rated participants. */
const MIN_PARTICIPANTS_EXCLUSIVE = 200;
const DEFAULT_PASS_N = 8;

/** Contest id and full id of a problem id, as the script's `re.match(r'(\d+)([A-Z].*)', id)` and `int(…)` read it. */
function contestOf(problemId: string): { contest: string; key: string } {
  const m = /^(\d+)([A-Z].*)/.exec(problemId);
  if (!m)
    throw new Error(`invalid Codeforces problem id "${problemId}": expected contest digits then an index (1971A)`);
  return { contest: m[1]!.replace(/^0+(?=\d)/, ''), key: m[0] };
}

export function codeforcesElo(
  problems: ReadonlyArray<CodeforcesProblemAttempts>,
  cache: CodeforcesCache | null | undefined,
  ratingDistribution: Record<string, number>,
  options: { passN?: number } = {},
): CodeforcesEloResult {
  const passN = options.passN ?? DEFAULT_PASS_N;
  if (!Number.isInteger(passN) || passN < 1) throw new Error(`passN must be a positive integer, got ${passN}`);
  const distribution = ratingCounts(ratingDistribution);

  // group by contest in order of first appearance (the script's dict of dicts)
  const byContest = new Map<string, Map<string, readonly boolean[]>>();
  for (const p of problems) {
    const { contest, key } = contestOf(p.problemId);
    const attempts = byContest.get(contest) ?? new Map<string, readonly boolean[]>();
    if (attempts.has(key)) throw new Error(`Codeforces problem ${key} is given twice`);
    attempts.set(key, p.passes);
    byContest.set(contest, attempts);
  }

  const none = (reasonIfNone: string, skipped: CodeforcesEloResult['skipped'] = []): CodeforcesEloResult => ({
    rating: null,
    percentile: null,
    contests: 0,
    perContest: [],
    skipped,
    reasonIfNone,
  });
  if (!cache)
    return none(
      'no Codeforces standings cache: the Elo needs contest standings and rating changes (npm run cli -- codeforces-cache --out FILE, where the Codeforces API is reachable)',
    );
  if (byContest.size === 0) return none('no Codeforces problems were scored');

  const perContest: CodeforcesContestRating[] = [];
  const skipped: CodeforcesEloResult['skipped'] = [];
  for (const [contest, attempts] of byContest) {
    const entry = Object.hasOwn(cache.contests, contest) ? cache.contests[contest] : undefined;
    const outcome = entry ? contestRating(entry, attempts, passN) : { skip: 'not in the cache' };
    if ('skip' in outcome) skipped.push({ contest, reason: outcome.skip });
    else perContest.push({ contest, ...outcome });
  }
  if (perContest.length === 0)
    return none(
      `no contest counted (${skipped.length} skipped: ${skipped
        .slice(0, 3)
        .map((s) => `${s.contest} ${s.reason}`)
        .join('; ')}${skipped.length > 3 ? '; …' : ''})`,
      skipped,
    );
  const rating = perContest.reduce((sum, c) => sum + c.rating, 0) / perContest.length;
  return {
    rating,
    percentile: percentileAmong(rating, distribution),
    contests: perContest.length,
    perContest,
    skipped,
  };
}

function contestRating(
  entry: CodeforcesContestEntry,
  attempts: ReadonlyMap<string, readonly boolean[]>,
  passN: number,
): Omit<CodeforcesContestRating, 'contest'> | { skip: string } {
  if (entry.error !== undefined) return { skip: `no standings in the cache: ${entry.error}` };
  const { standings, ratingChanges } = entry as Required<Pick<CodeforcesContestEntry, 'standings' | 'ratingChanges'>>;

  const handleOf = (row: CodeforcesStandings['rows'][number]) => row.party.members[0]!.handle;
  const inStandings = new Set(standings.rows.map(handleOf));
  const rated = new Set(ratingChanges.filter((c) => inStandings.has(c.handle)).map((c) => c.handle));
  const rows = standings.rows.filter((row) => rated.has(handleOf(row)));
  const changes = ratingChanges.filter((c) => rated.has(c.handle));
  if (rows.length !== changes.length)
    return { skip: `${rows.length} rated standings rows but ${changes.length} rating changes` };
  if (rows.length <= MIN_PARTICIPANTS_EXCLUSIVE)
    return { skip: `${rows.length} rated participants (needs more than ${MIN_PARTICIPANTS_EXCLUSIVE})` };

  let score = 0;
  let penalty = 0;
  for (const problem of standings.problems) {
    const passes = attempts.get(`${problem.contestId}${problem.index}`);
    if (!passes) continue;
    const first = passes.slice(0, passN).indexOf(true);
    if (first < 0) continue;
    if (problem.points !== undefined) score += Math.max(0, problem.points - 50 * first);
    else {
      score += 1;
      penalty += 10 * first; // only here: see the quirks above
    }
  }

  const n = rows.length;
  let rank = n;
  for (let i = 0; i < n; i++) {
    const row = rows[i]!;
    if (row.points < score || (row.points === score && row.penalty > penalty)) {
      rank = i;
      break;
    }
  }

  const oldRatings = changes.map((c) => c.oldRating);
  let lo = 0;
  let hi = oldRatings.reduce((max, r) => Math.max(max, r), -Infinity) + 100;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    let seed = 1;
    for (const old of oldRatings) seed += 1 / (1 + 10 ** ((mid - old) / 400));
    if (seed < rank) hi = mid;
    else lo = mid;
  }
  return { rating: lo, rank, score, penalty };
}

// ---- the percentile ----

/** ratings_2024.json as (rating, users) pairs, validated. */
function ratingCounts(distribution: Record<string, number>): Array<[number, number]> {
  const counts = Object.entries(distribution).map(([key, users]): [number, number] => {
    if (!/^-?\d+(\.\d+)?$/.test(key.trim())) throw new Error(`rating distribution: "${key}" is not a rating`);
    if (!Number.isInteger(users) || users < 0)
      throw new Error(`rating distribution: rating ${key} has ${users} users (needs a whole number ≥ 0)`);
    return [Number(key), users];
  });
  if (counts.reduce((sum, [, users]) => sum + users, 0) === 0) throw new Error('rating distribution: no users');
  return counts;
}

/**
 * The percent of users rated strictly below `rating`, rounded to one decimal: the script's
 * `round(bisect_left(sorted_ratings, rating) / len(sorted_ratings) * 100, 1)` over the expanded list of ratings.
 * bisect_left in a sorted list is the count of smaller values, so the list need not be built.
 */
function percentileAmong(rating: number, counts: ReadonlyArray<readonly [number, number]>): number {
  let below = 0;
  let total = 0;
  for (const [value, users] of counts) {
    total += users;
    if (value < rating) below += users;
  }
  return pythonRound1((below / total) * 100);
}

/**
 * Python's round(x, 1) for 0 ≤ x < 1e21: the decimal nearest to the exact binary value of x, a tie going to the
 * even digit. toFixed also rounds the exact value but breaks ties upwards; an exact tie at one decimal is a
 * double (2m+1)/20, which must be a multiple of 1/4 with 4x odd (0.25, 12.75, …).
 */
export function pythonRound1(x: number): number {
  const quarter = 4 * x;
  if (Number.isInteger(quarter) && quarter % 2 !== 0) {
    const down = Math.floor(10 * x); // 10x = 2.5·(4x) is exact
    return (down % 2 === 0 ? down : down + 1) / 10;
  }
  return Number(x.toFixed(1));
}

/** The percentile of a rating among a `{rating: users}` distribution, exactly as codeforcesElo reports it. */
export function codeforcesPercentile(rating: number, ratingDistribution: Record<string, number>): number {
  return percentileAmong(rating, ratingCounts(ratingDistribution));
}
