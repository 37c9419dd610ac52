// An operation's whole log as a file. From memory when the page has all of it; otherwise (a log
// bigger than the page keeps, or lines that never reached it) from the server's copy.
import { OperationSession } from '../session.js';
import { streamOperation } from './api.js';
import { h } from './dom.js';
import type { Tone } from './toasts.js';

/** A name fit for a file name, whatever the data said. */
const safeName = (text: string | undefined): string => (text ?? '').replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 80) || 'operation';

export async function downloadLog(session: OperationSession, toast: (text: string, tone: Tone) => void): Promise<void> {
  let source = session;
  if ((session.store.first > 0 || session.dropped > 0) && session.id) {
    toast('Fetching the whole log…', 'info');
    const full = new OperationSession({ operation: session.id, maxChars: Number.MAX_SAFE_INTEGER, ...(session.environment ? { environment: session.environment } : {}) });
    try {
      await streamOperation({ operation: session.id, since: -1, follow: false }, (m) => full.feed(m), new AbortController().signal);
      source = full;
    } catch (err) {
      toast(`Could not fetch the whole log (${(err as Error).message}): downloading what the page has`, 'bad');
    }
  }
  const blob = new Blob([...source.plainText()], { type: 'text/plain;charset=utf-8' });
  const url = URL.createObjectURL(blob);
  const link = h('a', { attrs: { href: url, download: `${safeName(session.environment)}-${safeName(session.action)}-${safeName(session.id)}.log` } });
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
