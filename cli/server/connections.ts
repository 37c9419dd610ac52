// How many connections `piko server` holds at once, so a flood of sockets cannot grow its
// memory, without a flood of sockets that ask nothing locking real clients out. A connection
// is either working (a request being answered, an SSE stream, a WebSocket that sent its
// request or follows an operation) or idle (it has sent no complete request yet, or is a
// keep-alive connection between requests, or a WebSocket that has not sent its request).
// When all `max` slots are taken, a newcomer takes the slot of the connection idle the longest;
// only when every slot is working is it refused with a 503.
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { answerAndClose } from './http.js';

/** How long a connection told why it is closed has to read that before it is destroyed. */
const LINGER_MS = 1000;

interface Connection {
  socket: Duplex;
  /** Requests (or a WebSocket's operation) in progress: while above 0 it is never evicted. */
  work: number;
  /** Whether a request was answered on it: it is then a keep-alive connection between requests. */
  served: boolean;
  /** How it is closed when evicted, when not by the default. */
  evict?: () => void;
}

export class ConnectionLimit {
  private readonly open = new Map<Duplex, Connection>();
  /** The idle ones, longest idle first (a Set keeps insertion order). */
  private readonly idle = new Set<Connection>();
  /** Connections refused or evicted that are still reading why: bounded, so they too cannot pile up. */
  private readonly closing = new Set<Duplex>();
  /** Connections refused or evicted: whatever they send is not read as a request. */
  private readonly droppedSockets = new WeakSet<Duplex>();

  constructor(
    private readonly max: number,
    private readonly log: (line: string) => void,
  ) {}

  /** Takes a new connection, making room by evicting the longest idle one, or refuses it when all `max` are working. */
  admit(socket: Socket): void {
    if (this.open.size >= this.max) {
      const oldest = this.idle.values().next();
      if (oldest.done) return this.refuse(socket);
      this.evict(oldest.value);
    }
    const connection: Connection = { socket, work: 0, served: false };
    this.open.set(socket, connection);
    this.idle.add(connection);
    socket.once('close', () => {
      this.open.delete(socket);
      this.idle.delete(connection);
    });
  }

  /**
   * `socket` has a complete request (headers in, or a WebSocket's first message): it is not
   * evicted until the returned function is called (once its answer is done), or until it closes.
   */
  working(socket: Duplex): () => void {
    const connection = this.open.get(socket);
    if (!connection) return () => undefined;
    connection.work++;
    this.idle.delete(connection);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      connection.work--;
      connection.served = true;
      // Back of the queue: it is evicted after the connections idle longer than it.
      if (connection.work === 0 && this.open.has(socket)) this.idle.add(connection);
    };
  }

  /**
   * `socket` is no longer HTTP (an upgraded WebSocket waiting for its request): `evict` is how
   * it is closed to make room. It counts as a connection that has asked nothing yet.
   */
  evictWith(socket: Duplex, evict: () => void): void {
    const connection = this.open.get(socket);
    if (!connection) return;
    connection.evict = evict;
  }

  /** Whether `socket` was refused or evicted (what it sends is then never handled). */
  dropped(socket: Duplex): boolean {
    return this.droppedSockets.has(socket);
  }

  private refuse(socket: Socket): void {
    this.droppedSockets.add(socket);
    answerAndClose(socket, 503, `the server has ${this.open.size} connections open, its limit, all of them in use: try again once some have finished`);
    this.linger(socket);
    this.log(`connection from ${socket.remoteAddress ?? '?'} refused: ${this.open.size} connections open, all in use`);
  }

  private evict(connection: Connection): void {
    const { socket } = connection;
    this.open.delete(socket);
    this.idle.delete(connection);
    this.droppedSockets.add(socket);
    if (connection.evict) connection.evict();
    // Between requests, closing is what a keep-alive timeout does: clients expect it.
    else if (connection.served || socket.writableEnded) socket.end();
    // It may be a real client about to send its request: a 503 tells it why, where a bare close
    // would look like nobody listening (and the piko client would then run the operation itself).
    else answerAndClose(socket, 503, `closed to make room for a new connection: the server holds ${this.max} at most, and this one had not sent its request`);
    this.linger(socket);
  }

  /** Destroys `socket` after a moment to read why it is closed, or at once when `max` others are waiting to be. */
  private linger(socket: Duplex): void {
    this.closing.add(socket);
    socket.once('close', () => this.closing.delete(socket));
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
    if (this.closing.size > this.max) {
      const oldest = this.closing.values().next().value!;
      this.closing.delete(oldest);
      oldest.destroy();
    }
  }
}
