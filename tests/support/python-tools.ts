// The Python of the project's independent checks: a venv that scripts/setup.sh creates in the project cache with
// pinned `tokenizers` (Hugging Face's Rust tokenizer, the reference token counts), `pyarrow` and `datasets` (which
// read the SFT Parquet export). A test that needs it fails, not skips, when it is missing.
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { cacheRoot } from '../../lib/temporal-cli';

/** The venv's python executable; throws, telling how to create it, when it is missing. */
export function pythonTools(): string {
  const python = path.join(cacheRoot(), 'python', 'bin', 'python');
  try {
    accessSync(python, constants.X_OK);
  } catch {
    throw new Error(
      `the Python tools venv is missing (${python} is not an executable): run scripts/setup.sh, which creates it ` +
        'with pinned tokenizers, pyarrow and datasets',
    );
  }
  return python;
}
