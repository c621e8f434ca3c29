// Determinism: recorded histories of earlier versions replay on the current workflow code.
// Refresh with UPDATE_HISTORY_FIXTURES=1 npx jest tests/integration/stage-workflow.test.ts (keep the old files).
// The replay runs in a plain Node process: the SDK's protobuf JSON decoding does not survive jest's module registry.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { loadHistoryFixtures } from '../support/histories';

describe('replay of recorded histories', () => {
  it('replays every fixture without a determinism error', () => {
    const fixtures = loadHistoryFixtures();
    expect(fixtures.length).toBeGreaterThanOrEqual(3);
    const out = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/replay-histories.ts'], {
      cwd: path.join(__dirname, '..', '..'),
      encoding: 'utf8',
    });
    expect(out.stdout).toContain(`${fixtures.length} of ${fixtures.length} histories replayed`);
    expect(out.status).toBe(0);
  });

  it('notices a workflow that no longer matches its history', () => {
    const { mkdtempSync, writeFileSync } = require('node:fs') as typeof import('node:fs');
    const dir = mkdtempSync(path.join(require('node:os').tmpdir(), 'replay-'));
    const [fixture] = loadHistoryFixtures().filter((f) => f.name === 'mapDatasetStage-noop');
    const history = JSON.parse(JSON.stringify(fixture!.history)) as { events: Array<Record<string, any>> };
    // Pretend the old code scheduled a different activity than today's code does.
    const scheduled = history.events.find((e) => e.activityTaskScheduledEventAttributes);
    scheduled!.activityTaskScheduledEventAttributes.activityType.name = 'someOldActivity';
    writeFileSync(path.join(dir, 'changed.json'), JSON.stringify(history));
    const out = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/replay-histories.ts', dir], {
      cwd: path.join(__dirname, '..', '..'),
      encoding: 'utf8',
    });
    expect(out.status).toBe(1);
    expect(out.stdout).toMatch(/FAILED changed\.json: DeterminismViolationError/);
  });
});
