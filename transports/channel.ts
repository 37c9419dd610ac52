// One client's view of one operation, for the network transports. The operation never waits
// on a client: messages are queued on the client's socket, and when that queue stays above a
// bound for too long (or grows past a hard cap) further log lines to that client are dropped
// and counted. The client is told how many when it catches up (or just before `complete`); the
// operation's log keeps every line.
//
// A client that asked for batches (`?batch=1`) gets log lines as `logs` messages: the engine's
// batches (the lines of one chunk of a command's output) as they are, and the single lines of
// one turn of the event loop joined, one per run of lines of one source and stream. Each batch's
// JSON text is made once for every client of the operation. Nothing waits for a batch to fill.
// A client that did not ask gets one `log` per line.
import type { LogMessage, OutputMessage, ServerMessage } from '../core/protocol/messages.js';
import { batchRuns, expandBatch, MAX_BATCH_BYTES } from '../core/protocol/batch.js';

export interface BackpressureOptions {
  /** Bytes queued for the client above which the slow-client clock starts. Default 1 MiB. */
  softLimitBytes?: number;
  /** How long the queue may stay above the soft limit before lines are dropped. Default 5000 ms. */
  slowClientMs?: number;
  /** Bytes queued above which lines are dropped at once, whatever the clock says. Default 8 MiB. */
  hardLimitBytes?: number;
}

export interface ChannelOptions extends BackpressureOptions {
  /** Send log lines as `logs` batches. */
  batch?: boolean;
}

/**
 * The batches of one flush, made once for every channel that flushes the same lines: the
 * clients of one operation get the same line objects and flush them in the same turn. Keyed by
 * the first line; the last and the count make sure it is the same run.
 */
const batchesByFirstLine = new WeakMap<LogMessage, { last: LogMessage; count: number; batches: OutputMessage[] }>();

function sharedBatches(lines: LogMessage[]): OutputMessage[] {
  const first = lines[0]!;
  const last = lines.at(-1)!;
  const known = batchesByFirstLine.get(first);
  if (known && known.last === last && known.count === lines.length) return known.batches;
  const batches = batchRuns(lines);
  batchesByFirstLine.set(first, { last, count: lines.length, batches });
  return batches;
}

export abstract class Channel {
  /** Log lines not sent since the last notice. */
  private dropped = 0;
  private dropping = false;
  private overSince: number | undefined;
  private readonly softLimit: number;
  private readonly slowMs: number;
  private readonly hardLimit: number;
  private readonly batch: boolean;
  /** Lines of this turn waiting to go out as batches, and whether they may be dropped. */
  private pending: LogMessage[] = [];
  private pendingBytes = 0;
  private pendingDroppable = true;
  private scheduled = false;

  constructor(
    readonly operation: string,
    options: ChannelOptions = {},
  ) {
    this.softLimit = options.softLimitBytes ?? 1024 * 1024;
    this.slowMs = options.slowClientMs ?? 5000;
    this.hardLimit = options.hardLimitBytes ?? 8 * 1024 * 1024;
    this.batch = options.batch ?? false;
  }

  /** Bytes queued for the client and not yet handed to the network. */
  abstract buffered(): number;
  /** Queues one message; never blocks. */
  protected abstract write(message: ServerMessage): void;
  abstract get open(): boolean;
  /** Ends the stream, at once. */
  protected abstract end(): void;
  /** Calls `listener` once the client's connection is gone, whoever closed it. */
  abstract onClose(listener: () => void): void;

  /**
   * Hands the network what the transport held back to send together. Called before the queue is
   * measured, so that a replay waits only for what the client has not taken.
   */
  protected flushWrites(): void {}

  /** Ends the stream (after `complete`, or at the end of a replay), after what is pending. */
  close(): void {
    this.flush();
    this.flushWrites();
    this.end();
  }

  send(message: OutputMessage): void {
    this.deliver(message, true);
  }

  /**
   * Sends a message of a replay: never dropped, because the replay waits for the client (see
   * `caughtUp`) instead of racing ahead of it.
   */
  sendReplayed(message: OutputMessage): void {
    this.deliver(message, false);
  }

  /**
   * Resolves once the client has taken what was queued for it, down to `limit` bytes (at most
   * the soft bound), or is gone.
   */
  async caughtUp(limit = this.softLimit): Promise<void> {
    this.flush();
    this.flushWrites();
    const bound = Math.min(limit, this.softLimit);
    while (this.open && this.buffered() > bound) await new Promise((resolve) => setTimeout(resolve, 20));
  }

  /** Counts log lines the client will not get, to be reported with the next notice. */
  countDropped(count: number): void {
    this.dropped += count;
  }

  private deliver(message: OutputMessage, droppable: boolean): void {
    if (!this.open) return;
    if (message.type === 'logs') {
      if (!this.batch) {
        for (const line of expandBatch(message)) this.deliver(line, droppable);
        return;
      }
      this.flush();
      if (droppable && this.shouldDrop()) this.dropped += message.count;
      else this.write(message);
      return;
    }
    if (message.type === 'log' && this.batch && message.encoding === undefined) {
      if (this.pendingDroppable !== droppable) this.flush();
      this.pendingDroppable = droppable;
      this.pending.push(message);
      this.pendingBytes += message.data.length;
      if (this.pendingBytes > MAX_BATCH_BYTES) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
      return;
    }
    // Whatever is not a batched line goes after the lines before it.
    this.flush();
    if (message.type === 'log' && droppable && this.shouldDrop()) {
      this.dropped++;
      return;
    }
    if (message.type === 'complete') this.reportDropped();
    this.write(message);
  }

  /** Sends the pending lines, one `logs` message per run of one source and stream. */
  private flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const lines = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    if (!this.open) return;
    if (this.pendingDroppable && this.shouldDrop()) {
      this.dropped += lines.length;
      return;
    }
    for (const message of sharedBatches(lines)) this.write(message);
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
