// `piko server`: a node:http server that runs operations (each on an engine of its own) and
// streams them to WebSocket and SSE clients. Every request passes the guard (token, Origin,
// Host) before any work.
import { randomBytes } from 'node:crypto';
import { chmodSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { Engine, type PikoPlugin } from '../../core/engine/engine.js';
import { PikoError } from '../../core/errors.js';
import { CoalescingWriter } from '../terminal/output.js';
import { isOperationId, type Operation } from '../../core/engine/operation.js';
import { parseOperationRequest } from '../../core/protocol/requests.js';
import { prepareOperation, rejection, type Prepared } from '../../core/requests/prepare.js';
import { operationLogPath } from '../../core/paths.js';
import type { CompleteFailureMessage, CompleteMessage, OperationKind } from '../../core/protocol/messages.js';
import { processAlive } from '../../core/system/process.js';
import { readServerInfo, serverInfoPath, type ServerInfo } from '../server-info.js';
import { environmentInfo, State } from '../../core/state/state.js';
import { builtinStagePlugins } from '../../stages/index.js';
import type { BackpressureOptions, Channel, ChannelOptions } from '../../transports/channel.js';
import { checkRequest, LOOPBACK_HOSTS, type GuardOptions } from '../../transports/guard.js';
import { ServerLogPlugin, type ServerLogOutput } from './log.js';
import { OperationHub } from '../../transports/hub.js';
import { refuseEvents, SseChannel, startEventStream } from '../../transports/sse.js';
import { CLOSE, keepAlive, refuse, WebSocketChannel } from '../../transports/websocket.js';

export const DEFAULT_PORT = 19876;
export const DEFAULT_HOST = '127.0.0.1';

export interface ServerOptions {
  home: string;
  /** Default 127.0.0.1. Anything else makes the server reachable from other machines. */
  host?: string;
  /** Default 19876; 0 picks a free port. */
  port?: number;
  /** How often clients are pinged; one that misses a pong is dropped. Default 30000 ms. */
  pingIntervalMs?: number;
  /** How long a shutdown waits for running operations before cancelling them. Default 30000 ms. */
  shutdownTimeoutMs?: number;
  /** How long a new WebSocket may take to send its request. Default 10000 ms. */
  requestTimeoutMs?: number;
  backpressure?: BackpressureOptions;
  /** Where the access log and operation output go. Default: process.stdout, dropping operation output it cannot keep up with. */
  output?: ServerLogOutput;
  version?: string;
}

/** `/api/environments/<action>/stream` (WebSocket) and `/api/environments/<action>/events` (SSE). */
const START_PATH = /^\/api\/environments\/(create|destroy|up|down|restart)\/(stream|events)$/;
/** `/api/operations/<id>`, `…/stream` (WebSocket), `…/events` (SSE), `…/cancel`. */
const OPERATION_PATH = /^\/api\/operations\/([^/]+)(?:\/(stream|events|cancel))?$/;

type Route =
  | { kind: 'start'; action: OperationKind; transport: 'websocket' | 'sse' }
  | { kind: 'attach'; operation: string; transport: 'websocket' | 'sse' }
  | { kind: 'cancel'; operation: string }
  | { kind: 'operation'; operation: string }
  | { kind: 'health' | 'projects' | 'environments' }
  | { kind: 'unknown' };

function route(path: string): Route {
  const start = START_PATH.exec(path);
  if (start) return { kind: 'start', action: start[1] as OperationKind, transport: start[2] === 'stream' ? 'websocket' : 'sse' };
  const op = OPERATION_PATH.exec(path);
  if (op) {
    const operation = op[1]!;
    if (!op[2]) return { kind: 'operation', operation };
    if (op[2] === 'cancel') return { kind: 'cancel', operation };
    return { kind: 'attach', operation, transport: op[2] === 'stream' ? 'websocket' : 'sse' };
  }
  if (path === '/api/health') return { kind: 'health' };
  if (path === '/api/projects') return { kind: 'projects' };
  if (path === '/api/environments') return { kind: 'environments' };
  return { kind: 'unknown' };
}

/**
 * `since` from `?since=N` or a `Last-Event-ID` header, whichever is later (an EventSource that
 * reconnects sends its original URL with a newer Last-Event-ID): messages after it are replayed.
 */
function sinceOf(url: URL, req: IncomingMessage): number {
  const values = [url.searchParams.get('since'), req.headers['last-event-id']].map((raw) => Number(Array.isArray(raw) ? raw[0] : (raw ?? NaN)));
  return Math.max(-1, ...values.filter((n) => Number.isInteger(n)));
}

/** The request's URL; undefined for a request line no URL parser takes (`//[/`). */
function requestUrl(req: IncomingMessage): URL | undefined {
  try {
    const path = req.url ?? '/';
    return new URL(`http://piko${path.startsWith('/') ? path : `/${path}`}`);
  } catch {
    return undefined;
  }
}

const MAX_BODY_BYTES = 64 * 1024;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      // Past the limit the rest is read and thrown away, so the answer still gets through.
      if (body.length > MAX_BODY_BYTES) return;
      body += chunk;
      if (body.length > MAX_BODY_BYTES) reject(new PikoError('PIKO_ERR_USAGE', `the request body is larger than ${MAX_BODY_BYTES} bytes`));
    });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

/** The server's stdout: coalesced, and dropping operation output when its reader falls 4 MiB behind. */
export function serverOutput(): CoalescingWriter {
  return new CoalescingWriter(process.stdout, {
    maxBacklogBytes: 4 * 1024 * 1024,
    droppedNotice: (count) =>
      `[piko] ${count} lines of operation output were not printed here (this output fell behind); the operation logs have them\n`,
  });
}

export function isLoopback(host: string): boolean {
  return LOOPBACK_HOSTS.includes(host.replace(/^\[(.*)\]$/, '$1').toLowerCase());
}

/** Every name a client may use for a server bound to `host`. */
function hostsFor(host: string): string[] {
  if (isLoopback(host)) return LOOPBACK_HOSTS;
  const names = new Set([...LOOPBACK_HOSTS, host.toLowerCase(), hostname().toLowerCase()]);
  if (host === '0.0.0.0' || host === '::') {
    for (const addresses of Object.values(networkInterfaces())) {
      for (const address of addresses ?? []) names.add(address.address.toLowerCase());
    }
  }
  return [...names];
}

export class PikoServer {
  readonly state: State;
  /** Plugins every operation's engine gets, after the built-in ones and before the project's own. */
  private readonly plugins: PikoPlugin[];
  private readonly options: Required<Omit<ServerOptions, 'backpressure' | 'version'>> & { version: string };
  private readonly out: ServerLogOutput;
  private readonly hub = new OperationHub();
  private readonly backpressure: BackpressureOptions;
  private readonly http: Server;
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  private readonly running = new Map<string, { operation: Operation; done: Promise<CompleteMessage> }>();
  /** Requests being checked that may still become operations. */
  private preparing = 0;
  private readonly token = randomBytes(32).toString('hex');
  private guard: GuardOptions | undefined;
  private stopHeartbeat: (() => void) | undefined;
  private closing: Promise<void> | undefined;
  private startedAt = Date.now();
  info: ServerInfo | undefined;

  constructor(options: ServerOptions, plugins: PikoPlugin[] = []) {
    const output = options.output ?? serverOutput();
    this.out = output;
    this.options = {
      home: options.home,
      host: options.host ?? DEFAULT_HOST,
      port: options.port ?? DEFAULT_PORT,
      pingIntervalMs: options.pingIntervalMs ?? 30_000,
      shutdownTimeoutMs: options.shutdownTimeoutMs ?? 30_000,
      requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
      output,
      version: options.version ?? '0.0.0',
    };
    this.state = new State(options.home);
    this.backpressure = options.backpressure ?? {};
    this.plugins = [...builtinStagePlugins(), this.hub, new ServerLogPlugin(output), ...plugins];
    this.http = createServer((req, res) => this.onRequest(req, res));
    this.http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
    this.wss.on('connection', (socket) => socket.on('error', () => undefined));
  }

  private log(line: string): void {
    this.out.write(`${line}\n`);
  }

  private access(method: string | undefined, path: string, status: number, transport: string, started: number): void {
    this.log(`${method ?? '?'} ${path} ${status} ${transport} ${Date.now() - started}ms`);
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
    const urlHost = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
    this.guard = { token: this.token, hosts: hostsFor(host), port: address.port };
    this.startedAt = Date.now();
    this.info = { url: `http://${urlHost}:${address.port}`, token: this.token, pid: process.pid, startedAt: new Date().toISOString() };
    const path = serverInfoPath(home);
    writeFileSync(`${path}.tmp`, `${JSON.stringify(this.info, null, 2)}\n`, { mode: 0o600 });
    chmodSync(`${path}.tmp`, 0o600);
    renameSync(`${path}.tmp`, path);
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
    const busy = (): boolean => this.running.size > 0 || this.preparing > 0;
    if (busy()) {
      this.log(`waiting up to ${this.options.shutdownTimeoutMs / 1000}s for ${this.running.size + this.preparing} running operation(s)`);
      const deadline = Date.now() + this.options.shutdownTimeoutMs;
      // Requests still being checked become operations too: wait for those as well.
      while (busy() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      while (this.preparing > 0) await new Promise((resolve) => setTimeout(resolve, 50));
      for (const { operation } of this.running.values()) operation.cancel('the server shutting down');
      await Promise.all([...this.running.values()].map((r) => r.done));
    }
    for (const socket of this.wss.clients) socket.close(CLOSE.GOING_AWAY, reason);
    this.stopHeartbeat?.();
    this.http.closeAllConnections();
    const info = readServerInfo(this.options.home);
    if (info?.pid === process.pid) rmSync(serverInfoPath(this.options.home), { force: true });
    this.state.close();
  }

  // ---- HTTP --------------------------------------------------------------------------------

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    try {
      this.handleRequest(req, res);
    } catch (err) {
      // Whatever a request does, the server stays up.
      this.log(`${req.method} ${req.url}: internal error: ${(err as Error).message}`);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
      res.end();
    }
  }

  private handleRequest(req: IncomingMessage, res: ServerResponse): void {
    const started = Date.now();
    const url = requestUrl(req);
    if (!url) {
      res.writeHead(400, { 'content-type': 'application/json; charset=utf-8' }).end('{"error":"not a URL this server understands"}\n');
      this.access(req.method, '?', 400, 'http', started);
      return;
    }
    const target = route(url.pathname);
    const transport = (target.kind === 'start' || target.kind === 'attach') && target.transport === 'sse' ? 'sse' : 'http';
    res.on('finish', () => this.access(req.method, url.pathname, res.statusCode, transport, started));
    res.on('close', () => {
      if (!res.writableFinished) this.access(req.method, url.pathname, res.statusCode, `${transport} (client gone)`, started);
    });
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
      res.end(`${JSON.stringify(body)}\n`);
    };
    const verdict = checkRequest(req.headers, this.guard!);
    if (!verdict.ok) return send(verdict.status, { error: verdict.reason });
    const method = (allowed: string): boolean => {
      if (req.method === allowed) return true;
      send(405, { error: `${req.method} is not allowed on ${url.pathname}: use ${allowed}` });
      return false;
    };
    switch (target.kind) {
      case 'health':
        if (!method('GET')) return;
        return send(200, {
          ok: true,
          version: this.options.version,
          pid: process.pid,
          uptimeMs: Date.now() - this.startedAt,
          operations: this.running.size,
        });
      case 'projects':
        if (!method('GET')) return;
        return send(200, this.state.listProjects());
      case 'environments':
        if (!method('GET')) return;
        return send(200, this.state.listEnvironments().map(environmentInfo));
      case 'operation':
        if (!method('GET')) return;
        return this.knows(target.operation)
          ? send(200, this.state.operation(target.operation))
          : send(404, { error: `no operation ${target.operation}` });
      case 'cancel':
        if (!method('POST')) return;
        void readBody(req).then(
          (body) => {
            const { status, reply } = this.cancel(target.operation, body);
            send(status, reply);
          },
          (err: unknown) => send(400, { error: (err as Error).message }),
        );
        return;
      case 'start':
        if (target.transport === 'websocket') return send(426, { error: `${url.pathname} speaks WebSocket: send an Upgrade request` });
        if (!method('POST')) return;
        startEventStream(res, this.options.pingIntervalMs);
        void readBody(req).then(
          (body) => this.begin(body, target.action, (op) => new SseChannel(op, res, this.channelOptions(url)), (c) => refuseEvents(res, c)),
          (err: unknown) => refuseEvents(res, rejection(err)),
        );
        return;
      case 'attach':
        if (target.transport === 'websocket') return send(426, { error: `${url.pathname} speaks WebSocket: send an Upgrade request` });
        if (!method('GET')) return;
        if (!this.knows(target.operation)) return send(404, { error: `no operation ${target.operation} on this server` });
        startEventStream(res, this.options.pingIntervalMs);
        this.reattach(target.operation, url, req, new SseChannel(target.operation, res, this.channelOptions(url)));
        return;
      case 'unknown':
        return send(404, { error: `no endpoint ${url.pathname}` });
    }
  }

  /** Cancels a running operation; `body` may say who asks (`{"by": "…"}`). */
  private cancel(operation: string, body: string): { status: number; reply: object } {
    const running = this.running.get(operation);
    if (!running) {
      return this.knows(operation)
        ? { status: 409, reply: { error: `operation ${operation} is not running on this server (it is ${this.state.operation(operation)!.status})` } }
        : { status: 404, reply: { error: `no operation ${operation}` } };
    }
    let by = 'a cancel request to the server';
    try {
      const asked = (JSON.parse(body || '{}') as { by?: unknown }).by;
      if (typeof asked === 'string' && asked.trim() !== '') by = asked.slice(0, 200);
    } catch {
      // No (valid) body: who asked stays unnamed.
    }
    this.log(`${operation}: cancel requested by ${by}`);
    running.operation.cancel(by);
    return { status: 202, reply: { operation, cancelling: true } };
  }

  // ---- WebSocket ---------------------------------------------------------------------------

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    try {
      this.handleUpgrade(req, socket, head);
    } catch (err) {
      this.log(`${req.method} ${req.url}: internal error: ${(err as Error).message}`);
      socket.destroy();
    }
  }

  private handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const started = Date.now();
    socket.on('error', () => undefined);
    const url = requestUrl(req) ?? new URL('http://piko/?');
    const verdict = checkRequest(req.headers, this.guard!);
    const target = route(url.pathname);
    const streams = (target.kind === 'start' || target.kind === 'attach') && target.transport === 'websocket';
    const [status, error] = this.closing
      ? [503, 'the server is shutting down']
      : !verdict.ok
        ? [verdict.status, verdict.reason]
        : !streams
          ? [404, `no WebSocket endpoint ${url.pathname}`]
          : target.kind === 'attach' && !this.knows(target.operation)
            ? [404, `no operation ${target.operation} on this server`]
            : [0, ''];
    if (status !== 0) {
      const body = `${JSON.stringify({ error })}\n`;
      socket.end(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
      this.access(req.method, url.pathname, status, 'websocket', started);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.wss.emit('connection', ws, req);
      this.access(req.method, url.pathname, 101, 'websocket', started);
      if (target.kind === 'attach') {
        this.reattach(target.operation, url, req, new WebSocketChannel(target.operation, ws, this.channelOptions(url)));
      } else if (target.kind === 'start') {
        this.awaitRequest(ws, target.action, this.channelOptions(url));
      }
    });
  }

  /** The server's backpressure bounds, and batches when the client asked for them (`?batch=1`). */
  private channelOptions(url: URL): ChannelOptions {
    return { ...this.backpressure, batch: url.searchParams.get('batch') === '1' };
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
      this.begin(String(data), action, (op) => new WebSocketChannel(op, ws, options), (c) => refuse(ws, c));
    });
  }

  // ---- operations --------------------------------------------------------------------------

  /** Turns a request into a running operation streamed to the channel `open` makes, or refuses it. Never throws. */
  private begin(
    text: string,
    action: OperationKind,
    open: (operation: string) => Channel,
    refuseWith: (complete: CompleteFailureMessage) => void,
  ): void {
    this.preparing++;
    this.startOperation(text, action, open, refuseWith)
      .catch((err: unknown) => this.log(`${action} request: internal error: ${(err as Error).message}`))
      .finally(() => this.preparing--);
  }

  private async startOperation(
    text: string,
    action: OperationKind,
    open: (operation: string) => Channel,
    refuseWith: (complete: CompleteFailureMessage) => void,
  ): Promise<void> {
    let prepared: Prepared;
    try {
      if (this.closing) throw new PikoError('PIKO_ERR_USAGE', 'the server is shutting down');
      const request = parseOperationRequest(text, action);
      prepared = await prepareOperation(
        { state: this.state, home: this.options.home, engineFor: (project) => new Engine().use(...this.plugins, ...project) },
        request,
      );
    } catch (err) {
      const complete = rejection(err);
      this.log(`refused ${action} request: ${complete.error}`);
      refuseWith(complete);
      return;
    }
    const { engine, operation } = prepared;
    const channel = open(operation.id);
    this.hub.attach(operation.id, channel);
    channel.onClose(() => {
      if (this.running.has(operation.id)) this.log(`${operation.id}: a client disconnected; the operation goes on`);
    });
    const done = engine.run(operation).finally(() => this.running.delete(operation.id));
    this.running.set(operation.id, { operation, done });
  }

  private knows(operation: string): boolean {
    return isOperationId(operation) && this.state.operation(operation) !== undefined;
  }

  /** Replays an operation's log after `since` and, while it runs, follows it live. */
  private reattach(operation: string, url: URL, req: IncomingMessage, channel: Channel): void {
    const follow = url.searchParams.get('follow') !== 'false';
    this.hub
      .replay(operationLogPath(this.options.home, operation), sinceOf(url, req), channel, this.running.get(operation)?.operation, follow)
      .catch((err: unknown) => {
        this.log(`${operation}: replay failed: ${(err as Error).message}`);
        channel.close();
      });
  }
}
