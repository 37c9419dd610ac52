// Desktop notifications in a real browser: an operation that ends while the tab is hidden says so,
// once, where the person allowed notifications; one that ends in sight does not; the bell turns
// them off. Headless Chromium shows every tab as visible and draws no notification, so the page
// is told it is hidden (document.hidden and visibilityState, as a tab behind another reads them)
// and Chromium's own Notification is watched as the page calls it.
import { expect, it } from '@jest/globals';
import type { Page } from 'playwright-core';
import { card, describeBrowser, openDashboard, screenshot, tid, type PageWindow } from '../../../helpers/browser.js';
import { initProject, sandbox } from '../../../helpers/fixtures.js';
import { startServer } from '../../../helpers/server.js';

declare const window: PageWindow;

interface Shown {
  title: string;
  body: string;
  tag: string;
}

/** Before the page's script: a tab the test can hide, and a record of the notifications made. */
function watchNotifications(): void {
  const g = globalThis as unknown as {
    Notification: new (title: string, options?: { body?: string; tag?: string }) => object;
    document: object;
    shown: Shown[];
    hide(hidden: boolean): void;
  };
  const Real = g.Notification;
  const shown: Shown[] = [];
  g.shown = shown;
  g.Notification = class extends (Real as new (title: string, options?: object) => object) {
    constructor(title: string, options: { body?: string; tag?: string } = {}) {
      super(title, options);
      shown.push({ title, body: options.body ?? '', tag: options.tag ?? '' });
    }
  } as typeof Real;
  let hidden = false;
  Object.defineProperty(g.document, 'hidden', { get: () => hidden });
  Object.defineProperty(g.document, 'visibilityState', { get: () => (hidden ? 'hidden' : 'visible') });
  g.hide = (value) => {
    hidden = value;
  };
}

const shown = (page: Page): Promise<Shown[]> => page.evaluate(() => [...(window.shown as Shown[])]);

describeBrowser('the dashboard in Chromium: notifications', () => {

  it('says when an operation ends while the tab is hidden, once, where notifications are allowed', async () => {
    const box = sandbox();
    const repo = await initProject(box, { '.piko.yml': 'scripts:\n  setup: "echo setting up; exit 3"\n' });
    const server = await startServer(box);
    const { context, page } = await openDashboard(box, repo);
    await context.grantPermissions(['notifications'], { origin: server.url });
    await context.addInitScript(watchNotifications);
    await page.reload();
    await page.waitForSelector(`${tid('connection')}[data-state="live"]`);
    // Allowed in the browser: on, until the bell says otherwise.
    expect(await page.getAttribute(tid('notifications'), 'data-state')).toBe('on');

    // In sight: the board shows it, no notification.
    const plain = await initProject(box, {}, 'plain');
    expect((await box.piko(['create', 'here', '--no-attach'], plain)).exitCode).toBe(0);
    // Its end, not only its start: the last operation drawn done (✓ or ✗), the card no longer busy.
    await page.waitForSelector(`${card('plain', 'here')}:not([aria-busy]) ${tid('last-operation')}.ok`);
    expect(await shown(page)).toEqual([]);

    // Hidden: one for a create that is ready, one for a create that failed, with where and why.
    await page.evaluate(() => (window.hide as (hidden: boolean) => void)(true));
    expect((await box.piko(['create', 'away', '--no-attach'], plain)).exitCode).toBe(0);
    expect((await box.piko(['create', 'broken', '--no-attach'], repo)).exitCode).not.toBe(0);
    await page.waitForFunction(() => (window.shown as Shown[]).length >= 2);
    const [ready, failed] = await shown(page);
    expect(ready).toEqual({ title: '✓ away is ready', body: 'plain', tag: expect.stringMatching(/^op_/) });
    expect(failed).toEqual({ title: expect.stringMatching(/^✗ broken: create failed at /), body: expect.stringMatching(/^app · /), tag: expect.stringMatching(/^op_/) });
    expect(failed!.tag).not.toBe(ready!.tag);

    // Turned off at the bell: nothing more.
    await page.click(tid('notifications'));
    expect(await page.getAttribute(tid('notifications'), 'data-state')).toBe('off');
    await screenshot(page, 'notifications-off');
    expect((await box.piko(['destroy', 'away', '--force'], plain)).exitCode).toBe(0);
    await page.waitForSelector(card('plain', 'away'), { state: 'detached' });
    expect(await shown(page)).toHaveLength(2);
  });
});
