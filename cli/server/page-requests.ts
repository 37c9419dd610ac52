// The requests for the dashboard's page: its files (./static.ts) and its sign-in link
// (./ui-auth.ts). Of the guard they need only the Host check: they hold nothing secret, and the
// link is its own credential.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { checkHost, type GuardOptions } from '../../transports/guard.js';
import { PAGE_HEADERS, servePage } from './static.js';
import { LOGIN_REFUSED_PAGE, sessionCookie, type DashboardAuth } from './ui-auth.js';

export interface PageContext {
  /** The guard's settings, known once the server listens (before any request). */
  guard(): GuardOptions;
  /** Where the page's files are. */
  uiDir: string;
  auth: DashboardAuth;
  log(line: string): void;
}

export function answerPage(url: URL, req: IncomingMessage, res: ServerResponse, context: PageContext): void {
  const text = (status: number, body: string, headers: Record<string, string> = {}): void => {
    res.writeHead(status, { ...PAGE_HEADERS, 'content-type': 'text/plain; charset=utf-8', ...headers });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  const badHost = checkHost(req.headers, context.guard());
  if (badHost && !badHost.ok) return text(badHost.status, `${badHost.reason}\n`);
  if (req.method !== 'GET' && req.method !== 'HEAD') return text(405, `${req.method} is not allowed on ${url.pathname}: use GET\n`, { allow: 'GET, HEAD' });
  if (url.pathname === '/ui/login') return signIn(url, req, res, context);
  servePage(context.uiDir, url.pathname, req.method, res);
}

/** `/ui/login?code=…`: a live code becomes a session (a cookie, and a key for the page), once. */
function signIn(url: URL, req: IncomingMessage, res: ServerResponse, { auth, log, guard }: PageContext): void {
  const purpose = String(req.headers['sec-purpose'] ?? req.headers.purpose ?? '');
  // A browser fetching the link ahead of the person (a prefetch, a link preview) must not use it up.
  if (req.method !== 'GET' || /prefetch|prerender/i.test(purpose)) {
    res.writeHead(503, { ...PAGE_HEADERS, 'cache-control': 'no-store' });
    res.end();
    return;
  }
  const signedIn = auth.redeem(url.searchParams.get('code') ?? '');
  if (!signedIn) {
    res.writeHead(403, { ...PAGE_HEADERS, 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(LOGIN_REFUSED_PAGE);
    log('dashboard sign-in refused: the code was used, unknown or expired');
    return;
  }
  // The key in the fragment: the browser keeps it for the page, and sends it to no server.
  res.writeHead(303, { ...PAGE_HEADERS, location: `/#key=${signedIn.key}`, 'set-cookie': sessionCookie(guard().port, signedIn.session), 'cache-control': 'no-store' });
  res.end();
  log('a browser signed in to the dashboard');
}
