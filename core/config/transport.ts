// Which transport a command uses: `--transport` > PIKO_TRANSPORT > the config's `environments:`
// entry whose glob matches the environment's name > the config's `transport:` > websocket. The
// server applies the config's part too, for a client that has not read the config.
import type { PikoConfig, TransportName } from './config.js';
import { PikoError } from '../errors.js';
import { nearest } from './validate.js';

/** `ci-*` → matches `ci-1`; `*` any run of characters, `?` one character, everything else literal. */
export function globMatches(glob: string, name: string): boolean {
  const pattern = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${pattern}$`).test(name);
}

/** The transport when nothing names one. */
export const DEFAULT_TRANSPORT: TransportName = 'websocket';

/** The `environments:` glob that applies to `environment`: the first that matches, in the file's order. */
export function matchingGlob(config: PikoConfig, environment: string): string | undefined {
  return Object.keys(config.environments ?? {}).find((glob) => globMatches(glob, environment));
}

/** A transport and what chose it: `glob` is the `environments:` entry whose `transport` it is. */
export interface TransportChoice {
  transport: TransportName;
  from: 'PIKO_TRANSPORT' | 'environments' | 'transport' | 'default';
  glob?: string;
}

/** The transport everything but `--transport` picks, and which of them picked it (`piko config` says so). */
export function configuredTransport(config: PikoConfig, environment: string | undefined, env: NodeJS.ProcessEnv = process.env): TransportChoice {
  if (env.PIKO_TRANSPORT) return { transport: env.PIKO_TRANSPORT, from: 'PIKO_TRANSPORT' };
  const glob = environment === undefined ? undefined : matchingGlob(config, environment);
  // The first matching entry decides even without a `transport` of its own: the top-level one applies then.
  const entry = glob === undefined ? undefined : config.environments?.[glob]?.transport;
  if (entry !== undefined) return { transport: entry, from: 'environments', glob: glob! };
  if (config.transport !== undefined) return { transport: config.transport, from: 'transport' };
  return { transport: DEFAULT_TRANSPORT, from: 'default' };
}

export function chooseTransport(
  flag: string | undefined,
  config: PikoConfig,
  environment: string,
  env: NodeJS.ProcessEnv = process.env,
): TransportName {
  return flag ?? configuredTransport(config, environment, env).transport;
}

/**
 * Every transport the command line, the environment and the config name, checked against the
 * ones there are, whichever of them this command uses: a typo in the config is found even when
 * `--transport` overrides it. The error names where the name came from (`.piko.yml: transport`).
 */
export function checkTransports(known: readonly string[], flag: string | undefined, config: PikoConfig, file: string, env: NodeJS.ProcessEnv = process.env): void {
  const named: [string, string][] = [];
  if (flag !== undefined) named.push(['--transport', flag]);
  if (env.PIKO_TRANSPORT) named.push(['PIKO_TRANSPORT', env.PIKO_TRANSPORT]);
  if (config.transport !== undefined) named.push([`${file}: transport`, config.transport]);
  for (const [glob, entry] of Object.entries(config.environments ?? {})) {
    if (entry.transport !== undefined) named.push([`${file}: environments.${glob}.transport`, entry.transport]);
  }
  for (const [where, name] of named) {
    if (known.includes(name)) continue;
    const meant = nearest(name, known);
    throw new PikoError(
      'PIKO_ERR_CONFIG_INVALID',
      `${where}: no transport named ${JSON.stringify(name)}${meant ? ` (did you mean ${JSON.stringify(meant)}?)` : ''}; transports: ${known.join(', ')}`,
      // Not every source is a file: the catalogue's hint would send the user looking for one.
      where.includes(': ') ? {} : { hint: 'Name one of those (a plugin may add more).' },
    );
  }
}
