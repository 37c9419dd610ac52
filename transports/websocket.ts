// The WebSocket transport: one JSON text frame per message, to each socket attached to an
// operation through the hub; the socket is closed after `complete`. It never sees a child
// process.
import type { WebSocket, WebSocketServer } from 'ws';
import { messageText } from '../core/protocol/message-text.js';
import type { CompleteFailureMessage, ServerMessage } from '../core/protocol/messages.js';
import { Channel, type ChannelOptions } from './channel.js';

/** Close codes the server uses (RFC 6455 section 7.4). */
export const CLOSE = { DONE: 1000, GOING_AWAY: 1001, BAD_REQUEST: 1008 } as const;

export class WebSocketChannel extends Channel {
  constructor(
    operation: string,
    private readonly socket: WebSocket,
    options: ChannelOptions = {},
  ) {
    super(operation, options);
  }

  get open(): boolean {
    return this.socket.readyState === this.socket.OPEN;
  }

  buffered(): number {
    return this.socket.bufferedAmount;
  }

  protected write(message: ServerMessage): void {
    this.socket.send(messageText(message));
  }

  protected end(): void {
    this.socket.close(CLOSE.DONE, 'end of the operation');
  }

  onClose(listener: () => void): void {
    this.socket.once('close', listener);
  }
}

/** Answers a request that never became an operation, then closes. */
export function refuse(socket: WebSocket, complete: CompleteFailureMessage): void {
  if (socket.readyState !== socket.OPEN) return;
  socket.send(JSON.stringify(complete));
  // The reason goes in the close frame, which holds at most 123 bytes: the `complete` says the rest.
  socket.close(CLOSE.BAD_REQUEST, 'request refused');
}

/**
 * Pings every client each `intervalMs` and terminates one that did not answer the previous
 * ping, so a dead peer is noticed and a quiet operation keeps its connection. Returns a stop
 * function.
 */
export function keepAlive(server: WebSocketServer, intervalMs: number): () => void {
  const alive = new WeakMap<WebSocket, boolean>();
  server.on('connection', (socket) => {
    alive.set(socket, true);
    socket.on('pong', () => alive.set(socket, true));
  });
  const timer = setInterval(() => {
    for (const socket of server.clients) {
      if (alive.get(socket) === false) {
        socket.terminate();
        continue;
      }
      alive.set(socket, false);
      socket.ping();
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
