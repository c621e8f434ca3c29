// Headless Chromium (Debian's `chromium`, installed by scripts/setup.sh) driven by puppeteer-core, for tests that use
// the Temporal Web UI as a person would; what the page shows is read as text, iframes included (the UI renders
// Markdown such as summaries and current details in same-origin iframes). A step that fails leaves a screenshot and
// the page's HTML in a folder its error message names.
import { accessSync, constants, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

/**
 * The little of the DOM that page functions (the callbacks of evaluate / waitForFunction, which run in the browser)
 * use. The project compiles without TypeScript's DOM library, so they take these from `globalThis`.
 */
export interface PageGlobals {
  document: {
    body: PageElement | null;
    querySelector(selector: string): PageElement | null;
    querySelectorAll(selector: string): ArrayLike<PageElement>;
  };
  location: { search: string };
}

export interface PageElement {
  innerText: string;
  /** buttons and inputs */
  disabled?: boolean;
  /** null when the element is not rendered (display: none, or inside such an element) */
  offsetParent: unknown;
}

const CANDIDATES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

/** The browser to drive: CHROMIUM_PATH, else the first of CANDIDATES on PATH. Throws, saying how to install it. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CHROMIUM_PATH) {
    try {
      accessSync(env.CHROMIUM_PATH, constants.X_OK);
    } catch {
      throw new Error(
        `CHROMIUM_PATH=${env.CHROMIUM_PATH} is not an executable file (scripts/setup.sh installs chromium)`,
      );
    }
    return env.CHROMIUM_PATH;
  }
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter((d) => d !== '')) {
    for (const name of CANDIDATES) {
      const file = path.join(dir, name);
      try {
        accessSync(file, constants.X_OK);
        return file;
      } catch {
        // not here
      }
    }
  }
  throw new Error(
    `no Chromium found (CHROMIUM_PATH unset; none of ${CANDIDATES.join(', ')} on PATH): the Web UI test needs ` +
      "Debian's chromium package; scripts/setup.sh installs it (or: apt-get install chromium)",
  );
}

export async function launchBrowser(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: findChromium(),
    headless: true,
    // root in CI cannot use Chromium's own sandbox; /dev/shm may be small in containers
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--window-size=1600,1000'],
    defaultViewport: { width: 1600, height: 1000 },
    protocolTimeout: 120_000,
  });
}

/** The text a person sees on the page: the main document and every frame in it. */
export async function visibleText(page: Page): Promise<string> {
  const texts = await Promise.all(
    page
      .frames()
      .map((frame) =>
        frame.evaluate(() => (globalThis as unknown as PageGlobals).document.body?.innerText ?? '').catch(() => ''),
      ),
  );
  return texts.join('\n');
}

/**
 * Waits until the page's text (frames included) matches `pattern`. `poke` runs between looks, at most once every
 * `pokeEveryMs` (e.g. a key that makes the page fetch fresh data, or a reload: give a reload time to render). Returns
 * the match.
 */
export async function waitForText(
  page: Page,
  pattern: RegExp,
  options: { timeoutMs?: number; poke?: () => Promise<void>; pokeEveryMs?: number } = {},
): Promise<RegExpMatchArray> {
  const { timeoutMs = 60_000, poke, pokeEveryMs = 1000 } = options;
  const deadline = Date.now() + timeoutMs;
  let poked = Date.now();
  for (;;) {
    const text = await visibleText(page);
    const match = pattern.exec(text);
    if (match) return match;
    if (Date.now() > deadline)
      throw new Error(`the page never showed ${pattern} within ${timeoutMs} ms; it showed:\n${text.slice(0, 4000)}`);
    await new Promise((r) => setTimeout(r, 250));
    if (poke && Date.now() - poked >= pokeEveryMs) {
      poked = Date.now();
      await poke();
    }
  }
}

/**
 * Clicks the first visible, enabled element matching `selector` whose text contains `text`, once it is there; tries
 * again when the page re-renders it between finding and clicking.
 */
export async function clickText(page: Page, selector: string, text: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const handle = await page.waitForFunction(
        (sel: string, want: string) =>
          Array.from((globalThis as unknown as PageGlobals).document.querySelectorAll(sel)).find(
            (el) => el.innerText.includes(want) && !el.disabled && el.offsetParent !== null,
          ),
        { timeout: Math.max(1, deadline - Date.now()), polling: 200 },
        selector,
        text,
      );
      const element = handle.asElement();
      if (!element) throw new Error('not an element');
      await element.click();
      return;
    } catch (err) {
      if (Date.now() >= deadline)
        throw new Error(`no visible ${selector} with text "${text}" to click: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** Where a failed step's screenshots go: one folder per test run, kept after the test. */
export function screenshotDir(name: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return path.join(os.tmpdir(), 'promptcot-screenshots', `${name}-${stamp}`);
}

/**
 * Runs a step of a browser test; when it throws, saves a screenshot and the HTML of every open page to `dir`, and
 * rethrows with the folder named in the message.
 */
export async function withScreenshots<T>(
  browser: Browser | undefined,
  dir: string,
  step: string,
  run: () => Promise<T>,
): Promise<T> {
  try {
    return await run();
  } catch (err) {
    const saved: string[] = [];
    try {
      mkdirSync(dir, { recursive: true });
      const pages = browser ? await browser.pages() : [];
      for (const [i, page] of pages.entries()) {
        const base = path.join(dir, `${step.replace(/[^A-Za-z0-9-]+/g, '-')}-${i}`);
        await page.screenshot({ path: `${base}.png`, fullPage: true });
        writeFileSync(`${base}.html`, await page.content());
        saved.push(`${base}.png`);
      }
    } catch (shotError) {
      saved.push(`(no screenshot: ${(shotError as Error).message})`);
    }
    const message = `${step}: ${(err as Error).message}\nscreenshots in ${dir}: ${saved.join(', ') || 'none'}`;
    const wrapped = new Error(message);
    wrapped.stack = `${message}\n${(err as Error).stack ?? ''}`;
    throw wrapped;
  }
}
