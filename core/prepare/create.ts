// A create request: the name, the repository, the base branch, the paths and the compose project
// are checked before anything is made; then the environment row is reserved (with the lowest
// free id, which gives its ports) together with the operation's row.
import { existsSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { newOperationId } from '../engine/operation.js';
import { assertEnvironmentName } from '../environment/names.js';
import { PikoError } from '../errors.js';
import { environmentPaths, isWithin, stateDbPath } from '../paths.js';
import type { CreateRequest } from '../protocol/requests.js';
import { environmentExists, type EnvironmentRow, type ProjectRow, type State } from '../state/state.js';
import { branchExists, git } from '../system/git.js';
import { leftoversOf, mayUseDocker } from '../leftovers/find.js';
import { keepable, removalCommands, shown, type Leftover } from '../leftovers/report.js';
import { projectEngine, recordedOperation, requestEnvironment, type Prepared, type Services } from './services.js';

/**
 * The repository is there and its base (HEAD, or --branch) is a commit; what it is called (the
 * branch HEAD is on, or what --branch said) and the commit, for prune to ask about merges later.
 */
async function repositoryBase(project: ProjectRow, base: string | undefined): Promise<{ base: string | null; baseCommit: string }> {
  const repository = existsSync(project.root);
  const found = repository && !base?.startsWith('-') ? await git(project.root, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${base ?? 'HEAD'}^{commit}`]) : undefined;
  if (found?.ok) {
    const name = base ?? (await git(project.root, ['symbolic-ref', '--quiet', '--short', 'HEAD'])).stdout.trim();
    return { base: name || null, baseCommit: found.stdout.trim() };
  }
  if (!repository || !(await git(project.root, ['rev-parse', '--git-dir'])).ok) {
    throw new PikoError(
      'PIKO_ERR_NOT_GIT_REPO',
      `project ${JSON.stringify(project.name)} points at ${project.root}, which is no longer a git repository`,
    );
  }
  if (base === undefined) throw new PikoError('PIKO_ERR_NOT_GIT_REPO', `${project.root} has no commit to branch from yet`);
  throw new PikoError('PIKO_ERR_BRANCH', `base branch ${JSON.stringify(base)} was not found in ${project.root}`);
}

/**
 * The worktree `worktrees:` gives is a place of its own: not the repository itself, its `.git`
 * or piko's data directories, and neither inside another environment's worktree nor around one
 * (a destroy of the outer one would take the inner one with it).
 */
function assertWorktreePlace(others: readonly EnvironmentRow[], project: ProjectRow, worktree: string, template: string | undefined, file: string): void {
  const key = `${file}: worktrees: ${JSON.stringify(template)}`;
  const own = [join(project.root, '.git'), join(project.root, '.piko', 'data')];
  if (template !== undefined && (isWithin(project.root, worktree) || own.some((dir) => isWithin(worktree, dir)))) {
    throw new PikoError('PIKO_ERR_CONFIG_INVALID', `${key} puts a worktree at ${worktree}, which is the repository, its .git or piko's data; choose a folder of its own, such as ../{project}-worktrees`);
  }
  const taken = others.find((other) => isWithin(worktree, other.path) || isWithin(other.path, worktree));
  // The same name made meanwhile (two creates at once): that is what to say.
  if (taken?.projectId === project.id && taken.path === worktree) throw environmentExists(taken);
  if (taken) {
    const how = taken.path === worktree ? 'already the worktree of' : isWithin(worktree, taken.path) ? 'inside the worktree of' : 'around the worktree of';
    throw new PikoError('PIKO_ERR_PATH_EXISTS', `${worktree} is ${how} ${taken.project}/${taken.name}${template === undefined ? '' : `: choose another place in ${key}, or put {project} in it`}`);
  }
}

/** The worktree `--from` names: another environment of the project, made and still there. */
function sourceWorktree(state: State, project: ProjectRow, from: string): string {
  const source = requestEnvironment(state, project, from);
  if (source.status === 'creating' || source.status === 'destroying' || !existsSync(source.path)) {
    const why = existsSync(source.path) ? `it is ${source.status}` : `its worktree ${source.path} is not there`;
    throw new PikoError('PIKO_ERR_ENV_NOT_FOUND', `--from ${from}: nothing to copy from, ${why}`);
  }
  return source.path;
}

/**
 * What an earlier environment of this name left that no row accounts for (its row lost with a
 * state.db): refused before anything is made, naming each thing and the commands that remove it.
 * A worktree path taken by something piko did not make is refused too, as someone else's.
 */
async function assertNothingLeft(
  services: Services,
  project: ProjectRow,
  name: string,
  request: CreateRequest,
  paths: { worktree: string },
  config: { worktrees?: string | undefined; compose?: string | string[] | undefined },
  others: readonly EnvironmentRow[],
): Promise<void> {
  const pikoDir = join(project.root, '.piko');
  if (existsSync(pikoDir) && lstatSync(pikoDir).isSymbolicLink()) {
    throw new PikoError('PIKO_ERR_PATH_EXISTS', `${pikoDir} is a symbolic link; piko keeps its worktrees and data there and will not follow it`);
  }
  const left = await leftoversOf({ name: project.name, root: project.root, worktrees: config.worktrees }, name, others, {
    containers: mayUseDocker(project.root, config.compose) ? 'always' : 'if-others',
  });
  if (left.length > 0) {
    // A create of the same name that won a race meanwhile made these: it exists, nothing was left.
    const made = services.state.environment(project.id, name);
    if (made) throw environmentExists(made);
    throw leftoversError(services.home, project, name, left);
  }
  if (existsSync(paths.worktree)) {
    throw new PikoError('PIKO_ERR_PATH_EXISTS', `${paths.worktree} already exists, and it is not a worktree piko made for ${project.name}/${name}`, {
      hint: `Move or remove ${paths.worktree} (piko never overwrites what it did not make), or pick another name.`,
    });
  }
  if (request.branch !== undefined && (await branchExists(project.root, name))) {
    throw new PikoError(
      'PIKO_ERR_BRANCH',
      `branch ${JSON.stringify(name)} already exists, so it cannot be made from ${JSON.stringify(request.branch)}; leave out --branch to use it as it is`,
    );
  }
}

/** The refusal of a name an earlier environment left things of: what they are, and how to remove them. */
function leftoversError(home: string, project: ProjectRow, name: string, left: readonly Leftover[]): PikoError {
  const changes = left.some((l) => l.kind === 'worktree' && (l.changes ?? 0) > 0);
  const hint = [
    `Nothing was made. \`piko doctor\` lists them; remove them${changes ? ' (the uncommitted changes go with the worktree: look first)' : ''}, then run the command again:`,
    ...removalCommands(left).map((line) => `  ${shown(line)}`),
    ...keepable(left).flatMap((keep) => [keep.note.replace(/^./, (c) => c.toUpperCase()), ...keep.remove.map((line) => `  ${shown(line)}`)]),
  ].join('\n  ');
  return new PikoError(
    'PIKO_ERR_LEFTOVERS',
    `what an earlier ${project.name}/${name} left is still there, and no environment in ${stateDbPath(home)} accounts for it (was the state database removed or replaced?): ${left.map((l) => l.what).join('; ')}`,
    { hint },
  );
}

export async function prepareCreate(services: Services, request: CreateRequest): Promise<Prepared> {
  const { state, home } = services;
  assertEnvironmentName(request.environment);
  const project = state.requestProject(request.project);
  const { base, baseCommit } = await repositoryBase(project, request.branch);
  const { engine, config, file } = await projectEngine(services, project, request);
  const name = request.environment;
  const existing = state.environment(project.id, name);
  if (existing) throw environmentExists(existing);
  // Every project's environments, for the places a new one must not share.
  const others = state.listEnvironments();
  const source = request.from === undefined ? undefined : sourceWorktree(state, project, request.from);
  const paths = environmentPaths(project.root, name, { project: project.name, worktrees: config.worktrees });
  assertWorktreePlace(others, project, paths.worktree, config.worktrees, file);
  await assertNothingLeft(services, project, name, request, paths, config, others);
  // Stages that cannot be ordered (an unknown before/after, a cycle) are a config error: found
  // now, before anything is claimed, by ordering them for an operation that never runs.
  const draft: EnvironmentRow = {
    id: 0, name, project: project.name, projectId: project.id, mode: 'simple', status: 'creating', branch: name,
    path: paths.worktree, dataDir: paths.dataDir, ports: [], composeProject: null, composeFile: null, createdAt: '', updatedAt: '',
  };
  engine.stagesFor(engine.operation({ kind: 'create', request, project, environment: draft, config, home, configFile: file }));

  const id = newOperationId();
  const environment = state.reserveEnvironment({ projectId: project.id, name, branch: name, path: paths.worktree, dataDir: paths.dataDir, base, baseCommit }, id);
  return recordedOperation(services, engine, { id, kind: 'create', request, project, environment, config, source, configFile: file }, (op, failure) => {
    if (failure && !op.rollbackIncomplete) {
      state.deleteEnvironment(op.environment.id);
      return;
    }
    // A rollback that could not undo everything keeps the row, so `piko destroy` can finish it.
    op.environment.status = failure ? 'failed' : op.environment.mode === 'docker' ? 'running' : 'ready';
    const { status, mode, composeProject, composeFile, tmuxSocket, ports, shared } = op.environment;
    state.updateEnvironment(op.environment.id, { status, mode, composeProject, composeFile, tmuxSocket, ports, shared: shared ?? [] });
  });
}
