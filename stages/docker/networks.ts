// Containers of one compose project on another's networks: a project's shared services join
// each environment's networks under their service names, so that `db:5432` reaches the shared
// server from that environment only (a shared network every environment joined would let each
// resolve the others' services by name). Before an environment's networks go, whatever other
// project's containers are on them leave, or docker would refuse to remove them.
import { dockerLines, PROJECT_LABEL, SERVICE_LABEL } from './compose-cli.js';
import { isMapping } from './yaml.js';

const byProject = (project: string): string[] => ['--filter', `label=${PROJECT_LABEL}=${project}`];

/** The networks compose made for `project`. */
export const projectNetworks = (project: string): Promise<string[]> => dockerLines(['network', 'ls', '--format', '{{.Name}}', ...byProject(project)]);

/** The containers of `project`, with the service each runs. */
export async function serviceContainers(project: string): Promise<{ id: string; service: string }[]> {
  const lines = await dockerLines(['ps', '--all', '--format', `{{.ID}}\t{{.Label "${SERVICE_LABEL}"}}`, ...byProject(project)]);
  return lines.map((line) => {
    const [id = '', service = ''] = line.split('\t');
    return { id, service };
  });
}

/**
 * Connects the containers of `from`'s `services` to every network of `to`, each answering there
 * to its service name. Returns how many connections it made (one already there counts as made).
 */
export async function joinNetworks(from: string, services: readonly string[], to: string): Promise<number> {
  const containers = (await serviceContainers(from)).filter((c) => services.includes(c.service));
  const networks = await projectNetworks(to);
  let made = 0;
  for (const network of networks) {
    const attached = new Set(await attachedContainers(network));
    for (const container of containers) {
      if (!attached.has(container.id)) await dockerLines(['network', 'connect', '--alias', container.service, network, container.id]);
      made++;
    }
  }
  return made;
}

/**
 * The networks of other projects that the containers of `project` answer on under their service
 * name (what joinNetworks made), by service: for joining them again when compose recreates them.
 */
export async function joinedNetworks(project: string): Promise<Map<string, Set<string>>> {
  const own = new Set(await projectNetworks(project));
  const joined = new Map<string, Set<string>>();
  for (const { id, service } of await serviceContainers(project)) {
    const lines = await dockerLines(['inspect', '--format', '{{range $name, $n := .NetworkSettings.Networks}}{{$name}}\t{{join $n.Aliases " "}}\n{{end}}', id]);
    for (const line of lines) {
      const [network = '', aliases = ''] = line.split('\t');
      if (own.has(network) || !aliases.split(' ').includes(service)) continue;
      joined.set(service, (joined.get(service) ?? new Set<string>()).add(network));
    }
  }
  return joined;
}

/** Joins the containers of `project` to the networks `joined` names for their service again; a network gone meanwhile is left out. */
export async function rejoinNetworks(project: string, joined: Map<string, Set<string>>): Promise<void> {
  for (const { id, service } of await serviceContainers(project)) {
    for (const network of joined.get(service) ?? []) {
      const attached = await attachedContainers(network).catch(() => undefined);
      if (attached === undefined || attached.includes(id)) continue;
      await dockerLines(['network', 'connect', '--alias', service, network, id]);
    }
  }
}

/** The ids (short, as `docker ps` gives them) of the containers on `network`. */
async function attachedContainers(network: string): Promise<string[]> {
  const [line = ''] = await dockerLines(['network', 'inspect', '--format', '{{range $id, $c := .Containers}}{{$id}} {{end}}', network]);
  return line.split(' ').filter(Boolean).map((id) => id.slice(0, 12));
}

/** Disconnects from `project`'s networks every container of another project; returns how many it disconnected. */
export async function leaveNetworks(project: string): Promise<number> {
  const own = new Set((await serviceContainers(project)).map((c) => c.id));
  let left = 0;
  for (const network of await projectNetworks(project)) {
    for (const id of await attachedContainers(network)) {
      if (own.has(id)) continue;
      await dockerLines(['network', 'disconnect', '--force', network, id]);
      left++;
    }
  }
  return left;
}

/**
 * The networks of an environment's compose file as piko can make them itself, exactly as compose
 * would (a name and nothing else: no driver, ipam or options), or undefined when one is more than
 * that (compose must make it: `up --no-start`). External ones are not the environment's.
 */
export function plainNetworks(doc: Record<string, unknown>, project: string): { key: string; name: string }[] | undefined {
  const networks = { default: null, ...(isMapping(doc.networks) ? doc.networks : {}) } as Record<string, unknown>;
  const plain: { key: string; name: string }[] = [];
  for (const [key, value] of Object.entries(networks)) {
    const config = isMapping(value) ? value : {};
    if (config.external) continue;
    const { name, ...rest } = config;
    if (Object.keys(rest).length > 0 || (name !== undefined && typeof name !== 'string')) return undefined;
    plain.push({ key, name: name ?? `${project}_${key}` });
  }
  return plain;
}

/**
 * Makes `networks` of compose project `project` the way compose labels its own (both versions
 * take a network so labelled as theirs, and `down` removes it): one process less to start than
 * `up --no-start` before the shared services can join them.
 */
export async function makeNetworks(project: string, networks: readonly { key: string; name: string }[]): Promise<void> {
  const there = new Set(await projectNetworks(project));
  for (const { key, name } of networks) {
    if (there.has(name)) continue;
    await dockerLines(['network', 'create', '--label', `${PROJECT_LABEL}=${project}`, '--label', `com.docker.compose.network=${key}`, name]);
  }
}
