// What the CLI prints, and what it does when its output or its terminal goes away.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from '@jest/globals';
import { colorEnabled } from '../../../cli/terminal/say.js';
import { cleanup, git, makeRepo, PIKO_BIN, sandbox, waitForOutput } from '../../helpers/fixtures.js';

afterEach(cleanup);

describe('CLI output', () => {
  it('--json prints only protocol messages, refusals included', async () => {
    const box = sandbox();
    const repo = makeRepo();
    const unregistered = await box.piko(['create', 'one', '--json'], repo);
    expect(unregistered.exitCode).toBe(1);
    expect(unregistered.stderr).toBe('');
    expect(JSON.parse(unregistered.stdout)).toMatchObject({ type: 'complete', success: false, code: 'PIKO_ERR_PROJECT_UNKNOWN' });
    await box.piko(['init'], repo);
    const badName = await box.piko(['create', 'Bad', '--json'], repo);
    expect(JSON.parse(badName.stdout)).toMatchObject({ type: 'complete', success: false, code: 'PIKO_ERR_NAME_INVALID' });
  });

  it('finishes the operation when its reader goes away (| head -1)', async () => {
    const box = sandbox();
    const repo = makeRepo({ '.piko.yml': 'scripts:\n  setup: for i in $(seq 1 2000); do echo "line $i"; done\n' });
    await box.piko(['init'], repo);
    const result = await execa('sh', ['-c', `node ${PIKO_BIN} create headless | head -1; echo "piko exit $?"`], {
      cwd: repo,
      env: box.env,
    });
    // git's first two lines: on stderr and on stdout, so either may come first.
    expect(result.stdout.split('\n')[0]).toMatch(/^\[git\] (Preparing worktree \(new branch 'headless'\)|HEAD is now at \w+ initial)$/);
    expect(JSON.parse((await box.piko(['list', '--json'], repo)).stdout)).toEqual([
      expect.objectContaining({ name: 'headless', status: 'ready' }),
    ]);
  });

  it('--help into a reader that is gone (| true) ends quietly, as a command\'s answer does', async () => {
    for (const args of [['--help'], ['create', '--help'], ['list']]) {
      const child = spawn('node', [PIKO_BIN, ...args], { env: sandbox().env, stdio: ['ignore', 'pipe', 'pipe'] });
      // Closed long before piko has started and writes.
      child.stdout.destroy();
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const code = await new Promise((resolve) => child.on('close', resolve));
      expect({ args, code, stderr }).toEqual({ args, code: 0, stderr: '' });
    }
  });

  it('SIGTERM (or a closed terminal) cancels a local create and rolls back', async () => {
    const box = sandbox();
    const repo = makeRepo({ '.piko.yml': 'scripts:\n  setup: echo started; sleep 30\n' });
    await box.piko(['init'], repo);
    for (const signal of ['SIGTERM', 'SIGHUP'] as const) {
      const child = box.spawn(['create', 'termed'], repo);
      await waitForOutput(child.stdout!, /\[setup\] started\n/);
      child.kill(signal);
      const result = await child;
      expect(result.exitCode).toBe(130);
      expect(String(result.stderr)).toContain(`cancelled by ${signal}`);
      expect(existsSync(join(repo, '.piko', 'worktrees', 'termed'))).toBe(false);
      expect(git(repo, 'branch', '--list', 'termed')).toBe('');
    }
  });

  it('uses colour only on a terminal, never with NO_COLOR, always with FORCE_COLOR', () => {
    expect(colorEnabled({ isTTY: true }, {})).toBe(true);
    expect(colorEnabled({ isTTY: false }, { CI: 'true' })).toBe(false);
    expect(colorEnabled({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    // An empty NO_COLOR is as good as none (no-color.org).
    expect(colorEnabled({ isTTY: true }, { NO_COLOR: '' })).toBe(true);
    expect(colorEnabled({ isTTY: true }, { TERM: 'dumb' })).toBe(false);
    expect(colorEnabled({ isTTY: false }, { FORCE_COLOR: '1' })).toBe(true);
    expect(colorEnabled({ isTTY: true }, { FORCE_COLOR: '0' })).toBe(false);
  });
});
