// The SSE channel on a real node:http server, over a connection the test controls: what the
// server hands the socket for a client, and what it holds while the client does not read.
import { writeFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from '@jest/globals';
import { createParser } from 'eventsource-parser';
import type { OperationMessage, ServerMessage } from '../../core/protocol/messages.js';
import { OperationHub, REPLAY_QUEUE_BYTES, REPLAY_STEP_BYTES } from '../../transports/hub.js';
import { SseChannel, startEventStream } from '../../transports/sse.js';
import { cleanup, tempDir } from '../helpers/fixtures.js';
import { dechunk } from '../helpers/wire.js';

const servers: Server[] = [];
const connections: Duplex[] = [];

afterEach(() => {
  for (const connection of connections.splice(0)) connection.destroy();
  for (const server of servers.splice(0)) server.close();
  cleanup();
});

/**
 * The server's end of a connection whose client sends one request and then takes nothing until
 * `startReading()`: like a socket whose kernel buffers are full, it holds the first write it is
 * given, so everything after it waits in the socket's queue. It takes strings as they come
 * (`decodeStrings: false`, as net.Socket does); `chunks` is what node:http handed it, in order.
 */
class Connection extends Duplex {
  readonly chunks: (Buffer | string)[] = [];
  private reading = false;
  private readonly held: (() => void)[] = [];

  constructor(private request: string) {
    super({ decodeStrings: false });
  }

  override _read(): void {
    if (this.request === '') return;
    this.push(this.request);
    this.request = '';
  }

  override write(chunk: Buffer | string, encoding?: BufferEncoding | ((error?: Error | null) => void), callback?: (error?: Error | null) => void): boolean {
    this.chunks.push(chunk);
    return typeof encoding === 'function' ? super.write(chunk, encoding) : super.write(chunk, encoding ?? 'utf8', callback);
  }

  override _write(_chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void): void {
    if (this.reading) callback();
    else this.held.push(callback);
  }

  startReading(): void {
    this.reading = true;
    for (const taken of this.held.splice(0)) taken();
  }

  /** The response as the client reads it: its head, and its body's chunks (chunked encoding undone). */
  response(): { head: string; chunks: string[] } {
    return dechunk(Buffer.concat(this.chunks.map((c) => (typeof c === 'string' ? Buffer.from(c, 'latin1') : c))));
  }
}

/** A real node:http server that answers one request with `answer`, over `connection`. */
function serve(connection: Connection, answer: (res: ServerResponse) => void): Promise<ServerResponse> {
  return new Promise((resolve) => {
    const server = createServer((_req, res) => {
      answer(res);
      resolve(res);
    });
    servers.push(server);
    connections.push(connection);
    server.emit('connection', connection);
  });
}

const finished = (res: ServerResponse): Promise<void> => new Promise((resolve) => (res.writableFinished ? resolve() : res.once('finish', () => resolve())));

function events(chunks: string[]): ServerMessage[] {
  const parsed: ServerMessage[] = [];
  const parser = createParser({ onEvent: (e) => parsed.push(JSON.parse(e.data) as ServerMessage) });
  for (const chunk of chunks) parser.feed(chunk);
  return parsed;
}

const REQUEST = 'GET /api/operations/op_0123456789ab/events HTTP/1.1\r\nHost: piko\r\n\r\n';

describe('an SSE client that re-attaches to a long log and does not read', () => {
  it('waits for the replay holding the bytes its channel counts, in a few chunks, and gets all of it once it reads', async () => {
    // A finished operation that printed 20 000 lines of 100 bytes.
    const log = join(tempDir(), 'op_0123456789ab.ndjson');
    const logged: OperationMessage[] = Array.from({ length: 20_000 }, (_, i) => ({ type: 'log', source: 'script:setup', stream: 'stdout', data: `${String(i).padStart(99, '.')}\n`, seq: i }));
    logged.push({ type: 'complete', success: false, error: 'e', seq: 20_000 });
    writeFileSync(log, `${logged.map((m) => JSON.stringify(m)).join('\n')}\n`);

    /** The first time the replay has to wait for the client: what the channel counted then. */
    let stalled!: (queued: number) => void;
    const waiting = new Promise<number>((resolve) => (stalled = resolve));
    class Watched extends SseChannel {
      override buffered(): number {
        const queued = super.buffered();
        if (queued > REPLAY_QUEUE_BYTES) stalled(queued);
        return queued;
      }
    }
    const connection = new Connection(REQUEST);
    let replay!: Promise<void>;
    const res = await serve(connection, (res) => {
      startEventStream(res, 60_000);
      replay = new OperationHub().replay(log, -1, new Watched('op_0123456789ab', res), undefined, false);
    });
    const counted = await waiting;

    // What waits for the client is what the channel counted, about the replay's window, not the log.
    expect(connection.writableLength).toBe(counted);
    expect(counted).toBeLessThanOrEqual(REPLAY_QUEUE_BYTES + 2 * REPLAY_STEP_BYTES);
    // Held as bytes, in a few big writes: node:http corks what it writes, and node:net copies each
    // string of a corked writev into a native buffer three times its length, kept with the string
    // for as long as the client does not read; a write per event costs several objects per event
    // besides. Only the response's head and node:http's chunk sizes may be strings.
    const strings = connection.chunks.filter((c): c is string => typeof c === 'string');
    expect(strings.filter((s) => !/^HTTP\/1\.1 200 |^[0-9a-f]+$/.test(s))).toEqual([]);
    const held = events(connection.response().chunks);
    expect(held.length).toBeGreaterThan(100);
    expect(held.length).toBeLessThan(20_000);
    expect(connection.response().chunks.length).toBeLessThanOrEqual(Math.ceil(held.length / 100));

    connection.startReading();
    await replay;
    await finished(res);
    const { head, chunks } = connection.response();
    expect(head).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(head).toMatch(/\r\ntransfer-encoding: chunked/i);
    expect(events(chunks)).toEqual(logged);
  });
});

describe('an SSE client that reads', () => {
  it('gets the events of one turn as one chunk, in order, and the stream ends after them', async () => {
    const connection = new Connection(REQUEST);
    connection.startReading();
    const sent: OperationMessage[] = [
      { type: 'accepted', operation: 'op_0123456789ab', action: 'create', project: 'app', environment: 'e', seq: 0 },
      { type: 'log', source: 'script:setup', stream: 'stdout', data: 'héllo\n', seq: 1 },
      { type: 'log', source: 'script:setup', stream: 'stderr', data: 'warn\n', seq: 2 },
      { type: 'complete', success: false, error: 'e', seq: 3 },
    ];
    const res = await serve(connection, (res) => {
      startEventStream(res, 60_000);
      const channel = new SseChannel('op_0123456789ab', res);
      for (const message of sent) channel.send(message);
      channel.close();
    });
    await finished(res);
    const { chunks } = connection.response();
    expect(chunks).toHaveLength(1);
    expect(events(chunks)).toEqual(sent);
  });
});
