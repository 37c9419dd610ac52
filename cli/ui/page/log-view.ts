// An operation's lines in the panel, as they come: the DOM holds a bounded tail of them (the
// LineStore has the rest), the lines of a frame go in at once, and the view follows the end
// until the reader scrolls up (then new lines are only counted, behind a "↓ N new lines" button).
import { afterScroll } from '../follow.js';
import { formatCount } from '../format.js';
import { planAppend, planBackfill, planEarlier, type LineWindow, type StoredLine, type WindowLimits } from '../line-store.js';
import type { OperationSession } from '../session.js';
import { h, icon, terminalLine } from './dom.js';

/**
 * The DOM keeps the last 2,000 lines while the reader follows the end, and a frame builds 150 at
 * most: 2,000 lines built and laid out in one frame took 80–190 ms in Chromium (a frozen tab while
 * a create pours out output); 150 take a fraction of a frame, and the rest of the tail is put in
 * above, 150 a frame, once the output slows down.
 */
const LIMITS: WindowLimits = { tail: 2000, perFrame: 150 };
/** Lines "show earlier lines" adds. */
const EARLIER_LINES = 2000;
/**
 * KNOB: while lines come faster than a frame builds them, the log is built again at most this
 * often (ms): nobody reads lines that fly by, and each build costs a layout that the stream's
 * reading waits for (50 ms: the page showed a 400,000-line create's end 1.3-1.5x later than a
 * terminal; 150 ms: 1.2x).
 */
const FLOOD_MS = 150;

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

export class LogView {
  /** The bar above the log: "show earlier lines", the count, the download. */
  readonly bar: HTMLElement;
  /** The log and its jump button. */
  readonly wrap: HTMLElement;
  private readonly log: HTMLElement;
  private readonly earlier: HTMLButtonElement;
  private readonly count: HTMLElement;
  private readonly jump: HTMLButtonElement;
  private window: LineWindow = { start: 0, end: 0 };
  private following = true;
  /** The scroll position this view last set to show the end: only the reader goes above it. */
  private pinned = 0;
  /** The last frame skipped lines (they came faster than a frame builds them), and when it was. */
  private flooding = false;
  private builtAt = 0;

  constructor(
    private readonly session: OperationSession,
    download: () => void,
    /** Asks for another frame (the tail is still being filled in). */
    private readonly requestFrame: () => void,
  ) {
    this.log = h('div', { class: 'log', testid: 'log', attrs: { role: 'log', tabindex: 0, 'aria-label': 'output' } });
    this.log.addEventListener('scroll', () => this.scrolled());
    this.earlier = h(
      'button',
      { class: 'button small quiet', testid: 'show-earlier', attrs: { type: 'button', hidden: true }, on: { click: () => this.showEarlier() } },
      'Show earlier lines',
    );
    this.count = h('span', { class: 'line-count muted', testid: 'line-count' });
    this.jump = h('button', { class: 'jump', testid: 'jump-to-end', attrs: { type: 'button', hidden: true }, on: { click: () => this.toEnd() } }, '');
    this.bar = h(
      'div',
      { class: 'log-bar' },
      this.earlier,
      this.count,
      h('span', { class: 'spacer' }),
      h(
        'button',
        { class: 'icon-button', testid: 'download', attrs: { type: 'button', title: 'Download the whole log', 'aria-label': 'Download the whole log' }, on: { click: download } },
        icon('download'),
      ),
    );
    this.wrap = h('div', { class: 'log-wrap' }, this.log, this.jump);
  }

  set hidden(hidden: boolean) {
    this.bar.hidden = this.wrap.hidden = hidden;
  }

  /** Brings the lines up to date: once per animation frame while there is news. */
  frame(): void {
    const store = this.session.store;
    const now = performance.now();
    if (this.flooding && this.following && !this.session.ended && now - this.builtAt < FLOOD_MS) {
      this.requestFrame();
      return;
    }
    const plan = planAppend(this.window, store.total, LIMITS, this.following, store.first);
    this.flooding = plan.from > this.window.end;
    this.builtAt = now;
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
    this.earlier.hidden = this.window.start <= store.first;
    if (!this.earlier.hidden) this.earlier.textContent = `Show earlier lines (${formatCount(this.window.start)} above)`;
    this.count.textContent = `${formatCount(store.total)} line${store.total === 1 ? '' : 's'}${store.first > 0 ? ` (the first ${formatCount(store.first)} only in the download)` : ''}`;
    this.showJump();
    // Last, after every write: the one layout this frame needs happens here.
    if (this.following) this.pin();
  }

  /** Scrolls to the end, and remembers where that was. */
  private pin(): void {
    this.log.scrollTop = this.log.scrollHeight;
    this.pinned = this.log.scrollTop;
  }

  private scrolled(): void {
    const log = this.log;
    switch (afterScroll(this.following, this.pinned, { top: log.scrollTop, height: log.scrollHeight, client: log.clientHeight })) {
      case 'stop':
        this.following = false;
        this.showJump();
        return;
      case 'resume':
        this.following = true;
        this.frame();
        return;
      case 'pin':
        this.requestFrame();
        return;
      case 'none':
        return;
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
  }

  private showJump(): void {
    const behind = this.following ? 0 : this.session.store.total - this.window.end;
    this.jump.hidden = behind <= 0;
    if (behind > 0) this.jump.textContent = `↓ ${formatCount(behind)} new line${behind === 1 ? '' : 's'}`;
  }
}
