// What an item operation is to workflows and the stage: a name, the queue its shards run on, and zod schemas of
// its parameters, of one input record and of one output row. Workflows validate parameters with it before they
// schedule anything; the stage parses parameters once per shard and each record before the implementation
// (activities, `implement()` in activities/stage/operation.ts) sees it, and checks every row it returns.
// Declarations are pure data: the workflow bundle imports them.
import { z } from 'zod';
import type { QueueKind } from './queues';

export interface OperationDeclaration<
  Name extends string = string,
  P extends z.ZodType = z.ZodType,
  I extends z.ZodType = z.ZodType,
  R extends z.ZodType = z.ZodType,
> {
  readonly name: Name;
  readonly queue: QueueKind;
  readonly description: string;
  /** the operation's parameters in a stage input (`params`), validated once per stage and shard */
  readonly params: P;
  /** one input record; a record that fails it is set aside naming the field */
  readonly item: I;
  /** one output row; a row that fails it fails its item (an implementation bug, never silently written) */
  readonly row: R;
}

export function declareOperation<
  const Name extends string,
  P extends z.ZodType,
  I extends z.ZodType,
  R extends z.ZodType,
>(declaration: OperationDeclaration<Name, P, I, R>): OperationDeclaration<Name, P, I, R> {
  return declaration;
}

export type ParamsOf<D extends OperationDeclaration> = z.output<D['params']>;
export type ItemOf<D extends OperationDeclaration> = z.output<D['item']>;
export type RowOf<D extends OperationDeclaration> = z.input<D['row']>;

/** Whether a value is a JSON object (not null, not an array). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Any JSON object, checked without copying it: the item or row schema of operations that take or pass on whole
 * records. The stage checks it with isJsonObject directly, so its cost per item stays one type check.
 */
export const AnyRecordSchema = z.custom<Record<string, unknown>>(isJsonObject, 'expected a JSON object');
