// The stage-output adapter: the only bridge between a child process and the engine's events.
// Bytes in, lines out, tagged with the source and stream they were made for: the lines of one
// chunk as one `logs` batch (a lone line as a `log`), so what follows works per chunk of output,
// not per line.
import { isUtf8 } from 'node:buffer';
import { Writable } from 'node:stream';
import { MAX_BATCH_BYTES } from '../protocol/batch.js';
import { markPlain } from '../display/clean-line.js';
import type { LogBatchMessage, LogMessage, LogSource, StreamName, Unsequenced } from '../protocol/messages.js';

export type LogSink = (message: Unsequenced<LogMessage> | Unsequenced<LogBatchMessage>) => void;

export interface StreamWriterOptions {
  source: LogSource;
  stream: StreamName;
  sink: LogSink;
  /** A line longer than this is emitted in pieces, so a child that never prints a newline cannot grow memory. Default 64 KiB. */
  maxLineBytes?: number;
}

const NEWLINE = 0x0a;

/**
 * A line-buffered Writable: complete lines are emitted as they arrive (those of one chunk
 * together, in batches of at most MAX_BATCH_BYTES), the partial last line is
 * held until its newline comes or `flush()` is called (when the stage or command ends). Lines
 * that are not valid UTF-8 are emitted base64-encoded. One writer per (source, stream), so
 * stdout and stderr writing at once never mix inside a line.
 */
export class StreamWriter extends Writable {
  readonly source: LogSource;
  readonly stream: StreamName;
  private readonly sink: LogSink;
  private readonly maxLineBytes: number;
  private partial: Buffer | undefined;

  constructor(options: StreamWriterOptions) {
    super({ decodeStrings: true });
    this.source = options.source;
    this.stream = options.stream;
    this.sink = options.sink;
    this.maxLineBytes = options.maxLineBytes ?? 64 * 1024;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    try {
      this.accept(chunk);
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.flush();
    callback();
  }

  /** Emits the held partial line, if any, without a trailing newline. */
  flush(): void {
    const rest = this.partial;
    this.partial = undefined;
    if (rest && rest.length > 0) this.emitLine(rest);
  }

  private accept(chunk: Buffer): void {
    const data = this.partial ? Buffer.concat([this.partial, chunk]) : chunk;
    this.partial = undefined;
    const lastNewline = data.lastIndexOf(NEWLINE);
    if (lastNewline === -1) {
      this.hold(data);
      return;
    }
    const complete = data.subarray(0, lastNewline + 1);
    if (isUtf8(complete)) {
      // The common case: the whole run decoded once and handed on in batches, no string per line.
      this.emitLines(complete.toString('utf8'), !mayNeedCleaning(complete));
    } else {
      let start = 0;
      for (let end = complete.indexOf(NEWLINE); end !== -1; end = complete.indexOf(NEWLINE, start)) {
        this.emitLine(complete.subarray(start, end + 1));
        start = end + 1;
      }
    }
    if (lastNewline + 1 < data.length) this.hold(data.subarray(lastNewline + 1));
  }

  /** Whole lines of UTF-8 text (ending in a newline), in batches cut after a newline; `plain`: no control characters. */
  private emitLines(text: string, plain: boolean): void {
    for (let start = 0; start < text.length; ) {
      let end = text.length;
      if (end - start > MAX_BATCH_BYTES) {
        // A single line longer than a batch goes on its own.
        const cut = text.lastIndexOf('\n', start + MAX_BATCH_BYTES - 1);
        end = (cut >= start ? cut : text.indexOf('\n', start + MAX_BATCH_BYTES)) + 1;
      }
      const data = end - start === text.length ? text : text.slice(start, end);
      const count = countNewlines(data);
      const message: Unsequenced<LogMessage> | Unsequenced<LogBatchMessage> =
        count === 1
          ? { type: 'log', source: this.source, stream: this.stream, data }
          : { type: 'logs', source: this.source, stream: this.stream, data, count };
      if (plain) markPlain(message);
      this.sink(message);
      start = end;
    }
  }

  private hold(bytes: Buffer): void {
    let rest = bytes;
    while (rest.length >= this.maxLineBytes) {
      const cut = utf8Boundary(rest, this.maxLineBytes);
      this.emitLine(rest.subarray(0, cut));
      rest = rest.subarray(cut);
    }
    // Copy so the held bytes do not pin the whole chunk they came in.
    this.partial = rest.length > 0 ? Buffer.from(rest) : undefined;
  }

  private emitLine(line: Buffer): void {
    if (isUtf8(line)) {
      this.sink({ type: 'log', source: this.source, stream: this.stream, data: line.toString('utf8') });
    } else {
      this.sink({
        type: 'log',
        source: this.source,
        stream: this.stream,
        data: line.toString('base64'),
        encoding: 'base64',
      });
    }
  }
}

/**
 * Bytes that may stand for a character a terminal must not get raw: C0 controls but tab and
 * newline, DEL, and 0xC2, the first byte of U+0080–U+00BF in UTF-8 (C1 controls among them).
 */
const CONTROL_BYTES = [...Array.from({ length: 32 }, (_, byte) => byte).filter((byte) => byte !== 0x09 && byte !== 0x0a), 0x7f, 0xc2];

/** Whether `bytes` may hold a control character: one native search per byte value, several times quicker than a look at the decoded text. */
function mayNeedCleaning(bytes: Buffer): boolean {
  return CONTROL_BYTES.some((byte) => bytes.includes(byte));
}

function countNewlines(text: string): number {
  let count = 0;
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) count++;
  return count;
}

/** The largest index ≤ `max` that does not split a UTF-8 sequence (or `max` for non-UTF-8 bytes). */
export function utf8Boundary(bytes: Buffer, max: number): number {
  for (let i = max; i > max - 4 && i > 0; i--) {
    const byte = bytes[i];
    if (byte === undefined || (byte & 0xc0) !== 0x80) return i;
  }
  return max;
}
