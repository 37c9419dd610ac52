// One operation's view in the panel, built once and brought up to date each frame from its
// session: its header (what, where, its phase and clock, Cancel), its stages, its lines, and how
// it ended. What it shows besides the lines is drawn again only when it changed.
import { formatDuration } from '../format.js';
import type { OperationSession } from '../session.js';
import { fill, h } from './dom.js';
import { LogView } from './log-view.js';
import { drawChoice, drawResult, type Retry } from './outcome.js';
import { PHASE_TEXT, PHASE_TONE } from './phase.js';
import { StageTimeline } from './stage-timeline.js';

export interface SessionActions {
  cancel(session: OperationSession): void;
  retry: Retry;
  download(session: OperationSession): void;
  close(session: OperationSession): void;
}

export class SessionView {
  readonly root: HTMLElement;
  private readonly title: HTMLElement;
  private readonly phase: HTMLElement;
  private readonly elapsed: HTMLElement;
  private readonly cancelButton: HTMLButtonElement;
  private readonly stages = new StageTimeline();
  private readonly log: LogView;
  private readonly result: HTMLElement;
  private readonly choice: HTMLElement;
  /** What the header, stages and result were last drawn from: drawn again only when it changes. */
  private drawn = '';

  constructor(
    readonly session: OperationSession,
    private readonly actions: SessionActions,
    /** Asks for another frame (the tail is still being filled in). */
    requestFrame: () => void,
  ) {
    this.title = h('h2', { class: 'session-title', testid: 'session-title' });
    this.phase = h('span', { class: 'status', testid: 'session-phase' });
    this.elapsed = h('span', { class: 'elapsed muted', testid: 'session-elapsed' });
    this.cancelButton = h(
      'button',
      { class: 'button small danger-quiet', testid: 'session-cancel', attrs: { type: 'button' }, on: { click: () => actions.cancel(session) } },
      'Cancel',
    );
    this.log = new LogView(session, () => actions.download(session), requestFrame);
    this.result = h('div', { class: 'result', testid: 'result', attrs: { 'aria-live': 'polite' } });
    this.choice = h('div', { class: 'choice', testid: 'refusal', attrs: { hidden: true } });
    this.root = h(
      'section',
      { class: 'session', testid: 'session' },
      h('header', { class: 'session-head' }, this.title, this.phase, this.elapsed, h('span', { class: 'spacer' }), this.cancelButton),
      this.stages.bar,
      this.stages.list,
      this.log.bar,
      this.log.wrap,
      this.result,
      this.choice,
    );
  }

  /** Brings the view up to date: called once per animation frame while there is news. */
  frame(): void {
    // First what changes the log's height (the result under it), then the scroll to its end.
    this.drawState();
    this.log.frame();
  }

  /** The clocks of a running operation. */
  tick(now = Date.now()): void {
    const s = this.session;
    if (s.startedAt !== undefined) {
      const end = s.ended && s.complete?.durationMs !== undefined ? s.startedAt + s.complete.durationMs : now;
      this.elapsed.textContent = s.ended && s.complete?.durationMs === undefined ? '' : formatDuration(Math.max(0, end - s.startedAt));
    }
    if (!s.ended && s.request) this.stages.tick(s.stages, now);
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
    this.log.hidden = s.phase === 'refused';
    if (s.id) this.root.dataset.operation = s.id;
    this.cancelButton.hidden = s.ended || s.id === undefined;
    this.stages.draw(s.stages);
    drawResult(this.result, s);
    drawChoice(this.choice, s, this.actions.retry);
    this.tick();
  }
}
