// Operations on the dashboard in a real browser: a create started in a terminal shows up on the
// board as it runs; a create started from the page streams into the panel the very lines the
// terminal shows for it; a running create cancelled from the page ends cancelled, rolled back.
import { existsSync } from 'node:fs';
import { expect, it } from '@jest/globals';
import type { Page } from 'playwright-core';
import { sgrSpans, stripSgr } from '../../../../cli/ui/sgr.js';
import { card, cspViolations, describeBrowser, logLines, openDashboard, screenshot, tid, type PageDocument, type PageWindow } from '../../../helpers/browser.js';
import { dropConnections, DURATION, gates, git, initProject, sandbox, type Sandbox } from '../../../helpers/fixtures.js';
import { startServer } from '../../../helpers/server.js';

declare const document: PageDocument;
declare const window: PageWindow;

/** Durations as piko prints them: the only thing two runs of one operation print differently. */
const timeless = (lines: string[]): string[] => lines.map((line) => line.replace(new RegExp(DURATION, 'g'), '<time>'));

/** The lines `piko` printed, as the page holds lines: one per entry, no trailing empty one. */
const linesOf = (text: string): string[] => text.replace(/\n$/, '').split('\n');

async function environments(box: Sandbox, repo: string): Promise<{ name: string; status: string; path: string }[]> {
  const list = await box.piko(['list', '--json'], repo);
  expect(list.exitCode).toBe(0);
  return JSON.parse(list.stdout) as { name: string; status: string; path: string }[];
}

/** Opens the create dialog of `project`, names the environment and submits it. */
async function createFromPage(page: Page, project: string, name: string): Promise<void> {
  await page.click(`${tid('project', { project })} ${tid('create')}`);
  await page.waitForSelector(tid('create-dialog'));
  await page.fill(tid('create-name'), name);
  // The base branches have come (the current one is chosen): what a person waits for too.
  await page.waitForSelector(`${tid('create-branch')}:not([disabled])`);
  await page.click(tid('create-submit'));
  await page.waitForSelector(tid('create-dialog'), { state: 'detached' });
}

describeBrowser('the dashboard in Chromium: operations', () => {

  it('shows a create started in a terminal (through the same server) as it runs, without a reload, until it is ready', async () => {
    const box = sandbox();
    const gate = gates();
    const repo = await initProject(box, { '.piko.yml': `scripts:\n  setup: echo before; ${gate.wait('gate', 60)}; echo after\n` });
    const server = await startServer(box);
    const { page } = await openDashboard(box, repo);
    await page.waitForSelector(`${tid('project', { project: 'app' })} ${tid('no-environments')}`);
    let navigations = 0;
    page.on('framenavigated', () => navigations++);
    // Every status the card shows, in order, as the page draws it (a reload would lose this).
    await page.evaluate(() => {
      const seen: string[] = [];
      window.statuses = seen;
      const note = (): void => {
        const status = document.querySelector('[data-testid="environment"][data-environment="live"] [data-testid="status"]')?.textContent?.trim();
        if (status && seen.at(-1) !== status) seen.push(status);
      };
      new (window.MutationObserver as new (cb: () => void) => { observe(node: unknown, options: object): void })(note).observe(document.body, { childList: true, subtree: true, characterData: true });
    });

    const create = box.spawn(['create', 'live', '--no-attach'], repo);
    await server.waitFor(/GET \/api\/environments\/create\/stream 101/);
    await page.waitForSelector(`${card('app', 'live')}[aria-busy="true"]`);
    expect(await page.textContent(`${card('app', 'live')} ${tid('status')}`)).toContain('creating');
    await screenshot(page, 'cli-create-running');

    gate.open();
    const done = await create;
    expect(done.exitCode).toBe(0);
    await page.waitForFunction(() => document.querySelector('[data-testid="environment"][data-environment="live"] [data-testid="status"]')?.textContent?.trim() === 'ready');
    const statuses = (await page.evaluate(() => window.statuses)) as string[];
    expect(statuses[0]).toBe('creating');
    expect(statuses.at(-1)).toBe('ready');
    expect(await page.textContent(`${card('app', 'live')} ${tid('last-operation')}`)).toMatch(new RegExp(`created in ${DURATION}`));
    expect(navigations).toBe(0);
    expect(await page.getAttribute(tid('connection'), 'data-state')).toBe('live');
    await screenshot(page, 'cli-create-ready');
  });

  it('catches up after its stream of changes drops: what changed meanwhile shows once it is back, without a reload', async () => {
    const box = sandbox();
    const repo = await initProject(box);
    const server = await startServer(box);
    const { context, page } = await openDashboard(box, repo);
    let navigations = 0;
    page.on('framenavigated', () => navigations++);
    // Cut off: the browser offline (no new connection) and its connections to the server
    // closed under it (the stream it has open); the page says it is trying again.
    await context.setOffline(true);
    await dropConnections(Number(new URL(server.url).port));
    await page.waitForSelector(`${tid('connection')}[data-state="reconnecting"]`);
    await screenshot(page, 'feed-reconnecting');
    const made = await box.piko(['create', 'meanwhile', '--no-attach'], repo);
    expect(made.exitCode).toBe(0);
    expect(await page.$(card('app', 'meanwhile'))).toBeNull();

    await context.setOffline(false);
    await page.waitForSelector(`${tid('connection')}[data-state="live"]`);
    await page.waitForSelector(card('app', 'meanwhile'));
    expect(await page.textContent(`${card('app', 'meanwhile')} ${tid('status')}`)).toContain('ready');
    expect(navigations).toBe(0);
  });

  it("streams a create started from the page into the panel: the lines (and colours) the terminal shows for it", async () => {
    const box = sandbox();
    const setup = ['echo hello from setup', 'echo a warning >&2', "printf '\\033[31mred\\033[0m and \\033[1mbold\\033[0m\\n'", 'echo done'];
    const repo = await initProject(box, { '.piko.yml': `scripts:\n  setup: |\n${setup.map((line) => `    ${line}\n`).join('')}` });
    await startServer(box);
    const { page, console: said } = await openDashboard(box, repo);

    await createFromPage(page, 'app', 'panel');
    await page.waitForSelector(`${tid('session')}[data-phase="succeeded"]`);
    await page.waitForSelector(`${card('app', 'panel')}:not([aria-busy])`);
    await screenshot(page, 'page-create-panel');
    const shown = await logLines(page);
    expect(shown).toContain('[setup] hello from setup');
    expect(shown).toContain('[setup] red and bold');
    expect(shown.at(-1)).toMatch(new RegExp(`^✓ panel ready \\(simple, ready\\) in ${DURATION}$`));

    // What `piko logs` prints for it in a terminal: the same lines, to the duration.
    const logs = await box.piko(['logs', 'panel'], repo);
    expect(logs.exitCode).toBe(0);
    expect(shown).toEqual(linesOf(logs.stdout));
    // And in colour: the same runs of text in the same colours, line by line.
    const coloured = await box.piko(['logs', 'panel'], repo, { NO_COLOR: '', FORCE_COLOR: '1' });
    expect(coloured.stdout).toContain('\x1b[');
    expect(linesOf(coloured.stdout).map(stripSgr)).toEqual(shown);
    const pageSpans = await page.$$eval(`${tid('session')} ${tid('log')} .ln`, (lines) =>
      lines.map((line) =>
        [...line.childNodes].map((node) => ({ text: node.textContent ?? '', classes: node.nodeType === 1 ? node.className : '', ...(node.style?.color ? { color: node.style.color } : {}) })),
      ),
    );
    expect(pageSpans).toEqual(linesOf(coloured.stdout).map((line) => sgrSpans(line)));
    // The setup's own colours came through, as spans: never as escape characters.
    expect(pageSpans.flat()).toContainEqual({ text: 'red', classes: 'c1' });
    expect(await page.$$eval(`${tid('log')} .ln`, (lines) => lines.some((line) => line.textContent.includes('\x1b')))).toBe(false);
    // The stderr line is marked as such.
    expect(await page.$$eval(`${tid('log')} .ln.err`, (lines) => lines.map((line) => line.textContent))).toContain('[setup] a warning');
    // Nothing went wrong in the page on the way.
    expect(await cspViolations(page)).toEqual([]);
    expect(said.filter((line) => /^(pageerror|error):/.test(line))).toEqual([]);

    // The same create run again in a terminal prints the same lines, but for how long things
    // took, and for the order of lines that came through two pipes (a program's stdout and
    // stderr: git's two lines, the setup's warning), which no two runs need agree on.
    const destroyed = await box.piko(['destroy', 'panel', '--delete-branch'], repo);
    expect(destroyed.exitCode).toBe(0);
    await page.waitForSelector(card('app', 'panel'), { state: 'detached' });
    const again = await box.piko(['create', 'panel', '--no-attach'], repo);
    expect(again.exitCode).toBe(0);
    expect(again.stderr).toBe('');
    const printed = timeless(linesOf(again.stdout));
    expect([...timeless(shown)].sort()).toEqual([...printed].sort());
    expect(timeless(shown).slice(-2)).toEqual(printed.slice(-2));
  });

  // Lines that wrap in the panel: a frame's new lines may be laid out after the panel scrolled to
  // its end (taller than first thought), which leaves the reader far above the new end without
  // their having scrolled. The panel must keep following: only the reader scrolling up stops it.
  it('follows the end of the output while it pours in, even when its lines wrap', async () => {
    const box = sandbox();
    const long = 'x'.repeat(200);
    const repo = await initProject(box, { '.piko.yml': `scripts:\n  setup: "awk 'BEGIN { for (i = 0; i < 5000; i++) printf \\"%05d ${long}\\\\n\\", i }'"\n` });
    await startServer(box);
    const { page } = await openDashboard(box, repo);
    await createFromPage(page, 'app', 'wrapped');
    await page.waitForSelector(`${tid('session')}[data-phase="succeeded"]`);
    // Followed to the end: the last line shows. Stopped following: the jump button does.
    await page.waitForFunction(
      () => document.querySelector('[data-testid="log"]')?.lastElementChild?.textContent?.startsWith('✓ wrapped ready') || document.querySelector('[data-testid="jump-to-end"]:not([hidden])') !== null,
    );
    await screenshot(page, 'follow-wrapped-lines');
    expect(await page.isVisible(tid('jump-to-end'))).toBe(false);
    expect((await logLines(page)).at(-1)).toMatch(/^✓ wrapped ready/);
  });

  it('stops following when the reader scrolls up, counts what comes, and takes them back to the end', async () => {
    const box = sandbox();
    const gate = gates();
    const print = (what: string, count: number): string => `awk 'BEGIN { for (i = 0; i < ${count}; i++) printf "${what} %03d\\n", i }'`;
    const setup = [print('before', 300), gate.wait('gate', 60), print('after', 500)];
    const repo = await initProject(box, { '.piko.yml': `scripts:\n  setup: |\n${setup.map((line) => `    ${line}\n`).join('')}` });
    await startServer(box);
    const { page } = await openDashboard(box, repo);
    await createFromPage(page, 'app', 'reader');
    await page.waitForFunction(() => document.querySelector('[data-testid="log"]')?.lastElementChild?.textContent === '[setup] before 299');
    const log = page.locator(tid('log'));
    const scroll = (): Promise<{ top: number; bottom: number }> => log.evaluate((el) => ({ top: el.scrollTop, bottom: el.scrollHeight - el.clientHeight }));
    expect((await scroll()).top).toBeGreaterThan(0);

    // A person's wheel, up: the page leaves them there, and says nothing until lines come.
    await log.hover();
    await page.mouse.wheel(0, -2000);
    await page.waitForFunction(() => {
      const el = document.querySelector('[data-testid="log"]') as unknown as { scrollTop: number; scrollHeight: number; clientHeight: number };
      return el.scrollHeight - el.clientHeight - el.scrollTop > 500;
    });
    const left = (await scroll()).top;
    expect(await page.isVisible(tid('jump-to-end'))).toBe(false);

    gate.open();
    await page.waitForSelector(`${tid('session')}[data-phase="succeeded"]`);
    await page.waitForSelector(`${tid('jump-to-end')}:not([hidden])`);
    expect(await page.textContent(tid('jump-to-end'))).toMatch(/^↓ 5\d\d new lines$/);
    // Where the reader was, with what they were reading: the lines after it are only counted.
    expect((await scroll()).top).toBe(left);
    expect((await logLines(page)).at(-1)).toBe('[setup] before 299');
    await screenshot(page, 'reader-scrolled-up');

    await page.click(tid('jump-to-end'));
    await page.waitForFunction(() => document.querySelector('[data-testid="log"]')?.lastElementChild?.textContent?.startsWith('✓ reader ready') === true);
    expect(await page.isVisible(tid('jump-to-end'))).toBe(false);
    const end = await scroll();
    expect(end.bottom - end.top).toBeLessThan(24);
  });

  it('cancels a running create from the panel: it ends cancelled and rolled back', async () => {
    const box = sandbox();
    const gate = gates();
    const repo = await initProject(box, { '.piko.yml': `scripts:\n  setup: echo waiting at the gate; ${gate.wait('gate', 60)}; echo never\n` });
    const server = await startServer(box);
    const { page } = await openDashboard(box, repo);

    await createFromPage(page, 'app', 'stuck');
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="log"] .ln')].some((line) => line.textContent === '[setup] waiting at the gate'));
    await page.waitForSelector(`${card('app', 'stuck')}[aria-busy="true"]`);
    const [path] = (await environments(box, repo)).filter((e) => e.name === 'stuck').map((e) => e.path);
    expect(path && existsSync(path)).toBe(true);
    await screenshot(page, 'cancel-before');

    await page.click(tid('session-cancel'));
    await page.waitForSelector(`${tid('toast')}:has-text("Cancelling…")`);
    await page.waitForSelector(`${tid('session')}[data-phase="cancelled"]`);
    // Rolled back: the card goes, and so do the worktree, the branch and the record.
    await page.waitForSelector(card('app', 'stuck'), { state: 'detached' });
    await screenshot(page, 'cancel-after');
    expect(await page.textContent(`${tid('session')} ${tid('result')}`)).toMatch(/cancel/i);
    expect(await logLines(page)).not.toContain('[setup] never');
    expect(await environments(box, repo)).toEqual([]);
    expect(existsSync(path!)).toBe(false);
    expect(git(repo, 'branch', '--list', 'stuck')).toBe('');
    expect(server.output()).toMatch(/create app\/stuck: failed in .*: cancelled by the dashboard/);
  });
});
