// A small but real trainer for tests and demos, run by the train activity like any external trainer:
//
//   node --import tsx scripts/example-trainer.ts --data FILE --output DIR [--base MODEL] [--kind sft|dpo]
//        [--job NAME] [--model-name NAME] [--hp name=value ...]
//
// Options fall back to the PROMPTCOT_TRAIN_* variables the activity sets (hyperparameters: PROMPTCOT_TRAIN_HYPERPARAMETERS,
// JSON; --hp overrides single ones). It fits an add-one-smoothed unigram model of the target text: SFT learns the
// completions; DPO learns the chosen responses and unlearns half as much of the rejected ones, its loss being
// -log sigmoid(beta * (mean log p(chosen) - mean log p(rejected))). It goes in steps of batchSize rows for `epochs`
// epochs, prints one progress line per step, checkpoints after every step to <output>/checkpoint.json (and resumes
// from it when started again on the same data and settings), and finally writes <output>/adapter/
// (adapter_config.json; adapter_model.json with the most frequent tokens' log-probabilities) and <output>/result.json.
//
// Behaviour for tests, by environment variable:
//   EXAMPLE_TRAINER_STEP_MS=n         sleep n ms per step (a slow trainer)
//   EXAMPLE_TRAINER_FAIL_AT_STEP=k    crash at step k with exit code EXAMPLE_TRAINER_EXIT_CODE (default 3)
//   EXAMPLE_TRAINER_RESULT=missing    exit 0 without writing result.json; =invalid: write a broken one
//   EXAMPLE_TRAINER_SPAWN_CHILD=1     run a helper process (think: a data-loader worker) for as long as training runs
//   EXAMPLE_TRAINER_PIDS_FILE=FILE    write {"trainer": pid, "child": pid} there once started
//   EXAMPLE_TRAINER_IGNORE_SIGTERM=1  ignore SIGTERM, so that only SIGKILL stops it
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeFileAtomicSync } from '../activities/datasets/jsonl';

type Kind = 'sft' | 'dpo';
type Hyperparameters = Record<string, number | string | boolean>;

interface Options {
  data: string;
  output: string;
  base: string;
  kind: Kind;
  job: string;
  modelName: string;
  hyperparameters: Hyperparameters;
}

interface Example {
  /** SFT: the completion; DPO: the chosen response. */
  target: string[];
  /** DPO only: the rejected response. */
  against?: string[];
}

interface Checkpoint {
  dataSha256: string;
  settings: string;
  step: number;
  loss: number;
  total: number;
  counts: Array<[string, number]>;
}

function usage(message: string): never {
  process.stderr.write(
    `example-trainer: ${message}\nusage: node --import tsx scripts/example-trainer.ts --data FILE --output DIR [--base MODEL] [--kind sft|dpo] [--job NAME] [--model-name NAME] [--hp name=value ...]\n`,
  );
  process.exit(2);
}

function parseValue(text: string): number | string | boolean {
  if (text === 'true' || text === 'false') return text === 'true';
  const n = Number(text);
  return text.trim() !== '' && Number.isFinite(n) ? n : text;
}

function parseOptions(argv: string[], env: NodeJS.ProcessEnv): Options {
  const flags = new Map<string, string>();
  const hp: Hyperparameters = env.PROMPTCOT_TRAIN_HYPERPARAMETERS
    ? (JSON.parse(env.PROMPTCOT_TRAIN_HYPERPARAMETERS) as Hyperparameters)
    : {};
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = argv[i + 1];
    if (!flag.startsWith('--') || value === undefined) usage(`unexpected argument ${JSON.stringify(flag)}`);
    i++;
    if (flag === '--hp') {
      const eq = value.indexOf('=');
      if (eq <= 0) usage(`--hp needs name=value, got ${JSON.stringify(value)}`);
      hp[value.slice(0, eq)] = parseValue(value.slice(eq + 1));
    } else {
      flags.set(flag.slice(2), value);
    }
  }
  const data = flags.get('data') ?? env.PROMPTCOT_TRAIN_DATA;
  const output = flags.get('output') ?? env.PROMPTCOT_TRAIN_OUTPUT;
  if (!data || !output) usage('--data and --output are required');
  const kind = flags.get('kind') ?? env.PROMPTCOT_TRAIN_KIND ?? 'sft';
  if (kind !== 'sft' && kind !== 'dpo') usage(`--kind must be sft or dpo, got ${kind}`);
  const job = flags.get('job') ?? env.PROMPTCOT_TRAIN_JOB ?? 'example';
  return {
    data,
    output,
    base: flags.get('base') ?? env.PROMPTCOT_TRAIN_BASE ?? 'base',
    kind,
    job,
    modelName: flags.get('model-name') ?? job.replace(/[^A-Za-z0-9._-]+/g, '--'),
    hyperparameters: hp,
  };
}

function tokenize(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+|[^\s\p{L}\p{N}]/gu) ?? [];
}

function readExamples(file: string, kind: Kind): { examples: Example[]; skipped: number } {
  const examples: Example[] = [];
  let skipped = 0;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    let row: Record<string, unknown>;
    try {
      row = JSON.parse(line) as Record<string, unknown>;
    } catch {
      skipped++;
      continue;
    }
    if (kind === 'sft' && typeof row.completion === 'string') examples.push({ target: tokenize(row.completion) });
    else if (kind === 'dpo' && typeof row.chosen === 'string' && typeof row.rejected === 'string') {
      examples.push({ target: tokenize(row.chosen), against: tokenize(row.rejected) });
    } else skipped++;
  }
  return { examples, skipped };
}

/** Add-one-smoothed unigram model over the vocabulary of the data (plus one slot for unseen tokens). */
class Unigram {
  readonly counts = new Map<string, number>();
  total = 0;

  constructor(private readonly vocabularySize: number) {}

  logProb(token: string): number {
    return Math.log(((this.counts.get(token) ?? 0) + 1) / (this.total + this.vocabularySize + 1));
  }

  meanLogProb(tokens: string[]): number {
    if (tokens.length === 0) return 0;
    return tokens.reduce((s, t) => s + this.logProb(t), 0) / tokens.length;
  }

  add(tokens: string[], weight: number): void {
    for (const t of tokens) {
      const before = this.counts.get(t) ?? 0;
      const after = Math.max(0, before + weight);
      this.counts.set(t, after);
      this.total += after - before;
    }
  }
}

function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomicSync(file, JSON.stringify(value, null, 2) + '\n');
}

function numberSetting(hp: Hyperparameters, name: string, fallback: number): number {
  const v = hp[name];
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : fallback;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2), process.env);
  const env = process.env;
  const stepMs = Number(env.EXAMPLE_TRAINER_STEP_MS ?? 0);
  const failAt = env.EXAMPLE_TRAINER_FAIL_AT_STEP ? Number(env.EXAMPLE_TRAINER_FAIL_AT_STEP) : undefined;
  let step = 0;

  let helper: ChildProcess | undefined;
  if (env.EXAMPLE_TRAINER_SPAWN_CHILD === '1') {
    helper = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], { stdio: 'ignore' });
  }
  if (env.EXAMPLE_TRAINER_PIDS_FILE)
    writeJsonAtomic(env.EXAMPLE_TRAINER_PIDS_FILE, { trainer: process.pid, child: helper?.pid });
  process.on('SIGTERM', () => {
    if (env.EXAMPLE_TRAINER_IGNORE_SIGTERM === '1') {
      console.log(`example-trainer: ignoring SIGTERM at step ${step}`);
      return;
    }
    console.log(`example-trainer: SIGTERM at step ${step}: stopping (the checkpoint keeps the last finished step)`);
    helper?.kill();
    process.exit(143);
  });

  const raw = readFileSync(options.data);
  const dataSha256 = createHash('sha256').update(raw).digest('hex');
  const { examples, skipped } = readExamples(options.data, options.kind);
  if (examples.length === 0) {
    console.error(`example-trainer: no ${options.kind} rows in ${options.data}`);
    process.exit(4);
  }
  const hp = options.hyperparameters;
  const batchSize = Math.floor(numberSetting(hp, 'batchSize', 16));
  const epochs = Math.floor(numberSetting(hp, 'epochs', 1));
  const beta = numberSetting(hp, 'beta', 0.1);
  const stepsPerEpoch = Math.ceil(examples.length / batchSize);
  const totalSteps = stepsPerEpoch * epochs;
  const settings = JSON.stringify({ kind: options.kind, batchSize, epochs, beta });
  console.log(
    `example-trainer: start pid=${process.pid} kind=${options.kind} base=${options.base} rows=${examples.length} skipped=${skipped} ` +
      `batchSize=${batchSize} epochs=${epochs} steps=${totalSteps} hyperparameters=${JSON.stringify(hp)}`,
  );

  mkdirSync(options.output, { recursive: true });
  const checkpointFile = path.join(options.output, 'checkpoint.json');
  const vocabulary = new Set(examples.flatMap((e) => [...e.target, ...(e.against ?? [])]));
  const model = new Unigram(vocabulary.size);
  let loss = Number.NaN;
  if (existsSync(checkpointFile)) {
    const saved = JSON.parse(readFileSync(checkpointFile, 'utf8')) as Checkpoint;
    if (saved.dataSha256 === dataSha256 && saved.settings === settings && saved.step <= totalSteps) {
      for (const [t, c] of saved.counts) model.counts.set(t, c);
      model.total = saved.total;
      step = saved.step;
      loss = saved.loss;
      console.log(`example-trainer: resuming from the checkpoint at step ${step}`);
    }
  }

  while (step < totalSteps) {
    const next = step + 1;
    if (failAt !== undefined && next >= failAt) {
      console.error(`example-trainer: simulated crash at step ${next}`);
      helper?.kill();
      process.exit(Number(env.EXAMPLE_TRAINER_EXIT_CODE ?? 3));
    }
    const first = ((next - 1) % stepsPerEpoch) * batchSize;
    const batch = examples.slice(first, first + batchSize);
    if (options.kind === 'sft') {
      const tokens = batch.flatMap((e) => e.target);
      loss = tokens.length > 0 ? -tokens.reduce((s, t) => s + model.logProb(t), 0) / tokens.length : 0;
      for (const e of batch) model.add(e.target, 1);
    } else {
      loss =
        batch.reduce(
          (s, e) =>
            s + Math.log1p(Math.exp(-beta * (model.meanLogProb(e.target) - model.meanLogProb(e.against ?? [])))),
          0,
        ) / batch.length;
      for (const e of batch) {
        model.add(e.target, 1);
        model.add(e.against ?? [], -0.5);
      }
    }
    step = next;
    writeJsonAtomic(checkpointFile, {
      dataSha256,
      settings,
      step,
      loss,
      total: model.total,
      counts: [...model.counts],
    } satisfies Checkpoint);
    console.log(`step ${step}/${totalSteps} epoch ${Math.ceil(step / stepsPerEpoch)} loss=${loss.toFixed(4)}`);
    if (stepMs > 0) await sleep(stepMs);
  }

  const adapterDir = path.join(options.output, 'adapter');
  mkdirSync(adapterDir, { recursive: true });
  const top = [...model.counts.entries()]
    .filter(([, c]) => c > 0)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, 64)
    .map(([t]) => [t, Number(model.logProb(t).toFixed(6))]);
  writeJsonAtomic(path.join(adapterDir, 'adapter_config.json'), {
    format: 'promptcot-example-unigram',
    base_model_name_or_path: options.base,
    kind: options.kind,
    hyperparameters: { ...hp, batchSize, epochs, ...(options.kind === 'dpo' ? { beta } : {}) },
    rows: examples.length,
    steps: totalSteps,
    data_sha256: dataSha256,
    vocabulary_size: vocabulary.size,
  });
  writeJsonAtomic(path.join(adapterDir, 'adapter_model.json'), { total: model.total, smoothing: 'add-one', top });
  helper?.kill();

  const resultFile = path.join(options.output, 'result.json');
  if (env.EXAMPLE_TRAINER_RESULT === 'missing') {
    console.log('example-trainer: done, without writing result.json (as told)');
    return;
  }
  if (env.EXAMPLE_TRAINER_RESULT === 'invalid') {
    writeFileSync(resultFile, '{"adapter": 42, ');
    console.log('example-trainer: done, with a broken result.json (as told)');
    return;
  }
  writeJsonAtomic(resultFile, {
    model: options.modelName,
    adapter: 'adapter',
    metrics: { loss: Number(loss.toFixed(6)), steps: totalSteps, rows: examples.length, tokens: model.total },
  });
  console.log(
    `example-trainer: done: model ${options.modelName}, adapter ${adapterDir}, final loss ${loss.toFixed(4)}`,
  );
}

main().catch((err: unknown) => {
  console.error(`example-trainer: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});
