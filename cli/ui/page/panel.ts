// The output panel: a tab per operation the page follows, and the view of the one shown, brought
// up to date once per animation frame while there is news.
import type { OperationSession } from '../session.js';
import { fill, h, icon } from './dom.js';
import { SessionView, type SessionActions } from './session-view.js';
import { TabStrip } from './tab-strip.js';

/** A handful of tabs: past this, the oldest finished one goes first. */
const MOST_TABS = 8;

export class Panel {
  readonly root: HTMLElement;
  private readonly tabs: TabStrip;
  private readonly body: HTMLElement;
  private readonly views: SessionView[] = [];
  private shown: SessionView | undefined;
  private scheduled = false;

  constructor(
    private readonly actions: SessionActions,
    private readonly onVisibility: (open: boolean) => void,
  ) {
    this.tabs = new TabStrip({
      show: (session) => {
        const view = this.views.find((v) => v.session === session);
        if (view) this.show(view);
      },
      close: (session) => this.close(session),
    });
    this.body = h('div', { class: 'panel-body' });
    this.root = h(
      'aside',
      { class: 'panel', testid: 'panel', attrs: { hidden: true, 'aria-label': 'operations' } },
      h(
        'div',
        { class: 'panel-top' },
        this.tabs.root,
        h(
          'button',
          { class: 'icon-button', testid: 'panel-hide', attrs: { type: 'button', title: 'Hide the output', 'aria-label': 'Hide the output' }, on: { click: () => this.hide() } },
          icon('close'),
        ),
      ),
      this.body,
    );
    setInterval(() => this.shown?.tick(), 1000);
  }

  get sessions(): OperationSession[] {
    return this.views.map((v) => v.session);
  }

  find(operation: string): OperationSession | undefined {
    return this.views.find((v) => v.session.id === operation)?.session;
  }

  /** Shows `session` (adding its tab), or `replacing` one's tab with it (a request sent again). */
  open(session: OperationSession, replacing?: OperationSession): void {
    let view = this.views.find((v) => v.session === session);
    if (!view) {
      view = new SessionView(session, this.actions, () => this.schedule());
      const at = replacing ? this.views.findIndex((v) => v.session === replacing) : -1;
      if (at >= 0) this.views.splice(at, 1, view);
      else this.views.push(view);
      while (this.views.length > MOST_TABS) {
        const old = this.views.find((v) => v.session.ended && v !== view) ?? this.views[0]!;
        this.actions.close(old.session);
        this.views.splice(this.views.indexOf(old), 1);
      }
    }
    this.show(view);
  }

  close(session: OperationSession): void {
    const at = this.views.findIndex((v) => v.session === session);
    if (at < 0) return;
    this.views.splice(at, 1);
    this.actions.close(session);
    if (this.shown?.session === session) {
      this.shown = undefined;
      const next = this.views[Math.min(at, this.views.length - 1)];
      if (next) this.show(next);
      else this.hide();
    } else {
      this.drawTabs();
    }
  }

  reveal(): void {
    const view = this.shown ?? this.views.at(-1);
    if (view) this.show(view);
  }

  hide(): void {
    this.root.hidden = true;
    this.onVisibility(false);
  }

  get isOpen(): boolean {
    return !this.root.hidden;
  }

  /** Something changed in `session`: its view catches up in the next animation frame (if shown). */
  changed(session: OperationSession): void {
    if (session === this.shown?.session || this.views.some((v) => v.session === session)) this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      this.drawTabs();
      if (this.isOpen) this.shown?.frame();
    });
  }

  private show(view: SessionView): void {
    this.shown = view;
    fill(this.body, view.root);
    this.root.hidden = false;
    this.onVisibility(true);
    this.drawTabs();
    view.frame();
  }

  private drawTabs(): void {
    this.tabs.draw(this.sessions, this.shown?.session);
  }
}
