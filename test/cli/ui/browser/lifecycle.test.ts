// An environment run from the page, in a real browser, as a person runs one from the terminal:
// down, up and restart from its card (against the stand-in docker), each streamed into the panel
// to its ✓ line and the card following along; then its past operations listed, and one's log
// opened and read as `piko logs` prints it.
import { expect, it } from '@jest/globals';
import type { Page } from 'playwright-core';
import { card, describeBrowser, logLines, openDashboard, screenshot, tid } from '../../../helpers/browser.js';
import { DURATION, initProject, sandbox } from '../../../helpers/fixtures.js';
import { startServer } from '../../../helpers/server.js';

const COMPOSE = { 'docker-compose.yml': 'services:\n  web:\n    image: nginx\n    ports: ["80"]\n' };

/** Clicks `action` on the card and waits for its operation to end well in the panel; returns the panel's lines. */
async function runFromCard(page: Page, action: 'up' | 'down' | 'restart'): Promise<string[]> {
  const operations = await page.$$eval(tid('session'), (els) => els.map((el) => el.getAttribute('data-operation')));
  await page.click(`${card('app', 'feat')} ${tid(action)}`);
  await page.waitForFunction(
    (before) => {
      const shown = (globalThis as unknown as { document: { querySelector(s: string): { getAttribute(a: string): string | null } | null } }).document.querySelector('[data-testid="session"]');
      const id = shown?.getAttribute('data-operation');
      return id && !before.includes(id) && shown!.getAttribute('data-phase') === 'succeeded';
    },
    operations,
  );
  return logLines(page);
}

describeBrowser('the dashboard in Chromium: running an environment', () => {
  it('takes an environment down, up and through a restart from its card, and reads a past operation\'s log', async () => {
    const box = sandbox();
    const repo = await initProject(box, COMPOSE);
    await startServer(box);
    expect((await box.piko(['create', 'feat', '--no-attach'], repo)).exitCode).toBe(0);
    const { page } = await openDashboard(box, repo);
    const status = (): Promise<string | null> => page.textContent(`${card('app', 'feat')} ${tid('status')}`);
    expect(await status()).toContain('running');
    // A running environment offers down and restart, not up.
    expect(await page.$(`${card('app', 'feat')} ${tid('up')}`)).toBeNull();

    const down = await runFromCard(page, 'down');
    expect(down.at(-1)).toMatch(/^✓ feat /);
    await page.waitForSelector(`${card('app', 'feat')} ${tid('up')}`);
    expect(await status()).toContain('stopped');

    const up = await runFromCard(page, 'up');
    expect(up.at(-1)).toMatch(/^✓ feat /);
    await page.waitForSelector(`${card('app', 'feat')} ${tid('down')}`);
    expect(await status()).toContain('running');

    const restart = await runFromCard(page, 'restart');
    expect(restart.at(-1)).toMatch(/^✓ feat /);
    expect(box.docker.calls().some((call) => call.args.includes('restart'))).toBe(true);
    await screenshot(page, 'lifecycle-restarted');

    // Its operations, newest first; the create's log opened from there is what piko logs prints.
    await page.click(`${card('app', 'feat')} ${tid('history')}`);
    await page.waitForSelector(tid('history-item'));
    const kinds = await page.$$eval(`${tid('history-item')} .kind`, (els) => els.map((el) => el.textContent));
    expect(kinds).toEqual(['restart', 'up', 'down', 'create']);
    await screenshot(page, 'lifecycle-history');
    const create = await page.getAttribute(`${tid('history-item')}:last-child`, 'data-operation');
    await page.click(`${tid('history-item')}:last-child button`);
    await page.waitForSelector(`${tid('session')}[data-operation="${create}"][data-phase="succeeded"]`);
    const logs = await box.piko(['logs', create!], repo);
    expect(logs.exitCode).toBe(0);
    const timeless = (lines: string[]): string[] => lines.map((line) => line.replace(new RegExp(DURATION, 'g'), '<time>'));
    expect(timeless(await logLines(page))).toEqual(timeless(logs.stdout.replace(/\n$/, '').split('\n')));
  });
});
