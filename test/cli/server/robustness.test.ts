// Requests a server must survive, clients that must not run an operation twice, and replays
// that must not drop what a slow client has not read yet.
import { writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { createParser } from 'eventsource-parser';
import { findServer } from '../../../cli/remote/discovery.js';
import { processStart, sameProcess } from '../../../core/system/process.js';
import type { ServerMessage } from '../../../core/protocol/messages.js';
import { lineCount } from '../../../core/protocol/batch.js';
import { operationLogPath } from '../../../core/paths.js';
import { readOperationLog } from '../../../core/state/operation-log.js';
import { cleanup, eventually, initProject, isRunning, sandbox, tempDir, waitForFile } from '../../helpers/fixtures.js';
import { get, request, startServer, stopServers, type RunningServer } from '../../helpers/server.js';
import { tcpQueues } from '../../helpers/wire.js';

const listeners: ReturnType<typeof createServer>[] = [];

afterEach(async () => {
  for (const listener of listeners.splice(0)) listener.close();
  await stopServers();
  cleanup();
});

/** Sends `path` as the request target, byte for byte, and returns the status line's code. */
function rawRequest(server: RunningServer, path: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const url = new URL(server.url);
    const socket = connect(Number(url.port), url.hostname, () => {
      const lines = [`GET ${path} HTTP/1.1`, `Host: ${url.host}`, `Authorization: Bearer ${server.token}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    });
    let data = '';
    socket.on('data', (chunk: Buffer) => {
      data += chunk.toString();
      const status = /^HTTP\/1\.1 (\d+)/.exec(data);
      if (status) {
        socket.destroy();
        resolve(Number(status[1]));
      }
    });
    socket.on('error', reject);
  });
}

describe('the server survives', () => {
  it('request targets no URL parser takes, and stays up', async () => {
    const box = sandbox();
    await initProject(box);
    const server = await startServer(box);
    // Read as paths (not as URLs with a host), they are simply paths the server does not serve.
    expect(await rawRequest(server, '//%%/api')).toBe(404);
    expect(await rawRequest(server, '//[/')).toBe(404);
    expect(await rawRequest(server, '//[/', { Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' })).toBe(404);
    expect((await get(server, '/api/health')).status).toBe(200);
  });

  it('a refusal whose reason is long and not ASCII, and stays up', async () => {
    const box = sandbox();
    await initProject(box);
    const server = await startServer(box);
    const { messages } = await request(server, 'create', { action: 'create', environment: 'é'.repeat(100) });
    expect(messages).toEqual([expect.objectContaining({ type: 'complete', success: false, error: expect.stringContaining('is not allowed') })]);
    expect((await get(server, '/api/health')).status).toBe(200);
  });

  it('an SSE request body over 64 KiB gets its failed complete', async () => {
    const box = sandbox();
    await initProject(box);
    const server = await startServer(box);
    const response = await fetch(new URL('/api/environments/create/events', server.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${server.token}` },
      body: JSON.stringify({ action: 'create', environment: 'x', padding: 'p'.repeat(100_000) }),
    });
    expect(await response.text()).toContain('the request body is larger than 65536 bytes');
  });

  it('an Origin on another port of the same host is foreign', async () => {
    const box = sandbox();
    await initProject(box);
    const server = await startServer(box);
    const port = Number(new URL(server.url).port);
    expect(await rawRequest(server, '/api/health', { Origin: `http://127.0.0.1:${port === 3000 ? 3001 : 3000}` })).toBe(403);
    expect(await rawRequest(server, '/api/health', { Origin: `http://localhost:${port}` })).toBe(200);
  });

  it('a second SIGINT stops it at once, and takes the running commands with it', async () => {
    const box = sandbox();
    const repo = await initProject(box, { '.piko.yml': 'scripts:\n  setup: echo $$ > ../setup.pid; echo started; sleep 30\n' });
    const server = await startServer(box);
    void request(server, 'create', { action: 'create', environment: 'abandoned' });
    await server.waitFor(/\[abandoned setup\] started/);
    const pid = Number(await waitForFile(join(repo, '.piko', 'worktrees', 'setup.pid')));
    // Its start time, so that another process given the same pid later is not taken for it.
    const start = processStart(pid);
    expect(start).toBeDefined();
    server.child.kill('SIGINT');
    await server.waitFor(/shutting down/);
    server.child.kill('SIGINT');
    await server.stop();
    await eventually('the setup script to be gone with the server', () => !sameProcess(pid, start) || !isRunning(pid));
  });
});

describe('replaying to a slow reader', () => {
  it('sends a long log at the reader\'s pace, dropping nothing, while the server keeps answering', async () => {
    const box = sandbox();
    await initProject(box, { '.piko.yml': `scripts:\n  setup: yes ${'z'.repeat(90)} | head -n 200000\n` });
    const server = await startServer(box);
    const first = await request(server, 'create', { action: 'create', environment: 'long' });
    const operation = (first.messages[0] as { operation: string }).operation;

    const url = new URL(`/api/operations/${operation}/events`, server.url);
    const events: ServerMessage[] = [];
    const parser = createParser({ onEvent: (e) => events.push(JSON.parse(e.data) as ServerMessage) });
    let healthChecked = false;
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, headers: { authorization: `Bearer ${server.token}` } }, (res) => {
        res.setEncoding('utf8');
        res.pause();
        // Stalled until the connection is full both ways: unread bytes wait at this end, and the
        // server has written more that cannot go yet. A replay must wait for it rather than drop lines.
        const [mine, theirs] = [res.socket.localPort!, Number(url.port)];
        eventually('the replay to fill the connection to the stalled reader', () => {
          const [here, there] = [tcpQueues(mine, theirs), tcpQueues(theirs, mine)];
          return here !== undefined && there !== undefined && here.rx > 0 && there.tx > 0;
        })
          .then(() => get(server, '/api/health'))
          .then((health) => {
            healthChecked = health.status === 200;
            res.on('data', (chunk: string) => parser.feed(chunk));
            res.on('end', resolve);
            res.resume();
          }, reject);
      });
      req.on('error', reject);
      req.end();
    });
    expect(healthChecked).toBe(true);
    expect(events.filter((m) => m.type === 'dropped')).toEqual([]);
    // Every message the operation logged, one per line: the live client that started it may itself
    // have been told of lines dropped on a busy machine, the replay never.
    const logged = readOperationLog(operationLogPath(box.home, operation)).reduce((sum, m) => sum + Math.max(1, lineCount(m)), 0);
    expect(events).toHaveLength(logged);
    expect(events.at(-1)).toMatchObject({ type: 'complete', success: true });
  });

  it('?since and Last-Event-ID together replay after the later one', async () => {
    const box = sandbox();
    await initProject(box, { '.piko.yml': 'scripts:\n  setup: echo a; echo b; echo c\n' });
    const server = await startServer(box);
    const first = await request(server, 'create', { action: 'create', environment: 'both' });
    const operation = (first.messages[0] as { operation: string }).operation;
    const response = await fetch(new URL(`/api/operations/${operation}/events?since=2`, server.url), {
      headers: { authorization: `Bearer ${server.token}`, 'last-event-id': '6' },
    });
    const ids = [...(await response.text()).matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(ids[0]).toBe(7);
  });
});

describe('a client that cannot tell whether its request arrived', () => {
  /** A listener that accepts connections and never says a word; `asked` resolves once a whole request head came in. */
  async function silent(): Promise<{ url: string; asked: Promise<string> }> {
    const sockets: Socket[] = [];
    let heard: (head: string) => void;
    const asked = new Promise<string>((resolve) => (heard = resolve));
    const listener = createServer((socket) => {
      sockets.push(socket);
      let head = '';
      socket.on('data', (chunk: Buffer) => {
        head += chunk.toString();
        if (head.includes('\r\n\r\n')) heard(head);
      });
    });
    listener.on('close', () => sockets.forEach((s) => s.destroy()));
    listeners.push(listener);
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(listener.address() as { port: number }).port}`, asked };
  }

  it.each(['websocket', 'sse'])('Ctrl-C while connecting over %s stops, and runs nothing here', async (transport) => {
    const box = sandbox();
    const repo = await initProject(box, { '.piko.yml': 'scripts:\n  setup: echo ran here\n' });
    const { url, asked } = await silent();
    const child = box.spawn(['create', 'unsure', '--transport', transport], repo, { PIKO_SERVER_URL: url, PIKO_TOKEN: 't' });
    // The request went out, and no answer will come.
    expect(await asked).toMatch(/^(GET|POST) \/api\/environments\/create\/(stream|events)\S* HTTP\/1\.1\r\n/);
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode).toBe(130);
    expect(String(result.stderr)).toContain(`stopped before the server at ${url} answered`);
    expect(String(result.stdout)).not.toContain('ran here');
    expect(JSON.parse((await box.piko(['list', '--json'], repo)).stdout)).toEqual([]);
  });
});

describe('who a client trusts', () => {
  it('sends server.json\'s token only to server.json\'s server', () => {
    const home = tempDir();
    writeFileSync(join(home, 'server.json'), JSON.stringify({ url: 'http://127.0.0.1:19876', token: 'secret', pid: process.pid, startedAt: '' }));
    expect(findServer(home, {}, {})).toEqual({ url: 'http://127.0.0.1:19876', token: 'secret' });
    expect(findServer(home, { server: { url: 'http://evil.example:19876' } }, {})).toEqual({ url: 'http://evil.example:19876', token: '' });
    expect(findServer(home, { server: { url: 'http://127.0.0.1:19876/' } }, {})).toEqual({ url: 'http://127.0.0.1:19876/', token: 'secret' });
    expect(findServer(home, {}, { PIKO_SERVER_URL: 'http://other:1', PIKO_TOKEN: 'mine' })).toEqual({ url: 'http://other:1', token: 'mine' });
  });

  it('tells a live process from another one that got its pid', () => {
    const start = processStart(process.pid);
    expect(start).toMatch(/^\d+$/);
    expect(sameProcess(process.pid, start)).toBe(true);
    expect(sameProcess(process.pid, `${start}1`)).toBe(false);
    expect(sameProcess(2 ** 22 + 3, undefined)).toBe(false);
  });
});
