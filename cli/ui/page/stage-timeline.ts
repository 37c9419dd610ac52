// An operation's stages as the panel shows them: a chip per stage (✓, ✗, skipped, or a spinner
// and its clock while it runs) and a bar of the time each one took.
import { formatDuration } from '../format.js';
import type { StageView } from '../session.js';
import { fill, h } from './dom.js';

const STAGE_MARKS = { ok: '✓', failed: '✗', skipped: '–', running: '' } as const;

export class StageTimeline {
  /** The chips. */
  readonly list: HTMLElement;
  /** The proportions of the stages that took time. */
  readonly bar: HTMLElement;

  constructor() {
    this.list = h('ol', { class: 'stages', testid: 'stages', attrs: { 'aria-label': 'stages' } });
    this.bar = h('div', { class: 'stage-bar', attrs: { 'aria-hidden': 'true' } });
  }

  draw(stages: readonly StageView[]): void {
    fill(
      this.list,
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
    // Where the minutes went, at a glance.
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

  /** The running stage's clock: only where this page saw it start as it happened (a replayed start is not its start). */
  tick(stages: readonly StageView[], now: number): void {
    const running = this.list.querySelector<HTMLElement>('.stage.running time');
    const stage = stages.findLast((st) => st.state === 'running');
    if (running && stage) running.textContent = formatDuration(now - stage.seenAt);
  }
}
