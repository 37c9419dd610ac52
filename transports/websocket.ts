// The WebSocket transport: carries an operation's messages, one JSON text frame each, to the
// sockets attached to it, and closes them after `complete`. It taps the engine's `message`
// hook and never sees a child process.
import type { WebSocket, WebSocketServer } from 'ws';
import type { Engine, PikoPlugin } from '../core/engine.js';
import type { CompleteFailureMessage, ServerMessage } from '../core/protocol.js';
import { Channel, type BackpressureOptions } from './channel.js';

const PLUGIN_NAME = 'WebSocketTransport';

/** Close codes the server uses (RFC 6455 section 7.4). */
export const CLOSE = { DONE: 1000, GOING_AWAY: 1001, BAD_REQUEST: 1008 } as const;

class WebSocketChannel extends Channel {
  constructor(
    operation: string,
    private readonly socket: WebSocket,
    options: BackpressureOptions,
  ) {
    super(operation, options);
  }

  get open(): boolean {
    return this.socket.readyState === this.socket.OPEN;
  }

  protected buffered(): number {
    return this.socket.bufferedAmount;
  }

  protected write(message: ServerMessage): void {
    this.socket.send(JSON.stringify(message));
  }

  close(): void {
    this.socket.close(CLOSE.DONE, 'operation complete');
  }
}

export class WebSocketTransport implements PikoPlugin {
  readonly name = PLUGIN_NAME;
  private readonly channels = new Map<string, Set<WebSocketChannel>>();

  constructor(private readonly options: BackpressureOptions = {}) {}

  apply(engine: Engine): void {
    engine.hooks.message.tap(PLUGIN_NAME, (message, operation) => {
      const channels = this.channels.get(operation.id);
      if (!channels) return;
      for (const channel of channels) channel.send(message);
      if (message.type === 'complete') {
        this.channels.delete(operation.id);
        for (const channel of channels) channel.close();
      }
    });
  }

  /** Sends every later message of `operation` to `socket`, then closes it after `complete`. */
  attach(operation: string, socket: WebSocket): void {
    const channel = new WebSocketChannel(operation, socket, this.options);
    const channels = this.channels.get(operation) ?? new Set();
    channels.add(channel);
    this.channels.set(operation, channels);
    socket.once('close', () => channels.delete(channel));
  }
}

/** Answers a request that never became an operation, then closes. */
export function refuse(socket: WebSocket, complete: CompleteFailureMessage): void {
  if (socket.readyState !== socket.OPEN) return;
  socket.send(JSON.stringify(complete));
  socket.close(CLOSE.BAD_REQUEST, complete.error.slice(0, 120));
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
