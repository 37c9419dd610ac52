// The page's questions: a new environment, a destroy (with the CLI's choices), and an
// environment's past operations. Each is a modal <dialog>, made when asked and gone when closed.
import { ago, formatDuration } from '../format.js';
import type { Env, OperationRecord, ProjectInfo } from '../model.js';
import type { OperationRequestBody } from '../session.js';
import { api } from './api.js';
import { fill, h } from './dom.js';

/** core/state's rule for names (PIKO_ERR_NAME_INVALID), checked here only to say so sooner. */
const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

function modal(testid: string, title: string, ...content: (Node | null)[]): HTMLDialogElement {
  const dialog = h('dialog', { class: 'dialog', testid, attrs: { 'aria-label': title } }, ...content);
  dialog.addEventListener('close', () => dialog.remove());
  // A click on the backdrop (the dialog itself, outside its content) closes it.
  dialog.addEventListener('click', (event) => {
    if (event.target === dialog) dialog.close();
  });
  document.body.appendChild(dialog);
  dialog.showModal();
  return dialog;
}

function field(label: string, control: HTMLElement, help?: string): HTMLElement {
  return h('label', { class: 'field' }, h('span', { class: 'label' }, label), control, help ? h('span', { class: 'help muted' }, help) : null);
}

function actions(cancel: () => void, submit: HTMLButtonElement): HTMLElement {
  return h(
    'div',
    { class: 'dialog-actions' },
    h('button', { class: 'button quiet', testid: 'dialog-cancel', attrs: { type: 'button' }, on: { click: cancel } }, 'Cancel'),
    submit,
  );
}

/** `piko create`: a name, the base branch, and the environment to copy from. */
export function askCreate(project: ProjectInfo, start: (request: OperationRequestBody) => void): void {
  const name = h('input', {
    testid: 'create-name',
    attrs: { name: 'name', required: true, autocomplete: 'off', spellcheck: 'false', placeholder: 'feature-x', maxlength: 63 },
  });
  const branch = h('select', { testid: 'create-branch', attrs: { name: 'branch', disabled: true } }, h('option', { attrs: { value: '' } }, 'Loading branches…'));
  const from = h(
    'select',
    { testid: 'create-from', attrs: { name: 'from' } },
    h('option', { attrs: { value: '' } }, 'the repository'),
    ...project.environments.filter((e) => !e.placeholder).map((e) => h('option', { attrs: { value: e.name } }, e.name)),
  );
  const problem = h('p', { class: 'problem', testid: 'create-problem', attrs: { hidden: true, role: 'alert' } });
  const submit = h('button', { class: 'button primary', testid: 'create-submit', attrs: { type: 'submit' } }, 'Create');
  const form = h(
    'form',
    { class: 'dialog-form' },
    h('h2', null, 'New environment in ', h('span', { class: 'mono' }, project.name)),
    field('Name', name, 'Lowercase letters, digits, - and _. Its branch gets the same name.'),
    field('Base branch', branch, 'The new branch starts here.'),
    field('Copy ignored files and databases from', from, 'What .worktreeinclude names (node_modules, .env…), and its databases.'),
    problem,
    actions(() => dialog.close(), submit),
  );
  const dialog = modal('create-dialog', 'New environment', form);
  name.focus();
  void api.branches(project.name).then(
    (branches) => {
      // The current branch first: that is the one `piko create` starts from without --branch.
      fill(branch, ...branches.map((b, i) => h('option', { attrs: { value: i === 0 ? '' : b } }, i === 0 ? `${b} (current)` : b)));
      branch.disabled = false;
    },
    (err: unknown) => {
      fill(branch, h('option', { attrs: { value: '' } }, 'the current branch'));
      branch.title = `Could not list the branches: ${(err as Error).message}`;
    },
  );
  name.addEventListener('input', () => (problem.hidden = true));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const value = name.value.trim();
    if (!NAME.test(value)) {
      problem.textContent = 'A name is lowercase letters, digits, - or _, starting with a letter or digit (63 at most).';
      problem.hidden = false;
      name.focus();
      return;
    }
    if (project.environments.some((e) => e.name === value)) {
      problem.textContent = `${project.name} already has an environment named ${value}.`;
      problem.hidden = false;
      name.focus();
      return;
    }
    dialog.close();
    start({
      action: 'create',
      project: project.name,
      environment: value,
      ...(branch.value ? { branch: branch.value } : {}),
      ...(from.value ? { from: from.value } : {}),
    });
  });
}

/** `piko destroy`, with its options. A worktree with changes is refused by the server, and the refusal offers to discard them. */
export function askDestroy(env: Env, start: (request: OperationRequestBody) => void): void {
  const keepVolumes = h('input', { testid: 'destroy-keep-volumes', attrs: { type: 'checkbox', name: 'keepVolumes' } });
  const deleteBranch = h('input', { testid: 'destroy-delete-branch', attrs: { type: 'checkbox', name: 'deleteBranch' } });
  const force = h('input', { testid: 'destroy-force', attrs: { type: 'checkbox', name: 'force' } });
  const submit = h('button', { class: 'button danger', testid: 'destroy-submit', attrs: { type: 'submit' } }, `Destroy ${env.name}`);
  const check = (input: HTMLInputElement, label: string, help: string): HTMLElement =>
    h('label', { class: 'check' }, input, h('span', null, label, h('span', { class: 'help muted' }, help)));
  const form = h(
    'form',
    { class: 'dialog-form' },
    h('h2', null, 'Destroy ', h('span', { class: 'mono' }, env.name), '?'),
    h(
      'p',
      { class: 'muted' },
      env.mode === 'docker' ? 'Its containers and networks, its worktree ' : 'Its worktree ',
      h('span', { class: 'mono' }, env.path),
      ', its data directory and its record go. A worktree with changes someone made is not removed: you will be asked.',
    ),
    env.mode === 'docker' || (env.shared ?? []).some((u) => u.database)
      ? check(keepVolumes, 'Keep its volumes', 'And its database: a later environment of the same name uses them again.')
      : null,
    check(deleteBranch, `Delete the branch ${env.branch}`, 'Otherwise the branch stays.'),
    check(force, 'Force', 'Throw away changes, delete the branch, and carry on past docker errors.'),
    actions(() => dialog.close(), submit),
  );
  const dialog = modal('destroy-dialog', `Destroy ${env.name}`, form);
  submit.focus();
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    dialog.close();
    start({
      action: 'destroy',
      project: env.project,
      environment: env.name,
      ...(keepVolumes.checked ? { keepVolumes: true } : {}),
      ...(deleteBranch.checked ? { deleteBranch: true } : {}),
      ...(force.checked ? { force: true } : {}),
    });
  });
}

/** An environment's past operations; each opens its log. */
export function showHistory(env: Env, open: (record: OperationRecord) => void): void {
  const list = h('ol', { class: 'history', testid: 'history-list' }, h('li', { class: 'muted' }, 'Loading…'));
  const dialog = modal(
    'history-dialog',
    `Operations of ${env.name}`,
    h(
      'div',
      { class: 'dialog-form' },
      h('h2', null, 'Operations of ', h('span', { class: 'mono' }, env.name)),
      list,
      h(
        'div',
        { class: 'dialog-actions' },
        h('button', { class: 'button quiet', testid: 'dialog-cancel', attrs: { type: 'button' }, on: { click: () => dialog.close() } }, 'Close'),
      ),
    ),
  );
  void api.operations(env.project, env.name).then(
    (records) => {
      if (records.length === 0) return fill(list, h('li', { class: 'muted' }, 'None yet.'));
      fill(
        list,
        ...records.map((record) => {
          const took = record.endedAt ? formatDuration(Date.parse(record.endedAt) - Date.parse(record.startedAt)) : '';
          const tone = record.status === 'running' ? 'busy' : record.status === 'succeeded' ? 'ok' : 'bad';
          return h(
            'li',
            { class: `history-item ${tone}`, testid: 'history-item', attrs: { 'data-operation': record.id } },
            h(
              'button',
              {
                class: 'history-open',
                attrs: { type: 'button' },
                on: {
                  click: () => {
                    dialog.close();
                    open(record);
                  },
                },
              },
              h('span', { class: 'status-mark' }, record.status === 'running' ? '…' : record.status === 'succeeded' ? '✓' : '✗'),
              h('span', { class: 'kind' }, record.kind),
              h('span', { class: 'muted' }, ago(record.startedAt)),
              took ? h('span', { class: 'muted' }, took) : null,
              record.status === 'failed' ? h('span', { class: 'op-error' }, record.stage ? `at ${record.stage}: ` : '', (record.error ?? '').split('\n')[0]!) : null,
            ),
          );
        }),
      );
    },
    (err: unknown) => fill(list, h('li', { class: 'problem' }, `Could not list them: ${(err as Error).message}`)),
  );
}
