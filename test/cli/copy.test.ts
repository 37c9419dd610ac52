// Warm environments: the copy stage gives a new worktree the ignored files `.worktreeinclude`
// (or `copy:`) names, from the repository or from another environment, through the real CLI.
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { cleanup, DURATION, git, initProject, sandbox, tempDir, waitForOutput, writeFiles } from '../helpers/fixtures.js';

afterEach(cleanup);

const worktree = (repo: string, env: string) => join(repo, '.piko', 'worktrees', env);

/** What a project has next to its tracked files once someone has worked in it. */
function workedIn(repo: string): void {
  writeFiles(repo, {
    'node_modules/pkg/index.js': 'module.exports = 1;\n',
    'node_modules/pkg/bin.js': '#!/usr/bin/env node\n',
    '.env': 'SECRET=from-main\n',
    'config/local.yml': 'local: true\n',
    'build/out.bin': 'not named, not copied\n',
    'notes.txt': 'untracked but not ignored: never copied\n',
    'debug.log': 'ignored, named by no pattern\n',
  });
  mkdirSync(join(repo, 'node_modules', '.bin'));
  symlinkSync('../pkg/bin.js', join(repo, 'node_modules', '.bin', 'tool'));
}

const GITIGNORE = 'node_modules/\n.env\nconfig/local.yml\nbuild/\n*.log\n';
const INCLUDE = 'node_modules/\n.env\nconfig/\nREADME.md\nnotes.txt\n';

describe('the copy stage', () => {
  it('copies only what is both named and ignored, never a tracked file, .git or .piko, and says what it copied', async () => {
    const box = sandbox();
    const repo = await initProject(box, { '.gitignore': GITIGNORE, '.worktreeinclude': INCLUDE, 'config/app.yml': 'tracked: true\n' });
    workedIn(repo);
    writeFileSync(join(repo, 'README.md'), 'changed in main, not committed\n');
    const created = await box.piko(['create', 'warm', '--no-attach'], repo);
    expect(created.exitCode).toBe(0);
    const tree = worktree(repo, 'warm');
    expect(readFileSync(join(tree, 'node_modules', 'pkg', 'index.js'), 'utf8')).toBe('module.exports = 1;\n');
    expect(readFileSync(join(tree, '.env'), 'utf8')).toBe('SECRET=from-main\n');
    expect(readFileSync(join(tree, 'config', 'local.yml'), 'utf8')).toBe('local: true\n');
    // Tracked files come from git, as committed; untracked files that are not ignored, and ignored ones nobody named, stay behind.
    expect(readFileSync(join(tree, 'README.md'), 'utf8')).toBe('# test repo\n');
    expect(existsSync(join(tree, 'notes.txt'))).toBe(false);
    expect(existsSync(join(tree, 'build'))).toBe(false);
    expect(existsSync(join(tree, 'debug.log'))).toBe(false);
    expect(existsSync(join(tree, '.piko'))).toBe(false);
    expect(lstatSync(join(tree, '.git')).isFile()).toBe(true);
    // Each copy is a line of the stage's own, and the stage is in the summary between git and prepare.
    expect(created.stdout).toMatch(new RegExp(`\\[copy\\] node_modules 40 B in \\d+\\.\\d s \\((reflink|copied: no reflinks on this file system)\\)`));
    expect(created.stdout).toMatch(/\[copy\] \.env 17 B in /);
    expect(created.stdout).toMatch(/\[copy\] config\/local\.yml 12 B in /);
    expect(created.stdout).not.toMatch(/\[copy\] (README|notes|build|debug)/);
    expect(created.stdout).toMatch(new RegExp(`git ${DURATION} · copy ${DURATION} · tmux`));
    // The copy is the environment's own: a change there is not a change in main.
    writeFileSync(join(tree, '.env'), 'SECRET=changed\n');
    expect(readFileSync(join(repo, '.env'), 'utf8')).toBe('SECRET=from-main\n');
    // Ignored files never count as work: destroy needs no --force.
    expect((await box.piko(['destroy', 'warm'], repo)).exitCode).toBe(0);
  });

  it('copies symbolic links as links, never following one out of the worktree', async () => {
    const box = sandbox();
    const repo = await initProject(box, { '.gitignore': GITIGNORE, '.worktreeinclude': INCLUDE });
    workedIn(repo);
    const outside = tempDir();
    writeFileSync(join(outside, 'secret'), 'outside\n');
    symlinkSync(outside, join(repo, 'node_modules', 'elsewhere'));
    symlinkSync(join(repo, 'node_modules', 'pkg'), join(repo, 'node_modules', 'absolute-inside'));
    expect((await box.piko(['create', 'links', '--no-attach'], repo)).exitCode).toBe(0);
    const tree = worktree(repo, 'links');
    // Relative: as it was, and it works in the copy.
    expect(readlinkSync(join(tree, 'node_modules', '.bin', 'tool'))).toBe('../pkg/bin.js');
    expect(readFileSync(join(tree, 'node_modules', '.bin', 'tool'), 'utf8')).toBe('#!/usr/bin/env node\n');
    // A link out of the worktree stays a link: nothing was copied from there.
    expect(lstatSync(join(tree, 'node_modules', 'elsewhere')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(tree, 'node_modules', 'elsewhere'))).toBe(outside);
    // An absolute link into the worktree copied from points into the new one, not back at the old.
    expect(readlinkSync(join(tree, 'node_modules', 'absolute-inside'))).toBe(join(tree, 'node_modules', 'pkg'));
  });

  it('copies a folder once when its files are named one by one as well', async () => {
    const box = sandbox();
    const repo = await initProject(box, { '.gitignore': GITIGNORE, '.worktreeinclude': `${INCLUDE}config/local.yml\n` });
    workedIn(repo);
    const created = await box.piko(['create', 'once', '--no-attach'], repo);
    expect(created.exitCode).toBe(0);
    expect(created.stdout.match(/\[copy\] config/g)).toHaveLength(1);
    expect(readFileSync(join(worktree(repo, 'once'), 'config', 'local.yml'), 'utf8')).toBe('local: true\n');
  });

  it('never overwrites a file the new worktree already has, nor copies what its branch does not ignore', async () => {
    const box = sandbox();
    const repo = await initProject(box, { '.gitignore': GITIGNORE, '.worktreeinclude': INCLUDE });
    // On branch `other`, .env is tracked; the environment branches from it.
    git(repo, 'checkout', '-q', '-b', 'other');
    writeFileSync(join(repo, '.env'), 'SECRET=tracked-on-other\n');
    git(repo, 'add', '-f', '.env');
    git(repo, 'commit', '-q', '-m', 'track .env');
    git(repo, 'checkout', '-q', 'main');
    workedIn(repo);
    const created = await box.piko(['create', 'kept', '--branch', 'other', '--no-attach'], repo);
    expect(created.exitCode).toBe(0);
    expect(readFileSync(join(worktree(repo, 'kept'), '.env'), 'utf8')).toBe('SECRET=tracked-on-other\n');
    expect(created.stdout).toContain("[copy] .env left out: this worktree's branch does not ignore it (a copy would show as a change)");
    // A folder it has is copied into, and what is in it stays.
    writeFiles(repo, { 'node_modules/pkg/extra.js': 'extra\n' });
    git(repo, 'checkout', '-q', 'other');
    git(repo, 'add', '-f', 'node_modules/pkg/index.js');
    git(repo, 'commit', '-q', '-m', 'track one file of node_modules');
    git(repo, 'checkout', '-q', 'main');
    writeFileSync(join(repo, 'node_modules', 'pkg', 'index.js'), 'module.exports = "main";\n');
    const merged = await box.piko(['create', 'merged', '--branch', 'other', '--no-attach'], repo);
    expect(merged.exitCode).toBe(0);
    const tree = worktree(repo, 'merged');
    expect(readFileSync(join(tree, 'node_modules', 'pkg', 'index.js'), 'utf8')).toBe('module.exports = 1;\n');
    expect(readFileSync(join(tree, 'node_modules', 'pkg', 'extra.js'), 'utf8')).toBe('extra\n');
    expect(merged.stdout).toMatch(/\[copy\] node_modules .*; 1 already there, left as it was/);
  });

  it('never goes through a link the new branch tracks, out of the worktree', async () => {
    const box = sandbox();
    const outside = tempDir();
    const repo = await initProject(box, { '.gitignore': GITIGNORE, '.worktreeinclude': INCLUDE });
    // On branch `linked`, config is a link out of the repository.
    git(repo, 'checkout', '-q', '-b', 'linked');
    git(repo, 'rm', '-q', '-r', '--cached', '--ignore-unmatch', 'config');
    symlinkSync(outside, join(repo, 'config'));
    git(repo, 'add', 'config');
    git(repo, 'commit', '-q', '-m', 'config is a link');
    git(repo, 'checkout', '-q', 'main');
    workedIn(repo);
    const created = await box.piko(['create', 'through', '--branch', 'linked', '--no-attach'], repo);
    expect(created.exitCode).toBe(0);
    expect(readdirSync(outside)).toEqual([]);
    expect(created.stdout).toMatch(/\[copy\] config(\/local\.yml)? left out: config in this worktree is not a folder/);
  });

  it('takes a folder the new branch does not ignore file by file, past a link deep inside it', async () => {
    const box = sandbox();
    const outside = tempDir();
    const repo = await initProject(box, { '.gitignore': GITIGNORE, '.worktreeinclude': INCLUDE });
    // On branch `deep`, .gitignore names only *.js, and node_modules/a-link is a tracked link out of the repository.
    git(repo, 'checkout', '-q', '-b', 'deep');
    writeFileSync(join(repo, '.gitignore'), '*.js\n');
    mkdirSync(join(repo, 'node_modules'));
    symlinkSync(outside, join(repo, 'node_modules', 'a-link'));
    git(repo, 'add', '.gitignore', 'node_modules/a-link');
    git(repo, 'commit', '-q', '-m', 'deep link');
    git(repo, 'checkout', '-q', 'main');
    rmSync(join(repo, 'node_modules'), { recursive: true, force: true });
    writeFiles(repo, { 'node_modules/a-link/x.js': 'behind the link\n', 'node_modules/z.js': 'z\n', 'node_modules/z.txt': 'not ignored there\n' });
    const created = await box.piko(['create', 'past', '--branch', 'deep', '--no-attach'], repo);
    expect(created.exitCode).toBe(0);
    const tree = worktree(repo, 'past');
    // What that branch ignores is copied (git refusing the path behind the link does not stop the rest) …
    expect(readFileSync(join(tree, 'node_modules', 'z.js'), 'utf8')).toBe('z\n');
    // … what it does not ignore, and anything through the link, is not.
    expect(existsSync(join(tree, 'node_modules', 'z.txt'))).toBe(false);
    expect(readdirSync(outside)).toEqual([]);
    expect(created.stdout).toContain('[copy] 2 files of node_modules left out');
  });

  it('copies paths with spaces, and follows copy: in the config as it follows .worktreeinclude', async () => {
    const box = sandbox();
    const repo = await initProject(box, {
      '.gitignore': 'my cache/\n',
      '.piko.yml': 'copy:\n  - "my cache/"\n',
    });
    writeFiles(repo, { 'my cache/a file.txt': 'cached\n' });
    const created = await box.piko(['create', 'spaced', '--no-attach'], repo);
    expect(created.exitCode).toBe(0);
    expect(readFileSync(join(worktree(repo, 'spaced'), 'my cache', 'a file.txt'), 'utf8')).toBe('cached\n');
    expect(created.stdout).toMatch(/\[copy\] my cache 7 B in /);
  });

  it('is skipped when nothing names anything to copy', async () => {
    const box = sandbox();
    const repo = await initProject(box, { '.gitignore': GITIGNORE });
    workedIn(repo);
    const created = await box.piko(['create', 'cold', '--no-attach', '--json'], repo);
    const skip = created.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; name?: string; state?: string; reason?: string }).find((m) => m.type === 'stage' && m.name === 'copy');
    expect(skip).toMatchObject({ state: 'skip', reason: `no .worktreeinclude in ${repo} and no copy: in the config` });
    expect(existsSync(join(worktree(repo, 'cold'), 'node_modules'))).toBe(false);
  });

  it('rolls back what it copied when a later stage fails, and leaves the source as it was', async () => {
    const box = sandbox();
    const repo = await initProject(box, { '.gitignore': GITIGNORE, '.worktreeinclude': INCLUDE, '.piko.yml': 'scripts:\n  setup: exit 4\n' });
    workedIn(repo);
    const failed = await box.piko(['create', 'broken', '--no-attach', '--yes'], repo);
    expect(failed.exitCode).toBe(1);
    expect(failed.stdout).toContain('[piko] rolling back copy');
    expect(existsSync(worktree(repo, 'broken'))).toBe(false);
    expect(readFileSync(join(repo, 'node_modules', 'pkg', 'index.js'), 'utf8')).toBe('module.exports = 1;\n');
    expect(readFileSync(join(repo, '.env'), 'utf8')).toBe('SECRET=from-main\n');
  });

  it('stops when cancelled mid-copy, and rolls back', async () => {
    const box = sandbox();
    const repo = await initProject(box, { '.gitignore': GITIGNORE, '.worktreeinclude': INCLUDE });
    workedIn(repo);
    // `.env` is copied first (paths go in order), then a node_modules big enough to be mid-way when the cancel comes.
    const many = join(repo, 'node_modules', 'many');
    mkdirSync(many);
    for (let i = 0; i < 10_000; i++) writeFileSync(join(many, `f${i}`), '');
    const child = box.spawn(['create', 'stopped', '--no-attach'], repo);
    await waitForOutput(child.stdout!, /\[copy\] \.env /);
    child.kill('SIGTERM');
    const result = await child;
    expect(result.exitCode).toBe(130);
    expect(String(result.stderr)).toMatch(/✗ stopped cancelled during copy/);
    expect(existsSync(worktree(repo, 'stopped'))).toBe(false);
    expect(git(repo, 'branch', '--list', 'stopped')).toBe('');
  });
});

describe('piko create --from', () => {
  it('copies from another environment instead of the repository', async () => {
    const box = sandbox();
    const repo = await initProject(box, { '.gitignore': GITIGNORE, '.worktreeinclude': INCLUDE });
    workedIn(repo);
    expect((await box.piko(['create', 'first', '--no-attach'], repo)).exitCode).toBe(0);
    writeFileSync(join(worktree(repo, 'first'), 'node_modules', 'pkg', 'index.js'), 'module.exports = "first";\n');
    const second = await box.piko(['create', 'second', '--from', 'first', '--no-attach'], repo);
    expect(second.exitCode).toBe(0);
    expect(readFileSync(join(worktree(repo, 'second'), 'node_modules', 'pkg', 'index.js'), 'utf8')).toBe('module.exports = "first";\n');
    const missing = await box.piko(['create', 'third', '--from', 'nowhere', '--no-attach'], repo);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toMatch(/^✗ third: no environment "nowhere" in project "app" \(environments: first, second\)/);
    expect(existsSync(worktree(repo, 'third'))).toBe(false);
  });
});
