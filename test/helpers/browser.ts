// A real browser for the dashboard's tests: Debian's Chromium driven by playwright-core (which
// downloads no browser of its own), a page signed in the way a person signs in (`piko ui` prints
// a one-time link, the browser opens it), and screenshots a person can look at afterwards.
//
// The tests' code is type-checked as Node code, without the DOM's types (tsconfig.json: only
// cli/ui/page has them): the functions a test runs in the page use the few page globals it
// declares for itself (`PageDocument`, `PageWindow` below), never the DOM's.
import { accessSync, constants, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, it } from '@jest/globals';
import { execaSync } from 'execa';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { cleanup, ROOT, type Sandbox } from './fixtures.js';
import { stopServers } from './server.js';

/**
 * The Chromium the tests drive: PIKO_TEST_CHROMIUM when set (and only it: a path that is not
 * there means no Chromium), else Debian's (.ci/ensure-tools installs it as root), else one named
 * `chromium` on PATH.
 */
export function chromiumPath(): string | undefined {
  const executable = (path: string): boolean => {
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  const chosen = process.env.PIKO_TEST_CHROMIUM;
  if (chosen) return executable(chosen) ? chosen : undefined;
  if (executable('/usr/bin/chromium')) return '/usr/bin/chromium';
  const found = execaSync('sh', ['-c', 'command -v chromium'], { reject: false });
  return found.exitCode === 0 && found.stdout.trim() ? found.stdout.trim() : undefined;
}

/** The browser of the file's tests (one for all of them: launching one takes a second). */
let shared: Browser | undefined;

/**
 * `describe` for tests in a browser, where Chromium is installed: one browser for the file's
 * tests (`newContext` and `openDashboard` open theirs in it), closed after them, and their
 * servers and sandboxes cleaned up after each. Elsewhere the tests are skipped, saying why;
 * under CI=true they fail instead, as the engine and shell tests do.
 */
export function describeBrowser(name: string, body: () => void): void {
  const executablePath = chromiumPath();
  if (executablePath) {
    describe(name, () => {
      beforeAll(async () => {
        shared = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
      });
      afterAll(async () => {
        await shared?.close().catch(() => undefined);
        shared = undefined;
      });
      afterEach(async () => {
        await stopServers();
        cleanup();
      });
      body();
    });
    return;
  }
  const why = process.env.PIKO_TEST_CHROMIUM
    ? `PIKO_TEST_CHROMIUM=${process.env.PIKO_TEST_CHROMIUM} is not a program`
    : "no Chromium: neither /usr/bin/chromium nor chromium on PATH (.ci/ensure-tools installs Debian's chromium as root)";
  if (process.env.CI === 'true') {
    describe(name, () =>
      it('needs Chromium', () => {
        throw new Error(`CI=true needs Chromium for the dashboard's browser tests: ${why}`);
      }),
    );
    return;
  }
  console.warn(`SKIPPED: ${name} (${why})`);
  describe.skip(name, body);
}

/**
 * Flags for a root user on a machine without a GPU or a network: no sandbox (root), nothing
 * fetched in the background (updates, sync, QUIC probes). playwright adds --headless and a fresh
 * --user-data-dir of its own for each browser.
 */
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** A context of its own (its own cookies) in the file's browser: light, 1400×900, as the README's picture is taken. */
export function newContext(): Promise<BrowserContext> {
  if (!shared) throw new Error('newContext: no browser (only tests inside describeBrowser have one)');
  return shared.newContext({ viewport: { width: 1400, height: 900 }, colorScheme: 'light', reducedMotion: 'reduce' });
}

/** The sign-in link `piko ui` prints (PIKO_UI_NO_OPEN=1: it only prints it), for the server PIKO_HOME names. */
export async function signInLink(box: Sandbox, cwd: string): Promise<string> {
  const ui = await box.piko(['ui'], cwd, { PIKO_UI_NO_OPEN: '1' });
  if (ui.exitCode !== 0) throw new Error(`piko ui failed (${ui.exitCode}): ${ui.stderr}`);
  const link = ui.stdout.trim();
  if (!/^http:\/\/127\.0\.0\.1:\d+\/ui\/login\?code=[0-9a-f]{32}$/.test(link)) throw new Error(`piko ui printed no sign-in link: ${JSON.stringify(ui.stdout)}`);
  return link;
}

export interface Dashboard {
  context: BrowserContext;
  page: Page;
  /** The dashboard's origin (`http://127.0.0.1:PORT`). */
  origin: string;
  /** What the page said on its console, and its uncaught errors. */
  console: string[];
}

/**
 * A fresh context signed in with `piko ui`'s link: the page loaded, its board drawn and its
 * change stream live.
 */
export async function openDashboard(box: Sandbox, cwd: string): Promise<Dashboard> {
  const link = await signInLink(box, cwd);
  const context = await newContext();
  // Before the page's own script: what its CSP blocked (an XSS the CSP stopped is still an XSS).
  await context.addInitScript(() => {
    const blocked: string[] = [];
    (globalThis as unknown as PageWindow).cspViolations = blocked;
    (globalThis as unknown as { addEventListener(type: string, listener: (event: { violatedDirective: string; blockedURI: string }) => void): void }).addEventListener(
      'securitypolicyviolation',
      (event) => blocked.push(`${event.violatedDirective} ${event.blockedURI}`),
    );
  });
  const page = await context.newPage();
  const said: string[] = [];
  page.on('console', (message) => said.push(`${message.type()}: ${message.text()}`));
  page.on('pageerror', (error) => said.push(`pageerror: ${error.message}`));
  await page.goto(link);
  await page.waitForSelector(`${tid('connection')}[data-state="live"]`);
  await page.waitForSelector(`${tid('project')}, ${tid('no-projects')}`);
  return { context, page, origin: new URL(link).origin, console: said };
}

/** A CSS selector for a `data-testid` (with more attributes: `tid('environment', { environment: 'x' })`). */
export function tid(id: string, data: Record<string, string> = {}): string {
  return `[data-testid="${id}"]${Object.entries(data)
    .map(([k, v]) => `[data-${k}="${v.replace(/["\\]/g, '\\$&')}"]`)
    .join('')}`;
}

/** An environment's card. */
export const card = (project: string, environment: string): string => tid('environment', { project, environment });

/** Where screenshots go: PIKO_TEST_SCREENSHOTS, else test-results/screenshots/ in the tree (git ignores it). */
export const SCREENSHOTS = process.env.PIKO_TEST_SCREENSHOTS ?? join(ROOT, 'test-results', 'screenshots');

/** Saves what the page shows as `<name>.png`, for a person to look at; returns the path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name.replace(/[^A-Za-z0-9_.-]+/g, '-')}.png`);
  await page.screenshot({ path });
  return path;
}

/** The text of each `.ln` line of the panel's log shown now. */
export function logLines(page: Page): Promise<string[]> {
  return page.$$eval(`${tid('session')} ${tid('log')} .ln`, (els) => els.map((el) => el.textContent ?? ''));
}

/**
 * The page's globals as the tests use them, for code that runs in the page: the tests' TypeScript
 * has no DOM types, so a test file declares them for itself (a module's own declaration, which
 * emits nothing and leaves Node's globals alone):
 *
 *     declare const document: PageDocument;
 *     declare const window: PageWindow;
 *
 * and uses them only inside `page.evaluate` and its kin, which run in the page.
 */
export interface PageDocument {
  cookie: string;
  title: string;
  body: PageElement;
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): PageElements;
}

/** A NodeList: indexed, and iterable (spread it into an array). */
export type PageElements = ArrayLike<PageElement> & Iterable<PageElement>;

export interface PageElement {
  textContent: string | null;
  innerHTML: string;
  tagName: string;
  className: string;
  children: PageElements;
  lastElementChild: PageElement | null;
  getAttribute(name: string): string | null;
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): PageElements;
}

/** `window`, with whatever a test's script may have set on it. */
export type PageWindow = Record<string, unknown> & { location: { href: string; origin: string } };

/** What the page's CSP blocked since it loaded (recorded by `openDashboard`'s pages). */
export function cspViolations(page: Page): Promise<string[]> {
  return page.evaluate(() => [...((globalThis as unknown as PageWindow).cspViolations as string[])]);
}
