// The numbered events of the dashboard's stream of changes, as server-sent events. The last few
// are kept so a client that lost its connection gets what it missed instead of everything
// again. Numbers start at the time the server started (in microseconds), so an id from an
// earlier server is never taken for one of this one.
import type { FeedEvent, FeedEventKind, Overview } from './overview.js';

export class EventHistory {
  private readonly base = Date.now() * 1000;
  private lastId = this.base;
  private entries: { id: number; text: string }[] = [];

  /** `keep`: how many events are kept for clients that resume. */
  constructor(private readonly keep: number) {}

  /** Numbers the events and keeps them; their text, as one. */
  append(events: FeedEvent[]): string {
    let text = '';
    for (const [kind, data] of events) {
      const id = ++this.lastId;
      const one = event(id, kind, data);
      this.entries.push({ id, text: one });
      text += one;
    }
    if (this.entries.length > this.keep) this.entries.splice(0, this.entries.length - this.keep);
    return text;
  }

  /** The whole overview as one event, numbered as the last one sent: following on from it misses nothing. */
  snapshot(overview: Overview): string {
    return event(this.lastId, 'snapshot', overview);
  }

  /** The events after `last`, when every one of them is still kept; undefined otherwise. */
  since(last: number): string | undefined {
    const oldest = this.entries[0]?.id ?? this.lastId + 1;
    if (last > this.lastId || last < oldest - 1 || last < this.base) return undefined;
    return this.entries
      .filter((e) => e.id > last)
      .map((e) => e.text)
      .join('');
  }
}

/** The event a client last got, from its Last-Event-ID header: undefined unless a whole number. */
export function lastEventId(header: string | string[] | undefined): number | undefined {
  const raw = Array.isArray(header) ? header[0] : header;
  if (raw === undefined || !/^\d+$/.test(raw.trim())) return undefined;
  const id = Number(raw.trim());
  return Number.isSafeInteger(id) ? id : undefined;
}

/** One event of the stream. JSON has no line breaks of its own, so `data` is one line. */
function event(id: number, kind: FeedEventKind, data: unknown): string {
  return `id: ${id}\nevent: ${kind}\ndata: ${JSON.stringify(data)}\n\n`;
}
