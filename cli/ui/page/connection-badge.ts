// The top bar's word for how the page hears from the server: live, or not (and why not).
import { fill, h } from './dom.js';

export type Connection = 'connecting' | 'live' | 'reconnecting' | 'offline';

const TEXT: Record<Connection, string> = { connecting: 'connecting…', live: 'live', reconnecting: 'reconnecting…', offline: 'offline' };

export class ConnectionBadge {
  readonly root: HTMLElement;

  constructor() {
    this.root = h('span', { class: 'connection', testid: 'connection', attrs: { role: 'status' } });
    this.set('connecting');
  }

  set(state: Connection): void {
    this.root.className = `connection ${state}`;
    this.root.dataset.state = state;
    fill(this.root, h('span', { class: 'dot' }), TEXT[state]);
    this.root.title = state === 'live' ? 'Following the server: changes show as they happen' : 'Not hearing from the server';
  }
}
