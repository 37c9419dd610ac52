// Who may talk to `piko server`. The threat is a web page in the user's browser: it can open a
// WebSocket to localhost (cross-site WebSocket hijacking), send it requests (CSRF), or reach it
// under a name it controls (DNS rebinding). So a request must name the server by a host it
// answers to, must not come from a foreign Origin, and must carry either the token from
// $PIKO_HOME/server.json (the CLI) or the dashboard's session: its cookie and its page's key
// (cli/server/ui-auth.ts). A browser attaches that cookie to whatever asks for the server, and
// sends it to every port of the host, so a request signed in by the cookie is taken only when
// the browser says it comes from the server's own page, and with the key only that page has.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '::1'];

/**
 * The dashboard's session cookie of the server on `port` (see cli/server/ui-auth.ts). A browser
 * keeps a host's cookies whatever their port: two servers' cookies of one name would replace
 * each other, and sign each other's dashboards out.
 */
export const sessionCookieName = (port: number): string => `piko_ui_${port}`;
/** The header the dashboard's page sends its key in, with the cookie. */
export const KEY_HEADER = 'x-piko-key';

/**
 * What every answer of the API carries: nothing in it is for another origin to embed (as a
 * script, a style, a frame) or for a browser to take for another type than it says.
 */
export const API_HEADERS: Readonly<Record<string, string>> = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'cross-origin-resource-policy': 'same-origin',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
};

export interface GuardOptions {
  token: string;
  /** Host names (without port) the server answers to. */
  hosts: readonly string[];
  /** The port it listens on: a page served from another port of the same host is another origin. */
  port: number;
  /** Whether a dashboard session id is live and the key its page's; without it no cookie is honoured. */
  session?: (id: string, key: string) => boolean;
}

/** What the request is, as far as the cookie's rules go. */
export interface RequestKind {
  method?: string | undefined;
  /** A WebSocket upgrade: the browser sends it whatever page opens it, so it needs the Origin. */
  upgrade?: boolean;
}

export type GuardVerdict =
  | { ok: true; by: 'token' }
  | { ok: true; by: 'session'; session: string }
  | { ok: false; status: 401 | 403; reason: string };

/** What a browser (or anyone) gets without the token or a live session. */
export const SIGN_IN = 'sign in: run piko ui';

/** `localhost:8080` → `localhost`, `[::1]:8080` → `::1`. */
function hostName(host: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(host);
  if (bracketed) return bracketed[1]!.toLowerCase();
  return host.replace(/:\d+$/, '').toLowerCase();
}

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/** Compares two secrets in time that does not depend on where they differ. */
export const sameSecret = (given: string, expected: string): boolean => timingSafeEqual(digest(given), digest(expected));

/** The Host check alone (DNS rebinding): what even the page's files and the sign-in link need. */
export function checkHost(headers: IncomingHttpHeaders, options: Pick<GuardOptions, 'hosts'>): GuardVerdict | undefined {
  const host = headers.host;
  if (!host || !options.hosts.includes(hostName(host))) {
    return { ok: false, status: 403, reason: `Host ${JSON.stringify(host ?? '')} is not a name this server answers to` };
  }
  return undefined;
}

/** Every value the `name` cookie has in a Cookie header (another page of the same host may have set one too). */
export function cookieValues(header: string | undefined, name: string): string[] {
  if (!header) return [];
  return header
    .split(';')
    .map((pair) => pair.trim())
    .filter((pair) => pair.startsWith(`${name}=`))
    .map((pair) => pair.slice(name.length + 1));
}

export function checkRequest(headers: IncomingHttpHeaders, options: GuardOptions, request: RequestKind = {}): GuardVerdict {
  const badHost = checkHost(headers, options);
  if (badHost) return badHost;
  const origin = headers.origin;
  if (origin !== undefined) {
    // Only the server's own origin (scheme, host and port) may send one.
    let same = false;
    try {
      const url = new URL(origin);
      same = url.protocol === 'http:' && Number(url.port || 80) === options.port && options.hosts.includes(hostName(url.host));
    } catch {
      same = false;
    }
    if (!same) return { ok: false, status: 403, reason: `cross-origin request from ${origin} refused` };
  }
  if (headers.authorization !== undefined) {
    // The scheme is case-insensitive (RFC 7235), the token is not.
    const match = /^bearer +(\S+) *$/i.exec(headers.authorization);
    if (!match || !sameSecret(match[1]!, options.token)) {
      return { ok: false, status: 401, reason: 'missing or wrong token: send Authorization: Bearer <token from $PIKO_HOME/server.json>' };
    }
    return { ok: true, by: 'token' };
  }
  const cookies = options.session ? cookieValues(headers.cookie, sessionCookieName(options.port)) : [];
  if (cookies.length === 0) return { ok: false, status: 401, reason: SIGN_IN };
  const refused = crossSite(headers, request);
  if (refused) return { ok: false, status: 403, reason: refused };
  const key = headers[KEY_HEADER];
  if (typeof key !== 'string') {
    return { ok: false, status: 401, reason: `${SIGN_IN} (the dashboard's cookie goes with its page's key, in ${KEY_HEADER}: the page sends it, a WebSocket cannot)` };
  }
  const session = cookies.find((id) => options.session!(id, key));
  if (session === undefined) return { ok: false, status: 401, reason: `${SIGN_IN} (this browser's session has ended: the server restarted, 12 hours passed, or another sign-in took its place)` };
  return { ok: true, by: 'session', session };
}

/**
 * Why a request that carries the cookie may not be from the server's own page, if it may not.
 * A POST or an upgrade must say its Origin, exactly this server as the request names it; a GET
 * without one must not be marked by the browser as coming from another site (Sec-Fetch-Site
 * `same-site` is another port of the same host: a page of another origin all the same).
 */
function crossSite(headers: IncomingHttpHeaders, request: RequestKind): string | undefined {
  const site = headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    return `a request from another site (Sec-Fetch-Site: ${site}) cannot use the dashboard's sign-in`;
  }
  const origin = headers.origin;
  const unsafe = request.upgrade === true || !['GET', 'HEAD'].includes((request.method ?? 'GET').toUpperCase());
  if (origin === undefined) {
    return unsafe ? "a request that changes something must come from the dashboard's own page (it has no Origin header)" : undefined;
  }
  let own: string;
  try {
    own = new URL(`http://${headers.host}`).origin;
  } catch {
    return `cross-origin request from ${origin} refused`;
  }
  // Exact: http://localhost:PORT is not http://127.0.0.1:PORT, though both name this server.
  return origin.toLowerCase() === own ? undefined : `cross-origin request from ${origin} refused: the dashboard's requests come from ${own}`;
}
