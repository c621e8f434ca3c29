// Workflow histories kept as fixtures: every released version's histories must replay on the current code, so
// that runs which last days survive a deploy in the middle. Saved in the proto JSON form of `temporal workflow show`.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ensureTemporalCli } from '../../lib/temporal-cli';

export const HISTORY_FIXTURES = path.join(__dirname, '..', 'fixtures', 'histories');

export function saveHistoryFixture(name: string, address: string, workflowId: string): void {
  const json = execFileSync(
    ensureTemporalCli(),
    ['workflow', 'show', '--address', address, '-w', workflowId, '--output', 'json'],
    {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  writeFileSync(path.join(HISTORY_FIXTURES, `${name}.json`), JSON.stringify(JSON.parse(json)) + '\n');
  // Replay needs the original workflow id (child workflow ids are derived from it).
  const indexFile = path.join(HISTORY_FIXTURES, 'workflow-ids.json');
  const index = existsSync(indexFile) ? (JSON.parse(readFileSync(indexFile, 'utf8')) as Record<string, string>) : {};
  index[`${name}.json`] = workflowId;
  writeFileSync(indexFile, JSON.stringify(index, null, 2) + '\n');
}

export function loadHistoryFixtures(): Array<{ name: string; history: unknown }> {
  return readdirSync(HISTORY_FIXTURES)
    .filter((f) => f.endsWith('.json') && f !== 'workflow-ids.json')
    .map((f) => ({
      name: f.replace(/\.json$/, ''),
      history: JSON.parse(readFileSync(path.join(HISTORY_FIXTURES, f), 'utf8')) as unknown,
    }));
}
