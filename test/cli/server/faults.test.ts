// Faults outside the server's control (a log folder it cannot write, a state database removed
// under it, a reader of its output that went away) and clients that would hold it (slow
// headers, too many connections): each fails what it touches, and the server serves on.
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { cleanup, git, initProject, sandbox } from '../../helpers/fixtures.js';
import { get, request, startServer, stopServers, type RunningServer } from '../../helpers/server.js';

const sockets: Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await stopServers();
  cleanup();
});

/** A raw TCP connection to the server that has sent `text`; resolves once it is connected. */
function openConnection(server: RunningServer, text = ''): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    let data = '';
    const socket = connect(Number(url.port), url.hostname, () => {
      socket.write(text);
      resolve({ socket, received: () => data, closed });
    });
    sockets.push(socket);
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    socket.on('data', (chunk: Buffer) => (data += chunk.toString()));
    socket.on('error', reject);
  });
}

describe('a log the server cannot write', () => {
  it('fails that operation with the path and the cause, rolls it back, and the server serves on', async () => {
    const box = sandbox();
    const repo = await initProject(box, { '.piko.yml': 'scripts:\n  setup: echo setting up\n' });
    const server = await startServer(box);
    // A file where the logs folder goes: no operation log can be made.
    writeFileSync(join(box.home, 'logs'), '');
    const { messages } = await request(server, 'create', { action: 'create', environment: 'unlogged' });
    const complete = messages.at(-1);
    expect(complete).toMatchObject({ type: 'complete', success: false, code: 'PIKO_ERR_LOG_UNWRITABLE', error: expect.stringContaining(join(box.home, 'logs')) });
    expect(messages).toContainEqual(expect.objectContaining({ type: 'log', source: 'piko', data: expect.stringContaining('cannot be written') }));
    expect(existsSync(join(repo, '.piko', 'worktrees', 'unlogged'))).toBe(false);
    expect(git(repo, 'branch', '--list', 'unlogged')).toBe('');
    // Once the folder is back, the next create works on the same server.
    rmSync(join(box.home, 'logs'));
    const next = await request(server, 'create', { action: 'create', environment: 'logged' });
    expect(next.messages.at(-1)).toMatchObject({ type: 'complete', success: true });
    expect((await get(server, '/api/environments')).body).toEqual([expect.objectContaining({ name: 'logged', status: 'ready' })]);
  });
});

describe('a state database removed while the server runs', () => {
  it('stops the server taking operations, and health says why', async () => {
    const box = sandbox();
    const repo = await initProject(box);
    const server = await startServer(box);
    expect((await get(server, '/api/health')).status).toBe(200);
    for (const suffix of ['', '-wal', '-shm']) rmSync(join(box.home, `state.db${suffix}`), { force: true });
    const health = await get(server, '/api/health');
    expect(health).toEqual({ status: 503, body: { ok: false, error: expect.stringContaining(`the state database ${join(box.home, 'state.db')} was removed`) } });
    expect((health.body as { error: string }).error).toContain('stop it and start it again');
    const refused = await request(server, 'create', { action: 'create', environment: 'diverged' }).catch((err: Error) => err);
    expect(String(refused)).toContain('503');
    expect(existsSync(join(repo, '.piko', 'worktrees', 'diverged'))).toBe(false);
  });
});

describe('the server stays up', () => {
  it('when the reader of its output goes away', async () => {
    const box = sandbox();
    await initProject(box);
    const server = await startServer(box);
    server.child.stdout!.destroy();
    // Each request writes an access line to the closed pipe.
    for (let i = 0; i < 5; i++) expect((await get(server, '/api/health')).status).toBe(200);
    await server.stop();
    expect(server.child.exitCode).toBe(0);
  });

  it('drops a client that is slow to send its headers', async () => {
    const box = sandbox();
    await initProject(box);
    const server = await startServer(box, { PIKO_HEADERS_TIMEOUT_MS: '300' });
    const slow = await openConnection(server, `GET /api/health HTTP/1.1\r\nHost: ${new URL(server.url).host}\r\n`);
    await slow.closed;
    expect(slow.received()).toMatch(/^HTTP\/1\.1 408/);
  });
});
