// A connection over Server-Sent Events: the request as a POST body (or a GET to follow), every
// server message as an event, keep-alive comments counted as signs of life.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createParser } from 'eventsource-parser';
import type { ServerMessage } from '../../core/protocol/messages.js';
import { endpoint, refusal, silenceTimer, type Connect, type Connection } from './connection.js';

/** Errors that mean no connection was made, so nothing can have reached a server. */
const NOTHING_SENT = ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'];

// node:http rather than fetch: no web streams between the socket and the parser, and no undici to load.
export const connectSse: Connect = (address, target, onMessage, signal, silenceMs) =>
  new Promise<Connection>((resolve) => {
    const url = endpoint(address, 'sse', target);
    const body = 'start' in target ? JSON.stringify(target.start) : undefined;
    let failure = '';
    let opened = false;
    const stop = (why: string): void => {
      failure ||= why;
      req.destroy();
    };
    const silence = silenceTimer(silenceMs, () => stop('the server stopped answering'));
    // Until the answer's headers come, a server that took the connection but says nothing is given
    // 10 s; after that the silence timer watches the stream.
    const headersTimer = setTimeout(() => stop('the server did not answer within 10 s'), 10_000);
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
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, {
      method: body === undefined ? 'GET' : 'POST',
      headers: {
        authorization: `Bearer ${address.token}`,
        accept: 'text/event-stream',
        ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }),
      },
    });
    req.on('response', (res) => {
      clearTimeout(headersTimer);
      res.setEncoding('utf8');
      if (res.statusCode !== 200) {
        let text = '';
        res.on('data', (chunk: string) => (text += chunk));
        // `close` too: a refusal cut short (or left by the caller) must still settle.
        const refused = (): void => finish({ opened: false, refused: refusal(address, res.statusCode ?? 0, res.statusMessage ?? '', text), reason: '' });
        res.on('end', refused);
        res.on('close', refused);
        return;
      }
      opened = true;
      silence.heard();
      const parser = createParser({
        onEvent: (event) => {
          const message = JSON.parse(event.data) as ServerMessage;
          onMessage(message);
          // Nothing follows the last message (see websocket.ts).
          if (message.type === 'complete') req.destroy();
        },
        onComment: () => silence.heard(),
      });
      res.on('data', (chunk: string) => {
        silence.heard();
        try {
          parser.feed(chunk);
        } catch (err) {
          stop((err as Error).message);
        }
      });
      res.on('close', () => finish({ opened: true, reason: res.complete ? 'the server ended the stream' : failure || 'the connection was lost' }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (opened) return finish({ opened: true, reason: failure || err.message });
      // Only when no connection was made can nothing have reached a server.
      finish({ opened: false, ...(NOTHING_SENT.includes(err.code ?? '') ? {} : { uncertain: true }), reason: failure || err.message });
    });
    req.end(body);
  });
