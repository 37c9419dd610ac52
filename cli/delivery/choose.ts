// Which transport a command uses: `--transport` > PIKO_TRANSPORT > the config's `environments:`
// entry whose glob matches the environment's name > the config's `transport:` > websocket. The
// server applies the config's part too, for a client that has not read the config.
import type { PikoConfig, TransportName } from '../../core/config/config.js';

/** `ci-*` → matches `ci-1`; `*` any run of characters, `?` one character, everything else literal. */
export function globMatches(glob: string, name: string): boolean {
  const pattern = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${pattern}$`).test(name);
}

export function chooseTransport(
  flag: string | undefined,
  config: PikoConfig,
  environment: string,
  env: NodeJS.ProcessEnv = process.env,
): TransportName {
  if (flag !== undefined) return flag;
  if (env.PIKO_TRANSPORT) return env.PIKO_TRANSPORT;
  const matched = Object.entries(config.environments ?? {}).find(([glob]) => globMatches(glob, environment));
  return matched?.[1].transport ?? config.transport ?? 'websocket';
}
