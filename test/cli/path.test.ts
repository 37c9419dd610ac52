// `piko path <name>`: the worktree's path alone on stdout, through the real CLI.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from '@jest/globals';
import { cleanup, initProject, PIKO_BIN, sandbox, tempDir } from '../helpers/fixtures.js';

afterEach(cleanup);

describe('piko path', () => {
  it('prints the worktree path and nothing else, by name or project/name, from anywhere', async () => {
    const box = sandbox();
    const repo = await initProject(box);
    expect((await box.piko(['create', 'feat-1'], repo)).exitCode).toBe(0);
    const worktree = join(repo, '.piko', 'worktrees', 'feat-1');

    for (const [name, cwd] of [
      ['feat-1', repo],
      ['feat-1', worktree],
      ['app/feat-1', tempDir()],
    ] as const) {
      const result = await box.piko(['path', name], cwd);
      // (execa takes the one final newline off.)
      expect({ name, cwd, ...result }).toEqual({ name, cwd, stdout: worktree, stderr: '', exitCode: 0 });
    }

    // What it is for: a shell goes there.
    const shell = await execa('sh', ['-c', `cd "$(node '${PIKO_BIN}' path app/feat-1)" && pwd`], { cwd: tempDir(), env: box.env });
    expect(shell.stdout).toBe(worktree);
  });

  it('says what is wrong on stderr, prints nothing on stdout and exits 1', async () => {
    const box = sandbox();
    const repo = await initProject(box);
    const shop = await initProject(box, {}, 'shop');
    for (const cwd of [repo, shop]) expect((await box.piko(['create', 'feat-1'], cwd)).exitCode).toBe(0);

    const unknown = await box.piko(['path', 'nope'], repo);
    expect(unknown).toEqual({ stdout: '', stderr: expect.stringContaining('no environment "nope" in project app (environments: app/feat-1)'), exitCode: 1 });

    // Outside both projects a bare name in both is ambiguous: the candidates are listed.
    const ambiguous = await box.piko(['path', 'feat-1'], tempDir());
    expect(ambiguous.exitCode).toBe(1);
    expect(ambiguous.stdout).toBe('');
    expect(ambiguous.stderr).toContain('"feat-1" is in several projects: say which (app/feat-1, shop/feat-1)');

    const noProject = await box.piko(['path', 'nowhere/feat-1'], repo);
    expect(noProject.exitCode).toBe(1);
    expect(noProject.stderr).toContain('no project named "nowhere"');

    // A worktree removed behind piko's back is not printed as if it were there.
    const gone = join(shop, '.piko', 'worktrees', 'feat-1');
    rmSync(gone, { recursive: true, force: true });
    const missing = await box.piko(['path', 'shop/feat-1'], repo);
    expect(missing.exitCode).toBe(1);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toContain(`shop/feat-1 has no worktree at ${gone}`);
    expect(missing.stderr).toContain('piko destroy --force shop/feat-1');
  });

  it('needs a name', async () => {
    const box = sandbox();
    const repo = await initProject(box);
    const result = await box.piko(['path'], repo);
    expect(result.exitCode).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain("missing required argument 'name'");
  });
});
