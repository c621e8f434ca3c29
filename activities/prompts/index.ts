// The prompt templates of the method, loaded once from the data files beside this module.
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const TEMPLATE_NAMES = [
  'problem-generation',
  'concept-extraction',
  'rationale-annotation',
  'code-problem',
  'math-problem',
  'test-case-writer',
] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];

const cache = new Map<TemplateName, string>();

export function template(name: TemplateName): string {
  let text = cache.get(name);
  if (text === undefined) {
    text = readFileSync(path.join(__dirname, `${name}.txt`), 'utf8');
    cache.set(name, text);
  }
  return text;
}

/** `1. first\n2. second…`, as the originals enumerate concepts. */
export function numberedConcepts(concepts: readonly string[]): string {
  return concepts.map((c, i) => `${i + 1}. ${c}`).join('\n');
}

const PLACEHOLDER = /\{([a-z_]+)\}/g;

/**
 * Fills `{name}` placeholders (lower-case names: `\boxed{}` is not one). Values are inserted as they are, never
 * scanned again; a placeholder without a value is an error.
 */
export function render(name: TemplateName, values: Record<string, string | number>): string {
  const text = template(name);
  for (const m of text.matchAll(PLACEHOLDER)) {
    if (!(m[1]! in values)) throw new Error(`template ${name}: no value for {${m[1]}}`);
  }
  return text.replace(PLACEHOLDER, (_whole, key: string) => String(values[key]));
}
