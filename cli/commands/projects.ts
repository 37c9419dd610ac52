// `piko projects` and `piko project rm <name>`.
import { PikoError } from '../../core/errors.js';
import { openState } from '../open-state.js';
import { operate } from '../delivery/operate.js';
import { print } from '../terminal/print.js';

export function projects(options: { json?: boolean }): void {
  const { state } = openState();
  try {
    const rows = state.listProjects().map((p) => ({ ...p, environments: state.listEnvironments(p.id).map((e) => e.name) }));
    if (options.json) {
      print(`${JSON.stringify(rows, null, 2)}\n`);
      return;
    }
    if (rows.length === 0) {
      print('no projects yet: piko init in a repository\n');
      return;
    }
    const width = Math.max(4, ...rows.map((r) => r.name.length));
    print(
      `${[`${'NAME'.padEnd(width)}  ENVS  ROOT`, ...rows.map((r) => `${r.name.padEnd(width)}  ${String(r.environments.length).padEnd(4)}  ${r.root}`)].join('\n')}\n`,
    );
  } finally {
    state.close();
  }
}

/** Forgets a project; with environments left, only with `force`, which destroys them first. */
export async function removeProject(name: string, options: { force?: boolean }): Promise<void> {
  let environments: string[];
  {
    const { state } = openState();
    try {
      const project = state.projectByName(name);
      if (!project) throw new PikoError('PIKO_ERR_PROJECT_UNKNOWN', `no project named ${JSON.stringify(name)} is registered`);
      environments = state.listEnvironments(project.id).map((e) => e.name);
    } finally {
      state.close();
    }
  }
  if (environments.length > 0 && !options.force) {
    throw new PikoError('PIKO_ERR_PROJECT_IN_USE', `project ${name} still has environments (${environments.join(', ')}): destroy them, or \`piko project rm --force ${name}\` destroys them first`);
  }
  for (const environment of environments) {
    await operate(`${name}/${environment}`, (target) => ({ action: 'destroy', ...target, force: true, deleteBranch: true }), {});
  }
  const { state } = openState();
  try {
    state.removeProject(state.projectByName(name)!.id);
    print(`forgot project ${name} (its repository is untouched)\n`);
  } finally {
    state.close();
  }
}
