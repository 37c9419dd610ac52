// The real CLI against a real server: it streams through it when one answers, falls back to
// running locally only when none does, and never runs an accepted operation twice.
import { existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { cleanup, gates, initProject, normalizeOutput, printedPort, sandbox, waitForOutput } from '../../helpers/fixtures.js';
import { startServer, stopServers } from '../../helpers/server.js';

afterEach(async () => {
  await stopServers();
  cleanup();
});

// Two creates of one name may get different host ports (something may take the first one in
// between): each is checked on its own, and masked where the two are compared.
const normalized = (text: string) => normalizeOutput(text).replace(/localhost:\d+/g, 'localhost:<port>');

describe('piko create with a server running', () => {
  it('streams through the server, line for line as a local run prints it', async () => {
    const box = sandbox();
    // `three` (stdout) comes only once the client has shown `two` (stderr): one stream's line
    // after the other's, whatever order the two pipes are read in.
    const gate = gates();
    const repo = await initProject(box, {
      '.piko.yml': `scripts:\n  prepare: echo preparing\n  setup: echo one; echo two >&2; ${gate.wait()}; echo three\n`,
      'docker-compose.yml': 'services:\n  web:\n    image: nginx\n    ports: ["80"]\n',
    });
    const server = await startServer(box);
    const creating = box.spawn(['create', 'same'], repo);
    await waitForOutput(creating.stdout!, /\[setup\] two\n/);
    gate.open();
    const created = await creating;
    const remote = { stdout: String(created.stdout), exitCode: created.exitCode };
    expect(remote.exitCode).toBe(0);
    await server.waitFor(/create app\/same: succeeded/);
    expect(server.output()).toContain('[same setup] three');
    expect((await box.piko(['destroy', 'same', '--force'], repo)).exitCode).toBe(0);

    const local = await box.piko(['create', 'same', '--transport', 'stdout'], repo);
    expect(local.exitCode).toBe(0);
    expect(server.output().match(/create app\/same: started/g)).toHaveLength(1);
    // stdout and stderr are separate pipes, so lines of one script may swap across them; the
    // sets of lines and the order of each stream's lines are the same.
    const lines = (t: string) => normalized(t).split('\n');
    expect(lines(remote.stdout).sort()).toEqual(lines(local.stdout).sort());
    expect(lines(remote.stdout).filter((l) => l.startsWith('[setup] t'))).toEqual(['[setup] two', '[setup] three']);
    expect(lines(remote.stdout).slice(-2)).toEqual(['✓ same ready (docker, running) in <time>', '  ports: web 80 → localhost:<port>']);
    expect(remote.stdout).toContain(`  ports: web 80 → localhost:${printedPort(remote.stdout, 'web:80')}`);
  });

  it('shows a setup line while the script on the server still runs', async () => {
    const box = sandbox();
    // The script goes on to `after` only once the test has seen `before` on the client.
    const gate = gates();
    const repo = await initProject(box, { '.piko.yml': `scripts:\n  setup: echo before; ${gate.wait()}; echo after\n` });
    const server = await startServer(box);
    const child = box.spawn(['create', 'live'], repo);
    const seen = await waitForOutput(child.stdout!, /\[setup\] before\n/);
    expect(seen).not.toContain('after');
    expect(child.exitCode).toBeNull();
    gate.open();
    const result = await child;
    expect(result.exitCode).toBe(0);
    expect(String(result.stdout)).toContain('[setup] after');
    expect(server.output()).toContain('create app/live: started');
  });

  it('runs locally when there is no server.json, a stale one, or nobody listening', async () => {
    const box = sandbox();
    const repo = await initProject(box, { '.piko.yml': 'scripts:\n  setup: echo "ran in $PPID"\n' });

    expect((await box.piko(['create', 'none'], repo)).stdout).toMatch(/✓ none ready/);

    // A server.json left by a server that died.
    writeFileSync(join(box.home, 'server.json'), JSON.stringify({ url: 'http://127.0.0.1:1', token: 't', pid: 2 ** 22 + 77, startedAt: '' }));
    expect((await box.piko(['create', 'stale'], repo)).stdout).toMatch(/✓ stale ready/);

    // An address where nothing listens.
    const closed = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const refused = await box.piko(['create', 'refused'], repo, { PIKO_SERVER_URL: `http://127.0.0.1:${closed}`, PIKO_TOKEN: 'x' });
    expect(refused.exitCode).toBe(0);
    expect(refused.stdout).toMatch(/✓ refused ready/);
  });

  it('reports a server that refuses it instead of running locally', async () => {
    const box = sandbox();
    const repo = await initProject(box, { '.piko.yml': 'scripts:\n  setup: echo ran\n' });
    const server = await startServer(box);
    const result = await box.piko(['create', 'nope'], repo, { PIKO_SERVER_URL: server.url, PIKO_TOKEN: 'wrong' });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`the server at ${server.url} refused the request (401 Unauthorized: missing or wrong token`);
    expect(result.stdout).not.toContain('[setup] ran');
    expect(existsSync(join(repo, '.piko', 'worktrees', 'nope'))).toBe(false);
  });

  it('when the server dies mid-way: says so with the operation id, exits non-zero, never reruns it here; the next server marks it failed', async () => {
    const box = sandbox();
    // A setup that runs until the test is over (its gate is never opened).
    const repo = await initProject(box, { '.piko.yml': `scripts:\n  setup: echo started; ${gates().wait()}\n` });
    const server = await startServer(box);
    const child = box.spawn(['create', 'orphan'], repo);
    await waitForOutput(child.stdout!, /\[setup\] started/);
    await server.stop('SIGKILL');
    const result = await child;
    expect(result.exitCode).toBe(1);
    expect(String(result.stderr)).toMatch(/lost the connection to the piko server at http:\/\/127\.0\.0\.1:\d+ during op_\w+/);
    expect(String(result.stderr)).toMatch(/its log: .*op_\w+\.ndjson/);
    expect(String(result.stdout).match(/Preparing worktree/g)).toHaveLength(1);

    const next = await startServer(box);
    expect(next.output()).toMatch(/op_\w+ create orphan: marked failed, its process \(pid \d+\) stopped while it ran/);
    const listed = JSON.parse((await box.piko(['list', '--json'], repo)).stdout);
    expect(listed).toEqual([expect.objectContaining({ name: 'orphan', status: 'failed' })]);
    // What it left behind is cleaned up by a destroy.
    const destroyed = await box.piko(['destroy', 'orphan', '--force'], repo);
    expect(destroyed.exitCode).toBe(0);
    expect(existsSync(join(repo, '.piko', 'worktrees', 'orphan'))).toBe(false);
  });

  it('Ctrl-C detaches after 2 s: the operation goes on in the server', async () => {
    const box = sandbox();
    // The setup finishes only once the client has detached and exited.
    const gate = gates();
    const repo = await initProject(box, { '.piko.yml': `scripts:\n  setup: echo started; ${gate.wait()}; echo finished\n` });
    const server = await startServer(box);
    const child = box.spawn(['create', 'detached'], repo);
    await waitForOutput(child.stdout!, /\[setup\] started/);
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode).toBe(130);
    expect(String(result.stderr)).toMatch(/detaching in 2 s; Ctrl-C again cancels op_\w+ instead/);
    expect(String(result.stderr)).toMatch(/detached; op_\w+ goes on in the server .* Follow it: `piko logs -f app\/detached`/);
    expect(String(result.stdout)).not.toContain('finished');
    await server.waitFor(/op_\w+: a client disconnected; the operation goes on/);
    gate.open();
    await server.waitFor(/create app\/detached: succeeded/);
    expect(server.output()).toContain('[detached setup] finished');
  });

  it('Ctrl-C twice cancels the operation on the server, which rolls back', async () => {
    const box = sandbox();
    // A setup that would run until the test is over (its gate is never opened), unless cancelled.
    const repo = await initProject(box, { '.piko.yml': `scripts:\n  setup: echo started; ${gates().wait()}\n` });
    const server = await startServer(box);
    const child = box.spawn(['create', 'cancelled'], repo);
    await waitForOutput(child.stdout!, /\[setup\] started/);
    child.kill('SIGINT');
    await waitForOutput(child.stderr!, /detaching in 2 s/);
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode).toBe(130);
    expect(String(result.stdout)).toContain('[piko] rolling back git');
    expect(String(result.stderr)).toMatch(/✗ cancelled cancelled during script:setup in [\d.]+m?s\n  cancelled by Ctrl-C/);
    expect(server.output()).toMatch(/op_\w+: cancel requested by Ctrl-C/);
    expect(existsSync(join(repo, '.piko', 'worktrees', 'cancelled'))).toBe(false);
  });

  it('on SIGTERM the server lets the running operation finish, then exits and removes server.json', async () => {
    const box = sandbox();
    // The setup finishes only once the server has said it waits for it.
    const gate = gates();
    const repo = await initProject(box, { '.piko.yml': `scripts:\n  setup: echo started; ${gate.wait()}; echo finished\n` });
    const server = await startServer(box);
    const child = box.spawn(['create', 'draining'], repo);
    await waitForOutput(child.stdout!, /\[setup\] started/);
    server.child.kill('SIGTERM');
    await server.waitFor(/waiting up to 30s for 1 running operation\(s\)/);
    gate.open();
    const result = await child;
    expect(result.exitCode).toBe(0);
    expect(String(result.stdout)).toContain('[setup] finished');
    await server.child;
    expect(server.child.exitCode).toBe(0);
    expect(server.output()).toMatch(/\nstopped\n/);
    expect(existsSync(join(box.home, 'server.json'))).toBe(false);
  });

  it('refuses to start a second server for the same PIKO_HOME', async () => {
    const box = sandbox();
    const first = await startServer(box);
    await expect(startServer(box)).rejects.toThrow(`a piko server already runs for ${box.home} (pid ${first.pid}`);
  });
});
