import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { execa } from 'execa';
import { cleanup, git, makeRepo, PIKO_BIN, printedPort, printedPorts, sandbox } from '../../helpers/fixtures.js';

afterEach(cleanup);

describe('docker stage', () => {
  it('plans again after prepare, reading the .env that prepare writes', async () => {
    const box = sandbox();
    const repo = makeRepo({
      'docker-compose.yml': 'services:\n  web:\n    image: nginx\n    ports: ["${WEB_PORT:-8080}:${APP_PORT}"]\n  db:\n    image: pg\n    ports: ["5432"]\n',
      '.env.example': 'APP_PORT=3000\n',
      '.piko.yml': 'scripts:\n  prepare: cp .env.example .env; echo "db is on $PIKO_DB_PORT"\n  setup: echo "web is on $PIKO_WEB_PORT"\n',
    });
    await box.piko(['init'], repo);
    const result = await box.piko(['create', 'envfile'], repo);
    expect(result.exitCode).toBe(0);
    // Before prepare the file cannot be read (APP_PORT is not set yet), so prepare has no ports.
    expect(result.stdout.split('\n')).toContain('[prepare] db is on ');
    // After prepare the file reads: web publishes 3000, and setup sees the port piko chose for it.
    const web = printedPort(result.stdout, 'web:3000');
    expect(result.stdout).toContain(`[setup] web is on ${web}`);
    const written = parse(readFileSync(join(repo, '.piko', 'worktrees', 'envfile', 'docker-compose.piko.yml'), 'utf8'));
    expect(written.services.web.ports).toEqual([`${web}:3000/tcp`]);
    const db = printedPort(result.stdout, 'db:5432');
    expect(written.services.db.ports).toEqual([`${db}:5432/tcp`]);
    expect(result.stdout.match(/db: 5432\/tcp → localhost:\d+/g)).toHaveLength(1);
  });

  it('keeps the ports prepare was given when the file still asks for the same ones', async () => {
    const box = sandbox();
    const repo = makeRepo({
      'docker-compose.yml': 'services:\n  web:\n    image: nginx\n    ports: ["80"]\n',
      '.piko.yml': 'scripts:\n  prepare: echo "web on $PIKO_WEB_PORT"; echo "# touched" >> docker-compose.yml\n',
    });
    await box.piko(['init'], repo);
    const result = await box.piko(['create', 'kept'], repo);
    expect(result.exitCode).toBe(0);
    const web = printedPort(result.stdout, 'web:80');
    expect(result.stdout).toContain(`[prepare] web on ${web}`);
    expect(result.stdout.match(/web: 80\/tcp → localhost:\d+/g)).toEqual([`web: 80/tcp → localhost:${web}`]);
  });

  it('refuses a second environment that would share a compose project, and changes nothing', async () => {
    const box = sandbox();
    const compose = { 'docker-compose.yml': 'services:\n  web:\n    image: nginx\n' };
    const x = makeRepo(compose, 'x');
    const xy = makeRepo(compose, 'x-y');
    await box.piko(['init'], x);
    await box.piko(['init'], xy);
    expect((await box.piko(['create', 'y-z'], x)).exitCode).toBe(0);
    const clash = await box.piko(['create', 'z'], xy);
    expect(clash.exitCode).toBe(1);
    expect(clash.stderr).toContain('environment x/y-z already uses the compose project piko-x-y-z');
    expect(existsSync(join(xy, '.piko', 'worktrees', 'z'))).toBe(false);
    expect(JSON.parse((await box.piko(['list', '--json'], x)).stdout).map((e: { name: string }) => e.name)).toEqual(['y-z']);
  });

  it('will not overwrite a docker-compose.piko.yml the repository has', async () => {
    const box = sandbox();
    const repo = makeRepo({ 'compose.yaml': 'services:\n  web:\n    image: nginx\n', 'docker-compose.piko.yml': '# ours\n' });
    await box.piko(['init'], repo);
    const result = await box.piko(['create', 'own'], repo);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('the repository has its own docker-compose.piko.yml');
    expect(readFileSync(join(repo, 'docker-compose.piko.yml'), 'utf8')).toBe('# ours\n');
    expect(existsSync(join(repo, '.piko', 'worktrees', 'own'))).toBe(false);
  });

  it('keeps the environment as failed when the rollback cannot remove its containers', async () => {
    const box = sandbox();
    const repo = makeRepo({
      'docker-compose.yml': 'services:\n  web:\n    image: nginx\n',
      '.piko.yml': 'scripts:\n  setup: exit 2\n',
    });
    await box.piko(['init'], repo);
    const result = await box.piko(['create', 'stuck'], repo, { FAKE_DOCKER_DOWN_EXIT: '1' });
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain('[piko] warning: rollback of docker failed');
    expect(result.stderr).toContain('the rollback could not undo everything');
    expect(result.stderr).toContain('`piko destroy --force stuck` finishes the cleanup');
    expect(JSON.parse((await box.piko(['list', '--json'], repo)).stdout)).toEqual([
      expect.objectContaining({ name: 'stuck', status: 'failed', mode: 'docker' }),
    ]);
    const destroyed = await box.piko(['destroy', 'stuck', '--force'], repo);
    expect(destroyed.exitCode).toBe(0);
    expect(box.docker.lastCompose('down')).toBeDefined();
    expect(git(repo, 'branch', '--list', 'stuck')).toBe('');
  });
});

describe('docker stage, the compose model and its two versions', () => {
  it('works with Compose v1 alone: create, status, exec and destroy, even when the compose file is gone', async () => {
    const box = sandbox();
    const v1 = { FAKE_DOCKER_COMPOSE_V1: '1' };
    const repo = makeRepo({ 'docker-compose.yml': 'services:\n  web:\n    image: nginx\n    ports: ["80"]\n' });
    await box.piko(['init'], repo);
    const created = await box.piko(['create', 'old'], repo, v1);
    expect(created.exitCode).toBe(0);
    const web = printedPort(created.stdout, 'web:80');
    expect(box.docker.lastCompose('up')).toMatchObject({ program: 'docker-compose', args: ['-p', 'piko-app-old', '-f', 'docker-compose.piko.yml', 'up', '-d'] });
    // status asks the engine, not `compose ps --format json` (which v1 lacks).
    const status = await box.piko(['status', 'old'], repo, v1);
    expect(status.stdout).toMatch(new RegExp(`container\\s+piko-app-old_web_1 {2}running {2}0\\.0\\.0\\.0:${web}->80/tcp`));
    const exec = await execa('node', [PIKO_BIN, 'exec', 'old', 'web', 'true'], { cwd: repo, env: { ...box.env, ...v1 }, input: '', reject: false });
    expect(exec.exitCode).toBe(0);
    // Its call, not one of the tmux windows' (which exec without -T).
    expect(box.docker.calls().findLast((c) => c.args.includes('-T'))).toMatchObject({ program: 'docker-compose', args: ['-p', 'piko-app-old', '-f', 'docker-compose.piko.yml', 'exec', '-T', 'web', 'true'] });
    const doctor = JSON.parse((await box.piko(['doctor', '--json'], repo, v1)).stdout) as { name: string; detail: string }[];
    expect(doctor.find((c) => c.name === 'docker compose')!.detail).toBe('docker-compose 1.29.2 (Compose v1: works; v2, the docker compose plugin, is preferred)');

    // Compose v1 cannot `down` without the file: the engine's labels find the containers.
    rmSync(join(repo, '.piko', 'worktrees', 'old', 'docker-compose.piko.yml'));
    const destroyed = await box.piko(['destroy', 'old', '--force'], repo, v1);
    expect(destroyed.exitCode).toBe(0);
    expect(destroyed.stdout).toContain('[docker] removed 1 container(s) of piko-app-old that compose left behind');
    expect(box.docker.calls().some((c) => c.args[0] === 'rm' && c.args.includes('id-piko-app-old'))).toBe(true);
    expect(box.docker.upProjects()).toEqual([]);
  });

  it('reads the override file, and compose files the config names outside the root', async () => {
    const box = sandbox();
    const repo = makeRepo({
      'docker/docker-compose.yml': 'services:\n  api:\n    image: api\n    build: ..\n    ports: ["8000"]\n',
      'docker/docker-compose.dev.yml': 'services:\n  api:\n    ports: ["9229"]\n    network_mode: bridge\n  metrics:\n    image: m\n    network_mode: host\n',
      '.piko.yml': 'compose: [docker/docker-compose.yml, docker/docker-compose.dev.yml]\nscripts:\n  setup: echo "api on $PIKO_API_PORT_9229"\n',
    });
    await box.piko(['init'], repo);
    const result = await box.piko(['create', 'nested'], repo);
    expect(result.exitCode).toBe(0);
    const [api, debug] = [printedPort(result.stdout, 'api:8000'), printedPort(result.stdout, 'api:9229')];
    expect(api).not.toBe(debug);
    expect(result.stdout).toContain(`[setup] api on ${debug}`);
    // Said once, although the model is planned twice.
    expect(result.stdout.match(/\[docker\] warning: services.metrics uses network_mode: host/g)).toHaveLength(1);
    const up = box.docker.lastCompose('up')!;
    expect(up.cwd).toBe(join(repo, '.piko', 'worktrees', 'nested', 'docker'));
    const written = parse(readFileSync(join(up.cwd, 'docker-compose.piko.yml'), 'utf8'));
    expect(written.services.api.ports).toEqual([`${api}:8000/tcp`, `${debug}:9229/tcp`]);
    expect(written.services.api.build).toBe('..');
    expect(readFileSync(join(up.cwd, 'docker-compose.piko.yml'), 'utf8')).toMatch(
      /^# Written by piko for environment nested from docker\/docker-compose.yml, docker\/docker-compose.dev.yml: edit those, not this one.\n/,
    );

    const plain = makeRepo({ 'compose.yaml': 'services:\n  web:\n    image: w\n    ports: ["80"]\n', 'compose.override.yaml': 'services:\n  web:\n    ports: ["443"]\n' }, 'plain');
    await box.piko(['init'], plain);
    const merged = await box.piko(['create', 'merged'], plain);
    // The override's port is published as well as the file's, from the second environment's block.
    expect(Object.keys(printedPorts(merged.stdout))).toEqual(['web:80', 'web:443']);
    printedPort(merged.stdout, 'web:443', 2);
  });

  it('names the compose file, not a plugin, when it cannot be read, and creates nothing', async () => {
    const box = sandbox();
    const services = Array.from({ length: 5 }, (_, i) => `  s${i}: *x\n`).join('');
    const repo = makeRepo({ 'compose.yml': `x: &x {image: a, ports: [*p]}\nservices:\n${services}` });
    await box.piko(['init'], repo);
    const result = await box.piko(['create', 'unread'], repo);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('compose.yml: not valid YAML');
    expect(result.stderr).toContain('Unresolved alias');
    expect(result.stderr).not.toMatch(/plugin|hook/i);
    expect(existsSync(join(repo, '.piko', 'worktrees', 'unread'))).toBe(false);
  });
});
