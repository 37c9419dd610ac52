// Short notes in a corner of the page: what the page did ("Copied …", "Cancelling…") or could
// not do, each gone after a few seconds (a failure stays longer, and is announced as an alert).
import { h } from './dom.js';

export type Tone = 'info' | 'bad';

export class Toasts {
  readonly root: HTMLElement;

  constructor() {
    this.root = h('div', { class: 'toasts', testid: 'toasts', attrs: { 'aria-live': 'polite' } });
  }

  show(text: string, tone: Tone): void {
    const el = h('div', { class: `toast ${tone}`, testid: 'toast', attrs: { role: tone === 'bad' ? 'alert' : 'status' } }, text);
    this.root.appendChild(el);
    setTimeout(() => el.remove(), tone === 'bad' ? 6000 : 2500);
  }
}
