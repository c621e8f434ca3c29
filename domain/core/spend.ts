// Token spend, by model role, endpoint and model: what the stages record per item and per shard, what the
// experiment sums per step and checks budgets against. Pure.
import { z } from 'zod';

export const SpendEntrySchema = z
  .object({
    role: z.string(),
    endpoint: z.string(),
    model: z.string(),
    calls: z.number().int().nonnegative(),
    promptTokens: z.number().int().nonnegative(),
    completionTokens: z.number().int().nonnegative(),
  })
  .strict();
export type SpendEntry = z.infer<typeof SpendEntrySchema>;

const keyOf = (e: Pick<SpendEntry, 'role' | 'endpoint' | 'model'>) => `${e.role}\u0000${e.endpoint}\u0000${e.model}`;

/** Adds `more` into `into` (one entry per role, endpoint and model); returns `into`. */
export function addSpend(into: SpendEntry[], more: readonly SpendEntry[] | undefined): SpendEntry[] {
  for (const e of more ?? []) {
    const same = into.find((x) => keyOf(x) === keyOf(e));
    if (same) {
      same.calls += e.calls;
      same.promptTokens += e.promptTokens;
      same.completionTokens += e.completionTokens;
    } else into.push({ ...e });
  }
  return into;
}

/** Tokens (prompt + completion) of a spend, in all or of one role. */
export function spendTokens(spend: readonly SpendEntry[], role?: string): number {
  let n = 0;
  for (const e of spend) if (role === undefined || e.role === role) n += e.promptTokens + e.completionTokens;
  return n;
}

/** Tokens per role. */
export function tokensByRole(spend: readonly SpendEntry[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of spend) out[e.role] = (out[e.role] ?? 0) + e.promptTokens + e.completionTokens;
  return out;
}
