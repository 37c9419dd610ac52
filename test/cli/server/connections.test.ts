// The connection limit against a real server: connections that ask nothing give their slots to
// newcomers, oldest first, and only connections doing work are ever a reason to refuse one.
import { request as httpRequest } from 'node:http';
import { connect as connectTcp, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import type WebSocket from 'ws';
import type { ServerMessage } from '../../../core/protocol/messages.js';
import { cleanup, eventually, gates, initProject, sandbox } from '../../helpers/fixtures.js';
import { connect, get, request, startServer, stopServers, type RunningServer } from '../../helpers/server.js';

const opened: { destroy(): void }[] = [];

afterEach(async () => {
  for (const connection of opened.splice(0)) connection.destroy();
  await stopServers();
  cleanup();
});

/** Something that grows (bytes, messages) and a way to wait until it shows what a test needs. */
class Watched<T> {
  private readonly waiters = new Set<() => void>();

  constructor(readonly value: T) {}

  changed(): void {
    for (const wake of this.waiters) wake();
  }

  until(condition: (value: T) => boolean): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        if (!condition(this.value)) return;
        this.waiters.delete(wake);
        resolve();
      };
      this.waiters.add(wake);
      wake();
    });
  }
}

interface RawConnection {
  received(): string;
  /** Resolves once what it received matches `pattern`. */
  until(pattern: RegExp): Promise<void>;
  closed: Promise<void>;
}

/** A TCP connection that has sent `text` (perhaps nothing, perhaps half a request); resolves once connected. */
function rawConnection(server: RunningServer, text = ''): Promise<RawConnection> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const data = new Watched({ text: '' });
    const socket: Socket = connectTcp(Number(url.port), url.hostname, () => {
      if (text) socket.write(text);
      resolve({ received: () => data.value.text, until: (pattern) => data.until((d) => pattern.test(d.text)), closed });
    });
    opened.push(socket);
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    socket.on('data', (chunk: Buffer) => {
      data.value.text += chunk.toString();
      data.changed();
    });
    socket.on('error', reject);
  });
}

function healthRequest(server: RunningServer, connection: 'close' | 'keep-alive'): string {
  return `GET /api/health HTTP/1.1\r\nHost: ${new URL(server.url).host}\r\nAuthorization: Bearer ${server.token}\r\nConnection: ${connection}\r\n\r\n`;
}

interface WatchedWebSocket {
  messages: Watched<ServerMessage[]>;
  closed: Promise<{ code: number; reason: string }>;
}

/** A WebSocket on `path`, sending `body` once open (nothing when it is undefined); resolves once open. */
function webSocket(server: RunningServer, path: string, body?: object): Promise<WatchedWebSocket> {
  const socket: WebSocket = connect(server, path);
  opened.push({ destroy: () => socket.terminate() });
  const messages = new Watched<ServerMessage[]>([]);
  const closed = new Promise<{ code: number; reason: string }>((done) => socket.once('close', (code, reason) => done({ code, reason: String(reason) })));
  socket.on('message', (data) => {
    messages.value.push(JSON.parse(String(data)) as ServerMessage);
    messages.changed();
  });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.once('open', () => {
      if (body) socket.send(JSON.stringify(body));
      resolve({ messages, closed });
    });
  });
}

interface WatchedEvents {
  text: Watched<{ body: string }>;
  ended: Promise<{ status: number; body: string }>;
}

/** An SSE request on a connection of its own (no pool to share one with). */
function events(server: RunningServer, path: string, body?: object): WatchedEvents {
  const text = new Watched({ body: '' });
  const ended = new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = httpRequest(new URL(path, server.url), { method: body ? 'POST' : 'GET', agent: false, headers: { authorization: `Bearer ${server.token}` } }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text.value.body += chunk;
        text.changed();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text.value.body }));
    });
    opened.push(req);
    req.on('error', reject);
    req.end(body ? JSON.stringify(body) : undefined);
  });
  return { text, ended };
}

const succeeded = /"type":"complete","success":true/;

describe('a server at its connection limit', () => {
  // The connection the limit closes first, and what it then sees.
  const oldest: [string, (server: RunningServer) => Promise<() => Promise<void>>][] = [
    [
      'a TCP connection that has sent nothing',
      async (server) => {
        const silent = await rawConnection(server);
        return async () => {
          await silent.closed;
          expect(silent.received()).toMatch(/^HTTP\/1\.1 503 [^]*closed to make room for a new connection/);
        };
      },
    ],
    [
      'a connection midway through its headers',
      async (server) => {
        const partial = await rawConnection(server, `GET /api/health HTTP/1.1\r\nHost: ${new URL(server.url).host}\r\n`);
        return async () => {
          await partial.closed;
          expect(partial.received()).toMatch(/^HTTP\/1\.1 503 [^]*closed to make room for a new connection/);
        };
      },
    ],
    [
      'a keep-alive connection between requests',
      async (server) => {
        const kept = await rawConnection(server, healthRequest(server, 'keep-alive'));
        // Answered: from here it only waits for a next request.
        await kept.until(/"ok":true/);
        return async () => {
          await kept.closed;
          // Closed the way a keep-alive timeout closes it: nothing after the one answer.
          expect(kept.received().match(/HTTP\/1\.1/g)).toHaveLength(1);
          expect(kept.received()).toMatch(/^HTTP\/1\.1 200/);
        };
      },
    ],
    [
      'a WebSocket that never sent its request',
      async (server) => {
        const waiting = await webSocket(server, '/api/environments/create/stream');
        return async () => {
          expect(await waiting.closed).toEqual({ code: 1013, reason: 'the server is full: try again' });
          expect(waiting.messages.value).toEqual([
            expect.objectContaining({ type: 'complete', success: false, error: expect.stringContaining('closed to make room for a new connection') }),
          ]);
        };
      },
    ],
  ];

  it.each(oldest)('closes the connection idle the longest (%s) so health, a create and an SSE create are served', async (_what, makeOldest) => {
    const box = sandbox();
    await initProject(box, { '.piko.yml': 'scripts:\n  setup: echo set up\n' });
    const server = await startServer(box, { PIKO_MAX_CONNECTIONS: '8' });
    const evicted = await makeOldest(server);
    // The other seven slots: every kind of connection that has asked nothing.
    const host = new URL(server.url).host;
    const next = await webSocket(server, '/api/environments/create/stream');
    await rawConnection(server);
    await rawConnection(server, `POST /api/environments/create/events HTTP/1.1\r\nHost: ${host}\r\n`);
    await webSocket(server, '/api/environments/create/stream');
    await rawConnection(server);
    await webSocket(server, '/api/environments/create/stream');
    await rawConnection(server, 'GET /api/heal');

    expect(await get(server, '/api/health')).toEqual({ status: 200, body: expect.objectContaining({ ok: true }) });
    await evicted();
    // Only the oldest made room: the one after it was left alone.
    expect(next.messages.value).toEqual([]);
    const created = await request(server, 'create', { action: 'create', environment: 'fresh' });
    expect(created.messages.at(-1)).toMatchObject({ type: 'complete', success: true });
    const streamed = await events(server, '/api/environments/create/events', { action: 'create', environment: 'streamed' }).ended;
    expect(streamed.status).toBe(200);
    expect(streamed.body).toMatch(succeeded);
  });

  it('never closes a connection doing work to make room, and refuses a newcomer with a 503 only when all are', async () => {
    const box = sandbox();
    const gate = gates();
    await initProject(box, { '.piko.yml': `scripts:\n  setup: echo started; ${gate.wait('$PIKO_ENV_NAME', 60)}; echo finished\n` });
    const server = await startServer(box, { PIKO_MAX_CONNECTIONS: '4' });
    const started = (m: ServerMessage): boolean => m.type === 'log' && m.data === 'started\n';

    // Three slots work: a WebSocket create, an SSE create, and a WebSocket following the first.
    const one = await webSocket(server, '/api/environments/create/stream', { action: 'create', environment: 'one' });
    await one.messages.until((ms) => ms.some(started));
    const two = events(server, '/api/environments/create/events', { action: 'create', environment: 'two' });
    await two.text.until((t) => t.body.includes('started'));
    const accepted = one.messages.value[0]!;
    if (accepted.type !== 'accepted') throw new Error(`expected accepted first, got ${JSON.stringify(accepted)}`);
    const follower = await webSocket(server, `/api/operations/${accepted.operation}/stream`);
    await follower.messages.until((ms) => ms.some(started));

    // The fourth asks nothing: a newcomer takes its slot.
    const idle = await rawConnection(server);
    const probe = await rawConnection(server, healthRequest(server, 'close'));
    await probe.closed;
    expect(probe.received()).toMatch(/^HTTP\/1\.1 200 /);
    await idle.closed;
    expect(idle.received()).toMatch(/^HTTP\/1\.1 503 /);

    // A fourth stream, following the SSE create: now every slot works.
    const twoOperation = /"operation":"(op_\w+)"/.exec(two.text.value.body)![1]!;
    const follower2 = events(server, `/api/operations/${twoOperation}/events`);
    await follower2.text.until((t) => t.body.includes('started'));
    const refused = await rawConnection(server, healthRequest(server, 'close'));
    await refused.closed;
    expect(refused.received()).toMatch(/^HTTP\/1\.1 503 /);
    expect(refused.received()).toContain('the server has 4 connections open, its limit, all of them in use: try again once some have finished');
    await server.waitFor(/refused: 4 connections open, all in use/);

    // None of the four was closed on the way: each sees its operation to the end.
    gate.open('one');
    gate.open('two');
    const ends = await Promise.all([one.closed, follower.closed, two.ended, follower2.ended]);
    expect(ends.map((e) => ('code' in e ? e.code : e.status))).toEqual([1000, 1000, 200, 200]);
    for (const ws of [one, follower]) expect(ws.messages.value.at(-1)).toMatchObject({ type: 'complete', success: true });
    for (const sse of [two, follower2]) expect(sse.text.value.body).toMatch(succeeded);
    // The server sees them close in its own time: once it has, newcomers are served again.
    await eventually('the server to take a connection again', async () => (await get(server, '/api/health').catch(() => ({ status: 0 }))).status === 200);
  });
});
