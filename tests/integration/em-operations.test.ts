// Operating a long emRationaleLoop run: a step that fails for good (the trainer writes no valid result) does not
// fail the run; the run reports it and waits. The operator pauses the run, fixes the trainer and restarts the
// workers, signals retryStep (nothing happens while paused), then resume: the failed step runs again and the run
// completes, without redoing any step that had finished (cold start requests are not repeated).
import path from 'node:path';
import type { Config } from '../../domain/platform/config';
import type { EmResult, EmStatus } from '../../workflows/em-rationale-loop';
import { exampleTrainerCommand, testConfig } from '../support/config';
import { writeJsonl } from '../support/files';
import { bundleWorkflows } from '../support/temporal';
import { useTemporalAndFake } from '../support/temporal-and-fake';
import { runTestWorkers } from '../support/workers';
import { saveHistoryFixture } from '../support/histories';

const ROOT = path.join(__dirname, '..', '..');

function answer(body: Record<string, unknown>): string {
  if (Array.isArray(body.messages)) {
    const ask = (body.messages as Array<{ content: string }>).at(-1)!.content;
    const topic = /Topic (\w+)/.exec(ask)?.[1] ?? 'x';
    if (ask.includes('foundational concepts being tested')) return `\`\`\`python\n["${topic} sums", "parity"]\n\`\`\``;
    return `Thinking Process: use ${topic} sums.`;
  }
  // q_φ as a completion model: a different rationale per seed
  return `Thinking Process: plan number ${String(body.seed)}.`;
}

async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string, timeoutMs = 120_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('emRationaleLoop operations', () => {
  const ctx = useTemporalAndFake('em-ops', answer);

  it('a failed step waits for retryStep; pause holds it; nothing finished is redone', async () => {
    const base = testConfig({
      address: ctx.env.address,
      storageRoot: path.join(ctx.tmp.dir, 'store'),
      baseUrl: ctx.fake.url,
    });
    const training = (extraEnv: Record<string, string>): Config => ({
      ...base,
      training: {
        command: exampleTrainerCommand(ROOT),
        cwd: ROOT,
        env: extraEnv,
        root: path.join(ctx.tmp.dir, 'training'),
        heartbeatSeconds: 1,
        killGraceSeconds: 5,
        logTailLines: 20,
      },
    });
    const kinds = ['orchestration', 'inference', 'cpu', 'training'] as const;
    const bundle = await bundleWorkflows();
    // a broken trainer: exits 0 without a valid result.json (non-retryable)
    ctx.workers = await runTestWorkers(
      ctx.env.nativeConnection,
      training({ EXAMPLE_TRAINER_RESULT: 'invalid' }),
      bundle,
      [...kinds],
    );

    const seeds = writeJsonl(path.join(ctx.tmp.dir, 'seeds.jsonl'), [
      { id: 'a', problem: 'Topic Alpha: count things.' },
      { id: 'b', problem: 'Topic Beta: count more things.' },
    ]);
    const handle = await ctx.env.client.workflow.start('emRationaleLoop', {
      taskQueue: base.taskQueues.orchestration,
      workflowId: `em-ops-${Date.now()}`,
      args: [
        {
          name: 'ops',
          coldStart: { name: 'x', problemFiles: [seeds], concepts: { numConcepts: 2, level: 'AIME' } },
          models: { rationaleModel: { version: 'q0' }, promptGenerator: { version: 'p0' } },
          iterations: 1,
          k: 2,
        },
      ],
    });
    const status = () => handle.query<EmStatus>('status');
    const failed = await until(status, (s) => s.failed !== undefined, 'the failed training step');
    expect(failed.failed!.step).toBe('warm-start/q_phi/train');
    expect(failed.failed!.message).toMatch(/result\.json/);
    const coldStartRequests = ctx.fake.requestLog.filter((r) =>
      Array.isArray((r.body as { messages?: unknown }).messages),
    ).length;
    expect(coldStartRequests).toBe(4); // 2 concept extractions + 2 rationales

    await handle.signal('pause');
    await ctx.workers.stop();
    ctx.workers = await runTestWorkers(ctx.env.nativeConnection, training({}), bundle, [...kinds]);
    await handle.signal('retryStep');
    const held = await until(status, (s) => s.paused, 'the paused status');
    await new Promise((r) => setTimeout(r, 1500));
    expect((await status()).failed?.step).toBe('warm-start/q_phi/train'); // still held: paused
    expect(held.paused).toBe(true);
    await handle.signal('resume');

    const result = (await handle.result()) as EmResult;
    expect(result.iterations).toHaveLength(1);
    expect(result.iterations[0]!.eStep.items).toBe(2);
    expect(result.models.rationaleModel.version).not.toBe('q0');
    if (process.env.UPDATE_HISTORY_FIXTURES)
      saveHistoryFixture('emRationaleLoop-retry', ctx.env.address, handle.workflowId);
    // cold start was not redone
    expect(ctx.fake.requestLog.filter((r) => Array.isArray((r.body as { messages?: unknown }).messages)).length).toBe(
      coldStartRequests,
    );
  }, 300_000);
});
