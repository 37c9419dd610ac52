// `piko server`: a node:http server that runs operations on one engine and streams them to
// WebSocket clients. Every request passes the guard (token, Origin, Host) before any work.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { Engine, type PikoPlugin } from '../core/engine.js';
import { PikoError } from '../core/errors.js';
import { CoalescingWriter } from '../core/output.js';
import type { Operation } from '../core/operation.js';
import { parseOperationRequest, prepareOperation, rejection } from '../core/operations.js';
import type { CompleteMessage, OperationKind } from '../core/protocol.js';
import { environmentInfo, processAlive, State } from '../core/state.js';
import { builtinStagePlugins } from '../stages/index.js';
import type { BackpressureOptions } from './channel.js';
import { checkRequest, LOOPBACK_HOSTS, type GuardOptions } from './guard.js';
import { ServerLogPlugin, type ServerLogOutput } from './server-log.js';
import { CLOSE, keepAlive, refuse, WebSocketTransport } from './websocket.js';

export const DEFAULT_PORT = 19876;
export const DEFAULT_HOST = '127.0.0.1';

/** What a client needs to reach the server; written to `$PIKO_HOME/server.json` (mode 0600). */
export interface ServerInfo {
  url: string;
  token: string;
  pid: number;
  startedAt: string;
}

export const serverInfoPath = (home: string): string => join(home, 'server.json');

export function readServerInfo(home: string): ServerInfo | undefined {
  try {
    return JSON.parse(readFileSync(serverInfoPath(home), 'utf8')) as ServerInfo;
  } catch {
    return undefined;
  }
}

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

const STREAM_PATH = /^\/api\/environments\/(create|destroy|up|down|restart)\/stream$/;

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
  readonly engine: Engine;
  private readonly options: Required<Omit<ServerOptions, 'backpressure' | 'version'>> & { version: string };
  private readonly out: ServerLogOutput;
  private readonly websocket: WebSocketTransport;
  private readonly http: Server;
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  private readonly running = new Map<string, { operation: Operation; done: Promise<CompleteMessage> }>();
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
    this.websocket = new WebSocketTransport(options.backpressure);
    this.engine = new Engine().use(...builtinStagePlugins(), this.websocket, new ServerLogPlugin(output), ...plugins);
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
    this.guard = { token: this.token, hosts: hostsFor(host) };
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
    const running = [...this.running.values()];
    if (running.length > 0) {
      this.log(`waiting up to ${this.options.shutdownTimeoutMs / 1000}s for ${running.length} running operation(s)`);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), this.options.shutdownTimeoutMs)));
      const outcome = await Promise.race([Promise.all(running.map((r) => r.done)), timeout]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        for (const { operation } of this.running.values()) operation.cancel('the server shutting down');
        await Promise.all([...this.running.values()].map((r) => r.done));
      }
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
    const started = Date.now();
    const path = new URL(req.url ?? '/', 'http://piko').pathname;
    res.on('finish', () => this.access(req.method, path, res.statusCode, 'http', started));
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
      res.end(`${JSON.stringify(body)}\n`);
    };
    const verdict = checkRequest(req.headers, this.guard!);
    if (!verdict.ok) return send(verdict.status, { error: verdict.reason });
    if (req.method !== 'GET') return send(405, { error: `${req.method} is not allowed on ${path}` });
    switch (path) {
      case '/api/health':
        return send(200, {
          ok: true,
          version: this.options.version,
          pid: process.pid,
          uptimeMs: Date.now() - this.startedAt,
          operations: this.running.size,
        });
      case '/api/projects':
        return send(200, this.state.listProjects());
      case '/api/environments':
        return send(200, this.state.listEnvironments().map(environmentInfo));
      default:
        if (STREAM_PATH.test(path)) return send(426, { error: `${path} speaks WebSocket: send an Upgrade request` });
        return send(404, { error: `no endpoint ${path}` });
    }
  }

  // ---- WebSocket ---------------------------------------------------------------------------

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const started = Date.now();
    socket.on('error', () => undefined);
    const path = new URL(req.url ?? '/', 'http://piko').pathname;
    const verdict = checkRequest(req.headers, this.guard!);
    const match = STREAM_PATH.exec(path);
    const [status, error] = this.closing
      ? [503, 'the server is shutting down']
      : !verdict.ok
        ? [verdict.status, verdict.reason]
        : !match
          ? [404, `no WebSocket endpoint ${path}`]
          : [0, ''];
    if (status !== 0) {
      const body = `${JSON.stringify({ error })}\n`;
      socket.end(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
      this.access(req.method, path, status, 'websocket', started);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.wss.emit('connection', ws, req);
      this.access(req.method, path, 101, 'websocket', started);
      this.onStream(ws, match![1] as OperationKind);
    });
  }

  private onStream(ws: WebSocket, action: OperationKind): void {
    const timer = setTimeout(
      () => refuse(ws, rejection(new PikoError('PIKO_ERR_USAGE', `no request arrived within ${this.options.requestTimeoutMs / 1000}s`))),
      this.options.requestTimeoutMs,
    );
    ws.once('close', () => clearTimeout(timer));
    ws.once('message', (data: RawData, isBinary: boolean) => {
      clearTimeout(timer);
      void this.begin(ws, action, data, isBinary);
    });
  }

  private async begin(ws: WebSocket, action: OperationKind, data: RawData, isBinary: boolean): Promise<void> {
    let operation: Operation;
    try {
      if (isBinary) throw new PikoError('PIKO_ERR_USAGE', 'the request must be a JSON text frame');
      if (this.closing) throw new PikoError('PIKO_ERR_USAGE', 'the server is shutting down');
      const request = parseOperationRequest(String(data), action);
      operation = await prepareOperation({ engine: this.engine, state: this.state, home: this.options.home }, request);
    } catch (err) {
      const complete = rejection(err);
      this.log(`refused ${action} request: ${complete.error}`);
      refuse(ws, complete);
      return;
    }
    this.websocket.attach(operation.id, ws);
    ws.once('close', (code) => {
      if (this.running.has(operation.id)) {
        this.log(`${operation.id}: client disconnected (code ${code}); the operation goes on`);
      }
    });
    const done = this.engine.run(operation).finally(() => this.running.delete(operation.id));
    this.running.set(operation.id, { operation, done });
  }
}
