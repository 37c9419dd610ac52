// The configuration in force for one environment (or a project, none applied): every value that
// applies, defaults filled in, each with where it came from (`.piko.yml: scripts.setup`,
// `.piko.yml: environments."ci-*".transport`, `PIKO_TRANSPORT`, `default`). What `piko config`
// shows. The defaults are asked of the code that applies them, so this cannot tell another story.
import { basename } from 'node:path';
import { DEFAULT_WORKTREES, environmentPaths } from '../paths.js';
import { DEFAULT_SHELL, pikoConfigSchema, type LoadedConfig, type PikoConfig } from './config.js';
import { configuredTransport, globMatches, matchingGlob, type TransportChoice } from './transport.js';

export interface Sourced {
  value: unknown;
  /** Where the value came from: `<file>: <key>`, an environment variable's name, or `default`. */
  source: string;
  /** What a bare value does not say (which file a default found, what no value means). */
  note?: string;
}

export interface EffectiveConfig {
  /** The config file as named in sources (`.piko.yml`, `package.json#piko`), or undefined without one. */
  file: string | undefined;
  environment: string | undefined;
  /** Every `environments:` glob and whether it matches the environment (none without one). */
  environments: { glob: string; matches: boolean }[];
  /** The glob whose settings apply: the first that matches. */
  matched: string | undefined;
  /** By key, in the schema's order. */
  values: Record<string, Sourced>;
}

export interface EffectiveOptions {
  root: string;
  project: string;
  environment?: string | undefined;
  /** The worktree of an environment that exists (where it was made, whatever `worktrees:` says now). */
  worktree?: string | undefined;
  /** The compose services, when known: each gets its shell. */
  services?: readonly string[] | undefined;
  env?: NodeJS.ProcessEnv;
}

/** A key path as the config spells it, quoting what is not a plain name: `environments."ci-*".transport`. */
export function keyOf(path: readonly (string | number)[]): string {
  return path
    .map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i === 0 ? '' : '.'}${/^[A-Za-z_][\w-]*$/.test(key) ? key : JSON.stringify(key)}`))
    .join('');
}

/** The file as sources name it: package.json's config is its `piko` key. */
export function sourceFile(loaded: LoadedConfig): string | undefined {
  if (!loaded.file) return undefined;
  const name = basename(loaded.file);
  return name === 'package.json' ? 'package.json#piko' : name;
}

const isMapping = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);
const isScalar = (value: unknown): boolean => value === null || typeof value !== 'object';

/** What the file sets under `path`, one entry per leaf; a list of plain values is one leaf. */
function flatten(value: unknown, path: (string | number)[], file: string, into: Record<string, Sourced>): void {
  if (isMapping(value) && Object.keys(value).length > 0) {
    for (const [key, inner] of Object.entries(value)) flatten(inner, [...path, key], file, into);
  } else if (Array.isArray(value) && !value.every(isScalar)) {
    value.forEach((inner, i) => flatten(inner, [...path, i], file, into));
  } else {
    into[keyOf(path)] = { value, source: `${file}: ${keyOf(path)}` };
  }
}

function transportEntry(chosen: TransportChoice, file: string): Sourced {
  const source = {
    PIKO_TRANSPORT: 'PIKO_TRANSPORT',
    environments: `${file}: ${keyOf(['environments', chosen.glob ?? '', 'transport'])}`,
    transport: `${file}: transport`,
    default: 'default',
  }[chosen.from];
  return { value: chosen.transport, source };
}

export function effectiveConfig(loaded: LoadedConfig, options: EffectiveOptions): EffectiveConfig {
  const config: PikoConfig = loaded.config;
  const file = sourceFile(loaded) ?? 'config';
  const { environment } = options;
  const env = options.env ?? process.env;
  const values: Record<string, Sourced> = {};
  const set = (key: string, entry: Sourced) => (values[key] = entry);
  const globs = Object.keys(config.environments ?? {});
  const environments = environment === undefined ? [] : globs.map((glob) => ({ glob, matches: globMatches(glob, environment) }));

  // The schema's keys, so that a key added there shows here without a word of this changed.
  for (const key of Object.keys(pikoConfigSchema()._zod.def.shape) as (keyof PikoConfig)[]) {
    const value = config[key];
    switch (key) {
      case '$schema':
      case 'environments':
        // Not settings: the editor's pointer, and the globs (which apply through the keys they set).
        break;
      case 'transport': {
        const choice = configuredTransport(config, environment, env);
        const chosen = transportEntry(choice, file);
        const glob = environment === undefined ? undefined : matchingGlob(config, environment);
        if (choice.from === 'PIKO_TRANSPORT') {
          // What the variable overrides, which is in force again once it is unset.
          const without = transportEntry(configuredTransport(config, environment, {}), file);
          chosen.note = `without it: ${String(without.value)} from ${without.source}`;
        } else if (glob !== undefined && choice.from !== 'environments') {
          chosen.note = `${JSON.stringify(glob)} matches but sets none`;
        }
        set('transport', chosen);
        break;
      }
      case 'server': {
        const url = env.PIKO_SERVER_URL;
        if (url) set('server.url', { value: url, source: 'PIKO_SERVER_URL' });
        else if (config.server?.url !== undefined) set('server.url', { value: config.server.url, source: `${file}: server.url` });
        else set('server.url', { value: null, source: 'default', note: 'the server $PIKO_HOME/server.json names, when it runs' });
        break;
      }
      case 'worktrees': {
        set('worktrees', value === undefined ? { value: DEFAULT_WORKTREES, source: 'default' } : { value, source: `${file}: worktrees` });
        if (environment === undefined) break;
        if (options.worktree !== undefined) {
          set('worktree', { value: options.worktree, source: 'the environment', note: 'where it was made' });
        } else {
          const { worktree } = environmentPaths(options.root, environment, { project: options.project, worktrees: config.worktrees });
          set('worktree', { value: worktree, source: values.worktrees!.source, note: 'where a create puts it' });
        }
        break;
      }
      case 'shells': {
        for (const [service, shell] of Object.entries(config.shells ?? {})) set(keyOf(['shells', service]), { value: shell, source: `${file}: ${keyOf(['shells', service])}` });
        const others = options.services?.filter((service) => config.shells?.[service] === undefined);
        if (others === undefined) set('shells.*', { value: DEFAULT_SHELL, source: 'default', note: 'every service without its own' });
        for (const service of others ?? []) set(keyOf(['shells', service]), { value: DEFAULT_SHELL, source: 'default' });
        break;
      }
      case 'compose':
        set('compose', value === undefined ? { value: null, source: 'default', note: 'the compose file at the root and its override file' } : { value, source: `${file}: compose` });
        break;
      default:
        if (value !== undefined) flatten(value, [key], file, values);
    }
  }
  return { file: sourceFile(loaded), environment, environments, matched: environments.find((e) => e.matches)?.glob, values };
}
