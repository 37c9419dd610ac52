// `piko server` as a separate process on port 0, driven by real WebSocket and HTTP clients.
import { existsSync, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { readOperationLog } from '../../../core/state/operation-log.js';
import { type OperationMessage, type ServerMessage } from '../../../core/protocol/messages.js';
import { expandBatch } from '../../../core/protocol/batch.js';
import { cleanup, gates, initProject, sandbox } from '../../helpers/fixtures.js';
import { connect, exchange, expectAccountedFor, get, request, startServer, stopServers, type RunningServer } from '../../helpers/server.js';

afterEach(async () => {
  await stopServers();
  cleanup();
});

const kinds = (messages: ServerMessage[]) => messages.map((m) => (m.type === 'stage' ? `stage:${m.name}:${m.state}` : m.type));
const complete = (messages: ServerMessage[]) => messages.filter((m) => m.type === 'complete');

/** A raw HTTP request with exactly these headers (fetch will not send a foreign Host). */
function raw(server: RunningServer, path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, server.url);
    const req = httpRequest({ host: url.hostname, port: url.port, path, headers, setHost: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('piko server over WebSocket', () => {
  it("takes the seed's exact request and streams accepted, stages, logs and one complete, then closes", async () => {
    const box = sandbox();
    const repo = await initProject(box, { '.piko.yml': 'scripts:\n  setup: echo hello from setup; echo oops >&2\n' });
    const server = await startServer(box);
    expect(statSync(join(box.home, 'server.json')).mode & 0o777).toBe(0o600);

    const { messages, code } = await request(server, 'create', '{"action": "create", "project": "app", "environment": "feature-xyz", "attach": true}');
    expect(code).toBe(1000);
    expect(messages[0]).toMatchObject({ type: 'accepted', operation: expect.stringMatching(/^op_/), seq: 0 });
    expect(kinds(messages)).toEqual([
      'accepted',
      'stage:git:start', 'log', 'log', 'log', 'stage:git:end',
      'stage:copy:skip', 'stage:ports:skip', 'stage:script:prepare:skip', 'stage:docker:skip',
      'stage:script:setup:start', 'log', 'log', 'stage:script:setup:end',
      'stage:tmux:start', 'log', 'stage:tmux:end',
      'complete',
    ]);
    expect(messages.map((m) => (m as OperationMessage).seq)).toEqual(messages.map((_, i) => i));
    expect(messages.filter((m) => m.type === 'stage' && m.state === 'end').every((m) => m.type === 'stage' && m.state === 'end' && m.durationMs >= 0)).toBe(true);
    expect(messages).toContainEqual(expect.objectContaining({ type: 'log', source: 'script:setup', stream: 'stdout', data: 'hello from setup\n' }));
    expect(messages).toContainEqual(expect.objectContaining({ type: 'log', source: 'script:setup', stream: 'stderr', data: 'oops\n' }));
    expect(complete(messages)).toEqual([
      expect.objectContaining({
        type: 'complete',
        success: true,
        environment: expect.objectContaining({ name: 'feature-xyz', project: 'app', mode: 'simple', status: 'ready', path: join(repo, '.piko', 'worktrees', 'feature-xyz') }),
      }),
    ]);
    expect(messages.at(-1)!.type).toBe('complete');

    const log = await server.waitFor(/create app\/feature-xyz: succeeded/);
    expect(log).toContain('GET /api/environments/create/stream 101 websocket');
    expect(log).toContain('[feature-xyz setup] hello from setup');
    expect(log).toContain('[feature-xyz setup] oops');
  });

  it('sends batches of log lines to a client that asks (?batch=1), standing for exactly the per-line stream', async () => {
    const box = sandbox();
    // awk writes its 2000 lines a few kilobytes at a time (a shell loop would write each line on
    // its own, and a reader as fast as the writer could get them one by one).
    await initProject(box, { '.piko.yml': `scripts:\n  setup: awk 'BEGIN { for (i = 1; i <= 2000; i++) print "line " i }'; printf "partial"; echo err >&2\n` });
    const server = await startServer(box);
    const batched = await exchange(connect(server, '/api/environments/create/stream?batch=1'), { action: 'create', environment: 'batched' });
    const operation = (batched.messages[0] as { operation: string }).operation;
    const plain = await exchange(connect(server, `/api/operations/${operation}/stream`), '');
    const batches = batched.messages.filter((m) => m.type === 'logs');
    expect(batches.length).toBeGreaterThan(0);
    expect(batches.length).toBeLessThan(100);
    const expanded = batched.messages.flatMap((m) => (m.type === 'logs' ? expandBatch(m) : [m]));
    expect(expanded).toEqual(plain.messages);
    expect(plain.messages.filter((m) => m.type === 'log' && m.source === 'script:setup').length).toBe(2002);
  });

  it('delivers a setup line while the script still runs', async () => {
    const box = sandbox();
    // The script goes on to `after` only once this client has received `before` (or gives up).
    const gate = gates();
    await initProject(box, { '.piko.yml': `scripts:\n  setup: echo before; ${gate.wait('gate', 30)}; echo after\n` });
    const server = await startServer(box);
    const { messages } = await request(server, 'create', { action: 'create', environment: 'live' }, {
      onMessage: (m) => {
        if (m.type === 'log' && m.data === 'before\n') gate.open();
      },
    });
    expect(messages.filter((m) => m.type === 'log' && m.source === 'script:setup').map((m) => m.type === 'log' && m.data)).toEqual(['before\n', 'after\n']);
    expect(messages.at(-1)).toMatchObject({ type: 'complete', success: true });
  });

  it('answers /api/health, /api/projects and /api/environments as JSON', async () => {
    const box = sandbox();
    const repo = await initProject(box);
    const server = await startServer(box);
    await request(server, 'create', { action: 'create', environment: 'one' });
    expect(await get(server, '/api/health')).toEqual({ status: 200, body: expect.objectContaining({ ok: true, operations: 0, version: '0.1.0' }) });
    expect(await get(server, '/api/projects')).toEqual({ status: 200, body: [expect.objectContaining({ name: 'app', root: repo })] });
    expect(await get(server, '/api/environments')).toEqual({ status: 200, body: [expect.objectContaining({ name: 'one', status: 'ready' })] });
    expect((await get(server, '/api/nothing')).status).toBe(404);
  });

  it('refuses requests without the token, from a foreign Origin or for a foreign Host, before doing anything', async () => {
    const box = sandbox();
    const repo = await initProject(box);
    const server = await startServer(box);
    const host = new URL(server.url).host;
    expect((await raw(server, '/api/health', { host })).status).toBe(401);
    expect((await raw(server, '/api/health', { host, authorization: 'Bearer wrong' })).status).toBe(401);
    const withToken = { host, authorization: `Bearer ${server.token}` };
    expect((await raw(server, '/api/health', withToken)).status).toBe(200);
    expect((await raw(server, '/api/health', { ...withToken, origin: 'https://evil.example' })).status).toBe(403);
    expect((await raw(server, '/api/health', { ...withToken, host: `evil.example:${new URL(server.url).port}` })).status).toBe(403);

    // The same for WebSocket upgrades: the create never starts.
    const refusals = await Promise.all(
      ([
        { authorization: '' },
        { authorization: 'Bearer wrong' },
        { origin: 'https://evil.example' },
        { host: 'rebound.example' },
      ] as Record<string, string>[]).map(
        (headers) =>
          new Promise<number>((resolve) => {
            const socket = connect(server, '/api/environments/create/stream', { headers });
            socket.on('unexpected-response', (_req, res) => resolve(res.statusCode!));
            socket.on('open', () => resolve(101));
            socket.on('error', () => undefined);
          }),
      ),
    );
    expect(refusals).toEqual([401, 401, 403, 403]);
    expect(existsSync(join(repo, '.piko', 'worktrees'))).toBe(false);
    await server.waitFor(/GET \/api\/environments\/create\/stream 403 websocket[^]*GET \/api\/environments\/create\/stream 403 websocket/);
  });

  it.each([
    ['malformed JSON', '{"action": "create", ', /request is not valid JSON/],
    ['an unknown action', { action: 'explode', environment: 'x' }, /unknown action "explode"/],
    ['no environment', { action: 'create' }, /bad request: environment: required string/],
    ['an unsafe name', { action: 'create', environment: '../../etc' }, /environment name "..\/..\/etc" is not allowed/],
    ['a name git rejects', { action: 'create', environment: 'x..y' }, /environment name "x..y" is not allowed/],
    ['an unknown project', { action: 'create', project: 'ghost', environment: 'x' }, /no project named "ghost" is registered \(projects: app\)/],
    ['an operation on an environment that does not exist', { action: 'up', environment: 'x' }, /no environment "x" in project "app"/],
  ])('answers %s with one failed complete, creates nothing, and keeps serving', async (_what, body, error) => {
    const box = sandbox();
    const repo = await initProject(box);
    const server = await startServer(box);
    const action = typeof body === 'object' && body.action === 'up' ? 'up' : 'create';
    const { messages } = await request(server, action, body);
    expect(messages).toEqual([expect.objectContaining({ type: 'complete', success: false, error: expect.stringMatching(error) })]);
    expect(existsSync(join(repo, '.piko', 'worktrees'))).toBe(false);
    expect((await get(server, '/api/health')).status).toBe(200);
    expect((await get(server, '/api/environments')).body).toEqual([]);
  });

  it('finishes the operation when the client vanishes mid-way, and says so in its log', async () => {
    const box = sandbox();
    // The script finishes only after the server has noticed the client is gone.
    const gate = gates();
    await initProject(box, { '.piko.yml': `scripts:\n  setup: echo working; ${gate.wait()}; echo done\n` });
    const server = await startServer(box);
    const socket = connect(server, '/api/environments/create/stream');
    await exchange(socket, { action: 'create', environment: 'orphan' }, {
      onMessage: (m, s) => {
        if (m.type === 'log' && m.data === 'working\n') s.terminate();
      },
    });
    await server.waitFor(/op_\w+: a client disconnected; the operation goes on/);
    gate.open();
    const log = await server.waitFor(/create app\/orphan: succeeded/);
    expect(log).toContain('[orphan setup] done');
    expect((await get(server, '/api/environments')).body).toEqual([expect.objectContaining({ name: 'orphan', status: 'ready' })]);
  });

  it('runs operations concurrently; of two creates of one name exactly one wins', async () => {
    const box = sandbox();
    // Each setup says it has started, then waits until both have: run one after the other,
    // the first would wait in vain (and give up, failing its create).
    const marks = gates();
    await initProject(box, { '.piko.yml': `scripts:\n  setup: ${marks.opener('$PIKO_ENV_NAME')}; ${marks.wait(['same', 'other'], 30)}\n` });
    const server = await startServer(box);
    const [a, b, other] = await Promise.all([
      request(server, 'create', { action: 'create', environment: 'same' }),
      request(server, 'create', { action: 'create', environment: 'same' }),
      request(server, 'create', { action: 'create', environment: 'other' }),
    ]);
    const outcomes = [a, b].map((r) => complete(r.messages)[0]);
    expect(outcomes.filter((c) => c?.type === 'complete' && c.success)).toHaveLength(1);
    expect(outcomes.find((c) => c?.type === 'complete' && !c.success)).toMatchObject({ error: expect.stringContaining('environment "same" already exists') });
    expect(complete(other.messages)[0]).toMatchObject({ success: true });
    expect(((await get(server, '/api/environments')).body as { name: string }[]).map((e) => e.name).sort()).toEqual(['other', 'same']);
  });
});

describe('keep-alive and slow clients', () => {
  it('keeps a quiet operation\'s connection through several pings, and drops a peer that stops answering', async () => {
    const box = sandbox();
    // Each setup is silent until the test opens its gate (named after the environment).
    const gate = gates();
    await initProject(box, { '.piko.yml': `scripts:\n  setup: ${gate.wait('$PIKO_ENV_NAME', 30)}; echo finally\n` });
    const server = await startServer(box, { PIKO_PING_INTERVAL_MS: '150' });
    // Pings while the setup is silent: the server terminates a client that missed answering the
    // previous one, so a third ping means the quiet connection was kept through two checks.
    let quietPings = 0;
    let silent = false;
    const quiet = connect(server, '/api/environments/create/stream');
    quiet.on('ping', () => {
      if (silent && ++quietPings === 3) gate.open('quiet');
    });
    const received = await exchange(quiet, { action: 'create', environment: 'quiet' }, {
      onMessage: (m) => {
        if (m.type === 'stage' && m.name === 'script:setup' && m.state === 'start') silent = true;
      },
    });
    expect(quietPings).toBeGreaterThanOrEqual(3);
    expect(received.code).toBe(1000);
    expect(received.messages).toContainEqual(expect.objectContaining({ type: 'log', source: 'script:setup', data: 'finally\n' }));
    expect(complete(received.messages)[0]).toMatchObject({ success: true });

    // A peer that reads nothing never answers a ping: the server hangs up on it, the create goes on.
    let accepted: (operation: string) => void;
    const operation = new Promise<string>((resolve) => (accepted = resolve));
    const dead = connect(server, '/api/environments/create/stream');
    void exchange(dead, { action: 'create', environment: 'deadpeer' }, {
      onMessage: (m, s) => {
        if (m.type === 'accepted') {
          s.pause();
          accepted(m.operation);
        }
      },
    });
    await server.waitFor(new RegExp(`${await operation}: a client disconnected; the operation goes on`));
    gate.open('deadpeer');
    await server.waitFor(/create app\/deadpeer: succeeded/);
    dead.terminate();
  });

  it('never lets a client that stops reading hold up the operation, and tells it what it missed', async () => {
    const box = sandbox();
    // About 36 MB of output (60 MB as messages), as fast as the machine makes it: several times
    // what the server queues for one client (8 MiB) and the sockets' buffers hold for a client
    // that reads nothing. (How much memory the server needs meanwhile: bench/, "memory".)
    const line = 'x'.repeat(90);
    await initProject(box, { '.piko.yml': `scripts:\n  setup: yes ${line} | head -n 400000; echo last line\n` });
    const server = await startServer(box);
    const socket = connect(server, '/api/environments/create/stream');
    const closed = exchange(socket, { action: 'create', environment: 'flood' }, {
      onMessage: (m, s) => {
        if (m.type === 'accepted') s.pause();
      },
    });
    // The operation ends while its only client still reads nothing.
    await server.waitFor(/create app\/flood: succeeded/, 60_000);
    socket.resume();
    const { messages: all } = await closed;
    const operation = (all[0] as { operation: string }).operation;
    const dropped = all.filter((m) => m.type === 'dropped');
    expect(dropped).toEqual([{ type: 'dropped', operation, count: expect.any(Number) }]);
    // Every message the operation logged reached the client in order, exactly as logged, or
    // was a log line counted as dropped; the stage messages and the complete were never dropped.
    const logged = readOperationLog(join(box.home, 'logs', `${operation}.ndjson`));
    expect(expectAccountedFor(all, logged)).toBeGreaterThan(0);
    expect(logged.filter((m) => m.type === 'log' && m.source === 'script:setup')).toHaveLength(400_001);
    expect(all.at(-1)).toMatchObject({ type: 'complete', success: true });
  });
});

describe('binding', () => {
  it('warns when told to listen beyond this machine', async () => {
    const box = sandbox();
    const child = box.spawn(['server', '--port', '0', '--host', '0.0.0.0'], box.home);
    const warned = await new Promise<string>((resolve) => {
      let seen = '';
      child.stderr!.on('data', (d: Buffer) => {
        seen += d.toString();
        if (seen.includes('warning')) resolve(seen);
      });
    });
    child.kill('SIGTERM');
    await child;
    expect(warned).toContain('[piko] warning: listening on 0.0.0.0, not just this machine');
  });
});
