import type { Sink } from './live-terminal.js';

export interface CoalescingWriterOptions {
  /**
   * Past this many bytes waiting for `stream`, `writeDroppable` text is dropped (and counted)
   * instead of queued, so a reader that falls behind cannot grow this process's memory.
   */
  maxBacklogBytes?: number;
  /** The line written when dropping stops, given how many writes were dropped. */
  droppedNotice?: (count: number) => string;
}

/**
 * Combines the writes of one turn of the event loop into one write to `stream`: a chunk of
 * child output that makes a thousand lines costs one system call, not a thousand. Nothing is
 * held back waiting for more: the flush runs as soon as the current I/O callbacks are done.
 */
export class CoalescingWriter implements Sink {
  private parts: string[] = [];
  private pendingBytes = 0;
  private scheduled = false;
  private dropped = 0;

  constructor(
    private readonly stream: NodeJS.WritableStream & { writableLength?: number },
    private readonly options: CoalescingWriterOptions = {},
  ) {}

  /** Bytes written but not yet taken by the reader. */
  backlog(): number {
    return this.pendingBytes + (this.stream.writableLength ?? 0);
  }

  readonly write = (text: string): void => {
    if (this.dropped > 0 && this.backlog() < (this.options.maxBacklogBytes ?? Infinity) / 2) {
      const count = this.dropped;
      this.dropped = 0;
      this.write(this.options.droppedNotice?.(count) ?? `[${count} lines not shown]\n`);
    }
    this.parts.push(text);
    this.pendingBytes += text.length;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  };

  /** Like `write`, but dropped while the reader is more than `maxBacklogBytes` behind. */
  readonly writeDroppable = (text: string): void => {
    if (this.backlog() > (this.options.maxBacklogBytes ?? Infinity)) {
      this.dropped++;
      return;
    }
    this.write(text);
  };

  readonly flush = (): void => {
    this.scheduled = false;
    if (this.parts.length === 0) return;
    const text = this.parts.join('');
    this.parts = [];
    this.pendingBytes = 0;
    this.stream.write(text);
  };
}
