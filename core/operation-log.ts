// Every message of an operation, appended to `$PIKO_HOME/logs/<operation>.ndjson` as it happens,
// so a client can replay it later. Lines emitted in one burst (one chunk of child output) are
// written with one system call at the end of that burst rather than one per line.
import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { OperationMessage } from './protocol.js';

/** The file is created by the first message, so an operation that never starts leaves none. */
export class OperationLog {
  readonly path: string;
  private fd: number | undefined;
  private closed = false;
  private pending: string[] = [];

  constructor(path: string) {
    this.path = path;
  }

  append(message: OperationMessage): void {
    if (this.closed) return;
    if (this.pending.length === 0) queueMicrotask(() => this.flush());
    this.pending.push(JSON.stringify(message));
  }

  flush(): void {
    if (this.closed || this.pending.length === 0) return;
    if (this.fd === undefined) {
      mkdirSync(dirname(this.path), { recursive: true });
      this.fd = openSync(this.path, 'a', 0o600);
    }
    const text = `${this.pending.join('\n')}\n`;
    this.pending = [];
    writeSync(this.fd, text);
  }

  close(): void {
    this.flush();
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.closed = true;
  }
}

/** The messages of a log file; a torn last line (the writer died mid-write) is left out. */
export function readOperationLog(path: string): OperationMessage[] {
  const messages: OperationMessage[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line === '') continue;
    try {
      messages.push(JSON.parse(line) as OperationMessage);
    } catch {
      break;
    }
  }
  return messages;
}
