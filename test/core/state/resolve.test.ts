import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { writeServerInfo } from '../../../core/server-info.js';
import {
  meantProject,
  projectContaining,
  resolveEnvironment,
  resolveOperation,
  resolveProject,
} from '../../../core/state/resolve.js';
import { State, type EnvironmentRow, type ProjectRow } from '../../../core/state/state.js';
import { cleanup, git, makeRepo, tempDir } from '../../helpers/fixtures.js';

const opened: State[] = [];
const savedHome = process.env.PIKO_HOME;

afterEach(() => {
  for (const state of opened.splice(0)) state.close();
  if (savedHome === undefined) delete process.env.PIKO_HOME;
  else process.env.PIKO_HOME = savedHome;
  cleanup();
});

interface World {
  home: string;
  state: State;
  alpha: ProjectRow;
  beta: ProjectRow;
  /** A folder inside no project, and no git repository. */
  outside: string;
  /** Reserves `name` in `project` with its worktree at `path` (default `.piko/worktrees/<name>` in its root), made on disk. */
  env(project: ProjectRow, name: string, path?: string): EnvironmentRow;
}

/** A folder named `name` of its own (git is asked only about folders inside no registered project). */
function folder(name: string): string {
  const dir = join(tempDir(), name);
  mkdirSync(dir);
  return dir;
}

/** Two registered projects, `alpha` and `beta`, and a state on a private home (also PIKO_HOME). */
function world(): World {
  const home = tempDir('piko-home-');
  process.env.PIKO_HOME = home;
  const state = new State(home);
  opened.push(state);
  const alpha = state.addProject('alpha', folder('alpha'));
  const beta = state.addProject('beta', folder('beta'));
  const outside = tempDir('piko-outside-');
  let op = 0;
  const env = (project: ProjectRow, name: string, path = join(project.root, '.piko', 'worktrees', name)) => {
    mkdirSync(path, { recursive: true });
    const opId = `op_${(++op).toString(16).padStart(12, '0')}`;
    return state.reserveEnvironment({ projectId: project.id, name, branch: name, path, dataDir: join(project.root, '.piko', 'data', name) }, opId);
  };
  return { home, state, alpha, beta, outside, env };
}

describe('the folder the tests stand outside of', () => {
  it('is no git repository (what meantProject asks git)', () => {
    const { outside } = world();
    expect(() => git(outside, 'rev-parse', '--show-toplevel')).toThrow();
  });
});

describe('projectContaining', () => {
  it('finds the project whose repository, or a folder in it, is where one stands', () => {
    const w = world();
    const deep = join(w.beta.root, 'src', 'lib');
    mkdirSync(deep, { recursive: true });
    expect(projectContaining(w.state, w.alpha.root)?.name).toBe('alpha');
    expect(projectContaining(w.state, deep)?.name).toBe('beta');
    expect(projectContaining(w.state, w.outside)).toBeUndefined();
  });

  it('finds the project of a worktree that lies outside its repository', () => {
    const w = world();
    const feat = w.env(w.alpha, 'feat', join(w.outside, 'alpha-feat'));
    expect(projectContaining(w.state, feat.path)?.name).toBe('alpha');
    expect(projectContaining(w.state, w.outside)).toBeUndefined();
  });

  it('follows symbolic links to where one really stands', () => {
    const w = world();
    const link = join(w.outside, 'link-to-beta');
    symlinkSync(w.beta.root, link);
    expect(projectContaining(w.state, link)?.name).toBe('beta');
  });

  it('does not take a folder whose name merely starts like a project root', () => {
    const w = world();
    const sibling = `${w.alpha.root}-2`;
    mkdirSync(sibling);
    expect(projectContaining(w.state, sibling)).toBeUndefined();
    const registered = w.state.addProject('alpha-2', sibling);
    expect(projectContaining(w.state, sibling)?.id).toBe(registered.id);
  });

  it('finds nothing for a folder that does not exist', () => {
    const w = world();
    expect(projectContaining(w.state, join(w.alpha.root, 'no', 'such', 'folder'))).toBeUndefined();
  });

  it('takes the deepest place when a worktree lies inside another project’s root', () => {
    const w = world();
    // beta's worktrees: put into alpha's repository.
    const nested = w.env(w.beta, 'feat', join(w.alpha.root, 'vendor', 'beta-feat'));
    mkdirSync(join(nested.path, 'src'));
    expect(projectContaining(w.state, nested.path)?.name).toBe('beta');
    expect(projectContaining(w.state, join(nested.path, 'src'))?.name).toBe('beta');
    expect(projectContaining(w.state, join(w.alpha.root, 'vendor'))?.name).toBe('alpha');
  });
});

describe('resolveEnvironment', () => {
  it('takes project/env from anywhere', async () => {
    const w = world();
    w.env(w.alpha, 'feat');
    const betaFeat = w.env(w.beta, 'feat');
    const found = await resolveEnvironment(w.state, 'beta/feat', w.alpha.root);
    expect(found.project.name).toBe('beta');
    expect(found.environment.id).toBe(betaFeat.id);
  });

  it('refuses project/env the project does not have, listing the project’s environments', async () => {
    const w = world();
    w.env(w.alpha, 'one');
    w.env(w.beta, 'two');
    await expect(resolveEnvironment(w.state, 'alpha/two', w.outside)).rejects.toMatchObject({
      code: 'PIKO_ERR_ENV_NOT_FOUND',
      message: 'no environment "two" in project alpha (environments: alpha/one)',
    });
  });

  it('refuses project/env of a project that is not registered, listing those that are', async () => {
    const w = world();
    w.env(w.alpha, 'feat');
    await expect(resolveEnvironment(w.state, 'gamma/feat', w.alpha.root)).rejects.toMatchObject({
      code: 'PIKO_ERR_PROJECT_UNKNOWN',
      message: expect.stringContaining('projects: alpha, beta'),
    });
  });

  it('finds a bare name in the project one stands in, even when another project has it too', async () => {
    const w = world();
    const alphaFeat = w.env(w.alpha, 'feat');
    const betaFeat = w.env(w.beta, 'feat');
    expect((await resolveEnvironment(w.state, 'feat', w.alpha.root)).environment.id).toBe(alphaFeat.id);
    expect((await resolveEnvironment(w.state, 'feat', w.beta.root)).environment.id).toBe(betaFeat.id);
    // Standing in another environment's worktree of the project counts as standing in the project.
    const other = w.env(w.beta, 'other');
    expect((await resolveEnvironment(w.state, 'feat', other.path)).environment.id).toBe(betaFeat.id);
  });

  it('finds a bare name that exactly one project has, from outside every project', async () => {
    const w = world();
    w.env(w.alpha, 'feat');
    const only = w.env(w.beta, 'only-here');
    const found = await resolveEnvironment(w.state, 'only-here', w.outside);
    expect(found.project.name).toBe('beta');
    expect(found.environment.id).toBe(only.id);
  });

  it('refuses a bare name several projects have, from outside them, listing where it is', async () => {
    const w = world();
    w.env(w.alpha, 'feat');
    w.env(w.beta, 'feat');
    w.env(w.beta, 'unrelated');
    await expect(resolveEnvironment(w.state, 'feat', w.outside)).rejects.toMatchObject({
      code: 'PIKO_ERR_ENV_NOT_FOUND',
      message: '"feat" is in several projects: say which (alpha/feat, beta/feat)',
    });
  });

  it('refuses a bare name no project has, listing every environment', async () => {
    const w = world();
    w.env(w.alpha, 'one');
    w.env(w.beta, 'two');
    await expect(resolveEnvironment(w.state, 'three', w.outside)).rejects.toMatchObject({
      code: 'PIKO_ERR_ENV_NOT_FOUND',
      message: 'no environment "three" (environments: alpha/one, beta/two)',
    });
  });

  it('looks for a bare name only in the project one stands in, listing its environments', async () => {
    const w = world();
    w.env(w.alpha, 'one');
    w.env(w.beta, 'two');
    await expect(resolveEnvironment(w.state, 'two', w.alpha.root)).rejects.toMatchObject({
      code: 'PIKO_ERR_ENV_NOT_FOUND',
      message: 'no environment "two" in project alpha (environments: alpha/one)',
    });
  });

  it('takes the environment whose worktree one stands in when no name is given', async () => {
    const w = world();
    w.env(w.alpha, 'one');
    const two = w.env(w.alpha, 'two');
    const deep = join(two.path, 'src', 'app');
    mkdirSync(deep, { recursive: true });
    for (const cwd of [two.path, deep]) {
      const found = await resolveEnvironment(w.state, undefined, cwd);
      expect(found.environment.id).toBe(two.id);
      expect(found.project.name).toBe('alpha');
    }
  });

  it('takes the worktree one stands in through a symbolic link', async () => {
    const w = world();
    const feat = w.env(w.beta, 'feat');
    const link = join(w.outside, 'here');
    symlinkSync(feat.path, link);
    expect((await resolveEnvironment(w.state, undefined, link)).environment.id).toBe(feat.id);
  });

  it('asks which environment when no name is given outside every worktree, listing the candidates', async () => {
    const w = world();
    w.env(w.alpha, 'one');
    w.env(w.beta, 'two');
    await expect(resolveEnvironment(w.state, undefined, w.outside)).rejects.toMatchObject({
      code: 'PIKO_ERR_ENV_NOT_FOUND',
      message: 'say which environment: you are not inside one (environments: alpha/one, beta/two)',
    });
    // In a project's repository but not in a worktree: that project's environments.
    await expect(resolveEnvironment(w.state, undefined, w.beta.root)).rejects.toMatchObject({
      code: 'PIKO_ERR_ENV_NOT_FOUND',
      message: 'say which environment: you are not inside one (environments: beta/two)',
    });
  });

  it('says there are none yet when no environment exists', async () => {
    const w = world();
    await expect(resolveEnvironment(w.state, undefined, w.outside)).rejects.toMatchObject({
      code: 'PIKO_ERR_ENV_NOT_FOUND',
      message: expect.stringContaining('(environments: none yet)'),
    });
  });

  it('takes the deepest place when a worktree lies inside another project’s root', async () => {
    const w = world();
    const alphaFeat = w.env(w.alpha, 'feat');
    const nested = w.env(w.beta, 'feat', join(w.alpha.root, 'vendor', 'beta-feat'));
    // No name: the worktree one stands in is beta's.
    expect((await resolveEnvironment(w.state, undefined, nested.path)).environment.id).toBe(nested.id);
    // A bare name both have: the project one stands in is beta.
    expect((await resolveEnvironment(w.state, 'feat', nested.path)).environment.id).toBe(nested.id);
    // One level up, in alpha's repository: alpha's.
    expect((await resolveEnvironment(w.state, 'feat', join(w.alpha.root, 'vendor'))).environment.id).toBe(alphaFeat.id);
  });
});

describe('meantProject and resolveProject', () => {
  it('takes the project named, from anywhere, with no note', async () => {
    const w = world();
    expect(await meantProject(w.state, 'beta', w.alpha.root)).toEqual({ project: w.beta });
    expect(await resolveProject(w.state, 'alpha', w.outside)).toEqual(w.alpha);
  });

  it('refuses a name that is not registered, listing those that are', async () => {
    const w = world();
    await expect(meantProject(w.state, 'gamma', w.alpha.root)).rejects.toMatchObject({
      code: 'PIKO_ERR_PROJECT_UNKNOWN',
      message: 'no project named "gamma" is registered (projects: alpha, beta)',
    });
  });

  it('takes the project one stands in, or whose worktree one stands in, with no note', async () => {
    const w = world();
    const feat = w.env(w.beta, 'feat', join(w.outside, 'beta-feat'));
    expect(await meantProject(w.state, undefined, w.alpha.root)).toEqual({ project: w.alpha });
    expect(await meantProject(w.state, undefined, feat.path)).toEqual({ project: w.beta });
    expect(await resolveProject(w.state, undefined, feat.path)).toEqual(w.beta);
  });

  it('refuses standing in a git repository that is not registered, saying to run piko init', async () => {
    const w = world();
    const stranger = makeRepo({}, 'stranger');
    const inside = join(stranger, 'src');
    mkdirSync(inside);
    for (const cwd of [stranger, inside]) {
      let error: unknown;
      try {
        await meantProject(w.state, undefined, cwd);
      } catch (err) {
        error = err;
      }
      expect(error).toMatchObject({ code: 'PIKO_ERR_PROJECT_UNKNOWN', message: `the repository ${stranger} is not a piko project yet` });
      expect((error as { hint: string }).hint).toContain('piko init');
    }
  });

  it('refuses the unregistered repository one stands in even when only one project is registered', async () => {
    const w = world();
    w.state.removeProject(w.beta.id);
    const stranger = makeRepo({}, 'stranger');
    await expect(resolveProject(w.state, undefined, stranger)).rejects.toMatchObject({ code: 'PIKO_ERR_PROJECT_UNKNOWN' });
  });

  it('uses the only project registered from outside every repository, with a note saying which and where', async () => {
    const w = world();
    w.state.removeProject(w.beta.id);
    const meant = await meantProject(w.state, undefined, w.outside);
    expect(meant.project).toEqual(w.alpha);
    expect(meant.note).toBe(`using project alpha (${w.alpha.root}), the only one registered: ${w.outside} is not inside it`);
  });

  it('asks which project from outside every repository when there are several', async () => {
    const w = world();
    await expect(meantProject(w.state, undefined, w.outside)).rejects.toMatchObject({
      code: 'PIKO_ERR_PROJECT_UNKNOWN',
      message: 'say which project (projects: alpha, beta)',
    });
  });
});

describe('resolveOperation', () => {
  let w: World;
  beforeEach(() => {
    w = world();
  });

  it('takes an operation id as it is, with the environment it is of', async () => {
    const feat = w.env(w.beta, 'feat');
    const created = w.state.latestOperation(w.beta.id, 'feat')!;
    const ref = await resolveOperation(w.state, created.id, w.alpha.root);
    expect(ref).toEqual({ id: created.id, row: created, label: 'beta/feat', root: w.beta.root, onServer: false });
    expect(ref.row!.envId).toBe(feat.id);
  });

  it('takes an operation id this state does not know, for a server that may', async () => {
    const ref = await resolveOperation(w.state, 'op_0123456789ab', w.outside);
    expect(ref).toEqual({ id: 'op_0123456789ab', row: undefined, label: 'op_0123456789ab', root: undefined, onServer: false });
  });

  it('takes the latest operation of an environment named alone or as project/env', async () => {
    const feat = w.env(w.alpha, 'feat');
    const created = w.state.latestOperation(w.alpha.id, 'feat')!;
    w.state.finishOperation(created.id, { success: true });
    w.state.claimEnvironment(feat.id, 'running', { id: 'op_00000000aaaa', kind: 'up' });
    for (const [name, cwd] of [
      ['feat', w.alpha.root],
      ['feat', feat.path],
      ['alpha/feat', w.outside],
    ] as const) {
      const ref = await resolveOperation(w.state, name, cwd);
      expect(ref).toMatchObject({ id: 'op_00000000aaaa', label: 'alpha/feat', root: w.alpha.root });
      expect(ref.row).toMatchObject({ kind: 'up', status: 'running' });
    }
  });

  it('resolves a bare environment name through the project one stands in', async () => {
    w.env(w.alpha, 'feat');
    w.env(w.beta, 'feat');
    const ref = await resolveOperation(w.state, 'feat', w.beta.root);
    expect(ref.label).toBe('beta/feat');
    expect(ref.id).toBe(w.state.latestOperation(w.beta.id, 'feat')!.id);
  });

  it('refuses an environment no operation was ever recorded for', async () => {
    await expect(resolveOperation(w.state, 'alpha/ghost', w.outside)).rejects.toMatchObject({
      code: 'PIKO_ERR_ENV_NOT_FOUND',
      message: 'no operation was ever recorded for alpha/ghost',
    });
  });

  it('says an operation runs on the server when the server of this PIKO_HOME is the process running it', async () => {
    w.env(w.alpha, 'feat');
    const created = w.state.latestOperation(w.alpha.id, 'feat')!;
    expect((await resolveOperation(w.state, created.id, w.outside)).onServer).toBe(false);
    writeServerInfo(w.home, { url: 'http://127.0.0.1:1', token: 't', pid: process.pid, startedAt: new Date().toISOString() });
    expect((await resolveOperation(w.state, created.id, w.outside)).onServer).toBe(true);
    // Done, it no longer runs anywhere.
    w.state.finishOperation(created.id, { success: true });
    expect((await resolveOperation(w.state, created.id, w.outside)).onServer).toBe(false);
  });
});
