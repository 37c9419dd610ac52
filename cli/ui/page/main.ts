// The dashboard's entry: the page's parts wired together. The change stream keeps the board
// live; the board's and the panel's buttons start, follow and cancel operations, whose output
// the panel shows; the top bar says whether the page hears from the server.
import { applyEvent, boardOf, emptyBoard, findEnv, runningCount, type Board, type Env, type OperationSummary } from '../model.js';
import { OperationSession, type OperationRequestBody } from '../session.js';
import { api, SignedOut } from './api.js';
import { BoardView } from './board.js';
import { ChangeFeed } from './change-feed.js';
import { ConnectionBadge } from './connection-badge.js';
import { askCreate, askDestroy, showHistory } from './dialogs.js';
import { fill, h, icon } from './dom.js';
import { downloadLog } from './download.js';
import { Notifications } from './notifications.js';
import { OperationRuns } from './operation-runs.js';
import { Panel } from './panel.js';
import { Toasts } from './toasts.js';

class App {
  private board: Board = emptyBoard();
  private loaded = false;
  private boardScheduled = false;
  private readonly feed: ChangeFeed;
  private readonly runs: OperationRuns;
  private readonly boardView: BoardView;
  private readonly panel: Panel;
  private readonly connection = new ConnectionBadge();
  private readonly toasts = new Toasts();
  private readonly notifications: Notifications;
  private readonly version: HTMLElement;
  private readonly outputButton: HTMLButtonElement;
  private readonly layout: HTMLElement;

  constructor(private readonly root: HTMLElement) {
    this.feed = new ChangeFeed({
      event: (kind, data) => this.onEvent(kind, data),
      connection: (state) => this.connection.set(state),
      overview: (overview) => {
        if (this.loaded) return;
        this.board = boardOf(overview);
        this.loaded = true;
        this.renderBoard();
      },
      signedOut: () => this.signedOut(),
    });
    this.runs = new OperationRuns({
      changed: (session) => this.panel.changed(session),
      signedOut: () => this.signedOut(),
      ended: (session) => this.notifications.sessionEnded(session),
    });
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
      history: (env) => showHistory(env, (record) => this.attach(env, record)),
      copied: (what) => this.toasts.show(what ? `Copied ${what}` : 'Could not copy: the browser refused', what ? 'info' : 'bad'),
    });
    this.panel = new Panel(
      {
        cancel: (session) => {
          if (session.id) this.cancel(session.id);
        },
        retry: (session, change) => {
          if (session.request) this.start({ ...session.request, ...change }, session);
        },
        download: (session) => void downloadLog(session, (text, tone) => this.toasts.show(text, tone)),
        close: (session) => this.runs.abort(session),
      },
      (open) => {
        this.layout.classList.toggle('with-panel', open);
        this.drawOutputButton();
      },
    );
    this.notifications = new Notifications((project, environment, operation) => {
      const env = findEnv(this.board, project, environment);
      if (env?.lastOperation?.id === operation) this.watch(env);
      else this.panel.reveal();
    });
    this.version = h('span', { class: 'version muted', testid: 'version' });
    this.outputButton = h('button', { class: 'button small quiet', testid: 'show-output', attrs: { type: 'button', hidden: true }, on: { click: () => this.panel.reveal() } });
    this.layout = h('div', { class: 'layout' }, main, this.panel.root);
    fill(
      root,
      h(
        'header',
        { class: 'top' },
        h('span', { class: 'brand' }, h('span', { class: 'logo', attrs: { 'aria-hidden': 'true' } }), 'piko'),
        this.connection.root,
        h('span', { class: 'spacer' }),
        this.version,
        this.outputButton,
        this.notifications.bell,
        h('button', { class: 'button small quiet', testid: 'sign-out', attrs: { type: 'button' }, on: { click: () => void this.signOut() } }, 'Sign out'),
      ),
      this.layout,
      this.toasts.root,
    );
    this.renderBoard();
    setInterval(() => this.boardView.tick(), 30_000);
  }

  follow(): void {
    this.feed.follow();
  }

  private start(request: OperationRequestBody, replacing?: OperationSession): void {
    const session = new OperationSession({ request });
    this.panel.open(session, replacing);
    if (replacing) this.runs.abort(replacing);
    void this.runs.run(session, { start: request });
  }

  /** The environment's last operation in the panel: followed while it runs, its log once it ended. */
  private watch(env: Env): void {
    const op = env.lastOperation;
    if (op) this.attach(env, op);
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
    void this.runs.run(session, { operation: op.id, since: -1, follow: op.status === 'running' });
  }

  private cancel(operation: string): void {
    api.cancel(operation).then(
      () => this.toasts.show('Cancelling…', 'info'),
      (err: unknown) => (err instanceof SignedOut ? this.signedOut() : this.toasts.show(`Not cancelled: ${(err as Error).message}`, 'bad')),
    );
  }

  private onEvent(kind: string, data: unknown): void {
    const { board, ended } = applyEvent(this.board, kind, data);
    this.board = board;
    if (kind === 'snapshot') this.loaded = true;
    if (ended) this.notifications.ended(ended.project, ended.environment, ended.operation);
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

  private drawOutputButton(): void {
    const count = this.panel.sessions.length;
    this.outputButton.hidden = this.panel.isOpen || count === 0;
    this.outputButton.replaceChildren(icon('terminal'), `Output (${count})`);
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
  private signedOut(): void {
    this.feed.close();
    this.runs.abortAll();
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
if (root) new App(root).follow();
