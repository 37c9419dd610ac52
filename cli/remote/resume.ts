// The CLI's side of `piko server`: start or re-attach to an operation over WebSocket or SSE,
// hand each message to the renderer as it arrives, and when the connection drops before
// `complete` while the server is still up, re-attach from the last seq seen.
import { takeUnseen } from '../../core/protocol/batch.js';
import type { CompleteMessage, ServerMessage } from '../../core/protocol/messages.js';
import type { Connect, Target } from './connection.js';
import type { NetworkTransport, ServerAddress } from './discovery.js';


export type StreamResult =
  /** No server took the connection: the caller may run the operation itself. */
  | { kind: 'unreachable'; reason: string }
  /** A server answered but would not take the request (wrong token, foreign host…). */
  | { kind: 'refused'; reason: string }
  | { kind: 'complete'; complete: CompleteMessage }
  /** The connection ended before `complete` and could not be resumed. */
  | { kind: 'lost'; operation: string | undefined; reason: string }
  | { kind: 'detached'; operation: string | undefined }
  /** A replay without `follow` reached the end of what the log holds so far. */
  | { kind: 'ended'; operation: string | undefined };

export interface StreamOptions {
  transport: NetworkTransport;
  /** Each message once, in order, even across re-attaches. */
  onMessage: (message: ServerMessage) => void;
  /** Aborting detaches: the connection closes and the operation goes on on the server. */
  signal?: AbortSignal;
  /** With no message, ping or keep-alive from the server for this long, the connection counts as lost. Default 75 s. */
  silenceMs?: number;
  /** Pauses before each attempt to re-attach after a drop. Default 200, 500, 1000 ms. */
  retryDelaysMs?: number[];
  /** Whether the server may still be there (false stops the re-attach attempts). */
  serverAlive?: () => boolean;
  /** How to open a connection; by default the one of `transport`. */
  connect?: Connect;
}

/**
 * Starts (or follows) an operation on the server and streams its messages. When the
 * connection drops before `complete`, it re-attaches from the last seq it saw, a few times,
 * with no message shown twice.
 */
export async function streamOperation(address: ServerAddress, target: Target, options: StreamOptions): Promise<StreamResult> {
  const signal = options.signal ?? new AbortController().signal;
  const silenceMs = options.silenceMs ?? 75_000;
  const delays = options.retryDelaysMs ?? [200, 500, 1000];
  // Only the client of the transport in use is loaded (ws is the larger).
  const connect =
    options.connect ??
    (options.transport === 'websocket' ? (await import('./websocket.js')).connectWebSocket : (await import('./sse.js')).connectSse);
  let operation = 'attach' in target ? target.attach : undefined;
  let lastSeq = 'attach' in target ? target.since : -1;
  let complete: CompleteMessage | undefined;
  const show = (message: ServerMessage): void => {
    if (message.type === 'accepted') operation = message.operation;
    if (message.type === 'complete') complete = message;
    options.onMessage(message);
  };
  // A re-attach may overlap what was seen: only what is after it is shown.
  const onMessage = (message: ServerMessage): void => void (lastSeq = takeUnseen(message, lastSeq, show));

  let connection = await connect(address, target, onMessage, signal, silenceMs);
  if (connection.refused !== undefined) return { kind: 'refused', reason: connection.refused };
  // Stopped while connecting, or cut off after a request that may have arrived: never "unreachable",
  // which would have the caller run the operation itself, perhaps a second time.
  if (!connection.opened && signal.aborted) return { kind: 'detached', operation };
  if (!connection.opened && connection.uncertain) return { kind: 'lost', operation, reason: connection.reason };
  if (!connection.opened) return { kind: 'unreachable', reason: connection.reason };
  let attempt = 0;
  while (!complete) {
    if (signal.aborted) return { kind: 'detached', operation };
    if ('attach' in target && !target.follow) return { kind: 'ended', operation };
    if (operation === undefined || attempt >= delays.length || options.serverAlive?.() === false) {
      return { kind: 'lost', operation, reason: connection.reason };
    }
    await new Promise((resolve) => setTimeout(resolve, delays[attempt++]));
    const before = lastSeq;
    connection = await connect(address, { attach: operation, since: lastSeq, follow: true }, onMessage, signal, silenceMs);
    if (connection.refused !== undefined) return { kind: 'lost', operation, reason: connection.refused };
    if (lastSeq > before) attempt = 0;
  }
  return { kind: 'complete', complete };
}
