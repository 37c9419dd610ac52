// Who may talk to `piko server`. The threat is a web page in the user's browser: it can open a
// WebSocket to localhost (cross-site WebSocket hijacking) or reach it under a name it controls
// (DNS rebinding). So a request must carry the token from $PIKO_HOME/server.json, must not come
// from a foreign Origin, and must name the server by a host it answers to.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '::1'];

export interface GuardOptions {
  token: string;
  /** Host names (without port) the server answers to. */
  hosts: readonly string[];
  /** The port it listens on: a page served from another port of the same host is another origin. */
  port: number;
}

export type GuardVerdict = { ok: true } | { ok: false; status: 401 | 403; reason: string };

/** `localhost:8080` → `localhost`, `[::1]:8080` → `::1`. */
function hostName(host: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(host);
  if (bracketed) return bracketed[1]!.toLowerCase();
  return host.replace(/:\d+$/, '').toLowerCase();
}

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

export function checkRequest(headers: IncomingHttpHeaders, options: GuardOptions): GuardVerdict {
  const host = headers.host;
  if (!host || !options.hosts.includes(hostName(host))) {
    return { ok: false, status: 403, reason: `Host ${JSON.stringify(host ?? '')} is not a name this server answers to` };
  }
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
  // The scheme is case-insensitive (RFC 7235), the token is not.
  const match = /^bearer +(\S+) *$/i.exec(headers.authorization ?? '');
  if (!match || !timingSafeEqual(digest(match[1]!), digest(options.token))) {
    return { ok: false, status: 401, reason: 'missing or wrong token: send Authorization: Bearer <token from $PIKO_HOME/server.json>' };
  }
  return { ok: true };
}
