import { afterEach, describe, expect, it } from '@jest/globals';
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Engine, type PikoPlugin } from '../../../core/engine/engine.js';
import { logsDir } from '../../../core/paths.js';
import { prepareCreate } from '../../../core/prepare/create.js';
import { prepareOperation, type Services } from '../../../core/prepare/prepare.js';
import type { CreateRequest } from '../../../core/protocol/requests.js';
import { State, type ProjectRow } from '../../../core/state/state.js';
import { builtinStagePlugins } from '../../../stages/index.js';
import { cleanup, git, makeRepo, tempDir, writeFiles } from '../../helpers/fixtures.js';

const opened: State[] = [];

afterEach(() => {
  for (const state of opened.splice(0)) state.close();
  cleanup();
});

interface Setup {
  home: string;
  state: State;
  services: Services;
  root: string;
  project: ProjectRow;
}

/** A real state on a temporary PIKO_HOME with the repository at `root` registered as `name`. */
function setup(root = makeRepo(), name = 'app'): Setup {
  const home = tempDir('piko-home-');
  const state = new State(home);
  opened.push(state);
  const project = state.addProject(name, root);
  const services: Services = { state, home, engineFor: (plugins: PikoPlugin[]) => new Engine().use(...builtinStagePlugins(), ...plugins) };
  return { home, state, services, root, project };
}

const create = (environment: string, extra: Partial<CreateRequest> = {}): CreateRequest => ({ action: 'create', environment, ...extra });

/** Everything a create could have reserved or made, to compare before and after a refusal. */
function snapshot({ state, home }: Setup, roots: string[]) {
  return {
    environments: state.listEnvironments().map((e) => `${e.project}/${e.name}:${e.status}`),
    operations: (state.db.prepare('SELECT id FROM operations ORDER BY id').all() as { id: string }[]).map((row) => row.id),
    logs: existsSync(logsDir(home)) ? readdirSync(logsDir(home)) : [],
    repositories: roots.map((root) => ({
      worktrees: git(root, 'worktree', 'list', '--porcelain')
        .split('\n')
        .filter((line) => line.startsWith('worktree ')),
      branches: git(root, 'for-each-ref', '--format=%(refname)', 'refs/heads'),
      piko: existsSync(join(root, '.piko')) ? readdirSync(join(root, '.piko'), { recursive: true }).map(String).sort() : [],
    })),
  };
}

/** Runs `attempt`, which must be refused with `code`; then nothing may have been reserved or made. Returns the error. */
async function refused(s: Setup, code: string, attempt: () => Promise<unknown>, roots = [s.root]): Promise<Error & { code: string }> {
  const before = snapshot(s, roots);
  let error: unknown;
  try {
    await attempt();
  } catch (err) {
    error = err;
  }
  expect(error).toMatchObject({ name: 'PikoError', code });
  expect(snapshot(s, roots)).toEqual(before);
  return error as Error & { code: string };
}

describe('prepareCreate: what it refuses, reserving nothing', () => {
  it('refuses a name that is not allowed', async () => {
    const s = setup();
    for (const name of ['Feature', '-x', '../x', 'a b', '', 'x'.repeat(64), 'feat/one']) {
      const err = await refused(s, 'PIKO_ERR_NAME_INVALID', () => prepareOperation(s.services, create(name)));
      expect(err.message).toContain(JSON.stringify(name));
    }
  });

  it('refuses a project that is not registered, listing those that are', async () => {
    const s = setup();
    const err = await refused(s, 'PIKO_ERR_PROJECT_UNKNOWN', () => prepareOperation(s.services, create('feat', { project: 'nope' })));
    expect(err.message).toContain('"nope"');
    expect(err.message).toContain('projects: app');
  });

  it('refuses a base branch that does not exist, naming it', async () => {
    const s = setup();
    const err = await refused(s, 'PIKO_ERR_BRANCH', () => prepareOperation(s.services, create('feat', { branch: 'no-such-branch' })));
    expect(err.message).toContain('"no-such-branch"');
    expect(err.message).toContain(s.root);
  });

  it('refuses a base that looks like an option, without handing it to git as one', async () => {
    const s = setup();
    const err = await refused(s, 'PIKO_ERR_BRANCH', () => prepareOperation(s.services, create('feat', { branch: '--orphan' })));
    expect(err.message).toContain('"--orphan"');
  });

  it('refuses a repository with no commit to branch from', async () => {
    const root = join(tempDir(), 'empty');
    mkdirSync(root);
    git(root, 'init', '-q', '-b', 'main');
    const s = setup(root);
    const err = await refused(s, 'PIKO_ERR_NOT_GIT_REPO', () => prepareOperation(s.services, create('feat')));
    expect(err.message).toContain('no commit');
  });

  it('refuses a project whose folder is no longer a git repository', async () => {
    const root = tempDir('piko-not-git-');
    const s = setup(root);
    const before = s.state.listEnvironments();
    await expect(prepareOperation(s.services, create('feat'))).rejects.toMatchObject({ code: 'PIKO_ERR_NOT_GIT_REPO', message: expect.stringContaining('no longer a git repository') });
    expect(s.state.listEnvironments()).toEqual(before);
    expect(existsSync(join(root, '.piko'))).toBe(false);
  });

  it('refuses a config that runs something not approved, and takes it approved by the digest it showed', async () => {
    const s = setup(makeRepo({ '.piko.yml': 'scripts:\n  setup: echo hello\n' }));
    const err = (await refused(s, 'PIKO_ERR_UNTRUSTED', () => prepareOperation(s.services, create('feat')))) as Error & { approval?: string };
    expect(err.message).toContain('+ script setup: echo hello');
    expect(err.approval).toMatch(/^[0-9a-f]{32}$/);
    const { operation } = await prepareOperation(s.services, create('feat', { approve: err.approval! }));
    expect(s.state.environment(s.project.id, 'feat')!.status).toBe('creating');
    expect(operation.config.scripts).toEqual({ setup: 'echo hello' });
  });

  it('refuses a name an environment of the project already has', async () => {
    const s = setup();
    await prepareOperation(s.services, create('feat'));
    const err = await refused(s, 'PIKO_ERR_ENV_EXISTS', () => prepareOperation(s.services, create('feat')));
    expect(err.message).toContain('"feat"');
    expect(err.message).toContain('creating');
  });

  it('refuses a name whose compose project another project’s docker environment already has', async () => {
    const s = setup(makeRepo({}, 'x'), 'x');
    const other = s.state.addProject('x-y', makeRepo({}, 'x-y'));
    // x/y-z, made as a docker environment: its compose project is piko-x-y-z, which x-y/z would get too.
    const made = await prepareOperation(s.services, create('y-z', { project: 'x' }));
    s.state.updateEnvironment(made.operation.environment.id, { status: 'running', mode: 'docker', composeProject: 'piko-x-y-z' });
    s.state.finishOperation(made.operation.id, { success: true });
    const err = await refused(s, 'PIKO_ERR_ENV_EXISTS', () => prepareOperation(s.services, create('z', { project: other.name })), [s.root, other.root]);
    expect(err.message).toContain('x/y-z');
    expect(err.message).toContain('piko-x-y-z');
  });

  it('refuses a worktree path where something piko did not make already is', async () => {
    const s = setup();
    writeFiles(s.root, { '.piko/worktrees/feat': 'not a worktree\n' });
    await refused(s, 'PIKO_ERR_PATH_EXISTS', () => prepareOperation(s.services, create('feat')));
  });

  it('refuses a worktree path outside the repository (worktrees:) where a folder already is', async () => {
    const place = tempDir('piko-worktrees-');
    const s = setup(makeRepo({ '.piko.yml': `worktrees: ${place}/{env}\n` }));
    mkdirSync(join(place, 'feat'));
    writeFileSync(join(place, 'feat', 'mine.txt'), 'someone else’s\n');
    await refused(s, 'PIKO_ERR_PATH_EXISTS', () => prepareOperation(s.services, create('feat', { approve: true })));
    expect(readdirSync(join(place, 'feat'))).toEqual(['mine.txt']);
  });

  it('refuses a worktree path that is already another project’s environment’s worktree', async () => {
    const place = tempDir('piko-worktrees-');
    const config = { '.piko.yml': `worktrees: ${place}/{env}\n` };
    const s = setup(makeRepo(config, 'app'));
    const other = s.state.addProject('other', makeRepo(config, 'other'));
    await prepareOperation(s.services, create('feat', { project: 'other', approve: true }));
    const err = await refused(s, 'PIKO_ERR_PATH_EXISTS', () => prepareOperation(s.services, create('feat', { project: 'app', approve: true })), [s.root, other.root]);
    expect(err.message).toContain('other/feat');
  });

  it('refuses a worktree that would lie inside another environment’s worktree', async () => {
    const place = tempDir('piko-worktrees-');
    const s = setup(makeRepo({ '.piko.yml': `worktrees: ${place}/{project}\n` }, 'app'));
    // `other` puts its environments' worktrees in `place/other/<env>`; app's is `place/app/<env>` … unless app's project is named so it lands in one of them.
    const other = s.state.addProject('other', makeRepo({ '.piko.yml': `worktrees: ${place}\n` }, 'other'));
    await prepareOperation(s.services, create('app', { project: 'other', approve: true }));
    expect(s.state.environment(other.id, 'app')!.path).toBe(join(place, 'app'));
    // app's worktree for `feat` would be place/app/feat: inside other/app's.
    const err = await refused(s, 'PIKO_ERR_PATH_EXISTS', () => prepareOperation(s.services, create('feat', { project: 'app', approve: true })), [s.root, other.root]);
    expect(err.message).toContain('other/app');
  });

  it('refuses a repository whose .piko is a symbolic link, and writes nothing through it', async () => {
    const s = setup();
    const elsewhere = tempDir('piko-elsewhere-');
    symlinkSync(elsewhere, join(s.root, '.piko'));
    const err = await refused(s, 'PIKO_ERR_PATH_EXISTS', () => prepareOperation(s.services, create('feat')));
    expect(err.message).toContain('symbolic link');
    expect(readdirSync(elsewhere)).toEqual([]);
  });

  it('refuses --from an environment the project does not have, listing those it has', async () => {
    const s = setup();
    await prepareOperation(s.services, create('base'));
    const err = await refused(s, 'PIKO_ERR_ENV_NOT_FOUND', () => prepareOperation(s.services, create('feat', { from: 'ghost' })));
    expect(err.message).toContain('"ghost"');
    expect(err.message).toContain('environments: base');
  });

  it('refuses --from an environment still being made', async () => {
    const s = setup();
    const { operation } = await prepareOperation(s.services, create('base'));
    // As far as its create got: the worktree is there, the row still says creating.
    mkdirSync(operation.environment.path, { recursive: true });
    const err = await refused(s, 'PIKO_ERR_ENV_NOT_FOUND', () => prepareOperation(s.services, create('feat', { from: 'base' })));
    expect(err.message).toContain('--from base');
    expect(err.message).toContain('it is creating');
  });

  it('refuses --from an environment whose worktree is gone', async () => {
    const s = setup();
    const { operation } = await prepareOperation(s.services, create('base'));
    s.state.updateEnvironment(operation.environment.id, { status: 'ready' });
    s.state.finishOperation(operation.id, { success: true });
    const err = await refused(s, 'PIKO_ERR_ENV_NOT_FOUND', () => prepareOperation(s.services, create('feat', { from: 'base' })));
    expect(err.message).toContain(`its worktree ${operation.environment.path} is not there`);
  });

  it('refuses --branch when a branch of the environment’s name already exists', async () => {
    const s = setup();
    git(s.root, 'branch', 'feat');
    const err = await refused(s, 'PIKO_ERR_BRANCH', () => prepareOperation(s.services, create('feat', { branch: 'main' })));
    expect(err.message).toContain('"feat" already exists');
  });
});

describe('prepareCreate: a request that passes', () => {
  it('reserves the environment row as creating, with its operation running, and makes nothing yet', async () => {
    const s = setup();
    const { operation } = await prepareCreate(s.services, create('feat'));
    const row = s.state.environment(s.project.id, 'feat');
    expect(row).toMatchObject({
      name: 'feat',
      project: 'app',
      status: 'creating',
      branch: 'feat',
      path: join(s.root, '.piko', 'worktrees', 'feat'),
      dataDir: join(s.root, '.piko', 'data', 'feat'),
    });
    expect(operation.kind).toBe('create');
    expect(operation.environment.id).toBe(row!.id);
    expect(s.state.operation(operation.id)).toMatchObject({ kind: 'create', status: 'running', environment: 'feat', envId: row!.id, pid: process.pid });
    expect(s.state.latestOperation(s.project.id, 'feat')!.id).toBe(operation.id);
    // Nothing on disk until the operation runs.
    expect(existsSync(row!.path)).toBe(false);
    expect(git(s.root, 'branch', '--list', 'feat')).toBe('');
  });

  it('gives each environment the smallest free id', async () => {
    const s = setup();
    const first = await prepareCreate(s.services, create('one'));
    const second = await prepareCreate(s.services, create('two'));
    expect([first.operation.environment.id, second.operation.environment.id]).toEqual([1, 2]);
  });

  it('runs with an engine that has no stage plugins at all', async () => {
    const s = setup();
    const services: Services = { ...s.services, engineFor: (plugins) => new Engine().use(...plugins) };
    const { operation } = await prepareCreate(services, create('bare'));
    expect(s.state.environment(s.project.id, 'bare')!.status).toBe('creating');
    expect(operation.environment.name).toBe('bare');
  });
});
