// Every message of an operation, appended to `$PIKO_HOME/logs/<operation>.ndjson` as it happens,
// so a client can replay it later. What is emitted in one burst is written with one system call
// at the end of that burst, the lines of a chunk of child output as the one `logs` batch they
// came as, and consecutive single lines of one source joined into one (readers get the `log`
// messages back), rather than one JSON text per line.
import { closeSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { messageText } from '../protocol/message-text.js';
import type { LogBatchMessage, OperationMessage, OutputMessage } from '../protocol/messages.js';
import { batchRuns, expandBatch } from '../protocol/batch.js';

/**
 * The file is created by the first message, so an operation that never starts leaves none. A
 * log that cannot be written (a full disk, a read-only folder) stops writing and tells
 * `onError` once; it never throws at its caller, which may be a microtask no one catches.
 */
export class OperationLog {
  readonly path: string;
  private fd: number | undefined;
  private closed = false;
  private pending: OutputMessage[] = [];
  /** Why the log could not be written, once it could not. */
  failure: NodeJS.ErrnoException | undefined;

  constructor(
    path: string,
    private readonly onError: (err: NodeJS.ErrnoException) => void = () => undefined,
  ) {
    this.path = path;
  }

  append(message: OutputMessage): void {
    // A log that cannot be written keeps nothing back either.
    if (this.closed || this.failure) return;
    if (this.pending.length === 0) queueMicrotask(() => this.flush());
    this.pending.push(message);
  }

  flush(): void {
    if (this.closed || this.failure || this.pending.length === 0) return;
    const messages = this.pending;
    this.pending = [];
    try {
      if (this.fd === undefined) {
        mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
        this.fd = openSync(this.path, 'a', 0o600);
      }
      writeSync(this.fd, `${batchRuns(messages).map(messageText).join('\n')}\n`);
    } catch (err) {
      this.failure = err as NodeJS.ErrnoException;
      this.onError(this.failure);
    }
  }

  close(): void {
    this.flush();
    if (this.fd !== undefined) {
      try {
        closeSync(this.fd);
      } catch {
        // Nothing more to write to it.
      }
    }
    this.fd = undefined;
    this.closed = true;
  }
}

export interface LogChunk {
  messages: OperationMessage[];
  /** Where the next read starts: just after the last whole line read. */
  offset: number;
}

/**
 * The whole lines of a log file from byte `offset` on, at most about `maxBytes` of them. A line
 * still being written (no newline yet) is left for the next read.
 */
export function readLogChunk(path: string, offset: number, maxBytes = 1024 * 1024): LogChunk {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(maxBytes);
    let length = 0;
    let read = 0;
    while (length < maxBytes && (read = readSync(fd, buffer, length, maxBytes - length, offset + length)) > 0) length += read;
    const end = buffer.subarray(0, length).lastIndexOf(0x0a) + 1;
    // A single line longer than maxBytes: read on until its end.
    if (end === 0 && length === maxBytes) return readLogChunk(path, offset, maxBytes * 4);
    const messages = buffer
      .subarray(0, end)
      .toString('utf8')
      .split('\n')
      .filter((line) => line !== '')
      .flatMap((line) => {
        const message = JSON.parse(line) as OperationMessage | LogBatchMessage;
        return message.type === 'logs' ? expandBatch(message) : [message];
      });
    return { messages, offset: offset + end };
  } finally {
    closeSync(fd);
  }
}

/** Every message of a log file. */
export function readOperationLog(path: string): OperationMessage[] {
  const messages: OperationMessage[] = [];
  for (let chunk = readLogChunk(path, 0); chunk.messages.length > 0; chunk = readLogChunk(path, chunk.offset)) {
    messages.push(...chunk.messages);
  }
  return messages;
}
