// The project's search attributes (domain/core/run-view.ts) on a real cluster: which the namespace has, and
// registering the missing ones through the operator service (`npm run cli -- search-attributes --register`).
// The dev server of lib/dev-server.ts registers them itself at start.
import type { Client } from '@temporalio/client';
import { SEARCH_ATTRIBUTES, SEARCH_ATTRIBUTE_NAMES, type SearchAttributeName } from '../domain/core/run-view';

/** proto IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD (every attribute of ours is Keyword) */
const KEYWORD = 2;

export interface SearchAttributeState {
  registered: SearchAttributeName[];
  missing: SearchAttributeName[];
  /** registered under our name with another type: fix by hand (remove it, or rename ours) */
  wrongType: SearchAttributeName[];
}

export async function searchAttributeState(client: Client, namespace: string): Promise<SearchAttributeState> {
  const { customAttributes } = await client.connection.operatorService.listSearchAttributes({ namespace });
  const have = customAttributes ?? {};
  const state: SearchAttributeState = { registered: [], missing: [], wrongType: [] };
  for (const name of SEARCH_ATTRIBUTE_NAMES) {
    if (!(name in have)) state.missing.push(name);
    else if (SEARCH_ATTRIBUTES[name] === 'Keyword' && have[name] === KEYWORD) state.registered.push(name);
    else state.wrongType.push(name);
  }
  return state;
}

/** Registers the missing attributes; returns the state after. Needs the operator role on a secured cluster. */
export async function registerSearchAttributes(client: Client, namespace: string): Promise<SearchAttributeState> {
  const before = await searchAttributeState(client, namespace);
  if (before.missing.length > 0)
    await client.connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(before.missing.map((name) => [name, KEYWORD])),
    });
  return searchAttributeState(client, namespace);
}
