// Makes a compose file runnable side by side with its other environments: every published port
// gets a host port of the environment's own, and fixed container names and explicitly named
// networks and volumes get the environment's compose project name. Pure functions over the
// parsed document; the docker stage does the I/O.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { PikoError } from './errors.js';
import type { PortRequest } from './ports.js';
import type { PortBinding } from './protocol.js';
import { parseYaml } from './yaml.js';

/** The names docker compose looks for, in its own order of preference. */
export const COMPOSE_FILE_NAMES = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'];
/** What piko writes beside the project's compose file and runs. */
export const PIKO_COMPOSE_FILE = 'docker-compose.piko.yml';

export type ComposeDocument = Record<string, unknown> & {
  services?: Record<string, Record<string, unknown> | null>;
};

export function findComposeFile(dir: string): string | undefined {
  const name = COMPOSE_FILE_NAMES.find((candidate) => existsSync(join(dir, candidate)));
  return name === undefined ? undefined : join(dir, name);
}

function invalid(file: string, message: string): PikoError {
  return new PikoError('PIKO_ERR_COMPOSE_INVALID', `${file}: ${message}`, { stage: 'docker' });
}

export function parseCompose(text: string, file: string): ComposeDocument {
  const { value, error } = parseYaml(text);
  if (error !== undefined) throw invalid(file, `not valid YAML: ${error}`);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalid(file, 'expected a mapping with `services:` at the top');
  }
  const compose = value as ComposeDocument;
  if (compose.services !== undefined && (typeof compose.services !== 'object' || Array.isArray(compose.services))) {
    throw invalid(file, '`services:` must be a mapping of service names');
  }
  return compose;
}

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

/** Compose's `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `${VAR:+alt}`, `$VAR` and `$$`. */
export function interpolate(value: string, vars: Record<string, string | undefined>, where: string): string {
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
          if (unset) throw new PikoError('PIKO_ERR_COMPOSE_INVALID', `${where}: ${name} is required${arg ? ` (${arg})` : ''}`);
          return current!;
        default:
          return current ?? '';
      }
    },
  );
}

interface ParsedPort {
  containerPorts: number[];
  protocol: 'tcp' | 'udp';
  hostIp?: string;
  /** Long-syntax fields other than the ones piko sets (mode, name, app_protocol). */
  extra: Record<string, unknown>;
}

function portRange(text: string, where: string): number[] {
  const match = /^(\d+)(?:-(\d+))?$/.exec(text.trim());
  if (!match) throw new PikoError('PIKO_ERR_COMPOSE_INVALID', `${where}: ${JSON.stringify(text)} is not a port or port range`, { stage: 'docker' });
  const from = Number(match[1]);
  const to = match[2] === undefined ? from : Number(match[2]);
  if (from < 1 || to > 65535 || to < from || to - from >= 100) {
    throw new PikoError('PIKO_ERR_COMPOSE_INVALID', `${where}: ${JSON.stringify(text)} is not a port range piko can publish`, { stage: 'docker' });
  }
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

function protocolOf(text: string | undefined, where: string): 'tcp' | 'udp' {
  const protocol = (text ?? 'tcp').toLowerCase();
  if (protocol !== 'tcp' && protocol !== 'udp') {
    throw new PikoError('PIKO_ERR_COMPOSE_INVALID', `${where}: protocol ${JSON.stringify(text)} is not tcp or udp`, { stage: 'docker' });
  }
  return protocol;
}

/** One entry of a service's `ports:`, short (`[ip:][host:]container[/proto]`) or long syntax. */
function parsePort(entry: unknown, vars: Record<string, string | undefined>, where: string): ParsedPort {
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
  if (entry !== null && typeof entry === 'object' && !Array.isArray(entry)) {
    const { target, published: _published, host_ip: hostIp, protocol, ...extra } = entry as Record<string, unknown>;
    if (target === undefined) throw new PikoError('PIKO_ERR_COMPOSE_INVALID', `${where}: long-syntax port needs \`target\``, { stage: 'docker' });
    const text = (value: unknown): string => interpolate(String(value), vars, where);
    return {
      containerPorts: portRange(text(target), where),
      protocol: protocolOf(protocol === undefined ? undefined : text(protocol), where),
      ...(hostIp === undefined || text(hostIp) === '' ? {} : { hostIp: text(hostIp) }),
      extra,
    };
  }
  throw new PikoError('PIKO_ERR_COMPOSE_INVALID', `${where}: ${JSON.stringify(entry)} is not a port`, { stage: 'docker' });
}

function servicePorts(doc: ComposeDocument, file: string, vars: Record<string, string | undefined>) {
  const result: { service: string; ports: ParsedPort[] }[] = [];
  for (const [service, definition] of Object.entries(doc.services ?? {})) {
    const ports = definition?.ports;
    if (ports === undefined || ports === null) continue;
    if (!Array.isArray(ports)) throw invalid(file, `services.${service}.ports must be a list`);
    result.push({
      service,
      ports: ports.map((entry, i) => parsePort(entry, vars, `${file}: services.${service}.ports[${i}]`)),
    });
  }
  return result;
}

/** Every port the compose file publishes, one request per container port, in file order. */
export function portRequests(doc: ComposeDocument, file: string, vars: Record<string, string | undefined>): PortRequest[] {
  return servicePorts(doc, file, vars).flatMap(({ service, ports }) =>
    ports.flatMap((port) =>
      port.containerPorts.map((containerPort) => ({ service, containerPort, protocol: port.protocol, hostIp: port.hostIp })),
    ),
  );
}

function renamed(section: unknown, name: (key: string) => string): unknown {
  if (section === null || typeof section !== 'object') return section;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(section as Record<string, unknown>)) {
    const config = (value ?? {}) as Record<string, unknown>;
    out[key] = typeof config.name === 'string' && !config.external ? { ...config, name: name(key) } : value;
  }
  return out;
}

/**
 * The compose document for one environment. `bindings` are the allocated ports in the order
 * `portRequests` gave them.
 */
export function rewriteCompose(
  doc: ComposeDocument,
  file: string,
  vars: Record<string, string | undefined>,
  composeProject: string,
  bindings: readonly PortBinding[],
): ComposeDocument {
  const out = structuredClone(doc);
  let next = 0;
  const services = (out.services ?? {}) as Record<string, Record<string, unknown> | null>;
  const parsed = new Map(servicePorts(doc, file, vars).map(({ service, ports }) => [service, ports]));
  for (const [service, definition] of Object.entries(services)) {
    if (!definition) continue;
    const ports = parsed.get(service);
    if (ports) {
      definition.ports = ports.flatMap((port) =>
        port.containerPorts.map((target) => {
          const binding = bindings[next++];
          if (!binding || binding.service !== service || binding.containerPort !== target) {
            throw new PikoError('PIKO_ERR_INTERNAL', `port bindings do not match ${file}`);
          }
          return {
            ...port.extra,
            target,
            published: String(binding.hostPort),
            protocol: port.protocol,
            ...(port.hostIp ? { host_ip: port.hostIp } : {}),
          };
        }),
      );
    }
    if (typeof definition.container_name === 'string') {
      definition.container_name = `${composeProject}-${definition.container_name}`;
    }
  }
  const networks = (renamed(out.networks, (key) => `${composeProject}_${key}`) ?? {}) as Record<string, unknown>;
  const network = (networks.default ?? {}) as Record<string, unknown>;
  if (!network.external) networks.default = { ...network, name: composeProject };
  out.networks = networks;
  if (out.volumes !== undefined) out.volumes = renamed(out.volumes, (key) => `${composeProject}_${key}`);
  return out;
}

export function composeText(doc: ComposeDocument, source: string, env: string): string {
  return (
    `# Written by piko for environment ${env} from ${source}: edit that file, not this one.\n` +
    stringify(doc, { lineWidth: 0 })
  );
}
