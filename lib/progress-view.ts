// Reads a run's progress (its `progress` query, the running stage's query, and the heartbeats of its running
// shards) and renders it as a line with a bar.
import type { Client } from '@temporalio/client';
import type { PipelineProgress } from '../domain/core/progress';
import type { StageProgress } from '../domain/core/stage';
import type { SynthesisProgress } from '../domain/synthesize-corpus';

export interface RunView {
  workflowId: string;
  type: string;
  status: string;
  pipeline?: PipelineProgress;
  stage?: StageProgress;
  /** Items finished inside running shards, from their last heartbeats. */
  itemsInRunningShards: number;
  /** Samples (rows) those items wrote, and items started but not finished, from the same heartbeats. */
  samplesInRunningShards?: number;
  itemsInFlight?: number;
}

function isStageProgress(p: unknown): p is StageProgress {
  return typeof p === 'object' && p !== null && 'shardsTotal' in p;
}

export async function readRunView(client: Client, workflowId: string): Promise<RunView> {
  const handle = client.workflow.getHandle(workflowId);
  const description = await handle.describe();
  const view: RunView = {
    workflowId,
    type: description.type,
    status: description.status.name,
    itemsInRunningShards: 0,
  };
  if (description.status.name !== 'RUNNING' && description.status.name !== 'COMPLETED') return view;
  let stageId = workflowId;
  try {
    const progress = await handle.query<unknown>('progress');
    if (isStageProgress(progress)) view.stage = progress;
    else {
      view.pipeline = progress as PipelineProgress;
      stageId = view.pipeline.currentStage?.workflowId ?? '';
    }
  } catch {
    return view; // no worker is answering queries right now
  }
  if (stageId && stageId !== workflowId) {
    try {
      const stageHandle = client.workflow.getHandle(stageId);
      view.stage = await stageHandle.query<StageProgress>('progress');
      const raw = await stageHandle.describe();
      for (const a of raw.raw.pendingActivities ?? []) addHeartbeat(view, client, a.heartbeatDetails);
    } catch {
      // the stage is starting or finished
    }
  } else if (view.stage) {
    for (const a of description.raw.pendingActivities ?? []) addHeartbeat(view, client, a.heartbeatDetails);
  }
  return view;
}

/** Adds a running shard's last heartbeat (items done, samples written, items in flight) to the view. */
function addHeartbeat(view: RunView, client: Client, details: unknown): void {
  const payloads = (details as { payloads?: unknown[] } | null | undefined)?.payloads;
  if (!payloads || payloads.length === 0) return;
  try {
    const value = client.options.loadedDataConverter.payloadConverter.fromPayload(payloads[0] as never) as {
      done?: unknown;
      rows?: unknown;
      inFlight?: unknown;
    };
    const n = (v: unknown) => (typeof v === 'number' ? v : 0);
    view.itemsInRunningShards += n(value?.done);
    view.samplesInRunningShards = (view.samplesInRunningShards ?? 0) + n(value?.rows);
    view.itemsInFlight = (view.itemsInFlight ?? 0) + n(value?.inFlight);
  } catch {
    // not a shard heartbeat
  }
}

export function renderRunView(view: RunView, width = 30): string {
  const parts = [`${view.workflowId} [${view.type}] ${view.status}`];
  if (view.pipeline) parts.push(`phase ${view.pipeline.phase}`);
  const passes = (view.pipeline as Partial<SynthesisProgress> | undefined)?.passes;
  if (passes && passes.length > 0) {
    const sum = (k: 'generated' | 'parsed' | 'duplicates' | 'kept') => passes.reduce((n, p) => n + p[k], 0);
    parts.push(
      `passes ${passes.filter((p) => p.status === 'done').length}/${passes.length} done: generated ${sum('generated')} parsed ${sum('parsed')} duplicates ${sum('duplicates')} kept ${sum('kept')}`,
    );
  }
  if (view.stage) {
    const s = view.stage;
    const finishedItems = s.counts.items + view.itemsInRunningShards;
    const fraction = s.itemsTotal > 0 ? Math.min(1, finishedItems / s.itemsTotal) : s.done ? 1 : 0;
    const filled = Math.round(fraction * width);
    parts.push(
      `${s.stage} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(1)}% ` +
        `items ${finishedItems}/${s.itemsTotal} shards ${s.shardsDone}/${s.shardsTotal} (${s.shardsRunning} running) ` +
        `kept ${s.counts.kept} rejected ${s.counts.rejected} failed ${s.counts.failed}` +
        (view.itemsInFlight ? ` | in flight ${view.itemsInFlight}` : '') +
        (view.samplesInRunningShards !== undefined ? ` samples ${s.counts.rows + view.samplesInRunningShards}` : ''),
    );
  }
  return parts.join(' | ');
}
