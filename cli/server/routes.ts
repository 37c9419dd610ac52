// What a request to `piko server` asks for, from its path and headers alone: pure functions,
// tested without a network.
import type { OperationKind } from '../../core/protocol/messages.js';

/** `/api/environments/<action>/stream` (WebSocket) and `/api/environments/<action>/events` (SSE). */
const START_PATH = /^\/api\/environments\/(create|destroy|up|down|restart)\/(stream|events)$/;
/** `/api/operations/<id>`, `…/stream` (WebSocket), `…/events` (SSE), `…/cancel`. */
const OPERATION_PATH = /^\/api\/operations\/([^/]+)(?:\/(stream|events|cancel))?$/;

export type StreamTransport = 'websocket' | 'sse';

/** `/api/projects/<name>/branches`. */
const BRANCHES_PATH = /^\/api\/projects\/([^/]+)\/branches$/;

export type Route =
  | { kind: 'start'; action: OperationKind; transport: StreamTransport }
  | { kind: 'attach'; operation: string; transport: StreamTransport }
  | { kind: 'cancel'; operation: string }
  | { kind: 'operation'; operation: string }
  | { kind: 'branches'; project: string }
  | { kind: 'health' | 'projects' | 'environments' | 'operations' | 'overview' | 'events' | 'codes' | 'logout' }
  | { kind: 'unknown' };

/** The routes that take a POST; every other takes a GET. */
const POSTED = new Set<Route['kind']>(['start', 'cancel', 'codes', 'logout']);
export const methodOf = (target: Route): 'POST' | 'GET' => (POSTED.has(target.kind) ? 'POST' : 'GET');

const FIXED: Readonly<Record<string, Route>> = {
  '/api/health': { kind: 'health' },
  '/api/projects': { kind: 'projects' },
  '/api/environments': { kind: 'environments' },
  '/api/operations': { kind: 'operations' },
  '/api/overview': { kind: 'overview' },
  '/api/events': { kind: 'events' },
  '/api/ui/codes': { kind: 'codes' },
  '/api/ui/logout': { kind: 'logout' },
};

export function route(path: string): Route {
  const start = START_PATH.exec(path);
  if (start) return { kind: 'start', action: start[1] as OperationKind, transport: start[2] === 'stream' ? 'websocket' : 'sse' };
  const op = OPERATION_PATH.exec(path);
  if (op) {
    const operation = op[1]!;
    if (!op[2]) return { kind: 'operation', operation };
    if (op[2] === 'cancel') return { kind: 'cancel', operation };
    return { kind: 'attach', operation, transport: op[2] === 'stream' ? 'websocket' : 'sse' };
  }
  const branches = BRANCHES_PATH.exec(path);
  if (branches) {
    try {
      return { kind: 'branches', project: decodeURIComponent(branches[1]!) };
    } catch {
      return { kind: 'unknown' };
    }
  }
  return Object.hasOwn(FIXED, path) ? FIXED[path]! : { kind: 'unknown' };
}

/** The transport a route streams over, or `http` for plain JSON answers. */
export const routeTransport = (target: Route): StreamTransport | 'http' =>
  target.kind === 'start' || target.kind === 'attach' ? target.transport : target.kind === 'events' ? 'sse' : 'http';

/** Whether a path is the dashboard's (its files, its sign-in link) rather than the API's. */
export const isPagePath = (path: string): boolean => !path.startsWith('/api/') && path !== '/api';

/**
 * `since` from `?since=N` or a `Last-Event-ID` header, whichever is later (an EventSource that
 * reconnects sends its original URL with a newer Last-Event-ID): messages after it are replayed.
 * -1 (everything) when neither is a whole number.
 */
export function sinceOf(url: URL, lastEventId: string | string[] | undefined): number {
  const values = [url.searchParams.get('since'), Array.isArray(lastEventId) ? lastEventId[0] : lastEventId].map((raw) =>
    raw === null || raw === undefined || raw.trim() === '' ? NaN : Number(raw),
  );
  return Math.max(-1, ...values.filter((n) => Number.isInteger(n)));
}

/** A request line's URL; undefined for one no URL parser takes (`//[/`). */
export function requestUrl(path: string | undefined): URL | undefined {
  try {
    const text = path ?? '/';
    return new URL(`http://piko${text.startsWith('/') ? text : `/${text}`}`);
  } catch {
    return undefined;
  }
}

/** `?follow=false` replays the log and stops; otherwise a running operation is followed live. */
export const following = (url: URL): boolean => url.searchParams.get('follow') !== 'false';
