// Training hand-off: the `training` config section (an external trainer command), the input of the `train`
// activity, what it returns, and the pure rules both sides share (placeholders, row checks). No I/O here.
import { z } from 'zod';
import { MODEL_ROLES } from '../core/roles';
import { DatasetRefSchema } from '../core/dataset';

export const TRAINING_KINDS = ['sft', 'dpo'] as const;
export type TrainingKind = (typeof TRAINING_KINDS)[number];

/**
 * Placeholders an argv element (or an env value) of the trainer command may hold, substituted per job:
 * - data: the materialised JSONL file (absolute); output: the folder the trainer writes into (absolute);
 *   result: `<output>/result.json`, the file the trainer must write last
 * - base: `base.model` when the input names one, else `base.version`; base.version / base.model / base.adapter
 * - kind (sft | dpo), role (the model role being trained), job (the job name), jobDir (absolute), rows (kept rows)
 * - hyperparameters: all hyperparameters as one JSON object; hp.<name>: one hyperparameter
 * A placeholder is `{name}` with a name of letters, digits, `_`, `.` and `-`; other braces (JSON, say) are left as
 * they are. A placeholder the job has no value for (e.g. {hp.beta} when the input gives no beta) fails the job.
 */
export const COMMAND_PLACEHOLDERS = [
  'data',
  'output',
  'result',
  'base',
  'base.version',
  'base.model',
  'base.adapter',
  'kind',
  'role',
  'job',
  'jobDir',
  'rows',
  'hyperparameters',
] as const;

const PLACEHOLDER_PATTERN = /\{([A-Za-z_][A-Za-z0-9_.-]*)\}/g;
const HYPERPARAMETER_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function placeholdersIn(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER_PATTERN)].map((m) => m[1]!);
}

export function isKnownPlaceholder(name: string): boolean {
  if ((COMMAND_PLACEHOLDERS as readonly string[]).includes(name)) return true;
  return name.startsWith('hp.') && HYPERPARAMETER_NAME.test(name.slice(3));
}

/** Fills every placeholder of `text`; names the first one without a value instead. */
export function substitutePlaceholders(
  text: string,
  values: Readonly<Record<string, string | undefined>>,
): { ok: true; text: string } | { ok: false; missing: string } {
  let missing: string | undefined;
  const out = text.replace(PLACEHOLDER_PATTERN, (whole, name: string) => {
    const value = values[name];
    if (value === undefined) {
      missing ??= name;
      return whole;
    }
    return value;
  });
  return missing === undefined ? { ok: true, text: out } : { ok: false, missing };
}

/** How a hyperparameter value is written into argv: numbers in JS notation (2e-6 -> "0.000002"), booleans as true/false. */
export function hyperparameterText(value: number | string | boolean): string {
  return String(value);
}

function checkPlaceholders(text: string, ctx: z.RefinementCtx, path: Array<string | number>): void {
  for (const name of placeholdersIn(text)) {
    if (!isKnownPlaceholder(name)) {
      ctx.addIssue({
        code: 'custom',
        path,
        message: `unknown placeholder {${name}} (known: ${COMMAND_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}, {hp.<name>})`,
      });
    }
  }
}

/** The `training` section of temporal.yaml: how to run the external trainer. */
export const TrainerConfigSchema = z
  .object({
    /** argv of the trainer, run without a shell; placeholders are substituted per job (see COMMAND_PLACEHOLDERS). */
    command: z.array(z.string().min(1)).min(1),
    /** Working directory of the trainer (default: the worker's). */
    cwd: z.string().min(1).optional(),
    /** Extra environment variables for the trainer (on top of the worker's); values may hold placeholders. */
    env: z.record(z.string().min(1), z.string()).default({}),
    /** Where job folders live: `<root>/<job>`. */
    root: z.string().min(1).default('runs/training'),
    /** How often the activity heartbeats (and the trainer's supervisor renews its lease). */
    heartbeatSeconds: z.number().positive().default(10),
    /** After SIGTERM on cancellation, how long the trainer may take to exit before SIGKILL. */
    killGraceSeconds: z.number().nonnegative().default(30),
    /** Lines of train.log carried by heartbeats, errors and the result. */
    logTailLines: z.number().int().positive().max(1000).default(40),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    cfg.command.forEach((arg, i) => checkPlaceholders(arg, ctx, ['command', i]));
    for (const [name, value] of Object.entries(cfg.env)) checkPlaceholders(value, ctx, ['env', name]);
  });

export type TrainerConfig = z.output<typeof TrainerConfigSchema>;

/**
 * The default section: the example trainer of this repository (scripts/example-trainer.ts, run from the repository
 * root). It learns a token-frequency "adapter", enough for demos, the quick start and tests; point `training.command`
 * at a real SFT / DPO job (OpenRLHF, TRL, LLaMA-Factory) for experiments.
 */
export const DEFAULT_TRAINER_CONFIG: TrainerConfig = TrainerConfigSchema.parse({
  command: [
    'node',
    '--import',
    'tsx',
    'scripts/example-trainer.ts',
    '--data',
    '{data}',
    '--output',
    '{output}',
    '--base',
    '{base}',
    '--kind',
    '{kind}',
    '--job',
    '{job}',
  ],
});

/** Job names become folders under the training root: path-safe, no "..", no empty segments. */
export const TrainingJobNameSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._\-/]*$/, 'use letters, digits, ".", "_", "-" and "/" (no leading "/")')
  .refine(
    (s) => s.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..'),
    'no empty, "." or ".." segments',
  );

export const BaseModelSchema = z
  .object({
    /** The model version being trained from (an earlier TrainResult.version, or a name for the initial model). */
    version: z.string().min(1),
    /** Model name or path the trainer starts from. */
    model: z.string().min(1).optional(),
    /** Adapter folder the trainer continues from, if any. */
    adapter: z.string().min(1).optional(),
  })
  .strict();

export const HyperparameterValueSchema = z.union([z.number().finite(), z.string(), z.boolean()]);

export const TrainInputSchema = z
  .object({
    /** Unique, path-safe name of this training job, e.g. `em-run1/iter-1/q_phi`; the job's identity for resume and reuse. */
    job: TrainingJobNameSchema,
    kind: z.enum(TRAINING_KINDS),
    role: z.enum(MODEL_ROLES),
    base: BaseModelSchema,
    /** Rows: sft `{prompt, completion}`, dpo `{prompt, chosen, rejected}`; other fields are kept. */
    data: DatasetRefSchema,
    /** e.g. { learningRate: 2e-6, batchSize: 16, epochs: 1 } */
    hyperparameters: z
      .record(
        z.string().regex(HYPERPARAMETER_NAME, 'letters, digits and "_", not starting with a digit'),
        HyperparameterValueSchema,
      )
      .default({}),
  })
  .strict();

export type TrainInput = z.input<typeof TrainInputSchema>;
export type ParsedTrainInput = z.output<typeof TrainInputSchema>;

/** What the trainer writes to `<output>/result.json` before exiting 0. Unknown fields are ignored. */
export const TrainerReportSchema = z.object({
  /** The served model name to use from now on (e.g. the LoRA name). */
  model: z.string().min(1).optional(),
  /** The adapter folder, absolute or relative to the output folder. */
  adapter: z.string().min(1).optional(),
  /** Base URL of a server the trainer started for the new model. */
  endpoint: z.url().optional(),
  /** A version id of the trainer's own; default `<job>@<hash of the output>`. */
  version: z.string().min(1).optional(),
  /** Final numbers worth keeping (loss, steps, ...). */
  metrics: z.record(z.string(), z.number()).optional(),
});
export type TrainerReport = z.infer<typeof TrainerReportSchema>;

export const TrainResultSchema = z.object({
  job: z.string(),
  /** The new model version id. */
  version: z.string(),
  model: z.string().optional(),
  /** Absolute adapter folder. */
  adapter: z.string().optional(),
  endpoint: z.string().optional(),
  /** Rows the trainer was given, and rows set aside (listed with reasons in `rejects`, an absolute path). */
  rows: z.number().int().nonnegative(),
  rejected: z.number().int().nonnegative(),
  rejects: z.string().optional(),
  /** Wall time of the trainer run that produced the model. */
  seconds: z.number().nonnegative(),
  /** The trainer run (1, 2, ... per job) that produced the model. */
  run: z.number().int().positive(),
  metrics: z.record(z.string(), z.number()).optional(),
  logTail: z.array(z.string()),
  /** True when the job had completed before and nothing ran now. */
  reused: z.boolean(),
  /** True when this call waited for (or took the finished output of) a trainer that an earlier attempt started. */
  adopted: z.boolean(),
});
export type TrainResult = z.infer<typeof TrainResultSchema>;

/** Heartbeat details of the train activity (the last one shows in the Temporal UI). */
export interface TrainHeartbeat {
  phase: 'data' | 'training' | 'stopping';
  job: string;
  rows?: number;
  rejected?: number;
  run?: number;
  /** The trainer's pid (the supervisor's until the trainer has started), and where it runs. */
  pid?: number;
  host?: string;
  adopted?: boolean;
  seconds: number;
  logTail: string[];
}

function nonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== '';
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (typeof value === 'string') return 'an empty string';
  return `a ${Array.isArray(value) ? 'list' : typeof value}`;
}

/** Why a row cannot be trained on for this kind, or undefined when it can. */
export function trainingRowProblem(kind: TrainingKind, row: Readonly<Record<string, unknown>>): string | undefined {
  if (typeof row.prompt !== 'string')
    return `${kind} row needs "prompt" as a string (got ${describeValue(row.prompt)})`;
  const fields = kind === 'sft' ? (['completion'] as const) : (['chosen', 'rejected'] as const);
  for (const field of fields) {
    if (!nonEmptyString(row[field]))
      return `${kind} row needs "${field}" as a non-empty string (got ${describeValue(row[field])})`;
  }
  if (kind === 'dpo' && row.chosen === row.rejected) return 'dpo row has identical "chosen" and "rejected"';
  return undefined;
}
