// Which transport a command uses: `--transport` > PIKO_TRANSPORT > the config's `environments:`
// entry whose glob matches the environment's name > the config's `transport:` > websocket.
import type { PikoConfig, TransportName } from '../core/config.js';
import { PikoError } from '../core/errors.js';

export const TRANSPORTS: readonly TransportName[] = ['websocket', 'sse', 'stdout'];

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
  const fromEnv = env.PIKO_TRANSPORT;
  if (fromEnv !== undefined && fromEnv !== '' && !(TRANSPORTS as string[]).includes(fromEnv)) {
    throw new PikoError('PIKO_ERR_USAGE', `PIKO_TRANSPORT=${fromEnv} is not a transport (use ${TRANSPORTS.join(', ')})`);
  }
  if (flag !== undefined) return flag as TransportName;
  if (fromEnv) return fromEnv as TransportName;
  const matched = Object.entries(config.environments ?? {}).find(([glob]) => globMatches(glob, environment));
  return matched?.[1].transport ?? config.transport ?? 'websocket';
}
