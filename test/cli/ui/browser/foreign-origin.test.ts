// Another web page in the same browser as a signed-in dashboard, in a real browser: a page of
// another port of 127.0.0.1 (the same site, so the browser sends it the session cookie), a page
// of `localhost` (another site); and the server under its other name (`localhost:PORT`).
// From each, a script reads `/api/overview`, POSTs a create, opens a
// WebSocket to the create endpoint and an EventSource to `/api/events`: none of it reads
// anything or does anything. The server refuses every one of those requests (401/403), and the
// browser lets the script see nothing of the answers.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from '@jest/globals';
import type { Page } from 'playwright-core';
import { describeBrowser, logLines, openDashboard, screenshot, tid } from '../../../helpers/browser.js';
import { git, initProject, sandbox } from '../../../helpers/fixtures.js';
import { startServer, type RunningServer } from '../../../helpers/server.js';

/** What a script of the foreign page got from each attempt. */
interface Attempts {
  read: string;
  readNoCors: string;
  postJson: string;
  postText: string;
  mintCode: string;
  socket: string;
  events: string;
  eventsWithCredentials: string;
}

/** A plain page on 127.0.0.1 (and ::1 where there is one) at a port of its own: the other site. */
async function foreignSite(): Promise<{ port: number; close(): Promise<void> }> {
  const page = '<!doctype html><html><head><title>another site</title></head><body><h1>Another local web page</h1></body></html>';
  const serve = (): Server => createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page));
  const v4 = serve();
  await new Promise<void>((resolve) => v4.listen(0, '127.0.0.1', resolve));
  const port = (v4.address() as AddressInfo).port;
  // `localhost` may be tried on ::1 first: the same page there, when this machine has IPv6.
  const v6 = serve();
  const listening = await new Promise<boolean>((resolve) => {
    v6.once('error', () => resolve(false));
    v6.listen(port, '::1', () => resolve(true));
  });
  const close = (s: Server): Promise<void> => new Promise((resolve) => s.close(() => resolve()));
  return { port, close: async () => void (await Promise.all([close(v4), ...(listening ? [close(v6)] : [])])) };
}

/**
 * Everything a script of `page` tries against the dashboard at `target`, each awaited to its
 * end: what it could read, in a word or two.
 */
function attack(page: Page, target: string): Promise<Attempts> {
  return page.evaluate(async (dashboard: string) => {
    const g = globalThis as unknown as {
      fetch(url: string, init?: object): Promise<{ type: string; status: number; text(): Promise<string> }>;
      WebSocket: new (url: string) => { onopen: (() => void) | null; onclose: ((e: { code: number }) => void) | null; onmessage: ((e: { data: string }) => void) | null; send(data: string): void };
      EventSource: new (url: string, init?: object) => { onerror: (() => void) | null; onmessage: ((e: { data: string }) => void) | null; addEventListener(type: string, f: (e: { data: string }) => void): void; readyState: number; close(): void };
    };
    const request = JSON.stringify({ action: 'create', project: 'app', environment: 'evil' });
    const outcome = (p: Promise<{ type: string; status: number; text(): Promise<string> }>): Promise<string> =>
      p.then(
        async (res) => `read ${res.type} ${res.status}: ${(await res.text()).slice(0, 200)}`,
        (err: Error) => `refused: ${err.name}`,
      );
    const read = await outcome(g.fetch(`${dashboard}/api/overview`, { credentials: 'include' }));
    const readNoCors = await outcome(g.fetch(`${dashboard}/api/overview`, { credentials: 'include', mode: 'no-cors' }));
    const postJson = await outcome(
      g.fetch(`${dashboard}/api/environments/create/events?batch=1`, { method: 'POST', credentials: 'include', headers: { 'content-type': 'application/json' }, body: request }),
    );
    // A "simple" request: no preflight, so it reaches the server; only the server can refuse it.
    const postText = await outcome(
      g.fetch(`${dashboard}/api/environments/create/events?batch=1`, { method: 'POST', credentials: 'include', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: request }),
    );
    const mintCode = await outcome(g.fetch(`${dashboard}/api/ui/codes`, { method: 'POST', credentials: 'include', mode: 'no-cors' }));
    const socket = await new Promise<string>((resolve) => {
      const ws = new g.WebSocket(`${dashboard.replace(/^http/, 'ws')}/api/environments/create/stream`);
      const got: string[] = [];
      ws.onopen = () => {
        got.push('opened');
        ws.send(request);
      };
      ws.onmessage = (e) => got.push(e.data.slice(0, 100));
      ws.onclose = (e) => resolve(`${got.join(' ') || 'never opened'}; closed ${e.code}`);
    });
    const follow = (init?: object): Promise<string> =>
      new Promise<string>((resolve) => {
        const source = new g.EventSource(`${dashboard}/api/events`, init);
        const got: string[] = [];
        source.onmessage = (e) => got.push(e.data.slice(0, 100));
        source.addEventListener('snapshot', (e) => got.push(`snapshot ${e.data.slice(0, 100)}`));
        source.onerror = () => {
          // Closed: it gave up (an answer other than a stream). Connecting: it would try again.
          source.close();
          resolve(`${got.join(' ') || 'nothing'}; ${source.readyState === 2 ? 'closed' : 'error'}`);
        };
      });
    const events = await follow();
    const eventsWithCredentials = await follow({ withCredentials: true });
    return { read, readNoCors, postJson, postText, mintCode, socket, events, eventsWithCredentials };
  }, target);
}

/** The API requests the server logged from `from` on (its output's offset), as `METHOD path status`. */
function apiRequests(server: RunningServer, from: number): string[] {
  return [...server.output().slice(from).matchAll(/^(GET|POST|OPTIONS) (\/api\/\S*) (\d{3})/gm)].map((m) => `${m[1]} ${m[2]} ${m[3]}`);
}

// A no-cors request gets not even an opaque answer: every answer of the API says
// Cross-Origin-Resource-Policy: same-origin, and the browser turns it into a network error.
const NOTHING: Attempts = {
  read: 'refused: TypeError',
  readNoCors: 'refused: TypeError',
  postJson: 'refused: TypeError',
  postText: 'refused: TypeError',
  mintCode: 'refused: TypeError',
  socket: 'never opened; closed 1006',
  events: 'nothing; closed',
  eventsWithCredentials: 'nothing; closed',
};

describeBrowser('the dashboard in Chromium: other origins', () => {
  let site: { port: number; close(): Promise<void> } | undefined;
  afterEach(async () => {
    await site?.close();
  });

  it('lets a page of another origin in the same browser neither read the API nor act through it, cookie or not', async () => {
    const box = sandbox();
    const repo = await initProject(box);
    const server = await startServer(box);
    const dashboardPort = new URL(server.url).port;
    const { context, page: dashboard } = await openDashboard(box, repo);
    site = await foreignSite();

    // 1. Another port of 127.0.0.1: the same site, so the browser sends the dashboard's cookie along.
    const sameSite = await context.newPage();
    await sameSite.goto(`http://127.0.0.1:${site.port}/`);
    expect(await context.cookies(server.url)).toHaveLength(1);
    let from = server.output().length;
    expect(await attack(sameSite, server.url)).toEqual(NOTHING);
    await screenshot(sameSite, 'foreign-same-site');
    // What reached the server, it refused: 403, for the cookie came from another origin's page.
    const sameSiteRequests = apiRequests(server, from);
    expect(sameSiteRequests.length).toBeGreaterThanOrEqual(6);
    expect(sameSiteRequests.filter((line) => !/ 40[13]$/.test(line))).toEqual([]);
    expect(sameSiteRequests).toEqual(expect.arrayContaining(['GET /api/overview 403', 'POST /api/environments/create/events 403', 'POST /api/ui/codes 403', 'GET /api/environments/create/stream 403', 'GET /api/events 403']));

    // 2. A page of `localhost`: another site, so no cookie at all.
    const otherSite = await context.newPage();
    await otherSite.goto(`http://localhost:${site.port}/`);
    from = server.output().length;
    expect(await attack(otherSite, server.url)).toEqual(NOTHING);
    expect(apiRequests(server, from).filter((line) => !/ 40[13]$/.test(line))).toEqual([]);

    // 3. The server under its other name (`localhost:PORT`), from the page that has the cookie:
    // the cookie is 127.0.0.1's, and the request another site's.
    from = server.output().length;
    expect(await attack(sameSite, `http://localhost:${dashboardPort}`)).toEqual(NOTHING);
    expect(apiRequests(server, from).filter((line) => !/ 40[13]$/.test(line))).toEqual([]);
    // The dashboard's own page under that name is signed out: a cookie is its host name's.
    const otherName = await context.newPage();
    await otherName.goto(`http://localhost:${dashboardPort}/`);
    await otherName.waitForSelector(tid('signed-out'));
    await screenshot(otherName, 'foreign-other-name-signed-out');

    // Nothing was made, nothing ran.
    expect(server.output()).not.toMatch(/app\/evil/);
    expect((await box.piko(['list', '--json'], repo)).stdout.trim()).toBe('[]');
    expect(git(repo, 'branch', '--list', 'evil')).toBe('');
    expect(await dashboard.$(tid('environment'))).toBeNull();

    // The dashboard's own page, in the same browser, still works: the refusals were the origin's.
    await dashboard.bringToFront();
    await dashboard.click(`${tid('project', { project: 'app' })} ${tid('create')}`);
    await dashboard.fill(tid('create-name'), 'mine');
    await dashboard.waitForSelector(`${tid('create-branch')}:not([disabled])`);
    await dashboard.click(tid('create-submit'));
    await dashboard.waitForSelector(`${tid('session')}[data-phase="succeeded"]`);
    expect((await logLines(dashboard)).at(-1)).toMatch(/^✓ mine ready/);
    await screenshot(dashboard, 'foreign-dashboard-still-works');
  });
});
