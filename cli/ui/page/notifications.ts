// Notifications of operations that ended: asked for from the bell (browsers ignore a request
// not made from a click), raised only while the tab is hidden, and once per operation whichever
// way its end was heard of (the change stream, or the page's own stream of it).
import type { OperationSummary } from '../model.js';
import type { OperationSession } from '../session.js';
import { h, icon } from './dom.js';

const NOTIFY_KEY = 'piko.notifications';

type Ended = Pick<OperationSummary, 'id' | 'kind' | 'status' | 'stage' | 'error'>;

export class Notifications {
  readonly bell: HTMLButtonElement;
  private readonly notified = new Set<string>();

  /** @param opened a notification was clicked: show that operation. */
  constructor(private readonly opened: (project: string, environment: string, operation: string) => void) {
    this.bell = h('button', { class: 'icon-button', testid: 'notifications', attrs: { type: 'button' }, on: { click: () => void this.toggle() } });
    this.drawBell();
  }

  /** An operation the page followed ended: the same notice as one the change stream told of. */
  sessionEnded(session: OperationSession): void {
    if (!session.id || !session.action || !session.project || !session.environment) return;
    const complete = session.complete;
    this.ended(session.project, session.environment, {
      id: session.id,
      kind: session.action,
      status: complete?.success ? 'succeeded' : 'failed',
      stage: complete && !complete.success ? (complete.stage ?? null) : null,
      error: complete && !complete.success ? complete.error : null,
    });
  }

  ended(project: string, environment: string, op: Ended): void {
    if (this.notified.has(op.id)) return;
    this.notified.add(op.id);
    if (!document.hidden || !this.on()) return;
    const ok = op.status === 'succeeded';
    const verb = ({ create: 'is ready', destroy: 'is destroyed', up: 'is up', down: 'is down', restart: 'restarted' } as const)[op.kind];
    const title = ok ? `✓ ${environment} ${verb}` : `✗ ${environment}: ${op.kind} failed${op.stage ? ` at ${op.stage}` : ''}`;
    const body = `${project}${!ok && op.error ? ` · ${op.error.split('\n')[0]}` : ''}`;
    const notification = new Notification(title, { body, tag: op.id });
    notification.onclick = () => {
      window.focus();
      this.opened(project, environment, op.id);
      notification.close();
    };
  }

  private on(): boolean {
    return 'Notification' in window && Notification.permission === 'granted' && localStorage.getItem(NOTIFY_KEY) !== 'off';
  }

  private drawBell(): void {
    const supported = 'Notification' in window;
    this.bell.hidden = !supported;
    if (!supported) return;
    const on = this.on();
    const denied = Notification.permission === 'denied';
    this.bell.replaceChildren(icon(on ? 'bell' : 'bellOff'));
    this.bell.classList.toggle('on', on);
    this.bell.dataset.state = on ? 'on' : denied ? 'denied' : 'off';
    const label = denied
      ? 'Notifications are blocked for this page in the browser’s settings'
      : on
        ? 'Notifications on: an operation that ends while this tab is hidden says so. Click to turn them off'
        : 'Notify me when an operation ends while this tab is hidden';
    this.bell.title = label;
    this.bell.setAttribute('aria-label', label);
  }

  private async toggle(): Promise<void> {
    if (!('Notification' in window)) return;
    if (Notification.permission === 'default') {
      await Notification.requestPermission();
      localStorage.removeItem(NOTIFY_KEY);
    } else if (Notification.permission === 'granted') {
      localStorage.setItem(NOTIFY_KEY, this.on() ? 'off' : 'on');
    }
    this.drawBell();
  }
}
