// A connection over Server-Sent Events: the request as a POST body (or a GET to follow), every
// server message as an event, keep-alive comments counted as signs of life.
import { createParser } from 'eventsource-parser';
import type { ServerMessage } from '../../core/protocol/messages.js';
import { endpoint, refusal, silenceTimer, type Connect, type Connection } from './connection.js';

export const connectSse: Connect = async (address, target, onMessage, signal, silenceMs): Promise<Connection> => {
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
};
