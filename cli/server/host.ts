// `piko server`: a node:http server that runs operations and streams them to WebSocket and SSE
// clients. Every request passes the guard (token, Origin, Host) before any work; what a request
// asks for comes from ./routes.ts and is answered by ./api.ts (HTTP, SSE) or ./upgrade.ts
// (WebSocket); the operations themselves come from ./runner.ts, the connection limit from
// ./connections.ts.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { PikoPlugin } from '../../core/engine/engine.js';
import { PikoError } from '../../core/errors.js';
import { readServerInfo, serverInfoPath, writeServerInfo, type ServerInfo } from '../../core/server-info.js';
import { processAlive } from '../../core/system/process.js';
import { State } from '../../core/state/state.js';
import { builtinStagePlugins } from '../../stages/index.js';
import type { ChannelOptions } from '../../transports/channel.js';
import { checkRequest, type GuardOptions } from '../../transports/guard.js';
import { OperationHub } from '../../transports/hub.js';
import { hostsFor, serverUrl } from './addresses.js';
import { answerApi, type ApiContext } from './api.js';
import { ConnectionLimit } from './connections.js';
import { answerAndClose, sendJson } from './http.js';
import { ServerLogPlugin, type ServerLogOutput } from './log.js';
import { withDefaults, type ResolvedOptions, type ServerOptions } from './options.js';
import { requestUrl, route, routeTransport } from './routes.js';
import { OperationRunner } from './runner.js';
import { WebSocketEndpoints } from './upgrade.js';

export type { ServerOptions } from './options.js';

export class PikoServer {
  readonly state: State;
  private readonly options: ResolvedOptions;
  private readonly out: ServerLogOutput;
  private readonly runner: OperationRunner;
  private readonly http: Server;
  private readonly websockets: WebSocketEndpoints;
  private readonly api: ApiContext;
  private readonly token = randomBytes(32).toString('hex');
  private readonly connections: ConnectionLimit;
  private guard: GuardOptions | undefined;
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
    this.connections = new ConnectionLimit(this.options.maxConnections, (line) => this.log(line));
    this.websockets = new WebSocketEndpoints(this.runner, this.options.requestTimeoutMs, this.connections);
    this.api = {
      state: this.state,
      runner: this.runner,
      version: this.options.version,
      uptimeMs: () => Date.now() - this.startedAt,
      pingIntervalMs: this.options.pingIntervalMs,
      channelOptions: (url) => this.channelOptions(url),
    };
    // A client that is slow to send its headers is dropped soon (checked every second), not after Node's minute.
    const { headersTimeoutMs } = this.options;
    this.http = createServer(
      { headersTimeout: headersTimeoutMs, requestTimeout: Math.max(headersTimeoutMs, 30_000), connectionsCheckingInterval: Math.min(1000, headersTimeoutMs) },
      (req, res) => {
        if (this.connections.dropped(req.socket)) return;
        // Until its answer is done (an SSE stream: until it ends), the connection is not evicted to make room.
        res.once('close', this.connections.working(req.socket));
        this.guarded(`${req.method} ${req.url}`, () => this.onRequest(req, res), () => res.writeHead(500).end());
      },
    );
    this.http.on('connection', (socket: Socket) => this.connections.admit(socket));
    this.http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (this.connections.dropped(socket)) return;
      this.guarded(`${req.method} ${req.url}`, () => this.onUpgrade(req, socket, head), () => socket.destroy());
    });
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
    this.websockets.startHeartbeat(this.options.pingIntervalMs);
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
    this.websockets.close(reason);
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
    answerApi(target, url, req, res, this.api);
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
    this.websockets.accept(req, socket, head, target, url, this.channelOptions(url), () => this.access(req.method, url.pathname, 101, 'websocket', started));
  }

  /** The server's backpressure bounds, and batches when the client asked for them (`?batch=1`). */
  private channelOptions(url: URL): ChannelOptions {
    return { ...this.options.backpressure, batch: url.searchParams.get('batch') === '1' };
  }
}
