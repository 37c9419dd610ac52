// `piko prune` and the marks of `piko list`, through the real CLI on real git repositories, tmux
// on the sandbox's private server: which environments are done and why (merged by a merge, a
// squash or a rebase; branch gone; unused, with --idle; worktree removed by hand; left without a
// record), that nothing goes without --yes, that --yes removes exactly those nothing keeps (a
// person's uncommitted work unless --discard-changes; a process working in the worktree or a
// tmux client attached, whatever is asked), and that branches stay.
import { existsSync, mkdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { execa, execaSync, type ResultPromise } from 'execa';
import { cleanup, eventually, gates, git, initProject, sandbox, tempDir, waitForOutput, type Sandbox } from '../helpers/fixtures.js';

/** Processes a test started itself (a process in a worktree, a tmux client): stopped before the folders go. */
const started: ResultPromise[] = [];

afterEach(async () => {
  for (const child of started.splice(0)) {
    child.kill('SIGKILL');
    await child.catch(() => undefined);
  }
  cleanup();
});

const worktreeOf = (repo: string, name: string) => join(repo, '.piko', 'worktrees', name);
const dataDirOf = (repo: string, name: string) => join(repo, '.piko', 'data', name);

/** Commits `files` in the worktree of `name`; returns the commit. */
function commitIn(repo: string, name: string, files: Record<string, string>, message = `work on ${name}`): string {
  const worktree = worktreeOf(repo, name);
  for (const [file, text] of Object.entries(files)) writeFileSync(join(worktree, file), text);
  git(worktree, 'add', '-A');
  git(worktree, 'commit', '-q', '-m', message);
  return git(worktree, 'rev-parse', 'HEAD');
}

async function create(box: Sandbox, repo: string, name: string): Promise<void> {
  const made = await box.piko(['create', name, '--no-attach'], repo);
  if (made.exitCode !== 0) throw new Error(`piko create ${name} failed:\n${made.stdout}\n${made.stderr}`);
}

/** The cells of the row of `app/<name>` in a table piko printed (columns two spaces or more apart), or undefined. */
function row(table: string, name: string): string[] | undefined {
  return table
    .split('\n')
    .find((line) => line.startsWith(`${name} `))
    ?.split(/ {2,}/);
}

/** The environments of the table, by their first cell. */
const named = (table: string): string[] =>
  table
    .split('\n')
    .slice(1)
    .map((line) => line.split(/ {2,}/)[0]!)
    .filter((cell) => /^[\w.-]+\/[\w.-]+$/.test(cell));

/** The STATUS cell of environment `name` in `piko list`'s table. */
function listedStatus(table: string, name: string): string | undefined {
  const [header, ...lines] = table.split('\n');
  const column = header!.split(/ {2,}/).indexOf('STATUS');
  return lines.map((line) => line.split(/ {2,}/)).find((cells) => cells[1] === name)?.[column];
}

interface ListedJson {
  name: string;
  status: string;
  marks: string[];
}

async function listed(box: Sandbox, repo: string): Promise<ListedJson[]> {
  const list = await box.piko(['list', '--json'], repo);
  expect(list.exitCode).toBe(0);
  return JSON.parse(list.stdout) as ListedJson[];
}

async function hasSession(box: Sandbox, name: string): Promise<boolean> {
  return (await execa('tmux', ['-L', box.socket, 'has-session', '-t', `=piko/app/${name}`], { reject: false })).exitCode === 0;
}

/** Puts every time piko knows of `name` (made, used, its operations) `days` days back. */
function age(box: Sandbox, name: string, days: number): void {
  const then = new Date(Date.now() - days * 86_400_000).toISOString();
  const db = new Database(join(box.home, 'state.db'));
  try {
    db.prepare('UPDATE environments SET used_at = ?, created_at = ?, updated_at = ? WHERE name = ?').run(then, then, then, name);
    db.prepare('UPDATE operations SET started_at = ?, ended_at = ? WHERE environment = ?').run(then, then, name);
  } finally {
    db.close();
  }
}

interface PrunedJson {
  project: string;
  environment: string;
  why: string[];
  lastUsed?: string;
  bytes?: number;
  changes: string[];
  heldBy?: string;
  leftovers: number;
  remove: boolean;
  note: string;
}

describe('piko prune', () => {
  it('says which environments are done and why, removes with --yes only those nothing keeps, and those with work with --discard-changes', async () => {
    const box = sandbox();
    const repo = await initProject(box);
    const names = ['fresh', 'merged', 'squashed', 'rebased', 'gone', 'dirty', 'busy', 'watched'];
    for (const name of names) await create(box, repo, name);

    // merged, dirty, busy, watched: a commit each, merged with a merge commit.
    for (const name of ['merged', 'dirty', 'busy', 'watched']) {
      commitIn(repo, name, { [`${name}.txt`]: `${name}\n` });
      git(repo, 'merge', '-q', '--no-ff', '-m', `merge ${name}`, name);
    }
    // squashed: two commits, merged as one.
    commitIn(repo, 'squashed', { 'squashed-1.txt': '1\n' });
    commitIn(repo, 'squashed', { 'squashed-2.txt': '2\n' });
    git(repo, 'merge', '-q', '--squash', 'squashed');
    git(repo, 'commit', '-q', '-m', 'squashed, squashed');
    // rebased: two commits, each picked onto main.
    const picks = [commitIn(repo, 'rebased', { 'rebased-1.txt': '1\n' }), commitIn(repo, 'rebased', { 'rebased-2.txt': '2\n' })];
    git(repo, 'cherry-pick', ...picks);
    // gone: work of its own, then the branch deleted (its worktree let go of it first).
    commitIn(repo, 'gone', { 'gone.txt': 'gone\n' });
    git(worktreeOf(repo, 'gone'), 'checkout', '-q', '--detach');
    git(repo, 'branch', '-q', '-D', 'gone');

    // dirty: work nobody committed.
    writeFileSync(join(worktreeOf(repo, 'dirty'), 'wip.txt'), 'not yet\n');
    // busy: a process working inside its worktree.
    const busy = execa('sleep', ['300'], { cwd: worktreeOf(repo, 'busy'), reject: false });
    started.push(busy);
    await eventually('the process to work in busy', () => {
      try {
        return readlinkSync(`/proc/${busy.pid}/cwd`) === worktreeOf(repo, 'busy');
      } catch {
        return false;
      }
    });
    // watched: a person attached to its tmux session (a control-mode client needs no terminal).
    const socketPath = (await execa('tmux', ['-L', box.socket, 'display-message', '-p', '#{socket_path}'])).stdout.trim();
    const client = execa('tmux', ['-S', socketPath, '-C', 'attach-session', '-t', '=piko/app/watched'], { stdin: 'pipe', reject: false });
    started.push(client);
    await waitForOutput(client.stdout!, /%session-changed \$\d+ piko\/app\/watched/);

    // piko list: merged (by a merge) and gone, at a glance; squashed and rebased are prune's to find.
    const list = await box.piko(['list'], repo);
    expect(list.exitCode).toBe(0);
    expect(Object.fromEntries(names.map((name) => [name, listedStatus(list.stdout, name)]))).toEqual({
      fresh: 'ready',
      merged: 'ready, merged',
      squashed: 'ready',
      rebased: 'ready',
      gone: 'ready, gone',
      dirty: 'ready, merged',
      busy: 'ready, merged',
      watched: 'ready, merged',
    });
    expect(Object.fromEntries((await listed(box, repo)).map((e) => [e.name, e.marks]))).toEqual({
      fresh: [],
      merged: ['merged'],
      squashed: [],
      rebased: [],
      gone: ['gone'],
      dirty: ['merged'],
      busy: ['merged'],
      watched: ['merged'],
    });

    // Without --yes: the table, and nothing removed.
    const asked = await box.piko(['prune'], repo);
    expect(asked.exitCode).toBe(0);
    const lines = asked.stdout.split('\n');
    expect(lines[0]!.split(/ {2,}/)).toEqual(['ENVIRONMENT', 'WHY', 'LAST USED', 'SIZE', 'WHAT HAPPENS']);
    expect(named(asked.stdout)).toEqual(['app/busy', 'app/dirty', 'app/gone', 'app/merged', 'app/rebased', 'app/squashed', 'app/watched']);
    const whyAndWhat = (name: string) => {
      const cells = row(asked.stdout, `app/${name}`)!;
      expect(cells[2]).toMatch(/^\d+ min ago$/);
      expect(cells[3]).toMatch(/^\d+ (KB|MB)$/);
      return [cells[1], cells[4]];
    };
    expect(whyAndWhat('merged')).toEqual(['merged into main', '-']);
    expect(whyAndWhat('squashed')).toEqual(['squashed and merged into main', '-']);
    expect(whyAndWhat('rebased')).toEqual(['rebased and merged into main', '-']);
    expect(whyAndWhat('gone')).toEqual(['branch gone', '-']);
    expect(whyAndWhat('dirty')).toEqual(['merged into main', 'kept: 1 uncommitted change (--discard-changes removes them)']);
    expect(whyAndWhat('busy')).toEqual(['merged into main', 'kept: a process works inside its worktree (sleep)']);
    expect(whyAndWhat('watched')).toEqual(['merged into main', 'kept: a person is attached to its tmux session']);
    expect(asked.stdout).toContain('4 of 7 would be removed: `piko prune --yes` removes them; the others are kept, as said');
    expect((await listed(box, repo)).map((e) => e.name).sort()).toEqual([...names].sort());
    for (const name of names) expect(existsSync(worktreeOf(repo, name))).toBe(true);

    // --json: the same, as data.
    const json = await box.piko(['prune', '--json'], repo);
    expect(json.exitCode).toBe(0);
    const pruned = JSON.parse(json.stdout) as PrunedJson[];
    expect(pruned.map((c) => c.environment)).toEqual(['busy', 'dirty', 'gone', 'merged', 'rebased', 'squashed', 'watched']);
    const of = (name: string) => pruned.find((c) => c.environment === name)!;
    expect(of('merged')).toEqual({
      project: 'app',
      environment: 'merged',
      why: ['merged into main'],
      lastUsed: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      bytes: expect.any(Number),
      changes: [],
      leftovers: 0,
      remove: true,
      note: '-',
    });
    expect(of('merged').bytes).toBeGreaterThan(0);
    expect(of('dirty')).toMatchObject({ why: ['merged into main'], changes: ['?? wip.txt'], remove: false });
    expect(of('dirty').heldBy).toBeUndefined();
    expect(of('busy')).toMatchObject({ changes: [], heldBy: 'a process works inside its worktree (sleep)', remove: false, note: 'kept: a process works inside its worktree (sleep)' });
    expect(of('watched')).toMatchObject({ heldBy: 'a person is attached to its tmux session', remove: false });
    expect(of('gone')).toMatchObject({ why: ['branch gone'], remove: true });
    expect(of('squashed').why).toEqual(['squashed and merged into main']);
    expect(of('rebased').why).toEqual(['rebased and merged into main']);

    // --yes: exactly the four nothing keeps go; their branches stay.
    const pruning = await box.piko(['prune', '--yes'], repo);
    expect(pruning.exitCode).toBe(0);
    for (const name of ['merged', 'squashed', 'rebased', 'gone']) expect(row(pruning.stdout, `app/${name}`)![4]).toBe('removed');
    expect(row(pruning.stdout, `app/busy`)![4]).toBe('kept: a process works inside its worktree (sleep)');
    expect(row(pruning.stdout, `app/watched`)![4]).toBe('kept: a person is attached to its tmux session');
    expect(row(pruning.stdout, `app/dirty`)![4]).toBe('kept: 1 uncommitted change (--discard-changes removes them)');
    expect((await listed(box, repo)).map((e) => e.name).sort()).toEqual(['busy', 'dirty', 'fresh', 'watched']);
    for (const name of ['merged', 'squashed', 'rebased', 'gone']) {
      expect(existsSync(worktreeOf(repo, name))).toBe(false);
      expect(existsSync(dataDirOf(repo, name))).toBe(false);
      expect(await hasSession(box, name)).toBe(false);
    }
    expect(git(repo, 'branch', '--list', '--format=%(refname:short)').split('\n').sort()).toEqual(['busy', 'dirty', 'fresh', 'main', 'merged', 'rebased', 'squashed', 'watched']);
    expect(git(repo, 'worktree', 'list', '--porcelain')).not.toMatch(/worktrees\/(merged|squashed|rebased|gone)\n/);
    for (const name of ['fresh', 'dirty', 'busy', 'watched']) {
      expect(existsSync(worktreeOf(repo, name))).toBe(true);
      expect(existsSync(dataDirOf(repo, name))).toBe(true);
    }
    expect(existsSync(join(worktreeOf(repo, 'dirty'), 'wip.txt'))).toBe(true);

    // Again: the kept ones, kept for the same reasons.
    const again = await box.piko(['prune'], repo);
    expect(named(again.stdout)).toEqual(['app/busy', 'app/dirty', 'app/watched']);
    expect(again.stdout).toContain('0 of 3 would be removed');

    // --discard-changes: dirty goes too, with its work; those in use never.
    const discarding = await box.piko(['prune', '--yes', '--discard-changes'], repo);
    expect(discarding.exitCode).toBe(0);
    expect(row(discarding.stdout, 'app/dirty')![4]).toBe('1 uncommitted change, discarded');
    expect(row(discarding.stdout, 'app/busy')![4]).toBe('kept: a process works inside its worktree (sleep)');
    expect(row(discarding.stdout, 'app/watched')![4]).toBe('kept: a person is attached to its tmux session');
    expect(existsSync(worktreeOf(repo, 'dirty'))).toBe(false);
    expect(existsSync(dataDirOf(repo, 'dirty'))).toBe(false);
    expect(git(repo, 'branch', '--list', 'dirty')).toContain('dirty');
    expect((await listed(box, repo)).map((e) => e.name).sort()).toEqual(['busy', 'fresh', 'watched']);
    // What kept them is as it was.
    expect(busy.exitCode).toBeNull();
    expect(existsSync(worktreeOf(repo, 'busy'))).toBe(true);
    expect(await hasSession(box, 'watched')).toBe(true);

    // Once let go of, they go.
    for (const child of started.splice(0)) {
      child.kill('SIGKILL');
      await child;
    }
    const last = await box.piko(['prune', '--yes'], repo);
    expect(last.exitCode).toBe(0);
    expect(row(last.stdout, 'app/busy')![4]).toBe('removed');
    expect(row(last.stdout, 'app/watched')![4]).toBe('removed');
    expect((await listed(box, repo)).map((e) => e.name)).toEqual(['fresh']);
    expect((await box.piko(['prune'], repo)).stdout).toMatch(/^nothing to prune: /);
  }, 240_000);

  it('--idle counts an environment nobody used for that long, which list marks idle; using it again makes it new', async () => {
    const box = sandbox();
    const repo = await initProject(box, { '.piko.yml': 'scripts:\n  run: "true"\n' });
    await create(box, repo, 'old');
    await create(box, repo, 'recent');
    age(box, 'old', 40);

    // Without --idle, unused is not done.
    const plain = await box.piko(['prune'], repo);
    expect(plain.exitCode).toBe(0);
    expect(plain.stdout).toBe('nothing to prune: no environment is merged, gone or left without a record (--idle 30d also counts the unused ones)');

    const idle = await box.piko(['prune', '--idle', '30d'], repo);
    expect(idle.exitCode).toBe(0);
    expect(named(idle.stdout)).toEqual(['app/old']);
    const cells = row(idle.stdout, 'app/old')!;
    expect(cells.slice(1, 3)).toEqual(['unused for 40 days', '40 days ago']);
    expect(cells[4]).toBe('-');
    expect(idle.stdout).toContain('1 of 1 would be removed: `piko prune --yes --idle 30d` removes them');
    // Longer than that: not yet.
    expect((await box.piko(['prune', '--idle', '6w'], repo)).stdout).toBe('nothing to prune: no environment is merged, gone, idle or left without a record');
    const json = JSON.parse((await box.piko(['prune', '--idle', '30d', '--json'], repo)).stdout) as PrunedJson[];
    expect(json).toEqual([expect.objectContaining({ environment: 'old', why: ['unused for 40 days'], remove: true })]);
    expect(Date.now() - Date.parse(json[0]!.lastUsed!)).toBeGreaterThan(39 * 86_400_000);

    // list marks it idle (after 14 days), the other not.
    const list = await box.piko(['list'], repo);
    expect(listedStatus(list.stdout, 'old')).toBe('ready, idle');
    expect(listedStatus(list.stdout, 'recent')).toBe('ready');
    expect(Object.fromEntries((await listed(box, repo)).map((e) => [e.name, e.marks]))).toEqual({ old: ['idle'], recent: [] });

    // A person using it (piko run) is a use.
    expect((await box.piko(['run', 'old'], repo)).exitCode).toBe(0);
    expect((await box.piko(['prune', '--idle', '30d'], repo)).stdout).toMatch(/^nothing to prune/);
    expect(Object.fromEntries((await listed(box, repo)).map((e) => [e.name, e.marks]))).toEqual({ old: [], recent: [] });

    // --yes removes an idle one.
    age(box, 'recent', 20);
    const removed = await box.piko(['prune', '--idle', '2w', '--yes'], repo);
    expect(removed.exitCode).toBe(0);
    expect(row(removed.stdout, 'app/recent')!.slice(1)).toEqual(['unused for 20 days', '20 days ago', expect.any(String), 'removed']);
    expect((await listed(box, repo)).map((e) => e.name)).toEqual(['old']);
    expect(existsSync(worktreeOf(repo, 'recent'))).toBe(false);
  }, 120_000);

  it('is not kept by its own git calls in the worktree, however long they take', async () => {
    const box = sandbox();
    const repo = await initProject(box);
    await create(box, repo, 'big');
    commitIn(repo, 'big', { 'big.txt': 'big\n' });
    git(repo, 'merge', '-q', '--no-ff', '-m', 'merge big', 'big');
    // Enough untracked files that prune's `git status` there is still running while it looks
    // for processes working in the worktree.
    const many = join(worktreeOf(repo, 'big'), 'many');
    mkdirSync(many);
    for (let i = 0; i < 30_000; i++) writeFileSync(join(many, String(i)), '');
    const json = JSON.parse((await box.piko(['prune', '--json', '--discard-changes'], repo)).stdout) as PrunedJson[];
    expect(json).toHaveLength(1);
    expect(json[0]!.changes).toHaveLength(30_000);
    expect(json[0]!.heldBy).toBeUndefined();
    expect(json[0]).toMatchObject({ environment: 'big', remove: true, note: '30000 uncommitted changes, discarded' });
    const pruning = await box.piko(['prune', '--yes', '--discard-changes'], repo);
    expect(pruning.exitCode).toBe(0);
    expect(existsSync(worktreeOf(repo, 'big'))).toBe(false);
    expect(await listed(box, repo)).toEqual([]);
  }, 120_000);

  it('keeps an environment an operation is running on', async () => {
    const box = sandbox();
    const gate = gates();
    const repo = await initProject(box, { '.piko.yml': `scripts:\n  destroy: ${JSON.stringify(`echo leaving now && ${gate.wait()}`)}\n` });
    await create(box, repo, 'leaving');
    commitIn(repo, 'leaving', { 'leaving.txt': 'leaving\n' });
    git(repo, 'merge', '-q', '--no-ff', '-m', 'merge leaving', 'leaving');
    const destroying = box.spawn(['destroy', 'leaving'], repo);
    await waitForOutput(destroying.stdout!, /leaving now/);

    const json = JSON.parse((await box.piko(['prune', '--json'], repo)).stdout) as PrunedJson[];
    expect(json).toEqual([expect.objectContaining({ environment: 'leaving', why: ['merged into main'], heldBy: 'an operation is running on it', remove: false })]);
    const pruning = await box.piko(['prune', '--yes'], repo);
    expect(pruning.exitCode).toBe(0);
    expect(row(pruning.stdout, 'app/leaving')![4]).toBe('kept: an operation is running on it');
    expect(destroying.exitCode).toBeNull();

    gate.open();
    expect((await destroying).exitCode).toBe(0);
    expect(await listed(box, repo)).toEqual([]);
    expect((await box.piko(['prune'], repo)).stdout).toMatch(/^nothing to prune/);
  }, 60_000);

  it('looks in the project the user stands in, the one --project names, or else every one; the command it suggests keeps the flags', async () => {
    const box = sandbox();
    const app = await initProject(box, {}, 'app');
    const shop = await initProject(box, {}, 'shop');
    for (const repo of [app, shop]) {
      await create(box, repo, 'done');
      commitIn(repo, 'done', { 'done.txt': 'done\n' });
      git(repo, 'merge', '-q', '--no-ff', '-m', 'merge done', 'done');
    }
    writeFileSync(join(worktreeOf(shop, 'done'), 'wip.txt'), 'not yet\n');

    const inApp = await box.piko(['prune'], app);
    expect(named(inApp.stdout)).toEqual(['app/done']);
    expect(inApp.stdout).toContain('1 of 1 would be removed: `piko prune --yes` removes them');
    // From inside a worktree: its project (and the prune itself working there does not keep it).
    const inWorktree = await box.piko(['prune'], worktreeOf(shop, 'done'));
    expect(named(inWorktree.stdout)).toEqual(['shop/done']);
    expect(row(inWorktree.stdout, 'shop/done')![4]).toBe('kept: 1 uncommitted change (--discard-changes removes them)');

    const shopOnly = await box.piko(['prune', '--project', 'shop', '--discard-changes'], app);
    expect(shopOnly.stdout).toMatch(/^shop\/done +merged into main .* 1 uncommitted change, discarded$/m);
    expect(shopOnly.stdout).toContain('1 of 1 would be removed: `piko prune --yes --discard-changes --project shop` removes them');
    expect(existsSync(worktreeOf(shop, 'done'))).toBe(true);

    const everywhere = JSON.parse((await box.piko(['prune', '--json'], tempDir('piko-elsewhere-'))).stdout) as PrunedJson[];
    expect(everywhere.map((c) => `${c.project}/${c.environment}`)).toEqual(['app/done', 'shop/done']);

    const unknown = await box.piko(['prune', '--project', 'nope'], app);
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toContain('nope');

    expect((await box.piko(['prune', '--yes', '--project', 'shop'], app)).exitCode).toBe(0);
    // shop/done had work: kept; app/done was not asked about.
    expect(existsSync(worktreeOf(shop, 'done'))).toBe(true);
    expect(existsSync(worktreeOf(app, 'done'))).toBe(true);
    expect((await box.piko(['prune', '--yes', '--discard-changes', '--project', 'shop'], app)).exitCode).toBe(0);
    expect(existsSync(worktreeOf(shop, 'done'))).toBe(false);
    expect(existsSync(worktreeOf(app, 'done'))).toBe(true);
  }, 120_000);

  it('says which removal failed, removes the others, and exits 1', async () => {
    const box = sandbox();
    const repo = await initProject(box, { '.piko.yml': 'scripts:\n  destroy: \'[ "$PIKO_ENV_NAME" != stuck ]\'\n' });
    for (const name of ['stuck', 'done']) {
      await create(box, repo, name);
      commitIn(repo, name, { [`${name}.txt`]: `${name}\n` });
      git(repo, 'merge', '-q', '--no-ff', '-m', `merge ${name}`, name);
    }
    const pruning = await box.piko(['prune', '--yes'], repo);
    expect(pruning.exitCode).toBe(1);
    expect(pruning.stderr).toContain('✗ stuck failed at script:destroy (exit 1)');
    expect((await listed(box, repo)).map((e) => e.name)).toEqual(['stuck']);
    expect(existsSync(worktreeOf(repo, 'stuck'))).toBe(true);
    expect(existsSync(worktreeOf(repo, 'done'))).toBe(false);
  }, 60_000);

  it('refuses an --idle it cannot read', async () => {
    const box = sandbox();
    const repo = await initProject(box);
    const bad = await box.piko(['prune', '--idle', 'soon'], repo);
    expect(bad.exitCode).not.toBe(0);
    expect(bad.stderr).toContain('--idle "soon": a number with m, h, d or w after it');
  });

  it('counts a worktree removed by hand, and removes the rest of it', async () => {
    const box = sandbox();
    const repo = await initProject(box);
    await create(box, repo, 'byhand');
    rmSync(worktreeOf(repo, 'byhand'), { recursive: true, force: true });
    const asked = await box.piko(['prune'], repo);
    expect(asked.exitCode).toBe(0);
    expect(row(asked.stdout, 'app/byhand')!.slice(1, 2)).toEqual(['worktree removed']);
    expect(row(asked.stdout, 'app/byhand')![4]).toBe('-');
    const pruning = await box.piko(['prune', '--yes'], repo);
    expect(pruning.exitCode).toBe(0);
    expect(await listed(box, repo)).toEqual([]);
    expect(existsSync(dataDirOf(repo, 'byhand'))).toBe(false);
    expect(await hasSession(box, 'byhand')).toBe(false);
  }, 60_000);

  it('finds what piko made for an environment it has no record of, and --yes removes it (work only with --discard-changes)', async () => {
    const box = sandbox();
    const repo = await initProject(box);
    for (const name of ['orphan', 'stray', 'kept']) await create(box, repo, name);
    writeFileSync(join(worktreeOf(repo, 'stray'), 'notes.txt'), 'mine\n');
    const db = new Database(join(box.home, 'state.db'));
    try {
      for (const name of ['orphan', 'stray']) {
        db.prepare('DELETE FROM operations WHERE environment = ?').run(name);
        db.prepare('DELETE FROM environments WHERE name = ?').run(name);
      }
    } finally {
      db.close();
    }
    expect((await listed(box, repo)).map((e) => e.name)).toEqual(['kept']);

    const asked = await box.piko(['prune'], repo);
    expect(asked.exitCode).toBe(0);
    expect(named(asked.stdout)).toEqual(['app/orphan', 'app/stray']);
    expect(row(asked.stdout, 'app/orphan')!).toEqual(['app/orphan', 'no record: what piko made is left', '-', expect.stringMatching(/^\d+ KB$/), '-']);
    expect(row(asked.stdout, 'app/stray')![4]).toBe('kept: 1 uncommitted change (--discard-changes removes them)');
    const json = JSON.parse((await box.piko(['prune', '--json'], repo)).stdout) as PrunedJson[];
    expect(json.find((c) => c.environment === 'orphan')).toEqual({
      project: 'app',
      environment: 'orphan',
      why: ['no record: what piko made is left'],
      bytes: expect.any(Number),
      changes: [],
      // Its worktree, branch, data dir and tmux session.
      leftovers: 4,
      remove: true,
      note: '-',
    });

    const pruning = await box.piko(['prune', '--yes'], repo);
    expect(pruning.exitCode).toBe(0);
    expect(pruning.stderr).toContain(`[prune] app/orphan: git -C ${repo} worktree remove --force ${worktreeOf(repo, 'orphan')}`);
    expect(pruning.stderr).toContain('✓ app/orphan: what was left is removed');
    expect(existsSync(worktreeOf(repo, 'orphan'))).toBe(false);
    expect(existsSync(dataDirOf(repo, 'orphan'))).toBe(false);
    expect(await hasSession(box, 'orphan')).toBe(false);
    expect(git(repo, 'branch', '--list', 'orphan')).toContain('orphan');
    // The one with work stays, as does the one with a record.
    expect(existsSync(join(worktreeOf(repo, 'stray'), 'notes.txt'))).toBe(true);
    expect(existsSync(worktreeOf(repo, 'kept'))).toBe(true);

    const discarding = await box.piko(['prune', '--yes', '--discard-changes'], repo);
    expect(discarding.exitCode).toBe(0);
    expect(existsSync(worktreeOf(repo, 'stray'))).toBe(false);
    expect(existsSync(dataDirOf(repo, 'stray'))).toBe(false);
    expect(git(repo, 'branch', '--list', 'stray')).toContain('stray');
    expect((await box.piko(['prune'], repo)).stdout).toMatch(/^nothing to prune/);
    expect((await listed(box, repo)).map((e) => e.name)).toEqual(['kept']);
    expect(execaSync('git', ['-C', repo, 'worktree', 'list', '--porcelain']).stdout).not.toContain('orphan');
  }, 120_000);
});

describe("piko list's merged mark", () => {
  it('is not given to a branch moved back behind the commit it was made from (nothing of its own reached the base)', async () => {
    const box = sandbox();
    const repo = await initProject(box);
    const older = git(repo, 'rev-parse', 'HEAD');
    git(repo, 'commit', '-q', '--allow-empty', '-m', 'main moves on');
    await create(box, repo, 'behind');
    await create(box, repo, 'ahead');
    // behind: reset to a commit before the one it was made from; ahead: work of its own, merged.
    git(worktreeOf(repo, 'behind'), 'reset', '-q', '--hard', older);
    commitIn(repo, 'ahead', { 'ahead.txt': 'ahead\n' });
    git(repo, 'merge', '-q', '--no-ff', '-m', 'merge ahead', 'ahead');
    expect(Object.fromEntries((await listed(box, repo)).map((e) => [e.name, e.marks]))).toEqual({ ahead: ['merged'], behind: [] });
  });
});
