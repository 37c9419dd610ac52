// `piko server`: a node:http server that runs operations and streams them to WebSocket and SSE
// clients. Every request passes the guard (token, Origin, Host) before any work; what a request
// asks for comes from ./routes.ts, and the operations themselves from ./runner.ts.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { PikoPlugin } from '../../core/engine/engine.js';
import { PikoError } from '../../core/errors.js';
import type { OperationKind } from '../../core/protocol/messages.js';
import { rejection } from '../../core/protocol/rejection.js';
import { processAlive } from '../../core/system/process.js';
import { environmentInfo, State } from '../../core/state/state.js';
import { builtinStagePlugins } from '../../stages/index.js';
import type { ChannelOptions } from '../../transports/channel.js';
import { checkRequest, type GuardOptions } from '../../transports/guard.js';
import { OperationHub } from '../../transports/hub.js';
import { refuseEvents, SseChannel, startEventStream } from '../../transports/sse.js';
import { CLOSE, keepAlive, refuse, WebSocketChannel } from '../../transports/websocket.js';
import { readServerInfo, serverInfoPath, writeServerInfo, type ServerInfo } from '../../core/server-info.js';
import { hostsFor, serverUrl } from './addresses.js';
import { readBody, answerAndClose, sendJson } from './http.js';
import { ServerLogPlugin, type ServerLogOutput } from './log.js';
import { withDefaults, type ResolvedOptions, type ServerOptions } from './options.js';
import { requestUrl, route, routeTransport, sinceOf, type Route } from './routes.js';
import { OperationRunner } from './runner.js';

export type { ServerOptions } from './options.js';

export class PikoServer {
  readonly state: State;
  private readonly options: ResolvedOptions;
  private readonly out: ServerLogOutput;
  private readonly runner: OperationRunner;
  private readonly http: Server;
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  private readonly token = randomBytes(32).toString('hex');
  private readonly connections = new Set<Socket>();
  /** Connections answered 503 at once: whatever they send is not read as a request. */
  private readonly refused = new WeakSet<Duplex>();
  private guard: GuardOptions | undefined;
  private stopHeartbeat: (() => void) | undefined;
  private closing: Promise<void> | undefined;
  private startedAt = Date.now();
  info: ServerInfo | undefined;

  /** `plugins`: what every operation's engine gets after the built-in ones and before the project's own. */
  constructor(options: ServerOptions, plugins: PikoPlugin[] = []) {
    this.options = withDefaults(options);
    const output = this.options.output;
    this.out = output;
    this.state = new State(options.home);
    const hub = new OperationHub();
    this.runner = new OperationRunner({
      state: this.state,
      home: options.home,
      hub,
      plugins: [...builtinStagePlugins(), hub, new ServerLogPlugin(output), ...plugins],
      url: () => this.info?.url,
      log: (line) => this.log(line),
    });
    // A client that is slow to send its headers is dropped soon (checked every second), not after Node's minute.
    const { headersTimeoutMs } = this.options;
    this.http = createServer(
      { headersTimeout: headersTimeoutMs, requestTimeout: Math.max(headersTimeoutMs, 30_000), connectionsCheckingInterval: Math.min(1000, headersTimeoutMs) },
      (req, res) => {
        if (this.refused.has(req.socket)) return;
        this.guarded(`${req.method} ${req.url}`, () => this.onRequest(req, res), () => res.writeHead(500).end());
      },
    );
    this.http.on('connection', (socket: Socket) => this.admit(socket));
    this.http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (this.refused.has(socket)) return;
      this.guarded(`${req.method} ${req.url}`, () => this.onUpgrade(req, socket, head), () => socket.destroy());
    });
    this.wss.on('connection', (socket) => socket.on('error', () => undefined));
  }

  /** Past the connection limit, a new connection gets a 503 and is closed before it can ask anything. */
  private admit(socket: Socket): void {
    if (this.connections.size < this.options.maxConnections) {
      this.connections.add(socket);
      socket.once('close', () => this.connections.delete(socket));
      return;
    }
    this.refused.add(socket);
    answerAndClose(socket, 503, `the server has ${this.connections.size} connections open, its limit: close some and try again`);
    // A client that never closes its end does not keep the socket: it has a second to read the answer.
    setTimeout(() => socket.destroy(), 1000).unref();
    this.log(`connection from ${socket.remoteAddress ?? '?'} refused: ${this.connections.size} connections open`);
  }

  /**
   * Why the server takes nothing more, when its state database is no longer the file at its path:
   * the CLI would make a new one there, and the two would disagree for good.
   */
  private stateProblem(): string | undefined {
    const problem = this.state.replaced();
    return problem && `${problem}: this server takes no more requests; stop it and start it again (it then opens the file at that path)`;
  }

  private log(line: string): void {
    this.out.write(`${line}\n`);
  }

  private access(method: string | undefined, path: string, status: number, transport: string, started: number): void {
    this.log(`${method ?? '?'} ${path} ${status} ${transport} ${Date.now() - started}ms`);
  }

  /** Whatever a request does, the server stays up. */
  private guarded(what: string, handle: () => void, fail: () => void): void {
    try {
      handle();
    } catch (err) {
      this.log(`${what}: internal error: ${(err as Error).message}`);
      fail();
    }
  }

  /** Listens, writes server.json, and marks what a dead server left running as failed. */
  async start(): Promise<ServerInfo> {
    const { home, host, port } = this.options;
    const other = readServerInfo(home);
    if (other && other.pid !== process.pid && processAlive(other.pid)) {
      throw new PikoError('PIKO_ERR_SERVER_RUNNING', `a piko server already runs for ${home} (pid ${other.pid}, ${other.url})`);
    }
    for (const op of this.state.failInterruptedOperations()) {
      this.log(`${op.id} ${op.kind} ${op.environment}: marked failed, its process (pid ${op.pid}) stopped while it ran`);
    }
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(port, host, () => {
        this.http.off('error', reject);
        resolve();
      });
    });
    const address = this.http.address() as AddressInfo;
    this.guard = { token: this.token, hosts: hostsFor(host), port: address.port };
    this.startedAt = Date.now();
    this.info = { url: serverUrl(host, address.port), token: this.token, pid: process.pid, startedAt: new Date().toISOString() };
    writeServerInfo(home, this.info);
    this.stopHeartbeat = keepAlive(this.wss, this.options.pingIntervalMs);
    return this.info;
  }

  /**
   * Stops accepting, lets running operations finish (cancelling those still running after the
   * shutdown timeout, which rolls them back), closes the remaining sockets with a reason and
   * removes server.json.
   */
  stop(reason = 'server shutting down'): Promise<void> {
    this.closing ??= this.shutdown(reason);
    return this.closing;
  }

  private async shutdown(reason: string): Promise<void> {
    this.http.close();
    await this.runner.drain(this.options.shutdownTimeoutMs);
    for (const socket of this.wss.clients) socket.close(CLOSE.GOING_AWAY, reason);
    this.stopHeartbeat?.();
    this.http.closeAllConnections();
    if (readServerInfo(this.options.home)?.pid === process.pid) rmSync(serverInfoPath(this.options.home), { force: true });
    this.state.close();
  }

  // ---- HTTP --------------------------------------------------------------------------------

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const started = Date.now();
    const url = requestUrl(req.url);
    if (!url) {
      sendJson(res, 400, { error: 'not a URL this server understands' });
      this.access(req.method, '?', 400, 'http', started);
      return;
    }
    const target = route(url.pathname);
    const transport = routeTransport(target) === 'sse' ? 'sse' : 'http';
    res.on('finish', () => this.access(req.method, url.pathname, res.statusCode, transport, started));
    res.on('close', () => {
      if (!res.writableFinished) this.access(req.method, url.pathname, res.statusCode, `${transport} (client gone)`, started);
    });
    const send = (status: number, body: unknown): void => sendJson(res, status, body);
    const verdict = checkRequest(req.headers, this.guard!);
    if (!verdict.ok) return send(verdict.status, { error: verdict.reason });
    const broken = this.stateProblem();
    if (broken) return send(503, { ok: false, error: broken });
    if (routeTransport(target) === 'websocket') return send(426, { error: `${url.pathname} speaks WebSocket: send an Upgrade request` });
    const method = target.kind === 'start' || target.kind === 'cancel' ? 'POST' : 'GET';
    if (target.kind !== 'unknown' && req.method !== method) return send(405, { error: `${req.method} is not allowed on ${url.pathname}: use ${method}` });
    this.answer(target, url, req, res, send);
  }

  private answer(target: Route, url: URL, req: IncomingMessage, res: ServerResponse, send: (status: number, body: unknown) => void): void {
    const { runner } = this;
    switch (target.kind) {
      case 'health':
        return send(200, { ok: true, version: this.options.version, pid: process.pid, uptimeMs: Date.now() - this.startedAt, operations: runner.size });
      case 'projects':
        return send(200, this.state.listProjects());
      case 'environments':
        return send(200, this.state.listEnvironments().map(environmentInfo));
      case 'operation':
        return runner.knows(target.operation) ? send(200, this.state.operation(target.operation)) : send(404, { error: `no operation ${target.operation}` });
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
        startEventStream(res, this.options.pingIntervalMs);
        if (target.kind === 'attach') {
          runner.reattach(target.operation, sinceOf(url, req.headers['last-event-id']), following(url), new SseChannel(target.operation, res, this.channelOptions(url)));
          return;
        }
        void readBody(req).then(
          (body) => runner.begin(body, target.action, (op) => new SseChannel(op, res, this.channelOptions(url)), (c) => refuseEvents(res, c)),
          (err: unknown) => refuseEvents(res, rejection(err)),
        );
        return;
      }
      case 'unknown':
        return send(404, { error: `no endpoint ${url.pathname}` });
    }
  }

  // ---- WebSocket ---------------------------------------------------------------------------

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const started = Date.now();
    socket.on('error', () => undefined);
    const url = requestUrl(req.url) ?? new URL('http://piko/?');
    const verdict = checkRequest(req.headers, this.guard!);
    const target = route(url.pathname);
    const broken = verdict.ok ? this.stateProblem() : undefined;
    const [status, error] = this.closing
      ? [503, 'the server is shutting down']
      : !verdict.ok
        ? [verdict.status, verdict.reason]
        : broken
          ? [503, broken]
          : routeTransport(target) !== 'websocket'
          ? [404, `no WebSocket endpoint ${url.pathname}`]
          : target.kind === 'attach' && !this.runner.knows(target.operation)
            ? [404, `no operation ${target.operation} on this server`]
            : [0, ''];
    if (status !== 0) {
      answerAndClose(socket, status, error);
      this.access(req.method, url.pathname, status, 'websocket', started);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.wss.emit('connection', ws, req);
      this.access(req.method, url.pathname, 101, 'websocket', started);
      const options = this.channelOptions(url);
      if (target.kind === 'attach') {
        this.runner.reattach(target.operation, sinceOf(url, req.headers['last-event-id']), following(url), new WebSocketChannel(target.operation, ws, options));
      } else if (target.kind === 'start') {
        this.awaitRequest(ws, target.action, options);
      }
    });
  }

  /** The server's backpressure bounds, and batches when the client asked for them (`?batch=1`). */
  private channelOptions(url: URL): ChannelOptions {
    return { ...this.options.backpressure, batch: url.searchParams.get('batch') === '1' };
  }

  private awaitRequest(ws: WebSocket, action: OperationKind, options: ChannelOptions): void {
    const timer = setTimeout(
      () => refuse(ws, rejection(new PikoError('PIKO_ERR_USAGE', `no request arrived within ${this.options.requestTimeoutMs / 1000}s`))),
      this.options.requestTimeoutMs,
    );
    ws.once('close', () => clearTimeout(timer));
    ws.once('message', (data: RawData, isBinary: boolean) => {
      clearTimeout(timer);
      if (isBinary) return refuse(ws, rejection(new PikoError('PIKO_ERR_USAGE', 'the request must be a JSON text frame')));
      this.runner.begin(String(data), action, (op) => new WebSocketChannel(op, ws, options), (c) => refuse(ws, c));
    });
  }
}

/** `?follow=false` replays the log and stops; otherwise a running operation is followed live. */
const following = (url: URL): boolean => url.searchParams.get('follow') !== 'false';
