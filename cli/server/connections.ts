// How many connections `piko server` holds at once: past the limit, a new connection gets a 503
// and is closed before it can ask anything, so a flood of sockets cannot grow its memory.
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { answerAndClose } from './http.js';

export class ConnectionLimit {
  private readonly open = new Set<Socket>();
  /** Connections answered 503 at once: whatever they send is not read as a request. */
  private readonly refusedSockets = new WeakSet<Duplex>();

  constructor(
    private readonly max: number,
    private readonly log: (line: string) => void,
  ) {}

  /** Takes a new connection, or refuses it when `max` are open. */
  admit(socket: Socket): void {
    if (this.open.size < this.max) {
      this.open.add(socket);
      socket.once('close', () => this.open.delete(socket));
      return;
    }
    this.refusedSockets.add(socket);
    answerAndClose(socket, 503, `the server has ${this.open.size} connections open, its limit: close some and try again`);
    // A client that never closes its end does not keep the socket: it has a second to read the answer.
    setTimeout(() => socket.destroy(), 1000).unref();
    this.log(`connection from ${socket.remoteAddress ?? '?'} refused: ${this.open.size} connections open`);
  }

  /** Whether `socket` was refused (what it sends is then never handled). */
  refused(socket: Duplex): boolean {
    return this.refusedSockets.has(socket);
  }
}
