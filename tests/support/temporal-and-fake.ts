// The common fixture of integration tests: a real Temporal dev server, the fake OpenAI server (answering with
// `respond`, or started with the given options), a temp folder, and the test's workers (set `ctx.workers`), all torn
// down after the file's tests; what else a file starts (worker processes, other servers) it stops with `onTeardown`,
// which runs before the fixture's own teardown.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  startFakeOpenAIServer,
  type FakeOpenAIServer,
  type FakeOpenAIServerOptions,
} from '../../lib/fake-openai-server';
import { tempDir } from './files';
import { startLocalTemporal } from './temporal';
import type { TestWorkers } from './workers';

export interface TemporalAndFake {
  tmp: ReturnType<typeof tempDir>;
  env: TestWorkflowEnvironment;
  fake: FakeOpenAIServer;
  workers?: TestWorkers;
  /** Stops something the file started; these run first at teardown, the last registered first. */
  onTeardown(stop: () => unknown): void;
}

export function useTemporalAndFake(
  prefix: string,
  fake: FakeOpenAIServerOptions | NonNullable<FakeOpenAIServerOptions['respond']> = {},
): TemporalAndFake {
  const stops: Array<() => unknown> = [];
  const ctx = { tmp: tempDir(prefix), onTeardown: (stop) => void stops.push(stop) } as TemporalAndFake;
  beforeAll(async () => {
    ctx.env = await startLocalTemporal();
    ctx.fake = await startFakeOpenAIServer(typeof fake === 'function' ? { respond: fake } : fake);
  });
  afterAll(async () => {
    for (const stop of stops.reverse()) await stop();
    await ctx.workers?.stop();
    await ctx.fake?.close();
    await ctx.env?.teardown();
    ctx.tmp.remove();
  });
  return ctx;
}
