// The common fixture of integration tests: a real Temporal dev server, the fake OpenAI server answering with
// `respond`, a temp folder, and the test's workers (set `ctx.workers`), all torn down after the file's tests.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startFakeOpenAIServer, type FakeOpenAIServer } from '../../lib/fake-openai-server';
import { tempDir } from './files';
import { startLocalTemporal } from './temporal';
import type { TestWorkers } from './workers';

export interface TemporalAndFake {
  tmp: ReturnType<typeof tempDir>;
  env: TestWorkflowEnvironment;
  fake: FakeOpenAIServer;
  workers?: TestWorkers;
}

export function useTemporalAndFake(prefix: string, respond: (body: Record<string, unknown>) => string): TemporalAndFake {
  const ctx = { tmp: tempDir(prefix) } as TemporalAndFake;
  beforeAll(async () => {
    ctx.env = await startLocalTemporal();
    ctx.fake = await startFakeOpenAIServer({ respond });
  });
  afterAll(async () => {
    await ctx.workers?.stop();
    await ctx.fake?.close();
    await ctx.env?.teardown();
    ctx.tmp.remove();
  });
  return ctx;
}
