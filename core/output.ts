/**
 * Combines the writes of one turn of the event loop into one write to `stream`: a chunk of
 * child output that makes a thousand lines costs one system call, not a thousand. Nothing is
 * held back waiting for more: the flush runs as soon as the current I/O callbacks are done.
 */
export class CoalescingWriter {
  private parts: string[] = [];
  private scheduled = false;

  constructor(private readonly stream: NodeJS.WritableStream) {}

  readonly write = (text: string): void => {
    this.parts.push(text);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  };

  readonly flush = (): void => {
    this.scheduled = false;
    if (this.parts.length === 0) return;
    const text = this.parts.join('');
    this.parts = [];
    this.stream.write(text);
  };
}
