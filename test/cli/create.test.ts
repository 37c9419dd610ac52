import { existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { execaSync } from 'execa';
import { parse } from 'yaml';
import { cleanup, DURATION, git, initProject, makeRepo, printedPort, sandbox, tempDir } from '../helpers/fixtures.js';
import { startServer, stopServers } from '../helpers/server.js';

afterEach(async () => {
  await stopServers();
  cleanup();
});

const COMPOSE = `services:
  web:
    image: nginx
    ports:
      - "8080:80"
  db:
    image: postgres
    container_name: shared-db
    ports:
      - 5432
volumes:
  pgdata:
    name: fixed-pgdata
`;

const CONFIG = `scripts:
  prepare: echo "prepare sees web on $PIKO_WEB_PORT"
  setup: |
    echo "setup in $(pwd)"
    echo "env $PIKO_ENV_NAME id $PIKO_ENV_ID branch $PIKO_BRANCH project $PIKO_PROJECT"
    echo "root $PIKO_ROOT data $PIKO_DATA_DIR path $PIKO_ENV_PATH db $PIKO_DB_PORT"
    echo "careful" >&2
`;

interface ListedEnv {
  id: number;
  name: string;
  project: string;
  mode: string;
  status: string;
  branch: string;
  path: string;
}

async function listed(box: ReturnType<typeof sandbox>, cwd: string): Promise<ListedEnv[]> {
  const result = await box.piko(['list', '--json'], cwd);
  expect(result.exitCode).toBe(0);
  return JSON.parse(result.stdout) as ListedEnv[];
}

describe('piko create and destroy, locally', () => {
  it('creates a docker environment, streaming every stage, and destroys it', async () => {
    const box = sandbox();
    const repo = makeRepo({ 'docker-compose.yml': COMPOSE, '.piko.yml': CONFIG }, 'shop');
    expect((await box.piko(['init'], repo)).exitCode).toBe(0);

    const created = await box.piko(['create', 'feature-xyz'], repo);
    expect(created.stderr).toBe('[piko] not attaching to tmux session piko/shop/feature-xyz: not a terminal; `piko attach shop/feature-xyz` attaches later');
    expect(created.exitCode).toBe(0);
    const worktree = join(repo, '.piko', 'worktrees', 'feature-xyz');
    const dataDir = join(repo, '.piko', 'data', 'feature-xyz');
    const lines = created.stdout.split('\n');
    expect(lines).toContain("[git] Preparing worktree (new branch 'feature-xyz')");
    // The host ports piko chose, each printed once, and the same everywhere below.
    const web = printedPort(created.stdout, 'web:80');
    const db = printedPort(created.stdout, 'db:5432');
    expect(web).not.toBe(db);
    expect(lines.filter((l) => l.startsWith('[docker] web: 80/tcp → '))).toEqual([`[docker] web: 80/tcp → localhost:${web}`]);
    expect(lines.filter((l) => l.startsWith('[docker] db: 5432/tcp → '))).toEqual([`[docker] db: 5432/tcp → localhost:${db}`]);
    expect(lines).toContain(`[prepare] prepare sees web on ${web}`);
    expect(lines).toContain('[docker]  Container piko-shop-feature-xyz-web-1 Started');
    expect(lines).toContain(`[setup] setup in ${worktree}`);
    expect(lines).toContain('[setup] env feature-xyz id 1 branch feature-xyz project shop');
    expect(lines).toContain(`[setup] root ${repo} data ${dataDir} path ${worktree} db ${db}`);
    expect(lines).toContain('[setup] careful');
    expect(lines.slice(-3)).toEqual([
      expect.stringMatching(new RegExp(`^ {2}git ${DURATION} · ports ${DURATION} · prepare ${DURATION} · docker ${DURATION} · setup ${DURATION} · tmux ${DURATION}$`)),
      expect.stringMatching(new RegExp(`^✓ feature-xyz ready \\(docker, running\\) in ${DURATION}$`)),
      `  ports: web 80 → localhost:${web}, db 5432 → localhost:${db}`,
    ]);
    // The stages came in order.
    const first = (prefix: string) => lines.findIndex((l) => l.startsWith(prefix));
    expect(first('[git]')).toBeLessThan(first('[prepare]'));
    expect(first('[prepare]')).toBeLessThan(first('[docker]  Container'));
    expect(first('[docker]  Container')).toBeLessThan(first('[setup]'));

    expect(git(worktree, 'branch', '--show-current')).toBe('feature-xyz');
    expect(existsSync(dataDir)).toBe(true);
    const override = parse(readFileSync(join(worktree, 'docker-compose.piko.yml'), 'utf8'));
    expect(override.services.web.ports).toEqual([`${web}:80/tcp`]);
    expect(override.services.db.ports).toEqual([`${db}:5432/tcp`]);
    expect(override.services.db.container_name).toBe('piko-shop-feature-xyz-shared-db');
    expect(override.networks.default.name).toBe('piko-shop-feature-xyz');
    expect(override.volumes.pgdata.name).toBe('piko-shop-feature-xyz_pgdata');
    const up = box.docker.calls().find((c) => c.args.includes('up'));
    expect(up).toEqual({
      program: 'docker',
      args: ['compose', '-p', 'piko-shop-feature-xyz', '-f', 'docker-compose.piko.yml', 'up', '-d'],
      cwd: worktree,
    });

    expect(await listed(box, repo)).toEqual([
      expect.objectContaining({ id: 1, name: 'feature-xyz', project: 'shop', mode: 'docker', status: 'running', branch: 'feature-xyz', path: worktree }),
    ]);
    // The main checkout stays clean apart from the .gitignore that init added.
    expect(git(repo, 'status', '--porcelain')).toBe('?? .gitignore');

    const destroyed = await box.piko(['destroy', 'feature-xyz'], repo);
    expect(destroyed.exitCode).toBe(0);
    expect(destroyed.stdout).toMatch(/✓ feature-xyz destroyed in/);
    expect(box.docker.lastCompose('down')!.args).toEqual([
      'compose', '-p', 'piko-shop-feature-xyz', '-f', 'docker-compose.piko.yml', 'down', '-v', '--remove-orphans',
    ]);
    expect(box.docker.upProjects()).toEqual([]);
    expect(existsSync(worktree)).toBe(false);
    expect(existsSync(dataDir)).toBe(false);
    expect(await listed(box, repo)).toEqual([]);
    expect(git(repo, 'branch', '--list', 'feature-xyz')).toContain('feature-xyz');
  });
});

describe('the tmux session', () => {
  it('replaces a session of the same name left from an earlier environment', async () => {
    const box = sandbox();
    const repo = await initProject(box, { '.piko.yml': '{}\n' }, 'app');
    // Left behind: a session of the name the environment's will have, somewhere else.
    const elsewhere = tempDir();
    execaSync('tmux', ['-L', box.socket, 'new-session', '-d', '-s', 'piko/app/feat', '-c', elsewhere]);

    const created = await box.piko(['create', 'feat', '--no-attach'], repo);
    expect(created.exitCode).toBe(0);
    expect(created.stdout.split('\n')).toEqual(expect.arrayContaining(['[tmux] closed tmux session piko/app/feat', '[tmux] tmux session piko/app/feat: shell']));
    const worktree = join(repo, '.piko', 'worktrees', 'feat');
    const pane = execaSync('tmux', ['-L', box.socket, 'display-message', '-p', '-t', '=piko/app/feat:', '#{pane_current_path}']).stdout;
    expect(realpathSync(pane)).toBe(realpathSync(worktree));
    expect(execaSync('tmux', ['-L', box.socket, 'list-sessions', '-F', '#{session_name}']).stdout).toBe('piko/app/feat');
  });
});

describe('piko create outside any project', () => {
  it('says which project it used, locally and through a server, and nothing when standing in it', async () => {
    const box = sandbox();
    const repo = await initProject(box);
    const elsewhere = realpathSync(tempDir('somewhere-'));
    const note = `[piko] using project app (${repo}), the only one registered: ${elsewhere} is not inside it`;
    const local = await box.piko(['create', 'local', '--transport', 'stdout'], elsewhere);
    expect(local.exitCode).toBe(0);
    expect(local.stdout).toContain(note);
    const server = await startServer(box);
    const remote = await box.piko(['create', 'remote'], elsewhere);
    expect(remote.exitCode).toBe(0);
    expect(remote.stdout).toContain(note);
    expect(server.output()).toContain('/api/environments/create/stream 101');
    const inside = await box.piko(['create', 'inside'], repo);
    expect(inside.stdout).not.toContain('using project');
  });
});

describe('where worktrees go', () => {
  it('follows the config\'s worktrees: template, and destroy removes the worktree from there', async () => {
    const box = sandbox();
    const repo = await initProject(box, { '.piko.yml': 'worktrees: ../{project}-worktrees/{env}\nscripts:\n  setup: echo "in $PIKO_ENV_PATH"\n' });
    const worktree = join(repo, '..', 'app-worktrees', 'outside');
    const created = await box.piko(['create', 'outside', '--no-attach'], repo);
    expect(created.exitCode).toBe(0);
    expect(created.stdout).toContain(`[setup] in ${worktree}`);
    expect(git(worktree, 'branch', '--show-current')).toBe('outside');
    expect(existsSync(join(repo, '.piko', 'worktrees', 'outside'))).toBe(false);
    // Data stays in the repository.
    expect(existsSync(join(repo, '.piko', 'data', 'outside'))).toBe(true);
    const destroyed = await box.piko(['destroy', 'outside'], repo);
    expect(destroyed.exitCode).toBe(0);
    expect(destroyed.stdout).toContain('[git] removed worktree ../app-worktrees/outside');
    expect(existsSync(worktree)).toBe(false);
  });

  it('refuses an unknown placeholder, a place in the repository\'s .git or piko\'s data, on, inside or around another environment', async () => {
    const box = sandbox();
    const cases: [string, RegExp][] = [
      ['../{branch}/{env}', /\.piko\.yml: worktrees: expected a folder or a path template with no other \{placeholder\} than \{project\} and \{env\}/],
      ['.git/{env}', /\.piko\.yml: worktrees: "\.git\/\{env\}" puts a worktree at .*\/\.git\/bad, which is the repository, its \.git or piko's data/],
      ['.piko/data', /\.piko\.yml: worktrees: "\.piko\/data" puts a worktree at .*\/\.piko\/data\/bad, which is the repository, its \.git or piko's data/],
    ];
    for (const [i, [template, error]] of cases.entries()) {
      const repo = await initProject(box, { '.piko.yml': `worktrees: ${template}\n` }, `app${i}`);
      const refused = await box.piko(['create', 'bad', '--yes'], repo);
      expect(refused.exitCode).toBe(1);
      expect(refused.stderr).toMatch(error);
      expect(git(repo, 'branch', '--list', 'bad')).toBe('');
    }
    // Two projects that share a folder without {project} cannot both have an environment `same`.
    const shared = join(tempDir(), 'shared');
    const first = await initProject(box, { '.piko.yml': `worktrees: ${shared}/{env}\n` }, 'first');
    const second = await initProject(box, { '.piko.yml': `worktrees: ${shared}/{env}\n` }, 'second');
    expect((await box.piko(['create', 'same', '--no-attach'], first)).exitCode).toBe(0);
    const clash = await box.piko(['create', 'same', '--no-attach'], second);
    expect(clash.exitCode).toBe(1);
    expect(clash.stderr).toContain(`${join(shared, 'same')} is already the worktree of first/same: choose another place in .piko.yml: worktrees: "${shared}/{env}", or put {project} in it`);
    // One environment's worktree inside another's would go with it at its destroy.
    const nesting = await initProject(box, {}, 'nesting');
    expect((await box.piko(['create', 'outer', '--no-attach'], nesting)).exitCode).toBe(0);
    writeFileSync(join(nesting, '.piko.yml'), 'worktrees: .piko/worktrees/outer\n');
    const nested = await box.piko(['create', 'inner', '--no-attach', '--yes'], nesting);
    expect(nested.exitCode).toBe(1);
    expect(nested.stderr).toContain(`${join(nesting, '.piko', 'worktrees', 'outer', 'inner')} is inside the worktree of nesting/outer`);
    expect(existsSync(join(nesting, '.piko', 'worktrees', 'outer', 'inner'))).toBe(false);
  });

  it('takes a folder, which gets a worktree per environment, and knows the project inside a worktree outside the repository', async () => {
    const box = sandbox();
    const repo = await initProject(box, { '.piko.yml': 'worktrees: ../{project}-wt\n' });
    await initProject(box, {}, 'other');
    expect((await box.piko(['create', 'one', '--no-attach'], repo)).exitCode).toBe(0);
    const outside = join(repo, '..', 'app-wt', 'one');
    expect(git(outside, 'branch', '--show-current')).toBe('one');
    // Standing in it, a name alone means this project's environment, whatever else is registered.
    const status = await box.piko(['status'], outside);
    expect(status.exitCode).toBe(0);
    expect(status.stdout).toContain('app/one');
    const two = await box.piko(['create', 'two', '--no-attach'], outside);
    expect(two.exitCode).toBe(0);
    expect(two.stderr).not.toContain('using project');
    expect(existsSync(join(repo, '..', 'app-wt', 'two'))).toBe(true);
  });
});
