// The Server-Sent Events transport: an operation's messages as a `text/event-stream` response,
// each event `id: <seq>` and `data: <the same JSON message>`, with comment lines to keep a
// quiet stream open. It never sees a child process.
import type { ServerResponse } from 'node:http';
import { messageText } from '../core/protocol/message-text.js';
import type { CompleteFailureMessage, ServerMessage } from '../core/protocol/messages.js';
import { lastSeq } from '../core/protocol/batch.js';
import { Channel, type ChannelOptions } from './channel.js';
import { API_HEADERS } from './guard.js';

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
    ...API_HEADERS,
    'content-type': 'text/event-stream; charset=utf-8',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  res.flushHeaders();
  const timer = setInterval(() => res.write(': keep-alive\n\n'), keepAliveMs);
  timer.unref();
  res.once('close', () => clearInterval(timer));
}

/** What one write of a channel carries at most, in characters (a single longer event goes alone). */
export const SSE_CHUNK_BYTES = 64 * 1024;

/**
 * The events of one turn of the event loop go to the socket as bytes, in one write (up to
 * SSE_CHUNK_BYTES each). Written one string per event, as `res.write` takes them, a client that
 * does not read cost the server several times what `writableLength` counts: node:http cuts each
 * write into four socket writes (the chunk's size, CRLF, the event, CRLF) and corks the socket
 * until the next tick, and node:net then copies every string of that writev into a native buffer
 * three times its length (room for the worst case of UTF-8), held with the strings themselves
 * until the kernel takes them, which for a client that stopped reading is never. The cork also
 * kept a replay's step out of the kernel while `caughtUp` measured it, so every step waited. As
 * bytes, what waits for the client is what the channel counts, as for a WebSocket.
 */
export class SseChannel extends Channel {
  /** Events of this turn not yet handed to the socket, and their length in characters. */
  private events: string[] = [];
  private eventsLength = 0;

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
    return this.res.writableLength + this.eventsLength;
  }

  protected write(message: ServerMessage): void {
    const event = sseEvent(message);
    if (this.eventsLength + event.length > SSE_CHUNK_BYTES) this.flushWrites();
    this.events.push(event);
    this.eventsLength += event.length;
    if (this.events.length === 1) process.nextTick(() => this.flushWrites());
  }

  protected override flushWrites(): void {
    if (this.events.length === 0) return;
    const text = this.events.join('');
    this.events = [];
    this.eventsLength = 0;
    if (!this.open) return;
    const chunk = Buffer.from(text);
    // Corked here, node:http leaves the socket alone, and the uncork sends the chunk with its
    // framing now, instead of on the next tick.
    const socket = this.res.socket;
    socket?.cork();
    this.res.write(chunk);
    socket?.uncork();
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
