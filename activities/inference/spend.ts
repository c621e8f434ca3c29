// What the model calls of one piece of work spent, by role, endpoint and model: a tally that the stage keeps per
// item (AsyncLocalStorage, so every call an operation makes in that item is charged to it, however deep), records
// with the item, sums per shard and writes into the stage's manifest. Budgets and the experiment's spend come
// from these records, so they survive crashes like the items themselves.
import { AsyncLocalStorage } from 'node:async_hooks';
import { addSpend, type SpendEntry } from '../../domain/core/spend';

const current = new AsyncLocalStorage<SpendEntry[]>();

/** Runs `fn` with a fresh tally; returns its result and what the model calls inside it spent. */
export async function withSpend<T>(fn: () => Promise<T>): Promise<{ value: T; spend: SpendEntry[] }> {
  const tally: SpendEntry[] = [];
  const value = await current.run(tally, fn);
  return { value, spend: tally };
}

/** The spend so far of the tally in scope (for work that fails after spending). */
export function spendInScope(): SpendEntry[] {
  return current.getStore() ?? [];
}

/** Charges one answered call to the tally in scope (none: nothing is charged). */
export function chargeSpend(entry: Omit<SpendEntry, 'calls'>): void {
  const tally = current.getStore();
  if (tally) addSpend(tally, [{ ...entry, calls: 1 }]);
}
