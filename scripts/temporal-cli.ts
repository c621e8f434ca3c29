// Entry point (`npm run temporal:ensure`): finds or builds the Temporal CLI (lib/temporal-cli.ts) and prints its
// path and version.
import { spawnSync } from 'node:child_process';
import { ensureTemporalCli } from '../lib/temporal-cli';

const cli = ensureTemporalCli();
const version = spawnSync(cli, ['--version'], { encoding: 'utf8' });
process.stdout.write(`${cli}\n${version.stdout.trim()}\n`);
