// The server's HTTP answers, once a request passed the guard: JSON for health, projects,
// environments and operations, a cancel, and operations started or re-attached as SSE streams;
// for the dashboard, the overview and its stream of changes, branches, an environment's
// operations, and signing in and out.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { rejection } from '../../core/protocol/rejection.js';
import { environmentInfo, type State } from '../../core/state/state.js';
import { git } from '../../core/system/git.js';
import type { ChannelOptions } from '../../transports/channel.js';
import { API_HEADERS, type GuardVerdict } from '../../transports/guard.js';
import { refuseEvents, SseChannel, startEventStream } from '../../transports/sse.js';
import type { ChangeFeed } from './changes.js';
import { readBody, sendJson } from './http.js';
import { following, sinceOf, type Route } from './routes.js';
import type { OperationRunner } from './runner.js';
import { clearedCookie, type DashboardAuth } from './ui-auth.js';

export interface ApiContext {
  state: State;
  runner: OperationRunner;
  version: string;
  uptimeMs(): number;
  pingIntervalMs: number;
  channelOptions(url: URL): ChannelOptions;
  feed: ChangeFeed;
  auth: DashboardAuth;
  /** This server's URL (once it listens): sign-in links point at it. */
  url(): string;
}

/** How many operations `/api/operations` answers with at most, and by default. */
const MAX_OPERATIONS = 200;
const DEFAULT_OPERATIONS = 20;

export function answerApi(target: Route, url: URL, req: IncomingMessage, res: ServerResponse, context: ApiContext, verdict: GuardVerdict & { ok: true }): void {
  const { runner, state } = context;
  const send = (status: number, body: unknown): void => sendJson(res, status, body);
  const failed = (what: string) => (err: unknown): void => {
    if (res.headersSent) res.destroy();
    else send(503, { error: `${what}: ${(err as Error).message}` });
  };
  switch (target.kind) {
    case 'overview':
      void context.feed.overview().then((overview) => send(200, overview), failed('the overview could not be read from the state database'));
      return;
    case 'events':
      void context.feed.subscribe(req, res).catch(failed('the stream of changes could not start'));
      return;
    case 'branches':
      void branches(state, target.project).then(({ status, body }) => send(status, body), failed(`the branches of ${target.project} could not be listed`));
      return;
    case 'operations': {
      const project = url.searchParams.get('project');
      const environment = url.searchParams.get('environment');
      if (!project || !environment) return send(400, { error: 'say which environment: /api/operations?project=<project>&environment=<environment>[&limit=N]' });
      const limitText = url.searchParams.get('limit');
      const limit = limitText === null ? DEFAULT_OPERATIONS : Number(limitText);
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_OPERATIONS) return send(400, { error: `limit must be a whole number from 1 to ${MAX_OPERATIONS}, got ${JSON.stringify(limitText)}` });
      const row = state.projectByName(project);
      if (!row) return send(404, { error: `no project named ${JSON.stringify(project)} is registered` });
      return send(200, state.operationsOf(row.id, environment, limit));
    }
    case 'codes': {
      // A session must not mint sessions: codes are for whoever holds the token.
      if (verdict.by !== 'token') return send(403, { error: 'sign-in codes are made for `piko ui`, with the token in $PIKO_HOME/server.json' });
      const { code, expiresAt } = context.auth.newCode();
      return send(201, { code, url: `${context.url()}/ui/login?code=${code}`, expiresAt: expiresAt.toISOString() });
    }
    case 'logout':
      if (verdict.by === 'session') context.auth.drop(verdict.session);
      res.writeHead(204, { ...API_HEADERS, 'set-cookie': clearedCookie(Number(new URL(context.url()).port)) });
      res.end();
      return;
    case 'health':
      return send(200, { ok: true, version: context.version, pid: process.pid, uptimeMs: context.uptimeMs(), operations: runner.size });
    case 'projects':
      return send(200, state.listProjects());
    case 'environments':
      return send(200, state.listEnvironments().map(environmentInfo));
    case 'operation':
      return runner.knows(target.operation) ? send(200, state.operation(target.operation)) : send(404, { error: `no operation ${target.operation}` });
    case 'cancel':
      void readBody(req).then(
        (body) => {
          const { status, reply } = runner.cancel(target.operation, body);
          send(status, reply);
        },
        (err: unknown) => send(400, { error: (err as Error).message }),
      );
      return;
    case 'start':
    case 'attach': {
      if (target.kind === 'attach' && !runner.knows(target.operation)) return send(404, { error: `no operation ${target.operation} on this server` });
      startEventStream(res, context.pingIntervalMs);
      const options = context.channelOptions(url);
      if (target.kind === 'attach') {
        runner.reattach(target.operation, sinceOf(url, req.headers['last-event-id']), following(url), new SseChannel(target.operation, res, options));
        return;
      }
      void readBody(req).then(
        (body) => runner.begin(body, target.action, (op) => new SseChannel(op, res, options), (c) => refuseEvents(res, c)),
        (err: unknown) => refuseEvents(res, rejection(err)),
      );
      return;
    }
    case 'unknown':
      return send(404, { error: `no endpoint ${url.pathname}` });
  }
}

/** A project's local branches, the one its repository has checked out first. */
async function branches(state: State, name: string): Promise<{ status: number; body: unknown }> {
  const project = state.projectByName(name);
  if (!project) return { status: 404, body: { error: `no project named ${JSON.stringify(name)} is registered` } };
  const [heads, current] = await Promise.all([
    // lstrip, not :short, which prints heads/x for a branch a tag shares its name with.
    git(project.root, ['for-each-ref', '--format=%(refname:lstrip=2)', 'refs/heads']),
    git(project.root, ['symbolic-ref', '--quiet', 'HEAD']),
  ]);
  if (!heads.ok) {
    return { status: 500, body: { error: `git could not list the branches of ${project.root} (exit ${heads.code}): is the repository still there? \`piko doctor\` checks every project` } };
  }
  const all = heads.stdout.split('\n').filter(Boolean);
  const checkedOut = current.ok ? current.stdout.trim().replace(/^refs\/heads\//, '') : undefined;
  return { status: 200, body: checkedOut && all.includes(checkedOut) ? [checkedOut, ...all.filter((b) => b !== checkedOut)] : all };
}
