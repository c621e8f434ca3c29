// Safe deploys of long runs (docs/deploy.md): a run in flight on workers of build A finishes correctly after the
// workers move to build B, whose workflow code adds commands behind patched(); A's recorded histories replay on B,
// and a B that adds them without patched() is caught by that replay. Test-only workflows: tests/fixtures/deploy.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { startLocalTemporal } from '../support/temporal';
import { historyOf, until, untilHandled } from '../support/workflow-harness';

jest.setTimeout(120_000);

const builds = ['a', 'b', 'b-unpatched'] as const;
type Build = (typeof builds)[number];

describe('a deploy in the middle of a run (patching)', () => {
  let env: TestWorkflowEnvironment;
  const bundles = {} as Record<Build, WorkflowBundleWithSourceMap>;
  beforeAll(async () => {
    env = await startLocalTemporal();
    for (const build of builds)
      bundles[build] = await bundleWorkflowCode({
        workflowsPath: path.join(__dirname, '..', 'fixtures', 'deploy', `workflows-${build}.ts`),
        logger: new DefaultLogger('WARN'),
      });
  });
  afterAll(async () => {
    await env?.teardown();
  });

  function worker(build: Build, taskQueue: string, steps: string[]): Promise<Worker> {
    return Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: bundles[build],
      activities: {
        step: async (name: string) => (steps.push(`${build}:${name}`), name),
        audit: async (name: string) => (steps.push(`${build}:${name}`), name),
      },
    });
  }

  it('finishes a run started on build A on build B, taking only the patches it reaches afresh', async () => {
    const taskQueue = `deploy-${randomUUID()}`;
    const steps: string[] = [];
    const handle = await env.client.workflow.start('deployDemo', { taskQueue, workflowId: `deploy-${randomUUID()}` });

    // Build A runs the first step, then the run waits for `go`; A's workers stop (the deploy).
    const a = await worker('a', taskQueue, steps);
    await a.runUntil(untilHandled(handle, 'the first step', (e) => !!e.activityTaskCompletedEventAttributes));
    const recordedOnA = { events: await historyOf(handle) };

    // Build B's workers take over: the run replays A's history on B, then continues.
    const b = await worker('b', taskQueue, steps);
    const result = await b.runUntil(async () => {
      await handle.signal('go');
      return handle.result();
    });
    // audit-before was behind a patch the run had passed on A: not taken; audit-after is reached on B: taken.
    expect(result).toEqual(['one', 'audit-after', 'two']);
    expect(steps).toEqual(['a:one', 'b:audit-after', 'b:two']);
    const markers = (await historyOf(handle)).filter((e) => e.markerRecordedEventAttributes);
    expect(markers).toHaveLength(1);

    // A new run on B takes both patches.
    const fresh = await env.client.workflow.start('deployDemo', { taskQueue, workflowId: `deploy-${randomUUID()}` });
    const freshResult = await (
      await worker('b', taskQueue, [])
    ).runUntil(async () => {
      await untilHandled(fresh, 'the first steps', (e) => !!e.activityTaskCompletedEventAttributes);
      await fresh.signal('go');
      return fresh.result();
    });
    expect(freshResult).toEqual(['audit-before', 'one', 'audit-after', 'two']);

    // The history recorded on A mid-run replays on B, and on the unpatched B it does not.
    const workflowId = handle.workflowId;
    await expect(
      Worker.runReplayHistory({ workflowBundle: bundles.b }, recordedOnA, workflowId),
    ).resolves.toBeUndefined();
    await expect(
      Worker.runReplayHistory({ workflowBundle: bundles['b-unpatched'] }, recordedOnA, workflowId),
    ).rejects.toThrow(/Nondeterminism/);
  });

  it('replays a run recorded entirely on build A on build B', async () => {
    const taskQueue = `deploy-${randomUUID()}`;
    const handle = await env.client.workflow.start('deployDemo', { taskQueue, workflowId: `deploy-${randomUUID()}` });
    const result = await (
      await worker('a', taskQueue, [])
    ).runUntil(async () => {
      await untilHandled(handle, 'the first step', (e) => !!e.activityTaskCompletedEventAttributes);
      await handle.signal('go');
      return handle.result();
    });
    expect(result).toEqual(['one', 'two']);
    const history = { events: await historyOf(handle) };
    await expect(
      Worker.runReplayHistory({ workflowBundle: bundles.b }, history, handle.workflowId),
    ).resolves.toBeUndefined();
    await expect(
      Worker.runReplayHistory({ workflowBundle: bundles['b-unpatched'] }, history, handle.workflowId),
    ).rejects.toThrow(/Nondeterminism/);
  });
});

describe('a deploy in the middle of a run (Worker Versioning)', () => {
  let env: TestWorkflowEnvironment;
  const bundles = {} as Record<'A' | 'B', WorkflowBundleWithSourceMap>;
  beforeAll(async () => {
    env = await startLocalTemporal();
    for (const build of ['A', 'B'] as const)
      bundles[build] = await bundleWorkflowCode({
        workflowsPath: path.join(__dirname, '..', 'fixtures', 'deploy', `versioned-${build.toLowerCase()}.ts`),
        logger: new DefaultLogger('WARN'),
      });
  });
  afterAll(async () => {
    await env?.teardown();
  });

  it('keeps a pinned run on version A and moves an auto-upgrade run to version B', async () => {
    const taskQueue = `versioned-${randomUUID()}`;
    const deploymentName = `deploy-${randomUUID()}`;
    const steps: string[] = [];
    const worker = (buildId: 'A' | 'B') =>
      Worker.create({
        connection: env.nativeConnection,
        taskQueue,
        workflowBundle: bundles[buildId],
        workerDeploymentOptions: {
          version: { deploymentName, buildId },
          useWorkerVersioning: true,
          defaultVersioningBehavior: 'PINNED',
        },
        activities: {
          step: async (name: string) => (steps.push(`${buildId}:${name}`), name),
          audit: async (name: string) => (steps.push(`${buildId}:${name}`), name),
        },
      });
    // The version registers when its workers first poll; until then setting it current fails.
    const makeCurrent = (buildId: string) =>
      until(`version ${buildId} to become current`, async () => {
        try {
          await env.client.workflowService.setWorkerDeploymentCurrentVersion({
            namespace: 'default',
            deploymentName,
            buildId,
          });
          return true;
        } catch {
          return false;
        }
      });
    const a = await worker('A');
    const b = await worker('B');
    await a.runUntil(async () => {
      await makeCurrent('A');
      const start = (type: string) =>
        env.client.workflow.start(type, { taskQueue, workflowId: `${type}-${randomUUID()}` });
      const pinned = await start('pinnedDemo');
      const upgrading = await start('upgradingDemo');
      for (const h of [pinned, upgrading])
        await untilHandled(h, 'the first step', (e) => !!e.activityTaskCompletedEventAttributes);
      // The deploy: B's workers start and B becomes current while both runs wait; A's workers keep running for
      // the pinned run.
      await b.runUntil(async () => {
        await makeCurrent('B');
        await pinned.signal('go');
        await upgrading.signal('go');
        expect(await pinned.result()).toEqual(['one', 'two']);
        expect(await upgrading.result()).toEqual(['one', 'audit-after', 'two']);
      });
    });
    expect(steps.filter((s) => s.endsWith(':two')).sort()).toEqual(['A:two', 'B:two']);
    expect(steps).toContain('B:audit-after');
    expect(steps.filter((s) => s.endsWith(':one'))).toEqual(['A:one', 'A:one']);
  });
});
