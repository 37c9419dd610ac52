// The refusals the page turns into choices, in a real browser: a destroy refused for work a
// person made lists that work, and destroys only once "discard" is chosen; a create refused for
// a config changed since it was approved shows the difference, and Approve creates it.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from '@jest/globals';
import { card, describeBrowser, logLines, openDashboard, screenshot, tid } from '../../../helpers/browser.js';
import { git, initProject, sandbox, type Sandbox } from '../../../helpers/fixtures.js';
import { startServer } from '../../../helpers/server.js';

async function environments(box: Sandbox, repo: string): Promise<{ name: string; status: string; path: string }[]> {
  const list = await box.piko(['list', '--json'], repo);
  expect(list.exitCode).toBe(0);
  return JSON.parse(list.stdout) as { name: string; status: string; path: string }[];
}

describeBrowser('the dashboard in Chromium: refusals and choices', () => {

  it('lists the changes a person made when a destroy is refused for them, and destroys once told to discard them', async () => {
    const box = sandbox();
    const repo = await initProject(box);
    expect((await box.piko(['create', 'wip', '--no-attach'], repo)).exitCode).toBe(0);
    const [env] = await environments(box, repo);
    // Work someone did in the worktree and never committed: a new file and an edit.
    writeFileSync(join(env!.path, 'notes.txt'), 'my notes\n');
    writeFileSync(join(env!.path, 'README.md'), '# edited\n');
    await startServer(box);
    const { page } = await openDashboard(box, repo);

    await page.click(`${card('app', 'wip')} ${tid('destroy')}`);
    await page.waitForSelector(tid('destroy-dialog'));
    await page.click(tid('destroy-submit'));
    await page.waitForSelector(`${tid('session')}[data-phase="refused"]`);
    const changes = await page.$$eval(`${tid('changes')} li`, (items) => items.map((li) => li.textContent));
    expect(changes).toHaveLength(2);
    expect(changes).toEqual(expect.arrayContaining([expect.stringContaining('notes.txt'), expect.stringContaining('README.md')]));
    expect(await page.textContent(tid('refusal'))).toContain(env!.path);
    await screenshot(page, 'destroy-refused');
    // Nothing went: the card, the worktree and the work in it are all still there.
    expect(await page.$(card('app', 'wip'))).not.toBeNull();
    expect(existsSync(join(env!.path, 'notes.txt'))).toBe(true);
    expect((await environments(box, repo)).map((e) => e.name)).toEqual(['wip']);

    await page.click(tid('discard-and-destroy'));
    await page.waitForSelector(`${tid('session')}[data-phase="succeeded"]`);
    await page.waitForSelector(card('app', 'wip'), { state: 'detached' });
    await screenshot(page, 'destroy-discarded');
    expect(await environments(box, repo)).toEqual([]);
    expect(existsSync(env!.path)).toBe(false);
    // Discarding the changes is not deleting the branch.
    expect(git(repo, 'branch', '--list', 'wip')).toContain('wip');
  });

  it('shows how the config changed since it was approved when a create is refused for it, and Approve creates it', async () => {
    const box = sandbox();
    const repo = await initProject(box, { '.piko.yml': 'scripts:\n  setup: echo approved before\n' });
    // A `git pull` brought a new setup script.
    writeFileSync(join(repo, '.piko.yml'), 'scripts:\n  setup: echo changed since\n');
    await startServer(box);
    const { page } = await openDashboard(box, repo);

    await page.click(`${tid('project', { project: 'app' })} ${tid('create')}`);
    await page.fill(tid('create-name'), 'trusted');
    await page.waitForSelector(`${tid('create-branch')}:not([disabled])`);
    await page.click(tid('create-submit'));
    await page.waitForSelector(`${tid('session')}[data-phase="refused"]`);
    const difference = await page.textContent(tid('difference'));
    expect(difference).toContain('- script setup: echo approved before');
    expect(difference).toContain('+ script setup: echo changed since');
    await screenshot(page, 'create-untrusted');
    // Nothing ran, nothing was made.
    expect(await environments(box, repo)).toEqual([]);
    expect(git(repo, 'branch', '--list', 'trusted')).toBe('');
    expect(await page.$(card('app', 'trusted'))).toBeNull();

    await page.click(tid('approve'));
    await page.waitForSelector(`${tid('session')}[data-phase="succeeded"]`);
    expect(await logLines(page)).toContain('[setup] changed since');
    await page.waitForSelector(`${card('app', 'trusted')}:not([aria-busy])`);
    expect(await page.textContent(`${card('app', 'trusted')} ${tid('status')}`)).toContain('ready');
    await screenshot(page, 'create-approved');
    // The approval holds for the terminal too.
    const next = await box.piko(['create', 'after', '--no-attach'], repo);
    expect({ exitCode: next.exitCode, stderr: next.stderr }).toEqual({ exitCode: 0, stderr: '' });
  });
});
