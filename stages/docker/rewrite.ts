// Makes a compose model runnable side by side with its other environments: every published port
// gets a host port of the environment's own (one per replica), fixed container names, named
// networks and volumes get the environment's compose project name (the old container name stays
// resolvable as a network alias), fixed IPv4 subnets move to a subnet of the environment's own,
// and what cannot be isolated is named in a warning. Pure functions over the merged model.
import { PikoError } from '../../core/errors.js';
import type { PortBinding } from '../../core/protocol.js';
import { publishedPorts } from '../../core/vars.js';
import type { ComposeDocument } from './load.js';
import type { PortRequest } from './ports.js';
import { isMapping } from './yaml.js';

type Mapping = Record<string, unknown>;
export type Vars = Record<string, string | undefined>;

/** Reads `.env`-style `KEY=value` lines (the file compose reads for interpolation). */
export function parseDotEnv(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!match) continue;
    let value = match[2]!;
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.endsWith(quote) && value.length >= 2) value = value.slice(1, -1);
    else value = value.replace(/\s+#.*$/, '');
    vars[match[1]!] = value;
  }
  return vars;
}

const invalid = (where: string, message: string): PikoError =>
  new PikoError('PIKO_ERR_COMPOSE_INVALID', `${where}: ${message}`, { stage: 'docker' });

/** Compose's `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `${VAR:+alt}`, `$VAR` and `$$`. */
export function interpolate(value: string, vars: Vars, where: string): string {
  return value.replace(
    /\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?+])((?:[^{}]|\{[^{}]*\})*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (match, braced: string | undefined, colon: string, op: string | undefined, arg: string | undefined, bare: string | undefined) => {
      if (match === '$$') return '$';
      const name = (braced ?? bare)!;
      const current = vars[name];
      const unset = current === undefined || (colon === ':' && current === '');
      switch (op) {
        case '-':
          return unset ? interpolate(arg ?? '', vars, where) : current!;
        case '+':
          return unset ? '' : interpolate(arg ?? '', vars, where);
        case '?':
          if (unset) throw invalid(where, `${name} is required${arg ? ` (${arg})` : ''}`);
          return current!;
        default:
          return current ?? '';
      }
    },
  );
}

/** How many host ports an environment has: its block. */
const BLOCK_SIZE = 100;

interface ParsedPort {
  containerPorts: number[];
  protocol: 'tcp' | 'udp';
  hostIp?: string;
  /** Long-syntax fields other than the ones piko sets (mode, name, app_protocol). */
  extra: Mapping;
}

function portRange(text: string, where: string): number[] {
  const match = /^(\d+)(?:-(\d+))?$/.exec(text.trim());
  if (!match) throw invalid(where, `${JSON.stringify(text)} is not a port or port range`);
  const from = Number(match[1]);
  const to = match[2] === undefined ? from : Number(match[2]);
  if (from < 1 || to > 65535 || to < from) throw invalid(where, `${JSON.stringify(text)} is not a port range`);
  if (to - from >= BLOCK_SIZE) {
    throw invalid(
      where,
      `the range ${text} publishes ${to - from + 1} ports, but an environment has a block of ${BLOCK_SIZE} host ports ` +
        `(10000 + 100 × id and the 99 after it) for all of its services; publish at most ${BLOCK_SIZE} (fewer if other services publish too), ` +
        'or expose the range to other containers only (`expose:` instead of `ports:`)',
    );
  }
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

function protocolOf(text: string | undefined, where: string): 'tcp' | 'udp' {
  const protocol = (text ?? 'tcp').toLowerCase();
  if (protocol !== 'tcp' && protocol !== 'udp') throw invalid(where, `protocol ${JSON.stringify(text)} is not tcp or udp`);
  return protocol;
}

/** One entry of a service's `ports:`, short (`[ip:][host:]container[/proto]`) or long syntax. */
function parsePort(entry: unknown, vars: Vars, where: string): ParsedPort {
  if (typeof entry === 'number') return { containerPorts: [entry], protocol: 'tcp', extra: {} };
  if (typeof entry === 'string') {
    let spec = interpolate(entry, vars, where);
    let protocol: string | undefined;
    const slash = spec.lastIndexOf('/');
    if (slash !== -1) {
      protocol = spec.slice(slash + 1);
      spec = spec.slice(0, slash);
    }
    const lastColon = spec.lastIndexOf(':');
    const container = lastColon === -1 ? spec : spec.slice(lastColon + 1);
    const rest = lastColon === -1 ? '' : spec.slice(0, lastColon);
    const hostColon = rest.lastIndexOf(':');
    const hostIp = hostColon === -1 ? undefined : rest.slice(0, hostColon).replace(/^\[(.*)\]$/, '$1');
    return {
      containerPorts: portRange(container, where),
      protocol: protocolOf(protocol, where),
      ...(hostIp ? { hostIp } : {}),
      extra: {},
    };
  }
  if (isMapping(entry)) {
    const { target, published: _published, host_ip: hostIp, protocol, ...extra } = entry;
    if (target === undefined) throw invalid(where, 'long-syntax port needs `target`');
    const text = (value: unknown): string => interpolate(String(value), vars, where);
    return {
      containerPorts: portRange(text(target), where),
      protocol: protocolOf(protocol === undefined ? undefined : text(protocol), where),
      ...(hostIp === undefined || text(hostIp) === '' ? {} : { hostIp: text(hostIp) }),
      extra,
    };
  }
  throw invalid(where, `${JSON.stringify(entry)} is not a port`);
}

/** How many containers of the service run: `scale`, or `deploy.replicas`, or 1. */
function replicasOf(service: Mapping, vars: Vars, where: string): number {
  const deploy = isMapping(service.deploy) ? service.deploy : {};
  const raw = service.scale ?? deploy.replicas;
  if (raw === undefined || raw === null) return 1;
  const count = Number(typeof raw === 'string' ? interpolate(raw, vars, where) : raw);
  if (!Number.isInteger(count) || count < 0) throw invalid(where, `${JSON.stringify(raw)} is not a number of replicas`);
  return Math.max(count, 1);
}

const networkMode = (service: Mapping, vars: Vars, where: string): string | undefined =>
  typeof service.network_mode === 'string' ? interpolate(service.network_mode, vars, where) : undefined;

interface ServicePorts {
  service: string;
  ports: ParsedPort[];
  replicas: number;
}

/** The published ports of every service that can have ports of its own (not `network_mode: host`). */
function servicePorts(doc: ComposeDocument, file: string, vars: Vars): ServicePorts[] {
  const result: ServicePorts[] = [];
  for (const [service, definition] of Object.entries(doc.services ?? {})) {
    const ports = definition?.ports;
    if (ports === undefined || ports === null) continue;
    const where = `${file}: services.${service}`;
    if (!Array.isArray(ports)) throw invalid(where, 'ports must be a list');
    if (networkMode(definition, vars, where) === 'host') continue;
    result.push({
      service,
      ports: ports.map((entry, i) => parsePort(entry, vars, `${where}.ports[${i}]`)),
      replicas: replicasOf(definition, vars, where),
    });
  }
  return result;
}

/** Every port the compose model publishes, one request per container port, in file order. */
export function portRequests(doc: ComposeDocument, file: string, vars: Vars): PortRequest[] {
  return servicePorts(doc, file, vars).flatMap(({ service, ports, replicas }) =>
    ports.flatMap((port) =>
      port.containerPorts.map((containerPort) => ({
        service,
        containerPort,
        protocol: port.protocol,
        hostIp: port.hostIp,
        ...(replicas > 1 ? { replicas } : {}),
      })),
    ),
  );
}

/**
 * A published port as Compose v1 and v2 both read it: the short syntax, unless the entry had
 * long-syntax fields of its own (v1 knows no `host_ip` in the long syntax).
 */
function portEntry(port: ParsedPort, target: number, binding: PortBinding): unknown {
  const published = publishedPorts(binding);
  if (Object.keys(port.extra).length > 0) {
    return { ...port.extra, target, published, protocol: port.protocol, ...(port.hostIp ? { host_ip: port.hostIp } : {}) };
  }
  const ip = port.hostIp === undefined ? '' : `${port.hostIp.includes(':') ? `[${port.hostIp}]` : port.hostIp}:`;
  return `${ip}${published}:${target}/${port.protocol}`;
}

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

// ---- IPv4 subnets -----------------------------------------------------------------------

const PRIVATE_RANGES: [string, number][] = [
  ['10.0.0.0', 8],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
];

const ipToInt = (ip: string): number | undefined => {
  const parts = ip.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) < 256)) return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
};
const intToIp = (n: number): string => [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');

interface SubnetMove {
  from: { base: number; size: number };
  offset: number;
}

/** Moves an IPv4 subnet inside its private range by `id` subnets of its size, or says why it cannot. */
function moveSubnet(cidr: string, id: number): SubnetMove | string {
  const [ip, bits] = cidr.split('/');
  const base = ipToInt(ip ?? '');
  const prefix = Number(bits);
  if (base === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) return 'is not an IPv4 subnet piko can move';
  const size = 2 ** (32 - prefix);
  for (const [rangeIp, rangePrefix] of PRIVATE_RANGES) {
    const rangeBase = ipToInt(rangeIp)!;
    const rangeSize = 2 ** (32 - rangePrefix);
    if (base < rangeBase || base >= rangeBase + rangeSize) continue;
    const slots = rangeSize / size;
    if (prefix < rangePrefix || slots < 2) return `is as large as its private range ${rangeIp}/${rangePrefix}`;
    const index = (base - rangeBase) / size;
    const moved = (index + id) % slots;
    return { from: { base, size }, offset: (moved - index) * size };
  }
  return 'is not in a private range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)';
}

/** An address moved with its subnet, when it lies inside it. */
function moveAddress(address: unknown, move: SubnetMove): unknown {
  if (typeof address !== 'string') return address;
  const [ip, bits] = address.split('/');
  const n = ipToInt(ip ?? '');
  if (n === undefined || n < move.from.base || n >= move.from.base + move.from.size) return address;
  return `${intToIp(n + move.offset)}${bits === undefined ? '' : `/${bits}`}`;
}

// ---- the rewrite ------------------------------------------------------------------------

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
}

export interface Rewritten {
  doc: ComposeDocument;
  /** What piko changed beyond ports, for the user to know (a moved subnet). */
  notes: string[];
  /** What cannot be made per-environment, by name. */
  warnings: string[];
}

/** The compose document for one environment. */
export function rewriteCompose(model: ComposeDocument, options: RewriteOptions): Rewritten {
  const { file, vars, composeProject, id, bindings } = options;
  const notes: string[] = [];
  const warnings: string[] = [];
  const { name: _name, ...doc } = structuredCloneCompose(model);
  const services = (doc.services ?? {}) as Record<string, Mapping | null>;

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

  // Fixed container names: per environment, the old name still resolvable on the service's networks.
  const containerOf = new Map<string, string>();
  for (const [service, definition] of Object.entries(services)) {
    if (!definition || typeof definition.container_name !== 'string') continue;
    const old = interpolate(definition.container_name, vars, `${file}: services.${service}.container_name`);
    definition.container_name = `${composeProject}-${old}`;
    containerOf.set(old, service);
    if (definition.network_mode === undefined) definition.networks = withAlias(definition.networks, old);
  }

  for (const [service, definition] of Object.entries(services)) {
    if (!definition) continue;
    const where = `${file}: services.${service}`;
    const mode = networkMode(definition, vars, where);
    const other = mode?.startsWith('container:') ? containerOf.get(mode.slice('container:'.length)) : undefined;
    // `service:` names the same container in every compose version, and orders the start.
    if (other !== undefined) definition.network_mode = `service:${other}`;
    if (mode === 'host' && Array.isArray(definition.ports) && definition.ports.length > 0) {
      warnings.push(`services.${service} uses network_mode: host, so its ports are the host's own: piko cannot give them per-environment ports, and two environments of it clash on them`);
    } else if (mode === 'host') {
      warnings.push(`services.${service} uses network_mode: host: anything it listens on is shared by every environment`);
    }
    for (const source of absoluteMounts(definition, vars, where, options.ownPaths)) {
      warnings.push(`services.${service} mounts ${source} from the host: every environment shares it`);
    }
    if (definition.build !== undefined && typeof definition.image === 'string' && !/PIKO_(ENV_NAME|ENV_ID|BRANCH)/.test(definition.image)) {
      warnings.push(
        `services.${service} builds the image ${definition.image}: every environment tags that same image, so the last build wins for all of them ` +
          `(a tag such as ${definition.image.split(':')[0]}:\${PIKO_ENV_NAME} gives each its own)`,
      );
    }
  }

  const networks = (renamed(doc.networks, (key) => `${composeProject}_${key}`) ?? {}) as Mapping;
  for (const [name, config] of Object.entries(networks)) {
    if (!isMapping(config) || config.external) continue;
    const moved = moveSubnets(name, config, id, services, notes, warnings);
    if (moved) networks[name] = moved;
  }
  const network = (isMapping(networks.default) ? networks.default : {}) as Mapping;
  if (!network.external) networks.default = { ...network, name: composeProject };
  doc.networks = networks;

  if (doc.volumes !== undefined) {
    doc.volumes = renamed(doc.volumes, (key) => `${composeProject}_${key}`);
    for (const [name, config] of Object.entries(isMapping(doc.volumes) ? doc.volumes : {})) {
      if (isMapping(config) && config.external) warnings.push(`volumes.${name} is external: every environment shares its data`);
    }
  }
  return { doc: doc as ComposeDocument, notes, warnings };
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

/** A network's fixed IPv4 subnets moved to this environment's own, with the addresses inside them. */
function moveSubnets(
  name: string,
  config: Mapping,
  id: number,
  services: Record<string, Mapping | null>,
  notes: string[],
  warnings: string[],
): Mapping | undefined {
  const ipam = isMapping(config.ipam) ? config.ipam : undefined;
  if (!ipam || !Array.isArray(ipam.config)) return undefined;
  const moves: SubnetMove[] = [];
  const entries = ipam.config.map((entry) => {
    if (!isMapping(entry) || typeof entry.subnet !== 'string') return entry;
    if (entry.subnet.includes(':')) {
      warnings.push(`networks.${name} has the fixed IPv6 subnet ${entry.subnet}: two environments of it collide (docker refuses the second)`);
      return entry;
    }
    const move = moveSubnet(entry.subnet, id);
    if (typeof move === 'string') {
      warnings.push(`networks.${name} has the fixed subnet ${entry.subnet}, which ${move}: two environments of it collide (docker refuses the second)`);
      return entry;
    }
    moves.push(move);
    const out: Mapping = { ...entry, subnet: moveAddress(entry.subnet, move) };
    for (const key of ['gateway', 'ip_range']) if (key in entry) out[key] = moveAddress(entry[key], move);
    if (isMapping(entry.aux_addresses)) {
      out.aux_addresses = Object.fromEntries(Object.entries(entry.aux_addresses).map(([k, v]) => [k, moveAddress(v, move)]));
    }
    notes.push(`networks.${name}: the fixed subnet ${entry.subnet} is ${out.subnet as string} in this environment`);
    return out;
  });
  if (moves.length === 0) return undefined;
  for (const [service, definition] of Object.entries(services)) {
    const attached = definition && isMapping(definition.networks) ? definition.networks[name] : undefined;
    if (!isMapping(attached) || typeof attached.ipv4_address !== 'string') continue;
    const before = attached.ipv4_address;
    const after = moves.reduce<unknown>((address, move) => (address === before ? moveAddress(address, move) : address), before);
    if (after !== before) {
      (definition!.networks as Mapping)[name] = { ...attached, ipv4_address: after };
      notes.push(`services.${service}: ipv4_address ${before} on ${name} is ${after as string}`);
    }
  }
  return { ...config, ipam: { ...ipam, config: entries } };
}

/** A deep copy that keeps the YAML layer's value classes (octal numbers). */
function structuredCloneCompose<T>(value: T): T {
  if (Array.isArray(value)) return value.map(structuredCloneCompose) as T;
  if (!isMapping(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, structuredCloneCompose(v)])) as T;
}
