// Test configurations: the real schema, pointed at a test server, a temp storage root and test endpoints.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigSchema, type Config } from '../../domain/platform/config';

export interface TestConfigOptions {
  address: string;
  storageRoot: string;
  /** Base URL of the endpoint every role uses. */
  baseUrl?: string;
  model?: string;
  maxConcurrency?: number;
  taskQueuePrefix?: string;
  endpoint?: Record<string, unknown>;
}

export function testConfig(o: TestConfigOptions): Config {
  const prefix = o.taskQueuePrefix ?? `t${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const roles = Object.fromEntries(
    ['promptGenerator', 'rationaleModel', 'testCaseWriter', 'policy', 'teacher'].map((r) => [r, { endpoint: 'main' }]),
  );
  return ConfigSchema.parse({
    temporal: { address: o.address, namespace: 'default' },
    taskQueues: {
      orchestration: `${prefix}-orchestration`,
      inference: `${prefix}-inference`,
      cpu: `${prefix}-cpu`,
      sandbox: `${prefix}-sandbox`,
      training: `${prefix}-training`,
    },
    workers: {
      orchestration: {},
      inference: { maxConcurrentActivityTaskExecutions: 64 },
      cpu: { maxConcurrentActivityTaskExecutions: 16 },
    },
    storage: { root: o.storageRoot },
    endpoints: {
      main: {
        baseUrl: o.baseUrl ?? 'http://127.0.0.1:9/v1',
        model: o.model ?? 'test-model',
        maxConcurrency: o.maxConcurrency ?? 16,
        initialBackoffMs: 20,
        maxBackoffMs: 200,
        timeoutMs: 5000,
        ...o.endpoint,
      },
    },
    roles,
  });
}

/**
 * The example trainer (scripts/example-trainer.ts) as a trainer command: this Node with the tsx loader (resolved
 * here, so the trainer may run in any working directory) and the job placeholders.
 */
export function exampleTrainerCommand(root: string, extra: string[] = []): string[] {
  const placeholders = ['data', 'output', 'base', 'kind', 'job'].flatMap((p) => [`--${p}`, `{${p}}`]);
  const tsx = pathToFileURL(require.resolve('tsx')).href;
  return [
    process.execPath,
    '--import',
    tsx,
    path.join(root, 'scripts', 'example-trainer.ts'),
    ...placeholders,
    ...extra,
  ];
}

/**
 * The `training` section of a pipeline test: the example trainer run from the repository, jobs under
 * `<folder>/training`, a 1 s heartbeat and a 2 s kill grace (plus `extra`, e.g. an `env` for the trainer).
 */
export function exampleTraining(folder: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const root = path.join(__dirname, '..', '..');
  return {
    command: exampleTrainerCommand(root),
    cwd: root,
    root: path.join(folder, 'training'),
    heartbeatSeconds: 1,
    killGraceSeconds: 2,
    ...extra,
  };
}
