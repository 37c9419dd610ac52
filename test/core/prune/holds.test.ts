// What keeps an environment from being pruned, asked in-process of real processes and a tmux
// server of the test's own: an operation running, a process whose working directory is inside
// the worktree (not this process's own children: piko's git calls run there), a tmux client
// attached; never the tmux server itself nor the idle shell of a pane, and not a server that
// merely started in the worktree after the session it was started for is gone.
import { mkdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { execa, execaSync, type ResultPromise } from 'execa';
import { heldBy, processesIn } from '../../../core/prune/holds.js';
import { cleanup, eventually, isRunning, tempDir } from '../../helpers/fixtures.js';

const socket = `piko-test-holds-${process.pid}`;
/** Processes started for a test: children, and pids of processes that are not (re-parented). */
const children: ResultPromise[] = [];
const strays: number[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) {
    child.kill('SIGKILL');
    await child.catch(() => undefined);
  }
  for (const pid of strays.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
  execaSync('tmux', ['-L', socket, 'kill-server'], { reject: false });
  cleanup();
});

const tmux = (...args: string[]) => execa('tmux', ['-L', socket, '-f', '/dev/null', ...args], { reject: false });

/** A process working in `dir` that is not a child of this one (its parent shell has exited). */
async function strayIn(dir: string): Promise<number> {
  const started = await execa('sh', ['-c', 'sleep 300 >/dev/null 2>&1 </dev/null & echo $!'], { cwd: dir });
  const pid = Number(started.stdout.trim());
  strays.push(pid);
  await eventually('the stray process to be in place', () => {
    try {
      return readlinkSync(`/proc/${pid}/cwd`) === dir && readlinkSync(`/proc/${pid}/exe`).endsWith('sleep');
    } catch {
      return false;
    }
  });
  return pid;
}

/** The socket path of the test's tmux server, as piko records an environment's. */
async function socketPath(): Promise<string> {
  return (await tmux('display-message', '-p', '#{socket_path}')).stdout.trim();
}

describe('processesIn', () => {
  it('finds the processes working in a folder or below it, and not those beside it', async () => {
    const dir = join(tempDir(), 'wt');
    mkdirSync(join(dir, 'inside', 'deep'), { recursive: true });
    mkdirSync(`${dir}-beside`);
    const deep = await strayIn(join(dir, 'inside', 'deep'));
    const beside = await strayIn(`${dir}-beside`);
    const found = processesIn(dir)!;
    expect(found).toEqual([expect.objectContaining({ pid: deep, command: 'sleep' })]);
    expect(found.map((p) => p.pid)).not.toContain(beside);
  });
});

describe('heldBy', () => {
  it('says an operation running holds it, before anything else', async () => {
    const dir = tempDir();
    await expect(heldBy({ worktree: dir, session: 'piko/app/none', socket: undefined, running: true })).resolves.toBe('an operation is running on it');
  });

  it('says a process working inside the worktree holds it, naming it, but not a child of its own', async () => {
    const dir = tempDir();
    const options = { worktree: dir, session: 'piko/app/none', socket: `/nonexistent/${socket}`, running: false };
    await expect(heldBy(options)).resolves.toBeUndefined();
    // A child of this process there (as piko's own `git status` is) is not someone's work.
    const mine = execa('sleep', ['300'], { cwd: dir, reject: false });
    children.push(mine);
    await eventually('the child to be in place', () => readlinkSync(`/proc/${mine.pid}/cwd`) === dir);
    await expect(heldBy(options)).resolves.toBeUndefined();

    const pid = await strayIn(dir);
    await expect(heldBy(options)).resolves.toBe('a process works inside its worktree (sleep)');
    await strayIn(dir);
    await expect(heldBy(options)).resolves.toBe('2 processes work inside its worktree (sleep)');
    expect(isRunning(pid)).toBe(true);
  });

  it('does not count the tmux server or a pane\'s idle shell, but a job run in it, and a client attached', async () => {
    const dir = tempDir();
    const session = 'piko/app/feat';
    expect((await tmux('new-session', '-d', '-s', session, '-c', dir, 'sh')).exitCode).toBe(0);
    const path = await socketPath();
    const options = { worktree: dir, session, socket: path, running: false };
    const pane = Number((await tmux('display-message', '-p', '-t', `=${session}:`, '#{pane_pid}')).stdout.trim());
    await eventually('the pane shell to be in the worktree', () => readlinkSync(`/proc/${pane}/cwd`) === dir);
    await expect(heldBy(options)).resolves.toBeUndefined();

    // A job a person runs in the pane's shell is work (and the shell, busy with it, with it).
    await tmux('send-keys', '-t', `=${session}:`, 'sleep 300', 'Enter');
    await eventually('sleep to run in the pane', async () => (await tmux('display-message', '-p', '-t', `=${session}:`, '#{pane_current_command}')).stdout.trim() === 'sleep');
    await expect(heldBy(options)).resolves.toMatch(/^2 processes work inside its worktree \((sh, sleep|sleep, sh)\)$/);

    // A person attached holds it whatever runs.
    const client = execa('tmux', ['-S', path, '-C', 'attach-session', '-t', `=${session}`], { stdin: 'pipe', reject: false });
    children.push(client);
    await eventually('the client to attach', async () => (await tmux('list-clients', '-t', `=${session}`, '-F', '#{client_pid}')).stdout.trim() !== '');
    await expect(heldBy(options)).resolves.toBe('a person is attached to its tmux session');
  });

  it('does not count a tmux server that started in the worktree once the session it started for is gone', async () => {
    const dir = tempDir();
    // The server starts with the first session, in the folder its client ran in: this worktree.
    const first = await execa('tmux', ['-L', socket, '-f', '/dev/null', 'new-session', '-d', '-s', 'piko/app/first', '-c', dir, 'sh'], { cwd: dir, reject: false });
    expect(first.exitCode).toBe(0);
    expect((await tmux('new-session', '-d', '-s', 'piko/app/second', '-c', tempDir(), 'sh')).exitCode).toBe(0);
    const path = await socketPath();
    const server = Number((await tmux('display-message', '-p', '-t', '=piko/app/second:', '#{pid}')).stdout.trim());
    expect(readlinkSync(`/proc/${server}/cwd`)).toBe(dir);
    const options = { worktree: dir, session: 'piko/app/first', socket: path, running: false };
    await expect(heldBy(options)).resolves.toBeUndefined();

    await tmux('kill-session', '-t', '=piko/app/first');
    expect(isRunning(server)).toBe(true);
    await expect(heldBy(options)).resolves.toBeUndefined();
  });
});
