// The shared services of a compose project, as pure functions over the merged compose model:
// which services run once for the whole project, the two documents that come of it (the shared
// services alone, and every environment's without them), what kind of database each serves, and
// the name, credentials and URLs of one environment's database on it.
import { createHash } from 'node:crypto';
import type { DatabaseKind, PikoConfig, SharedConfig } from '../../core/config/config.js';
import { PikoError } from '../../core/errors.js';
import type { PortBinding } from '../../core/protocol/messages.js';
import { interpolate, type Vars } from '../docker/interpolate.js';
import type { ComposeDocument } from '../docker/load.js';
import { isMapping } from '../docker/yaml.js';

type Mapping = Record<string, unknown>;

/** Whether the config shares any service. */
export const hasShared = (config: PikoConfig): boolean => Object.keys(config.shared ?? {}).length > 0;

/** The compose project of a piko project's shared services. */
export { sharedComposeProjectName as sharedComposeProject } from '../../core/paths.js';

/** The port each kind of server listens on inside its container. */
export const DATABASE_PORTS: Record<Exclude<DatabaseKind, 'none'>, number> = { postgres: 5432, mysql: 3306 };

export interface SharedService {
  service: string;
  config: SharedConfig;
  /** What piko makes per environment on it; `none`: shared as it is. */
  kind: DatabaseKind;
}

const configError = (file: string, key: string, text: string): PikoError => new PikoError('PIKO_ERR_CONFIG_INVALID', `${file}: ${key}: ${text}`);

/** The services `shared:` names, each checked against the model and its database kind settled. */
export function sharedServices(config: PikoConfig, doc: ComposeDocument, file: string, vars: Vars): SharedService[] {
  const services = doc.services ?? {};
  return Object.entries(config.shared ?? {}).map(([service, entry]) => {
    const definition = services[service];
    const key = `shared.${service}`;
    if (!isMapping(definition)) {
      throw configError(file, key, `no service ${JSON.stringify(service)} in the compose file (services: ${Object.keys(services).join(', ') || 'none'})`);
    }
    const shared = entry ?? {};
    const guessed = guessKind(definition, vars);
    const kind = shared.database ?? guessed;
    if (kind === 'none' && (shared.template !== undefined || shared.seed !== undefined || shared.env !== undefined)) {
      throw configError(file, key, `template, seed and env need a database: set database: postgres or mysql${shared.database === undefined ? ` (${imageOf(definition, vars) ?? 'its image'} is not one piko recognises)` : ''}`);
    }
    if (kind !== 'none' && shared.database !== undefined && guessed !== 'none' && guessed !== kind) {
      throw configError(file, `${key}.database`, `${kind}, but its image ${imageOf(definition, vars)} is a ${guessed} server`);
    }
    return { service, config: shared, kind };
  });
}

function imageOf(definition: Mapping, vars: Vars): string | undefined {
  return typeof definition.image === 'string' ? interpolate(definition.image, vars, 'image') : undefined;
}

/** postgres (and postgis, timescale), mysql (and mariadb, percona) by the image's name; else none. */
function guessKind(definition: Mapping, vars: Vars): DatabaseKind {
  const name = (imageOf(definition, vars) ?? '').split('@')[0]!.split(':')[0]!.split('/').pop()!;
  if (/postgres|postgis|timescale/.test(name)) return 'postgres';
  if (/mysql|mariadb|percona/.test(name)) return 'mysql';
  return 'none';
}

/** `depends_on` as the names it lists (short or long syntax). */
const dependencies = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : isMapping(value) ? Object.keys(value) : []);

/**
 * The shared services alone (for `piko-<project>-shared`), and the document of every
 * environment without them: `depends_on` and `links` to them go (the `shared` stage has them
 * running and healthy first), and what cannot be split is an error that names it.
 */
export function splitShared(doc: ComposeDocument, names: readonly string[], file: string): { shared: ComposeDocument; environment: ComposeDocument } {
  const services = doc.services ?? {};
  const isShared = (name: string): boolean => names.includes(name);
  const shared: Record<string, Mapping> = {};
  const environment: Record<string, Mapping> = {};
  for (const [name, definition] of Object.entries(services)) {
    if (!isMapping(definition)) continue;
    const where = `${file}: services.${name}`;
    const mode = typeof definition.network_mode === 'string' ? definition.network_mode : undefined;
    if (isShared(name)) {
      const local = dependencies(definition.depends_on).filter((other) => !isShared(other));
      if (local.length > 0) throw new PikoError('PIKO_ERR_CONFIG_INVALID', `${where}: a shared service cannot depend on ${local.join(', ')}, which every environment runs for itself: share those too, or drop the dependency`);
      if (mode?.startsWith('service:') && !isShared(mode.slice('service:'.length))) {
        throw new PikoError('PIKO_ERR_CONFIG_INVALID', `${where}: network_mode ${mode}: a shared service cannot share the network of one every environment runs for itself`);
      }
      // It answers on the shared project's network under its own name; networks of the file are per environment.
      const { networks: _networks, ...rest } = definition;
      shared[name] = rest;
      continue;
    }
    if (mode?.startsWith('service:') && isShared(mode.slice('service:'.length))) {
      throw new PikoError('PIKO_ERR_CONFIG_INVALID', `${where}: network_mode ${mode}: it cannot share the network of a shared service; leave ${mode.slice('service:'.length)} out of shared:`);
    }
    const copy: Mapping = { ...definition };
    const depends = definition.depends_on;
    if (Array.isArray(depends)) copy.depends_on = depends.filter((other) => !isShared(String(other)));
    else if (isMapping(depends)) copy.depends_on = Object.fromEntries(Object.entries(depends).filter(([other]) => !isShared(other)));
    if (dependencies(copy.depends_on).length === 0) delete copy.depends_on;
    if (Array.isArray(definition.links)) {
      copy.links = definition.links.filter((link) => !isShared(String(link).split(':')[0]!));
      if ((copy.links as unknown[]).length === 0) delete copy.links;
    }
    environment[name] = copy;
  }
  const { services: _services, volumes, networks, ...rest } = doc;
  return {
    shared: { ...rest, services: shared, ...usedVolumes(volumes, shared) },
    environment: { ...rest, services: environment, ...usedVolumes(volumes, environment), ...(networks === undefined ? {} : { networks }) },
  };
}

/** The named volumes `services` mount: a short `name:/path` or a long `{type: volume, source}`. */
function volumeNames(services: Record<string, Mapping>): Set<string> {
  const names = new Set<string>();
  for (const definition of Object.values(services)) {
    for (const entry of Array.isArray(definition.volumes) ? definition.volumes : []) {
      const source = typeof entry === 'string' ? entry.split(':')[0]! : isMapping(entry) && (entry.type ?? 'volume') === 'volume' ? String(entry.source ?? '') : '';
      if (source !== '' && !/^[./~$]/.test(source) && entry !== source) names.add(source);
    }
  }
  return names;
}

/** The top-level `volumes:` the services use, so neither project makes volumes it never mounts. */
function usedVolumes(volumes: unknown, services: Record<string, Mapping>): { volumes?: Mapping } {
  if (!isMapping(volumes)) return {};
  const used = volumeNames(services);
  return { volumes: Object.fromEntries(Object.entries(volumes).filter(([name]) => used.has(name))) };
}

/** The credentials a database server's own environment declares, as its image reads them. */
export interface Credentials {
  user: string;
  password: string | undefined;
}

/** `environment:` of a service, list or map, interpolated. */
export function serviceEnvironment(definition: Mapping, vars: Vars): Record<string, string> {
  const raw = definition.environment;
  const entries: [string, unknown][] = Array.isArray(raw)
    ? raw.map((entry) => {
        const text = String(entry);
        const eq = text.indexOf('=');
        return eq === -1 ? [text, vars[text]] : [text.slice(0, eq), text.slice(eq + 1)];
      })
    : isMapping(raw)
      ? Object.entries(raw).map(([key, value]) => [key, value ?? vars[key]])
      : [];
  return Object.fromEntries(
    entries.filter(([, value]) => value !== undefined && value !== null).map(([key, value]) => [key, interpolate(String(value), vars, `environment.${key}`)]),
  );
}

/** Who piko connects as: the server's superuser as its image sets it up (piko creates and drops databases). */
export function credentials(kind: Exclude<DatabaseKind, 'none'>, env: Record<string, string>): Credentials {
  if (kind === 'postgres') return { user: env.POSTGRES_USER || 'postgres', password: env.POSTGRES_PASSWORD };
  return { user: 'root', password: env.MARIADB_ROOT_PASSWORD ?? env.MYSQL_ROOT_PASSWORD };
}

/**
 * The database of environment `env` of `project`: `piko_<project>_<env>` in the characters both
 * servers take unquoted, with a short hash of the exact names where those had to change or the
 * name would pass 63 bytes, so that two environments never get the same one.
 */
export function databaseName(project: string, env: string): string {
  const plain = `piko_${project}_${env}`.toLowerCase();
  const safe = plain.replace(/[^a-z0-9_]/g, '_');
  if (safe === plain && safe.length <= 63) return safe;
  const hash = createHash('sha256').update(`${project}/${env}`).digest('hex').slice(0, 8);
  return `${safe.slice(0, 63 - 9)}_${hash}`;
}

/** `postgres://user:pass@host:port/name`, each part escaped for a URL. */
export function databaseUrl(kind: Exclude<DatabaseKind, 'none'>, who: Credentials, host: string, port: number, name: string): string {
  const auth = `${encodeURIComponent(who.user)}${who.password ? `:${encodeURIComponent(who.password)}` : ''}@`;
  return `${kind}://${auth}${host}:${port}/${name}`;
}

/** The host port `binding`s give a service's container port, if it publishes it. */
export const hostPortOf = (bindings: readonly PortBinding[], service: string, containerPort: number): number | undefined =>
  bindings.find((b) => b.service === service && b.containerPort === containerPort && b.protocol === 'tcp')?.hostPort;

/**
 * The variables `env:` asks for, each set to environment `env`'s own database URL on its server
 * (inside the environment's network: `postgres://user:pass@db:5432/piko_shop_x`).
 */
export function databaseVariables(full: ComposeDocument, services: readonly SharedService[], vars: Vars, project: string, env: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const { service, config, kind } of services) {
    if (kind === 'none' || config.env === undefined) continue;
    const who = credentials(kind, serviceEnvironment(full.services![service]!, vars));
    const url = databaseUrl(kind, who, service, DATABASE_PORTS[kind], databaseName(project, env));
    for (const name of Array.isArray(config.env) ? config.env : [config.env]) out[name] = url;
  }
  return out;
}

/** Sets `values` in the `environment:` of every service of `doc` (list or map form), over what the file says. */
export function setEnvironment(doc: ComposeDocument, values: Record<string, string>): void {
  if (Object.keys(values).length === 0) return;
  for (const definition of Object.values(doc.services ?? {})) {
    if (!isMapping(definition)) continue;
    const current = definition.environment;
    if (Array.isArray(current)) {
      const kept = current.filter((entry) => !(String(entry).split('=')[0]! in values));
      // `$` doubled: compose must not read a password's `$` as a variable.
      definition.environment = [...kept, ...Object.entries(values).map(([k, v]) => `${k}=${v.replaceAll('$', '$$')}`)];
    } else {
      definition.environment = { ...(isMapping(current) ? current : {}), ...Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v.replaceAll('$', '$$')])) };
    }
  }
}
