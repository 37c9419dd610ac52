// The CLI's side of `piko server`: find it, start or re-attach to an operation over WebSocket
// or SSE, hand each message to the renderer as it arrives, and when the connection drops
// before `complete` while the server is still up, re-attach from the last seq seen.
import { createParser } from 'eventsource-parser';
import WebSocket from 'ws';
import type { PikoConfig } from '../../core/config/config.js';
import { processAlive } from '../../core/system/process.js';
import { type CompleteMessage, type OperationRequest, type ServerMessage } from '../../core/protocol/messages.js';
import { expandBatch } from '../../core/protocol/batch.js';
import { readServerInfo } from '../server-info.js';

export type NetworkTransport = 'websocket' | 'sse';

export interface ServerAddress {
  url: string;
  token: string;
}

/**
 * `PIKO_SERVER_URL` (token from `PIKO_TOKEN`), else the config's `server.url`, else
 * `$PIKO_HOME/server.json` if its process still lives.
 */
export function findServer(home: string, config: PikoConfig = {}, env: NodeJS.ProcessEnv = process.env): ServerAddress | undefined {
  const info = readServerInfo(home);
  const url = env.PIKO_SERVER_URL ?? config.server?.url;
  // server.json's token goes only to server.json's own server, never to a URL a repository names.
  if (url) return { url, token: env.PIKO_TOKEN ?? (info && new URL(info.url).origin === new URL(url).origin ? info.token : '') };
  if (!info || !processAlive(info.pid)) return undefined;
  return { url: info.url, token: env.PIKO_TOKEN ?? info.token };
}

/** Start an operation, or follow one that exists from after `since`. */
export type Target = { start: OperationRequest } | { attach: string; since: number; follow: boolean };

interface Connection {
  /** Whether the server took the connection (else nobody answered, or it refused). */
  opened: boolean;
  /** Not opened, but the request may have reached a server all the same (an SSE POST cut short). */
  uncertain?: boolean;
  /** Set when a server answered with an error status. */
  refused?: string;
  /** Why it ended, for the user. */
  reason: string;
}

function endpoint(address: ServerAddress, transport: NetworkTransport, target: Target): URL {
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

function refusal(address: ServerAddress, status: number, statusText: string, body: string): string {
  let reason = `${status} ${statusText}`.trim();
  try {
    reason = `${reason}: ${(JSON.parse(body) as { error: string }).error}`;
  } catch {
    // Not ours: keep the status line.
  }
  return `the server at ${address.url} refused the request (${reason})`;
}

/** Ends a connection that has been silent (no message, ping or keep-alive comment) for too long. */
function silenceTimer(ms: number, onSilence: () => void): { heard(): void; stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  const heard = (): void => {
    clearTimeout(timer);
    timer = setTimeout(onSilence, ms);
  };
  return { heard, stop: () => clearTimeout(timer) };
}

function connectWebSocket(
  address: ServerAddress,
  target: Target,
  onMessage: (message: ServerMessage) => void,
  signal: AbortSignal,
  silenceMs: number,
): Promise<Connection> {
  return new Promise((resolve) => {
    const socket = new WebSocket(endpoint(address, 'websocket', target), {
      headers: { authorization: `Bearer ${address.token}` },
      handshakeTimeout: 5000,
      perMessageDeflate: false,
    });
    let opened = false;
    let refused: string | undefined;
    let failure = '';
    const silence = silenceTimer(silenceMs, () => {
      failure = 'the server stopped answering';
      socket.terminate();
    });
    const leave = (): void => socket.close(1000, 'client detached');
    signal.addEventListener('abort', leave, { once: true });
    socket.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => {
        refused = refusal(address, res.statusCode ?? 0, res.statusMessage ?? '', body);
        socket.terminate();
      });
    });
    socket.on('open', () => {
      opened = true;
      silence.heard();
      if ('start' in target) socket.send(JSON.stringify(target.start));
    });
    socket.on('ping', silence.heard);
    socket.on('message', (data) => {
      silence.heard();
      onMessage(JSON.parse(String(data)) as ServerMessage);
    });
    socket.on('error', (err) => (failure = err.message));
    socket.on('close', (code, reason) => {
      silence.stop();
      signal.removeEventListener('abort', leave);
      resolve({
        opened,
        ...(refused === undefined ? {} : { refused }),
        reason: failure || `the connection closed (code ${code}${reason.length ? `, ${String(reason)}` : ''})`,
      });
    });
  });
}

async function connectSse(
  address: ServerAddress,
  target: Target,
  onMessage: (message: ServerMessage) => void,
  signal: AbortSignal,
  silenceMs: number,
): Promise<Connection> {
  const abort = new AbortController();
  const leave = (): void => abort.abort();
  signal.addEventListener('abort', leave, { once: true });
  let failure = '';
  const silence = silenceTimer(silenceMs, () => {
    failure = 'the server stopped answering';
    abort.abort();
  });
  // Until the answer's headers come, a server that took the connection but says nothing is given
  // 10 s; after that the silence timer watches the stream.
  const headersTimer = setTimeout(() => {
    failure = 'the server did not answer within 10 s';
    abort.abort();
  }, 10_000);
  try {
    let response: Response;
    try {
      response = await fetch(endpoint(address, 'sse', target), {
        method: 'start' in target ? 'POST' : 'GET',
        headers: {
          authorization: `Bearer ${address.token}`,
          accept: 'text/event-stream',
          ...('start' in target ? { 'content-type': 'application/json' } : {}),
        },
        ...('start' in target ? { body: JSON.stringify(target.start) } : {}),
        signal: abort.signal,
      });
    } catch (err) {
      const cause = (err as Error).cause as NodeJS.ErrnoException | undefined;
      const reason = failure || cause?.message || (err as Error).message;
      // Only when no connection was made can nothing have reached a server.
      const nothingSent = ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'].includes(cause?.code ?? '');
      return { opened: false, ...(nothingSent ? {} : { uncertain: true }), reason };
    } finally {
      clearTimeout(headersTimer);
    }
    if (!response.ok || !response.body) {
      return { opened: false, refused: refusal(address, response.status, response.statusText, await response.text()), reason: '' };
    }
    silence.heard();
    const parser = createParser({
      onEvent: (event) => onMessage(JSON.parse(event.data) as ServerMessage),
      onComment: () => silence.heard(),
    });
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body) {
        silence.heard();
        parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
      }
      return { opened: true, reason: 'the server ended the stream' };
    } catch (err) {
      return { opened: true, reason: failure || (signal.aborted ? 'client detached' : (err as Error).message) };
    }
  } finally {
    silence.stop();
    signal.removeEventListener('abort', leave);
  }
}

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
  const connect = options.transport === 'websocket' ? connectWebSocket : connectSse;
  let operation = 'attach' in target ? target.attach : undefined;
  let lastSeq = 'attach' in target ? target.since : -1;
  let complete: CompleteMessage | undefined;
  const onMessage = (message: ServerMessage): void => {
    if (message.type === 'logs') {
      const last = message.seq + message.count - 1;
      if (last <= lastSeq) return;
      // Partly seen before (a re-attach overlapped it): the unseen lines one by one.
      if (message.seq <= lastSeq) {
        for (const line of expandBatch(message)) onMessage(line);
        return;
      }
      lastSeq = last;
      options.onMessage(message);
      return;
    }
    if (message.type !== 'dropped') {
      if (message.seq <= lastSeq) return;
      lastSeq = message.seq;
    }
    if (message.type === 'accepted') operation = message.operation;
    if (message.type === 'complete') complete = message;
    options.onMessage(message);
  };

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

/** Asks the server to cancel `operation`; resolves with its answer. */
export async function requestCancel(address: ServerAddress, operation: string, by: string): Promise<{ ok: boolean; message: string }> {
  try {
    const response = await fetch(new URL(`/api/operations/${operation}/cancel`, address.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${address.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ by }),
    });
    const body = (await response.json()) as { error?: string };
    return { ok: response.ok, message: body.error ?? `asked the server to cancel ${operation}` };
  } catch (err) {
    return { ok: false, message: `could not reach the server at ${address.url}: ${(err as Error).message}` };
  }
}
