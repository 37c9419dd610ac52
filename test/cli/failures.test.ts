// Bad input changes nothing; a failing stage rolls back everything earlier stages made.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { cleanup, git, makeRepo, pathWithoutDocker, sandbox, tempDir, type Sandbox } from '../helpers/fixtures.js';

afterEach(cleanup);

const COMPOSE = 'services:\n  web:\n    image: nginx\n    ports: ["8080:80"]\n';

async function listed(box: Sandbox, cwd: string): Promise<{ name: string; status: string }[]> {
  return JSON.parse((await box.piko(['list', '--json'], cwd)).stdout);
}

/** Everything a create could leave behind: worktrees, data dirs, branches, rows. */
async function leftovers(box: Sandbox, repo: string) {
  const dir = (path: string) => (existsSync(path) ? readdirSync(path) : []);
  return {
    worktrees: dir(join(repo, '.piko', 'worktrees')),
    data: dir(join(repo, '.piko', 'data')),
    branches: git(repo, 'branch', '--format=%(refname:short)').split('\n'),
    gitWorktrees: git(repo, 'worktree', 'list', '--porcelain').split('\n').filter((l) => l.startsWith('worktree ')).length,
    rows: await listed(box, repo),
    containers: box.docker.upProjects(),
  };
}

const NOTHING = { worktrees: [], data: [], branches: ['main'], gitWorktrees: 1, rows: [], containers: [] };

describe('bad input', () => {
  it.each([
    ['../x', /not allowed/],
    ['-rf', /not allowed/],
    ['a;b', /not allowed/],
    ['x..y', /not allowed/],
    ['bad name', /not allowed/],
    ['', /empty/],
    ['Upper', /lowercase/],
    ['v1.2', /not allowed/],
    ['a'.repeat(64), /longer than 63/],
  ])('refuses the name %j and changes nothing', async (name, reason) => {
    const box = sandbox();
    const repo = makeRepo({ '.piko.yml': 'scripts:\n  setup: touch "$PIKO_ROOT/ran"\n' });
    await box.piko(['init'], repo);
    // `--` so that `-rf` reaches piko as a name, as a user would have to type it.
    const result = await box.piko(['create', '--', name], repo);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(reason);
    expect(result.stderr).toContain('environment name');
    expect(await leftovers(box, repo)).toEqual(NOTHING);
    expect(existsSync(join(repo, 'ran'))).toBe(false);
    expect(box.docker.calls()).toEqual([]);
  });

  it('refuses a name that exists and leaves the first environment intact', async () => {
    const box = sandbox();
    const repo = makeRepo({ 'docker-compose.yml': COMPOSE });
    await box.piko(['init'], repo);
    expect((await box.piko(['create', 'one'], repo)).exitCode).toBe(0);
    writeFileSync(join(repo, '.piko', 'worktrees', 'one', 'marker'), 'still here');
    // What compose did (the tmux windows' `exec` and `logs` come and go on their own).
    const composeCalls = () => box.docker.calls().filter((c) => !c.args.includes('exec') && !c.args.includes('logs')).length;
    const callsBefore = composeCalls();

    const again = await box.piko(['create', 'one'], repo);
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toContain('environment "one" already exists in project "app"');
    // The hint names the environment as it is, not a placeholder.
    expect(again.stderr).toContain('Pick another name, or `piko destroy app/one` first.');
    expect(again.stderr).not.toContain('<name>');
    expect(composeCalls()).toBe(callsBefore);
    expect(readFileSync(join(repo, '.piko', 'worktrees', 'one', 'marker'), 'utf8')).toBe('still here');
    expect(existsSync(join(repo, '.piko', 'data', 'one'))).toBe(true);
    expect(await listed(box, repo)).toEqual([expect.objectContaining({ name: 'one', status: 'running' })]);
  });

  it('says to run piko init in a repository that is not registered', async () => {
    const box = sandbox();
    const repo = makeRepo();
    const result = await box.piko(['create', 'one'], repo);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`the repository ${repo} is not a piko project yet`);
    expect(result.stderr).toContain('piko init');
    expect(existsSync(join(repo, '.piko'))).toBe(false);
  });

  it('names unknown projects and lists the known ones', async () => {
    const box = sandbox();
    const repo = makeRepo();
    await box.piko(['init'], repo);
    const result = await box.piko(['create', 'nope/one'], repo);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('no project named "nope" is registered (projects: app)');
  });

  it('refuses piko init outside a git repository', async () => {
    const box = sandbox();
    const dir = tempDir();
    const result = await box.piko(['init'], dir);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`${dir} is not inside a git repository`);
  });

  it('refuses a base branch that does not exist', async () => {
    const box = sandbox();
    const repo = makeRepo();
    await box.piko(['init'], repo);
    const result = await box.piko(['create', 'one', '--branch', 'no-such-branch'], repo);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('base branch "no-such-branch" was not found');
    expect(await leftovers(box, repo)).toEqual(NOTHING);
  });
});

describe('a failing stage rolls back', () => {
  it('names the stage, the command and the exit code, and removes worktree, data dir, containers, branch and row', async () => {
    const box = sandbox();
    const repo = makeRepo({
      'docker-compose.yml': COMPOSE,
      '.piko.yml': 'scripts:\n  setup: echo installing; exit 3\n',
    });
    await box.piko(['init'], repo);
    const result = await box.piko(['create', 'broken'], repo);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain('[setup] installing');
    expect(result.stdout).toContain('[piko] rolling back docker');
    expect(result.stdout).toContain('[piko] rolling back git');
    expect(result.stderr).toContain('✗ broken failed at script:setup (exit 3)');
    expect(result.stderr).toContain('script:setup failed: `sh -c \'echo installing; exit 3\'` exited with code 3');
    const down = box.docker.lastCompose('down')!;
    expect(down.args).toEqual(['compose', '-p', 'piko-app-broken', '-f', 'docker-compose.piko.yml', 'down', '-v', '--remove-orphans']);
    expect(await leftovers(box, repo)).toEqual(NOTHING);
  });

  it('keeps a branch that existed before and only removes what it made', async () => {
    const box = sandbox();
    const repo = makeRepo({ '.piko.yml': 'scripts:\n  prepare: exit 1\n' });
    git(repo, 'branch', 'existing');
    await box.piko(['init'], repo);
    const result = await box.piko(['create', 'existing'], repo);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain("[git] using the existing branch 'existing'");
    expect(result.stderr).toContain('failed at script:prepare (exit 1)');
    expect((await leftovers(box, repo)).branches.sort()).toEqual(['existing', 'main']);
    expect(existsSync(join(repo, '.piko', 'worktrees', 'existing'))).toBe(false);
  });

  it('without a docker daemon says so and leaves nothing half-made', async () => {
    const box = sandbox();
    const repo = makeRepo({ 'docker-compose.yml': COMPOSE });
    await box.piko(['init'], repo);
    const result = await box.piko(['create', 'nodaemon'], repo, { FAKE_DOCKER_NO_DAEMON: '1' });
    expect(result.exitCode).toBe(1);
    // The daemon's own words are in the error, not in the stream.
    expect(result.stderr).toContain('cannot reach the Docker daemon (`docker version` exited with code 1: Cannot connect to the Docker daemon');
    expect(result.stderr).toContain('Start the Docker daemon');
    // It never got as far as `up`, so there is nothing to bring down (the `ps` is the create's
    // look for containers an earlier environment of the name left).
    expect(box.docker.calls().map((c) => c.args[0])).toEqual(['ps', 'version']);
    expect(await leftovers(box, repo)).toEqual(NOTHING);
  });

  it('without docker installed says so', async () => {
    const box = sandbox();
    const repo = makeRepo({ 'compose.yaml': COMPOSE });
    await box.piko(['init'], repo);
    const result = await box.piko(['create', 'nodocker'], repo, { PATH: pathWithoutDocker() });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('docker is not installed (not found on PATH)');
    expect(await leftovers(box, repo)).toEqual(NOTHING);
  });

  it('when compose up fails, brings down what it started', async () => {
    const box = sandbox();
    const repo = makeRepo({ 'docker-compose.yml': COMPOSE });
    await box.piko(['init'], repo);
    const result = await box.piko(['create', 'upfail'], repo, { FAKE_DOCKER_UP_EXIT: '17' });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('✗ upfail failed at docker (exit 17)');
    expect(result.stderr).toContain('`docker compose -p piko-app-upfail -f docker-compose.piko.yml up -d` exited with code 17');
    expect(box.docker.lastCompose('down')).toBeDefined();
    expect(await leftovers(box, repo)).toEqual(NOTHING);
  });

  it('an invalid compose file is reported with its name and nothing stays', async () => {
    const box = sandbox();
    const repo = makeRepo({ 'docker-compose.yml': 'services:\n  web:\n    ports: ["abc:80x"]\n' });
    await box.piko(['init'], repo);
    const result = await box.piko(['create', 'badcompose'], repo);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('docker-compose.yml: services.web.ports[0]: "80x" is not a port');
    expect(await leftovers(box, repo)).toEqual(NOTHING);
  });
});
