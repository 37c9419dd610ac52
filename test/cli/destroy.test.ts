import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { cleanup, git, makeRepo, printedPort, sandbox } from '../helpers/fixtures.js';

afterEach(cleanup);

const COMPOSE = 'services:\n  web:\n    image: nginx\n    ports: ["8080:80"]\n';
const CONFIG = 'scripts:\n  destroy: echo "cleaning $PIKO_ENV_NAME on port $PIKO_WEB_PORT" > "$PIKO_ROOT/destroyed.txt"\n';

describe('piko destroy', () => {
  it('runs the destroy script with the variables, then brings containers down', async () => {
    const box = sandbox();
    const repo = makeRepo({ 'docker-compose.yml': COMPOSE, '.piko.yml': CONFIG });
    await box.piko(['init'], repo);
    const web = printedPort((await box.piko(['create', 'gone'], repo)).stdout, 'web:80');
    const result = await box.piko(['destroy', 'gone', '--keep-volumes'], repo);
    expect(result.exitCode).toBe(0);
    expect(readFileSync(join(repo, 'destroyed.txt'), 'utf8')).toBe(`cleaning gone on port ${web}\n`);
    expect(box.docker.lastCompose('down')!.args).toEqual([
      'compose', '-p', 'piko-app-gone', '-f', 'docker-compose.piko.yml', 'down', '--remove-orphans',
    ]);
  });

  it('refuses a worktree with uncommitted changes unless --force, which also deletes the branch', async () => {
    const box = sandbox();
    const repo = makeRepo();
    await box.piko(['init'], repo);
    await box.piko(['create', 'dirty'], repo);
    const worktree = join(repo, '.piko', 'worktrees', 'dirty');
    writeFileSync(join(worktree, 'work-in-progress.txt'), 'precious');

    const refused = await box.piko(['destroy', 'dirty'], repo);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain(`worktree ${worktree} has uncommitted changes: ?? work-in-progress.txt`);
    expect(refused.stderr).toContain('--force');
    // The answer lists them for a client to show (the dashboard's choice), the first 200 of them.
    writeFileSync(join(worktree, 'notes, draft.md'), '');
    for (let i = 0; i < 205; i++) writeFileSync(join(worktree, `scratch-${String(i).padStart(3, '0')}.txt`), '');
    const json = await box.piko(['destroy', 'dirty', '--json'], repo);
    const complete = JSON.parse(json.stdout.trim().split('\n').at(-1)!);
    expect(complete).toMatchObject({ type: 'complete', success: false, code: 'PIKO_ERR_WORKTREE_DIRTY', dirty: { path: worktree, more: 7 } });
    expect(complete.dirty.changes).toHaveLength(200);
    expect(complete.dirty.changes.slice(0, 2)).toEqual(['?? "notes, draft.md"', '?? scratch-000.txt']);
    expect(existsSync(join(worktree, 'work-in-progress.txt'))).toBe(true);
    expect(JSON.parse((await box.piko(['list', '--json'], repo)).stdout)).toEqual([
      expect.objectContaining({ name: 'dirty', status: 'ready' }),
    ]);

    const forced = await box.piko(['destroy', 'dirty', '--force'], repo);
    expect(forced.exitCode).toBe(0);
    expect(existsSync(worktree)).toBe(false);
    expect(git(repo, 'branch', '--list', 'dirty')).toBe('');
  });

  it('does not count what the create made (prepare\'s .env) or ignored files as work; discarding changes and deleting the branch are separate', async () => {
    const box = sandbox();
    const repo = makeRepo({ '.gitignore': 'node_modules/\n', '.env.example': 'A=1\n', '.piko.yml': 'scripts:\n  prepare: cp .env.example .env\n' });
    await box.piko(['init'], repo);
    const worktreeOf = (name: string) => join(repo, '.piko', 'worktrees', name);

    // The .env prepare made, and an ignored folder: neither is a person's work.
    expect((await box.piko(['create', 'clean'], repo)).exitCode).toBe(0);
    expect(git(worktreeOf('clean'), 'status', '--porcelain')).toContain('?? .env');
    mkdirSync(join(worktreeOf('clean'), 'node_modules', 'x'), { recursive: true });
    writeFileSync(join(worktreeOf('clean'), 'node_modules', 'x', 'index.js'), '');
    expect((await box.piko(['destroy', 'clean'], repo)).exitCode).toBe(0);

    // A .env someone changed since is.
    expect((await box.piko(['create', 'made'], repo)).exitCode).toBe(0);
    writeFileSync(join(worktreeOf('made'), '.env'), 'A=2, mine\n');
    const changed = await box.piko(['destroy', 'made'], repo);
    expect(changed.exitCode).toBe(1);
    expect(changed.stderr).toContain('has uncommitted changes: ?? .env');
    expect(changed.stderr).toContain('`piko destroy app/made --discard-changes` throws them away');
    // Throwing the changes away keeps the branch…
    expect((await box.piko(['destroy', 'made', '--discard-changes'], repo)).exitCode).toBe(0);
    expect(existsSync(worktreeOf('made'))).toBe(false);
    expect(git(repo, 'branch', '--list', 'made')).toContain('made');
    // …and deleting the branch is a choice of its own.
    expect((await box.piko(['create', 'untouched'], repo)).exitCode).toBe(0);
    expect((await box.piko(['destroy', 'untouched', '--delete-branch'], repo)).exitCode).toBe(0);
    expect(git(repo, 'branch', '--list', 'untouched')).toBe('');
  });

  it('names an unknown environment and lists the ones there are', async () => {
    const box = sandbox();
    const repo = makeRepo();
    await box.piko(['init'], repo);
    await box.piko(['create', 'here'], repo);
    const result = await box.piko(['destroy', 'nothere'], repo);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('no environment "nothere" in project "app" (environments: here)');
  });

  it('works from inside the environment\'s own worktree and with project/env', async () => {
    const box = sandbox();
    const repo = makeRepo({}, 'proj');
    await box.piko(['init'], repo);
    await box.piko(['create', 'a'], repo);
    await box.piko(['create', 'proj/b'], repo);
    const worktree = join(repo, '.piko', 'worktrees', 'a');
    expect((await box.piko(['destroy', 'b'], worktree)).exitCode).toBe(0);
    expect((await box.piko(['destroy', 'proj/a'], repo)).exitCode).toBe(0);
  });

  it('a failing destroy script stops the destroy and keeps the environment as it was', async () => {
    const box = sandbox();
    const repo = makeRepo({ 'docker-compose.yml': COMPOSE, '.piko.yml': 'scripts:\n  destroy: exit 4\n' });
    await box.piko(['init'], repo);
    await box.piko(['create', 'stays'], repo);
    const result = await box.piko(['destroy', 'stays'], repo);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('✗ stays failed at script:destroy (exit 4)');
    expect(existsSync(join(repo, '.piko', 'worktrees', 'stays'))).toBe(true);
    expect(box.docker.calls().some((c) => c.args.includes('down'))).toBe(false);
    expect(JSON.parse((await box.piko(['list', '--json'], repo)).stdout)).toEqual([
      expect.objectContaining({ name: 'stays', status: 'running' }),
    ]);
  });
});
