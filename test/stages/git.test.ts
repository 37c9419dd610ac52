import { existsSync, renameSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { cleanup, git, makeRepo, sandbox } from '../helpers/fixtures.js';

afterEach(cleanup);

describe('git stage', () => {
  it('rolls back a worktree and branch that `git worktree add` made before failing', async () => {
    const box = sandbox();
    const repo = makeRepo();
    await box.piko(['init'], repo);
    // A post-checkout hook that fails makes `worktree add` exit non-zero after it made both.
    writeFileSync(join(repo, '.git', 'hooks', 'post-checkout'), '#!/bin/sh\necho "hook says no" >&2\nexit 1\n');
    chmodSync(join(repo, '.git', 'hooks', 'post-checkout'), 0o755);
    const result = await box.piko(['create', 'hooked'], repo);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain('[git] hook says no');
    expect(result.stderr).toContain('✗ hooked failed at git (exit 1)');
    expect(existsSync(join(repo, '.piko', 'worktrees', 'hooked'))).toBe(false);
    expect(git(repo, 'branch', '--list', 'hooked')).toBe('');
    expect(git(repo, 'worktree', 'list').split('\n')).toHaveLength(1);

    // Nothing is left in the way of the next try.
    writeFileSync(join(repo, '.git', 'hooks', 'post-checkout'), '#!/bin/sh\nexit 0\n');
    expect((await box.piko(['create', 'hooked'], repo)).exitCode).toBe(0);
  });

  it('refuses a .piko that is a symbolic link', async () => {
    const box = sandbox();
    const repo = makeRepo();
    await box.piko(['init'], repo);
    const elsewhere = makeRepo({}, 'elsewhere');
    const { symlinkSync } = await import('node:fs');
    symlinkSync(elsewhere, join(repo, '.piko'));
    const result = await box.piko(['create', 'linked'], repo);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('.piko is a symbolic link');
  });

  it('destroy --force forgets an environment whose repository is gone', async () => {
    const box = sandbox();
    const repo = makeRepo({ '.piko.yml': 'scripts:\n  destroy: echo never\n' });
    await box.piko(['init'], repo);
    await box.piko(['create', 'lost'], repo);
    renameSync(repo, `${repo}-moved`);
    const result = await box.piko(['destroy', 'app/lost', '--force'], `${repo}-moved`);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(`[git] the repository ${repo} is gone`);
    expect(result.stdout).not.toContain('never');
    expect(JSON.parse((await box.piko(['list', '--json'], `${repo}-moved`)).stdout)).toEqual([]);
  });
});
