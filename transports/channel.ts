// One client's view of one operation, for the network transports. The operation never waits
// on a client: messages are queued on the client's socket, and when that queue stays above a
// bound for too long (or grows past a hard cap) further `log` lines to that client are dropped
// and counted. The client is told how many when it catches up (or just before `complete`); the
// operation's log keeps every line.
import type { OperationMessage, ServerMessage } from '../core/protocol.js';

export interface BackpressureOptions {
  /** Bytes queued for the client above which the slow-client clock starts. Default 1 MiB. */
  softLimitBytes?: number;
  /** How long the queue may stay above the soft limit before lines are dropped. Default 5000 ms. */
  slowClientMs?: number;
  /** Bytes queued above which lines are dropped at once, whatever the clock says. Default 8 MiB. */
  hardLimitBytes?: number;
}

export abstract class Channel {
  /** Log lines not sent since the last notice. */
  private dropped = 0;
  private dropping = false;
  private overSince: number | undefined;
  private readonly softLimit: number;
  private readonly slowMs: number;
  private readonly hardLimit: number;

  constructor(
    readonly operation: string,
    options: BackpressureOptions = {},
  ) {
    this.softLimit = options.softLimitBytes ?? 1024 * 1024;
    this.slowMs = options.slowClientMs ?? 5000;
    this.hardLimit = options.hardLimitBytes ?? 8 * 1024 * 1024;
  }

  /** Bytes queued for the client and not yet handed to the network. */
  abstract buffered(): number;
  /** Queues one message; never blocks. */
  protected abstract write(message: ServerMessage): void;
  abstract get open(): boolean;
  /** Ends the stream (after `complete`, or at the end of a replay). */
  abstract close(): void;
  /** Calls `listener` once the client's connection is gone, whoever closed it. */
  abstract onClose(listener: () => void): void;

  send(message: OperationMessage): void {
    if (!this.open) return;
    if (message.type === 'log' && this.shouldDrop()) {
      this.dropped++;
      return;
    }
    if (message.type === 'complete') this.reportDropped();
    this.write(message);
  }

  /**
   * Sends a message of a replay: never dropped, because the replay waits for the client (see
   * `caughtUp`) instead of racing ahead of it.
   */
  sendReplayed(message: OperationMessage): void {
    if (this.open) this.write(message);
  }

  /** Resolves once the client has taken what was queued for it (or is gone). */
  async caughtUp(): Promise<void> {
    while (this.open && this.buffered() > this.softLimit) await new Promise((resolve) => setTimeout(resolve, 20));
  }

  /** Counts log lines the client will not get, to be reported with the next notice. */
  countDropped(count: number): void {
    this.dropped += count;
  }

  private shouldDrop(): boolean {
    const buffered = this.buffered();
    if (buffered < this.softLimit) {
      this.overSince = undefined;
      if (this.dropping) {
        this.dropping = false;
        this.reportDropped();
      }
      return false;
    }
    if (this.dropping) return true;
    const now = Date.now();
    this.overSince ??= now;
    this.dropping = buffered >= this.hardLimit || now - this.overSince > this.slowMs;
    return this.dropping;
  }

  private reportDropped(): void {
    if (this.dropped === 0) return;
    this.write({ type: 'dropped', operation: this.operation, count: this.dropped });
    this.dropped = 0;
  }
}
