// Which of the project's search attributes (domain/core/run-view.ts) a namespace has registered, asked of the
// server's operator service once a minute per worker process and namespace.
import type { Client } from '@temporalio/client';
import { SEARCH_ATTRIBUTES, SEARCH_ATTRIBUTE_NAMES } from '../../domain/core/run-view';

/** proto IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD */
const KEYWORD = 2;
const TTL_MS = 60_000;
const cache = new Map<string, { at: number; names: Promise<string[]> }>();

async function ask(client: () => Client, namespace: string, warn: (message: string) => void): Promise<string[]> {
  try {
    const { customAttributes } = await client().connection.operatorService.listSearchAttributes({ namespace });
    const registered = customAttributes ?? {};
    const ours = SEARCH_ATTRIBUTE_NAMES.filter((n) => SEARCH_ATTRIBUTES[n] === 'Keyword' && registered[n] === KEYWORD);
    if (ours.length < SEARCH_ATTRIBUTE_NAMES.length)
      warn(
        `namespace ${namespace} lacks search attributes ${SEARCH_ATTRIBUTE_NAMES.filter((n) => !ours.includes(n)).join(', ')}: runs do not upsert them (npm run cli -- search-attributes --register)`,
      );
    return ours;
  } catch (err) {
    warn(`cannot list the search attributes of namespace ${namespace}: ${(err as Error).message}`);
    return [];
  }
}

/** `client` is called once the cache misses (a mock activity environment may have none: then nothing is registered). */
export function registeredSearchAttributes(
  client: () => Client,
  namespace: string,
  warn: (message: string) => void,
): Promise<string[]> {
  const hit = cache.get(namespace);
  if (hit && Date.now() - hit.at < TTL_MS) return hit.names;
  const names = ask(client, namespace, warn);
  cache.set(namespace, { at: Date.now(), names });
  return names;
}
