// The Server-Sent Events transport: an operation's messages as a `text/event-stream` response,
// each event `id: <seq>` and `data: <the same JSON message>`, with comment lines to keep a
// quiet stream open. It never sees a child process.
import type { ServerResponse } from 'node:http';
import { messageText } from '../core/protocol/message-text.js';
import type { CompleteFailureMessage, ServerMessage } from '../core/protocol/messages.js';
import { lastSeq } from '../core/protocol/batch.js';
import { Channel, type ChannelOptions } from './channel.js';

/**
 * One event of the stream: numbered messages carry their seq as the event id, a batch the seq
 * of its last line (so a client that resumes from it with Last-Event-ID gets none of it again).
 */
export function sseEvent(message: ServerMessage): string {
  const id = message.type === 'dropped' ? '' : `id: ${lastSeq(message)}\n`;
  return `${id}data: ${messageText(message)}\n\n`;
}

/** Starts an event-stream response; comments every `keepAliveMs` keep it open while quiet. */
export function startEventStream(res: ServerResponse, keepAliveMs: number): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  res.flushHeaders();
  const timer = setInterval(() => res.write(': keep-alive\n\n'), keepAliveMs);
  timer.unref();
  res.once('close', () => clearInterval(timer));
}

export class SseChannel extends Channel {
  constructor(
    operation: string,
    private readonly res: ServerResponse,
    options: ChannelOptions = {},
  ) {
    super(operation, options);
  }

  get open(): boolean {
    return !this.res.writableEnded && !this.res.destroyed;
  }

  buffered(): number {
    return this.res.writableLength;
  }

  protected write(message: ServerMessage): void {
    this.res.write(sseEvent(message));
  }

  protected end(): void {
    if (this.open) this.res.end();
  }

  onClose(listener: () => void): void {
    this.res.once('close', listener);
  }
}

/** Ends a started event stream with the one failed `complete` of a request that never became an operation. */
export function refuseEvents(res: ServerResponse, complete: CompleteFailureMessage): void {
  res.end(sseEvent(complete));
}
