// Turning zod issues into messages that name the exact field. Pure: used by workflows, activities and scripts.
import type { z } from 'zod';

/** Renders an issue path as `a.b[2].c` (the empty path is the whole value). */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(root)' : out;
}

export interface FieldProblem {
  path: Array<string | number>;
  field: string;
  message: string;
}

export function fieldProblems(error: z.ZodError): FieldProblem[] {
  return error.issues.map((issue) => {
    const path = issue.path.map((k) => (typeof k === 'number' ? k : String(k)));
    return { path, field: formatPath(path), message: issue.message };
  });
}

/** One line per bad field: `field: message`. */
export function describeZodError(error: z.ZodError): string {
  return fieldProblems(error)
    .map((p) => `${p.field}: ${p.message}`)
    .join('; ');
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string; problems: FieldProblem[] };

export function safeParseWith<S extends z.ZodType>(schema: S, value: unknown): Parsed<z.output<S>> {
  const result = schema.safeParse(value);
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, message: describeZodError(result.error), problems: fieldProblems(result.error) };
}
