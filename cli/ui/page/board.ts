// The projects and their environments: a section per project, a card per environment. A card
// is made again only when its environment changed, so a busy board costs the DOM what changed.
import type { OperationKind } from '../../../core/protocol/messages.js';
import { ago, hostPorts, operationLine, portUrl } from '../format.js';
import { actionsFor, type Board, type Env, type ProjectInfo } from '../model.js';
import { fill, h, icon } from './dom.js';

export interface BoardActions {
  create(project: ProjectInfo): void;
  run(env: Env, action: Exclude<OperationKind, 'create' | 'destroy'>): void;
  destroy(env: Env): void;
  /** Opens the environment's last operation (following it while it runs). */
  watch(env: Env): void;
  cancel(env: Env): void;
  history(env: Env): void;
  copied(what: string): void;
}

/** A button that puts `text` on the clipboard, and says so. */
export function copyButton(text: string, what: string, actions: Pick<BoardActions, 'copied'>, testid: string): HTMLButtonElement {
  const button = h('button', {
    class: 'icon-button copy',
    testid,
    attrs: { type: 'button', title: `Copy ${what}`, 'aria-label': `Copy ${what}` },
    on: {
      click: () => {
        void navigator.clipboard.writeText(text).then(
          () => {
            button.replaceChildren(icon('check'));
            button.classList.add('done');
            setTimeout(() => {
              button.replaceChildren(icon('copy'));
              button.classList.remove('done');
            }, 1200);
            actions.copied(what);
          },
          () => actions.copied(''),
        );
      },
    },
  });
  button.appendChild(icon('copy'));
  return button;
}

/** The words and tone of an environment's status: what is going on with it, first. */
function statusOf(env: Env): { text: string; tone: string } {
  const op = env.lastOperation;
  if (op?.status === 'running') {
    const doing = ({ create: 'creating', destroy: 'destroying', up: 'starting', down: 'stopping', restart: 'restarting' } as const)[op.kind];
    return { text: doing, tone: 'busy' };
  }
  const tones: Record<string, string> = { running: 'ok', ready: 'ready', stopped: 'idle', failed: 'bad', creating: 'bad', destroying: 'bad' };
  // `creating`/`destroying` with nothing running: an operation that died half way.
  const text = env.status === 'creating' || env.status === 'destroying' ? `${env.status} (interrupted)` : env.status;
  return { text, tone: tones[env.status] ?? 'idle' };
}

function portsOf(env: Env, actions: BoardActions): HTMLElement | null {
  if (env.ports.length === 0) return null;
  return h(
    'ul',
    { class: 'ports', testid: 'ports' },
    ...env.ports.map((binding) =>
      h(
        'li',
        { class: 'port' },
        h('span', { class: 'service' }, binding.service),
        h('span', { class: 'container-port', attrs: { title: `container port ${binding.containerPort}/${binding.protocol}` } }, String(binding.containerPort)),
        h('span', { class: 'arrow', attrs: { 'aria-hidden': 'true' } }, '→'),
        ...hostPorts(binding).flatMap((port) => {
          const url = portUrl(port);
          if (!url || binding.protocol === 'udp') return [h('span', { class: 'host-port' }, `:${port}`)];
          return [
            h('a', { class: 'host-port', testid: 'port-link', attrs: { href: url, target: '_blank', rel: 'noopener noreferrer' } }, `localhost:${port}`),
            copyButton(url, url, actions, 'copy-port'),
          ];
        }),
        (binding.replicas ?? 1) > 8 ? h('span', { class: 'more' }, `… ${binding.replicas} replicas`) : null,
      ),
    ),
  );
}

function sharedOf(env: Env): HTMLElement | null {
  const uses = env.shared ?? [];
  if (uses.length === 0) return null;
  return h(
    'p',
    { class: 'shared muted', testid: 'shared' },
    'shared: ',
    ...uses.flatMap((use, i) => [
      i > 0 ? ', ' : '',
      use.service,
      use.database ? h('span', { class: 'mono' }, ` (${use.database.name})`) : '',
    ]),
  );
}

function lastOperationOf(env: Env, actions: BoardActions): HTMLElement | null {
  const op = env.lastOperation;
  if (!op) return null;
  const tone = op.status === 'running' ? 'busy' : op.status === 'succeeded' ? 'ok' : 'bad';
  const mark = op.status === 'running' ? h('span', { class: 'spinner', attrs: { 'aria-hidden': 'true' } }) : op.status === 'succeeded' ? '✓' : '✗';
  return h(
    'div',
    { class: `last-op ${tone}`, testid: 'last-operation' },
    h('span', { class: 'mark' }, mark),
    h(
      'button',
      {
        class: 'link',
        testid: 'open-log',
        attrs: { type: 'button', title: op.status === 'running' ? 'Follow its output' : 'Read its log' },
        on: { click: () => actions.watch(env) },
      },
      operationLine(op),
    ),
    h('time', { class: 'ago muted', attrs: { datetime: op.startedAt, 'data-ago': op.endedAt ?? op.startedAt } }, ago(op.endedAt ?? op.startedAt)),
    op.status === 'failed' && op.error ? h('p', { class: 'op-error', testid: 'last-error' }, op.error.split('\n')[0]!) : null,
  );
}

function button(label: string, testid: string, onClick: () => void, extra = ''): HTMLButtonElement {
  return h('button', { class: `button small ${extra}`, testid, attrs: { type: 'button' }, on: { click: onClick } }, label);
}

function card(env: Env, actions: BoardActions): HTMLElement {
  const status = statusOf(env);
  const can = actionsFor(env);
  const running = env.lastOperation?.status === 'running';
  return h(
    'article',
    { class: `card tone-${status.tone}`, testid: 'environment', attrs: { 'data-project': env.project, 'data-environment': env.name, 'aria-busy': running ? 'true' : undefined } },
    h(
      'header',
      { class: 'card-head' },
      h('h3', { class: 'env-name', testid: 'environment-name' }, env.name),
      h('span', { class: `status ${status.tone}`, testid: 'status' }, status.tone === 'busy' ? h('span', { class: 'spinner' }) : h('span', { class: 'dot' }), status.text),
    ),
    h(
      'p',
      { class: 'meta' },
      env.branch ? h('span', { class: 'branch', attrs: { title: 'branch' } }, icon('branch'), env.branch) : null,
      env.placeholder ? null : h('span', { class: 'mode', testid: 'mode' }, env.mode),
      ...env.marks.map((mark) => h('span', { class: `mark-badge ${mark}`, testid: `mark-${mark}`, attrs: { title: MARK_TITLES[mark] } }, mark)),
    ),
    portsOf(env, actions),
    sharedOf(env),
    env.path
      ? h(
          'p',
          { class: 'path', testid: 'path' },
          icon('folder'),
          // Cut at the start (the end of a path says which it is): right-to-left with an ellipsis,
          // the path itself isolated as left-to-right so its slashes stay where they are.
          h('span', { class: 'mono path-text', attrs: { title: env.path } }, h('bdi', null, env.path)),
          copyButton(env.path, 'the worktree path', actions, 'copy-path'),
        )
      : null,
    lastOperationOf(env, actions),
    h(
      'footer',
      { class: 'card-actions' },
      running ? button('Cancel', 'cancel', () => actions.cancel(env), 'danger-quiet') : null,
      can.up ? button('Up', 'up', () => actions.run(env, 'up')) : null,
      can.down ? button('Down', 'down', () => actions.run(env, 'down')) : null,
      can.restart ? button('Restart', 'restart', () => actions.run(env, 'restart')) : null,
      h('span', { class: 'spacer' }),
      env.placeholder
        ? null
        : h(
            'button',
            { class: 'icon-button', testid: 'history', attrs: { type: 'button', title: 'Past operations', 'aria-label': 'Past operations' }, on: { click: () => actions.history(env) } },
            icon('history'),
          ),
      can.destroy ? button('Destroy', 'destroy', () => actions.destroy(env), 'danger-quiet') : null,
    ),
  );
}

const MARK_TITLES = {
  merged: 'its branch is merged into the branch it was made from',
  gone: 'its branch no longer exists',
  idle: 'not used for two weeks',
} as const;

/** Renders boards into one container, keeping the cards (and sections) that did not change. */
export class BoardView {
  private readonly cards = new Map<string, { key: string; el: HTMLElement }>();
  private readonly sections = new Map<string, { key: string; el: HTMLElement; grid: HTMLElement }>();

  constructor(
    private readonly root: HTMLElement,
    private readonly actions: BoardActions,
  ) {}

  render(board: Board, loaded: boolean): void {
    if (!loaded) {
      fill(this.root, h('p', { class: 'empty muted', testid: 'loading' }, 'Loading…'));
      this.sections.clear();
      return;
    }
    if (board.projects.length === 0) {
      this.sections.clear();
      fill(
        this.root,
        h(
          'div',
          { class: 'empty', testid: 'no-projects' },
          h('h2', null, 'No projects yet'),
          h('p', null, 'Run ', h('code', null, 'piko init'), ' in a git repository to add it here.'),
        ),
      );
      return;
    }
    const seen = new Set<string>();
    const order: HTMLElement[] = [];
    for (const project of board.projects) {
      seen.add(project.name);
      order.push(this.section(project));
    }
    for (const name of [...this.sections.keys()]) if (!seen.has(name)) this.sections.delete(name);
    // Only moved when out of place: moving a node that has focus would lose it.
    if (order.some((el, i) => this.root.children[i] !== el) || this.root.children.length !== order.length) this.root.replaceChildren(...order);
  }

  private section(project: ProjectInfo): HTMLElement {
    let section = this.sections.get(project.name);
    const key = `${project.name}\n${project.root}`;
    if (!section || section.key !== key) {
      const grid = h('div', { class: 'cards' });
      const el = h(
        'section',
        { class: 'project', testid: 'project', attrs: { 'data-project': project.name } },
        h(
          'header',
          { class: 'project-head' },
          h('h2', { testid: 'project-name' }, project.name),
          project.root ? h('span', { class: 'root mono muted', attrs: { title: project.root } }, project.root) : null,
          h('span', { class: 'spacer' }),
          h(
            'button',
            { class: 'button primary small', testid: 'create', attrs: { type: 'button' }, on: { click: () => this.actions.create(project) } },
            icon('plus'),
            'New environment',
          ),
        ),
        grid,
      );
      section = { key, el, grid };
      this.sections.set(project.name, section);
    }
    const cards: HTMLElement[] = [];
    for (const env of project.environments) {
      const id = `${project.name}/${env.name}`;
      const key = JSON.stringify(env);
      let entry = this.cards.get(id);
      if (!entry || entry.key !== key) {
        entry = { key, el: card(env, this.actions) };
        this.cards.set(id, entry);
      }
      cards.push(entry.el);
    }
    for (const id of [...this.cards.keys()]) {
      if (id.startsWith(`${project.name}/`) && !project.environments.some((e) => `${project.name}/${e.name}` === id)) this.cards.delete(id);
    }
    const grid = section.grid;
    if (cards.length === 0) {
      fill(grid, h('p', { class: 'empty-project muted', testid: 'no-environments' }, 'No environments. ', 'Make one with New environment, or ', h('code', null, 'piko create <name>'), '.'));
    } else if (cards.some((el, i) => grid.children[i] !== el) || grid.children.length !== cards.length) {
      grid.replaceChildren(...cards);
    }
    return section.el;
  }

  /** Brings the `… ago` times up to date. */
  tick(): void {
    for (const el of this.root.querySelectorAll<HTMLElement>('[data-ago]')) el.textContent = ago(el.dataset.ago);
  }
}
