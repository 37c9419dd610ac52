// `piko status [name] [--json]`: one environment in detail: where it lives, its ports, its
// containers as docker sees them, its tmux session and its last operation.
import { formatDuration } from '../../core/display/log-lines.js';
import { environmentInfo, type EnvironmentRow } from '../../core/state/state.js';
import { hasSession, tmuxSession } from '../../core/system/tmux.js';
import { publishedPorts } from '../../core/environment/vars.js';
import { projectContainers, type Container } from '../../stages/docker/compose-cli.js';
import { sharedComposeProject } from '../../stages/shared/model.js';
import { openState } from '../open-state.js';
import { resolveEnvironment } from '../../core/state/resolve.js';
import { print } from '../terminal/print.js';

/** The environment's containers as the engine has them (the same for Compose v1 and v2). */
async function containers(environment: EnvironmentRow): Promise<Container[] | { error: string }> {
  if (environment.mode !== 'docker' || !environment.composeProject) return [];
  try {
    return await projectContainers(environment.composeProject);
  } catch (err) {
    return { error: (err as Error).message };
  }
}

export async function status(name: string | undefined, options: { json?: boolean }): Promise<void> {
  const { state } = openState();
  try {
    const { project, environment } = await resolveEnvironment(state, name, process.cwd());
    const session = tmuxSession(project.name, environment.name);
    const [found, tmux] = await Promise.all([containers(environment), hasSession(session, environment.tmuxSocket)]);
    const last = state.latestOperation(project.id, environment.name);
    const report = {
      ...environmentInfo(environment),
      composeProject: environment.composeProject,
      composeFile: environment.composeFile,
      containers: found,
      tmux: tmux ? session : null,
      lastOperation: last ?? null,
    };
    if (options.json) {
      print(`${JSON.stringify(report, null, 2)}\n`);
      return;
    }
    const rows: [string, string][] = [
      ['id', String(environment.id)],
      ['status', `${environment.status} (${environment.mode})`],
      ['branch', environment.branch],
      ['worktree', environment.path],
      ['data dir', environment.dataDir],
    ];
    if (environment.composeProject) rows.push(['compose', `${environment.composeProject} (${environment.composeFile ?? 'no file'})`]);
    for (const port of environment.ports) rows.push(['port', `${port.service} ${port.containerPort}/${port.protocol} → localhost:${publishedPorts(port)}`]);
    for (const use of environment.shared ?? []) {
      const ports = use.ports.map((p) => `${p.containerPort}/${p.protocol} → localhost:${publishedPorts(p)}`).join(', ');
      rows.push(['shared', `${use.service} (${sharedComposeProject(project.name)})${ports ? ` ${ports}` : ''}`]);
      if (use.database) rows.push(['database', `${use.database.name} on ${use.service}: ${use.database.url} (from the host: ${use.database.hostUrl})`]);
    }
    if (Array.isArray(found)) for (const c of found) rows.push(['container', `${c.name}  ${c.state}  ${c.ports.join(', ')}`.trimEnd()]);
    else rows.push(['containers', `unknown: ${found.error}`]);
    rows.push(['tmux', tmux ? `${session} (piko attach ${project.name}/${environment.name})` : 'no session']);
    if (last) {
      const took = last.endedAt ? ` in ${formatDuration(Date.parse(last.endedAt) - Date.parse(last.startedAt))}` : '';
      const outcome = last.status === 'failed' ? `failed${last.stage ? ` at ${last.stage}` : ''}: ${last.error}` : last.status;
      rows.push(['last', `${last.kind} ${last.id} ${outcome}${took} (${last.startedAt})`]);
    }
    const width = Math.max(...rows.map(([key]) => key.length));
    print(`${project.name}/${environment.name}\n${rows.map(([key, value]) => `  ${key.padEnd(width)}  ${value}`).join('\n')}\n`);
  } finally {
    state.close();
  }
}
