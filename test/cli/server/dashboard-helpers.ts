// What the dashboard's tests share: raw HTTP requests with exactly the headers a browser would
// send (fetch will not send a Host or leave out its own), signing in as a browser does, and a
// follower of `/api/events` that parses the stream as EventSource would.
import { mkdirSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { createParser } from 'eventsource-parser';
import { tempDir } from '../../helpers/fixtures.js';
import type { RunningServer } from '../../helpers/server.js';

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One request with exactly `headers` (Host defaults to the server's), read to its end. */
export function raw(
  server: Pick<RunningServer, 'url'>,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string | object } = {},
): Promise<RawResponse> {
  const url = new URL(server.url);
  const body = init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, path, method: init.method ?? 'GET', headers: { host: url.host, ...init.headers }, setHost: false },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A folder standing in for dist/bin/ui/, as the page build leaves it. */
export function pageFixture(): string {
  const dir = join(tempDir('piko-ui-'), 'ui');
  mkdirSync(dir);
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>piko</title><link rel="stylesheet" href="/ui/app.css"><script type="module" src="/ui/app.js"></script>\n');
  writeFileSync(join(dir, 'app.js'), 'document.title = "piko";\n');
  writeFileSync(join(dir, 'app.css'), 'body { margin: 0 }\n');
  return dir;
}

/** The name of `server`'s session cookie (its port in it). */
export const cookieName = (server: Pick<RunningServer, 'url'>): string => `piko_ui_${new URL(server.url).port}`;

/** Asks for a code with the token, as `piko ui` does. */
export async function newCode(server: Pick<RunningServer, 'url' | 'token'>): Promise<{ code: string; url: string; expiresAt: string }> {
  const answer = await raw(server, '/api/ui/codes', { method: 'POST', headers: { authorization: `Bearer ${server.token}` } });
  if (answer.status !== 201) throw new Error(`POST /api/ui/codes answered ${answer.status}: ${answer.body}`);
  return JSON.parse(answer.body) as { code: string; url: string; expiresAt: string };
}

/** A signed-in page's credentials: the Cookie header the browser sends, and the key header the page adds. */
export interface Signed {
  cookie: string;
  'x-piko-key': string;
}

/** What a sign-in link answers with: the cookie it sets, and the key in the fragment of where it sends the browser. */
export function signedFrom(answer: RawResponse): Signed {
  if (answer.status !== 303) throw new Error(`the sign-in link answered ${answer.status}: ${answer.body}`);
  const key = /^\/#key=([0-9a-f]{64})$/.exec(String(answer.headers.location))?.[1];
  if (!key) throw new Error(`the sign-in link sent the browser to ${answer.headers.location}, without a key`);
  return { cookie: answer.headers['set-cookie']![0]!.split(';')[0]!, 'x-piko-key': key };
}

/** Signs in as a browser would: opens the link, keeps the cookie, and the page keeps the key. */
export async function signIn(server: Pick<RunningServer, 'url' | 'token'>): Promise<Signed> {
  const { url } = await newCode(server);
  return signedFrom(await raw(server, new URL(url).pathname + new URL(url).search, { headers: { 'sec-fetch-site': 'none' } }));
}

/** What a page of the server's own origin sends with its credentials. */
export const fromPage = (server: Pick<RunningServer, 'url'>, signed: Signed): Record<string, string> => ({
  ...signed,
  origin: new URL(server.url).origin,
  'sec-fetch-site': 'same-origin',
  'content-type': 'application/json',
});

export interface FeedEvent {
  id: string | undefined;
  event: string | undefined;
  data: any;
}

export interface Follower {
  status: Promise<number>;
  headers: Promise<IncomingHttpHeaders>;
  events: FeedEvent[];
  /** The body so far, comments included. */
  text(): string;
  /** Resolves with the first event (from the start) that `match` takes, once it has come. */
  waitFor(what: string, match: (event: FeedEvent) => boolean, timeoutMs?: number): Promise<FeedEvent>;
  /** Resolves once the raw body matches `pattern`. */
  waitForText(pattern: RegExp, timeoutMs?: number): Promise<void>;
  close(): void;
}

/** Follows `/api/events` with `headers`. */
export function follow(server: Pick<RunningServer, 'url'>, headers: Record<string, string>, path = '/api/events'): Follower {
  const url = new URL(server.url);
  const events: FeedEvent[] = [];
  let body = '';
  let ended = false;
  const wakers = new Set<() => void>();
  const wake = (): void => {
    for (const w of wakers) w();
  };
  const parser = createParser({
    onEvent: (e) => {
      events.push({ id: e.id, event: e.event, data: JSON.parse(e.data) });
      wake();
    },
  });
  let resolveStatus: (status: number) => void;
  const status = new Promise<number>((resolve) => (resolveStatus = resolve));
  let resolveHeaders: (headers: IncomingHttpHeaders) => void;
  const headersOf = new Promise<IncomingHttpHeaders>((resolve) => (resolveHeaders = resolve));
  const req = httpRequest({ host: url.hostname, port: url.port, path, headers: { host: url.host, ...headers }, setHost: false }, (res) => {
    resolveStatus(res.statusCode!);
    resolveHeaders(res.headers);
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      body += chunk;
      parser.feed(chunk);
      wake();
    });
    res.on('close', () => {
      ended = true;
      wake();
    });
  });
  req.on('error', () => {
    ended = true;
    resolveStatus(0);
    wake();
  });
  req.end();
  const until = <T>(what: string, check: () => T | undefined, timeoutMs: number): Promise<T> =>
    new Promise((resolve, reject) => {
      const settle = (): void => {
        const found = check();
        if (found !== undefined) done(() => resolve(found));
        else if (ended) done(() => reject(new Error(`the stream ended before ${what}; it had:\n${body}`)));
      };
      const done = (then: () => void): void => {
        wakers.delete(settle);
        clearTimeout(timer);
        then();
      };
      const timer = setTimeout(() => done(() => reject(new Error(`no ${what} within ${timeoutMs} ms; the stream had:\n${body}`))), timeoutMs);
      wakers.add(settle);
      settle();
    });
  return {
    status,
    headers: headersOf,
    events,
    text: () => body,
    waitFor: (what, match, timeoutMs = 30_000) => until(what, () => events.find(match), timeoutMs),
    waitForText: (pattern, timeoutMs = 30_000) => until(`text matching ${pattern}`, () => (pattern.test(body) ? true : undefined), timeoutMs).then(() => undefined),
    close: () => req.destroy(),
  };
}
