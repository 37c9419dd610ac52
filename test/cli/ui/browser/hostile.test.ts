// What a repository can put in front of the dashboard, in a real browser: a setup script's
// output, a base branch's name and a commit message that look like markup, a `javascript:` link
// and terminal escape sequences. An environment's name cannot hold such things (names are
// validated), these can. The page shows every one as text: nothing runs, nothing becomes an
// element, and what the CSP would have stopped never even reaches it.
import { expect, it } from '@jest/globals';
import { card, cspViolations, describeBrowser, logLines, openDashboard, screenshot, tid, type PageDocument, type PageWindow } from '../../../helpers/browser.js';
import { git, initProject, sandbox } from '../../../helpers/fixtures.js';
import { startServer } from '../../../helpers/server.js';

declare const document: PageDocument;
declare const window: PageWindow;

/** Printed by the setup: markup, a link, and what a terminal would act on (ESC is `\033`). */
const HOSTILE_SCRIPT = String.raw`#!/bin/sh
echo '<script>window.pwned=1</script>'
echo '<img src=x onerror=window.pwned=2>'
echo 'javascript:window.pwned=3'
echo '<a href="javascript:window.pwned=4">click</a>'
printf '\033]8;;javascript:window.pwned=5\033\\a terminal link\033]8;;\033\\\n'
printf '\033[2J\033[Hafter clearing the screen\n'
printf '\033]0;a title of its own\007after a title\n'
printf 'progress 10%%\rprogress 100%%\n'
printf '\033[31m<b>red, not bold</b>\033[0m\n'
echo '&lt;entities&gt; &amp; stay as typed'
echo '<style>body{display:none}</style>'
`;

const BRANCHES = ['<img/src=x/onerror=window.pwned=6>', '"><svg/onload=window.pwned=7>'];
const SUBJECT = '<img src=x onerror=window.pwned=8>';

/** What must show, each a whole line of the panel, exactly as printed. */
const LITERAL = [
  '[setup] <script>window.pwned=1</script>',
  '[setup] <img src=x onerror=window.pwned=2>',
  '[setup] javascript:window.pwned=3',
  '[setup] <a href="javascript:window.pwned=4">click</a>',
  '[setup] <b>red, not bold</b>',
  '[setup] &lt;entities&gt; &amp; stay as typed',
  '[setup] <style>body{display:none}</style>',
];

describeBrowser('the dashboard in Chromium: hostile output', () => {

  it('shows markup, links and escape sequences from a setup, a branch name and a commit as text: nothing runs', async () => {
    const box = sandbox();
    const repo = await initProject(box, { '.piko.yml': 'scripts:\n  setup: sh hostile.sh\n', 'hostile.sh': HOSTILE_SCRIPT });
    git(repo, 'commit', '-q', '--allow-empty', '-m', SUBJECT);
    for (const branch of BRANCHES) git(repo, 'branch', branch);
    await startServer(box);
    const { page, console: said } = await openDashboard(box, repo);

    await page.click(`${tid('project', { project: 'app' })} ${tid('create')}`);
    await page.fill(tid('create-name'), 'hostile');
    await page.waitForSelector(`${tid('create-branch')}:not([disabled])`);
    // The branch names, as the options' text and values, to the character.
    const options = await page.$$eval(`${tid('create-branch')} option`, (els) => els.map((el) => ({ text: el.textContent, value: el.value })));
    expect(options).toEqual([{ text: 'main (current)', value: '' }, ...[...BRANCHES].sort().map((branch) => ({ text: branch, value: branch }))]);
    await page.selectOption(tid('create-branch'), BRANCHES[0]!);
    await page.click(tid('create-submit'));
    await page.waitForSelector(`${tid('session')}[data-phase="succeeded"]`);
    await page.waitForSelector(`${card('app', 'hostile')}:not([aria-busy])`);
    await screenshot(page, 'hostile-output');

    const shown = await logLines(page);
    for (const line of LITERAL) expect(shown).toContain(line);
    // The commit the base branch is at, its subject as git printed it.
    expect(shown).toContainEqual(expect.stringMatching(/^\[git\] HEAD is now at [0-9a-f]+ <img src=x onerror=window\.pwned=8>$/));
    // What a terminal acts on is gone: no escape character, the link's text without its target,
    // a progress line as it ended.
    expect(shown.filter((line) => /[\x00-\x08\x0b-\x1f\x7f\x9b]/.test(line))).toEqual([]);
    expect(shown).toContain('[setup] a terminal link');
    expect(shown).toContain('[setup] progress 100%');
    // The very lines `piko logs` shows in a terminal.
    const logs = await box.piko(['logs', 'hostile'], repo);
    expect(shown).toEqual(logs.stdout.replace(/\n$/, '').split('\n'));

    // The same log read back from the server (the card's last operation) is no different.
    await page.click(tid('tab-close'));
    await page.click(`${card('app', 'hostile')} ${tid('open-log')}`);
    await page.waitForSelector(`${tid('session')}[data-phase="succeeded"]`);
    expect(await logLines(page)).toEqual(shown);

    const looked = await page.evaluate(() => ({
      pwned: window.pwned,
      title: document.title,
      scripts: [...document.querySelectorAll('script')].map((el) => el.getAttribute('src')),
      images: document.querySelectorAll('img').length,
      links: [...document.querySelectorAll('a')].map((el) => el.getAttribute('href')),
      handlers: document.querySelectorAll('[onerror], [onload], [onclick], [onmouseover]').length,
      styles: document.querySelectorAll('style, [style*="display"]').length,
      foreignSvg: [...document.querySelectorAll('svg')].filter((el) => el.getAttribute('class') !== 'icon').length,
      boldInLog: document.querySelectorAll('[data-testid="log"] b').length,
    }));
    expect(looked).toEqual({ pwned: undefined, title: 'piko', scripts: ['/ui/app.js'], images: 0, links: [], handlers: 0, styles: 0, foreignSvg: 0, boldInLog: 0 });
    expect(await cspViolations(page)).toEqual([]);
    expect(said.filter((line) => /^(pageerror|error):/.test(line))).toEqual([]);
    await screenshot(page, 'hostile-replayed');
  });
});
