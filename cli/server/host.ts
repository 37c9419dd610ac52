// `piko server`: a node:http server that runs operations and streams them to WebSocket and SSE
// clients, and serves the dashboard. Here: what it is made of, its start and its stop. Where each
// request goes is ./dispatch.ts; the operations themselves come from ./runner.ts, the connection
// limit from ./connections.ts, the dashboard's stream of changes from ./changes.ts.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { PikoPlugin } from '../../core/engine/engine.js';
import { PikoError } from '../../core/errors.js';
import { readServerInfo, serverInfoPath, writeServerInfo, type ServerInfo } from '../../core/server-info.js';
import { processAlive } from '../../core/system/process.js';
import { State } from '../../core/state/state.js';
import { builtinStagePlugins } from '../../stages/index.js';
import type { ChannelOptions } from '../../transports/channel.js';
import type { GuardOptions } from '../../transports/guard.js';
import { OperationHub } from '../../transports/hub.js';
import { hostsFor, serverUrl } from './addresses.js';
import type { ApiContext } from './api.js';
import { ChangeFeed } from './changes.js';
import { ConnectionLimit } from './connections.js';
import { answerRequest, answerUpgrade, type Dispatch } from './dispatch.js';
import { ServerLogPlugin, type ServerLogOutput } from './log.js';
import { SESSION_TTL_MS, withDefaults, type ResolvedOptions, type ServerOptions } from './options.js';
import { OperationRunner } from './runner.js';
import { DashboardAuth } from './ui-auth.js';
import { WebSocketEndpoints } from './upgrade.js';

/** How often the dashboard's quiet stream of changes gets a comment, at most. */
const EVENTS_KEEP_ALIVE_MS = 15_000;

export type { ServerOptions } from './options.js';

export class PikoServer {
  readonly state: State;
  private readonly options: ResolvedOptions;
  private readonly out: ServerLogOutput;
  private readonly runner: OperationRunner;
  private readonly http: Server;
  private readonly websockets: WebSocketEndpoints;
  private readonly api: ApiContext;
  private readonly dispatch: Dispatch;
  private readonly token = randomBytes(32).toString('hex');
  private readonly connections: ConnectionLimit;
  private readonly feed: ChangeFeed;
  private readonly auth: DashboardAuth;
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
    this.feed = new ChangeFeed({
      state: this.state,
      home: options.home,
      version: this.options.version,
      log: (line) => this.log(line),
      keepAliveMs: Math.min(EVENTS_KEEP_ALIVE_MS, this.options.pingIntervalMs),
    });
    this.auth = new DashboardAuth({ codeTtlMs: this.options.codeTtlMs, sessionTtlMs: SESSION_TTL_MS });
    this.runner = new OperationRunner({
      state: this.state,
      home: options.home,
      hub,
      plugins: [...builtinStagePlugins(), hub, new ServerLogPlugin(output), this.feed, ...plugins],
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
      feed: this.feed,
      auth: this.auth,
      url: () => this.info!.url,
    };
    this.dispatch = {
      api: this.api,
      websockets: this.websockets,
      guard: () => this.guard!,
      uiDir: this.options.uiDir,
      auth: this.auth,
      log: (line) => this.log(line),
      closing: () => this.closing !== undefined,
    };
    // A client that is slow to send its headers is dropped soon (checked every second), not after Node's minute.
    const { headersTimeoutMs } = this.options;
    this.http = createServer(
      { headersTimeout: headersTimeoutMs, requestTimeout: Math.max(headersTimeoutMs, 30_000), connectionsCheckingInterval: Math.min(1000, headersTimeoutMs) },
      (req, res) => {
        if (this.connections.dropped(req.socket)) return;
        // Until its answer is done (an SSE stream: until it ends), the connection is not evicted to make room.
        res.once('close', this.connections.working(req.socket));
        this.guarded(`${req.method} ${req.url}`, () => answerRequest(req, res, this.dispatch), () => res.writeHead(500).end());
      },
    );
    this.http.on('connection', (socket: Socket) => this.connections.admit(socket));
    this.http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (this.connections.dropped(socket)) return;
      this.guarded(`${req.method} ${req.url}`, () => answerUpgrade(req, socket, head, this.dispatch), () => socket.destroy());
    });
  }

  private log(line: string): void {
    this.out.write(`${line}\n`);
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
    this.guard = { token: this.token, hosts: hostsFor(host), port: address.port, session: (id, key) => this.auth.valid(id, key) };
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
    this.feed.stop();
    this.websockets.close(reason);
    this.http.closeAllConnections();
    if (readServerInfo(this.options.home)?.pid === process.pid) rmSync(serverInfoPath(this.options.home), { force: true });
    this.state.close();
  }

  /** The server's backpressure bounds, and batches when the client asked for them (`?batch=1`). */
  private channelOptions(url: URL): ChannelOptions {
    return { ...this.options.backpressure, batch: url.searchParams.get('batch') === '1' };
  }
}
