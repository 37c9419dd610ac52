// Turning a request into an operation: everything that can be checked is checked before
// anything runs, so bad input changes nothing; then the environment row is claimed (atomically)
// and the engine takes over. `settle` writes the outcome back to state.
import { existsSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, type LoadedConfig, type PikoConfig } from './config.js';
import type { Engine, PikoPlugin } from './engine.js';
import { loadPlugins } from './plugins.js';
import { branchExists, git } from './git.js';
import { PikoError, toPikoError } from './errors.js';
import { assertEnvironmentName } from './names.js';
import { newOperationId, type Operation } from './operation.js';
import { environmentPaths, PIKO_COMPOSE_FILE } from './paths.js';
import {
  OPERATION_KINDS,
  OperationRequestSchema,
  type CompleteFailureMessage,
  type CreateRequest,
  type DestroyRequest,
  type LifecycleRequest,
  type OperationKind,
  type OperationRequest,
} from './protocol.js';
import { describeIssue } from './validate.js';
import type { EnvironmentRow, ProjectRow, State } from './state.js';

export interface Services {
  state: State;
  home: string;
  /** An engine for one operation: the caller's plugins, then the project's own. */
  engineFor(projectPlugins: PikoPlugin[]): Engine;
}

/** A request that passed every check, claimed what it works on, and is ready to run. */
export interface Prepared {
  engine: Engine;
  operation: Operation;
}

/** The project's config and plugins, and an engine for one operation of it. */
async function projectEngine(services: Services, project: ProjectRow, force = false): Promise<{ engine: Engine; config: PikoConfig }> {
  let loaded: LoadedConfig;
  try {
    loaded = await loadConfig(project.root);
  } catch (err) {
    // A forced destroy must work even when the config no longer does: it then runs no destroy script.
    if (force) return { engine: services.engineFor([]), config: {} };
    throw err;
  }
  return { engine: services.engineFor(await loadPlugins(project.root, loaded)), config: loaded.config };
}


async function assertRepository(project: ProjectRow): Promise<void> {
  if (!existsSync(project.root) || !(await git(project.root, ['rev-parse', '--git-dir'])).ok) {
    throw new PikoError(
      'PIKO_ERR_NOT_GIT_REPO',
      `project ${JSON.stringify(project.name)} points at ${project.root}, which is no longer a git repository`,
    );
  }
}

async function assertBase(project: ProjectRow, base: string | undefined): Promise<void> {
  if (base === undefined) {
    if (!(await git(project.root, ['rev-parse', '--verify', '--quiet', 'HEAD^{commit}'])).ok) {
      throw new PikoError('PIKO_ERR_NOT_GIT_REPO', `${project.root} has no commit to branch from yet`);
    }
    return;
  }
  const found =
    !base.startsWith('-') &&
    (await git(project.root, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${base}^{commit}`])).ok;
  if (!found) {
    throw new PikoError('PIKO_ERR_BRANCH', `base branch ${JSON.stringify(base)} was not found in ${project.root}`);
  }
}

async function prepareCreate(services: Services, request: CreateRequest): Promise<Prepared> {
  const { state, home } = services;
  assertEnvironmentName(request.environment);
  const project = state.requestProject(request.project);
  await assertRepository(project);
  await assertBase(project, request.branch);
  const { engine, config } = await projectEngine(services, project);
  const name = request.environment;
  const existing = state.environment(project.id, name);
  if (existing) {
    throw new PikoError(
      'PIKO_ERR_ENV_EXISTS',
      `environment ${JSON.stringify(name)} already exists in project ${JSON.stringify(project.name)} (status ${existing.status}, ${existing.path})`,
    );
  }
  const paths = environmentPaths(project.root, name);
  const pikoDir = join(project.root, '.piko');
  if (existsSync(pikoDir) && lstatSync(pikoDir).isSymbolicLink()) {
    throw new PikoError('PIKO_ERR_PATH_EXISTS', `${pikoDir} is a symbolic link; piko keeps its worktrees and data there and will not follow it`);
  }
  if (existsSync(paths.worktree)) {
    throw new PikoError('PIKO_ERR_PATH_EXISTS', `${paths.worktree} already exists but is no piko environment`);
  }
  if (request.branch !== undefined && (await branchExists(project.root, name))) {
    throw new PikoError(
      'PIKO_ERR_BRANCH',
      `branch ${JSON.stringify(name)} already exists, so it cannot be made from ${JSON.stringify(request.branch)}; leave out --branch to use it as it is`,
    );
  }
  // Stages that cannot be ordered (an unknown before/after, a cycle) are a config error: found
  // now, before anything is claimed, by ordering them for an operation that never runs.
  const settle = (): void => undefined;
  const draft: EnvironmentRow = {
    id: 0, name, project: project.name, projectId: project.id, mode: 'simple', status: 'creating', branch: name,
    path: paths.worktree, dataDir: paths.dataDir, ports: [], composeProject: null, composeFile: null, createdAt: '', updatedAt: '',
  };
  engine.stagesFor(engine.operation({ kind: 'create', request, project, environment: draft, config, home, state, settle }));

  const id = newOperationId();
  const environment = state.reserveEnvironment(
    { projectId: project.id, name, branch: name, path: paths.worktree, dataDir: paths.dataDir },
    id,
  );
  const operation = engine.operation({
    id,
    kind: 'create',
    request,
    project,
    environment,
    config,
    home,
    state,
    settle(op, failure) {
      if (failure && !op.rollbackIncomplete) {
        state.deleteEnvironment(op.environment.id);
        return;
      }
      // A rollback that could not undo everything keeps the row, so `piko destroy` can finish it.
      op.environment.status = failure ? 'failed' : op.environment.mode === 'docker' ? 'running' : 'ready';
      const { status, mode, composeProject, composeFile, ports } = op.environment;
      state.updateEnvironment(op.environment.id, { status, mode, composeProject, composeFile, ports });
    },
  });
  return { engine, operation };
}

/** The environment a request names in `project`; an unknown one is an error that lists those there are. */
function requestEnvironment(state: State, project: ProjectRow, name: string): EnvironmentRow {
  const row = state.environment(project.id, name);
  if (row) return row;
  const known = state.listEnvironments(project.id).map((e) => e.name);
  throw new PikoError(
    'PIKO_ERR_ENV_NOT_FOUND',
    `no environment ${JSON.stringify(name)} in project ${JSON.stringify(project.name)}${known.length ? ` (environments: ${known.join(', ')})` : ''}`,
  );
}

/** `up`, `down`, `restart`: the docker stage alone, on an environment that has containers. */
async function prepareLifecycle(services: Services, request: LifecycleRequest): Promise<Prepared> {
  const { state, home } = services;
  const project = state.requestProject(request.project);
  const row = requestEnvironment(state, project, request.environment);
  if (row.mode !== 'docker') {
    throw new PikoError('PIKO_ERR_USAGE', `${project.name}/${row.name} is a simple environment: it has no containers to ${request.action}`);
  }
  const { engine, config } = await projectEngine(services, project);
  const id = newOperationId();
  const before = state.claimEnvironment(row.id, row.status, { id, kind: request.action });
  const operation = engine.operation({
    id,
    kind: request.action,
    request,
    project,
    environment: before,
    config,
    home,
    state,
    settle: (op) => void state.updateEnvironment(op.environment.id, { status: op.environment.status }),
  });
  return { engine, operation };
}

/** What would be lost by removing the worktree: changes other than the file piko wrote itself. */
async function uncommittedChanges(path: string): Promise<string[]> {
  const status = await git(path, ['status', '--porcelain', '--untracked-files=normal']);
  if (!status.ok) return [];
  return status.stdout
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.endsWith(` ${PIKO_COMPOSE_FILE}`));
}

async function prepareDestroy(services: Services, request: DestroyRequest): Promise<Prepared> {
  const { state, home } = services;
  const project = state.requestProject(request.project);
  const row = requestEnvironment(state, project, request.environment);
  const { engine, config } = await projectEngine(services, project, request.force);
  if (!request.force && existsSync(row.path)) {
    const changes = await uncommittedChanges(row.path);
    if (changes.length > 0) {
      const shown = changes.slice(0, 5).join(', ') + (changes.length > 5 ? ` and ${changes.length - 5} more` : '');
      throw new PikoError('PIKO_ERR_WORKTREE_DIRTY', `worktree ${row.path} has uncommitted changes: ${shown}`);
    }
  }
  const id = newOperationId();
  const before = state.claimEnvironment(row.id, 'destroying', { id, kind: 'destroy' });
  const operation = engine.operation({
    id,
    kind: 'destroy',
    request,
    project,
    environment: before,
    config,
    home,
    state,
    settle(op, failure) {
      if (failure) {
        // Nothing was removed past the failing stage: the environment stays as it now is.
        state.updateEnvironment(op.environment.id, { status: op.environment.status });
        return;
      }
      state.deleteEnvironment(op.environment.id);
      op.environment.status = 'destroyed';
    },
  });
  return { engine, operation };
}

/**
 * Checks a request and claims what it works on. Throws a PikoError (and changes nothing) when
 * the request cannot run.
 */
export async function prepareOperation(services: Services, request: OperationRequest): Promise<Prepared> {
  switch (request.action) {
    case 'create':
      return prepareCreate(services, request);
    case 'destroy':
      return prepareDestroy(services, request);
    default:
      return prepareLifecycle(services, request);
  }
}

/**
 * A client's request as sent (JSON text) to the endpoint of `action`. The request's own
 * `action` may be left out; when given it must match the endpoint.
 */
export function parseOperationRequest(text: string, action: OperationKind): OperationRequest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new PikoError('PIKO_ERR_USAGE', `request is not valid JSON (${(err as Error).message})`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new PikoError('PIKO_ERR_USAGE', 'request must be a JSON object like {"action":"create","environment":"feature-x"}');
  }
  const body = { action, ...raw } as Record<string, unknown>;
  if (!(OPERATION_KINDS as readonly unknown[]).includes(body.action)) {
    throw new PikoError('PIKO_ERR_USAGE', `unknown action ${JSON.stringify(body.action)} (known: ${OPERATION_KINDS.join(', ')})`);
  }
  if (body.action !== action) {
    throw new PikoError('PIKO_ERR_USAGE', `request action ${JSON.stringify(body.action)} does not match the ${action} endpoint`);
  }
  const parsed = OperationRequestSchema.safeParse(body);
  if (!parsed.success) throw new PikoError('PIKO_ERR_USAGE', `bad request: ${describeIssue(parsed.error, body)}`);
  return parsed.data;
}

/** The `complete` message for a request that was refused before it became an operation. */
export function rejection(err: unknown): CompleteFailureMessage {
  const error = toPikoError(err);
  return { type: 'complete', success: false, error: error.message, code: error.code, hint: error.hint, seq: 0 };
}
