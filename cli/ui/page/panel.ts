// The output panel: a tab per operation the page follows, each showing what the terminal would:
// its lines, coloured, as they come, its stages with their times, and the ✓/✗ lines. The DOM holds
// a bounded tail of the lines (the LineStore has the rest), and the lines of a frame go in at once.
import { planAppend, planBackfill, planEarlier, type LineWindow, type StoredLine, type WindowLimits } from '../line-store.js';
import { formatDuration } from '../format.js';
import type { OperationSession, Phase } from '../session.js';
import { append, fill, h, icon, terminalLine } from './dom.js';

/**
 * The DOM keeps the last 2,000 lines while the reader follows the end, and a frame builds 400 at
 * most: 2,000 lines built and laid out in one frame took 80–190 ms in Chromium (a frozen tab while
 * a create pours out output); 400 take a fraction of a frame, and the rest of the tail is put in
 * above, 400 a frame, once the output slows down.
 */
export const LIMITS: WindowLimits = { tail: 2000, perFrame: 400 };
/** Lines "show earlier lines" adds. */
export const EARLIER_LINES = 2000;
/** How close to the bottom (px) counts as following it. */
const AT_END_PX = 24;

export interface SessionActions {
  cancel(session: OperationSession): void;
  /** Sends the refused request again with `change` applied (the approval, discarding the changes). */
  retry(session: OperationSession, change: { approve?: string; discardChanges?: boolean }): void;
  download(session: OperationSession): void;
  close(session: OperationSession): void;
}

const PHASE_TEXT: Record<Phase, string> = {
  starting: 'starting',
  running: 'running',
  succeeded: 'succeeded',
  failed: 'failed',
  cancelled: 'cancelled',
  refused: 'refused',
  lost: 'connection lost',
};

const PHASE_TONE: Record<Phase, string> = {
  starting: 'busy',
  running: 'busy',
  succeeded: 'ok',
  failed: 'bad',
  cancelled: 'warn',
  refused: 'bad',
  lost: 'warn',
};

function lineElement(line: StoredLine): HTMLElement {
  const el = document.createElement('div');
  el.className = line.stderr ? 'ln err' : 'ln';
  terminalLine(el, line.text);
  return el;
}

/** Lines as one fragment: one DOM operation puts them all in. */
function linesFragment(lines: readonly StoredLine[]): DocumentFragment {
  const fragment = document.createDocumentFragment();
  for (const line of lines) fragment.appendChild(lineElement(line));
  return fragment;
}

/** One operation's view. Built once; each frame brings it up to date with its session. */
export class SessionView {
  readonly root: HTMLElement;
  private readonly title: HTMLElement;
  private readonly phase: HTMLElement;
  private readonly elapsed: HTMLElement;
  private readonly cancelButton: HTMLButtonElement;
  private readonly stages: HTMLElement;
  private readonly bar: HTMLElement;
  private readonly log: HTMLElement;
  private readonly earlier: HTMLButtonElement;
  private readonly count: HTMLElement;
  private readonly jump: HTMLButtonElement;
  private readonly result: HTMLElement;
  private readonly logBar: HTMLElement;
  private readonly logWrap: HTMLElement;
  private readonly choice: HTMLElement;
  private window: LineWindow = { start: 0, end: 0 };
  private following = true;
  /** What the header, stages and result were last drawn from: drawn again only when it changes. */
  private drawn = '';

  constructor(
    readonly session: OperationSession,
    private readonly actions: SessionActions,
    /** Asks for another frame (the tail is still being filled in). */
    private readonly requestFrame: () => void,
  ) {
    this.title = h('h2', { class: 'session-title', testid: 'session-title' });
    this.phase = h('span', { class: 'status', testid: 'session-phase' });
    this.elapsed = h('span', { class: 'elapsed muted', testid: 'session-elapsed' });
    this.cancelButton = h(
      'button',
      { class: 'button small danger-quiet', testid: 'session-cancel', attrs: { type: 'button' }, on: { click: () => actions.cancel(session) } },
      'Cancel',
    );
    this.stages = h('ol', { class: 'stages', testid: 'stages', attrs: { 'aria-label': 'stages' } });
    this.bar = h('div', { class: 'stage-bar', attrs: { 'aria-hidden': 'true' } });
    this.log = h('div', { class: 'log', testid: 'log', attrs: { role: 'log', tabindex: 0, 'aria-label': 'output' } });
    this.log.addEventListener('scroll', () => {
      const atEnd = this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < AT_END_PX;
      if (atEnd !== this.following) {
        this.following = atEnd;
        if (atEnd) this.frame();
        else this.showJump();
      }
    });
    this.earlier = h(
      'button',
      { class: 'button small quiet', testid: 'show-earlier', attrs: { type: 'button', hidden: true }, on: { click: () => this.showEarlier() } },
      'Show earlier lines',
    );
    this.count = h('span', { class: 'line-count muted', testid: 'line-count' });
    this.jump = h(
      'button',
      { class: 'jump', testid: 'jump-to-end', attrs: { type: 'button', hidden: true }, on: { click: () => this.toEnd() } },
      '',
    );
    this.result = h('div', { class: 'result', testid: 'result', attrs: { 'aria-live': 'polite' } });
    this.choice = h('div', { class: 'choice', testid: 'refusal', attrs: { hidden: true } });
    this.root = h(
      'section',
      { class: 'session', testid: 'session' },
      h('header', { class: 'session-head' }, this.title, this.phase, this.elapsed, h('span', { class: 'spacer' }), this.cancelButton),
      this.bar,
      this.stages,
      (this.logBar = h(
        'div',
        { class: 'log-bar' },
        this.earlier,
        this.count,
        h('span', { class: 'spacer' }),
        h(
          'button',
          { class: 'icon-button', testid: 'download', attrs: { type: 'button', title: 'Download the whole log', 'aria-label': 'Download the whole log' }, on: { click: () => actions.download(session) } },
          icon('download'),
        ),
      )),
      (this.logWrap = h('div', { class: 'log-wrap' }, this.log, this.jump)),
      this.result,
      this.choice,
    );
  }

  /** Brings the view up to date: called once per animation frame while there is news. */
  frame(): void {
    // First what changes the log's height (the result under it), then the scroll to its end.
    this.drawState();
    const store = this.session.store;
    const plan = planAppend(this.window, store.total, LIMITS, this.following, store.first);
    if (plan.drop > 0) this.dropTop(plan.drop);
    if (plan.to > plan.from) this.log.appendChild(linesFragment(store.lines(plan.from, plan.to)));
    this.window = plan.window;
    const backfill = this.following ? planBackfill(this.window, store.total, LIMITS, LIMITS.perFrame - (plan.to - plan.from), store.first) : undefined;
    if (backfill) {
      this.log.prepend(linesFragment(store.lines(backfill.from, backfill.to)));
      this.window = backfill.window;
    }
    // Still short of the tail: the next frame puts in more.
    if (this.following && planBackfill(this.window, store.total, LIMITS, 1, store.first)) this.requestFrame();
    if (this.following) this.log.scrollTop = this.log.scrollHeight;
    this.earlier.hidden = this.window.start <= store.first;
    if (!this.earlier.hidden) this.earlier.textContent = `Show earlier lines (${this.window.start.toLocaleString()} above)`;
    this.count.textContent = `${store.total.toLocaleString()} line${store.total === 1 ? '' : 's'}${store.first > 0 ? ` (the first ${store.first.toLocaleString()} only in the download)` : ''}`;
    this.showJump();
  }

  /** The clocks of a running operation. */
  tick(now = Date.now()): void {
    const s = this.session;
    if (s.startedAt !== undefined) {
      const end = s.ended && s.complete?.durationMs !== undefined ? s.startedAt + s.complete.durationMs : now;
      this.elapsed.textContent = s.ended && s.complete?.durationMs === undefined ? '' : formatDuration(Math.max(0, end - s.startedAt));
    }
    if (!s.ended && s.request) {
      // Only where this page saw the stage start as it happened: a replayed start is not its start.
      const running = this.stages.querySelector<HTMLElement>('.stage.running time');
      const stage = s.stages.findLast((st) => st.state === 'running');
      if (running && stage) running.textContent = formatDuration(now - stage.seenAt);
    }
  }

  private dropTop(count: number): void {
    const children = this.log.children;
    if (count >= children.length) {
      this.log.replaceChildren();
      return;
    }
    const range = document.createRange();
    range.setStartBefore(children[0]!);
    range.setEndAfter(children[count - 1]!);
    range.deleteContents();
  }

  private showEarlier(): void {
    const store = this.session.store;
    const plan = planEarlier(this.window, EARLIER_LINES, store.first);
    if (plan.to <= plan.from) return;
    this.log.prepend(linesFragment(store.lines(plan.from, plan.to)));
    this.window = plan.window;
    // The reader asked for what is above: they read from there, and the window stops moving.
    this.following = false;
    this.log.scrollTop = 0;
    this.frame();
  }

  private toEnd(): void {
    this.following = true;
    this.frame();
    this.log.scrollTop = this.log.scrollHeight;
  }

  private showJump(): void {
    const behind = this.following ? 0 : this.session.store.total - this.window.end;
    this.jump.hidden = behind <= 0;
    if (behind > 0) this.jump.textContent = `↓ ${behind.toLocaleString()} new line${behind === 1 ? '' : 's'}`;
  }

  private drawState(): void {
    const s = this.session;
    const key = JSON.stringify([s.phase, s.id, s.environment, s.action, s.stages, s.final, s.refusal, s.dropped, s.lostReason]);
    if (key === this.drawn) return;
    this.drawn = key;
    fill(
      this.title,
      h('span', { class: 'kind' }, s.action ?? 'operation'),
      ' ',
      h('strong', null, s.environment ?? ''),
      s.project ? h('span', { class: 'muted project-of' }, ` · ${s.project}`) : null,
    );
    this.phase.className = `status ${PHASE_TONE[s.phase]}`;
    fill(this.phase, s.ended ? h('span', { class: 'dot' }) : h('span', { class: 'spinner' }), PHASE_TEXT[s.phase]);
    this.root.dataset.phase = s.phase;
    // Refused before it began: the ✗ lines below are all there is, shown once.
    this.logBar.hidden = this.logWrap.hidden = s.phase === 'refused';
    if (s.id) this.root.dataset.operation = s.id;
    this.cancelButton.hidden = s.ended || s.id === undefined;
    this.drawStages();
    this.drawResult();
    this.drawChoice();
    this.tick();
  }

  private drawStages(): void {
    const stages = this.session.stages;
    fill(
      this.stages,
      ...stages.map((stage) =>
        h(
          'li',
          { class: `stage ${stage.state}`, testid: 'stage', attrs: { 'data-stage': stage.name, title: stage.note ?? '' } },
          h('span', { class: 'stage-mark', attrs: { 'aria-hidden': 'true' } }, stage.state === 'running' ? h('span', { class: 'spinner' }) : STAGE_MARKS[stage.state]),
          h('span', { class: 'stage-name' }, stage.label),
          h('time', { class: 'muted' }, stage.durationMs === undefined ? (stage.state === 'skipped' ? 'skipped' : '') : formatDuration(stage.durationMs)),
        ),
      ),
    );
    // The proportions of the stages that took time: where the minutes went, at a glance.
    const timed = stages.filter((stage) => stage.durationMs !== undefined && stage.state !== 'skipped');
    const total = timed.reduce((sum, stage) => sum + (stage.durationMs ?? 0), 0);
    this.bar.replaceChildren();
    if (total <= 0) return;
    for (const stage of timed) {
      const part = h('span', { class: `part ${stage.state}`, attrs: { title: `${stage.label} ${formatDuration(stage.durationMs ?? 0)}` } });
      // Through the style object, which the CSP allows (a style attribute it would not).
      part.style.flexGrow = String(Math.max(stage.durationMs ?? 0, total / 200));
      this.bar.appendChild(part);
    }
  }

  private drawResult(): void {
    const s = this.session;
    this.result.replaceChildren();
    this.result.className = `result ${s.ended ? PHASE_TONE[s.phase] : ''}`;
    // A refusal the page can answer says it all below, with the choice.
    if (s.refusal && s.request) return;
    if (s.final) {
      const lines = s.final.replace(/\n$/, '').split('\n');
      for (const line of lines) {
        const el = h('div', { class: 'ln' });
        terminalLine(el, line);
        this.result.appendChild(el);
      }
    }
    if (s.dropped > 0) {
      append(this.result, [h('p', { class: 'note' }, `${s.dropped.toLocaleString()} lines did not reach this page while it fell behind; the download has them all.`)]);
    }
    if (s.phase === 'lost') {
      append(this.result, [
        h('p', { class: 'note', testid: 'lost' }, s.lostReason || 'The connection to the server was lost.', s.id ? ' The operation may still be running: its card shows where it got to.' : ''),
      ]);
    }
  }

  private drawChoice(): void {
    const s = this.session;
    const refusal = s.refusal;
    this.choice.hidden = !refusal;
    this.choice.replaceChildren();
    if (!refusal) return;
    const canRetry = s.request !== undefined;
    if (refusal.kind === 'untrusted') {
      append(this.choice, [
        h('h3', null, 'The project’s config changed since it was approved'),
        h('p', { class: 'muted' }, 'This is what it would run now that it did not before. Approve exactly this to go on.'),
        h('pre', { class: 'difference', testid: 'difference' }, refusal.difference),
        canRetry
          ? h(
              'div',
              { class: 'choice-actions' },
              h(
                'button',
                { class: 'button primary', testid: 'approve', attrs: { type: 'button' }, on: { click: () => this.actions.retry(s, { approve: refusal.approval }) } },
                `Approve and ${s.action ?? 'run'}`,
              ),
            )
          : h('p', { class: 'muted' }, 'Approve it with ', h('code', null, 'piko trust'), ' in a terminal.'),
      ]);
      return;
    }
    append(this.choice, [
      h('h3', null, 'The worktree has changes someone made'),
      h('p', { class: 'muted mono' }, refusal.path),
      h(
        'ul',
        { class: 'changes', testid: 'changes' },
        ...refusal.changes.map((change) => h('li', { class: 'mono' }, change)),
        refusal.more > 0 ? h('li', { class: 'muted' }, `and ${refusal.more} more`) : null,
      ),
      h('p', { class: 'muted' }, 'Commit or stash them in the worktree, or throw them away (the branch stays unless you chose to delete it).'),
      canRetry
        ? h(
            'div',
            { class: 'choice-actions' },
            h(
              'button',
              { class: 'button danger', testid: 'discard-and-destroy', attrs: { type: 'button' }, on: { click: () => this.actions.retry(s, { discardChanges: true }) } },
              'Discard the changes and destroy',
            ),
          )
        : null,
    ]);
  }
}

const STAGE_MARKS = { ok: '✓', failed: '✗', skipped: '–', running: '' } as const;

/** The tabs and the view of the one shown. */
export class Panel {
  readonly root: HTMLElement;
  private readonly tabs: HTMLElement;
  private readonly body: HTMLElement;
  private readonly views: SessionView[] = [];
  private shown: SessionView | undefined;
  private scheduled = false;
  private tabsKey = '';

  constructor(
    private readonly actions: SessionActions,
    private readonly onVisibility: (open: boolean) => void,
  ) {
    this.tabs = h('div', { class: 'tabs', testid: 'tabs', attrs: { role: 'tablist' } });
    this.body = h('div', { class: 'panel-body' });
    this.root = h(
      'aside',
      { class: 'panel', testid: 'panel', attrs: { hidden: true, 'aria-label': 'operations' } },
      h(
        'div',
        { class: 'panel-top' },
        this.tabs,
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
      // A handful of tabs: the oldest finished one goes first.
      while (this.views.length > 8) {
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
    // Drawn again only when a tab changed: a tab made anew each frame would lose the focus.
    const key = JSON.stringify(this.views.map((v) => [v.session.phase, v.session.id, v.session.action, v.session.environment, v === this.shown]));
    if (key === this.tabsKey) return;
    this.tabsKey = key;
    fill(
      this.tabs,
      ...this.views.map((view) => {
        const s = view.session;
        const selected = view === this.shown;
        return h(
          'div',
          { class: `tab ${selected ? 'selected' : ''} ${PHASE_TONE[s.phase]}`, testid: 'tab', attrs: { 'data-operation': s.id ?? '' } },
          h(
            'button',
            { class: 'tab-open', attrs: { type: 'button', role: 'tab', 'aria-selected': String(selected) }, on: { click: () => this.show(view) } },
            s.ended ? h('span', { class: 'dot' }) : h('span', { class: 'spinner' }),
            h('span', { class: 'tab-label' }, `${s.action ?? ''} ${s.environment ?? ''}`),
          ),
          h(
            'button',
            {
              class: 'tab-close',
              testid: 'tab-close',
              attrs: { type: 'button', title: s.ended ? 'Close' : 'Close (the operation goes on)', 'aria-label': 'Close' },
              on: { click: () => this.close(s) },
            },
            icon('close'),
          ),
        );
      }),
    );
  }
}
