// Entry point of the CLI (`npm run cli -- <command>`); the commands are in lib/cli.ts.
import { runCli } from '../lib/cli';

runCli(process.argv.slice(2))
  .then((code) => process.exit(code))
  .catch((err: unknown) => {
    console.error(
      err instanceof Error ? `${err.name === 'UsageError' ? '' : `${err.name}: `}${err.message}` : String(err),
    );
    process.exit(2);
  });
