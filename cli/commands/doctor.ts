// `piko doctor`: what piko needs and whether it is there: git, docker (client, daemon,
// compose), tmux, the server, the state database and every project's repository. Exits
// non-zero when something required is missing.
import { existsSync } from 'node:fs';
import { execa } from 'execa';
import { readableConfig } from '../../core/config/trust.js';
import { git } from '../../core/system/git.js';
import { pikoHome, stateDbPath } from '../../core/paths.js';
import { processAlive } from '../../core/system/process.js';
import { readServerInfo } from '../../core/server-info.js';
import { State } from '../../core/state/state.js';
import { findCompose } from '../../stages/docker/compose-cli.js';
import { composeFiles } from '../../stages/docker/load.js';
import { ExitError } from '../exit.js';

interface Check {
  name: string;
  /** ok: found and working; missing: not there (fails the doctor when required); note: for information. */
  result: 'ok' | 'missing' | 'note';
  detail: string;
  required: boolean;
}

async function version(file: string, args: string[]): Promise<string | undefined> {
  const result = await execa(file, args, { reject: false });
  return result.exitCode === 0 ? result.stdout.trim().split('\n')[0] : undefined;
}

/** Whether a project has compose files: at its root, or where its config's `compose:` says. */
async function hasComposeFile(home: string, root: string): Promise<boolean> {
  if (!existsSync(root)) return false;
  try {
    return composeFiles(root, (await readableConfig(home, root)).config.compose) !== undefined;
  } catch {
    // A config that cannot be read, or names files that are not there: docker is still meant.
    return true;
  }
}

async function serverCheck(home: string): Promise<Check> {
  const info = readServerInfo(home);
  const check = (result: Check['result'], detail: string): Check => ({ name: 'piko server', result, detail, required: false });
  if (!info) return check('note', 'not running (commands run here instead)');
  if (!processAlive(info.pid)) return check('note', `not running: ${home}/server.json is left from pid ${info.pid}`);
  try {
    const response = await fetch(new URL('/api/health', info.url), {
      headers: { authorization: `Bearer ${info.token}` },
      signal: AbortSignal.timeout(3000),
    });
    return response.ok
      ? check('ok', `${info.url} answers (pid ${info.pid})`)
      : check('missing', `${info.url} refused the token in server.json (${response.status})`);
  } catch (err) {
    return check('missing', `${info.url} does not answer (${(err as Error).message})`);
  }
}

export async function doctor(options: { json?: boolean }): Promise<void> {
  const home = pikoHome();
  const state = new State(home);
  const checks: Check[] = [];
  try {
    const projects = state.listProjects();
    // Docker is required once a project has a compose file.
    const needsDocker = (await Promise.all(projects.map((p) => hasComposeFile(home, p.root)))).includes(true);
    const tool = (name: string, found: string | undefined, required: boolean, missing: string): Check => ({
      name,
      result: found ? 'ok' : required ? 'missing' : 'note',
      detail: found ?? missing,
      required,
    });
    const [gitVersion, client, daemon, compose, tmux] = await Promise.all([
      version('git', ['--version']),
      // `docker --version` asks the client alone; `docker version` fails when only the daemon is down.
      version('docker', ['--version']).then((line) => line && (/version ([^\s,]+)/.exec(line)?.[1] ?? line)),
      version('docker', ['version', '--format', '{{.Server.Version}}']),
      findCompose(),
      version('tmux', ['-V']),
    ]);
    checks.push(
      tool('git', gitVersion, true, 'not installed: piko needs git'),
      tool('docker', client, needsDocker, 'not installed (needed for projects with a compose file)'),
      tool('docker daemon', daemon, needsDocker, client ? 'not reachable: start Docker (`docker info` must work)' : 'no docker client'),
      tool(
        'docker compose',
        compose && `${compose.label} (Compose v${compose.major}${compose.major === 1 ? ': works; v2, the docker compose plugin, is preferred' : ''})`,
        needsDocker,
        'not installed: neither `docker compose` (v2, preferred) nor `docker-compose` (v1)',
      ),
      tool('tmux', tmux, false, 'not installed (optional: a session per environment)'),
      await serverCheck(home),
    );
    const integrity = state.db.pragma('integrity_check', { simple: true });
    checks.push({ name: 'state', result: integrity === 'ok' ? 'ok' : 'missing', detail: `${stateDbPath(home)}: ${String(integrity)}`, required: true });
    for (const project of projects) {
      const repo = existsSync(project.root) && (await git(project.root, ['rev-parse', '--git-dir'])).ok;
      checks.push({
        name: `project ${project.name}`,
        result: repo ? 'ok' : 'missing',
        detail: repo ? project.root : `${project.root} is no longer a git repository (\`piko project rm ${project.name}\` forgets it)`,
        required: true,
      });
    }
  } finally {
    state.close();
  }
  if (options.json) process.stdout.write(`${JSON.stringify(checks, null, 2)}\n`);
  else {
    const width = Math.max(...checks.map((c) => c.name.length));
    const mark = { ok: '✓', missing: '✗', note: '-' };
    console.log(checks.map((c) => `${mark[c.result]} ${c.name.padEnd(width)}  ${c.detail}`).join('\n'));
  }
  if (checks.some((c) => c.required && c.result === 'missing')) throw new ExitError(1);
}
