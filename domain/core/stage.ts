// The generic durable stage: inputs, results and progress shared by workflows, activities and the CLI.
import type { SpendEntry } from './spend';
import { z } from 'zod';
import { STAGE_RUN_FIELDS } from './fragments';
import { DatasetNameSchema, DatasetRefSchema } from './dataset';
import { AnyRecordSchema, declareOperation } from './operation';

export const StageCountsSchema = z.object({
  /** Input items seen. */
  items: z.number().int().nonnegative(),
  /** Items that produced output rows. */
  kept: z.number().int().nonnegative(),
  /** Output rows written (an item may produce several, e.g. n samples). */
  rows: z.number().int().nonnegative(),
  /** Items set aside with a reason (bad record, unparseable output, filtered). */
  rejected: z.number().int().nonnegative(),
  /** Items whose processing failed for good (non-retryable error). */
  failed: z.number().int().nonnegative(),
});
export type StageCounts = z.infer<typeof StageCountsSchema>;

export const ZERO_COUNTS: StageCounts = { items: 0, kept: 0, rows: 0, rejected: 0, failed: 0 };

export function addCounts(a: StageCounts, b: StageCounts): StageCounts {
  return {
    items: a.items + b.items,
    kept: a.kept + b.kept,
    rows: a.rows + b.rows,
    rejected: a.rejected + b.rejected,
    failed: a.failed + b.failed,
  };
}

export const StageInputSchema = z.object({
  /** A name for this stage in provenance, progress and file names. */
  stage: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[A-Za-z0-9._-]+$/, 'use letters, digits, ".", "_" and "-"'),
  /** A registered item operation (domain/registry/operations.ts checks the name and its params). */
  operation: z.string().min(1).max(100),
  /** Operation parameters, validated by the operation's own schema. */
  params: z.unknown().optional(),
  input: DatasetRefSchema,
  output: DatasetNameSchema,
  maxConcurrentShards: STAGE_RUN_FIELDS.maxConcurrentShards,
  itemConcurrency: STAGE_RUN_FIELDS.itemConcurrency,
  /** Overrides the queue of the operation's kind. */
  taskQueue: z.string().min(1).optional(),
  /** How long one shard may run in total. */
  shardTimeoutMinutes: z
    .number()
    .positive()
    .default(24 * 60),
  heartbeatTimeoutSeconds: STAGE_RUN_FIELDS.heartbeatTimeoutSeconds,
  /** Shards completed per workflow run before continue-as-new (keeps history small). */
  shardsPerRun: z.number().int().min(1).max(2000).default(300),
  /** Set by the stage itself when it continues as new; never by callers. */
  carry: z
    .object({
      nextShard: z.number().int().nonnegative(),
      counts: StageCountsSchema,
      runs: z.number().int().nonnegative(),
      taskQueue: z.string().min(1),
      /** shards found finished by an earlier run of the same stage so far */
      reusedShards: z.number().int().nonnegative().optional(),
    })
    .optional(),
});
export type StageInput = z.input<typeof StageInputSchema>;
export type StageInputParsed = z.output<typeof StageInputSchema>;

export interface ShardResult {
  shard: number;
  counts: StageCounts;
  /** Items found already done from an earlier attempt (resumed, not redone). */
  resumed: number;
  attempt: number;
  /** The whole shard was found finished (an earlier run or attempt did it): nothing ran. */
  reused?: boolean;
  /** What the items' model calls spent (absent: none made any). */
  spend?: SpendEntry[];
}

export interface StageResult {
  stage: string;
  operation: string;
  output: z.infer<typeof DatasetRefSchema>;
  /** Rejects files (relative to the storage root), one per shard with any rejects. */
  rejects: string[];
  counts: StageCounts;
  shards: number;
  runs: number;
  /** Shards an earlier run of the same stage had finished, reused as they were (a re-started run). */
  reusedShards?: number;
  /** What the stage's model calls spent, by role, endpoint and model (absent: none). */
  spend?: SpendEntry[];
}

export interface StageProgress {
  stage: string;
  operation: string;
  shardsTotal: number;
  shardsDone: number;
  shardsRunning: number;
  itemsTotal: number;
  counts: StageCounts;
  runs: number;
  done: boolean;
}

export const NoopParamsSchema = z
  .object({
    /** Simulated work per item, for tests and benchmarks. */
    delayMs: z.number().int().nonnegative().default(0),
  })
  .strict();

/** The identity operation: measures the cost of the stage machinery itself. */
export const NoopOperation = declareOperation({
  name: 'noop',
  queue: 'cpu',
  description: 'passes each record through (stage benchmarks and tests)',
  params: NoopParamsSchema,
  item: AnyRecordSchema,
  row: AnyRecordSchema,
});
