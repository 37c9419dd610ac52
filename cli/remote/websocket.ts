// A connection over a WebSocket: the request as the first message, every server message as a
// text frame, pings counted as signs of life.
import WebSocket from 'ws';
import type { ServerMessage } from '../../core/protocol/messages.js';
import { endpoint, refusal, silenceTimer, type Connect, type Connection } from './connection.js';

export const connectWebSocket: Connect = (address, target, onMessage, signal, silenceMs): Promise<Connection> => {
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
      const message = JSON.parse(String(data)) as ServerMessage;
      onMessage(message);
      // Nothing follows the last message: the connection is done with, without waiting for the
      // server to finish closing it (it may be busy recording the operation's end).
      if (message.type === 'complete') socket.terminate();
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
};
