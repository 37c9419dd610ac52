// The panel's tabs: one per operation it follows, with its phase (a spinner while it runs) and
// a close button. Drawn again only when a tab changed: a tab made anew each frame would lose
// the focus.
import type { OperationSession } from '../session.js';
import { fill, h, icon } from './dom.js';
import { PHASE_TONE } from './phase.js';

export interface TabActions {
  show(session: OperationSession): void;
  close(session: OperationSession): void;
}

export class TabStrip {
  readonly root: HTMLElement;
  private key = '';

  constructor(private readonly actions: TabActions) {
    this.root = h('div', { class: 'tabs', testid: 'tabs', attrs: { role: 'tablist' } });
  }

  draw(sessions: readonly OperationSession[], shown: OperationSession | undefined): void {
    const key = JSON.stringify(sessions.map((s) => [s.phase, s.id, s.action, s.environment, s === shown]));
    if (key === this.key) return;
    this.key = key;
    fill(this.root, ...sessions.map((s) => this.tab(s, s === shown)));
  }

  private tab(s: OperationSession, selected: boolean): HTMLElement {
    return h(
      'div',
      { class: `tab ${selected ? 'selected' : ''} ${PHASE_TONE[s.phase]}`, testid: 'tab', attrs: { 'data-operation': s.id ?? '' } },
      h(
        'button',
        { class: 'tab-open', attrs: { type: 'button', role: 'tab', 'aria-selected': String(selected) }, on: { click: () => this.actions.show(s) } },
        s.ended ? h('span', { class: 'dot' }) : h('span', { class: 'spinner' }),
        h('span', { class: 'tab-label' }, `${s.action ?? ''} ${s.environment ?? ''}`),
      ),
      h(
        'button',
        {
          class: 'tab-close',
          testid: 'tab-close',
          attrs: { type: 'button', title: s.ended ? 'Close' : 'Close (the operation goes on)', 'aria-label': 'Close' },
          on: { click: () => this.actions.close(s) },
        },
        icon('close'),
      ),
    );
  }
}
