// One connection to the server, whatever carries it: what it asks for (start an operation, or
// follow one from a seq), what came of it, and the pieces both transports share.
import type { ServerMessage } from '../../core/protocol/messages.js';
import type { OperationRequest } from '../../core/protocol/requests.js';
import type { NetworkTransport, ServerAddress } from './discovery.js';

/** Start an operation, or follow one that exists from after `since`. */
export type Target = { start: OperationRequest } | { attach: string; since: number; follow: boolean };

export interface Connection {
  /** Whether the server took the connection (else nobody answered, or it refused). */
  opened: boolean;
  /** Not opened, but the request may have reached a server all the same (an SSE POST cut short). */
  uncertain?: boolean;
  /** Set when a server answered with an error status. */
  refused?: string;
  /** Why it ended, for the user. */
  reason: string;
}

export function endpoint(address: ServerAddress, transport: NetworkTransport, target: Target): URL {
  const kind = transport === 'websocket' ? 'stream' : 'events';
  // piko's own client always asks for batched log lines (see LogBatchMessage).
  const path =
    'start' in target
      ? `/api/environments/${target.start.action}/${kind}?batch=1`
      : `/api/operations/${target.attach}/${kind}?batch=1&since=${target.since}${target.follow ? '' : '&follow=false'}`;
  const url = new URL(path, address.url);
  if (transport === 'websocket') url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url;
}

export function refusal(address: ServerAddress, status: number, statusText: string, body: string): string {
  let reason = `${status} ${statusText}`.trim();
  try {
    reason = `${reason}: ${(JSON.parse(body) as { error: string }).error}`;
  } catch {
    // Not ours: keep the status line.
  }
  return `the server at ${address.url} refused the request (${reason})`;
}

/** Ends a connection that has been silent (no message, ping or keep-alive comment) for too long. */
export function silenceTimer(ms: number, onSilence: () => void): { heard(): void; stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  // Heard for every chunk of a stream: moving the timer is cheaper than making a new one.
  const heard = (): void => void (timer ? timer.refresh() : (timer = setTimeout(onSilence, ms)));
  const stop = (): void => {
    clearTimeout(timer);
    timer = undefined;
  };
  return { heard, stop };
}

/** Opens one connection for `target`, handing every message to `onMessage`, until it ends. */
export type Connect = (
  address: ServerAddress,
  target: Target,
  onMessage: (message: ServerMessage) => void,
  signal: AbortSignal,
  silenceMs: number,
) => Promise<Connection>;
