// `piko path <name>`: the worktree's path alone on stdout, for `cd "$(piko path feat-1)"`.
import { statSync } from 'node:fs';
import { PikoError } from '../../core/errors.js';
import { resolveEnvironment } from '../../core/state/resolve.js';
import type { EnvironmentRow, ProjectRow } from '../../core/state/state.js';
import { openState } from '../open-state.js';
import { print } from '../terminal/print.js';

/** The environment `name` means (see resolveEnvironment). */
export async function findEnvironment(name: string): Promise<{ project: ProjectRow; environment: EnvironmentRow }> {
  const { state } = openState();
  try {
    return await resolveEnvironment(state, name, process.cwd());
  } finally {
    state.close();
  }
}

/**
 * The environment's worktree, which must be there on disk: a row whose folder is gone (a failed
 * create, a create still on its way, a folder removed by hand) is an error, not a path that `cd`
 * or an editor would trip over.
 */
export function worktreeOf(project: ProjectRow, environment: EnvironmentRow): string {
  let folder = false;
  try {
    folder = statSync(environment.path).isDirectory();
  } catch {
    // Not there.
  }
  if (!folder) {
    const label = `${project.name}/${environment.name}`;
    throw new PikoError('PIKO_ERR_ENV_NOT_FOUND', `${label} has no worktree at ${environment.path} (its status: ${environment.status})`, {
      hint: `\`piko status ${label}\` shows its last operation; \`piko destroy --force ${label}\` removes what is left of it.`,
    });
  }
  return environment.path;
}

export async function path(name: string): Promise<void> {
  const { project, environment } = await findEnvironment(name);
  print(`${worktreeOf(project, environment)}\n`);
}
