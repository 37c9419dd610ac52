// What piko made for an environment whose record is lost (state.db removed while it existed):
// `piko doctor` finds it by its paths and names, and a create of the same name refuses before
// making anything, naming what is left and the commands that remove it, which do. Real git
// repositories, tmux on the sandbox's private socket, the stand-in docker.
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { cleanup, git, initProject, makeRepo, pathWithoutDocker, sandbox, type Sandbox } from '../helpers/fixtures.js';

afterEach(cleanup);

/** The state database gone, as if removed while piko ran: every row with it. */
function loseState(box: Sandbox): void {
  for (const file of readdirSync(box.home)) if (file.startsWith('state.db')) rmSync(join(box.home, file));
}

interface LeftoverJson {
  kind: string;
  project: string;
  environment: string;
  what: string;
  remove: string[];
  keep?: { note: string; remove: string[] };
  [key: string]: unknown;
}

interface CheckJson {
  name: string;
  result: string;
  detail: string;
  leftovers?: LeftoverJson[];
  skipped?: string[];
}

async function doctorJson(box: Sandbox, cwd: string, env: Record<string, string> = {}): Promise<CheckJson> {
  const run = await box.piko(['doctor', '--json'], cwd, env);
  return (JSON.parse(run.stdout) as CheckJson[]).find((check) => check.name === 'leftovers')!;
}

/** Everything a create could change, to compare before and after one that must change nothing. */
function snapshot(box: Sandbox, repo: string, name: string) {
  const worktree = join(repo, '.piko', 'worktrees', name);
  return {
    worktrees: git(repo, 'worktree', 'list', '--porcelain'),
    branches: git(repo, 'branch', '--list', '-v', '--no-abbrev'),
    files: existsSync(worktree) ? readdirSync(worktree).sort() : [],
    status: existsSync(worktree) ? git(worktree, 'status', '--porcelain') : '',
    data: existsSync(join(repo, '.piko', 'data', name)) ? readdirSync(join(repo, '.piko', 'data', name)).sort() : undefined,
    logs: existsSync(join(box.home, 'logs')) ? readdirSync(join(box.home, 'logs')).sort() : [],
    // Asking the engine what it has changes nothing; any other docker call would.
    calls: box.docker.calls().filter((c) => c.args[0] !== 'ps').length,
  };
}

/** The commands the refusal's hint gives, one per indented line that runs a program. */
function hintCommands(stderr: string, until = /^\s*(The branch|Its volumes)/): string[] {
  const lines = stderr.split('\n');
  const start = lines.findIndex((line) => line.includes('then run the command again:'));
  const end = lines.findIndex((line, i) => i > start && until.test(line));
  return lines.slice(start + 1, end === -1 ? undefined : end).map((line) => line.trim()).filter((line) => /^(git|rm|docker|tmux) /.test(line));
}

describe('leftovers of an environment whose record is lost', () => {
  it('doctor lists its worktree, branch, data dir and tmux session; a create of the name changes nothing and says how to clear them, which works', async () => {
    const box = sandbox();
    const repo = await initProject(box);
    expect((await box.piko(['create', 'feat-1', '--no-attach'], repo)).exitCode).toBe(0);
    // Work the person did there: it must survive the refusal.
    writeFileSync(join(repo, '.piko', 'worktrees', 'feat-1', 'notes.txt'), 'mine\n');
    writeFileSync(join(repo, '.piko', 'data', 'feat-1', 'db.sqlite'), 'data\n');

    // Before: what piko made is accounted for by its row.
    const healthy = await doctorJson(box, repo);
    expect(healthy).toMatchObject({ result: 'ok', leftovers: [] });

    loseState(box);
    expect((await box.piko(['init'], repo)).exitCode).toBe(0);

    const doctor = await box.piko(['doctor'], repo);
    expect(doctor.exitCode).toBe(0);
    expect(doctor.stdout).toMatch(/^! leftovers +1 environment no record accounts for: app\/feat-1$/m);
    const worktree = join(repo, '.piko', 'worktrees', 'feat-1');
    const dataDir = join(repo, '.piko', 'data', 'feat-1');
    expect(doctor.stdout).toContain(
      [
        'app/feat-1:',
        `  worktree ${worktree} (branch feat-1, 1 uncommitted change)`,
        '  branch feat-1, checked out in that worktree',
        `  data dir ${dataDir}`,
      ].join('\n'),
    );
    expect(doctor.stdout).toMatch(/^  tmux session piko\/app\/feat-1 \(on \S+\)$/m);
    expect(doctor.stdout).toContain(`    git -C ${repo} worktree remove --force ${worktree}\n    rm -rf ${dataDir}\n`);
    expect(doctor.stdout).toContain(`    git -C ${repo} branch -D feat-1`);

    const json = await doctorJson(box, repo);
    expect(json.result).toBe('warn');
    const kinds = json.leftovers!.map((l) => [l.kind, l.project, l.environment]);
    expect(kinds).toEqual([
      ['worktree', 'app', 'feat-1'],
      ['branch', 'app', 'feat-1'],
      ['data-dir', 'app', 'feat-1'],
      ['tmux', 'app', 'feat-1'],
    ]);
    expect(json.leftovers![0]).toMatchObject({ path: worktree, git: 'registered', branch: 'feat-1', changes: 1 });
    expect(json.leftovers![1]).toMatchObject({ branch: 'feat-1', worktree, remove: [], keep: { remove: [`git -C ${repo} branch -D feat-1`] } });
    expect(json.leftovers![2]).toMatchObject({ path: dataDir, remove: [`rm -rf ${dataDir}`] });
    expect(json.leftovers![3]).toMatchObject({ session: 'piko/app/feat-1', socket: expect.stringMatching(new RegExp(`/${box.socket}$`)) });

    const before = snapshot(box, repo, 'feat-1');
    const refused = await box.piko(['create', 'feat-1', '--no-attach'], repo);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain(
      `✗ feat-1: what an earlier app/feat-1 left is still there, and no environment in ${join(box.home, 'state.db')} accounts for it (was the state database removed or replaced?): ` +
        `worktree ${worktree} (branch feat-1, 1 uncommitted change); branch feat-1, checked out in that worktree; data dir ${dataDir}`,
    );
    expect(refused.stderr).toContain('Nothing was made. `piko doctor` lists them; remove them (the uncommitted changes go with the worktree: look first), then run the command again:');
    expect(refused.stderr).toContain('The branch feat-1 stays (a create of feat-1 checks it out as it is); to delete it and its commits too:');
    expect(snapshot(box, repo, 'feat-1')).toEqual(before);
    expect(JSON.parse((await box.piko(['list', '--json'], repo)).stdout)).toEqual([]);
    // The same through --json: the code a client can tell it by.
    const jsonRefusal = await box.piko(['create', 'feat-1', '--json'], repo);
    expect(JSON.parse(jsonRefusal.stdout.trim().split('\n').pop()!)).toMatchObject({ type: 'complete', success: false, code: 'PIKO_ERR_LEFTOVERS' });

    // The commands it gives clear the way; the branch stays and is checked out again.
    const commands = hintCommands(refused.stderr);
    expect(commands).toEqual([`git -C ${repo} worktree remove --force ${worktree}`, `rm -rf ${dataDir}`]);
    for (const command of commands) await execa('sh', ['-c', command]);
    const again = await box.piko(['create', 'feat-1', '--no-attach'], repo);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toContain("[git] using the existing branch 'feat-1'");
    expect(await doctorJson(box, repo)).toMatchObject({ result: 'ok', leftovers: [] });
  });

  it('doctor finds them from the repository the user stands in before it is registered again, and says to', async () => {
    const box = sandbox();
    const repo = await initProject(box);
    expect((await box.piko(['create', 'lost', '--no-attach'], repo)).exitCode).toBe(0);
    loseState(box);
    const doctor = await box.piko(['doctor'], join(repo, '.piko', 'worktrees', 'lost'));
    expect(doctor.stdout).toContain(`app/lost; ${repo} is not registered (\`piko init\` there registers it again)`);
    expect(doctor.stdout).toContain(`  worktree ${join(repo, '.piko', 'worktrees', 'lost')} (branch lost)`);
  });

  it('finds worktrees where `worktrees:` puts them and folders git no longer lists; a folder piko did not make is not one', async () => {
    const box = sandbox();
    const repo = await initProject(box, { '.piko.yml': 'worktrees: ../{project}-trees\n' });
    expect((await box.piko(['create', 'outside', '--no-attach'], repo)).exitCode).toBe(0);
    expect((await box.piko(['create', 'pruned', '--no-attach'], repo)).exitCode).toBe(0);
    const trees = join(repo, '..', 'app-trees');
    // git forgets one of them (its record removed); its folder, still pointing at the repository, stays.
    rmSync(join(repo, '.git', 'worktrees', 'pruned'), { recursive: true });
    // Someone else's folder that happens to fit the template.
    mkdirSync(join(trees, 'stranger'));
    loseState(box);
    await box.piko(['init'], repo);

    const json = await doctorJson(box, repo);
    const worktrees = json.leftovers!.filter((l) => l.kind === 'worktree');
    expect(worktrees).toEqual([
      expect.objectContaining({ environment: 'outside', path: join(trees, 'outside'), git: 'registered' }),
      expect.objectContaining({ environment: 'pruned', path: join(trees, 'pruned'), git: 'unregistered', remove: [`rm -rf ${join(trees, 'pruned')}`] }),
    ]);

    const refused = await box.piko(['create', 'outside'], repo);
    expect(refused.stderr).toContain(`worktree ${join(trees, 'outside')} (branch outside)`);
    // A folder at the place that is not piko's: refused as someone else's, not offered for removal.
    const stranger = await box.piko(['create', 'stranger'], repo);
    expect(stranger.exitCode).toBe(1);
    expect(stranger.stderr).toContain(`✗ stranger: ${join(trees, 'stranger')} already exists, and it is not a worktree piko made for app/stranger`);
    expect(stranger.stderr).not.toContain('rm -rf');
    expect(existsSync(join(trees, 'stranger'))).toBe(true);
  });

  it("a docker environment's containers are in the way too (asked of docker by compose's label)", async () => {
    const box = sandbox();
    const repo = await initProject(box, { 'docker-compose.yml': 'services:\n  web:\n    image: nginx\n    ports: ["80"]\n' });
    expect((await box.piko(['create', 'web', '--no-attach'], repo)).exitCode).toBe(0);
    loseState(box);
    await box.piko(['init'], repo);
    // Only the containers are left: the rest was removed by hand.
    git(repo, 'worktree', 'remove', '--force', join(repo, '.piko', 'worktrees', 'web'));
    rmSync(join(repo, '.piko', 'data', 'web'), { recursive: true });
    const refused = await box.piko(['create', 'web', '--no-attach'], repo);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('accounts for it (was the state database removed or replaced?): compose project piko-app-web (1 container)');
    expect(hintCommands(refused.stderr)).toEqual(['docker rm --force piko-app-web-web-1']);
    // Nothing was brought up.
    expect(box.docker.calls().filter((c) => c.args.includes('up'))).toHaveLength(1);
  });

  it('with nothing left it says so; without docker and tmux it says what it could not look at', async () => {
    const box = sandbox();
    const repo = await initProject(box);
    const doctor = await box.piko(['doctor'], repo);
    expect(doctor.stdout).toMatch(/^✓ leftovers +none: every worktree, data dir, compose project and tmux session piko made has its environment$/m);
    const bare = await box.piko(['doctor'], repo, { PATH: pathWithoutDocker() });
    expect(bare.exitCode).toBe(0);
    expect(bare.stdout).toMatch(/^✓ leftovers +none: .* \(not checked: docker: not installed; tmux: not installed\)$/m);
  });

  it('an environment that has its record is no leftover, nor is a branch without a piko worktree', async () => {
    const box = sandbox();
    const repo = await initProject(box);
    expect((await box.piko(['create', 'kept', '--no-attach'], repo)).exitCode).toBe(0);
    git(repo, 'branch', 'unrelated');
    const other = makeRepo({}, 'other');
    expect((await box.piko(['init'], other)).exitCode).toBe(0);
    expect(await doctorJson(box, repo)).toMatchObject({ result: 'ok', leftovers: [] });
  });
});
