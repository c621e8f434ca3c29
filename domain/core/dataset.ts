// Datasets are passed through Temporal by reference (claim check): a manifest of JSONL shards under the storage root.
import { z } from 'zod';

/** Dataset names become folder names: keep them path-safe. */
export const DatasetNameSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._\-/]*$/, 'use letters, digits, ".", "_", "-" and "/" (no leading "/" or "..")')
  .refine((s) => !s.split('/').includes('..'), 'must not contain ".."');

export const ShardInfoSchema = z.object({
  /** Path relative to the dataset folder. */
  path: z.string().min(1),
  items: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  sha256: z.string(),
});
export type ShardInfo = z.infer<typeof ShardInfoSchema>;

export const DatasetManifestSchema = z.object({
  name: DatasetNameSchema,
  formatVersion: z.literal(1),
  createdAt: z.string(),
  items: z.number().int().nonnegative(),
  shards: z.array(ShardInfoSchema),
  /** Free-form facts about how the dataset was made (stage, operation, params, source files). */
  producedBy: z.record(z.string(), z.unknown()).default({}),
});
export type DatasetManifest = z.infer<typeof DatasetManifestSchema>;

/** What workflows hold: small, JSON, never the data. */
export const DatasetRefSchema = z.object({
  name: DatasetNameSchema,
  /** Manifest path relative to the storage root. */
  manifest: z.string().min(1),
  items: z.number().int().nonnegative(),
  shards: z.number().int().nonnegative(),
});
export type DatasetRef = z.infer<typeof DatasetRefSchema>;

export function shardFileName(index: number): string {
  return `shard-${String(index).padStart(5, '0')}.jsonl`;
}

export function rejectsFileName(index: number): string {
  return `rejects-${String(index).padStart(5, '0')}.jsonl`;
}

/** One line of a rejects file: why an input line or item was set aside. */
export interface RejectRecord {
  kind: 'rejected' | 'failed';
  stage: string;
  reason: string;
  /** Where the bad record came from: a file and line, or a dataset shard and line. */
  source: { file?: string; line?: number; dataset?: string; shard?: number; sourceId?: string };
  /** The offending record (or the raw line when it did not parse), for inspection and re-runs. */
  record?: unknown;
  raw?: string;
  /** More about the reason, e.g. the model output that could not be parsed. */
  detail?: unknown;
}
