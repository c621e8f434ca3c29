// The workflow-test tier's harness: the real workflows on a real Temporal dev server (one per test file), run by an
// in-process worker whose activities are stubs the test passes, on a task queue of the test's own. Stubs are plain
// async functions registered under the names the workflows proxy. Unless the test stubs it, describeDeployment
// answers that every queue kind is the test's queue, so one worker runs the workflow, its children and activities.
import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { SEARCH_ATTRIBUTE_NAMES } from '../../domain/core/run-view';
import { bundleWorkflows, startLocalTemporal } from './temporal';

// the stubs' arguments and results are the activities' JSON; a test reads only what it checks
export type StubActivity = (...args: any[]) => Promise<unknown>;
export type StubActivities = Record<string, StubActivity>;

export interface WorkflowRun {
  client: Client;
  /** The test's own task queue: start workflows on it. */
  taskQueue: string;
  /** A workflow id unique to this test. */
  id(name: string): string;
}

export interface WorkflowHarness {
  readonly env: TestWorkflowEnvironment;
  /** Runs a worker with these stubs (and describeDeployment) on a fresh task queue while `body` runs, then shuts it down. */
  withWorker<T>(activities: StubActivities, body: (run: WorkflowRun) => Promise<T>): Promise<T>;
}

/** Starts the dev server and bundles the workflows once for the file's tests; stops the server after them. */
export function useWorkflowHarness(): WorkflowHarness {
  let env: TestWorkflowEnvironment | undefined;
  let bundle: WorkflowBundleWithSourceMap | undefined;
  beforeAll(async () => {
    [env, bundle] = await Promise.all([startLocalTemporal(), bundleWorkflows()]);
  });
  afterAll(async () => {
    await env?.teardown();
  });
  return {
    get env() {
      if (!env) throw new Error('the workflow harness starts in beforeAll');
      return env;
    },
    async withWorker(activities, body) {
      const server = this.env;
      const taskQueue = `wf-${randomUUID()}`;
      const worker = await Worker.create({
        connection: server.nativeConnection,
        namespace: 'default',
        taskQueue,
        workflowBundle: bundle,
        activities: { ...deployment(taskQueue), ...activities },
      });
      return worker.runUntil(body({ client: server.client, taskQueue, id: (name) => `${name}-${randomUUID()}` }));
    },
  };
}

/** describeDeployment that sends every queue kind to the test's queue; the test server has our search attributes. */
export function deployment(taskQueue: string): StubActivities {
  const taskQueues = {
    orchestration: taskQueue,
    inference: taskQueue,
    cpu: taskQueue,
    sandbox: taskQueue,
    training: taskQueue,
  };
  return { describeDeployment: async () => ({ taskQueues, searchAttributes: [...SEARCH_ATTRIBUTE_NAMES] }) };
}

/** The workflow (and run) that called the running stub. */
export function caller(): { workflowId: string; runId: string } {
  const execution = Context.current().info.workflowExecution;
  if (!execution) throw new Error('a stub activity runs for a workflow');
  return { workflowId: execution.workflowId, runId: execution.runId };
}

/** A promise the test resolves later (a stub waits on it to hold a step while the test acts). */
export function gate(): { wait: Promise<void>; open(): void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

/** Polls until `check` returns a value (not undefined / false); fails after `timeoutMs`. */
export async function until<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];

/** The run's history events. */
export async function historyOf(handle: WorkflowHandle): Promise<HistoryEvent[]> {
  return (await handle.fetchHistory()).events ?? [];
}

/**
 * Waits until the workflow has handled an event that `matches` (a workflow task completed after it), so it is now
 * blocked on whatever it awaits next: how a test knows a run "is waiting" without sleeping.
 */
export async function untilHandled(
  handle: WorkflowHandle,
  what: string,
  matches: (event: HistoryEvent) => boolean,
): Promise<void> {
  await until(`the workflow to handle ${what}`, async () => {
    const events = await historyOf(handle);
    const at = events.findIndex(matches);
    return at >= 0 && events.slice(at + 1).some((e) => e.workflowTaskCompletedEventAttributes);
  });
}

/** Ids of the child workflows the run has started so far, in order. */
export async function childrenStarted(handle: WorkflowHandle): Promise<string[]> {
  return (await historyOf(handle)).flatMap((e) => {
    const id = e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId;
    return id ? [id] : [];
  });
}
