// An environment's card: its name and status, branch, mode and marks, its ports as links with
// copy buttons, its shared services, its worktree, its last operation, and the buttons for what
// may be done to it now.
import { ago, hostPorts, operationLine, portUrl } from '../format.js';
import { actionsFor, type Env } from '../model.js';
import type { BoardActions } from './board.js';
import { copyButton } from './copy-button.js';
import { h, icon } from './dom.js';

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

export function card(env: Env, actions: BoardActions): HTMLElement {
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
