// The CLI picks its transport, shows the same output through each, survives a dropped
// connection, and can print, follow and cancel operations.
import { existsSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { cleanup, gates, initProject, normalizeOutput, sandbox, waitForOutput } from '../helpers/fixtures.js';
import { startServer, stopServers } from '../helpers/server.js';

const proxies: Server[] = [];

afterEach(async () => {
  for (const proxy of proxies.splice(0)) proxy.close();
  await stopServers();
  cleanup();
});

// git prints `Preparing worktree` on stderr and `HEAD is now at` on stdout: which comes first
// depends on which pipe is read first, so its lines are compared in sorted order.
const normalized = (text: string) => {
  const lines = normalizeOutput(text).split('\n');
  return [...lines.filter((l) => l.startsWith('[git] ')).sort(), ...lines.filter((l) => !l.startsWith('[git] '))];
};

describe('choosing a transport', () => {
  it('shows the same lines through websocket, sse and stdout, and the server log says which carried each', async () => {
    const box = sandbox();
    // Each line comes only once the client has shown the one before: stdout and stderr are
    // separate pipes, and lines of the two only keep their order when they do not come together.
    const gate = gates();
    const repo = await initProject(box, {
      '.piko.yml': `scripts:\n  prepare: echo preparing\n  setup: echo one; ${gate.wait('one')}; echo two >&2; ${gate.wait('two')}; printf "no newline"\n` +
        'environments:\n  "ci-*": {transport: sse}\n',
    });
    const server = await startServer(box);
    const runs: Record<string, string[]> = {};
    for (const transport of ['websocket', 'sse', 'stdout']) {
      gate.close('one');
      gate.close('two');
      const child = box.spawn(['create', 'same', '--transport', transport], repo);
      await waitForOutput(child.stdout!, /\[setup\] one\n/);
      gate.open('one');
      await waitForOutput(child.stdout!, /\[setup\] two\n/);
      gate.open('two');
      const result = await child;
      expect(result.exitCode).toBe(0);
      runs[transport] = normalized(String(result.stdout));
      expect((await box.piko(['destroy', 'same', '--force', '--transport', 'stdout'], repo)).exitCode).toBe(0);
    }
    expect(runs.sse).toEqual(runs.websocket);
    expect(runs.stdout).toEqual(runs.websocket);
    expect(runs.websocket).toContain('[setup] no newline');
    const log = server.output();
    expect(log).toMatch(/GET \/api\/environments\/create\/stream 101 websocket/);
    expect(log).toMatch(/POST \/api\/environments\/create\/events 200 sse/);
    expect(log.match(/create app\/same: started/g)).toHaveLength(2);

    // An environment matching `ci-*` goes over SSE by config; PIKO_TRANSPORT beats that. (The gates stay open.)
    expect((await box.piko(['create', 'ci-7'], repo)).exitCode).toBe(0);
    expect(await server.waitFor(/POST \/api\/environments\/create\/events 200 sse[^]*create app\/ci-7: succeeded/)).toBeTruthy();
    expect((await box.piko(['create', 'ci-8'], repo, { PIKO_TRANSPORT: 'websocket' })).exitCode).toBe(0);
    const lines = server.output().split('\n');
    const started = lines.findIndex((l) => l.includes('create app/ci-8: started'));
    expect(lines[started - 1]).toMatch(/GET \/api\/environments\/create\/stream 101 websocket/);

    // A transport nobody offers is refused before anything runs.
    const unknown = await box.piko(['create', 'nowhere'], repo, { PIKO_TRANSPORT: 'pigeon' });
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toContain('PIKO_TRANSPORT: no transport named "pigeon"; transports: websocket, sse, stdout');
    expect(unknown.stderr).toContain('Name one of those (a plugin may add more).');
    expect(existsSync(join(repo, '.piko', 'worktrees', 'nowhere'))).toBe(false);
  });
});

/** A TCP proxy in front of the server whose connections a test can cut, as a network blip would. */
async function proxy(target: string): Promise<{ url: string; cut(): void; cuts: number }> {
  const { port, hostname } = new URL(target);
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(port), hostname);
    client.pipe(upstream).pipe(client);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
  });
  proxies.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const state = {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    cuts: 0,
    cut() {
      state.cuts++;
      for (const s of sockets) s.destroy();
    },
  };
  return state;
}

describe('a dropped connection', () => {
  it.each(['websocket', 'sse'])('over %s, re-attaches from the last seq it saw: every line once, in order', async (transport) => {
    const box = sandbox();
    // Lines 1-10, then 11-20 once the first cut is made, then 21-30 once the second is: the
    // client gets what came after each cut only by re-attaching.
    const gate = gates();
    const lines = (from: number, to: number) => `for i in $(seq ${from} ${to}); do echo "line $i"; done`;
    const repo = await initProject(box, {
      '.piko.yml': `scripts:\n  setup: ${lines(1, 10)}; ${gate.wait('first')}; ${lines(11, 20)}; ${gate.wait('second')}; ${lines(21, 30)}\n`,
    });
    const server = await startServer(box);
    const blip = await proxy(server.url);
    const child = box.spawn(['create', 'blip', '--transport', transport], repo, { PIKO_SERVER_URL: blip.url, PIKO_TOKEN: server.token });
    await waitForOutput(child.stdout!, /\[setup\] line 10\n/);
    blip.cut();
    gate.open('first');
    await waitForOutput(child.stdout!, /\[setup\] line 20\n/);
    blip.cut();
    gate.open('second');
    const result = await child;
    expect(result.exitCode).toBe(0);
    const setup = String(result.stdout).split('\n').filter((l) => l.startsWith('[setup]'));
    expect(setup).toEqual(Array.from({ length: 30 }, (_, i) => `[setup] line ${i + 1}`));
    expect(blip.cuts).toBe(2);
    // Once after each cut.
    const reattach = `/api/operations/op_\\w+/${transport === 'sse' ? 'events' : 'stream'}`;
    await server.waitFor(new RegExp(`${reattach}[^]*${reattach}`));
  });
});

describe('piko logs and piko cancel', () => {
  it('prints an environment\'s latest operation from $PIKO_HOME/logs, by name or id, and follows a running one', async () => {
    const box = sandbox();
    const repo = await initProject(box, { '.piko.yml': 'scripts:\n  setup: echo one; echo two >&2\n' });
    const created = await box.piko(['create', 'logged', '--transport', 'stdout'], repo);
    const byName = await box.piko(['logs', 'logged'], repo);
    expect(byName.exitCode).toBe(0);
    expect(normalized(byName.stdout)).toEqual(normalized(created.stdout));
    const operation = /op_[0-9a-f]{12}/.exec((await box.piko(['logs', 'logged', '--json'], repo)).stdout)![0];
    expect((await box.piko(['logs', operation], repo)).stdout).toBe(byName.stdout);

    // -f on a local run in another process: it streams until that run ends. The run goes on
    // past `first` only once the follower has shown it.
    const gate = gates();
    await initProject(box, { '.piko.yml': `scripts:\n  setup: echo first; ${gate.wait()}; echo last\n` }, 'other');
    const runner = box.spawn(['create', 'other/tail', '--transport', 'stdout'], repo);
    await waitForOutput(runner.stdout!, /\[setup\] first/);
    const follower = box.spawn(['logs', '-f', 'other/tail'], repo);
    await waitForOutput(follower.stdout!, /\[setup\] first/);
    gate.open();
    const followed = await follower;
    expect(followed.exitCode).toBe(0);
    expect(String(followed.stdout)).toContain('[setup] last');
    expect(String(followed.stdout)).toMatch(/✓ tail ready/);
    expect((await runner).exitCode).toBe(0);
  });

  it('follows an operation running on the server, and cancels it from another terminal', async () => {
    const box = sandbox();
    // A setup that would run until the test is over (its gate is never opened), unless cancelled.
    const repo = await initProject(box, { '.piko.yml': `scripts:\n  setup: echo started; ${gates().wait()}\n` });
    const server = await startServer(box);
    const creator = box.spawn(['create', 'victim'], repo);
    await waitForOutput(creator.stdout!, /\[setup\] started/);
    const follower = box.spawn(['logs', '-f', 'victim'], repo);
    await waitForOutput(follower.stdout!, /\[setup\] started/);

    const cancelled = await box.piko(['cancel', 'victim'], repo);
    expect(cancelled.exitCode).toBe(0);
    expect(cancelled.stdout).toMatch(/cancelling op_\w+ \(create app\/victim\) on the server/);
    const [created, followed] = await Promise.all([creator, follower]);
    expect(created.exitCode).toBe(1);
    expect(String(created.stderr)).toMatch(/cancelled by piko cancel \(\w+@/);
    expect(followed.exitCode).toBe(1);
    expect(String(followed.stdout)).toContain('[piko] rolling back git');
    expect(server.output()).toMatch(/GET \/api\/operations\/op_\w+\/stream 101 websocket/);
    expect(existsSync(join(repo, '.piko', 'worktrees', 'victim'))).toBe(false);

    const again = await box.piko(['cancel', 'victim'], repo);
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toMatch(/is not running: it failed/);
    expect(again.stderr).toContain('Nothing to cancel: `piko logs app/victim` shows how it ended.');
  });

  it('cancels a local run from another terminal', async () => {
    const box = sandbox();
    const repo = await initProject(box, { '.piko.yml': `scripts:\n  setup: echo started; ${gates().wait()}\n` });
    const runner = box.spawn(['create', 'local-victim', '--transport', 'stdout'], repo);
    await waitForOutput(runner.stdout!, /\[setup\] started/);
    const cancelled = await box.piko(['cancel', 'local-victim'], repo);
    expect(cancelled.stdout).toMatch(/in the piko process running it \(pid \d+\)/);
    const result = await runner;
    expect(result.exitCode).toBe(130);
    expect(String(result.stderr)).toContain('cancelled by piko cancel');
    expect(existsSync(join(repo, '.piko', 'worktrees', 'local-victim'))).toBe(false);
  });
});
