// The ports a compose model publishes: every entry of every service's `ports:` (short and long
// syntax, ranges, `${VAR}`s), how many replicas publish it, and the entry piko writes back with
// the environment's host port.
import { publishedPorts } from '../../core/environment/vars.js';
import type { PortBinding } from '../../core/protocol/messages.js';
import { interpolate, invalid, type Vars } from './interpolate.js';
import type { ComposeDocument } from './load.js';
import type { PortRequest } from './ports.js';
import { isMapping } from './yaml.js';

type Mapping = Record<string, unknown>;

/** How many host ports an environment has: its block. */
const BLOCK_SIZE = 100;

export interface ParsedPort {
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

export const networkMode = (service: Mapping, vars: Vars, where: string): string | undefined =>
  typeof service.network_mode === 'string' ? interpolate(service.network_mode, vars, where) : undefined;

interface ServicePorts {
  service: string;
  ports: ParsedPort[];
  replicas: number;
}

/** The published ports of every service that can have ports of its own (not `network_mode: host`). */
export function servicePorts(doc: ComposeDocument, file: string, vars: Vars): ServicePorts[] {
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
export function portEntry(port: ParsedPort, target: number, binding: PortBinding): unknown {
  const published = publishedPorts(binding);
  if (Object.keys(port.extra).length > 0) {
    return { ...port.extra, target, published, protocol: port.protocol, ...(port.hostIp ? { host_ip: port.hostIp } : {}) };
  }
  const ip = port.hostIp === undefined ? '' : `${port.hostIp.includes(':') ? `[${port.hostIp}]` : port.hostIp}:`;
  return `${ip}${published}:${target}/${port.protocol}`;
}
