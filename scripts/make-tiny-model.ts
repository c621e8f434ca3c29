// Generates the tiny byte-level bigram GGUF model used by tests and the quick start.
//   npm run model:tiny [-- --out models/tiny-bigram.gguf --seed 20240917 --force]
// Keeps an existing file that already holds exactly this model unless --force is given.
import { parseArgs } from 'node:util';
import { DEFAULT_TINY_MODEL_PATH, TINY_MODEL_DEFAULT_SEED, generateTinyModel } from '../lib/tiny-model';

export { generateTinyModel } from '../lib/tiny-model';

function main(): void {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      seed: { type: 'string' },
      force: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(`usage: tsx scripts/make-tiny-model.ts [--out FILE] [--seed N] [--force]
  --out    output GGUF file (default ${DEFAULT_TINY_MODEL_PATH})
  --seed   PRNG seed of the bigram table, a 32-bit unsigned integer (default ${TINY_MODEL_DEFAULT_SEED})
  --force  rewrite the file even if it already holds this model`);
    return;
  }
  let seed = TINY_MODEL_DEFAULT_SEED;
  if (values.seed !== undefined) {
    seed = Number(values.seed);
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
      throw new Error(`--seed: expected an integer in [0, 2^32), got "${values.seed}"`);
  }
  const result = generateTinyModel({ outPath: values.out, seed, force: values.force });
  console.log(
    result.written
      ? `wrote ${result.path} (${result.bytes} bytes, seed ${result.seed})`
      : `${result.path} is up to date (seed ${result.seed}); use --force to rewrite it`,
  );
}

if (require.main === module) {
  try {
    main();
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
}
