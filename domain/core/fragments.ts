// Schema fields that many inputs and parameters share, written once: spread them into a z.object in place.
import { z } from 'zod';
import { MODEL_ROLES, type ModelRole } from './roles';

/** The model a request goes to: a role (its endpoint in temporal.yaml) and optionally a model name there. */
export function roleModelFields(role: ModelRole) {
  return {
    role: z.enum(MODEL_ROLES).default(role),
    /** Overrides the role's model name. */
    model: z.string().min(1).optional(),
  };
}

/** roleModelFields plus another server for the role (a trained model served apart), by base URL. */
export function roleModelEndpointFields(role: ModelRole) {
  return {
    ...roleModelFields(role),
    endpoint: z.string().url().optional(),
  };
}

/** How a stage spreads its work: shards at once, items at once per shard, and the shard heartbeat timeout. */
export const STAGE_RUN_FIELDS = {
  /** Shards processed at once (each one is an activity). */
  maxConcurrentShards: z.number().int().min(1).max(500).default(8),
  /** Items processed at once inside one shard activity. */
  itemConcurrency: z.number().int().min(1).max(4096).default(16),
  /** A stage shard without a heartbeat for this long is retried elsewhere (worker lost). */
  heartbeatTimeoutSeconds: z.number().positive().default(60),
};

/** Records per shard when a pipeline imports or writes a dataset. */
export function shardSizeField(records: number) {
  return z.number().int().min(1).max(100_000).default(records);
}
