// Workers for a test, polling every queue of a test config in this process, and their orderly stop.
import type { NativeConnection, WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { Config } from '../../domain/platform/config';
import type { QueueKind } from '../../domain/core/queues';
import { createWorkers } from '../../workers/create-workers';

export interface TestWorkers {
  stop(): Promise<void>;
}

export async function runTestWorkers(
  connection: NativeConnection,
  config: Config,
  workflowBundle: WorkflowBundleWithSourceMap,
  kinds: QueueKind[] = ['orchestration', 'inference', 'cpu'],
): Promise<TestWorkers> {
  const workers = await createWorkers({ config, connection, kinds, workflowBundle });
  const running = Promise.all(workers.map((w) => w.run()));
  return {
    async stop() {
      workers.forEach((w) => w.getState() === 'RUNNING' && w.shutdown());
      await running;
    },
  };
}
