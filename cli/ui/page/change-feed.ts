// Follows `/api/events`: an EventSource, which resumes by itself with Last-Event-ID. When the
// browser gives up on it (an answer that was not a stream), a plain request says why: signed
// out, or a server that answers otherwise, which is asked again after 1 s, 2 s, … 30 s.
import type { Overview } from '../model.js';
import { api, SignedOut } from './api.js';
import type { Connection } from './connection-badge.js';

const EVENT_KINDS = ['snapshot', 'environment', 'environment-removed', 'operation'] as const;

export interface FeedHooks {
  /** An event of a kind the page knows, its data parsed (anything JSON: the model checks its shape). */
  event(kind: string, data: unknown): void;
  connection(state: Connection): void;
  /** The overview the server gave when the stream would not open. */
  overview(overview: Overview): void;
  signedOut(): void;
}

export class ChangeFeed {
  private events: EventSource | undefined;
  private retryMs = 1000;

  constructor(private readonly hooks: FeedHooks) {}

  follow(): void {
    this.events?.close();
    const events = new EventSource('/api/events');
    this.events = events;
    events.onopen = () => {
      this.retryMs = 1000;
      this.hooks.connection('live');
    };
    for (const kind of EVENT_KINDS) {
      events.addEventListener(kind, (event) => this.onEvent(kind, (event as MessageEvent<string>).data));
    }
    events.onerror = () => {
      if (events !== this.events) return;
      // CONNECTING: the browser tries again by itself, with Last-Event-ID. CLOSED: it gave up
      // (an answer that was not a stream: 401, 403, 404…), and only a plain request says why.
      if (events.readyState === EventSource.CLOSED) void this.recover();
      else this.hooks.connection('reconnecting');
    };
  }

  close(): void {
    this.events?.close();
    this.events = undefined;
  }

  private async recover(): Promise<void> {
    this.hooks.connection('offline');
    try {
      // The server answers, but not with the stream: show what it says now, and try again.
      this.hooks.overview(await api.overview());
    } catch (err) {
      if (err instanceof SignedOut) return this.hooks.signedOut();
    }
    const wait = this.retryMs;
    this.retryMs = Math.min(30_000, this.retryMs * 2);
    setTimeout(() => {
      if (this.events?.readyState === EventSource.CLOSED) this.follow();
    }, wait);
  }

  private onEvent(kind: string, text: string): void {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      return;
    }
    this.hooks.event(kind, data);
  }
}
