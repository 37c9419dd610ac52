// Follows `/api/events`, read from a fetch (an EventSource cannot send the page's key): after a
// dropped connection it is asked again from the last event id it had (Last-Event-ID), 1 s, 2 s,
// … 30 s later. An answer that is not the stream: signed out on a 401; otherwise the overview
// shows what the server says now, and the stream is asked for again as after a drop.
import { readEventStream } from '../event-stream.js';
import type { Overview } from '../model.js';
import { api, SignedOut } from './api.js';
import type { Connection } from './connection-badge.js';

const EVENT_KINDS: readonly string[] = ['snapshot', 'environment', 'environment-removed', 'operation'];

export interface FeedHooks {
  /** An event of a kind the page knows, its data parsed (anything JSON: the model checks its shape). */
  event(kind: string, data: unknown): void;
  connection(state: Connection): void;
  /** The overview the server gave when the stream would not open. */
  overview(overview: Overview): void;
  signedOut(): void;
}

/** How a read of the stream ended. */
type Ending = 'dropped' | 'refused' | 'signed-out';

export class ChangeFeed {
  private controller: AbortController | undefined;
  private lastEventId: string | undefined;
  private retryMs = 1000;

  constructor(private readonly hooks: FeedHooks) {}

  follow(): void {
    this.controller?.abort();
    const controller = new AbortController();
    this.controller = controller;
    void this.read(controller.signal).then((ending) => this.after(controller, ending));
  }

  close(): void {
    this.controller?.abort();
    this.controller = undefined;
  }

  private async read(signal: AbortSignal): Promise<Ending> {
    try {
      const res = await api.events(this.lastEventId, signal);
      if (res.status === 401) return 'signed-out';
      if (!res.ok || !res.body) {
        await res.body?.cancel();
        return 'refused';
      }
      this.retryMs = 1000;
      this.hooks.connection('live');
      await readEventStream(res.body.getReader(), (event) => {
        if (event.id !== undefined) this.lastEventId = event.id;
        if (event.event !== undefined && EVENT_KINDS.includes(event.event)) this.onEvent(event.event, event.data);
      });
    } catch {
      // The network, or the connection dropped mid-stream (an abort is told apart in `after`).
    }
    return 'dropped';
  }

  private async after(controller: AbortController, ending: Ending): Promise<void> {
    if (controller !== this.controller) return;
    if (ending === 'signed-out') return this.hooks.signedOut();
    if (ending === 'refused') {
      this.hooks.connection('offline');
      try {
        this.hooks.overview(await api.overview());
      } catch (err) {
        if (err instanceof SignedOut) return this.hooks.signedOut();
      }
    } else {
      this.hooks.connection('reconnecting');
    }
    const wait = this.retryMs;
    this.retryMs = Math.min(30_000, this.retryMs * 2);
    setTimeout(() => {
      if (controller === this.controller) this.follow();
    }, wait);
  }

  private onEvent(kind: string, text: string): void {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      return;
    }
    try {
      this.hooks.event(kind, data);
    } catch (err) {
      // What one event's drawing threw (a notification the browser refused, say) is that event's:
      // the stream goes on.
      console.error(`piko: the ${kind} event could not be shown:`, err);
    }
  }
}
