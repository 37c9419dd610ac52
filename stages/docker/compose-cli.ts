// Which docker compose this machine has, and what the engine itself says about a compose
// project. Compose v2 (`docker compose`) is preferred; v1 (`docker-compose`, still what some
// distributions package) works the same. What v1 cannot tell (`ps --format json`) is asked of
// the engine: compose labels every container, network and volume it makes with
// `com.docker.compose.project=<name>`, in both versions.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { PikoError } from '../../core/errors.js';
import { pikoHome } from '../../core/paths.js';
import { query } from '../../core/system/query.js';

export interface ComposeTool {
  major: 1 | 2;
  /** The program, and the arguments before compose's own: `docker compose …` or `docker-compose …`. */
  file: string;
  prefix: string[];
  /** As the user would type it, with its version: `docker compose 2.29.7`, `docker-compose 1.29.2`. */
  label: string;
}

export const PROJECT_LABEL = 'com.docker.compose.project';
export const SERVICE_LABEL = 'com.docker.compose.service';

async function versionOf(file: string, args: string[]): Promise<string | undefined> {
  const result = await query(file, args, { timeout: 30_000 });
  return result.exitCode === 0 ? result.stdout.trim().split('\n')[0]?.replace(/^v/, '') : undefined;
}

/** Compose v2 if `docker compose` answers, else v1 if `docker-compose` does, else undefined. */
export async function findCompose(): Promise<ComposeTool | undefined> {
  const v2 = await versionOf('docker', ['compose', 'version', '--short']);
  if (v2) return { major: 2, file: 'docker', prefix: ['compose'], label: `docker compose ${v2}` };
  const v1 = await versionOf('docker-compose', ['version', '--short']);
  if (v1) return { major: v1.startsWith('1.') ? 1 : 2, file: 'docker-compose', prefix: [], label: `docker-compose ${v1}` };
  return undefined;
}

/**
 * Asks the engine for its version: fails, saying why in docker's own words, when docker is not
 * installed or its daemon cannot be reached.
 */
export async function requireDaemon(signal?: AbortSignal): Promise<string> {
  const result = await query('docker', ['version', '--format', '{{.Server.Version}}'], { timeout: 60_000, signal });
  if (result.exitCode === 0) return result.stdout.trim();
  if (signal?.aborted) throw signal.reason;
  if (result.code === 'ENOENT') {
    throw new PikoError('PIKO_ERR_DOCKER_UNAVAILABLE', 'docker failed: docker is not installed (not found on PATH)', { stage: 'docker' });
  }
  const said = result.stderr.trim().split('\n').find((line) => line.trim() !== '');
  throw new PikoError(
    'PIKO_ERR_DOCKER_UNAVAILABLE',
    `docker failed: cannot reach the Docker daemon (\`docker version\` exited with code ${result.exitCode ?? 'none'}${said ? `: ${said}` : ''})`,
    { stage: 'docker', ...(result.exitCode === undefined ? {} : { exitCode: result.exitCode }) },
  );
}

/**
 * What decides which compose `findCompose` finds: the programs on PATH (docker, docker-compose)
 * and the places the docker CLI loads its compose plugin from, each as its size and mtime (or
 * absent). While none of them changes, the answer cannot either.
 */
function composeFingerprint(): string {
  const path = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  const onPath = (name: string): string | undefined => path.map((dir) => join(dir, name)).find((file) => existsSync(file));
  const config = process.env.DOCKER_CONFIG ?? join(homedir(), '.docker');
  const plugins = [config, '/usr/local/lib/docker', '/usr/local/libexec/docker', '/usr/lib/docker', '/usr/libexec/docker'].map((dir) => join(dir, 'cli-plugins', 'docker-compose'));
  return [onPath('docker'), onPath('docker-compose'), ...plugins]
    .map((file) => {
      if (file === undefined) return '-';
      try {
        const stat = statSync(file);
        return `${file}:${stat.size}:${stat.mtimeMs}`;
      } catch {
        return `${file}:-`;
      }
    })
    .join('|');
}

/**
 * `findCompose`, remembered in $PIKO_HOME/cache while nothing it depends on changes: Compose v1
 * takes half a second to say its version, on every operation.
 */
async function knownCompose(): Promise<ComposeTool | undefined> {
  const file = join(pikoHome(), 'cache', 'compose.json');
  const fingerprint = composeFingerprint();
  try {
    const cached = JSON.parse(readFileSync(file, 'utf8')) as { fingerprint: string; tool: ComposeTool };
    if (cached.fingerprint === fingerprint) return cached.tool;
  } catch {
    // Not there yet, or not readable: asked below.
  }
  const tool = await findCompose();
  if (tool) {
    try {
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      writeFileSync(file, JSON.stringify({ fingerprint, tool }));
    } catch {
      // A cache that cannot be written costs the next operation half a second, nothing more.
    }
  }
  return tool;
}

/** Like `findCompose` (remembered), but a missing compose is an error that says what to install. */
export async function requireCompose(): Promise<ComposeTool> {
  const tool = await knownCompose();
  if (tool) return tool;
  throw new PikoError(
    'PIKO_ERR_DOCKER_UNAVAILABLE',
    'docker compose failed: neither `docker compose` (Compose v2, the docker CLI plugin) nor `docker-compose` (Compose v1) is installed',
    { stage: 'docker' },
  );
}

/** `docker compose -p <project> [-f <file>] <args>` (or the v1 spelling) as a program and its arguments. */
export function composeCommand(tool: ComposeTool, project: string, file: string | undefined, args: string[]): [string, string[]] {
  return [tool.file, [...tool.prefix, '-p', project, ...(file ? ['-f', file] : []), ...args]];
}

export interface Container {
  name: string;
  service: string;
  state: string;
  ports: string[];
}

/** Runs docker quietly; a docker that fails (no daemon) says why in one line. */
export async function dockerLines(args: string[]): Promise<string[]> {
  const result = await query('docker', args, { timeout: 60_000 });
  if (result.exitCode !== 0) {
    const why = (result.stderr || result.code || 'failed').trim().split('\n')[0]!;
    throw new PikoError('PIKO_ERR_DOCKER_UNAVAILABLE', `\`docker ${args.join(' ')}\` failed: ${why}`, { stage: 'docker', command: `docker ${args[0]}` });
  }
  return result.stdout.split('\n').filter((line) => line.trim() !== '');
}

const filter = (project: string): string[] => ['--filter', `label=${PROJECT_LABEL}=${project}`];

/** The containers of a compose project as the engine has them, running or not, by service. */
export async function projectContainers(project: string): Promise<Container[]> {
  const format = `{{.Names}}\t{{.State}}\t{{.Label "com.docker.compose.service"}}\t{{.Ports}}`;
  const lines = await dockerLines(['ps', '--all', ...filter(project), '--format', format]);
  return lines
    .map((line) => {
      const [name = '?', state = '?', service = '?', ports = ''] = line.split('\t');
      return { name, service, state, ports: ports === '' ? [] : ports.split(', ') };
    })
    .sort((a, b) => a.service.localeCompare(b.service) || a.name.localeCompare(b.name));
}

export interface Leftovers {
  containers: number;
  networks: number;
  volumes: number;
}

/**
 * Removes whatever of a compose project is still there: containers, networks and (unless
 * kept) volumes. After `down` this is usually nothing; without the compose file (which Compose
 * v1's `down` needs) it is everything.
 */
export async function removeProject(project: string, options: { volumes: boolean }): Promise<Leftovers> {
  const containers = await dockerLines(['ps', '--all', '--quiet', ...filter(project)]);
  if (containers.length > 0) await dockerLines(['rm', '--force', '--volumes', ...containers]);
  const networks = await dockerLines(['network', 'ls', '--quiet', ...filter(project)]);
  if (networks.length > 0) await dockerLines(['network', 'rm', ...networks]);
  const volumes = options.volumes ? await dockerLines(['volume', 'ls', '--quiet', ...filter(project)]) : [];
  if (volumes.length > 0) await dockerLines(['volume', 'rm', '--force', ...volumes]);
  return { containers: containers.length, networks: networks.length, volumes: volumes.length };
}
