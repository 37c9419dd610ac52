// How an operation's phase reads wherever the page names it (its tab, its header, its result):
// the words, and the tone (a colour class) that says at a glance whether it went well.
import type { Phase } from '../session.js';

export const PHASE_TEXT: Record<Phase, string> = {
  starting: 'starting',
  running: 'running',
  succeeded: 'succeeded',
  failed: 'failed',
  cancelled: 'cancelled',
  refused: 'refused',
  lost: 'connection lost',
};

export const PHASE_TONE: Record<Phase, string> = {
  starting: 'busy',
  running: 'busy',
  succeeded: 'ok',
  failed: 'bad',
  cancelled: 'warn',
  refused: 'bad',
  lost: 'warn',
};
