import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { cleanup, git, makeRepo, sandbox } from '../helpers/fixtures.js';

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
    expect(result.stdout).toContain('[docker] web: 3000/tcp → localhost:10100');
    expect(result.stdout).toContain('[setup] web is on 10100');
    const written = parse(readFileSync(join(repo, '.piko', 'worktrees', 'envfile', 'docker-compose.piko.yml'), 'utf8'));
    expect(written.services.web.ports).toEqual([{ target: 3000, published: '10100', protocol: 'tcp' }]);
    expect(result.stdout.match(/db: 5432\/tcp → localhost:10132/g)).toHaveLength(1);
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
    expect(result.stdout).toContain('[prepare] web on 10180');
    expect(result.stdout.match(/web: 80\/tcp → localhost:10180/g)).toHaveLength(1);
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
    expect(box.docker.calls().at(-1)!.args).toContain('down');
    expect(git(repo, 'branch', '--list', 'stuck')).toBe('');
  });
});
