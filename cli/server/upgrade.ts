// The server's WebSocket side: an upgrade that passed the guard becomes a channel, either
// re-attached to an operation or waiting for the one request that starts one.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { PikoError } from '../../core/errors.js';
import type { OperationKind } from '../../core/protocol/messages.js';
import { rejection } from '../../core/protocol/rejection.js';
import type { ChannelOptions } from '../../transports/channel.js';
import { CLOSE, keepAlive, refuse, WebSocketChannel } from '../../transports/websocket.js';
import type { ConnectionLimit } from './connections.js';
import { following, sinceOf, type Route } from './routes.js';
import type { OperationRunner } from './runner.js';

/** RFC 6455's "Try Again Later": the server closed it to make room, not because of what it sent. */
const TRY_AGAIN_LATER = 1013;

export class WebSocketEndpoints {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  private stopHeartbeat: (() => void) | undefined;

  constructor(
    private readonly runner: OperationRunner,
    /** How long a new WebSocket may take to send its request. */
    private readonly requestTimeoutMs: number,
    private readonly connections: Pick<ConnectionLimit, 'working' | 'evictWith'>,
  ) {
    this.wss.on('connection', (socket) => socket.on('error', () => undefined));
  }

  /** Pings every client each `intervalMs`; one that misses a pong is dropped. */
  startHeartbeat(intervalMs: number): void {
    this.stopHeartbeat = keepAlive(this.wss, intervalMs);
  }

  /** Completes the upgrade of a request the host let through, for `target` (an attach or a start). */
  accept(req: IncomingMessage, socket: Duplex, head: Buffer, target: Route, url: URL, options: ChannelOptions, accepted: () => void): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.wss.emit('connection', ws, req);
      accepted();
      if (target.kind === 'attach') {
        // Following an operation is work from the start, and stays so until the socket closes.
        this.connections.working(socket);
        this.runner.reattach(target.operation, sinceOf(url, req.headers['last-event-id']), following(url), new WebSocketChannel(target.operation, ws, options));
      } else if (target.kind === 'start') {
        this.connections.evictWith(socket, () => this.evict(ws));
        this.awaitRequest(ws, socket, target.action, options);
      }
    });
  }

  /** Closes every client with `reason` and stops pinging. */
  close(reason: string): void {
    for (const socket of this.wss.clients) socket.close(CLOSE.GOING_AWAY, reason);
    this.stopHeartbeat?.();
  }

  /** Closes a WebSocket that has not sent its request yet, to make room for a new connection. */
  private evict(ws: WebSocket): void {
    if (ws.readyState !== ws.OPEN) return;
    const error = new PikoError(
      'PIKO_ERR_USAGE',
      'closed to make room for a new connection: the server was at its connection limit and this one had not sent its request; send it as soon as the socket opens',
    );
    ws.send(JSON.stringify(rejection(error)));
    ws.close(TRY_AGAIN_LATER, 'the server is full: try again');
  }

  private awaitRequest(ws: WebSocket, socket: Duplex, action: OperationKind, options: ChannelOptions): void {
    const timer = setTimeout(
      () => refuse(ws, rejection(new PikoError('PIKO_ERR_USAGE', `no request arrived within ${this.requestTimeoutMs / 1000}s`))),
      this.requestTimeoutMs,
    );
    ws.once('close', () => clearTimeout(timer));
    ws.once('message', (data: RawData, isBinary: boolean) => {
      clearTimeout(timer);
      // Evicted (or timed out) while the request was on its way: it must not start an operation.
      if (ws.readyState !== ws.OPEN) return;
      if (isBinary) return refuse(ws, rejection(new PikoError('PIKO_ERR_USAGE', 'the request must be a JSON text frame')));
      const done = this.connections.working(socket);
      this.runner.begin(
        String(data),
        action,
        (op) => new WebSocketChannel(op, ws, options),
        (c) => {
          refuse(ws, c);
          // Refused, it only waits for the client to close: its slot may go to someone else.
          done();
        },
      );
    });
  }
}
