// Makes a compose model runnable side by side with its other environments: every published port
// gets a host port of the environment's own (one per replica), fixed container names, named
// networks and volumes get the environment's compose project name (the old container name stays
// resolvable as a network alias), fixed IPv4 subnets move to a subnet of the environment's own
// (and so do the addresses in them that the file names), and what cannot be isolated is named in
// a warning. Pure functions over the merged model.
import { PikoError } from '../../core/errors.js';
import type { PortBinding } from '../../core/protocol/messages.js';
import { moveNamedAddresses } from './addresses.js';
import { interpolate, type Vars } from './interpolate.js';
import type { ComposeDocument } from './load.js';
import { networkMode, portEntry, servicePorts } from './published.js';
import { moveSubnets, type SubnetMove } from './subnets.js';
import { isMapping } from './yaml.js';

type Mapping = Record<string, unknown>;

function renamed(section: unknown, name: (key: string) => string): unknown {
  if (!isMapping(section)) return section;
  const out: Mapping = {};
  for (const [key, value] of Object.entries(section)) {
    const config = (value ?? {}) as Mapping;
    out[key] = typeof config.name === 'string' && !config.external ? { ...config, name: name(key) } : value;
  }
  return out;
}

/** A service's networks as a mapping of name → options, with `alias` added to each. */
function withAlias(networks: unknown, alias: string): Mapping {
  const entries: [string, unknown][] = Array.isArray(networks)
    ? networks.map((name) => [String(name), null])
    : isMapping(networks)
      ? Object.entries(networks)
      : [['default', null]];
  return Object.fromEntries(
    entries.map(([name, options]) => {
      const config = isMapping(options) ? options : {};
      const aliases = Array.isArray(config.aliases) ? config.aliases : [];
      return [name, { ...config, aliases: aliases.includes(alias) ? aliases : [...aliases, alias] }];
    }),
  );
}

export interface RewriteOptions {
  /** Shown in messages: the compose file (or files) the model came from. */
  file: string;
  vars: Vars;
  composeProject: string;
  /** The environment's id: its port block and its subnets. */
  id: number;
  /** The allocated ports, in the order `portRequests` gave the requests. */
  bindings: readonly PortBinding[];
  /** Host paths that belong to this environment alone (its worktree, its data dir). */
  ownPaths: string[];
  /** A file the model names (an env_file), relative to the project folder; undefined when it cannot be read. */
  readFile?: (path: string) => string | undefined;
}

export interface Rewritten {
  doc: ComposeDocument;
  /** What piko changed beyond ports, for the user to know (a moved subnet). */
  notes: string[];
  /** What cannot be made per-environment, by name. */
  warnings: string[];
}

type Services = Record<string, Mapping | null>;

/** The compose document for one environment. */
export function rewriteCompose(model: ComposeDocument, options: RewriteOptions): Rewritten {
  const { name: _name, ...doc } = structuredCloneCompose(model);
  const out: Rewritten = { doc, notes: [], warnings: [] };
  const services = (doc.services ?? {}) as Services;
  publishPorts(model, services, options);
  const containerOf = renameContainers(services, options);
  checkServices(services, containerOf, options, out.warnings);
  const moves = isolateNetworks(doc, services, options, out);
  moveNamedAddresses(services, moves, options, out.notes, out.warnings);
  isolateVolumes(doc, options.composeProject, out.warnings);
  return out;
}

/** Every published port on the host port `bindings` gave it. */
function publishPorts(model: ComposeDocument, services: Services, { file, vars, bindings }: RewriteOptions): void {
  let next = 0;
  const parsed = new Map(servicePorts(model, file, vars).map(({ service, ports }) => [service, ports]));
  for (const [service, definition] of Object.entries(services)) {
    if (!definition) continue;
    const ports = parsed.get(service);
    if (!ports) continue;
    definition.ports = ports.flatMap((port) =>
      port.containerPorts.map((target) => {
        const binding = bindings[next++];
        if (!binding || binding.service !== service || binding.containerPort !== target) {
          throw new PikoError('PIKO_ERR_INTERNAL', `port bindings do not match ${file}`);
        }
        return portEntry(port, target, binding);
      }),
    );
  }
}

/** Fixed container names made per environment; the old name (mapped to its service) stays resolvable on the service's networks. */
function renameContainers(services: Services, { file, vars, composeProject }: RewriteOptions): Map<string, string> {
  const containerOf = new Map<string, string>();
  for (const [service, definition] of Object.entries(services)) {
    if (!definition || typeof definition.container_name !== 'string') continue;
    const old = interpolate(definition.container_name, vars, `${file}: services.${service}.container_name`);
    definition.container_name = `${composeProject}-${old}`;
    containerOf.set(old, service);
    if (definition.network_mode === undefined) definition.networks = withAlias(definition.networks, old);
  }
  return containerOf;
}

/** `network_mode: container:` pointed at the renamed container's service; what a service shares with every environment, named. */
function checkServices(services: Services, containerOf: Map<string, string>, options: RewriteOptions, warnings: string[]): void {
  for (const [service, definition] of Object.entries(services)) {
    if (!definition) continue;
    const where = `${options.file}: services.${service}`;
    const mode = networkMode(definition, options.vars, where);
    const other = mode?.startsWith('container:') ? containerOf.get(mode.slice('container:'.length)) : undefined;
    // `service:` names the same container in every compose version, and orders the start.
    if (other !== undefined) definition.network_mode = `service:${other}`;
    if (mode === 'host' && Array.isArray(definition.ports) && definition.ports.length > 0) {
      warnings.push(`services.${service} uses network_mode: host, so its ports are the host's own: piko cannot give them per-environment ports, and two environments of it clash on them`);
    } else if (mode === 'host') {
      warnings.push(`services.${service} uses network_mode: host: anything it listens on is shared by every environment`);
    }
    for (const source of absoluteMounts(definition, options.vars, where, options.ownPaths)) {
      warnings.push(`services.${service} mounts ${source} from the host: every environment shares it`);
    }
    if (definition.build !== undefined && typeof definition.image === 'string' && !/PIKO_(ENV_NAME|ENV_ID|BRANCH)/.test(definition.image)) {
      warnings.push(
        `services.${service} builds the image ${definition.image}: every environment tags that same image, so the last build wins for all of them ` +
          `(a tag such as ${definition.image.split(':')[0]}:\${PIKO_ENV_NAME} gives each its own)`,
      );
    }
  }
}

/** Named networks (the default one too) per environment, their fixed subnets moved; the moves made. */
function isolateNetworks(doc: Mapping, services: Services, { composeProject, id }: RewriteOptions, out: Rewritten): SubnetMove[] {
  const moves: SubnetMove[] = [];
  const networks = (renamed(doc.networks, (key) => `${composeProject}_${key}`) ?? {}) as Mapping;
  for (const [name, config] of Object.entries(networks)) {
    if (!isMapping(config) || config.external) continue;
    const moved = moveSubnets(name, config, id, services, out.notes, out.warnings);
    if (!moved) continue;
    networks[name] = moved.config;
    moves.push(...moved.moves);
  }
  const network = (isMapping(networks.default) ? networks.default : {}) as Mapping;
  if (!network.external) networks.default = { ...network, name: composeProject };
  doc.networks = networks;
  return moves;
}

/** Named volumes per environment; external ones, which cannot be, named. */
function isolateVolumes(doc: Mapping, composeProject: string, warnings: string[]): void {
  if (doc.volumes === undefined) return;
  doc.volumes = renamed(doc.volumes, (key) => `${composeProject}_${key}`);
  for (const [name, config] of Object.entries(isMapping(doc.volumes) ? doc.volumes : {})) {
    if (isMapping(config) && config.external) warnings.push(`volumes.${name} is external: every environment shares its data`);
  }
}

/** Host paths a service bind-mounts that are absolute (not in the worktree, so not per environment). */
function absoluteMounts(service: Mapping, vars: Vars, where: string, own: string[]): string[] {
  if (!Array.isArray(service.volumes)) return [];
  const sources = service.volumes.flatMap((entry): string[] => {
    if (typeof entry === 'string') {
      const parts = entry.split(':');
      return parts.length > 1 ? [parts[0]!] : [];
    }
    return isMapping(entry) && entry.type === 'bind' && typeof entry.source === 'string' ? [entry.source] : [];
  });
  return sources
    .map((source) => interpolate(source, vars, `${where}.volumes`))
    .filter((source) => (source.startsWith('/') || source.startsWith('~')) && !own.some((path) => source === path || source.startsWith(`${path}/`)));
}

/** A deep copy that keeps the YAML layer's value classes (octal numbers). */
function structuredCloneCompose<T>(value: T): T {
  if (Array.isArray(value)) return value.map(structuredCloneCompose) as T;
  if (!isMapping(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, structuredCloneCompose(v)])) as T;
}
