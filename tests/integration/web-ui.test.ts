// The Temporal Web UI as a user works with it, in headless Chromium: a real dev server with its UI (lib/dev-server.ts,
// as `npm run dev-server` starts it), real workers and the fake OpenAI server behind a gate that holds chosen
// requests, so that a run stays in a step exactly as long as the test needs. The test
//   1. starts a synthesizeCorpus run from the Start Workflow form (type, task queue, id, JSON input, summary);
//   2. reads its summary, the summaries our workflow gave its pass children, and a changing "n of N passes" in the
//      current details (the second pass is held until the first value was seen);
//   3. finds it in the workflow list with a filter on the custom search attribute PromptcotName;
//   4. sends `pause` from the run page's More Actions to an emRationaleLoop run in the middle of its cold start, and
//      sees the run paused before its next step, named;
//   5. sees an emRationaleLoop run whose cold start failed for good (a missing problem file) waiting for retryStep,
//      in its current details and through a PromptcotState filter.
// A failing step leaves screenshots in a folder its message names. Chromium missing fails the test (setup.sh
// installs it).
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Browser, Page } from 'puppeteer-core';
import { runSummary } from '../../domain/core/run-view';
import { STARTABLE_WORKFLOWS } from '../../domain/registry/workflows';
import { formatGeneration } from '../../domain/synthesize-corpus';
import { startDevServer, type DevServer } from '../../lib/dev-server';
import { startFakeOpenAIServer, type FakeOpenAIServer } from '../../lib/fake-openai-server';
import {
  clickText,
  launchBrowser,
  screenshotDir,
  waitForText,
  withScreenshots,
  type PageGlobals,
} from '../support/browser';
import { testConfig } from '../support/config';
import { tempDir, writeJsonl } from '../support/files';
import { startRequestGate, type Hold, type RequestGate } from '../support/request-gate';
import { bundleWorkflows, quietRuntime } from '../support/temporal';
import { runTestWorkers, type TestWorkers } from '../support/workers';

const STAMP = Date.now().toString(36);
const SYNTH = {
  id: `web-ui-synth-${STAMP}`,
  // the example input of the registry (what README's Web UI section shows), with three passes one after the other
  input: {
    ...STARTABLE_WORKFLOWS.synthesizeCorpus!.example,
    name: `web-corpus-${STAMP}`,
    passes: 3,
    maxConcurrentPasses: 1,
  },
};
const PAUSED = { id: `web-ui-pause-${STAMP}`, name: `web-pause-${STAMP}` };
const FAILED = { id: `web-ui-failed-${STAMP}`, name: `web-failed-${STAMP}` };

/** The fake's answers: p_θ completions that parse (one problem per prompt and seed), and cold-start chat answers. */
function answer(body: Record<string, unknown>): string {
  if (Array.isArray(body.messages)) {
    const ask = (body.messages as Array<{ content: string }>).at(-1)!.content;
    if (ask.includes('foundational concepts being tested')) return '```python\n["held sums", "parity"]\n```';
    return 'Thinking Process: count the held sums.';
  }
  const prompt = String(body.prompt);
  return formatGeneration(
    `rationale for seed ${String(body.seed)}`,
    `Find ${prompt.length} plus ${String(body.seed)}.`,
  );
}

const isCompletion = (body: Record<string, unknown>) =>
  typeof body.prompt === 'string' && !Array.isArray(body.messages);
const isGatedColdStart = (body: Record<string, unknown>) => JSON.stringify(body.messages ?? '').includes('Gated Topic');

describe('the Temporal Web UI', () => {
  const tmp = tempDir('web-ui');
  const shots = screenshotDir('web-ui');
  let server: DevServer;
  let fake: FakeOpenAIServer;
  let gate: RequestGate;
  let laterPasses: Hold;
  let coldStart: Hold;
  let connection: NativeConnection;
  let clientConnection: Connection;
  let client: Client;
  let workers: TestWorkers | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let ui: string;
  let taskQueue: string;

  beforeAll(async () => {
    quietRuntime();
    // first, so that a machine without Chromium fails at once with the reason
    browser = await launchBrowser();
    page = await browser.newPage();
    page.setDefaultTimeout(60_000);
    server = await startDevServer({ logFile: path.join(tmp.dir, 'temporal.log') });
    ui = `${server.uiUrl!}/namespaces/default`;
    fake = await startFakeOpenAIServer({ respond: answer });
    gate = await startRequestGate(fake.url);
    // the first pass (3 concept records: 3 completions) goes through, the later ones wait until the test saw it
    let completions = 0;
    laterPasses = gate.hold((body) => isCompletion(body) && ++completions > 3);
    coldStart = gate.hold(isGatedColdStart);
    const config = testConfig({
      address: server.address,
      storageRoot: path.join(tmp.dir, 'store'),
      baseUrl: gate.url,
      // held requests wait for the test, not for a client timeout
      endpoint: { timeoutMs: 600_000 },
    });
    taskQueue = config.taskQueues.orchestration;
    connection = await NativeConnection.connect({ address: server.address });
    clientConnection = await Connection.connect({ address: server.address });
    client = new Client({ connection: clientConnection });
    workers = await runTestWorkers(connection, config, await bundleWorkflows());

    // two emRationaleLoop runs, started as the CLI starts them (with a summary): one whose cold start is held
    // (to be paused from the UI), one whose problem file does not exist (its cold start fails for good)
    const seeds = writeJsonl(path.join(tmp.dir, 'seeds.jsonl'), [
      { id: 'g1', problem: 'Gated Topic one: count the held sums.' },
      { id: 'g2', problem: 'Gated Topic two: count more held sums.' },
    ]);
    const emInput = (name: string, problemFiles: string[]) => ({
      name,
      coldStart: { name: `${name}-seeds`, problemFiles, concepts: { numConcepts: 2, level: 'AIME' } },
      models: { rationaleModel: { version: 'q0' }, promptGenerator: { version: 'p0' } },
      iterations: 1,
      k: 2,
    });
    for (const run of [
      { ...PAUSED, input: emInput(PAUSED.name, [seeds]) },
      { ...FAILED, input: emInput(FAILED.name, [path.join(tmp.dir, 'no-such-problems.jsonl')]) },
    ])
      await client.workflow.start('emRationaleLoop', {
        taskQueue,
        workflowId: run.id,
        args: [run.input],
        staticSummary: runSummary('emRationaleLoop', run.input),
      });
  }, 180_000);

  afterAll(async () => {
    laterPasses?.release();
    coldStart?.release();
    await browser?.close();
    // the paused and the failed run wait for signals: end them so that the workers stop at once
    for (const id of [PAUSED.id, FAILED.id, SYNTH.id])
      await client?.workflow
        .getHandle(id)
        .terminate('test over')
        .catch(() => undefined);
    await workers?.stop();
    await connection?.close();
    await clientConnection?.close();
    await gate?.close();
    await fake?.close();
    await server?.stop();
    tmp.remove();
  }, 120_000);

  const step = <T>(name: string, run: () => Promise<T>) => withScreenshots(browser, shots, name, run);

  /** The run's page, Metadata tab: Summary, Details, Current Details (press R to fetch it anew). */
  async function openMetadata(workflowId: string): Promise<void> {
    await page.goto(`${ui}/workflows/${encodeURIComponent(workflowId)}`, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('[data-testid="workflow-id-heading"]');
    await page.locator('#user-metadata-tab').click();
    await waitForText(page, /Current Details/);
  }

  const refreshDetails = async () => {
    await page.keyboard.press('r');
  };

  it('starts synthesizeCorpus from the Start Workflow form and follows its summary and "n of N" details', async () => {
    await step('start-form', async () => {
      await page.goto(`${ui}/workflows`, { waitUntil: 'domcontentloaded' });
      await clickText(page, 'a, button', 'Start Workflow');
      await page.waitForSelector('[data-testid="start-workflow"]');
      await page.waitForSelector('#workflowId');
      await page.type('#workflowId', SYNTH.id);
      await page.type('#taskQueue', taskQueue);
      await page.type('#workflowType', 'synthesizeCorpus');
      // the input editor (CodeMirror): the JSON goes in as one insertion, so no bracket is closed twice
      await page.locator('.cm-content').click();
      await page.keyboard.sendCharacter(JSON.stringify(SYNTH.input));
      // leaving the editor pretty-prints the JSON, which moves what is below it: leave it, and wait for that
      await page.locator('[data-testid="start-workflow"]').click();
      await page.waitForFunction(
        () => (globalThis as unknown as PageGlobals).document.querySelectorAll('.cm-content .cm-line').length > 3,
      );
      await clickText(page, 'button', 'More options');
      await waitForText(page, /Summary/);
      const editors = await page.$$('.cm-content');
      expect(editors.length).toBeGreaterThanOrEqual(2);
      await editors[1]!.click();
      await page.keyboard.sendCharacter(runSummary('synthesizeCorpus', SYNTH.input));
      await page.waitForSelector('[data-testid="start-workflow-button"]:not([disabled])');
      await page.locator('[data-testid="start-workflow-button"]').click();
      await waitForText(page, /Workflow started successfully/);
    });

    const summary = runSummary('synthesizeCorpus', SYNTH.input);
    const seen: string[] = [];
    await step('summary-and-details', async () => {
      await openMetadata(SYNTH.id);
      await waitForText(page, new RegExp(escape(summary)));
      // the first pass done, the second held: the details say 1 of 3 (perhaps after 0 of 3)
      const first = await waitForText(page, /\d of 3 passes/, { poke: refreshDetails });
      seen.push(first[0]);
      const one = await waitForText(page, /1 of 3 passes/, { poke: refreshDetails, timeoutMs: 120_000 });
      if (seen.at(-1) !== one[0]) seen.push(one[0]);
      // and it stays there because the second pass's requests are held
      await until(() => laterPasses.held > 0, 'a held request of the second pass');
      // each pass child carries the summary our workflow gave it (Events with Metadata)
      await waitForText(page, new RegExp(escape(`synthesizeCorpus ${SYNTH.input.name} · pass 1/3 · seed`)));
    });

    laterPasses.release();
    await step('details-move-on', async () => {
      const last = await waitForText(page, /3 of 3 passes/, { poke: refreshDetails, timeoutMs: 180_000 });
      seen.push(last[0]);
      await waitForText(page, /synthesizeCorpus web-corpus-\S+: done/, { poke: refreshDetails });
    });
    expect(seen).toContain('1 of 3 passes');
    expect(new Set(seen).size).toBeGreaterThanOrEqual(2);
  }, 420_000);

  it('finds the run with a filter on a custom search attribute', async () => {
    await step('search-attribute-filter', async () => {
      await filterList('PromptcotName', SYNTH.input.name);
      await waitForText(page, new RegExp(escape(SYNTH.id)), { poke: reloadList, pokeEveryMs: 5000 });
      const text = await listText();
      expect(text).not.toContain(PAUSED.id);
      expect(text).not.toContain(FAILED.id);
    });
  }, 180_000);

  it('sends pause from the run page and shows the run paused with its next step', async () => {
    await step('send-pause', async () => {
      await openMetadata(PAUSED.id);
      await waitForText(page, /running, step cold-start/, { poke: refreshDetails });
      await clickText(page, 'button', 'More Actions');
      await clickText(page, '[data-testid="signal-button"]', 'Signal');
      await clickText(page, '[data-testid="signal-select-button"]', '');
      // the signals come with the descriptions of their handlers
      await waitForText(page, /Holds the run after the step in progress, until resume/);
      await clickText(page, '[role="option"]', 'pause');
      await clickText(page, '[data-testid="confirm-modal-button"]', 'Submit');
      await waitForText(page, /Workflow signaled/);
      await waitForText(page, /a pause was asked for and holds the run after step cold-start/, {
        poke: refreshDetails,
      });
    });
    // the cold start may now finish: the run stops before its next step
    coldStart.release();
    await step('paused', async () => {
      const paused = await waitForText(page, /paused, step (\S+)[\s\S]*the next step is (\S+?)[;,\s]/, {
        poke: refreshDetails,
        timeoutMs: 180_000,
      });
      expect(paused[2]).toBe('warm-start/q_phi/data');
    });
  }, 420_000);

  it('shows a run whose step failed for good as waiting for retryStep', async () => {
    await step('failed-step-waits', async () => {
      await openMetadata(FAILED.id);
      await waitForText(page, /waiting for retryStep, step cold-start/, { poke: refreshDetails, timeoutMs: 120_000 });
      await waitForText(page, /step cold-start failed for good: [\s\S]*no-such-problems\.jsonl/);
      await waitForText(page, /signal web-ui-failed-\S+ retryStep/);
      // and the list finds it among the runs waiting for retryStep
      await filterList('PromptcotState', 'waiting-retry');
      await waitForText(page, new RegExp(escape(FAILED.id)), { poke: reloadList, pokeEveryMs: 5000 });
      const text = await listText();
      expect(text).not.toContain(PAUSED.id);
      expect(text).not.toContain(SYNTH.id);
    });
  }, 240_000);

  /**
   * The workflow list with one filter, added through Add Filter: the attribute, its value, Apply. The list may still
   * be settling when the filter's chip opens and then reset the chip's Value field: the value is typed until it
   * stays, and the whole filter is added once more (from a fresh list) when the URL does not take it.
   */
  async function filterList(attribute: string, value: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await page.goto(`${ui}/workflows`, { waitUntil: 'domcontentloaded' });
        await waitForText(page, /\d+\s+Workflows?\b/);
        await page.locator('[data-testid="add-filter-button"]').click();
        await page.locator('#filter-search').fill(attribute);
        await clickText(page, '#search-attribute-menu [role="menuitem"]', attribute);
        // the chip of the new filter opens with its Value field
        const field = `#dropdown-filter-chip-${attribute}-0-text`;
        await typeUntilItStays(field, value);
        await clickText(page, `#dropdown-filter-chip-${attribute}-0 [data-testid="apply-filter-button"]`, 'Apply');
        await page.waitForFunction(
          (name: string, want: string) => {
            const { location } = globalThis as unknown as PageGlobals;
            const query = new URLSearchParams(location.search).get('query') ?? '';
            return query.includes(name) && query.includes(want);
          },
          { timeout: 15_000 },
          attribute,
          value,
        );
        return;
      } catch (err) {
        if (attempt >= 3) throw err;
      }
    }
  }

  async function typeUntilItStays(selector: string, value: string): Promise<void> {
    const valueOf = () =>
      page.$eval(selector, (input) => (input as unknown as { value: string }).value).catch(() => undefined);
    const deadline = Date.now() + 30_000;
    for (;;) {
      await page.locator(selector).fill(value);
      // still there a moment later: nothing re-rendered the field under the typing
      await new Promise((r) => setTimeout(r, 500));
      if ((await valueOf()) === value) return;
      if (Date.now() > deadline) throw new Error(`${selector} does not keep the value ${value}`);
    }
  }

  async function reloadList(): Promise<void> {
    await page.reload({ waitUntil: 'domcontentloaded' });
  }

  async function listText(): Promise<string> {
    return page.evaluate(() => {
      const { document } = globalThis as unknown as PageGlobals;
      return (document.querySelector('main') ?? document.body)?.innerText ?? '';
    });
  }
});

async function until(ok: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
