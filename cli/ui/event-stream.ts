// A `text/event-stream` answer read from a fetch body: the page starts operations with a POST,
// and sends its key with every request, neither of which an EventSource can do. Pure: it takes any
// reader of bytes, so the same code runs on a fetch body in the page and on a fake in a test.
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { ServerMessage } from '../../core/protocol/messages.js';

/** What `ReadableStream.getReader()` gives, as much of it as this needs. */
export interface ByteReader {
  read(): Promise<{ done: boolean; value?: Uint8Array | undefined }>;
  cancel(reason?: unknown): Promise<void>;
}

export interface ReadOptions {
  /** Each comment line (the server's keep-alives). */
  onComment?: () => void;
  /**
   * Hands the thread back (the page: a task later, so it can paint and take input). Called once
   * `budgetMs` went by since the last: a fetch may hand over megabytes at once, or chunk after
   * chunk already there (each read then answers at once, without a task in between), and parsing
   * and rendering them in one go would freeze the tab for as long.
   */
  pause?: () => Promise<void>;
  budgetMs?: number;
}

/** What is parsed between two looks at the clock. */
const SLICE_CHARS = 32 * 1024;

/**
 * Reads `reader` to its end, handing each event to `onEvent` as soon as its blank line comes.
 * Bytes are decoded as a stream, so a character cut between two chunks arrives whole. `onEvent`
 * may return `'stop'` to stop reading (the stream is then cancelled: nothing after it matters).
 */
export async function readEventStream(reader: ByteReader, onEvent: (event: EventSourceMessage) => void | 'stop', options: ReadOptions = {}): Promise<'ended' | 'stopped'> {
  const { onComment, pause, budgetMs = 12 } = options;
  let stopped = false;
  const parser = createParser({
    onEvent: (event) => {
      if (!stopped && onEvent(event) === 'stop') stopped = true;
    },
    ...(onComment ? { onComment } : {}),
  });
  const decoder = new TextDecoder();
  let since = Date.now();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) {
      parser.feed(decoder.decode());
      return stopped ? 'stopped' : 'ended';
    }
    const text = value ? decoder.decode(value, { stream: true }) : '';
    // The parser takes text cut anywhere (it keeps a partial line until the rest comes).
    for (let at = 0; at < text.length && !stopped; at += SLICE_CHARS) {
      parser.feed(at === 0 && text.length <= SLICE_CHARS ? text : text.slice(at, at + SLICE_CHARS));
      if (pause && Date.now() - since >= budgetMs) {
        await pause();
        since = Date.now();
      }
    }
    if (stopped) {
      await reader.cancel().catch(() => undefined);
      return 'stopped';
    }
  }
}

/**
 * An operation's messages from its stream, until its `complete` (after which the server closes
 * it, and nothing else is read). `'complete'` when it came; `'ended'` when the stream ended first
 * (a connection lost: the caller may re-attach from the last seq it has). An event that is not
 * a JSON object is skipped, not fatal: one bad event must not cost the rest of the output.
 */
export async function readOperation(reader: ByteReader, onMessage: (message: ServerMessage) => void, options: ReadOptions = {}): Promise<'complete' | 'ended'> {
  const how = await readEventStream(
    reader,
    (event) => {
      let message: ServerMessage;
      try {
        message = JSON.parse(event.data) as ServerMessage;
      } catch {
        return undefined;
      }
      if (message === null || typeof message !== 'object' || typeof message.type !== 'string') return undefined;
      onMessage(message);
      return message.type === 'complete' ? 'stop' : undefined;
    },
    options,
  );
  return how === 'stopped' ? 'complete' : 'ended';
}
