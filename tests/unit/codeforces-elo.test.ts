// Codeforces Elo (domain/eval/codeforces-elo.ts) on the synthetic two-contest fixture
// (tests/fixtures/codeforces/two-contests.ts), against ratings worked out by hand below; the skip rules, the
// validation errors, the percentile's rounding, the cache reader, and the `codeforces-cache` command against a
// local fake of the Codeforces API.
//
// Notation: f(d) = 1/(1 + 10^(d/400)) is the chance that a participant rated d below the model beats it, and
// seed(m) = 1 + Σ_j f(m − old_j). The bisection keeps seed(lo) ≥ rank > seed(hi) and returns lo: the largest integer
// m < hi₀ = max old + 100 with seed(m) ≥ rank (seed falls as m grows).
//
// Contest 9001 (no points), passN 8. The model: A first passes on attempt 0, B on 2, D on 1, C never, E only on a
// 9th attempt (outside passN), F is not a problem of the standings.
//   score = 3, penalty = 10·(0 + 2 + 1) = 30.
//   Rated rows (the 3 unrated rows and 2 ghost rating changes dropped): 100 with 4 solved, 50 with 3 and penalty
//   < 30, 11 with 3 and penalty exactly 30 (a tie is placed ahead: the first worse row is the first with penalty 31),
//   so rank = 100 + 50 + 11 = 161 of n = 240.
//   All old ratings 1500, so seed(m) = 1 + 240·f(m − 1500) ≥ 161 ⇔ 1 + 10^((m − 1500)/400) ≤ 240/160 = 1.5
//   ⇔ m ≤ 1500 + 400·log10(0.5) = 1500 − 400·0.30103 = 1379.59. hi₀ = 1600, so the rating is 1379.
//   Check: 10^(−121/400) = 0.49830, seed(1379) = 1 + 240/1.49830 = 161.18 ≥ 161;
//          10^(−120/400) = 0.50119, seed(1380) = 1 + 240/1.50119 = 160.87 < 161.
//   The bisection: mid 800 (seed 236.8) lo, 1200 (204.8) lo, 1400 (154.6) hi, 1300 (183.3) lo, 1350 (169.8) lo,
//   1375 (162.4) lo, 1387 (158.7) hi, 1381 (160.6) hi, 1378 (161.5) lo, 1379 (161.2) lo, 1380 (160.9) hi → 1379.
//   (Without the handle filter the ghosts' 3000 would raise hi₀ to 3100 and the unrated rows would move rank to 164.)
//
// Contest 9002 (points A 250, B 500, C 1000, D 1500, E 2000), passN 8. The model: A passes on attempt 6,
// B on 0, C on 3, D on 7, E never.
//   score = max(0, 250 − 300) + 500 + (1000 − 150) + (1500 − 350) = 0 + 500 + 850 + 1150 = 2500, penalty = 0
//   (the script adds penalty on problems without points only; counting it would give 160 and put the 5 rows with
//   2500 points and penalty 10 ahead: rank 65).
//   rank = 40 rows above 2500 + 20 rows with 2500 and penalty 0 = 60 of n = 210 (105 at 1800, 105 at 1200).
//   seed(m) = 1 + 105·f(m − 1200) + 105·f(m − 1800); hi₀ = 1900.
//   m = 1780: 10^(580/400) = 10^1.45 = 28.1838 → f = 0.034266; 10^(−20/400) = 10^−0.05 = 0.891251 → f = 0.528751;
//             seed = 1 + 105·0.563017 = 60.117 ≥ 60.
//   m = 1781: 10^1.4525 = 28.3465 → f = 0.034076; 10^−0.0475 = 0.896398 → f = 0.527316;
//             seed = 1 + 105·0.561392 = 59.946 < 60.       → rating 1780.
//
// Mean = (1379 + 1780)/2 = 1579.5. Percentile among SMALL_DISTRIBUTION (800×8, 1200×6, 1579×3, 1580×9, 2400×4):
// 8 + 6 + 3 = 17 of 30 users rated below 1579.5 → 56.666… → 56.7.
//
// passN 9: 9001E counts (attempt 8): score 4, penalty 30 + 80 = 110; rows ahead: the 4-solved rows with penalty
// 40..110 = 71, so rank 71: 240·f ≥ 70 ⇔ 10^((m − 1500)/400) ≤ 240/70 − 1 = 2.4286 ⇔ m ≤ 1500 + 400·0.38536 = 1654.1,
// above hi₀ − 1 = 1599: the rating is capped at 1599. 9002 is unchanged (8 attempts): mean (1599 + 1780)/2 = 1689.5.
//
// passN 1: 9001: only A: score 1, penalty 0; the first row with fewer points is the first 0-solved one (a 1-solved
// row with penalty 0 ties and is ahead): rank 100 + 91 + 17 + 16 = 224: 240·f ≥ 223 ⇔ 10^((m − 1500)/400) ≤ 17/223
// = 0.076233 ⇔ m ≤ 1500 − 400·1.11784 = 1052.9 → 1052. 9002: only B: 500 points, below every row's: rank n = 210:
//   m = 387: 10^(−813/400) = 0.0092770 → f = 0.990808; 10^(−1413/400) = 0.00029350 → f = 0.999707;
//            seed = 1 + 105·1.990515 = 210.004 ≥ 210;
//   m = 388: 10^−2.03 = 0.0093325 → f = 0.990754; 10^−3.53 = 0.00029512 → f = 0.999705;
//            seed = 1 + 105·1.990459 = 209.998 < 210.       → 387; mean (1052 + 387)/2 = 719.5.
//
// The same replies run through rLLM's cf_elo_calc.py at 18e446c5 (its HTTP call stubbed) gave these numbers too:
// 1379 and 1780 (passN 8), 1599 and 1780 (9), 1052 and 387 (1); percentiles over ratings_2024.json 84.5, 89.9, 5.5.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { readCodeforcesCache, benchmarkContests } from '../../activities/eval/codeforces-cache';
import { CODEFORCES_DIR, codeforcesProblemIds } from '../../activities/eval/benchmark-files';
import {
  codeforcesElo,
  codeforcesPercentile,
  parseCodeforcesCache,
  pythonRound1,
  type CodeforcesCache,
} from '../../domain/eval/codeforces-elo';
import { runCli } from '../../lib/cli';
import { testConfig } from '../support/config';
import { tempDir } from '../support/files';
import {
  apiContest,
  ATTEMPTS,
  contest9001,
  contest9002,
  SMALL_DISTRIBUTION,
  uniformContest,
  type ApiContest,
} from '../fixtures/codeforces/two-contests';

const RATINGS_2024 = JSON.parse(readFileSync(path.join(CODEFORCES_DIR, 'ratings_2024.json'), 'utf8')) as Record<
  string,
  number
>;

/** A cache as the fetch command writes it, from API replies (the schema drops the fields the rating does not use). */
function cacheOf(contests: Record<string, ApiContest>, extra: CodeforcesCache['contests'] = {}): CodeforcesCache {
  return parseCodeforcesCache({
    version: 1,
    contests: {
      ...Object.fromEntries(
        Object.entries(contests).map(([id, c]) => [
          id,
          { standings: c.standings.result, ratingChanges: c.ratingChanges.result },
        ]),
      ),
      ...extra,
    },
  });
}

const FIXTURE = cacheOf({ '9001': contest9001(), '9002': contest9002() });

const f = (d: number) => 1 / (1 + 10 ** (d / 400));
const seed = (m: number, olds: number[]) => olds.reduce((s, old) => s + f(m - old), 1);

describe('codeforcesElo on the two-contest fixture', () => {
  it('reproduces the hand-computed contest ratings, their mean and the percentile (passN 8)', () => {
    const elo = codeforcesElo(ATTEMPTS, FIXTURE, SMALL_DISTRIBUTION);
    expect(elo.perContest).toEqual([
      { contest: '9001', rating: 1379, rank: 161, score: 3, penalty: 30 },
      { contest: '9002', rating: 1780, rank: 60, score: 2500, penalty: 0 },
    ]);
    expect(elo.skipped).toEqual([{ contest: '9003', reason: 'not in the cache' }]);
    expect(elo.rating).toBe(1579.5);
    expect(elo.contests).toBe(2);
    expect(elo.percentile).toBe(56.7);
    expect(elo.reasonIfNone).toBeUndefined();
    // among the 89,352 users of ratings_2024.json
    expect(codeforcesElo(ATTEMPTS, FIXTURE, RATINGS_2024).percentile).toBe(84.5);
  });

  it('the hand arithmetic holds: seed at the rating ≥ rank > seed one point higher', () => {
    const c1 = Array<number>(240).fill(1500);
    expect(seed(1379, c1)).toBeGreaterThanOrEqual(161);
    expect(seed(1380, c1)).toBeLessThan(161);
    const c2 = [...Array<number>(105).fill(1800), ...Array<number>(105).fill(1200)];
    expect(seed(1780, c2)).toBeCloseTo(60.117, 3);
    expect(seed(1781, c2)).toBeCloseTo(59.946, 3);
    expect(seed(387, c2)).toBeGreaterThanOrEqual(210);
    expect(seed(388, c2)).toBeLessThan(210);
  });

  it('counts a 9th attempt only with passN 9, and caps the rating at max old rating + 99', () => {
    const elo = codeforcesElo(ATTEMPTS, FIXTURE, RATINGS_2024, { passN: 9 });
    expect(elo.perContest).toEqual([
      { contest: '9001', rating: 1599, rank: 71, score: 4, penalty: 110 },
      { contest: '9002', rating: 1780, rank: 60, score: 2500, penalty: 0 },
    ]);
    expect(elo.rating).toBe(1689.5);
    expect(elo.percentile).toBe(89.9);
  });

  it('passN 1: only first attempts; a model below every row gets rank n', () => {
    const elo = codeforcesElo(ATTEMPTS, FIXTURE, RATINGS_2024, { passN: 1 });
    expect(elo.perContest).toEqual([
      { contest: '9001', rating: 1052, rank: 224, score: 1, penalty: 0 },
      { contest: '9002', rating: 387, rank: 210, score: 500, penalty: 0 },
    ]);
    expect(elo.rating).toBe(719.5);
    expect(elo.percentile).toBe(5.5);
  });

  it('lists the contests in order of their first problem; the order of the problems does not change a rating', () => {
    const shuffled = [...ATTEMPTS].reverse();
    const elo = codeforcesElo(shuffled, FIXTURE, SMALL_DISTRIBUTION);
    expect(elo.perContest.map((c) => [c.contest, c.rating])).toEqual([
      ['9002', 1780],
      ['9001', 1379],
    ]);
    expect(elo.skipped).toEqual([{ contest: '9003', reason: 'not in the cache' }]);
    expect(elo.rating).toBe(1579.5);
  });
});

describe('which contests count', () => {
  const failing = (id: number) => [{ problemId: `${id}A`, passes: [false] }];

  it('needs more than 200 rated participants: 200 is skipped, 201 counts', () => {
    const cache = cacheOf({ '9100': uniformContest(9100, 200, 100), '9101': uniformContest(9101, 201, 100) });
    const elo = codeforcesElo([...failing(9100), ...failing(9101)], cache, SMALL_DISTRIBUTION);
    expect(elo.skipped).toEqual([{ contest: '9100', reason: '200 rated participants (needs more than 200)' }]);
    // 9101: score 0 ties with the 101 rows that solved nothing: rank 201; 201·f ≥ 200 ⇔ 10^((m − 1500)/400) ≤ 1/200
    // ⇔ m ≤ 1500 − 400·2.30103 = 579.6 → 579
    expect(elo.perContest).toEqual([{ contest: '9101', rating: 579, rank: 201, score: 0, penalty: 0 }]);
    expect(elo.rating).toBe(579);
  });

  it('skips a contest whose standings and rating changes differ in length after the handle filter', () => {
    const c = uniformContest(9102, 210, 100);
    c.standings.result.rows.push({ ...c.standings.result.rows[5]! }); // one handle twice in the standings
    const elo = codeforcesElo(failing(9102), cacheOf({ '9102': c }), SMALL_DISTRIBUTION);
    expect(elo.skipped).toEqual([{ contest: '9102', reason: '211 rated standings rows but 210 rating changes' }]);
    expect(elo.rating).toBeNull();
    expect(elo.percentile).toBeNull();
    expect(elo.reasonIfNone).toBe(
      'no contest counted (1 skipped: 9102 211 rated standings rows but 210 rating changes)',
    );
  });

  it('skips a contest the cache holds as failed, naming the reason', () => {
    const cache = cacheOf(
      { '9001': contest9001() },
      { '9002': { error: 'contest.ratingChanges: Rating changes are unavailable for this contest' } },
    );
    const elo = codeforcesElo(ATTEMPTS, cache, SMALL_DISTRIBUTION);
    expect(elo.perContest.map((c) => c.rating)).toEqual([1379]);
    expect(elo.skipped).toEqual([
      {
        contest: '9002',
        reason: 'no standings in the cache: contest.ratingChanges: Rating changes are unavailable for this contest',
      },
      { contest: '9003', reason: 'not in the cache' },
    ]);
    expect(elo.rating).toBe(1379);
  });

  it('without a cache: no rating, and says why', () => {
    for (const cache of [undefined, null]) {
      const elo = codeforcesElo(ATTEMPTS, cache, SMALL_DISTRIBUTION);
      expect(elo).toMatchObject({ rating: null, percentile: null, contests: 0, perContest: [], skipped: [] });
      expect(elo.reasonIfNone).toMatch(/^no Codeforces standings cache: .*codeforces-cache/);
    }
    expect(codeforcesElo([], FIXTURE, SMALL_DISTRIBUTION).reasonIfNone).toBe('no Codeforces problems were scored');
  });

  it('a model ahead of every row gets the cap, max old rating + 99', () => {
    const c = apiContest(
      9103,
      [{ index: 'A' }],
      Array.from({ length: 201 }, (_, i) => ({ handle: `h${i}`, points: 0, penalty: 0, oldRating: 1000 + i })),
    );
    const elo = codeforcesElo([{ problemId: '9103A', passes: [true] }], cacheOf({ '9103': c }), SMALL_DISTRIBUTION);
    expect(elo.perContest).toEqual([{ contest: '9103', rating: 1299, rank: 0, score: 1, penalty: 0 }]);
  });
});

describe('validation', () => {
  const good = () => JSON.parse(JSON.stringify(FIXTURE)) as any;

  it('names the contest and the field of a bad cache', () => {
    const bad = good();
    bad.contests['9001'].standings.rows[3].points = '4';
    expect(() => parseCodeforcesCache(bad, 'cf.json')).toThrow(
      /^cf\.json: invalid Codeforces cache: contests\.9001\.standings\.rows\[3\]\.points: .*expected number/,
    );
    const missing = good();
    delete missing.contests['9002'].ratingChanges;
    expect(() => parseCodeforcesCache(missing, 'cf.json')).toThrow(
      'cf.json: invalid Codeforces cache: contests.9002: needs "standings" and "ratingChanges", or "error"',
    );
    const handle = good();
    handle.contests['9002'].ratingChanges[7] = { handle: 'x', oldRating: 1500.5 };
    expect(() => parseCodeforcesCache(handle, 'cf.json')).toThrow(/contests\.9002\.ratingChanges\[7\]\.oldRating/);
    const members = good();
    members.contests['9001'].standings.rows[0].party.members = [];
    expect(() => parseCodeforcesCache(members, 'cf.json')).toThrow(
      /contests\.9001\.standings\.rows\[0\]\.party\.members/,
    );
    const key = good();
    key.contests.abc = key.contests['9001'];
    expect(() => parseCodeforcesCache(key, 'cf.json')).toThrow('contests.abc: Invalid key in record');
    expect(() => parseCodeforcesCache({ contests: {} }, 'cf.json')).toThrow(
      /cf\.json: invalid Codeforces cache: version/,
    );
  });

  it('rejects a bad problem id, a problem given twice, a bad passN and a bad rating distribution', () => {
    expect(() => codeforcesElo([{ problemId: 'A1971', passes: [] }], FIXTURE, SMALL_DISTRIBUTION)).toThrow(
      'invalid Codeforces problem id "A1971"',
    );
    expect(() => codeforcesElo([ATTEMPTS[0]!, ATTEMPTS[0]!], FIXTURE, SMALL_DISTRIBUTION)).toThrow(
      'Codeforces problem 9001A is given twice',
    );
    expect(() => codeforcesElo(ATTEMPTS, FIXTURE, SMALL_DISTRIBUTION, { passN: 0 })).toThrow('passN');
    expect(() => codeforcesElo(ATTEMPTS, FIXTURE, { x: 1 })).toThrow('rating distribution: "x" is not a rating');
    expect(() => codeforcesElo(ATTEMPTS, FIXTURE, { '1500': 1.5 })).toThrow('rating 1500 has 1.5 users');
    expect(() => codeforcesElo(ATTEMPTS, FIXTURE, {})).toThrow('rating distribution: no users');
  });
});

describe('percentile', () => {
  it("rounds as Python's round(x, 1): the exact binary value, ties to even", () => {
    // values printed by Python 3: round(x, 1)
    const python: Array<[number, number]> = [
      [0.25, 0.2],
      [0.75, 0.8],
      [12.25, 12.2],
      [12.75, 12.8],
      [0.35, 0.3],
      [0.45, 0.5],
      [2.25, 2.2],
      [2.35, 2.4],
      [0.05, 0.1],
      [0.15, 0.1],
      [99.95, 100],
      [100, 100],
      [56.666666666666664, 56.7],
      [0, 0],
    ];
    for (const [x, expected] of python) expect([x, pythonRound1(x)]).toEqual([x, expected]);
  });

  it('counts the users rated strictly below (bisect_left)', () => {
    expect(codeforcesPercentile(1579, SMALL_DISTRIBUTION)).toBe(46.7); // 14/30; the 3 at 1579 are not below
    expect(codeforcesPercentile(1579.01, SMALL_DISTRIBUTION)).toBe(56.7);
    expect(codeforcesPercentile(800, SMALL_DISTRIBUTION)).toBe(0);
    expect(codeforcesPercentile(5000, SMALL_DISTRIBUTION)).toBe(100);
    // 1 of 8 users: 12.5 exactly, which Python rounds to 12.5; 1 of 400 users below: 0.25 → 0.2
    expect(codeforcesPercentile(1, { '0': 1, '2': 7 })).toBe(12.5);
    expect(codeforcesPercentile(1, { '0': 1, '2': 399 })).toBe(0.2);
  });
});

describe('the shipped Codeforces files', () => {
  it('metadata_cf.json: 408 ids in 57 contests', () => {
    const ids = codeforcesProblemIds();
    expect(ids).toHaveLength(408);
    expect(ids.slice(0, 2)).toEqual(['1971A', '1971B']);
    const contests = benchmarkContests();
    expect(contests).toHaveLength(57);
    expect(contests[0]).toBe('1971');
  });
});

describe('the cache file', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => (tmp = tempDir('cf-cache')));
  afterEach(() => tmp.remove());

  it('reads a valid file and names the file in every error', () => {
    const file = path.join(tmp.dir, 'cache.json');
    writeFileSync(file, JSON.stringify(FIXTURE));
    expect(codeforcesElo(ATTEMPTS, readCodeforcesCache(file), SMALL_DISTRIBUTION).rating).toBe(1579.5);
    expect(() => readCodeforcesCache(path.join(tmp.dir, 'absent.json'))).toThrow(
      `${path.join(tmp.dir, 'absent.json')}: cannot read the Codeforces cache`,
    );
    writeFileSync(file, '{"version": 1, "contests": {');
    expect(() => readCodeforcesCache(file)).toThrow(`${file}: the Codeforces cache is not JSON`);
    const bad = JSON.parse(JSON.stringify(FIXTURE)) as any;
    bad.contests['9002'].standings.problems[1].points = 'many';
    writeFileSync(file, JSON.stringify(bad));
    expect(() => readCodeforcesCache(file)).toThrow(
      new RegExp(
        `^${file.replace(/[.]/g, '\\.')}: invalid Codeforces cache: contests\\.9002\\.standings\\.problems\\[1\\]\\.points`,
      ),
    );
  });
});

describe('cli codeforces-cache against a fake Codeforces API', () => {
  const replies: Record<string, ApiContest> = { '9001': contest9001(), '9002': contest9002() };
  let server: http.Server;
  let base: string;
  const requests: Array<{ url: string; at: number }> = [];
  let flaky = 0; // standings calls of 9002 answered 503 before the real reply

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const url = new URL(req.url!, 'http://x');
      requests.push({ url: req.url!, at: Date.now() });
      const id = url.searchParams.get('contestId') ?? '';
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (url.pathname === '/api/contest.standings' && id === '9002' && flaky > 0) {
        flaky--;
        res.writeHead(503);
        res.end('busy');
        return;
      }
      const contest = replies[id];
      if (url.pathname === '/api/contest.standings' && url.searchParams.get('showUnofficial') === 'false' && contest)
        return send(200, contest.standings);
      if (url.pathname === '/api/contest.ratingChanges' && contest) return send(200, contest.ratingChanges);
      if (url.pathname === '/api/contest.ratingChanges' && id === '9004')
        return send(400, { status: 'FAILED', comment: 'contestId: Rating changes are unavailable for this contest' });
      if (url.pathname === '/api/contest.standings' && id === '9004')
        return send(200, { status: 'OK', result: { contest: { id: 9004 }, problems: [], rows: [] } });
      send(400, { status: 'FAILED', comment: `contestId: Contest with id ${id} not found` });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir('cf-cli');
    requests.length = 0;
  });
  afterEach(() => tmp.remove());

  const cli = (out: string, contests: string, delay = '0') =>
    runCli(
      ['codeforces-cache', '--out', out, '--contests', contests, '--api-base', base, '--delay-ms', delay],
      testConfig({ address: '127.0.0.1:1', storageRoot: tmp.dir }),
    );

  it('writes a cache that gives the fixture ratings, records failures, waits between calls, and resumes', async () => {
    const out = path.join(tmp.dir, 'cf.json');
    flaky = 1;
    const log = jest.spyOn(console, 'log').mockImplementation(() => {});
    try {
      expect(await cli(out, '9001,9002,9004', '40')).toBe(0);
      expect(log.mock.calls.at(-1)![0]).toBe(`${out}: 2 contests fetched, 0 already there, 1 failed`);
    } finally {
      log.mockRestore();
    }
    expect(requests.map((r) => r.url)).toEqual([
      '/api/contest.standings?contestId=9001&showUnofficial=false',
      '/api/contest.ratingChanges?contestId=9001',
      '/api/contest.standings?contestId=9002&showUnofficial=false',
      '/api/contest.standings?contestId=9002&showUnofficial=false', // after the 503
      '/api/contest.ratingChanges?contestId=9002',
      '/api/contest.standings?contestId=9004&showUnofficial=false',
      '/api/contest.ratingChanges?contestId=9004',
    ]);
    for (let i = 1; i < requests.length; i++) expect(requests[i]!.at - requests[i - 1]!.at).toBeGreaterThanOrEqual(35);

    const cache = readCodeforcesCache(out);
    expect(cache.source).toBe(base);
    expect(cache.contests['9004']).toEqual({
      error: 'contest.ratingChanges: contestId: Rating changes are unavailable for this contest',
    });
    // only the fields the rating reads, the first member of a team
    expect(cache.contests['9002']!.standings!.rows[9]).toEqual({
      party: { members: [{ handle: 'b010' }] },
      points: 4775,
      penalty: 0,
    });
    expect(cache.contests['9001']!.ratingChanges![0]).toEqual({ handle: 'ghost-2', oldRating: 3000 });
    const elo = codeforcesElo([...ATTEMPTS, { problemId: '9004A', passes: [true] }], cache, SMALL_DISTRIBUTION);
    expect(elo.perContest.map((c) => [c.contest, c.rating])).toEqual([
      ['9001', 1379],
      ['9002', 1780],
    ]);
    expect(elo.skipped.map((s) => s.contest)).toEqual(['9003', '9004']);
    expect(elo.rating).toBe(1579.5);

    // a second run asks again only for the failed contest and keeps the others
    requests.length = 0;
    const quiet = jest.spyOn(console, 'log').mockImplementation(() => {});
    try {
      expect(await cli(out, '9001,9004')).toBe(0);
    } finally {
      quiet.mockRestore();
    }
    expect(requests.map((r) => r.url)).toEqual([
      '/api/contest.standings?contestId=9004&showUnofficial=false',
      '/api/contest.ratingChanges?contestId=9004',
    ]);
    expect(Object.keys(readCodeforcesCache(out).contests).sort()).toEqual(['9001', '9002', '9004']);
  });

  it('needs --out, and contest ids that are numbers', async () => {
    await expect(
      runCli(['codeforces-cache'], testConfig({ address: '127.0.0.1:1', storageRoot: tmp.dir })),
    ).rejects.toThrow('codeforces-cache needs --out FILE');
    await expect(cli(path.join(tmp.dir, 'x.json'), '9001,abc')).rejects.toThrow('contest id "abc" is not a number');
  });
});
