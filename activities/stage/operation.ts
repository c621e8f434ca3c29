// What an item operation is on the activity side: its declaration (domain/, see domain/core/operation.ts) and one
// implementation, `implement(declaration, { needs, run })`. The stage parses the parameters once per shard and each
// record with the declaration's schemas before `run` sees them (a bad record is set aside naming its field), and
// checks every row `run` returns against the declared row schema (a row that does not match fails its item: an
// implementation bug is never written silently).
import { ApplicationFailure } from '@temporalio/common';
import type { z } from 'zod';
import {
  AnyRecordSchema,
  isJsonObject,
  type ItemOf,
  type OperationDeclaration,
  type ParamsOf,
  type RowOf,
} from '../../domain/core/operation';
import type { SandboxConfig } from '../../domain/platform/config';
import { describeZodError, fieldProblems } from '../../domain/core/validation';
import type { InferencePool } from '../inference/pool';

export interface ItemContext {
  stage: string;
  /** The item's id (the record's `id`, or `<file>:<line>` given at import). */
  sourceId: string;
  shard: number;
  line: number;
  /** Temporal activity attempt that processes the item (1 on the first try). */
  attempt: number;
  signal: AbortSignal;
}

/** What `run` gets besides the parsed item: the item's context and the record as it was read. */
export interface RunContext extends ItemContext {
  /** The record before its schema parsed it (operations that pass fields through spread it). */
  record: Record<string, unknown>;
}

/** Rows to keep, or a reason to set the item aside (with an optional detail, e.g. the model output that failed to parse). */
export type ItemOutcome<Row = Record<string, unknown>> = { rows: Row[] } | { reject: string; detail?: unknown };

/** What a worker can hand an operation: the inference pool of its endpoints, the sandbox settings. */
export interface OperationNeeds {
  pool: InferencePool;
  sandbox: SandboxConfig;
}
export type Need = keyof OperationNeeds;

export type ItemRun<D extends OperationDeclaration, N extends Need> = (
  item: ItemOf<D>,
  params: ParamsOf<D>,
  ctx: RunContext,
  needs: Pick<OperationNeeds, N>,
) => Promise<ItemOutcome<RowOf<D>>>;

export interface OperationImplementation<D extends OperationDeclaration = OperationDeclaration, N extends Need = Need> {
  readonly declaration: D;
  readonly needs: readonly N[];
  readonly run: ItemRun<D, N>;
}

/** The one implementation of an operation's declaration; `needs` names what the worker must provide. */
export function implement<D extends OperationDeclaration, const N extends Need = never>(
  declaration: D,
  spec: { needs?: readonly N[]; run: ItemRun<D, N> },
): OperationImplementation<D, N> {
  return { declaration, needs: spec.needs ?? [], run: spec.run };
}

/** An operation ready to run in a shard: its parameters parsed once, then one record at a time. */
export interface ItemOperation<P = unknown> {
  /** Validates parameters (once per shard) into the form `run` takes. */
  parseParams(params: unknown): P;
  run(record: Record<string, unknown>, params: P, ctx: ItemContext): Promise<ItemOutcome>;
}

/**
 * An item set aside by one of a pipeline's named rules: the reason reads `<rule>: <why>`, and `detail.rule` is what
 * the pipeline's report counts it under.
 */
export function setAside<R extends string>(
  rule: R,
  reason: string,
  detail: Record<string, unknown> = {},
): { reject: string; detail: Record<string, unknown> } {
  return { reject: `${rule}: ${reason}`, detail: { rule, ...detail } };
}

/** An item that fails its schema is set aside, naming its first bad field (the run goes on). */
export function rejectBadField(error: z.ZodError): { reject: string } {
  const p = fieldProblems(error)[0]!;
  return { reject: `field ${p.field}: ${p.message}` };
}

/** Binds an implementation to what the worker provides; the schemas of its declaration guard both ends. */
export function prepareOperation<D extends OperationDeclaration, N extends Need>(
  impl: OperationImplementation<D, N>,
  needs: Pick<OperationNeeds, N>,
): ItemOperation<ParamsOf<D>> {
  const { declaration } = impl;
  // records are JSON objects already (the shard reader sets other lines aside): no schema work per item for these
  const wholeRecords = declaration.item === AnyRecordSchema;
  const checkRow =
    declaration.row === AnyRecordSchema
      ? (row: unknown) => {
          if (!isJsonObject(row)) throw new Error(`${declaration.name} produced a row that is not a JSON object`);
        }
      : (row: unknown) => {
          const checked = declaration.row.safeParse(row);
          if (!checked.success) {
            throw new Error(
              `${declaration.name} produced a row that does not match its declared row schema: ${describeZodError(checked.error)}`,
            );
          }
        };
  return {
    parseParams(params) {
      const result = declaration.params.safeParse(params ?? {});
      if (result.success) return result.data as ParamsOf<D>;
      throw ApplicationFailure.nonRetryable(
        `invalid params of ${declaration.name}: ${describeZodError(result.error)}`,
        'InvalidInput',
      );
    },
    async run(record, params, ctx) {
      let item: ItemOf<D>;
      if (wholeRecords) item = record as ItemOf<D>;
      else {
        const parsed = declaration.item.safeParse(record);
        if (!parsed.success) return rejectBadField(parsed.error);
        item = parsed.data as ItemOf<D>;
      }
      const outcome = await impl.run(item, params, { ...ctx, record }, needs);
      if ('rows' in outcome) for (const row of outcome.rows) checkRow(row);
      return outcome as ItemOutcome;
    },
  };
}

/**
 * Thrown (or any error with `retryLater: true`, or an inference layer's unavailable error) when the world is at
 * fault rather than the item: the shard stops, keeps what it finished, and Temporal retries it later.
 */
export class RetryLaterError extends Error {
  override name = 'RetryLaterError';
  readonly retryLater = true;
}
