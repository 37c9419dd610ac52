// A client that re-attaches over SSE to a finished operation with a long log and stops reading,
// against a real server process, over a raw socket: the replay waits for it, what the server
// sends it goes as byte chunks of many events, and once it reads it gets every event.
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { createParser } from 'eventsource-parser';
import { operationLogPath } from '../../../core/paths.js';
import type { OperationMessage, ServerMessage } from '../../../core/protocol/messages.js';
import { readOperationLog } from '../../../core/state/operation-log.js';
import { cleanup, eventually, initProject, sandbox } from '../../helpers/fixtures.js';
import { connect as connectWebSocket, exchange, get, startServer, stopServers } from '../../helpers/server.js';
import { dechunk, tcpQueues } from '../../helpers/wire.js';

const sockets: Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await stopServers();
  cleanup();
});

describe('an SSE client that re-attaches to a long log and stops reading', () => {
  it('is sent the replay in byte chunks of many events, at its pace, and gets every event once it reads', async () => {
    const box = sandbox();
    await initProject(box, { '.piko.yml': `scripts:\n  setup: yes ${'s'.repeat(90)} | head -n 100000\n` });
    const server = await startServer(box);
    const created = await exchange(connectWebSocket(server, '/api/environments/create/stream?batch=1'), { action: 'create', environment: 'long' });
    expect(created.messages.at(-1)).toMatchObject({ type: 'complete', success: true });
    const operation = (created.messages[0] as { operation: string }).operation;
    const logged: OperationMessage[] = readOperationLog(operationLogPath(box.home, operation));
    expect(logged.length).toBeGreaterThan(100_000);

    // A raw client that sends its request and reads nothing.
    const url = new URL(server.url);
    const socket = connect(Number(url.port), url.hostname);
    sockets.push(socket);
    socket.pause();
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    socket.write(`GET /api/operations/${operation}/events HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${server.token}\r\n\r\n`);
    // Stalled until the connection is full both ways: unread bytes wait at this end, and the
    // server has written more that cannot go yet.
    const [mine, theirs] = [socket.localPort!, Number(url.port)];
    await eventually('the replay to fill the connection to the stalled reader', () => {
      const [here, there] = [tcpQueues(mine, theirs), tcpQueues(theirs, mine)];
      return here !== undefined && there !== undefined && here.rx > 0 && there.tx > 0;
    });
    expect((await get(server, '/api/health')).status).toBe(200);

    // Now it reads, to the end of the response (the connection stays open for another request).
    const received: Buffer[] = [];
    await new Promise<void>((resolve, reject) => {
      let tail = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        received.push(chunk);
        tail = Buffer.concat([tail, chunk]).subarray(-7);
        if (tail.toString('latin1') === '\r\n0\r\n\r\n') resolve();
      });
      socket.once('error', reject);
      socket.once('close', () => reject(new Error('the server closed the connection before the end of the response')));
      socket.resume();
    });
    const { head, chunks } = dechunk(Buffer.concat(received));
    expect(head).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    const events: ServerMessage[] = [];
    const parser = createParser({ onEvent: (e) => events.push(JSON.parse(e.data) as ServerMessage) });
    for (const chunk of chunks) parser.feed(chunk);

    // Every event once, in order, none dropped: the replay waited for the client.
    expect(events.filter((m) => m.type === 'dropped')).toEqual([]);
    expect(events.map((m) => (m as OperationMessage).seq)).toEqual(logged.map((m) => m.seq));
    expect(events.at(-1)).toEqual(logged.at(-1));
    // Each chunk is one write of the server's: the events of a replay step go in a few, not one
    // each (each of which cost the server several times its size while the client did not read).
    expect(chunks.length).toBeLessThanOrEqual(Math.ceil(events.length / 50));
  });
});
