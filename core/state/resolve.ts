// Which project, environment or operation a name means: `project/env`, a bare name, or no name
// at all, read against the place the user stands in. Shared by the CLI and the server (which
// resolves a request that names no project from the client's cwd). What cannot be resolved is
// a PikoError (PIKO_ERR_ENV_NOT_FOUND, PIKO_ERR_PROJECT_UNKNOWN) that lists the candidates;
// printing it is the caller's business.
import { realpathSync } from 'node:fs';
import { PikoError } from '../errors.js';
import { isWithin, pikoHome } from '../paths.js';
import { isOperationId } from '../engine/operation.js';
import { State, type EnvironmentRow, type OperationRow, type ProjectRow } from './state.js';
import { splitName } from '../environment/names.js';
import { readServerInfo } from '../server-info.js';

/**
 * The registered project containing `cwd`: the repository, or one of its environments'
 * worktrees (which `worktrees:` may put outside it). The deepest place wins. `environments`:
 * every project's, when the caller has read them already.
 */
export function projectContaining(state: State, cwd: string, environments = state.listEnvironments()): ProjectRow | undefined {
  let here: string;
  try {
    here = realpathSync(cwd);
  } catch {
    return undefined;
  }
  const projects = state.listProjects();
  const byId = new Map(projects.map((p) => [p.id, p]));
  const places = [
    ...projects.map((p) => ({ path: p.root, project: p })),
    ...environments.map((e) => ({ path: e.path, project: byId.get(e.projectId) })),
  ];
  return places.filter((place) => isWithin(here, place.path)).sort((a, b) => b.path.length - a.path.length)[0]?.project;
}

/**
 * The project a command means: the one named, else the one the user stands in, else the only
 * one registered (with a note that says which, and where). Standing in a git repository that
 * is not registered is an error that says to run `piko init`.
 */
export async function meantProject(state: State, named: string | undefined, cwd: string): Promise<{ project: ProjectRow; note?: string }> {
  if (named !== undefined) return { project: state.requestProject(named) };
  const here = projectContaining(state, cwd);
  if (here) return { project: here };
  // Only on this path is git needed (and execa loaded).
  const { git } = await import('../system/git.js');
  const top = await git(cwd, ['rev-parse', '--show-toplevel']);
  if (top.ok) {
    throw new PikoError('PIKO_ERR_PROJECT_UNKNOWN', `the repository ${top.stdout.trim()} is not a piko project yet`);
  }
  const only = state.requestProject(undefined);
  return { project: only, note: `using project ${only.name} (${only.root}), the only one registered: ${cwd} is not inside it` };
}

/** The project a command means (see meantProject). */
export async function resolveProject(state: State, named: string | undefined, cwd: string): Promise<ProjectRow> {
  return (await meantProject(state, named, cwd)).project;
}


export interface OperationRef {
  id: string;
  /** The operation as this machine's state knows it (absent for one only a remote server knows). */
  row: OperationRow | undefined;
  /** `project/env`, for messages. */
  label: string;
  /** The project's root, when known here (for its config). */
  root: string | undefined;
  /** Whether it is running in the `piko server` of this PIKO_HOME (rather than a local piko, or done). */
  onServer: boolean;
}

/** An operation id, or the latest operation of an environment (`env` or `project/env`). */
export async function resolveOperation(state: State, ref: string, cwd: string): Promise<OperationRef> {
  if (isOperationId(ref)) {
    const row = state.operation(ref);
    const project = row && state.listProjects().find((p) => p.id === row.projectId);
    return { id: ref, row, label: row && project ? `${project.name}/${row.environment}` : ref, root: project?.root, onServer: runsOnServer(row) };
  }
  const { project: named, environment } = splitName(ref);
  const project = await resolveProject(state, named, cwd);
  const row = state.latestOperation(project.id, environment);
  if (!row) {
    throw new PikoError('PIKO_ERR_ENV_NOT_FOUND', `no operation was ever recorded for ${project.name}/${environment}`);
  }
  return { id: row.id, row, label: `${project.name}/${environment}`, root: project.root, onServer: runsOnServer(row) };
}

function runsOnServer(row: OperationRow | undefined): boolean {
  return row?.status === 'running' && row.pid === readServerInfo(pikoHome())?.pid;
}

/**
 * The environment a command means. `project/env` names it; a bare name is looked for in the
 * project the user stands in, else in every project (it must then be in exactly one); no name
 * means the environment whose worktree the user stands in. Anything else is an error that
 * lists the candidates.
 */
export async function resolveEnvironment(
  state: State,
  name: string | undefined,
  cwd: string,
): Promise<{ project: ProjectRow; environment: EnvironmentRow }> {
  const all = state.listEnvironments();
  const list = (rows: EnvironmentRow[]) => rows.map((e) => `${e.project}/${e.name}`).join(', ') || 'none yet';
  const found = (row: EnvironmentRow) => ({ project: state.projectByName(row.project)!, environment: row });
  // The project the user stands in: asked only where a name alone is not enough.
  const standingIn = () => projectContaining(state, cwd, all);
  if (name === undefined) {
    let real = cwd;
    try {
      real = realpathSync(cwd);
    } catch {
      // Keep cwd.
    }
    const inside = all.find((e) => isWithin(real, e.path));
    if (inside) return found(inside);
    const here = standingIn();
    throw new PikoError('PIKO_ERR_ENV_NOT_FOUND', `say which environment: you are not inside one (environments: ${list(here ? all.filter((e) => e.projectId === here.id) : all)})`);
  }
  const { project, environment } = splitName(name);
  if (project !== undefined) {
    const owner = state.requestProject(project);
    const row = state.environment(owner.id, environment);
    if (row) return found(row);
    throw new PikoError('PIKO_ERR_ENV_NOT_FOUND', `no environment ${JSON.stringify(environment)} in project ${owner.name} (environments: ${list(all.filter((e) => e.projectId === owner.id))})`);
  }
  const here = standingIn();
  if (here) {
    const row = state.environment(here.id, environment);
    if (row) return found(row);
  }
  const matches = all.filter((e) => e.name === environment);
  if (matches.length === 1 && !here) return found(matches[0]!);
  if (matches.length > 1 && !here) {
    throw new PikoError('PIKO_ERR_ENV_NOT_FOUND', `${JSON.stringify(environment)} is in several projects: say which (${list(matches)})`);
  }
  throw new PikoError(
    'PIKO_ERR_ENV_NOT_FOUND',
    `no environment ${JSON.stringify(environment)}${here ? ` in project ${here.name}` : ''} (environments: ${list(here ? all.filter((e) => e.projectId === here.id) : all)})`,
  );
}
