// Signing in to the dashboard in a real browser, the way a person does: `piko ui` prints a
// one-time link, the browser opens it and lands on the board with a cookie no script can read;
// the same link in another browser context is refused; a browser that never signed in is told
// to run `piko ui`.
import { expect, it } from '@jest/globals';
import { card, describeBrowser, newContext, screenshot, signInLink, tid, type PageDocument } from '../../../helpers/browser.js';
import { initProject, sandbox } from '../../../helpers/fixtures.js';
import { startServer } from '../../../helpers/server.js';

declare const document: PageDocument;

describeBrowser('the dashboard in Chromium: signing in', () => {

  it("opens piko ui's link on the board, with an HttpOnly cookie; the link works once; a browser without it is told to run piko ui", async () => {
    const box = sandbox();
    const repo = await initProject(box);
    const made = await box.piko(['create', 'first', '--no-attach'], repo);
    expect(made.exitCode).toBe(0);
    const server = await startServer(box);
    const link = await signInLink(box, repo);
    expect(new URL(link).origin).toBe(server.url);

    const context = await newContext();
    const page = await context.newPage();
    const answer = await page.goto(link);
    // Redirected to the board, the code gone from the address.
    expect(page.url()).toBe(`${server.url}/`);
    expect(answer?.status()).toBe(200);
    await page.waitForSelector(`${tid('connection')}[data-state="live"]`);
    await page.waitForSelector(card('app', 'first'));
    expect(await page.textContent(`${card('app', 'first')} ${tid('status')}`)).toContain('ready');
    // The session cookie is there, for the browser only.
    const cookies = await context.cookies(server.url);
    expect(cookies).toEqual([expect.objectContaining({ name: `piko_ui_${new URL(server.url).port}`, httpOnly: true, sameSite: 'Strict', path: '/', expires: -1 })]);
    expect(await page.evaluate(() => document.cookie)).toBe('');
    // The page's half, the key, is the page's: kept in this origin's storage, gone from the address.
    expect(await page.evaluate(() => (globalThis as unknown as { localStorage: { getItem(k: string): string | null } }).localStorage.getItem('piko-key'))).toMatch(/^[0-9a-f]{64}$/);
    await screenshot(page, 'sign-in-board');

    // The cookie alone (what every page of 127.0.0.1 is sent) signs nobody in.
    const cookieOnly = await newContext();
    await cookieOnly.addCookies(cookies);
    const replay = await cookieOnly.newPage();
    await replay.goto(`${server.url}/`);
    await replay.waitForSelector(tid('signed-out'));
    await cookieOnly.close();

    // The same link again, in a context of its own (no cookie): the code was used.
    const other = await newContext();
    const again = await other.newPage();
    const refused = await again.goto(link);
    expect(refused?.status()).toBe(403);
    expect(await again.textContent('body')).toMatch(/piko ui/);
    expect(await other.cookies(server.url)).toEqual([]);
    await screenshot(again, 'sign-in-link-used');

    // The board itself, never signed in: the page says what to do.
    const board = await again.goto(`${server.url}/`);
    expect(board?.status()).toBe(200);
    await again.waitForSelector(tid('signed-out'));
    expect(await again.textContent(tid('signed-out-command'))).toBe('piko ui');
    expect(await again.$(tid('board'))).toBeNull();
    await screenshot(again, 'sign-in-signed-out');

    // A page that sends the browser to the board with a key of its own making signs nobody out:
    // the key kept is the one the server took.
    const key = (p: typeof page): Promise<string | null> => p.evaluate(() => (globalThis as unknown as { localStorage: { getItem(k: string): string | null } }).localStorage.getItem('piko-key'));
    const signedInKey = await key(page);
    const planted = await context.newPage();
    await planted.goto(`${server.url}/#key=${'0'.repeat(64)}`);
    await planted.waitForSelector(`${tid('connection')}[data-state="live"]`);
    await planted.waitForSelector(card('app', 'first'));
    expect(planted.url()).toBe(`${server.url}/`);
    expect(await key(planted)).toBe(signedInKey);
    await planted.close();

    // Signed in again from another tab of the same browser (a new cookie and key for all its
    // tabs): the first tab goes on with them.
    const second = await context.newPage();
    await second.goto(await signInLink(box, repo));
    await second.waitForSelector(`${tid('connection')}[data-state="live"]`);
    expect(await key(second)).not.toBe(signedInKey);
    await page.click(`${card('app', 'first')} ${tid('history')}`);
    await page.waitForSelector(tid('history-item'));
    await page.click(tid('dialog-cancel'));
    await second.close();

    // Another piko server on this host (its own PIKO_HOME and port), signed in in the same
    // browser: each keeps its own session, for a browser keeps a host's cookies whatever the port.
    const elsewhere = sandbox();
    const elsewhereRepo = await initProject(elsewhere);
    await startServer(elsewhere);
    const third = await context.newPage();
    await third.goto(await signInLink(elsewhere, elsewhereRepo));
    await third.waitForSelector(`${tid('connection')}[data-state="live"]`);
    await page.reload();
    await page.waitForSelector(`${tid('connection')}[data-state="live"]`);
    await page.waitForSelector(card('app', 'first'));
    await third.close();

    // The first browser is still signed in; signing out there ends it.
    await page.click(tid('sign-out'));
    await page.waitForSelector(tid('signed-out'));
    await page.reload();
    await page.waitForSelector(tid('signed-out'));
    await context.close();
    await other.close();
  });
});
