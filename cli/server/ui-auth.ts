// Signing a browser in to the dashboard without the token ever reaching it: `piko ui` (which
// has the token) asks for a one-time code, the browser opens `/ui/login?code=…` and trades it
// for a session in two halves: a cookie the page's script cannot read (HttpOnly), and a key the
// page keeps (given in the address's fragment, which no browser sends to a server). A request
// needs both. A browser sends a cookie of 127.0.0.1 to every port of 127.0.0.1, so whatever
// else listens there (another user's server, an app in a container) gets the cookie; the key
// it never sees. Codes and sessions live in this process only, so stopping the server signs
// every browser out.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { sessionCookieName } from '../../transports/guard.js';

export interface AuthOptions {
  /** How long a code may wait to be used. */
  codeTtlMs: number;
  /** How long a session lasts from its sign-in. */
  sessionTtlMs: number;
  now?: () => number;
}

/**
 * At most this many codes and sessions are kept (the oldest go first): a client that asks for
 * codes in a loop must not grow the server's memory.
 */
const MAX_KEPT = 256;

/**
 * Secrets are kept by their SHA-256 only: looking one up then takes a time that depends on the
 * digest of what was sent, not on how much of the secret it got right.
 */
const keyOf = (secret: string): string => createHash('sha256').update(secret).digest('hex');

/** What a sign-in gives: the cookie's session id and the page's key. */
export interface SignIn {
  session: string;
  key: string;
}

interface Session {
  expires: number;
  /** The digest of its page's key. */
  key: Buffer;
}

const HEX_64 = /^[0-9a-f]{64}$/;

export class DashboardAuth {
  /** Digest of a code → when it expires. */
  private readonly codes = new Map<string, number>();
  /** Digest of a session id → the session. */
  private readonly sessions = new Map<string, Session>();
  private readonly now: () => number;

  constructor(private readonly options: AuthOptions) {
    this.now = options.now ?? Date.now;
  }

  /** A new code, good for one sign-in until `expiresAt`. */
  newCode(): { code: string; expiresAt: Date } {
    const code = randomBytes(16).toString('hex');
    const expiresAt = this.now() + this.options.codeTtlMs;
    keep(this.codes, keyOf(code), expiresAt, this.now());
    return { code, expiresAt: new Date(expiresAt) };
  }

  /** Uses up `code`: a new session when it was a live code, undefined otherwise. */
  redeem(code: string): SignIn | undefined {
    if (!/^[0-9a-f]{32}$/.test(code)) return undefined;
    const digest = keyOf(code);
    const expires = this.codes.get(digest);
    // Used or not, a code that was tried once is gone.
    this.codes.delete(digest);
    if (expires === undefined || this.now() >= expires) return undefined;
    const session = randomBytes(32).toString('hex');
    const key = randomBytes(32).toString('hex');
    const now = this.now();
    keep(this.sessions, keyOf(session), { expires: now + this.options.sessionTtlMs, key: createHash('sha256').update(key).digest() }, now);
    return { session, key };
  }

  /** Whether `session` is a live session id and `key` its page's key. */
  valid(session: string, key: string): boolean {
    if (!HEX_64.test(session) || !HEX_64.test(key)) return false;
    const digest = keyOf(session);
    const live = this.sessions.get(digest);
    if (live === undefined) return false;
    if (this.now() >= live.expires) {
      this.sessions.delete(digest);
      return false;
    }
    return timingSafeEqual(live.key, createHash('sha256').update(key).digest());
  }

  /** Signs a session out. */
  drop(session: string): void {
    this.sessions.delete(keyOf(session));
  }
}

/** Adds `key`, dropping what has expired and then the oldest entries past MAX_KEPT. */
function keep<T extends number | { expires: number }>(map: Map<string, T>, key: string, value: T, now: number): void {
  for (const [k, v] of map) if ((typeof v === 'number' ? v : v.expires) <= now) map.delete(k);
  map.set(key, value);
  for (const k of map.keys()) {
    if (map.size <= MAX_KEPT) break;
    map.delete(k);
  }
}

/**
 * The session cookie: HttpOnly (the page's script never holds it), SameSite=Strict (another site
 * cannot make the browser send it), no Max-Age (gone when the browser closes; the server
 * forgets it after 12 hours or when it stops).
 */
export const sessionCookie = (port: number, session: string): string => `${sessionCookieName(port)}=${session}; HttpOnly; SameSite=Strict; Path=/`;

/** What signs a browser out: the same cookie, empty and expired. */
export const clearedCookie = (port: number): string => `${sessionCookieName(port)}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`;

/** The page a used, unknown or expired sign-in link shows: plain HTML, nothing inline (the CSP allows none). */
export const LOGIN_REFUSED_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>piko: sign-in link not valid</title></head>
<body>
<h1>This sign-in link does not work any more</h1>
<p>A link from <code>piko ui</code> signs you in once, within a minute of being made. This one was already used, has expired, or was made by a server that has stopped since.</p>
<p>Run <code>piko ui</code> again for a new one.</p>
</body>
</html>
`;
