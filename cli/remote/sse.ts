// A connection over Server-Sent Events: the request as a POST body (or a GET to follow), every
// server message as an event, keep-alive comments counted as signs of life.
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createParser } from 'eventsource-parser';
import type { ServerMessage } from '../../core/protocol/messages.js';
import { endpoint, refusal, silenceTimer, type Connect, type Connection } from './connection.js';
import type { ServerAddress } from './discovery.js';

/** Errors that mean no connection was made, so nothing can have reached a server. */
const NOTHING_SENT = ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'];
/** Until the answer's headers come, a server that took the connection but says nothing is given this long. */
const HEADERS_TIMEOUT_MS = 10_000;

// node:http rather than fetch: no web streams between the socket and the parser, and no undici to load.
export const connectSse: Connect = (address, target, onMessage, signal, silenceMs) =>
  new Promise<Connection>((resolve) => {
    const url = endpoint(address, 'sse', target);
    const body = 'start' in target ? JSON.stringify(target.start) : undefined;
    const req = openRequest(url, address.token, body);
    let failure = '';
    let opened = false;
    const stop = (why: string): void => {
      failure ||= why;
      req.destroy();
    };
    // After the headers, the silence timer watches the stream.
    const silence = silenceTimer(silenceMs, () => stop('the server stopped answering'));
    const headersTimer = setTimeout(() => stop(`the server did not answer within ${HEADERS_TIMEOUT_MS / 1000} s`), HEADERS_TIMEOUT_MS);
    const leave = (): void => stop('client detached');
    signal.addEventListener('abort', leave, { once: true });
    let settled = false;
    const finish = (connection: Connection): void => {
      if (settled) return;
      settled = true;
      clearTimeout(headersTimer);
      silence.stop();
      signal.removeEventListener('abort', leave);
      resolve(connection);
    };
    req.on('response', (res) => {
      clearTimeout(headersTimer);
      res.setEncoding('utf8');
      if (res.statusCode !== 200) return readRefusal(res, address, finish);
      opened = true;
      readEvents(res, req, onMessage, silence.heard, stop);
      res.on('close', () => finish({ opened: true, reason: res.complete ? 'the server ended the stream' : failure || 'the connection was lost' }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (opened) return finish({ opened: true, reason: failure || err.message });
      // Only when no connection was made can nothing have reached a server.
      finish({ opened: false, ...(NOTHING_SENT.includes(err.code ?? '') ? {} : { uncertain: true }), reason: failure || err.message });
    });
    req.end(body);
  });

/** The request: a POST of `body` to start an operation, a GET to follow one. */
function openRequest(url: URL, token: string, body: string | undefined): ClientRequest {
  return (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      accept: 'text/event-stream',
      ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }),
    },
  });
}

/** An error status: the server's reason, once its body is read (or cut short, or left by the caller). */
function readRefusal(res: IncomingMessage, address: ServerAddress, finish: (connection: Connection) => void): void {
  let text = '';
  res.on('data', (chunk: string) => (text += chunk));
  const refused = (): void => finish({ opened: false, refused: refusal(address, res.statusCode ?? 0, res.statusMessage ?? '', text), reason: '' });
  res.on('end', refused);
  res.on('close', refused);
}

/** Every event of the stream to `onMessage`; every chunk and keep-alive comment is a sign of life. */
function readEvents(res: IncomingMessage, req: ClientRequest, onMessage: (message: ServerMessage) => void, heard: () => void, stop: (why: string) => void): void {
  heard();
  const parser = createParser({
    onEvent: (event) => {
      const message = JSON.parse(event.data) as ServerMessage;
      onMessage(message);
      // Nothing follows the last message (see websocket.ts).
      if (message.type === 'complete') req.destroy();
    },
    onComment: heard,
  });
  res.on('data', (chunk: string) => {
    heard();
    try {
      parser.feed(chunk);
    } catch (err) {
      stop((err as Error).message);
    }
  });
}
