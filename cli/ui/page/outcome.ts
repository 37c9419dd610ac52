// How an operation ended, under its log: the renderer's last lines (the stage summary and the
// ✓/✗ line), what did not reach the page, a lost connection; and a refusal the person can
// answer (an approval, or discarding the changes someone made) as a choice with its button.
import { formatCount } from '../format.js';
import type { OperationSession } from '../session.js';
import { append, h, terminalLine } from './dom.js';
import { PHASE_TONE } from './phase.js';

/** Sends the refused request again with `change` applied (the approval, discarding the changes). */
export type Retry = (session: OperationSession, change: { approve?: string; discardChanges?: boolean }) => void;

export function drawResult(result: HTMLElement, s: OperationSession): void {
  result.replaceChildren();
  result.className = `result ${s.ended ? PHASE_TONE[s.phase] : ''}`;
  // A refusal the page can answer says it all below, with the choice.
  if (s.refusal && s.request) return;
  if (s.final) {
    const lines = s.final.replace(/\n$/, '').split('\n');
    for (const line of lines) {
      const el = h('div', { class: 'ln' });
      terminalLine(el, line);
      result.appendChild(el);
    }
  }
  if (s.dropped > 0) {
    append(result, [h('p', { class: 'note' }, `${formatCount(s.dropped)} lines did not reach this page while it fell behind; the download has them all.`)]);
  }
  if (s.phase === 'lost') {
    append(result, [
      h('p', { class: 'note', testid: 'lost' }, s.lostReason || 'The connection to the server was lost.', s.id ? ' The operation may still be running: its card shows where it got to.' : ''),
    ]);
  }
}

export function drawChoice(choice: HTMLElement, s: OperationSession, retry: Retry): void {
  const refusal = s.refusal;
  choice.hidden = !refusal;
  choice.replaceChildren();
  if (!refusal) return;
  const canRetry = s.request !== undefined;
  if (refusal.kind === 'untrusted') {
    append(choice, [
      h('h3', null, 'The project’s config changed since it was approved'),
      h('p', { class: 'muted' }, 'This is what it would run now that it did not before. Approve exactly this to go on.'),
      h('pre', { class: 'difference', testid: 'difference' }, refusal.difference),
      canRetry
        ? h(
            'div',
            { class: 'choice-actions' },
            h(
              'button',
              { class: 'button primary', testid: 'approve', attrs: { type: 'button' }, on: { click: () => retry(s, { approve: refusal.approval }) } },
              `Approve and ${s.action ?? 'run'}`,
            ),
          )
        : h('p', { class: 'muted' }, 'Approve it with ', h('code', null, 'piko trust'), ' in a terminal.'),
    ]);
    return;
  }
  append(choice, [
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
            { class: 'button danger', testid: 'discard-and-destroy', attrs: { type: 'button' }, on: { click: () => retry(s, { discardChanges: true }) } },
            'Discard the changes and destroy',
          ),
        )
      : null,
  ]);
}
