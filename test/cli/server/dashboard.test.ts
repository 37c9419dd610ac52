// The dashboard's side of `piko server`, against a real server process: signing in with a
// one-time code, what the session cookie is honoured for (only the server's own page), the
// page's files and their headers, and the data endpoints the page reads.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import WebSocket from 'ws';
import { cleanup, git, initProject, sandbox } from '../../helpers/fixtures.js';
import { request, startServer, stopServers, type RunningServer } from '../../helpers/server.js';
import { cookieName, follow, fromPage, newCode, pageFixture, raw, signedFrom, signIn, type RawResponse } from './dashboard-helpers.js';

afterEach(async () => {
  await stopServers();
  cleanup();
});

const API_ANSWER = { 'x-content-type-options': 'nosniff', 'cross-origin-resource-policy': 'same-origin', 'content-security-policy': "default-src 'none'; frame-ancestors 'none'", 'cache-control': 'no-store' };
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/** The status a WebSocket upgrade gets with `headers` (101 when it opens). */
function upgrade(server: RunningServer, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const url = new URL(path, server.url);
    url.protocol = 'ws:';
    const socket = new WebSocket(url, { headers });
    socket.on('unexpected-response', (_req, res) => resolve(res.statusCode!));
    socket.on('open', () => {
      resolve(101);
      socket.close();
    });
    socket.on('error', () => undefined);
  });
}

describe('signing in to the dashboard', () => {
  it('trades a code, once, for an HttpOnly SameSite=Strict session cookie and a key for the page; the token never reaches the page', async () => {
    const box = sandbox();
    await initProject(box);
    const server = await startServer(box, { PIKO_UI_DIR: pageFixture() });
    const { code, url, expiresAt } = await newCode(server);
    expect(code).toMatch(/^[0-9a-f]{32}$/);
    expect(url).toBe(`${server.url}/ui/login?code=${code}`);
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(30_000);

    const first = await raw(server, `/ui/login?code=${code}`);
    expect(first.status).toBe(303);
    // The key in the fragment: the browser hands it to the page, and sends it to no server.
    expect(first.headers.location).toMatch(/^\/#key=[0-9a-f]{64}$/);
    const [cookie] = first.headers['set-cookie']!;
    expect(cookie).toMatch(new RegExp(`^${cookieName(server)}=[0-9a-f]{64}; HttpOnly; SameSite=Strict; Path=/$`));
    expect(cookie).not.toMatch(/max-age|expires/i);

    const again = await raw(server, `/ui/login?code=${code}`);
    expect(again.status).toBe(403);
    expect(again.headers['content-type']).toMatch(/^text\/html/);
    expect(again.headers['set-cookie']).toBeUndefined();
    expect(again.body).toContain('piko ui');
    expect(again.headers['content-security-policy']).toBe(CSP);
    for (const bad of ['', '?code=', '?code=nothex', `?code=${'0'.repeat(32)}`]) expect((await raw(server, `/ui/login${bad}`)).status).toBe(403);

    // Everything a signed-in page may ask, and every answer it gets, holds no token.
    const session = signedFrom(first);
    const answers: RawResponse[] = [first, again];
    for (const path of ['/', '/ui/app.js', '/api/overview', '/api/health', '/api/projects', '/api/environments', '/api/operations?project=app&environment=x', '/api/projects/app/branches']) {
      const answer = await raw(server, path, { headers: { ...session, 'sec-fetch-site': 'same-origin' } });
      expect({ path, status: answer.status }).toEqual({ path, status: 200 });
      // Nothing of the API is for another origin to embed, nor to be taken for another type.
      if (path.startsWith('/api/')) expect(answer.headers).toMatchObject(API_ANSWER);
      answers.push(answer);
    }
    answers.push(await raw(server, '/api/ui/codes', { method: 'POST', headers: fromPage(server, session) }));
    const feed = follow(server, { ...session });
    await feed.waitFor('a snapshot', (e) => e.event === 'snapshot');
    expect(await feed.headers).toMatchObject({ ...API_ANSWER, 'content-type': 'text/event-stream; charset=utf-8' });
    feed.close();
    for (const answer of answers) expect(JSON.stringify(answer.headers) + answer.body).not.toContain(server.token);
    expect(feed.text()).not.toContain(server.token);
    await server.waitFor(/GET \/ui\/login 303 http/);
    expect(server.output()).not.toContain(code);
  });

  it('refuses a code that has expired', async () => {
    const box = sandbox();
    await initProject(box);
    // 0: every code has expired by the time it is used.
    const server = await startServer(box, { PIKO_UI_CODE_TTL_MS: '0' });
    const { code } = await newCode(server);
    const answer = await raw(server, `/ui/login?code=${code}`);
    expect(answer.status).toBe(403);
    expect(answer.body).toMatch(/Run <code>piko ui<\/code> again/);
    expect(answer.headers['set-cookie']).toBeUndefined();
  });

  it('does not use a code up for a prefetch or a HEAD', async () => {
    const box = sandbox();
    await initProject(box);
    const server = await startServer(box);
    const { code } = await newCode(server);
    expect((await raw(server, `/ui/login?code=${code}`, { headers: { 'sec-purpose': 'prefetch' } })).status).toBe(503);
    expect((await raw(server, `/ui/login?code=${code}`, { method: 'HEAD' })).status).toBe(503);
    expect((await raw(server, `/ui/login?code=${code}`)).status).toBe(303);
  });

  it('makes codes only for the token, and signs out', async () => {
    const box = sandbox();
    await initProject(box);
    const server = await startServer(box);
    expect((await raw(server, '/api/ui/codes', { method: 'POST' })).status).toBe(401);
    expect((await raw(server, '/api/ui/codes', { method: 'POST', headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    const signed = await signIn(server);
    const minted = await raw(server, '/api/ui/codes', { method: 'POST', headers: fromPage(server, signed) });
    expect(minted.status).toBe(403);
    expect(JSON.parse(minted.body).error).toMatch(/piko ui/);

    const out = await raw(server, '/api/ui/logout', { method: 'POST', headers: fromPage(server, signed) });
    expect(out.status).toBe(204);
    expect(out.headers).toMatchObject(API_ANSWER);
    expect(out.headers['set-cookie']).toEqual([`${cookieName(server)}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`]);
    const after = await raw(server, '/api/overview', { headers: { ...signed } });
    expect(after.status).toBe(401);
    expect(JSON.parse(after.body).error).toMatch(/^sign in: run piko ui/);
  });
});

describe('the session cookie', () => {
  it('is honoured only from the server\'s own origin: POSTs and upgrades must say so, GETs must not come from another site', async () => {
    const box = sandbox();
    const repo = await initProject(box);
    const server = await startServer(box);
    const signed = await signIn(server);
    const own = new URL(server.url).origin;
    const port = new URL(server.url).port;

    // No credentials at all: what the page shows as "sign in".
    const none = await raw(server, '/api/overview');
    expect(none.status).toBe(401);
    expect(JSON.parse(none.body)).toEqual({ error: 'sign in: run piko ui' });
    expect((await raw(server, '/api/overview', { headers: { cookie: `${cookieName(server)}=${'a'.repeat(64)}` } })).status).toBe(401);

    // GET: no Origin is fine unless the browser says another site asked.
    for (const site of [undefined, 'same-origin', 'none']) {
      const headers: Record<string, string> = { ...signed, ...(site ? { 'sec-fetch-site': site } : {}) };
      expect({ site, status: (await raw(server, '/api/overview', { headers })).status }).toEqual({ site, status: 200 });
    }
    for (const site of ['cross-site', 'same-site']) {
      expect({ site, status: (await raw(server, '/api/overview', { headers: { ...signed, 'sec-fetch-site': site } })).status }).toEqual({ site, status: 403 });
    }
    // GET with an Origin: exactly the server's own.
    expect((await raw(server, '/api/overview', { headers: { ...signed, origin: own } })).status).toBe(200);
    for (const origin of ['http://evil.example', `http://localhost:${port}`, `http://127.0.0.1:${Number(port) + 1}`, 'null']) {
      expect({ origin, status: (await raw(server, '/api/overview', { headers: { ...signed, origin } })).status }).toEqual({ origin, status: 403 });
    }

    // POST: the Origin must be there, and be this server's.
    const cancel = (headers: Record<string, string>) => raw(server, '/api/operations/op_000000000000/cancel', { method: 'POST', headers, body: { by: 'the dashboard' } });
    expect((await cancel({ ...fromPage(server, signed) })).status).toBe(404);
    const { origin: _origin, ...noOrigin } = fromPage(server, signed);
    expect((await cancel(noOrigin)).status).toBe(403);
    expect((await cancel({ ...fromPage(server, signed), origin: 'http://evil.example' })).status).toBe(403);
    expect((await cancel({ ...fromPage(server, signed), origin: `http://localhost:${port}` })).status).toBe(403);
    // A create from another origin never starts.
    const refused = await raw(server, '/api/environments/create/events', {
      method: 'POST',
      headers: { ...fromPage(server, signed), origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' },
      body: { action: 'create', project: 'app', environment: 'never' },
    });
    expect(refused.status).toBe(403);

    // WebSocket upgrades: the same as a POST (with the key, which a browser's WebSocket cannot
    // send: the page uses HTTP and SSE only).
    const path = '/api/environments/create/stream';
    expect(await upgrade(server, path, { ...signed, origin: own })).toBe(101);
    expect(await upgrade(server, path, { cookie: signed.cookie, origin: own })).toBe(401);
    expect(await upgrade(server, path, { ...signed })).toBe(403);
    expect(await upgrade(server, path, { ...signed, origin: 'http://evil.example' })).toBe(403);
    expect(await upgrade(server, path, { ...signed, cookie: `${cookieName(server)}=${'b'.repeat(64)}`, origin: own })).toBe(401);

    // The token goes on as before, for the CLI.
    expect((await raw(server, '/api/overview', { headers: { authorization: `Bearer ${server.token}` } })).status).toBe(200);
    const { messages } = await request(server, 'create', { action: 'create', project: 'app', environment: 'by-token' });
    expect(messages.at(-1)).toMatchObject({ type: 'complete', success: true });
    expect(git(repo, 'branch', '--list', 'never')).toBe('');
  });

  it('cannot be shadowed by another cookie of the same name', async () => {
    const box = sandbox();
    await initProject(box);
    const server = await startServer(box);
    const signed = await signIn(server);
    // Another page of 127.0.0.1 (any port) may set a cookie of that name too: the browser sends both.
    const both = `${cookieName(server)}=${'c'.repeat(64)}; ${signed.cookie}`;
    expect((await raw(server, '/api/overview', { headers: { ...signed, cookie: both } })).status).toBe(200);
  });

  it('is nothing without its page\'s key: a server on another port of 127.0.0.1, sent the cookie by the browser, cannot use it', async () => {
    const box = sandbox();
    const repo = await initProject(box);
    const server = await startServer(box);
    const signed = await signIn(server);
    const other = await signIn(server);
    // What a browser sends to any page of 127.0.0.1 is the cookie: replayed with this server's
    // Origin forged, as a program (not a browser) can, it is refused without the key.
    const forged = { cookie: signed.cookie, origin: new URL(server.url).origin, 'sec-fetch-site': 'same-origin', 'content-type': 'application/json' };
    const overview = await raw(server, '/api/overview', { headers: forged });
    expect(overview.status).toBe(401);
    expect(JSON.parse(overview.body).error).toMatch(/^sign in: run piko ui \(.*x-piko-key/);
    const create = await raw(server, '/api/environments/create/events', { method: 'POST', headers: forged, body: { action: 'create', project: 'app', environment: 'never' } });
    expect(create.status).toBe(401);
    // A wrong key, another session's key, or the key without its cookie: refused as well.
    const refused: Record<string, string>[] = [
      { ...forged, 'x-piko-key': '0'.repeat(64) },
      { ...forged, 'x-piko-key': other['x-piko-key'] },
      { ...forged, 'x-piko-key': 'not a key' },
      { 'x-piko-key': signed['x-piko-key'] },
      { cookie: other.cookie, 'x-piko-key': signed['x-piko-key'] },
    ];
    for (const headers of refused) {
      expect((await raw(server, '/api/overview', { headers })).status).toBe(401);
    }
    expect((await raw(server, '/api/overview', { headers: { ...forged, ...signed } })).status).toBe(200);
    expect(git(repo, 'branch', '--list', 'never')).toBe('');
  });
});

describe("the dashboard's page", () => {
  it('is served from the page folder with the CSP and friends, by a fixed list of names', async () => {
    const box = sandbox();
    await initProject(box);
    const server = await startServer(box, { PIKO_UI_DIR: pageFixture() });
    for (const path of ['/', '/index.html']) {
      const page = await raw(server, path);
      expect(page.status).toBe(200);
      expect(page.body).toContain('<script type="module" src="/ui/app.js">');
      expect(page.headers).toMatchObject({
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': CSP,
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        'cache-control': 'no-cache',
      });
    }
    const script = await raw(server, '/ui/app.js');
    expect(script).toMatchObject({ status: 200, body: 'document.title = "piko";\n', headers: expect.objectContaining({ 'content-type': 'text/javascript; charset=utf-8', 'content-security-policy': CSP }) });
    expect((await raw(server, '/ui/app.css')).headers['content-type']).toBe('text/css; charset=utf-8');
    // Nothing outside the folder, however the path is spelled.
    for (const path of ['/ui/missing.js', '/ui/../server.json', '/ui/..%2fserver.json', '/ui/%2e%2e%2f%2e%2e%2fpackage.json', '/server.json', '/ui/', '/ui/.', '/favicon.ico', '/state.db']) {
      const answer = await raw(server, path);
      expect({ path, status: answer.status }).toEqual({ path, status: 404 });
      expect(answer.body).not.toContain(server.token);
    }
    expect((await raw(server, '/', { method: 'POST' })).status).toBe(405);
    // A foreign Host (DNS rebinding) gets nothing, not even the page.
    expect((await raw(server, '/', { headers: { host: `rebound.example:${new URL(server.url).port}` } })).status).toBe(403);
  });

  it('says so when the build has no page', async () => {
    const box = sandbox();
    await initProject(box);
    const server = await startServer(box, { PIKO_UI_DIR: join(box.home, 'no-such-folder') });
    const answer = await raw(server, '/');
    expect(answer.status).toBe(404);
    expect(answer.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(answer.body).toMatch(/built without its dashboard/);
  });
});

describe("the dashboard's data", () => {
  it('lists branches (the checked-out one first) and an environment\'s operations, newest first', async () => {
    const box = sandbox();
    const repo = await initProject(box);
    const server = await startServer(box);
    git(repo, 'branch', 'zeta');
    git(repo, 'branch', 'alpha');
    git(repo, 'checkout', '-q', 'zeta');
    const signed = await signIn(server);
    const get = async (path: string) => {
      const answer = await raw(server, path, { headers: { ...signed } });
      return { status: answer.status, body: JSON.parse(answer.body) as unknown };
    };
    expect(await get('/api/projects/app/branches')).toEqual({ status: 200, body: ['zeta', 'alpha', 'main'] });
    expect(await get('/api/projects/ghost/branches')).toEqual({ status: 404, body: { error: 'no project named "ghost" is registered' } });
    git(repo, 'checkout', '-q', 'main');

    for (let i = 0; i < 2; i++) {
      const { messages } = await request(server, i === 0 ? 'create' : 'destroy', { action: i === 0 ? 'create' : 'destroy', project: 'app', environment: 'feat' });
      expect(messages.at(-1)).toMatchObject({ type: 'complete', success: true });
    }
    const listed = await get('/api/operations?project=app&environment=feat');
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual([
      expect.objectContaining({ kind: 'destroy', status: 'succeeded', environment: 'feat', id: expect.stringMatching(/^op_/) }),
      expect.objectContaining({ kind: 'create', status: 'succeeded', environment: 'feat', endedAt: expect.any(String) }),
    ]);
    expect((await get('/api/operations?project=app&environment=feat&limit=1')).body).toEqual([expect.objectContaining({ kind: 'destroy' })]);
    expect((await get('/api/operations?project=app&environment=other')).body).toEqual([]);
    expect((await get('/api/operations?project=app')).status).toBe(400);
    expect((await get('/api/operations?project=app&environment=feat&limit=0')).status).toBe(400);
    expect((await get('/api/operations?project=ghost&environment=feat')).status).toBe(404);
    expect((await get('/api/projects/app/branches')).body).toEqual(['main', 'alpha', 'feat', 'zeta']);
  });

  it('gives the overview: projects, their environments with the last operation and the marks', async () => {
    const box = sandbox();
    const repo = await initProject(box);
    const server = await startServer(box);
    const { messages } = await request(server, 'create', { action: 'create', project: 'app', environment: 'one' });
    expect(messages.at(-1)).toMatchObject({ type: 'complete', success: true });
    // Gone: its branch deleted behind piko's back.
    git(join(repo, '.piko', 'worktrees', 'one'), 'checkout', '-q', '--detach');
    git(repo, 'branch', '-D', 'one');
    const signed = await signIn(server);
    const answer = await raw(server, '/api/overview', { headers: { ...signed } });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({
      version: '0.1.0',
      projects: [
        {
          name: 'app',
          root: repo,
          environments: [
            expect.objectContaining({
              name: 'one',
              project: 'app',
              status: 'ready',
              branch: 'one',
              ports: [],
              marks: ['gone'],
              lastOperation: {
                id: expect.stringMatching(/^op_/),
                kind: 'create',
                status: 'succeeded',
                startedAt: expect.any(String),
                endedAt: expect.any(String),
                error: null,
                stage: null,
                durationMs: expect.any(Number),
              },
            }),
          ],
        },
      ],
    });
  });
});
