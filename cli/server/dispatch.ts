// Where each request to `piko server` goes. An API request passes the guard (Host, Origin, and
// the token or a dashboard session) before any work; what it asks for comes from ./routes.ts and
// is answered by ./api.ts (HTTP, SSE) or ./upgrade.ts (WebSocket). The dashboard's page goes to
// ./page-requests.ts. Every request ends in one line of the access log.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { State } from '../../core/state/state.js';
import { checkRequest, type GuardVerdict } from '../../transports/guard.js';
import { answerApi, type ApiContext } from './api.js';
import { answerAndClose, sendJson } from './http.js';
import { answerPage, type PageContext } from './page-requests.js';
import { isPagePath, methodOf, requestUrl, route, routeTransport, type Route } from './routes.js';
import type { WebSocketEndpoints } from './upgrade.js';

export interface Dispatch extends PageContext {
  api: ApiContext;
  websockets: WebSocketEndpoints;
  /** Whether the server is shutting down: it takes no new WebSocket clients then. */
  closing(): boolean;
}

export function answerRequest(req: IncomingMessage, res: ServerResponse, context: Dispatch): void {
  const started = Date.now();
  const access = (path: string, status: number, transport: string): void => logAccess(context, req.method, path, status, transport, started);
  const url = requestUrl(req.url);
  if (!url) {
    sendJson(res, 400, { error: 'not a URL this server understands' });
    access('?', 400, 'http');
    return;
  }
  const target = route(url.pathname);
  const transport = routeTransport(target) === 'sse' ? 'sse' : 'http';
  res.on('finish', () => access(url.pathname, res.statusCode, transport));
  res.on('close', () => {
    if (!res.writableFinished) access(url.pathname, res.statusCode, `${transport} (client gone)`);
  });
  if (isPagePath(url.pathname)) return answerPage(url, req, res, context);
  const send = (status: number, body: unknown): void => sendJson(res, status, body);
  const verdict = checkRequest(req.headers, context.guard(), { method: req.method });
  if (!verdict.ok) return send(verdict.status, { error: verdict.reason });
  const broken = stateProblem(context.api.state);
  if (broken) return send(503, { ok: false, error: broken });
  if (routeTransport(target) === 'websocket') return send(426, { error: `${url.pathname} speaks WebSocket: send an Upgrade request` });
  const method = methodOf(target);
  if (target.kind !== 'unknown' && req.method !== method) return send(405, { error: `${req.method} is not allowed on ${url.pathname}: use ${method}` });
  answerApi(target, url, req, res, context.api, verdict);
}

export function answerUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, context: Dispatch): void {
  const started = Date.now();
  socket.on('error', () => undefined);
  const url = requestUrl(req.url) ?? new URL('http://piko/?');
  const verdict = checkRequest(req.headers, context.guard(), { method: req.method, upgrade: true });
  const target = route(url.pathname);
  const [status, error] = upgradeRefusal(context, verdict, target, url);
  if (status !== 0) {
    answerAndClose(socket, status, error);
    logAccess(context, req.method, url.pathname, status, 'websocket', started);
    return;
  }
  context.websockets.accept(req, socket, head, target, url, context.api.channelOptions(url), () => logAccess(context, req.method, url.pathname, 101, 'websocket', started));
}

/** Why an upgrade is refused, as its status and error; status 0 when it is not. */
function upgradeRefusal(context: Dispatch, verdict: GuardVerdict, target: Route, url: URL): [number, string] {
  const broken = verdict.ok ? stateProblem(context.api.state) : undefined;
  return context.closing()
    ? [503, 'the server is shutting down']
    : !verdict.ok
      ? [verdict.status, verdict.reason]
      : broken
        ? [503, broken]
        : routeTransport(target) !== 'websocket'
          ? [404, `no WebSocket endpoint ${url.pathname}`]
          : target.kind === 'attach' && !context.api.runner.knows(target.operation)
            ? [404, `no operation ${target.operation} on this server`]
            : [0, ''];
}

/**
 * Why the server takes nothing more, when its state database is no longer the file at its path:
 * the CLI would make a new one there, and the two would disagree for good.
 */
function stateProblem(state: State): string | undefined {
  const problem = state.replaced();
  return problem && `${problem}: this server takes no more requests; stop it and start it again (it then opens the file at that path)`;
}

function logAccess(context: Dispatch, method: string | undefined, path: string, status: number, transport: string, started: number): void {
  context.log(`${method ?? '?'} ${path} ${status} ${transport} ${Date.now() - started}ms`);
}
