// An operation carried through `piko server`: its messages rendered as they come, Ctrl-C to
// detach (or, twice, to cancel), and what went wrong said as an error of the catalogue.
import { PikoError } from '../../core/errors.js';
import { operationLogPath } from '../../core/paths.js';
import { findServer, requestCancel, type NetworkTransport, type ServerAddress } from '../remote/discovery.js';
import { streamOperation } from '../remote/resume.js';
import type { DeliveryContext } from './registry.js';
import { errorText, noteText } from '../terminal/say.js';

/** The server's answer to a client that said its transport: the project's config wants another. */
export interface Redirect {
  /** `websocket`, `sse`, or `here` (run by the client itself). */
  redirect: string;
}

/**
 * Streams the operation from the server and returns the exit code (undefined when no server
 * answered, so it may run here). Ctrl-C detaches after 2 s;
 * a second Ctrl-C within those 2 s cancels the operation instead.
 */
export async function viaServer(
  address: ServerAddress,
  transport: NetworkTransport,
  context: Pick<DeliveryContext, 'request' | 'config' | 'home' | 'render' | 'say'>,
): Promise<number | Redirect | undefined> {
  const { request, home, say } = context;
  const detach = new AbortController();
  let operation: string | undefined;
  // The server says which project it is (the client may not have known).
  let project = request.project;
  let presses = 0;
  let detachTimer: NodeJS.Timeout | undefined;
  const onInterrupt = (): void => {
    presses++;
    if (presses === 1 && operation) {
      say(`\n${noteText(`detaching in 2 s; Ctrl-C again cancels ${operation} instead (it rolls back)`)}`);
      detachTimer = setTimeout(() => detach.abort(), 2000);
    } else if (presses === 2 && operation) {
      clearTimeout(detachTimer);
      say(noteText(`cancelling ${operation}`));
      void requestCancel(address, operation, 'Ctrl-C').then((answer) => answer.ok || say(errorText(answer.message)));
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
      if (message.type === 'accepted') ({ operation, project } = message);
      // Not a failure to show: the server asks for another transport, having run nothing.
      if (message.type === 'complete' && !message.success && message.redirect !== undefined) return;
      context.render(message);
    },
  }).finally(() => {
    clearTimeout(detachTimer);
    process.off('SIGINT', onInterrupt);
  });
  const follow = `\`piko logs -f ${project ? `${project}/` : ''}${request.environment}\``;
  switch (result.kind) {
    case 'unreachable':
      return undefined;
    case 'complete':
      if (!result.complete.success && result.complete.redirect !== undefined) return { redirect: result.complete.redirect };
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
        `\n${noteText(
          result.operation
            ? `detached; ${result.operation} goes on in the server (${address.url}). Follow it: ${follow}`
            : `stopped before the server at ${address.url} answered; \`piko list\` shows whether it started anything`,
        )}`,
      );
      return 130;
  }
}
