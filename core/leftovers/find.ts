// What piko made that no environment row accounts for, in every project piko knows (doctor), or
// in the way of one environment a create is about to make.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { environmentNameProblem } from '../environment/names.js';
import { COMPOSE_FILE_NAMES, composeProjectName } from '../paths.js';
import { tmuxSession } from '../system/tmux.js';
import { dataDirLeftovers, worktreeLeftovers } from './files.js';
import { command, KIND_ORDER, type Accounted, type Leftover, type LeftoverProject, type LeftoverReport } from './report.js';
import { composeLeftover, composeOwner, composeProjects, tmuxSessions } from './running.js';

const byKind = (a: Leftover, b: Leftover): number =>
  a.project.localeCompare(b.project) || a.environment.localeCompare(b.environment) || KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind);

/**
 * Everything piko would have made for the environments of `projects` that no row of
 * `environments` (every project's) accounts for. A project's compose projects and tmux sessions
 * are found by its name, so two projects of one name share them (the registered one should be
 * listed first: the first of a name is the one they are put down to).
 */
export async function findLeftovers(projects: readonly LeftoverProject[], environments: readonly Accounted[]): Promise<LeftoverReport> {
  // Nothing to put anything down to: docker and tmux need not be asked.
  if (projects.length === 0) return { leftovers: [], skipped: [] };
  const skipped: string[] = [];
  const named: LeftoverProject[] = [];
  for (const project of projects) if (!named.some((p) => p.name === project.name)) named.push(project);
  const composeTaken = new Set(environments.map((row) => row.composeProject).filter((name) => name !== null));
  const sessionTaken = new Set(environments.map((row) => tmuxSession(row.project, row.name)));
  const sockets = [undefined, ...new Set(environments.map((row) => row.tmuxSocket).filter((s) => s !== undefined))];
  const [files, compose, sessions] = await Promise.all([
    Promise.all(projects.map(async (project) => [...(await worktreeLeftovers(project, environments, undefined)), ...dataDirLeftovers(project, environments, undefined)])),
    composeProjects(),
    tmuxSessions(sockets),
  ]);
  const leftovers = files.flat();
  if (typeof compose === 'string') skipped.push(`docker: ${compose}`);
  else {
    for (const [name, found] of compose) {
      if (composeTaken.has(name)) continue;
      const owner = composeOwner(named, name);
      if (owner) leftovers.push(composeLeftover(owner.project, owner.env, name, found));
    }
  }
  if (typeof sessions === 'string') skipped.push(`tmux: ${sessions}`);
  else {
    const byName = new Map(named.map((p) => [p.name, p]));
    for (const { socket, session } of sessions) {
      const [piko, name = '', env = '', ...rest] = session.split('/');
      const project = byName.get(name);
      if (piko !== 'piko' || rest.length > 0 || !project || environmentNameProblem(env) !== undefined || sessionTaken.has(session)) continue;
      leftovers.push({
        kind: 'tmux',
        project: project.name,
        root: project.root,
        environment: env,
        session,
        socket,
        what: `tmux session ${session} (on ${socket})`,
        remove: [command('tmux', '-S', socket, 'kill-session', '-t', `=${session}`)],
      });
    }
  }
  return { leftovers: leftovers.sort(byKind), skipped };
}

/**
 * What is left of environment `env` of `project` that would get in a create's way: its worktree
 * (and the branch it holds), its data dir, and (when `containers` says so) its compose project's
 * containers. Not its tmux session, which the create replaces, nor volumes or networks alone
 * (`destroy --keep-volumes` keeps volumes for the next environment of the name).
 * `containers: 'if-others'` asks docker only when something else is left, to name all of it.
 */
export async function leftoversOf(
  project: LeftoverProject,
  env: string,
  environments: readonly Accounted[],
  options: { containers: 'always' | 'if-others' },
): Promise<Leftover[]> {
  const composeProject = composeProjectName(project.name, env);
  const ask = !environments.some((row) => row.composeProject === composeProject);
  const containers = async (): Promise<boolean> => {
    const found = await composeProjects(composeProject, true);
    // Docker missing or down: nothing of it can be in the way.
    return typeof found !== 'string' && (found.get(composeProject)?.containers.length ?? 0) > 0;
  };
  // Asked beside git when it will be asked anyway.
  const early = ask && options.containers === 'always' ? containers() : undefined;
  const found = [...(await worktreeLeftovers(project, environments, env)), ...dataDirLeftovers(project, environments, env)];
  if ((await early) ?? (ask && found.length > 0 && (await containers()))) {
    // In the way: the rest of it is named too, for the commands that clear it.
    const all = await composeProjects(composeProject);
    const what = typeof all === 'string' ? undefined : all.get(composeProject);
    if (what) found.push(composeLeftover(project, env, composeProject, what));
  }
  return found.sort(byKind);
}

/** Whether the repository has a compose file where a create would look first (or the config names one): then a create asks docker about containers. */
export function mayUseDocker(root: string, compose: string | readonly string[] | undefined): boolean {
  if (compose !== undefined) return true;
  return COMPOSE_FILE_NAMES.some((name) => existsSync(join(root, name)));
}
