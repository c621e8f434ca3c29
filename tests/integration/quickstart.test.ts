// The README's quick start, run as a user would (`npm run quickstart -- --exit`), on free ports and a temp folder:
// it starts a Temporal dev server, the local model server and workers, and runs the small promptcotExperiment of
// experiments/quickstart.json for real (synthesis, training prompts, self-play, SFT, evaluation, the report).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../activities/config';
import { freePort } from '../../lib/dev-server';
import { tempDir } from '../support/files';
import { writeConfigFile } from '../support/worker-process';

const ROOT = path.join(__dirname, '..', '..');

jest.setTimeout(960_000);

test('npm run quickstart runs a promptcotExperiment end to end on the embedded defaults', async () => {
  const tmp = tempDir('quickstart');
  try {
    const shipped = loadConfig(path.join(ROOT, 'temporal.yaml'), {});
    const [temporalPort, uiPort, modelPort] = [await freePort(), await freePort(), await freePort()];
    const config = {
      ...shipped,
      temporal: { ...shipped.temporal, address: `127.0.0.1:${temporalPort}` },
      storage: { root: path.join(tmp.dir, 'data') },
      endpoints: { local: { ...shipped.endpoints.local!, baseUrl: `http://127.0.0.1:${modelPort}/v1` } },
      devServer: { ...shipped.devServer, uiPort, dbFile: path.join(tmp.dir, 'temporal.db') },
      training: { ...shipped.training!, root: path.join(tmp.dir, 'training') },
    };
    const configFile = writeConfigFile(path.join(tmp.dir, 'temporal.yaml'), config);
    const out = spawnSync('npm', ['run', '--silent', 'quickstart', '--', '--exit'], {
      cwd: ROOT,
      env: { ...process.env, PROMPTCOT_CONFIG: configFile },
      encoding: 'utf8',
      timeout: 900_000,
    });
    expect(out.stderr).not.toMatch(/Error/);
    expect(out.status).toBe(0);
    expect(out.stdout).toContain(
      `started the Temporal dev server at 127.0.0.1:${temporalPort}, Web UI http://127.0.0.1:${uiPort}`,
    );
    expect(out.stdout).toContain('started promptcotExperiment quickstart-');
    expect(out.stdout).toMatch(
      /COMPLETED \| synthesize-math:done > analyze:done > prompts:done > self-play:\w+ > sft:\w+ > evaluate:done > report:done/,
    );
    expect(out.stdout).toContain('step evaluate: done');
    expect(out.stdout).toContain('evaluated: base');
    const report = /^report: (\S+)$/m.exec(out.stdout)![1]!;
    const markdown = readFileSync(report, 'utf8');
    expect(markdown).toMatch(/^# PromptCoT experiment: quickstart-/);
    expect(markdown).toContain('## Evaluation');
    expect(markdown).toContain('## Spend');
    expect(existsSync(/^report \(HTML\): (\S+)$/m.exec(out.stdout)![1]!)).toBe(true);
    expect(existsSync(path.join(tmp.dir, 'temporal.db'))).toBe(true); // runs persisted in SQLite
  } finally {
    tmp.remove();
  }
});
