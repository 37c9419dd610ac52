// The board as the README shows it, in a real browser: two projects, environments in several
// states (running with its ports, stopped, merged), and the panel open on a create started from
// the page. Its screenshot is test-results/screenshots/readme-board.png; with
// PIKO_README_SCREENSHOT=1 it is also written to cli/ui/screenshot.png, the README's picture.
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from '@jest/globals';
import { card, cspViolations, describeBrowser, openDashboard, screenshot, tid } from '../../../helpers/browser.js';
import { git, initProject, ROOT, sandbox, writeFiles } from '../../../helpers/fixtures.js';
import { startServer } from '../../../helpers/server.js';

const SHOP = {
  'docker-compose.yml': 'services:\n  web:\n    image: nginx\n    ports: ["80"]\n  db:\n    image: postgres\n',
  '.piko.yml': 'scripts:\n  setup: sh setup.sh\n',
  'setup.sh': String.raw`#!/bin/sh
echo "installing dependencies"
printf '\033[32m✔\033[0m added 214 packages in 1.8s\n'
printf '\033[33mwarn\033[0m deprecated inflight@1.0.6\n' >&2
echo "migrating the database"
printf '\033[32m✔\033[0m 12 migrations applied\n'
echo "ready on http://localhost:$PIKO_WEB_PORT"
`,
};

const BLOG = { '.piko.yml': 'scripts:\n  setup: echo "building the site"; echo "wrote 48 pages"\n' };

describeBrowser('the dashboard in Chromium: the README picture', () => {

  it('draws two projects, their environments and an open panel', async () => {
    const box = sandbox();
    const shop = await initProject(box, SHOP, 'shop');
    const blog = await initProject(box, BLOG, 'blog');
    const run = async (args: string[], cwd: string): Promise<void> => {
      const done = await box.piko(args, cwd);
      if (done.exitCode !== 0) throw new Error(`piko ${args.join(' ')}: ${done.stderr}`);
    };
    await run(['create', 'cart', '--no-attach'], shop);
    await run(['create', 'login-fix', '--no-attach'], shop);
    await run(['down', 'login-fix'], shop);
    await run(['create', 'draft', '--no-attach'], blog);
    // A branch that was merged: its environment is marked so.
    await run(['create', 'typo', '--no-attach'], blog);
    const typo = join(blog, '.piko', 'worktrees', 'typo');
    writeFiles(typo, { 'README.md': '# the blog\n' });
    git(typo, 'commit', '-qam', 'fix a typo');
    git(blog, 'merge', '-q', '--ff-only', 'typo');
    await startServer(box);
    const { page } = await openDashboard(box, shop);

    await page.click(`${tid('project', { project: 'shop' })} ${tid('create')}`);
    await page.fill(tid('create-name'), 'checkout');
    await page.waitForSelector(`${tid('create-branch')}:not([disabled])`);
    await page.click(tid('create-submit'));
    await page.waitForSelector(`${tid('session')}[data-phase="succeeded"]`);
    await page.waitForSelector(`${card('shop', 'checkout')}:not([aria-busy]) ${tid('port-link')}`);
    await page.waitForSelector(`${card('blog', 'typo')} ${tid('mark-merged')}`);
    expect(await page.$$eval(tid('project-name'), (els) => els.map((el) => el.textContent))).toEqual(['blog', 'shop']);
    expect(await page.textContent(`${card('shop', 'login-fix')} ${tid('status')}`)).toContain('stopped');
    expect(await cspViolations(page)).toEqual([]);
    // Nothing moves in the picture: no caret, no hover.
    await page.mouse.move(0, 0);
    await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { blur(): void } | null } }).document.activeElement?.blur());
    const path = await screenshot(page, 'readme-board');
    if (process.env.PIKO_README_SCREENSHOT === '1') copyFileSync(path, join(ROOT, 'cli', 'ui', 'screenshot.png'));
  });
});
