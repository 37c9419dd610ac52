// The server's HTTP answers, once a request passed the guard: JSON for health, projects,
// environments and operations, a cancel, and operations started or re-attached as SSE streams.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { rejection } from '../../core/protocol/rejection.js';
import { environmentInfo, type State } from '../../core/state/state.js';
import type { ChannelOptions } from '../../transports/channel.js';
import { refuseEvents, SseChannel, startEventStream } from '../../transports/sse.js';
import { readBody, sendJson } from './http.js';
import { following, sinceOf, type Route } from './routes.js';
import type { OperationRunner } from './runner.js';

export interface ApiContext {
  state: State;
  runner: OperationRunner;
  version: string;
  uptimeMs(): number;
  pingIntervalMs: number;
  channelOptions(url: URL): ChannelOptions;
}

export function answerApi(target: Route, url: URL, req: IncomingMessage, res: ServerResponse, context: ApiContext): void {
  const { runner, state } = context;
  const send = (status: number, body: unknown): void => sendJson(res, status, body);
  switch (target.kind) {
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
