// Shared entry logic of the worker processes: load config, connect, build the workers for some queues, run.
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { loadConfig } from '../activities/config';
import { useMetricMeter } from '../activities/metrics';
import type { MetricsConfig } from '../domain/platform/config';
import { closeInheritedDescriptors } from '../activities/sandbox/descriptors';
import type { QueueKind } from '../domain/core/queues';
import { connectWorker } from './connection';
import { createWorkers, runWorkers } from './create-workers';

export async function workerMain(kinds: QueueKind[]): Promise<void> {
  // what started us may have left descriptors open that every spawned process (sandboxes too) would inherit
  const closed = closeInheritedDescriptors();
  if (closed.length > 0) console.log(`closed inherited descriptors ${closed.join(', ')}`);
  const config = loadConfig();
  installRuntime(config.metrics);
  const connection = await connectWorker(config);
  const workers = await createWorkers({ config, connection, kinds });
  console.log(
    `worker ready: ${kinds.map((k) => config.taskQueues[k]).join(', ')} at ${config.temporal.address} (pid ${process.pid})`,
  );
  await runWorkers(workers);
  await connection.close();
}

/**
 * The SDK's runtime of this process (once per process): its logger and, with `metrics.port`, the Prometheus
 * endpoint, whose meter then also records our counters (activities/metrics.ts).
 */
function installRuntime(metrics: MetricsConfig): void {
  const bindAddress = metrics.port !== undefined ? `${metrics.host}:${metrics.port}` : undefined;
  Runtime.install({
    logger: new DefaultLogger((process.env.PROMPTCOT_LOG_LEVEL as 'INFO' | 'WARN' | undefined) ?? 'WARN'),
    ...(bindAddress ? { telemetryOptions: { metrics: { prometheus: { bindAddress } } } } : {}),
  });
  if (!bindAddress) return;
  useMetricMeter(Runtime.instance().metricMeter);
  console.log(`metrics: http://${bindAddress}/metrics`);
}

export function startWorkerProcess(kinds: QueueKind[]): void {
  workerMain(kinds).catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
