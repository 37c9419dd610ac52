// The docker stage on a real Docker engine, through the real CLI: the engine comes from
// .ci/engine-up (jest's global setup), the image piko-test/busybox is built from the machine's
// busybox. Every compose project these tests make is named after this process, and removed at
// the end whatever happened.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { cleanup, initProject, PIKO_BIN, sandbox, type Sandbox } from '../../helpers/fixtures.js';
import { docker, NOTHING, projectResources, removeProjects } from '../../helpers/engine-resources.js';
import { startServer, stopServers } from '../../helpers/server.js';

const engine = process.env.PIKO_TEST_DOCKER ?? 'the global setup did not run';
const describeEngine = engine === 'ready' ? describe : describe.skip;
if (engine !== 'ready') console.warn(`SKIPPED: the real Docker engine tests (${engine})`);

/** Project names of this run: compose projects are `piko-<project>-<env>`. */
const RUN = `eng${process.pid}`;

const COMPOSE = `services:
  web:
    image: piko-test/busybox
    init: true
    command: [httpd, -f, -p, "80", -h, /site]
    ports: ["8080:80"]
    volumes: ["./site:/site:ro"]
  db:
    image: piko-test/busybox
    init: true
    container_name: pg
    command: [sleep, "86400"]
    volumes: ["data:/data"]
volumes:
  data: {}
`;

const FILES = {
  'docker-compose.yml': COMPOSE,
  '.gitignore': 'site/\n',
  // The page each environment serves says whose it is.
  '.piko.yml': 'scripts:\n  setup: mkdir -p site && echo "this is $PIKO_ENV_NAME" > site/index.html\n',
};

/** The body of http://localhost:<port>/, retrying while the container's server starts. */
async function curl(port: string): Promise<string> {
  const result = await execa('curl', ['-sS', '--retry', '30', '--retry-all-errors', '--retry-delay', '1', '--max-time', '60', `http://127.0.0.1:${port}/`]);
  return result.stdout.trim();
}

async function vars(box: Sandbox, repo: string, name: string): Promise<Record<string, string>> {
  return JSON.parse((await box.piko(['vars', name, '--json'], repo)).stdout) as Record<string, string>;
}

afterEach(async () => {
  await stopServers();
  cleanup();
});

afterAll(async () => {
  if (engine !== 'ready') return;
  // Whatever a failed test left of this run's projects.
  await removeProjects(RUN);
});

describeEngine('docker on a real engine', () => {
  it('runs two environments of one compose project side by side, through piko server, and removes every trace', async () => {
    const box = sandbox({ realDocker: true });
    const project = `${RUN}s`;
    const repo = await initProject(box, FILES, project);
    const server = await startServer(box);

    for (const name of ['one', 'two']) {
      const created = await box.piko(['create', name], repo);
      expect(created.exitCode).toBe(0);
      expect(created.stdout).toContain(`✓ ${name} ready (docker, running)`);
    }
    expect(server.output()).toMatch(/GET \/api\/environments\/create\/stream 101 websocket/);

    // Each answers on its own port with its own page.
    const one = await vars(box, repo, 'one');
    const two = await vars(box, repo, 'two');
    expect(one.PIKO_WEB_PORT).not.toBe(two.PIKO_WEB_PORT);
    expect(await curl(one.PIKO_WEB_PORT!)).toBe('this is one');
    expect(await curl(two.PIKO_WEB_PORT!)).toBe('this is two');

    // The renamed container_name still answers by its old name, on its own environment's network.
    const ping = await box.piko(['exec', 'one', 'web', 'ping', '-c', '1', '-W', '5', 'pg'], repo);
    expect(ping.exitCode).toBe(0);
    // exec returns the command's exit code.
    expect((await box.piko(['exec', 'one', 'web', 'sh', '-c', 'exit 7'], repo)).exitCode).toBe(7);

    const compose = `piko-${project}-one`;
    const resources = await projectResources(compose);
    expect(resources.containers).toHaveLength(2);
    expect(resources.containers).toEqual(expect.arrayContaining([`${compose}-pg`, expect.stringMatching(new RegExp(`^${compose}[-_]web[-_]1$`))]));
    expect(resources.volumes).toEqual([`${compose}_data`]);
    const status = await box.piko(['status', 'one'], repo);
    expect(status.stdout).toMatch(new RegExp(`container\\s+${compose}-pg  running`));
    expect(status.stdout).toMatch(new RegExp(`container\\s+${compose}[-_]web[-_]1  running  0\\.0\\.0\\.0:${one.PIKO_WEB_PORT}->80/tcp`));

    const windows = await execa('tmux', ['-L', box.socket, 'list-windows', '-t', `=piko/${project}/one`, '-F', '#W']);
    expect(windows.stdout.split('\n')).toEqual(['shell', 'web', 'db', 'logs']);

    // down, up and restart change what the engine runs.
    expect((await box.piko(['down', 'one'], repo)).exitCode).toBe(0);
    expect((await projectResources(compose, true)).containers).toEqual([]);
    expect((await box.piko(['up', 'one'], repo)).exitCode).toBe(0);
    expect((await projectResources(compose, true)).containers).toHaveLength(2);
    const started = async () => (await docker('inspect', '--format', '{{.State.StartedAt}}', `${compose}-pg`))[0];
    const before = await started();
    expect((await box.piko(['restart', 'one'], repo)).exitCode).toBe(0);
    expect(await started()).not.toBe(before);
    expect(await curl(one.PIKO_WEB_PORT!)).toBe('this is one');

    for (const name of ['one', 'two']) {
      const destroyed = await box.piko(['destroy', name], repo);
      expect(destroyed.exitCode).toBe(0);
      expect(await projectResources(`piko-${project}-${name}`)).toEqual(NOTHING);
    }
    expect(server.output()).toMatch(/GET \/api\/environments\/destroy\/stream 101 websocket/);
  });

  it('locally: replicas on ports of their own, a failing setup rolls the containers back, no daemon leaves nothing', async () => {
    const box = sandbox({ realDocker: true });
    const project = `${RUN}l`;
    const repo = await initProject(
      box,
      {
        ...FILES,
        'docker-compose.override.yml': 'services:\n  web:\n    scale: 2\n',
        '.piko.yml': 'scripts:\n  setup: mkdir -p site && echo "replica of $PIKO_ENV_NAME" > site/index.html && test "$PIKO_ENV_NAME" != bad\n',
      },
      project,
    );

    const created = await box.piko(['create', 'many', ], repo);
    expect(created.exitCode).toBe(0);
    const many = await vars(box, repo, 'many');
    const [first, last] = many.PIKO_WEB_PORTS!.split('-');
    expect(Number(last) - Number(first)).toBe(1);
    expect(await curl(first!)).toBe('replica of many');
    expect(await curl(last!)).toBe('replica of many');
    expect((await projectResources(`piko-${project}-many`, true)).containers).toHaveLength(3);
    expect((await box.piko(['destroy', 'many'], repo)).exitCode).toBe(0);
    expect(await projectResources(`piko-${project}-many`)).toEqual(NOTHING);

    const bad = await box.piko(['create', 'bad', ], repo);
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toContain('✗ bad failed at script:setup (exit 1)');
    expect(bad.stdout).toContain('[piko] rolling back docker');
    expect(await projectResources(`piko-${project}-bad`)).toEqual(NOTHING);
    expect(existsSync(join(repo, '.piko', 'worktrees', 'bad'))).toBe(false);

    const stopped = await execa('node', [PIKO_BIN, 'create', 'nodaemon'], {
      cwd: repo,
      env: { ...box.env, DOCKER_HOST: `unix://${join(box.home, 'no-daemon.sock')}` },
      reject: false,
    });
    expect(stopped.exitCode).toBe(1);
    expect(stopped.stderr).toContain('docker failed: cannot reach the Docker daemon');
    expect(stopped.stderr).toContain('no-daemon.sock');
    expect(existsSync(join(repo, '.piko', 'worktrees', 'nodaemon'))).toBe(false);
    expect(JSON.parse((await box.piko(['list', '--json'], repo)).stdout)).toEqual([]);
  });
});
