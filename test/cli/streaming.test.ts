// Output reaches the terminal while the stage is still running, and Ctrl-C rolls back.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { cleanup, gates, git, makeRepo, sandbox, waitForOutput } from '../helpers/fixtures.js';
import { readOperationLog } from '../../core/state/operation-log.js';
import type { OperationMessage } from '../../core/protocol/messages.js';

afterEach(cleanup);

describe('streaming', () => {
  it('shows a setup line while the script is still running', async () => {
    const box = sandbox();
    // The script goes on only once the test has seen its first line on the terminal.
    const gate = gates();
    const repo = makeRepo({
      '.piko.yml': `scripts:\n  setup: |\n    echo "before the nap"\n    ${gate.wait()}\n    echo "after the nap"\n`,
    });
    await box.piko(['init'], repo);
    const child = box.spawn(['create', 'live'], repo);
    const seen = await waitForOutput(child.stdout!, /\[setup\] before the nap\n/);
    // The script cannot have gone on yet: nothing after the nap, and the create still runs.
    expect(seen).not.toContain('after the nap');
    expect(child.exitCode).toBeNull();
    gate.open();
    const result = await child;
    expect(result.exitCode).toBe(0);
    expect(String(result.stdout)).toContain('[setup] after the nap');
  });

  it('logs every message with seq 0, 1, 2… to $PIKO_HOME/logs/<operation>.ndjson', async () => {
    const box = sandbox();
    const repo = makeRepo({ '.piko.yml': 'scripts:\n  setup: printf "one\\ntwo\\n"; printf "partial"\n' });
    await box.piko(['init'], repo);
    const result = await box.piko(['create', 'logged', '--json'], repo);
    expect(result.exitCode).toBe(0);
    const printed = result.stdout.split('\n').map((line) => JSON.parse(line) as OperationMessage);
    const files = readdirSync(join(box.home, 'logs'));
    expect(files).toHaveLength(1);
    // The file keeps runs of lines as batches; read back, they are the same messages.
    const logged = readOperationLog(join(box.home, 'logs', files[0]!));
    expect(logged).toEqual(printed);
    expect(printed.map((m) => m.seq)).toEqual(printed.map((_, i) => i));
    expect(printed[0]).toMatchObject({ type: 'accepted', action: 'create', project: 'app', environment: 'logged' });
    expect(files[0]).toBe(`${(printed[0] as { operation: string }).operation}.ndjson`);
    const setup = printed.filter((m) => m.type === 'log' && m.source === 'script:setup').map((m) => (m as { data: string }).data);
    expect(setup).toEqual(['one\n', 'two\n', 'partial']);
    expect(printed.filter((m) => m.type === 'stage').map((m) => `${(m as { name: string }).name}:${(m as { state: string }).state}`)).toEqual([
      'git:start', 'git:end', 'copy:skip', 'ports:skip', 'script:prepare:skip', 'docker:skip', 'script:setup:start', 'script:setup:end', 'tmux:start', 'tmux:end',
    ]);
    expect(printed.at(-1)).toMatchObject({ type: 'complete', success: true, environment: { name: 'logged', mode: 'simple', status: 'ready' } });
  });

  it('Ctrl-C twice within 2 s stops the running script and rolls back; once only warns', async () => {
    const box = sandbox();
    // A setup that would run until the test is over (its gate is never opened), unless cancelled.
    const repo = makeRepo({ '.piko.yml': `scripts:\n  setup: echo started; ${gates().wait()}; echo never\n` });
    await box.piko(['init'], repo);
    const child = box.spawn(['create', 'interrupted'], repo);
    await waitForOutput(child.stdout!, /\[setup\] started/);
    child.kill('SIGINT');
    await waitForOutput(child.stderr!, /Ctrl-C again within 2 s cancels it/);
    expect(child.exitCode).toBeNull();
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode).toBe(130);
    expect(String(result.stderr)).toContain('cancelled by Ctrl-C');
    expect(String(result.stdout)).toContain('[piko] rolling back git');
    expect(String(result.stdout)).not.toContain('never');
    expect(existsSync(join(repo, '.piko', 'worktrees', 'interrupted'))).toBe(false);
    expect(git(repo, 'branch', '--list', 'interrupted')).toBe('');
    expect(JSON.parse((await box.piko(['list', '--json'], repo)).stdout)).toEqual([]);
  });

  it('a single Ctrl-C leaves a local run going', async () => {
    const box = sandbox();
    // The setup finishes only once piko has taken the Ctrl-C (and only warned).
    const gate = gates();
    const repo = makeRepo({ '.piko.yml': `scripts:\n  setup: echo started; ${gate.wait()}; echo finished\n` });
    await box.piko(['init'], repo);
    const child = box.spawn(['create', 'kept'], repo);
    await waitForOutput(child.stdout!, /\[setup\] started/);
    child.kill('SIGINT');
    await waitForOutput(child.stderr!, /Ctrl-C again within 2 s cancels it/);
    gate.open();
    const result = await child;
    expect(result.exitCode).toBe(0);
    expect(String(result.stdout)).toContain('[setup] finished');
  });

  it('two creates of one name at once: exactly one wins, the other changes nothing', async () => {
    const box = sandbox();
    // The winner's setup waits at a gate: the loser must be refused while the winner holds the
    // name half-made, which proves the two overlapped (whichever of them wins).
    const gate = gates();
    const repo = makeRepo({ '.piko.yml': `scripts:\n  setup: ${gate.wait()}; echo "made by $PPID"\n` });
    await box.piko(['init'], repo);
    const children = [box.spawn(['create', 'race'], repo), box.spawn(['create', 'race'], repo)];
    const loser = await Promise.race(children.map((child, i) => child.then((result) => ({ result, i }))));
    const winner = children[1 - loser.i]!;
    expect(loser.result.exitCode).toBe(1);
    expect(String(loser.result.stderr)).toContain('environment "race" already exists in project "app"');
    expect(winner.exitCode).toBeNull();
    const during = JSON.parse((await box.piko(['list', '--json'], repo)).stdout);
    expect(during).toEqual([expect.objectContaining({ name: 'race', status: 'creating' })]);
    gate.open();
    expect((await winner).exitCode).toBe(0);
    const listed = JSON.parse((await box.piko(['list', '--json'], repo)).stdout);
    expect(listed).toEqual([expect.objectContaining({ name: 'race', status: 'ready' })]);
    expect(existsSync(join(repo, '.piko', 'worktrees', 'race'))).toBe(true);
  });
});
