// How an operation's log lines and times read, wherever they are shown: the terminal, the
// server's own output, the browser page.
import type { LogBatchMessage, LogMessage } from '../protocol/messages.js';
import { needsCleaning, withoutNewline } from './clean-line.js';

/** The label a reader sees for a source: `script:setup` → `setup`. */
export function sourceLabel(source: string): string {
  return source.startsWith('script:') ? source.slice('script:'.length) : source;
}

/** The text of a log message (base64 payloads decoded as UTF-8 with replacement characters). */
export function logText(msg: Pick<LogMessage, 'data' | 'encoding'>): string {
  return msg.encoding === 'base64' ? new TextDecoder().decode(latin1Bytes(base64Binary(msg.data))) : msg.data;
}

// No Buffer below: the browser page renders with this code too, and atob, TextEncoder and
// TextDecoder are in both.

/**
 * Base64 as a binary string (one character per byte, U+0000–U+00FF, which is what latin1 makes of
 * bytes). What a server sends decodes as it is; anything else is read the lenient way Node's
 * Buffer reads it (URL-safe letters taken, other characters skipped) rather than thrown over.
 */
export function base64Binary(data: string): string {
  try {
    return atob(data);
  } catch {
    const kept = data.replace(/-/g, '+').replace(/_/g, '/').replace(/[^A-Za-z0-9+/]/g, '');
    return atob(kept.length % 4 === 1 ? kept.slice(0, -1) : kept);
  }
}

/** A binary string's bytes (each character's low byte, as latin1 encodes). */
export function latin1Bytes(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/** `840ms`, `2.3s`, `1m 12s`. */
export function formatDuration(ms: number): string {
  if (ms < 999.5) return `${Math.round(ms)}ms`;
  // Rounded first, so that 59.96 s reads 1m 0s rather than 60.0s, and 119.6 s 2m 0s rather than 1m 60s.
  if (Math.round(ms / 100) < 600) return `${(Math.round(ms / 100) / 10).toFixed(1)}s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)}m ${seconds % 60}s`;
}

/**
 * The lines of a log message or batch, each behind `prefix`, as one string ending in a newline
 * (a batch is rendered whole: one string for all its lines). `show` makes a line what its reader
 * sees; it is called only on lines that need cleaning, or on every line when `showEvery` (to
 * colour stderr, say).
 */
export function prefixedLines(
  message: LogMessage | LogBatchMessage,
  prefix: string,
  show: (line: string) => string,
  showEvery = false,
): { text: string; count: number } {
  const body = withoutNewline(message.type === 'log' ? logText(message) : message.data);
  let lines = message.type === 'log' ? [body] : body.split('\n');
  if (showEvery || needsCleaning(message, body)) lines = lines.map(show);
  return { text: `${prefix}${lines.join(`\n${prefix}`)}\n`, count: lines.length };
}
