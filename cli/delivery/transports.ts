// The CLI's built-in transports: `websocket` and `sse` carry the operation through `piko server` (or
// give way to running it here when no server answers), `stdout` always runs it here. Which one
// a command uses: `--transport` > PIKO_TRANSPORT > the config's `environments:` entry whose glob
// matches the environment's name > the config's `transport:` > websocket.
import type { PikoConfig, TransportName } from '../../core/config/config.js';
import { PikoError } from '../../core/errors.js';
import { operationLogPath } from '../../core/paths.js';
import type { DeliveryContext, Transport } from './registry.js';
import { findServer, requestCancel, type NetworkTransport, type ServerAddress } from '../remote/discovery.js';
import { streamOperation } from '../remote/resume.js';

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

/**
 * Streams the operation from the server and returns the exit code. Ctrl-C detaches after 2 s;
 * a second Ctrl-C within those 2 s cancels the operation instead.
 */
async function viaServer(address: ServerAddress, transport: NetworkTransport, context: DeliveryContext): Promise<number | undefined> {
  const { request, home, say } = context;
  const detach = new AbortController();
  let operation: string | undefined;
  let presses = 0;
  let detachTimer: NodeJS.Timeout | undefined;
  const onInterrupt = (): void => {
    presses++;
    if (presses === 1 && operation) {
      say(`\npiko: detaching in 2 s; Ctrl-C again cancels ${operation} instead (it rolls back)`);
      detachTimer = setTimeout(() => detach.abort(), 2000);
    } else if (presses === 2 && operation) {
      clearTimeout(detachTimer);
      say(`piko: cancelling ${operation}`);
      void requestCancel(address, operation, 'Ctrl-C').then((answer) => answer.ok || say(`piko: ${answer.message}`));
    } else {
      detach.abort();
    }
  };
  process.on('SIGINT', onInterrupt);
  const result = await streamOperation(address, { start: request }, {
    transport,
    signal: detach.signal,
    serverAlive: () => findServer(home, context.config) !== undefined,
    onMessage: (message) => {
      if (message.type === 'accepted') operation = message.operation;
      context.render(message);
    },
  }).finally(() => {
    clearTimeout(detachTimer);
    process.off('SIGINT', onInterrupt);
  });
  const follow = `\`piko logs -f ${request.project ? `${request.project}/` : ''}${request.environment}\``;
  switch (result.kind) {
    case 'unreachable':
      return undefined;
    case 'complete':
      return result.complete.success ? 0 : presses >= 2 ? 130 : 1;
    case 'refused':
      throw new PikoError('PIKO_ERR_SERVER_UNREACHABLE', result.reason);
    case 'lost':
      throw new PikoError(
        'PIKO_ERR_SERVER_LOST',
        `lost the connection to the piko server at ${address.url} during ${result.operation ?? 'the request'}: ${result.reason}; ` +
          `${follow} follows it${result.operation ? `; its log: ${operationLogPath(home, result.operation)}` : ''}`,
      );
    case 'detached':
    case 'ended':
      say(
        result.operation
          ? `\npiko: detached; ${result.operation} goes on in the server (${address.url}). Follow it: ${follow}`
          : `\npiko: stopped before the server at ${address.url} answered; \`piko list\` shows whether it started anything`,
      );
      return 130;
  }
}

function serverTransport(name: NetworkTransport, description: string): Transport {
  return {
    name,
    description,
    async deliver(context) {
      const address = findServer(context.home, context.config);
      return address ? viaServer(address, name, context) : undefined;
    },
  };
}

/** websocket and sse through `piko server` (here when no server answers), stdout always here. */
export const BUILTIN_TRANSPORTS: readonly Transport[] = [
  serverTransport('websocket', 'through `piko server` over a WebSocket; here when no server answers'),
  serverTransport('sse', 'through `piko server` as Server-Sent Events; here when no server answers'),
  { name: 'stdout', description: 'here, in this process, even when a server runs', deliver: (context) => context.runHere() },
];
