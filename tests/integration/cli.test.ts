// The CLI against a real Temporal dev server: malformed input fails before anything starts, naming the field;
// start / status / list (with filters on the project's search attributes) / cancel work on real runs, and a schedule
// carries a note and the summary of the runs it starts.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Config } from '../../domain/platform/config';
import { runCli } from '../../lib/cli';
import type { FakeOpenAIServer } from '../../lib/fake-openai-server';
import { testConfig } from '../support/config';
import { runTestWorkers } from '../support/workers';
import { writeJsonl } from '../support/files';
import { bundleWorkflows } from '../support/temporal';
import { useTemporalAndFake } from '../support/temporal-and-fake';
import { writeConfigFile } from '../support/worker-process';

const ROOT = path.join(__dirname, '..', '..');

describe('CLI', () => {
  const ctx = useTemporalAndFake('cli', { latencyMs: 30 });
  const { tmp } = ctx;
  let env: TestWorkflowEnvironment;
  let fake: FakeOpenAIServer;
  let config: Config;

  beforeAll(async () => {
    ({ env, fake } = ctx);
    config = testConfig({ address: env.address, storageRoot: path.join(tmp.dir, 'store'), baseUrl: fake.url });
    ctx.workers = await runTestWorkers(env.nativeConnection, config, await bundleWorkflows(), [
      'orchestration',
      'inference',
    ]);
  });

  it('rejects malformed input at once, naming the fields, without starting anything', () => {
    const configFile = writeConfigFile(path.join(tmp.dir, 'dead.yaml'), {
      ...config,
      temporal: { ...config.temporal, address: '127.0.0.1:1' },
    });
    const started = Date.now();
    const out = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'scripts/cli.ts',
        'start',
        'batchInference',
        '--json',
        JSON.stringify({ name: 'x', inputFiles: [], chat: { sampling: { n: 0 } } }),
      ],
      { cwd: ROOT, env: { ...process.env, PROMPTCOT_CONFIG: configFile }, encoding: 'utf8' },
    );
    expect(out.status).toBe(2);
    expect(out.stderr).toContain('invalid batchInference input');
    expect(out.stderr).toContain('inputFiles');
    expect(out.stderr).toContain('chat.sampling.n');
    expect(Date.now() - started).toBeLessThan(20_000);

    const file = path.join(tmp.dir, 'broken.json');
    require('node:fs').writeFileSync(file, '{"name": "x",\n "inputFiles": [}\n');
    const broken = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'scripts/cli.ts', 'start', 'batchInference', '--input', file],
      {
        cwd: ROOT,
        env: { ...process.env, PROMPTCOT_CONFIG: configFile },
        encoding: 'utf8',
      },
    );
    expect(broken.status).toBe(2);
    expect(broken.stderr).toContain(`${file}: invalid JSON`);
  });

  it('a malformed input sent straight to the server (as the Web UI does) fails the run at once, naming the field', async () => {
    const err = await env.client.workflow
      .execute('batchInference', {
        taskQueue: config.taskQueues.orchestration,
        workflowId: `ui-bad-${Date.now()}`,
        args: [{ name: 'ok', inputFiles: ['a.jsonl'], shardSize: 'big' }],
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause?.message).toMatch(
      /invalid workflow input: shardSize: Invalid input: expected number/,
    );
  });

  it('starts a run, shows its progress, lists it and cancels another', async () => {
    const lines: string[] = [];
    const spy = jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
    try {
      const file = writeJsonl(
        path.join(tmp.dir, 'p.jsonl'),
        Array.from({ length: 40 }, (_, i) => ({ prompt: `q${i}` })),
      );
      const input = path.join(tmp.dir, 'run.json');
      require('node:fs').writeFileSync(input, JSON.stringify({ name: 'cli-run', inputFiles: [file], shardSize: 10 }));
      expect(await runCli(['start', 'batchInference', '--input', input, '--id', 'cli-run-1', '--wait'], config)).toBe(
        0,
      );
      expect(lines[0]).toBe('started batchInference as cli-run-1');
      expect(lines.join('\n')).toMatch(/"kept": 40/);

      lines.length = 0;
      expect(await runCli(['status', 'cli-run-1'], config)).toBe(0);
      expect(lines[0]).toMatch(/cli-run-1 \[batchInference\] COMPLETED/);

      fake.setFaults(() => ({ type: 'slow', delayMs: 2000 }));
      const slowFile = writeJsonl(
        path.join(tmp.dir, 'slow.jsonl'),
        Array.from({ length: 400 }, (_, i) => ({ prompt: `s${i}` })),
      );
      require('node:fs').writeFileSync(
        input,
        JSON.stringify({ name: 'cli-slow', inputFiles: [slowFile], shardSize: 100, itemConcurrency: 2 }),
      );
      expect(await runCli(['start', 'batchInference', '--input', input, '--id', 'cli-slow-1'], config)).toBe(0);
      await new Promise((r) => setTimeout(r, 3000));
      lines.length = 0;
      expect(await runCli(['status', 'cli-slow-1'], config)).toBe(0);
      expect(lines[0]).toMatch(
        /cli-slow-1 \[batchInference\] RUNNING \| phase completions \| completions \[[#.]+\] [\d.]+% items \d+\/400/,
      );

      lines.length = 0;
      expect(await runCli(['list'], config)).toBe(0);
      expect(lines.some((l) => l.startsWith('cli-run-1\tbatchInference\tCOMPLETED'))).toBe(true);
      expect(lines.some((l) => l.startsWith('cli-slow-1\tbatchInference\tRUNNING'))).toBe(true);

      // filters on the project's search attributes (the list shows each run's PromptcotState)
      const listed = async (...filter: string[]) => {
        for (let i = 0; ; i++) {
          lines.length = 0;
          expect(await runCli(['list', ...filter], config)).toBe(0);
          if (lines.length > 0 || i >= 50) return [...lines];
          await new Promise((r) => setTimeout(r, 100)); // visibility lags a little behind
        }
      };
      expect(await listed('--filter', 'name=cli-run')).toEqual([
        expect.stringMatching(/^cli-run-1\tbatchInference\tCOMPLETED \(done\)\t/),
      ]);
      const running = await listed('--running', '--filter', 'pipeline=batchInference');
      expect(running).toEqual([expect.stringMatching(/^cli-slow-1\tbatchInference\tRUNNING \(running\)\t/)]);
      // the `runs` filter leaves the stage children out
      expect((await listed('--filter', 'runs')).some((l) => l.startsWith('cli-run-1/'))).toBe(false);
      expect((await listed('--filter', "WorkflowId = 'cli-run-1/completions'")).length).toBe(1);
      expect(
        await env.client.workflow
          .getHandle('cli-run-1')
          .describe()
          .then((d) => d.staticSummary()),
      ).toBe(`batchInference cli-run · ${file}`);

      lines.length = 0;
      expect(await runCli(['search-attributes'], config)).toBe(0);
      expect(lines[0]).toBe(
        'namespace default: registered PromptcotPipeline, PromptcotName, PromptcotRunKey, PromptcotStep, PromptcotState',
      );

      expect(await runCli(['cancel', 'cli-slow-1'], config)).toBe(0);
      const described = await env.client.workflow
        .getHandle('cli-slow-1')
        .result()
        .catch((e: unknown) => e);
      expect((described as WorkflowFailedError).cause?.name).toBe('CancelledFailure');
    } finally {
      fake.setFaults(undefined);
      spy.mockRestore();
    }
  });

  it('keeps a Temporal Schedule for periodic runs (create, then update in place) whose trigger starts a run', async () => {
    const lines: string[] = [];
    const spy = jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
    try {
      const file = writeJsonl(path.join(tmp.dir, 'sched.jsonl'), [{ prompt: 'scheduled question' }]);
      const input = path.join(tmp.dir, 'sched.json');
      require('node:fs').writeFileSync(input, JSON.stringify({ name: 'sched-a', inputFiles: [file] }));
      expect(
        await runCli(
          ['schedule', 'refresh-test', '--workflow', 'batchInference', '--input', input, '--every', '1d'],
          config,
        ),
      ).toBe(0);
      require('node:fs').writeFileSync(input, JSON.stringify({ name: 'sched-b', inputFiles: [file] }));
      expect(
        await runCli(
          ['schedule', 'refresh-test', '--workflow', 'batchInference', '--input', input, '--every', '12h'],
          config,
        ),
      ).toBe(0);
      expect(lines).toEqual(['schedule refresh-test created', 'schedule refresh-test updated']);

      const handle = env.client.schedule.getHandle('refresh-test');
      const described = await handle.describe();
      expect(described.action).toMatchObject({
        type: 'startWorkflow',
        workflowType: 'batchInference',
        args: [{ name: 'sched-b' }],
      });
      expect(described.spec.intervals?.[0]?.every).toBe(12 * 3600 * 1000);
      expect(described.state.note).toBe('created by the promptcot CLI: batchInference every 12h');
      expect(described.action).toMatchObject({ staticSummary: expect.stringMatching(/^batchInference sched-b · /) });
      await handle.trigger();
      let started: string | undefined;
      for (let i = 0; i < 100 && !started; i++) {
        started = (await handle.describe()).info.recentActions[0]?.action.workflow.workflowId;
        if (!started) await new Promise((r) => setTimeout(r, 100));
      }
      const result = await env.client.workflow.getHandle(started!).result();
      expect(result.completions.counts.kept).toBe(1);
      expect(await (await env.client.workflow.getHandle(started!).describe()).staticSummary()).toMatch(
        /^batchInference sched-b · .* · schedule refresh-test$/,
      );
      await handle.delete();
    } finally {
      spy.mockRestore();
    }
  });
});
