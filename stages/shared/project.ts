// A project's shared services as one compose project, `piko-<project>-shared`: planned from the
// repository's own compose files (the shared services alone, their ports on the project's shared
// port block, a database server's port published on loopback so the host reaches it), written to
// .piko/shared/docker-compose.piko.yml, started, and waited for until healthy.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PikoConfig } from '../../core/config/config.js';
import { PikoError } from '../../core/errors.js';
import type { PortBinding, SharedUse } from '../../core/protocol/messages.js';
import { dockerLines, type ComposeTool } from '../docker/compose-cli.js';
import { parseDotEnv, type Vars } from '../docker/interpolate.js';
import { composeFiles, loadCompose } from '../docker/load.js';
import { joinedNetworks, rejoinNetworks, serviceContainers } from '../docker/networks.js';
import { allocatePorts, portBlock, portIsFree, type PortRequest } from '../docker/ports.js';
import { portRequests } from '../docker/published.js';
import { rewriteCompose } from '../docker/rewrite.js';
import { writeComposeYaml } from '../docker/yaml.js';
import type { DatabaseServer, Shell } from './databases.js';
import { containerStates, waitHealthy } from './health.js';
import {
  credentials,
  DATABASE_PORTS,
  databaseName,
  databaseUrl,
  hostPortOf,
  serviceEnvironment,
  sharedComposeProject,
  sharedServices,
  splitShared,
  type SharedService,
} from './model.js';


export interface SharedPlan {
  /** The piko project's name, and its shared compose project's. */
  project: string;
  composeProject: string;
  root: string;
  /** The compose project folder of the repository: relative paths in the files start there. */
  dir: string;
  /** The file piko writes and runs. */
  file: string;
  services: SharedService[];
  bindings: PortBinding[];
  /** Each service's `environment:` as its container gets it (a database server's credentials are there). */
  environments: Record<string, Record<string, string>>;
  /** Whether the file is what it was the last time it was written. */
  unchanged: boolean;
}

/** What planning needs of the project. */
export interface SharedTarget {
  project: { name: string; root: string };
  config: PikoConfig;
  /** The port block of the project's shared services (core/state: sharedBlock). */
  block: number;
}

/** Plans the shared project from the repository's compose files and writes its file. */
export async function planShared(target: SharedTarget): Promise<SharedPlan> {
  const { project, config, block } = target;
  const files = composeFiles(project.root, config.compose);
  if (!files) throw new PikoError('PIKO_ERR_CONFIG_INVALID', `shared: needs a compose file, and ${project.root} has none`);
  const model = loadCompose(project.root, files);
  const shown = model.files.join(' + ');
  const dotEnv = join(model.dir, '.env');
  const vars: Vars = { ...(existsSync(dotEnv) ? parseDotEnv(readFileSync(dotEnv, 'utf8')) : {}), ...process.env };
  const services = sharedServices(config, model.doc, shown, vars);
  const { shared } = splitShared(model.doc, services.map((s) => s.service), shown);
  for (const { service, kind } of services) {
    if (kind === 'none') continue;
    const definition = shared.services![service]!;
    const published = portRequests({ services: { [service]: definition } }, shown, vars).some((r) => r.containerPort === DATABASE_PORTS[kind]);
    // The host reaches the server (seed scripts, PIKO_<SERVICE>_HOST_URL) on loopback only.
    if (!published) definition.ports = [...(Array.isArray(definition.ports) ? definition.ports : []), `127.0.0.1::${DATABASE_PORTS[kind]}`];
  }
  const composeProject = sharedComposeProject(project.name);
  const requests = portRequests(shared, shown, vars);
  const bindings = await sharedPorts(block, requests, await publishedNow(composeProject));
  const rewritten = rewriteCompose(shared, { file: shown, vars, composeProject, id: block, bindings, ownPaths: [] });
  const file = join(project.root, '.piko', 'shared', 'docker-compose.piko.yml');
  const text = `# Written by piko for the shared services of ${project.name} from ${model.files.join(', ')}: edit ${model.files.length > 1 ? 'those' : 'that file'}, not this one.\n${writeComposeYaml(rewritten.doc)}`;
  const before = existsSync(file) ? await readFile(file, 'utf8') : undefined;
  if (before !== text) {
    await mkdir(join(project.root, '.piko', 'shared'), { recursive: true });
    await writeFile(file, text);
  }
  const environments = Object.fromEntries(services.map(({ service }) => [service, serviceEnvironment(shared.services![service]!, vars)]));
  return { project: project.name, composeProject, root: project.root, dir: model.dir, file, services, bindings, environments, unchanged: before === text };
}

/**
 * Host ports for the shared project's `requests`. A port the running project publishes already
 * stays as it is, even where a port it would prefer has come free meanwhile: a port that moved
 * would have compose recreate the service under every environment that uses it. The others get
 * ports of the block, the running project's ports counting as free (they are its own).
 */
async function sharedPorts(block: number, requests: readonly PortRequest[], running: readonly PortBinding[]): Promise<PortBinding[]> {
  const { first, last } = portBlock(block);
  const kept = requests.map((request): PortBinding | undefined => {
    const count = request.replicas ?? 1;
    const same = running.filter((b) => b.service === request.service && b.containerPort === request.containerPort && b.protocol === request.protocol);
    const ports = [...new Set(same.map((b) => b.hostPort))].sort((a, b) => a - b);
    if (ports.length !== count || ports[0]! < first || ports[count - 1]! > last || ports.some((port, i) => port !== ports[0]! + i)) return undefined;
    return { service: request.service, containerPort: request.containerPort, hostPort: ports[0]!, protocol: request.protocol, ...(count > 1 ? { replicas: count } : {}) };
  });
  const key = (port: number, protocol: string): string => `${port}/${protocol}`;
  const given = new Set(kept.flatMap((b) => (b ? Array.from({ length: b.replicas ?? 1 }, (_, i) => key(b.hostPort + i, b.protocol)) : [])));
  const held = new Set(running.map((b) => key(b.hostPort, b.protocol)));
  const others = await allocatePorts(
    block,
    requests.filter((_, i) => kept[i] === undefined),
    async (port, protocol, hostIp) => !given.has(key(port, protocol)) && (held.has(key(port, protocol)) || portIsFree(port, protocol, hostIp)),
  );
  let next = 0;
  return kept.map((binding) => binding ?? others[next++]!);
}

/** The host ports the shared project's containers publish now (none when it is not running). */
async function publishedNow(composeProject: string): Promise<PortBinding[]> {
  const containers = await serviceContainers(composeProject);
  if (containers.length === 0) return [];
  const lines = await dockerLines(['inspect', '--format', '{{json .NetworkSettings.Ports}}', ...containers.map((c) => c.id)]);
  return lines.flatMap((line, i) => {
    const ports = JSON.parse(line) as Record<string, { HostPort: string }[] | null> | null;
    return Object.entries(ports ?? {}).flatMap(([key, hosts]) => {
      const [port, protocol] = key.split('/');
      return (hosts ?? []).map((h) => ({ service: containers[i]!.service, containerPort: Number(port), hostPort: Number(h.HostPort), protocol: protocol as 'tcp' | 'udp' }));
    });
  });
}

/** `compose -p piko-<project>-shared --project-directory <dir> -f <file> <args>`. */
export function sharedCompose(plan: Pick<SharedPlan, 'composeProject' | 'dir' | 'file'>, tool: ComposeTool, args: string[]): [string, string[]] {
  return [tool.file, [...tool.prefix, '-p', plan.composeProject, '--project-directory', plan.dir, '-f', plan.file, ...args]];
}

/**
 * Starts the shared services unless every one already runs from this very file, and waits until
 * each is healthy (its healthcheck passes, or it runs when it has none) and each database server
 * takes connections.
 */
export async function startShared(plan: SharedPlan, tool: ComposeTool, shell: Shell, signal?: AbortSignal): Promise<void> {
  const states = await containerStates(plan.composeProject);
  const running = plan.services.every(({ service }) => states.some((s) => s.service === service && s.status === 'running'));
  if (running && plan.unchanged) {
    shell.info(`${plan.composeProject} runs already`);
  } else {
    // A container compose makes anew is on its own project's networks only: the environments' it was on are joined again.
    const joined = await joinedNetworks(plan.composeProject);
    await shell.run(...sharedCompose(plan, tool, ['up', '-d', '--remove-orphans']), { cwd: plan.dir });
    await rejoinNetworks(plan.composeProject, joined);
  }
  const serverOf = (service: string, container: string) => databaseServerOf(plan, service, container);
  // Running already from this very file: the states just read are the first look.
  await waitHealthy({ ...plan, serverOf }, shell, signal, running && plan.unchanged ? states : undefined);
}

/** The database server `service` runs, when it is one piko makes databases on. */
export function databaseServerOf(plan: SharedPlan, service: string, container: string): DatabaseServer | undefined {
  const shared = plan.services.find((s) => s.service === service);
  if (!shared || shared.kind === 'none') return undefined;
  return { kind: shared.kind, service, container, who: credentials(shared.kind, plan.environments[service] ?? {}) };
}

/** The running database server of `service`, or an error saying the shared services are not up. */
export async function databaseServer(plan: SharedPlan, service: string): Promise<DatabaseServer> {
  const container = (await serviceContainers(plan.composeProject)).find((c) => c.service === service);
  const server = container && databaseServerOf(plan, service, container.id);
  if (!server) throw new PikoError('PIKO_ERR_STAGE_FAILED', `database failed: ${service} of ${plan.composeProject} is not running`, { stage: 'database', hint: 'Start the shared services: `piko shared up`.' });
  return server;
}

/** What environment `env` uses of the shared services: their ports, and its own database on each server. */
export function sharedUses(plan: SharedPlan, env: string): SharedUse[] {
  return plan.services.map(({ service, kind }) => {
    const ports = plan.bindings.filter((b) => b.service === service);
    if (kind === 'none') return { service, ports };
    const who = credentials(kind, plan.environments[service] ?? {});
    const name = databaseName(plan.project, env);
    const hostPort = hostPortOf(plan.bindings, service, DATABASE_PORTS[kind])!;
    return {
      service,
      ports,
      database: { kind, name, url: databaseUrl(kind, who, service, DATABASE_PORTS[kind], name), hostUrl: databaseUrl(kind, who, '127.0.0.1', hostPort, name) },
    };
  });
}

/** A template's URLs, for the seed that makes it. */
export function templateUrls(plan: SharedPlan, service: SharedService, template: string): { url: string; hostUrl: string } {
  const kind = service.kind as Exclude<typeof service.kind, 'none'>;
  const who = credentials(kind, plan.environments[service.service] ?? {});
  const hostPort = hostPortOf(plan.bindings, service.service, DATABASE_PORTS[kind])!;
  return { url: databaseUrl(kind, who, service.service, DATABASE_PORTS[kind], template), hostUrl: databaseUrl(kind, who, '127.0.0.1', hostPort, template) };
}
