// `piko status [name] [--json]`: one environment in detail: where it lives, its ports, its
// containers as docker sees them, its tmux session and its last operation.
import { existsSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { execa } from 'execa';
import { formatDuration } from '../../core/render.js';
import { environmentInfo, type EnvironmentRow } from '../../core/state.js';
import { hasSession, tmuxSession } from '../../core/tmux.js';
import { openState, resolveEnvironment } from '../context.js';

export interface Container {
  name: string;
  service: string;
  state: string;
  ports: string[];
}

/** `docker compose ps --format json`: one JSON array, or (newer compose) one object per line. */
export function parseComposePs(text: string): Container[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  const rows = (trimmed.startsWith('[') ? JSON.parse(trimmed) : trimmed.split('\n').map((line) => JSON.parse(line))) as {
    Name?: string;
    Service?: string;
    State?: string;
    Publishers?: { URL?: string; TargetPort?: number; PublishedPort?: number; Protocol?: string }[];
  }[];
  return rows.map((row) => ({
    name: row.Name ?? '?',
    service: row.Service ?? '?',
    state: row.State ?? '?',
    ports: (row.Publishers ?? [])
      .filter((p) => p.PublishedPort)
      .map((p) => `${p.URL ?? '0.0.0.0'}:${p.PublishedPort}->${p.TargetPort}/${p.Protocol ?? 'tcp'}`),
  }));
}

async function containers(environment: EnvironmentRow): Promise<Container[] | { error: string }> {
  if (environment.mode !== 'docker' || !environment.composeProject) return [];
  const file = environment.composeFile && existsSync(environment.composeFile) ? environment.composeFile : undefined;
  const result = await execa(
    'docker',
    ['compose', '-p', environment.composeProject, ...(file ? ['-f', basename(file)] : []), 'ps', '--all', '--format', 'json'],
    { cwd: file ? dirname(file) : undefined, reject: false },
  );
  if (result.exitCode !== 0) return { error: (result.stderr || result.shortMessage || 'docker failed').split('\n')[0]! };
  try {
    return parseComposePs(result.stdout);
  } catch {
    return { error: 'docker compose ps printed something that is not JSON' };
  }
}

export async function status(name: string | undefined, options: { json: boolean }): Promise<void> {
  const { state } = openState();
  try {
    const { project, environment } = await resolveEnvironment(state, name, process.cwd());
    const session = tmuxSession(project.name, environment.name);
    const [found, tmux] = await Promise.all([containers(environment), hasSession(session)]);
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
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
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
    for (const port of environment.ports) rows.push(['port', `${port.service} ${port.containerPort}/${port.protocol} → localhost:${port.hostPort}`]);
    if (Array.isArray(found)) for (const c of found) rows.push(['container', `${c.name}  ${c.state}  ${c.ports.join(', ')}`.trimEnd()]);
    else rows.push(['containers', `unknown: ${found.error}`]);
    rows.push(['tmux', tmux ? `${session} (piko attach ${project.name}/${environment.name})` : 'no session']);
    if (last) {
      const took = last.endedAt ? ` in ${formatDuration(Date.parse(last.endedAt) - Date.parse(last.startedAt))}` : '';
      const outcome = last.status === 'failed' ? `failed${last.stage ? ` at ${last.stage}` : ''}: ${last.error}` : last.status;
      rows.push(['last', `${last.kind} ${last.id} ${outcome}${took} (${last.startedAt})`]);
    }
    const width = Math.max(...rows.map(([key]) => key.length));
    console.log(`${project.name}/${environment.name}\n${rows.map(([key, value]) => `  ${key.padEnd(width)}  ${value}`).join('\n')}`);
  } finally {
    state.close();
  }
}
