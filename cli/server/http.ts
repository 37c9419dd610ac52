// Small HTTP pieces of `piko server`: a bounded request body, a JSON answer, and the answer to
// an upgrade the server refuses.
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { PikoError } from '../../core/errors.js';
import { API_HEADERS } from '../../transports/guard.js';

const MAX_BODY_BYTES = 64 * 1024;

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      // Past the limit the rest is read and thrown away, so the answer still gets through.
      if (body.length > MAX_BODY_BYTES) return;
      body += chunk;
      if (body.length > MAX_BODY_BYTES) reject(new PikoError('PIKO_ERR_USAGE', `the request body is larger than ${MAX_BODY_BYTES} bytes`));
    });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { ...API_HEADERS, 'content-type': 'application/json; charset=utf-8' });
  res.end(`${JSON.stringify(body)}\n`);
}

/** Answers on the raw socket (an upgrade refused, a connection past the limit) with a plain HTTP error, and closes it. */
export function answerAndClose(socket: Duplex, status: number, error: string): void {
  const body = `${JSON.stringify({ error })}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
