// `piko doctor`: what piko needs and whether it is there: git, docker (client, daemon,
// compose), tmux, the server, the state database and every project's repository; and what piko
// made that no environment accounts for any more (a lost state.db), with the commands that
// remove it. Exits non-zero when something required is missing.
import { existsSync, realpathSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { execa } from 'execa';
import type { PikoConfig } from '../../core/config/config.js';
import { readableConfig } from '../../core/config/trust.js';
import { git } from '../../core/system/git.js';
import { pikoHome, stateDbPath } from '../../core/paths.js';
import { processAlive } from '../../core/system/process.js';
import { readServerInfo } from '../../core/server-info.js';
import { State, type ProjectRow } from '../../core/state/state.js';
import { findLeftovers } from '../../core/leftovers/find.js';
import { keepable, leftoverJson, removalCommands, shown, type Leftover, type LeftoverProject, type LeftoverReport } from '../../core/leftovers/report.js';
import { findCompose } from '../../stages/docker/compose-cli.js';
import { composeFiles } from '../../stages/docker/load.js';
import { ExitError } from '../exit.js';

interface Check {
  name: string;
  /** ok: found and working; missing: not there (fails the doctor when required); warn: there, and wrong; note: for information. */
  result: 'ok' | 'missing' | 'warn' | 'note';
  detail: string;
  required: boolean;
  /** The `leftovers` check's findings, and the parts it could not look at. */
  leftovers?: Leftover[];
  skipped?: string[];
}

async function version(file: string, args: string[]): Promise<string | undefined> {
  const result = await execa(file, args, { reject: false });
  return result.exitCode === 0 ? result.stdout.trim().split('\n')[0] : undefined;
}

/** A repository's config as read for what only reads it (undefined when it cannot be read), read once per run however often asked. */
type ConfigOf = (root: string) => Promise<PikoConfig | undefined>;

function configReader(home: string): ConfigOf {
  const read = new Map<string, Promise<PikoConfig | undefined>>();
  return (root) => {
    if (!read.has(root)) read.set(root, existsSync(root) ? readableConfig(home, root).then((loaded) => loaded.config, () => undefined) : Promise.resolve(undefined));
    return read.get(root)!;
  };
}

/** Whether a project has compose files: at its root, or where its config's `compose:` says. */
async function hasComposeFile(root: string, configOf: ConfigOf): Promise<boolean> {
  if (!existsSync(root)) return false;
  const config = await configOf(root);
  // A config that cannot be read, or names files that are not there: docker is still meant.
  if (!config) return true;
  try {
    return composeFiles(root, config.compose) !== undefined;
  } catch {
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

/**
 * The repositories to look for leftovers in: every project, and the repository the user stands
 * in when it is not one (after a lost state.db it is registered again with `piko init`, or not yet).
 */
async function leftoverProjects(projects: readonly ProjectRow[], cwd: string, configOf: ConfigOf): Promise<(LeftoverProject & { registered: boolean })[]> {
  // A config that cannot be read: its project check says so; worktrees are looked for where they go by default.
  const withPlace = async (name: string, root: string, registered: boolean) => ({ name, root, worktrees: (await configOf(root))?.worktrees, registered });
  const found = await Promise.all(projects.map((p) => withPlace(p.name, p.root, true)));
  const common = await git(cwd, ['rev-parse', '--path-format=absolute', '--git-common-dir']);
  if (common.ok && basename(common.stdout.trim()) === '.git') {
    const root = dirname(common.stdout.trim());
    const real = existsSync(root) ? realpathSync(root) : root;
    if (!projects.some((p) => p.root === real)) found.push(await withPlace(basename(real), real, false));
  }
  return found;
}

function leftoversCheck(report: LeftoverReport, unregistered: readonly LeftoverProject[]): Check {
  const { leftovers, skipped } = report;
  const names = [...new Set(leftovers.map((l) => `${l.project}/${l.environment}`))];
  const unchecked = skipped.length ? ` (not checked: ${skipped.join('; ')})` : '';
  const registerAgain = unregistered.filter((p) => leftovers.some((l) => l.root === p.root));
  return {
    name: 'leftovers',
    result: leftovers.length ? 'warn' : 'ok',
    detail: leftovers.length
      ? `${names.length} environment${names.length === 1 ? '' : 's'} no record accounts for: ${names.join(', ')}${unchecked}` +
        registerAgain.map((p) => `; ${p.root} is not registered (\`piko init\` there registers it again)`).join('')
      : `none: every worktree, data dir, compose project and tmux session piko made has its environment${unchecked}`,
    required: false,
    leftovers,
    skipped,
  };
}

/** The leftovers by environment: what each is, and the commands that remove them. */
function leftoversText(home: string, leftovers: readonly Leftover[]): string {
  if (leftovers.length === 0) return '';
  const groups = new Map<string, Leftover[]>();
  for (const l of leftovers) groups.set(`${l.project}/${l.environment}`, [...(groups.get(`${l.project}/${l.environment}`) ?? []), l]);
  const out = [
    '',
    '',
    `Left by environments that ${stateDbPath(home)} has no record of (was it removed or replaced?).`,
    '`piko destroy` cannot remove them (it works from that record): the commands below each environment do.',
    'A create of one of these names refuses while its worktree, data dir or containers are there.',
  ];
  for (const [name, group] of groups) {
    const changes = group.some((l) => l.kind === 'worktree' && (l.changes ?? 0) > 0);
    const remove = removalCommands(group);
    out.push('', `${name}:`, ...group.map((l) => `  ${l.what}`));
    if (remove.length) out.push(`  to remove${changes ? ' (the uncommitted changes go with the worktree: look first)' : ''}:`, ...remove.map((line) => `    ${shown(line)}`));
    for (const keep of keepable(group)) out.push(`  ${keep.note}`, ...keep.remove.map((line) => `    ${shown(line)}`));
  }
  return out.join('\n');
}

export async function doctor(options: { json?: boolean }): Promise<void> {
  const home = pikoHome();
  const state = new State(home);
  const checks: Check[] = [];
  let leftovers: Leftover[] = [];
  try {
    const projects = state.listProjects();
    const environments = state.listEnvironments();
    const configOf = configReader(home);
    // Looked for beside the tools: it asks git, docker and tmux too.
    const looking = leftoverProjects(projects, process.cwd(), configOf).then(async (places) => ({
      report: await findLeftovers(places, environments),
      unregistered: places.filter((p) => !p.registered),
    }));
    // Awaited below; a check that throws first must not leave it unhandled.
    looking.catch(() => undefined);
    // Docker is required once a project has a compose file.
    const needsDocker = (await Promise.all(projects.map((p) => hasComposeFile(p.root, configOf)))).includes(true);
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
    const { report, unregistered } = await looking;
    leftovers = report.leftovers;
    checks.push(leftoversCheck(report, unregistered));
  } finally {
    state.close();
  }
  if (options.json) process.stdout.write(`${JSON.stringify(checks.map((c) => (c.leftovers ? { ...c, leftovers: c.leftovers.map(leftoverJson) } : c)), null, 2)}\n`);
  else {
    const width = Math.max(...checks.map((c) => c.name.length));
    const mark = { ok: '✓', missing: '✗', warn: '!', note: '-' };
    console.log(checks.map((c) => `${mark[c.result]} ${c.name.padEnd(width)}  ${c.detail}`).join('\n') + leftoversText(home, leftovers));
  }
  if (checks.some((c) => c.required && c.result === 'missing')) throw new ExitError(1);
}
