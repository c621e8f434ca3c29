// Temporal activities of the generic stage and of dataset import.
import { addSpend, type SpendEntry } from '../../domain/core/spend';
import { Context } from '@temporalio/activity';
import type { Config } from '../../domain/platform/config';
import type { DatasetRef } from '../../domain/core/dataset';
import { shardFileName } from '../../domain/core/dataset';
import { addCounts, ZERO_COUNTS, type ShardResult, type StageCounts } from '../../domain/core/stage';
import type { RecordSchemaName } from '../../domain/registry/records';
import { importJsonl, type ImportResult } from '../datasets/import';
import { registeredSearchAttributes } from './search-attributes';
import type { DatasetStore } from '../datasets/store';
import type { OperationRegistry } from '../registry';
import { processShard, type ProcessShardInput, type ShardProgress } from './process-shard';
import { ShardWork } from './shard-work';

export interface StageActivityDeps {
  config: Config;
  store: DatasetStore;
  operations: OperationRegistry;
}

export interface FinalizeStageInput {
  stage: string;
  operation: string;
  params?: unknown;
  input: DatasetRef;
  output: string;
}

export interface FinalizeStageResult {
  output: DatasetRef;
  rejects: string[];
  counts: StageCounts;
  /** What the stage's model calls spent (also in the manifest's producedBy). */
  spend: SpendEntry[];
}

export interface ImportDatasetInput {
  files: string[];
  name: string;
  shardSize: number;
  schema?: RecordSchemaName;
}

/** Per-item heartbeats are coalesced: the SDK throttles what it sends, but each call still costs a conversion. */
const HEARTBEAT_EVERY_MS = 250;

function throttled<T>(send: (value: T) => void, everyMs: number): (value: T) => void {
  let last = 0;
  return (value) => {
    const now = Date.now();
    if (now - last < everyMs) return;
    last = now;
    send(value);
  };
}

export function createStageActivities(deps: StageActivityDeps) {
  const { store, operations, config } = deps;
  return {
    /**
     * Task queues of this deployment, so workflows started from the UI or a schedule need not know them, and which
     * of the project's search attributes the namespace has registered (a workflow upserts only those: upserting an
     * unregistered one would fail its workflow tasks over and over).
     */
    async describeDeployment(): Promise<{ taskQueues: Config['taskQueues']; searchAttributes: string[] }> {
      const ctx = Context.current();
      return {
        taskQueues: config.taskQueues,
        searchAttributes: await registeredSearchAttributes(
          () => ctx.client,
          ctx.info.workflowNamespace ?? config.temporal.namespace,
          (m) => ctx.log.warn(m),
        ),
      };
    },

    async importDataset(input: ImportDatasetInput): Promise<ImportResult> {
      const ctx = Context.current();
      return importJsonl(store, { ...input, onProgress: (lines) => ctx.heartbeat({ lines }) });
    },

    async processShard(input: ProcessShardInput): Promise<ShardResult> {
      const ctx = Context.current();
      const last = ctx.info.heartbeatDetails as ShardProgress | undefined;
      return processShard(
        {
          store,
          operations,
          attempt: ctx.info.attempt,
          signal: ctx.cancellationSignal,
          heartbeat: throttled((progress: ShardProgress) => ctx.heartbeat(progress), HEARTBEAT_EVERY_MS),
          lastHeartbeat: last,
          log: (message) => ctx.log.info(message),
        },
        input,
      );
    },

    /** Writes the output manifest once every shard is done; idempotent. */
    async finalizeStage(input: FinalizeStageInput): Promise<FinalizeStageResult> {
      const outputDir = store.datasetDir(input.output);
      const shards = [];
      const rejects: string[] = [];
      let counts = { ...ZERO_COUNTS };
      const spend: SpendEntry[] = [];
      for (let shard = 0; shard < input.input.shards; shard++) {
        const work = new ShardWork(outputDir, shard, store);
        const result = await store.readJsonIfPresent<ShardResult>(work.donePath);
        if (!result) throw new Error(`stage ${input.stage}: shard ${shard} is not done`);
        counts = addCounts(counts, result.counts);
        addSpend(spend, result.spend);
        // the stored shard, not a local copy: a zombie attempt on this host may have merged its own
        shards.push(await store.shardInfo(input.output, shardFileName(shard), result.counts.rows, { fresh: true }));
        if (result.counts.rejected + result.counts.failed > 0) rejects.push(store.relative(work.rejectsPath));
      }
      for (let shard = 0; shard < input.input.shards; shard++) await new ShardWork(outputDir, shard, store).cleanUp();
      const output = await store.writeManifest(input.output, shards, {
        stage: input.stage,
        operation: input.operation,
        params: input.params ?? null,
        input: input.input,
        counts,
        ...(spend.length > 0 ? { spend } : {}),
      });
      return { output, rejects, counts, spend };
    },
  };
}

export type StageActivities = ReturnType<typeof createStageActivities>;
