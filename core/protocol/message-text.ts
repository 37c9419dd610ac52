// A message's JSON text, made once wherever it goes: the operation log and every client of the
// operation get the same text for a batch, a stage, the complete.
import type { ServerMessage } from './messages.js';

const texts = new WeakMap<object, string>();

/**
 * The JSON text of `message`. A single log line is not remembered: it goes to a client that did
 * not ask for batches (the log joins lines), and remembering each would cost more than it saves.
 */
export function messageText(message: ServerMessage): string {
  if (message.type === 'log' || message.type === 'dropped') return JSON.stringify(message);
  let text = texts.get(message);
  if (text === undefined) {
    text = JSON.stringify(message);
    texts.set(message, text);
  }
  return text;
}
