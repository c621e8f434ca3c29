// Entry point of the embedded OpenAI-compatible model server (lib/local-model/http.ts has the API and routes):
//
//   npm run model:serve [-- --model models/tiny-bigram.gguf --port 8765 --name tiny-bigram]
//   npm run model:serve -- --chat    (localModel.chatModelPath: SmolLM2-135M-Instruct from scripts/setup.sh)
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
      chat: { type: 'boolean', default: false },
      'chat-template': { type: 'string' },
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
    console.log(`usage: tsx scripts/local-model-server.ts [--model FILE.gguf | --chat] [--host H] [--port P] [--name ID]
                                      [--context-size N] [--parallel N] [--threads N] [--gpu auto|cuda|vulkan]
                                      [--chat-template auto|fixed]
Defaults come from localModel in temporal.yaml (PROMPTCOT_CONFIG); --port 0 picks a free port. --chat serves
localModel.chatModelPath (SmolLM2-135M-Instruct, from scripts/setup.sh). --chat-template fixed ignores the GGUF's
own chat template.
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
  if (values.chat && values.model !== undefined) throw new Error('--chat and --model exclude each other');
  const modelPath = path.resolve(values.model ?? (values.chat ? local.chatModelPath : local.modelPath));
  if (!existsSync(modelPath) && values.chat)
    throw new Error(`chat model not found: ${modelPath} (scripts/setup.sh downloads it)`);
  if (!existsSync(modelPath) && path.basename(modelPath) === path.basename(DEFAULT_TINY_MODEL_PATH)) {
    // The generated tiny model is rebuilt on demand, so `npm run model:serve` works on a fresh checkout.
    const made = generateTinyModel({ outPath: modelPath });
    console.error(`generated ${made.path} (${made.bytes} bytes)`);
  }
  const gpu = values.gpu;
  if (gpu !== undefined && gpu !== 'auto' && gpu !== 'cuda' && gpu !== 'vulkan')
    throw new Error(`--gpu: expected auto, cuda or vulkan, got "${gpu}"`);
  const chatTemplate = values['chat-template'];
  if (chatTemplate !== undefined && chatTemplate !== 'auto' && chatTemplate !== 'fixed')
    throw new Error(`--chat-template: expected auto or fixed, got "${chatTemplate}"`);
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
    chatTemplate,
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
