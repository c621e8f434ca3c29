// Replays recorded workflow histories (proto JSON, as `temporal workflow show --output json` writes them) on the
// current workflow code; exits 1 on any determinism error. Run it before deploying workers under live runs:
//   npx tsx scripts/replay-histories.ts [dir-or-file ...]   (default: tests/fixtures/histories)
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { WORKFLOWS_PATH } from '../workers/create-workers';

/** Optional file beside the histories: { "<file>.json": "<original workflow id>" } (child ids derive from it). */
const WORKFLOW_IDS = 'workflow-ids.json';

function workflowIdOf(file: string): string {
  const index = path.join(path.dirname(file), WORKFLOW_IDS);
  const ids = existsSync(index) ? (JSON.parse(readFileSync(index, 'utf8')) as Record<string, string>) : {};
  return ids[path.basename(file)] ?? path.basename(file, '.json');
}

function historyFiles(targets: string[]): string[] {
  return targets.flatMap((t) =>
    statSync(t).isDirectory()
      ? readdirSync(t)
          .filter((f) => f.endsWith('.json') && f !== WORKFLOW_IDS)
          .sort()
          .map((f) => path.join(t, f))
      : [t],
  );
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const targets = process.argv.slice(2);
  const files = historyFiles(
    targets.length > 0 ? targets : [path.join(__dirname, '..', 'tests', 'fixtures', 'histories')],
  );
  const workflowBundle = await bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    logger: new DefaultLogger('ERROR'),
  });
  let failed = 0;
  for (const file of files) {
    try {
      await Worker.runReplayHistory({ workflowBundle }, JSON.parse(readFileSync(file, 'utf8')), workflowIdOf(file));
      console.log(`replayed ${path.basename(file)}`);
    } catch (err) {
      failed++;
      console.log(`FAILED ${path.basename(file)}: ${(err as Error).name}: ${(err as Error).message}`);
    }
  }
  console.log(`${files.length - failed} of ${files.length} histories replayed`);
  process.exit(failed > 0 || files.length === 0 ? 1 : 0);
}

void main();
