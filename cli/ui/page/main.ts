// The dashboard: follows `/api/events` (an EventSource, which resumes by itself with
// Last-Event-ID) into the board, and runs operations with their output in the panel.
import { applyEvent, boardOf, emptyBoard, runningCount, type Board, type Env, type OperationRecord, type OperationSummary } from '../model.js';
import { OperationSession, type OperationRequestBody } from '../session.js';
import { api, SignedOut, streamOperation, type StreamTarget } from './api.js';
import { BoardView } from './board.js';
import { askCreate, askDestroy, showHistory } from './dialogs.js';
import { fill, h, icon } from './dom.js';
import { Panel } from './panel.js';

const EVENT_KINDS = ['snapshot', 'environment', 'environment-removed', 'operation'] as const;
/** Connection attempts to an operation's stream in a row before the page says it lost it. */
const STREAM_TRIES = 6;
const NOTIFY_KEY = 'piko.notifications';

type Connection = 'connecting' | 'live' | 'reconnecting' | 'offline';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A name fit for a file name, whatever the data said. */
const safeName = (text: string | undefined): string => (text ?? '').replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 80) || 'operation';

class App {
  private board: Board = emptyBoard();
  private loaded = false;
  private events: EventSource | undefined;
  private retryMs = 1000;
  private readonly streams = new Map<OperationSession, AbortController>();
  private readonly notified = new Set<string>();
  private boardScheduled = false;
  private readonly boardView: BoardView;
  private readonly panel: Panel;
  private readonly connection: HTMLElement;
  private readonly version: HTMLElement;
  private readonly bell: HTMLButtonElement;
  private readonly outputButton: HTMLButtonElement;
  private readonly toasts: HTMLElement;
  private readonly layout: HTMLElement;

  constructor(private readonly root: HTMLElement) {
    const main = h('main', { class: 'board', testid: 'board' });
    this.boardView = new BoardView(main, {
      create: (project) => askCreate(project, (request) => this.start(request)),
      run: (env, action) => this.start({ action, project: env.project, environment: env.name }),
      destroy: (env) => askDestroy(env, (request) => this.start(request)),
      watch: (env) => this.watch(env),
      cancel: (env) => {
        const id = env.lastOperation?.id;
        if (id) this.cancel(id);
      },
      history: (env) => showHistory(env, (record) => this.openRecord(env, record)),
      copied: (what) => this.toast(what ? `Copied ${what}` : 'Could not copy: the browser refused', what ? 'info' : 'bad'),
    });
    this.panel = new Panel(
      {
        cancel: (session) => {
          if (session.id) this.cancel(session.id);
        },
        retry: (session, change) => {
          if (session.request) this.start({ ...session.request, ...change }, session);
        },
        download: (session) => void this.download(session),
        close: (session) => this.streams.get(session)?.abort(),
      },
      (open) => {
        this.layout.classList.toggle('with-panel', open);
        this.drawOutputButton();
      },
    );
    this.connection = h('span', { class: 'connection', testid: 'connection', attrs: { role: 'status' } });
    this.version = h('span', { class: 'version muted', testid: 'version' });
    this.bell = h('button', { class: 'icon-button', testid: 'notifications', attrs: { type: 'button' }, on: { click: () => void this.toggleNotifications() } });
    this.outputButton = h('button', { class: 'button small quiet', testid: 'show-output', attrs: { type: 'button', hidden: true }, on: { click: () => this.panel.reveal() } });
    this.toasts = h('div', { class: 'toasts', testid: 'toasts', attrs: { 'aria-live': 'polite' } });
    this.layout = h('div', { class: 'layout' }, main, this.panel.root);
    fill(
      root,
      h(
        'header',
        { class: 'top' },
        h('span', { class: 'brand' }, h('span', { class: 'logo', attrs: { 'aria-hidden': 'true' } }), 'piko'),
        this.connection,
        h('span', { class: 'spacer' }),
        this.version,
        this.outputButton,
        this.bell,
        h('button', { class: 'button small quiet', testid: 'sign-out', attrs: { type: 'button' }, on: { click: () => void this.signOut() } }, 'Sign out'),
      ),
      this.layout,
      this.toasts,
    );
    this.setConnection('connecting');
    this.drawBell();
    this.renderBoard();
    setInterval(() => this.boardView.tick(), 30_000);
  }

  start(request: OperationRequestBody, replacing?: OperationSession): void {
    const session = new OperationSession({ request });
    this.panel.open(session, replacing);
    if (replacing) this.streams.get(replacing)?.abort();
    void this.run(session, { start: request });
  }

  /** The environment's last operation in the panel: followed while it runs, its log once it ended. */
  private watch(env: Env): void {
    const op = env.lastOperation;
    if (!op) return;
    this.attach(env, op);
  }

  private openRecord(env: Env, record: OperationRecord): void {
    this.attach(env, record);
  }

  private attach(env: Pick<Env, 'project' | 'name'>, op: Pick<OperationSummary, 'id' | 'kind' | 'status' | 'startedAt'>): void {
    const open = this.panel.find(op.id);
    if (open) return this.panel.open(open);
    const startedAt = Date.parse(op.startedAt);
    const session = new OperationSession({
      operation: op.id,
      action: op.kind,
      project: env.project,
      environment: env.name,
      ...(Number.isNaN(startedAt) ? {} : { startedAt }),
    });
    this.panel.open(session);
    void this.run(session, { operation: op.id, since: -1, follow: op.status === 'running' });
  }

  /**
   * Reads an operation's stream into its session; a connection lost before its `complete` is
   * taken up again from the last seq the session has (the server replays from there).
   */
  private async run(session: OperationSession, first: StreamTarget): Promise<void> {
    const controller = new AbortController();
    this.streams.set(session, controller);
    const onMessage = (message: Parameters<OperationSession['feed']>[0]): void => {
      session.feed(message);
      tries = 0;
      this.panel.changed(session);
    };
    let target = first;
    let tries = 0;
    try {
      for (;;) {
        try {
          await streamOperation(target, onMessage, controller.signal);
        } catch (err) {
          if (controller.signal.aborted) return;
          if (err instanceof SignedOut) {
            session.lose('Signed out.');
            this.signedOut();
            return;
          }
          // fetch's own failure (the network) is worth trying again; the server's answer is not.
          if (!(err instanceof TypeError)) {
            session.lose((err as Error).message);
            return;
          }
        }
        if (session.ended || controller.signal.aborted) return;
        if ('operation' in target && !target.follow) {
          session.lose('The log ends here, without how the operation ended.');
          return;
        }
        if (session.id === undefined) {
          session.lose('The connection was lost before the server took the request: the board shows whether it started.');
          return;
        }
        if (++tries > STREAM_TRIES) {
          session.lose('The connection to the server was lost.');
          return;
        }
        await sleep(Math.min(8000, 500 * 2 ** (tries - 1)));
        if (controller.signal.aborted) return;
        target = { operation: session.id, since: session.last, follow: true };
      }
    } finally {
      if (this.streams.get(session) === controller) this.streams.delete(session);
      this.panel.changed(session);
      // A replay of a log that ended long ago is not news.
      if (session.ended && session.phase !== 'lost' && ('start' in first || first.follow)) this.sessionEnded(session);
    }
  }

  private cancel(operation: string): void {
    api.cancel(operation).then(
      () => this.toast('Cancelling…', 'info'),
      (err: unknown) => (err instanceof SignedOut ? this.signedOut() : this.toast(`Not cancelled: ${(err as Error).message}`, 'bad')),
    );
  }

  /**
   * The whole log as a file. From memory when the page has all of it; otherwise (a log bigger
   * than the page keeps, or lines that never reached it) from the server's copy.
   */
  private async download(session: OperationSession): Promise<void> {
    let source = session;
    if ((session.store.first > 0 || session.dropped > 0) && session.id) {
      this.toast('Fetching the whole log…', 'info');
      const full = new OperationSession({ operation: session.id, maxChars: Number.MAX_SAFE_INTEGER, ...(session.environment ? { environment: session.environment } : {}) });
      try {
        await streamOperation({ operation: session.id, since: -1, follow: false }, (m) => full.feed(m), new AbortController().signal);
        source = full;
      } catch (err) {
        this.toast(`Could not fetch the whole log (${(err as Error).message}): downloading what the page has`, 'bad');
      }
    }
    const blob = new Blob([...source.plainText()], { type: 'text/plain;charset=utf-8' });
    const url = URL.createObjectURL(blob);
    const link = h('a', { attrs: { href: url, download: `${safeName(session.environment)}-${safeName(session.action)}-${safeName(session.id)}.log` } });
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  /** Follows `/api/events`. */
  follow(): void {
    this.events?.close();
    const events = new EventSource('/api/events');
    this.events = events;
    events.onopen = () => {
      this.retryMs = 1000;
      this.setConnection('live');
    };
    for (const kind of EVENT_KINDS) {
      events.addEventListener(kind, (event) => this.onEvent(kind, (event as MessageEvent<string>).data));
    }
    events.onerror = () => {
      if (events !== this.events) return;
      // CONNECTING: the browser tries again by itself, with Last-Event-ID. CLOSED: it gave up
      // (an answer that was not a stream: 401, 403, 404…), and only a plain request says why.
      if (events.readyState === EventSource.CLOSED) void this.recover();
      else this.setConnection('reconnecting');
    };
  }

  private async recover(): Promise<void> {
    this.setConnection('offline');
    try {
      const overview = await api.overview();
      // The server answers, but not with the stream: show what it says now, and try again.
      if (!this.loaded) {
        this.board = boardOf(overview);
        this.loaded = true;
        this.renderBoard();
      }
    } catch (err) {
      if (err instanceof SignedOut) return this.signedOut();
    }
    const wait = this.retryMs;
    this.retryMs = Math.min(30_000, this.retryMs * 2);
    setTimeout(() => {
      if (this.events?.readyState === EventSource.CLOSED) this.follow();
    }, wait);
  }

  private onEvent(kind: string, text: string): void {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      return;
    }
    const { board, ended } = applyEvent(this.board, kind, data);
    this.board = board;
    if (kind === 'snapshot') this.loaded = true;
    if (ended) this.notifyEnded(ended.project, ended.environment, ended.operation);
    this.scheduleBoard();
  }

  private scheduleBoard(): void {
    if (this.boardScheduled) return;
    this.boardScheduled = true;
    requestAnimationFrame(() => {
      this.boardScheduled = false;
      this.renderBoard();
    });
  }

  private renderBoard(): void {
    this.boardView.render(this.board, this.loaded);
    const running = runningCount(this.board);
    document.title = running > 0 ? `(${running}) piko` : 'piko';
    this.version.textContent = this.board.version ? `piko ${this.board.version}` : '';
  }

  private setConnection(state: Connection): void {
    const text = { connecting: 'connecting…', live: 'live', reconnecting: 'reconnecting…', offline: 'offline' }[state];
    this.connection.className = `connection ${state}`;
    this.connection.dataset.state = state;
    fill(this.connection, h('span', { class: 'dot' }), text);
    this.connection.title = state === 'live' ? 'Following the server: changes show as they happen' : 'Not hearing from the server';
  }

  private drawOutputButton(): void {
    const count = this.panel.sessions.length;
    this.outputButton.hidden = this.panel.isOpen || count === 0;
    this.outputButton.replaceChildren(icon('terminal'), `Output (${count})`);
  }

  // Notifications: asked for from a click (browsers ignore a request without one), raised only
  // while the tab is hidden, and once per operation whichever way its end was heard of.

  private notificationsOn(): boolean {
    return 'Notification' in window && Notification.permission === 'granted' && localStorage.getItem(NOTIFY_KEY) !== 'off';
  }

  private drawBell(): void {
    const supported = 'Notification' in window;
    this.bell.hidden = !supported;
    if (!supported) return;
    const on = this.notificationsOn();
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

  private async toggleNotifications(): Promise<void> {
    if (!('Notification' in window)) return;
    if (Notification.permission === 'default') {
      await Notification.requestPermission();
      localStorage.removeItem(NOTIFY_KEY);
    } else if (Notification.permission === 'granted') {
      localStorage.setItem(NOTIFY_KEY, this.notificationsOn() ? 'off' : 'on');
    }
    this.drawBell();
  }

  private sessionEnded(session: OperationSession): void {
    if (!session.id || !session.action || !session.project || !session.environment) return;
    const complete = session.complete;
    this.notifyEnded(session.project, session.environment, {
      id: session.id,
      kind: session.action,
      status: complete?.success ? 'succeeded' : 'failed',
      stage: complete && !complete.success ? (complete.stage ?? null) : null,
      error: complete && !complete.success ? complete.error : null,
    });
  }

  private notifyEnded(project: string, environment: string, op: Pick<OperationSummary, 'id' | 'kind' | 'status' | 'stage' | 'error'>): void {
    if (this.notified.has(op.id)) return;
    this.notified.add(op.id);
    if (!document.hidden || !this.notificationsOn()) return;
    const ok = op.status === 'succeeded';
    const verb = ({ create: 'is ready', destroy: 'is destroyed', up: 'is up', down: 'is down', restart: 'restarted' } as const)[op.kind];
    const title = ok ? `✓ ${environment} ${verb}` : `✗ ${environment}: ${op.kind} failed${op.stage ? ` at ${op.stage}` : ''}`;
    const body = `${project}${!ok && op.error ? ` · ${op.error.split('\n')[0]}` : ''}`;
    const notification = new Notification(title, { body, tag: op.id });
    notification.onclick = () => {
      window.focus();
      const env = this.board.projects.find((p) => p.name === project)?.environments.find((e) => e.name === environment);
      if (env?.lastOperation?.id === op.id) this.watch(env);
      else this.panel.reveal();
      notification.close();
    };
  }

  toast(text: string, tone: 'info' | 'bad'): void {
    const el = h('div', { class: `toast ${tone}`, testid: 'toast', attrs: { role: tone === 'bad' ? 'alert' : 'status' } }, text);
    this.toasts.appendChild(el);
    setTimeout(() => el.remove(), tone === 'bad' ? 6000 : 2500);
  }

  private async signOut(): Promise<void> {
    try {
      await api.logout();
    } catch {
      // Signed out either way: the page forgets the session.
    }
    this.signedOut();
  }

  /** The page's session is gone: nothing here works until `piko ui` signs a page in again. */
  signedOut(): void {
    this.events?.close();
    this.events = undefined;
    for (const controller of this.streams.values()) controller.abort();
    document.title = 'piko: signed out';
    fill(this.root, signedOutPage());
  }
}

function signedOutPage(): HTMLElement {
  return h(
    'div',
    { class: 'signed-out', testid: 'signed-out' },
    h('span', { class: 'logo big', attrs: { 'aria-hidden': 'true' } }),
    h('h1', null, 'Signed out'),
    h('p', null, 'Run ', h('code', { testid: 'signed-out-command' }, 'piko ui'), ' in a terminal: it opens this dashboard signed in.'),
    h('p', { class: 'muted' }, 'A sign-in lasts while the server runs (12 hours at most), in this browser only.'),
  );
}

const root = document.getElementById('app');
if (root) {
  const app = new App(root);
  app.follow();
}
