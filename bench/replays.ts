// 50 clients re-attach to a finished operation whose log is 60 MB and stop reading, over SSE and
// over WebSocket: each replay must wait for its client, so the server's memory stays bounded
// whatever the transport.
import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';
import { peakMb, piko, repo, row, rssMb, startServer, stopServer } from './harness.js';

const CLIENTS = 50;

export async function stalledReplays(): Promise<void> {
  const dir = await repo('replays', `yes ${'r'.repeat(90)} | head -n 660000`);
  const create = await piko(['create', 'long', '--no-attach', '--json', '--transport', 'stdout'], dir);
  const operation = (JSON.parse(create.stdout.split('\n')[0]!) as { operation: string }).operation;
  for (const transport of ['sse', 'websocket'] as const) await stalledClients(operation, transport);
}

interface Client {
  /** Resolves once the client has read its first bytes and stopped reading. */
  stalled: Promise<void>;
  close(): void;
}

/** A raw HTTP client of the events endpoint: it reads the first bytes, then nothing more. */
function sseClient(server: { url: string; token: string }, operation: string): Client {
  const url = new URL(server.url);
  const socket: Socket = connect(Number(url.port), url.hostname, () =>
    socket.write(`GET /api/operations/${operation}/events HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${server.token}\r\n\r\n`),
  );
  const stalled = new Promise<void>((resolve, reject) => {
    socket.once('data', () => {
      socket.pause();
      resolve();
    });
    socket.on('error', reject);
  });
  return { stalled, close: () => socket.destroy() };
}

/** A WebSocket client of the stream endpoint: it reads the first message, then nothing more. */
function webSocketClient(server: { url: string; token: string }, operation: string): Client {
  const url = new URL(`/api/operations/${operation}/stream`, server.url);
  url.protocol = 'ws:';
  const socket = new WebSocket(url, { headers: { authorization: `Bearer ${server.token}` } });
  const stalled = new Promise<void>((resolve, reject) => {
    socket.once('message', () => {
      socket.pause();
      resolve();
    });
    socket.on('error', reject);
  });
  return { stalled, close: () => socket.terminate() };
}

async function stalledClients(operation: string, transport: 'sse' | 'websocket'): Promise<void> {
  // A server that did not run the operation itself: what it holds is the replays' doing.
  const server = await startServer();
  await new Promise((r) => setTimeout(r, 300));
  const idle = rssMb(server.pid);
  const clients = Array.from({ length: CLIENTS }, () => (transport === 'sse' ? sseClient : webSocketClient)(server, operation));
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no answer within 20 s')), 20_000).unref());
  const failures = (await Promise.allSettled(clients.map((c) => Promise.race([c.stalled, timeout])))).filter((r) => r.status === 'rejected');
  // Long enough for every replay to fill its connection and wait.
  await new Promise((r) => setTimeout(r, 3000));
  if (failures.length) throw new Error(`${failures.length} ${transport} clients failed: ${String((failures[0] as PromiseRejectedResult).reason)}`);
  const held = rssMb(server.pid);
  const peak = peakMb(server.pid);
  for (const client of clients) client.close();
  await new Promise((r) => setTimeout(r, 1000));
  const after = rssMb(server.pid);
  await stopServer(server);
  row(
    `memory: ${CLIENTS} stalled ${transport === 'sse' ? 'SSE' : 'WebSocket'} re-attachers of a finished 60 MB log`,
    `${peak.toFixed(0)} MB peak`,
    '≤ 200 MB',
    peak <= 200,
    `server idle ${idle.toFixed(0)} MB, ${held.toFixed(0)} MB while they were stalled, ${after.toFixed(0)} MB once they were gone`,
  );
}
