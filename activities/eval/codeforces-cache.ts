// The Codeforces cache of the Elo estimate (domain/eval/codeforces-elo.ts): per contest the final standings and
// the rating changes, as the Codeforces API returns them (`contest.standings`, `contest.ratingChanges`), cut down
// to the fields the rating uses. The API is not reachable from every machine, so the cache is a file: fetched once
// by `npm run cli -- codeforces-cache --out FILE` where it is, then given to `evaluate`.
//
// Fetching follows the API's rules: one call every 2 s (`delayMs`), a reply `{status: "FAILED", comment}` is an
// answer (e.g. "Rating changes are unavailable for this contest": recorded as the contest's `error`, which the Elo
// reports as the reason it skipped the contest) except "Call limit exceeded", which is retried like a network
// error or an HTTP 5xx/429 (up to `retries` times, `retryDelayMs` apart; the published script tries 5 times, 4 s
// apart, and so do we by default). The file is rewritten (temp + rename) after every contest, and a second run into the same file keeps
// the contests it already holds without an error, so an interrupted fetch resumes.
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { describeZodError } from '../../domain/core/validation';
import {
  CodeforcesRatingChangesSchema,
  CodeforcesStandingsSchema,
  parseCodeforcesCache,
  type CodeforcesCache,
  type CodeforcesContestEntry,
} from '../../domain/eval/codeforces-elo';
import { writeFileAtomicSync } from '../datasets/jsonl';
import { codeforcesProblemIds } from './benchmark-files';

export const CODEFORCES_API = 'https://codeforces.com/api';

/** Reads and validates a cache file; errors name the file and the field (`contests.1971.standings.rows[3].points`). */
export function readCodeforcesCache(file: string): CodeforcesCache {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`${file}: cannot read the Codeforces cache: ${(err as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: the Codeforces cache is not JSON: ${(err as Error).message}`);
  }
  return parseCodeforcesCache(value, file);
}

/** The contests of the Codeforces benchmark (metadata_cf.json), in order of their first problem. */
export function benchmarkContests(): string[] {
  return [...new Set(codeforcesProblemIds().map((id) => /^\d+/.exec(id)![0].replace(/^0+(?=\d)/, '')))];
}

export interface FetchCodeforcesCacheOptions {
  /** the cache file to write (and to resume from when it exists) */
  out: string;
  contests: readonly string[];
  /** default https://codeforces.com/api */
  apiBase?: string;
  /** pause before every call after the first (default 2000: the API allows one call per 2 s) */
  delayMs?: number;
  /** attempts per call on network errors, HTTP 5xx/429 and "Call limit exceeded" (default 5) */
  retries?: number;
  /** pause before a retry (default twice delayMs: 4 s, as the published script) */
  retryDelayMs?: number;
  /** per call (default 120 s: the standings of a large contest are several MB) */
  timeoutMs?: number;
  log?: (line: string) => void;
}

export interface FetchCodeforcesCacheResult {
  file: string;
  /** contests fetched now with standings and rating changes */
  fetched: string[];
  /** contests already in the file, not asked again */
  kept: string[];
  /** contests recorded with an error */
  failed: Array<{ contest: string; error: string }>;
}

const ApiReplySchema = z.object({ status: z.string(), comment: z.string().optional(), result: z.unknown().optional() });

type CallOutcome = { ok: true; result: unknown } | { ok: false; error: string };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function fetchCodeforcesCache(options: FetchCodeforcesCacheOptions): Promise<FetchCodeforcesCacheResult> {
  const apiBase = (options.apiBase ?? CODEFORCES_API).replace(/\/+$/, '');
  const delayMs = options.delayMs ?? 2000;
  const retries = options.retries ?? 5;
  const retryDelayMs = options.retryDelayMs ?? 2 * delayMs;
  const timeoutMs = options.timeoutMs ?? 120_000;
  const log = options.log ?? (() => {});
  for (const contest of options.contests)
    if (!/^\d+$/.test(contest)) throw new Error(`contest id "${contest}" is not a number`);

  const previous = existsSync(options.out) ? readCodeforcesCache(options.out) : undefined;
  // contests of an earlier run that are not asked for now stay in the file
  const contests: Record<string, CodeforcesContestEntry> = { ...previous?.contests };
  const result: FetchCodeforcesCacheResult = { file: options.out, fetched: [], kept: [], failed: [] };
  const save = () => {
    const cache: CodeforcesCache = { version: 1, source: apiBase, fetchedAt: new Date().toISOString(), contests };
    writeFileAtomicSync(options.out, JSON.stringify(cache) + '\n');
  };

  let calls = 0;
  const call = async (method: string, query: string): Promise<CallOutcome> => {
    const url = `${apiBase}/${method}?${query}`;
    let lastError = '';
    for (let attempt = 1; attempt <= retries; attempt++) {
      if (calls++ > 0) await sleep(attempt === 1 ? delayMs : retryDelayMs);
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
        const text = await response.text();
        let body: z.infer<typeof ApiReplySchema> | undefined;
        try {
          const parsed = ApiReplySchema.safeParse(JSON.parse(text));
          if (parsed.success) body = parsed.data;
        } catch {
          body = undefined;
        }
        if (body?.status === 'OK') return { ok: true, result: body.result };
        const why = body?.comment ?? `HTTP ${response.status}${body ? ` status ${body.status}` : ''}`;
        const transient = response.status >= 500 || response.status === 429 || /call limit exceeded/i.test(why);
        if (body?.status === 'FAILED' && !transient) return { ok: false, error: `${method}: ${why}` };
        lastError = `${method}: ${why}`;
        if (!transient) return { ok: false, error: lastError };
      } catch (err) {
        lastError = `${method}: ${(err as Error).message}`;
      }
      log(`  ${url}: ${lastError}${attempt < retries ? ', retrying' : ''}`);
    }
    return { ok: false, error: `${lastError} (after ${retries} attempts)` };
  };

  for (const contest of options.contests) {
    const held = Object.hasOwn(contests, contest) ? contests[contest] : undefined;
    if (held && held.error === undefined) {
      result.kept.push(contest);
      continue;
    }
    const entry = await fetchContest(contest, call);
    contests[contest] = entry;
    if (entry.error !== undefined) {
      result.failed.push({ contest, error: entry.error });
      log(`${contest}: ${entry.error}`);
    } else {
      result.fetched.push(contest);
      log(`${contest}: ${entry.standings!.rows.length} standings rows, ${entry.ratingChanges!.length} rating changes`);
    }
    save();
  }
  return result;
}

async function fetchContest(
  contest: string,
  call: (method: string, query: string) => Promise<CallOutcome>,
): Promise<CodeforcesContestEntry> {
  const standingsReply = await call('contest.standings', `contestId=${contest}&showUnofficial=false`);
  if (!standingsReply.ok) return { error: standingsReply.error };
  const standings = CodeforcesStandingsSchema.safeParse(standingsReply.result);
  if (!standings.success) return { error: `contest.standings: unexpected reply: ${describeZodError(standings.error)}` };
  const changesReply = await call('contest.ratingChanges', `contestId=${contest}`);
  if (!changesReply.ok) return { error: changesReply.error };
  const ratingChanges = CodeforcesRatingChangesSchema.safeParse(changesReply.result);
  if (!ratingChanges.success)
    return { error: `contest.ratingChanges: unexpected reply: ${describeZodError(ratingChanges.error)}` };
  return {
    standings: {
      problems: standings.data.problems,
      // the rating reads the first member's handle only
      rows: standings.data.rows.map((row) => ({ ...row, party: { members: [row.party.members[0]!] } })),
    },
    ratingChanges: ratingChanges.data,
  };
}
