// Entry point of the embedded OpenAI-compatible model server (lib/local-model/http.ts has the API and routes):
//
//   npm run model:serve [-- --model models/tiny-bigram.gguf --port 8765 --name tiny-bigram]
//
// Flags left out come from `localModel` in temporal.yaml (loadConfig).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { defaultConfigPath, loadConfig } from '../activities/config';
import { LocalModelConfigSchema } from '../domain/platform/config';
import { DEFAULT_TINY_MODEL_PATH, generateTinyModel } from '../lib/tiny-model';
import { startLocalModelServer } from '../lib/local-model/http';

// ---------------------------------------------------------------------------------------------------------
// CLI
// ---------------------------------------------------------------------------------------------------------

function intFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name}: expected a non-negative integer, got "${value}"`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      name: { type: 'string' },
      'context-size': { type: 'string' },
      parallel: { type: 'string' },
      threads: { type: 'string' },
      gpu: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(`usage: tsx scripts/local-model-server.ts [--model FILE.gguf] [--host H] [--port P] [--name ID]
                                      [--context-size N] [--parallel N] [--threads N] [--gpu auto|cuda|vulkan]
Defaults come from localModel in temporal.yaml (PROMPTCOT_CONFIG); --port 0 picks a free port.
Prints "listening on <url>" once ready.`);
    return;
  }
  // temporal.yaml supplies the flags left out (it is not read when all are given); without a configuration file
  // the schema defaults apply.
  const configFile = defaultConfigPath();
  const needConfig = [values.model, values.host, values.port, values['context-size'], values.parallel].some(
    (v) => v === undefined,
  );
  const local =
    needConfig && existsSync(configFile) ? loadConfig(configFile).localModel : LocalModelConfigSchema.parse({});
  const modelPath = path.resolve(values.model ?? local.modelPath);
  if (!existsSync(modelPath) && path.basename(modelPath) === path.basename(DEFAULT_TINY_MODEL_PATH)) {
    // The generated tiny model is rebuilt on demand, so `npm run model:serve` works on a fresh checkout.
    const made = generateTinyModel({ outPath: modelPath });
    console.error(`generated ${made.path} (${made.bytes} bytes)`);
  }
  const gpu = values.gpu;
  if (gpu !== undefined && gpu !== 'auto' && gpu !== 'cuda' && gpu !== 'vulkan')
    throw new Error(`--gpu: expected auto, cuda or vulkan, got "${gpu}"`);
  const started = Date.now();
  const server = await startLocalModelServer({
    modelPath,
    host: values.host ?? local.host,
    port: intFlag('port', values.port) ?? local.port,
    modelName: values.name,
    contextSize: intFlag('context-size', values['context-size']) ?? local.contextSize,
    parallel: intFlag('parallel', values.parallel) ?? local.parallel,
    threads: intFlag('threads', values.threads),
    gpu: gpu ?? false,
    log: (line) => console.error(line),
  });
  console.log(
    `listening on ${server.url} (model '${server.modelName}' from ${modelPath}, ready in ${Date.now() - started} ms)`,
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`${signal}: shutting down`);
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
