// The CLI's side of `piko server`: find it, send one request over a WebSocket, and hand each
// message to the renderer as it arrives.
import WebSocket from 'ws';
import { processAlive } from '../core/state.js';
import type { CompleteMessage, OperationRequest, ServerMessage } from '../core/protocol.js';
import { readServerInfo } from '../transports/server.js';

export interface ServerAddress {
  url: string;
  token: string;
}

/** `PIKO_SERVER_URL` (+ `PIKO_TOKEN`), else `$PIKO_HOME/server.json` if its process still lives. */
export function findServer(home: string, env: NodeJS.ProcessEnv = process.env): ServerAddress | undefined {
  const info = readServerInfo(home);
  if (env.PIKO_SERVER_URL) return { url: env.PIKO_SERVER_URL, token: env.PIKO_TOKEN ?? info?.token ?? '' };
  if (!info || !processAlive(info.pid)) return undefined;
  return { url: info.url, token: info.token };
}

export type StreamResult =
  /** No server took the connection: the caller may run the operation itself. */
  | { kind: 'unreachable'; reason: string }
  /** A server answered but would not take the request (wrong token, foreign host…). */
  | { kind: 'refused'; reason: string }
  | { kind: 'complete'; complete: CompleteMessage }
  /** The connection ended before `complete`: the operation may still run on the server. */
  | { kind: 'lost'; operation: string | undefined; reason: string }
  | { kind: 'detached'; operation: string | undefined };

export interface StreamOptions {
  /** Aborting detaches: the socket closes and the operation goes on on the server. */
  signal?: AbortSignal;
  /** With no message or ping from the server for this long, the connection counts as lost. Default 75 s. */
  silenceMs?: number;
}

function streamUrl(base: string, action: string): URL {
  const url = new URL(`/api/environments/${action}/stream`, base);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url;
}

export function streamOperation(
  address: ServerAddress,
  request: OperationRequest,
  onMessage: (message: ServerMessage) => void,
  options: StreamOptions = {},
): Promise<StreamResult> {
  return new Promise((resolve) => {
    const socket = new WebSocket(streamUrl(address.url, request.action), {
      headers: { authorization: `Bearer ${address.token}` },
      handshakeTimeout: 5000,
      perMessageDeflate: false,
    });
    let opened = false;
    let operation: string | undefined;
    let result: StreamResult | undefined;
    let failure = '';
    let silence: NodeJS.Timeout | undefined;
    const finish = (outcome: StreamResult): void => {
      result ??= outcome;
    };
    const heard = (): void => {
      clearTimeout(silence);
      silence = setTimeout(() => {
        failure = 'the server stopped answering';
        socket.terminate();
      }, options.silenceMs ?? 75_000);
    };
    const detach = (): void => {
      finish({ kind: 'detached', operation });
      socket.close(1000, 'client detached');
    };
    options.signal?.addEventListener('abort', detach, { once: true });

    socket.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => {
        let reason = `${res.statusCode} ${res.statusMessage ?? ''}`.trim();
        try {
          reason = `${reason}: ${(JSON.parse(body) as { error: string }).error}`;
        } catch {
          // Not ours: keep the status line.
        }
        finish({ kind: 'refused', reason: `the server at ${address.url} refused the request (${reason})` });
        socket.terminate();
      });
    });
    socket.on('open', () => {
      opened = true;
      heard();
      socket.send(JSON.stringify(request));
    });
    socket.on('ping', heard);
    socket.on('message', (data) => {
      heard();
      const message = JSON.parse(String(data)) as ServerMessage;
      if (message.type === 'accepted') operation = message.operation;
      onMessage(message);
      if (message.type === 'complete') finish({ kind: 'complete', complete: message });
    });
    socket.on('error', (err) => {
      failure = err.message;
    });
    socket.on('close', (code, reason) => {
      clearTimeout(silence);
      options.signal?.removeEventListener('abort', detach);
      if (!opened) {
        finish({ kind: 'unreachable', reason: failure || `closed with code ${code}` });
      } else {
        const why = failure || `the connection closed (code ${code}${reason.length ? `, ${String(reason)}` : ''})`;
        finish({ kind: 'lost', operation, reason: why });
      }
      resolve(result!);
    });
  });
}
