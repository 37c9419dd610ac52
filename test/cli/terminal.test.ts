// What a person sees: the CLI under a real pseudo-terminal (`script`), and on a pipe.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import Database from 'better-sqlite3';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from '@jest/globals';
import { cleanup, DURATION, gates, initProject, PIKO_BIN, printedPort, ROOT, sandbox, type Sandbox, tempDir, waitForOutput } from '../helpers/fixtures.js';

afterEach(cleanup);

const CONFIG = 'scripts:\n  prepare: echo preparing\n  setup: echo one; echo two >&2; echo three\n';
const ESC = '\x1b';
const SPINNER = '[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]';

/** Starts the CLI in a pseudo-terminal, as a person at a terminal would; its stdout is what the terminal gets. */
function terminal(box: Sandbox, args: string[], cwd: string, env: Record<string, string> = {}) {
  // `script` runs the command with $SHELL, so a SHELL meant for piko is set inside the command.
  const { SHELL: shell, ...outer } = env;
  env = outer;
  const command = [...(shell ? ['env', `SHELL=${shell}`] : []), 'node', PIKO_BIN, ...args].map((a) => `'${a}'`).join(' ');
  const { NO_COLOR: _, ...rest } = box.env as Record<string, string>;
  return execa('script', ['-qfec', command, '/dev/null'], {
    cwd,
    env: { ...rest, TERM: 'xterm-256color', ...env },
    extendEnv: false,
    reject: false,
  });
}

/** Runs the CLI in a pseudo-terminal to the end; returns what the terminal got. */
async function inTerminal(box: Sandbox, args: string[], cwd: string, env: Record<string, string> = {}) {
  const result = await terminal(box, args, cwd, env);
  return { output: result.stdout, exitCode: result.exitCode };
}

describe('on a terminal', () => {
  it('colours each source the same way every time, stderr lines yellow, with a live status line that lines scroll above', async () => {
    const box = sandbox();
    // Each setup line comes only once the terminal shows the one before it with the status line
    // drawn under it, so there is a status line for each line to scroll above.
    const gate = gates();
    const repo = await initProject(box, {
      '.piko.yml': `scripts:\n  prepare: echo preparing\n  setup: echo one; ${gate.wait('one')}; echo two >&2; ${gate.wait('two')}; echo three\n`,
    });
    const child = terminal(box, ['create', 'colourful', '--no-attach'], repo);
    await waitForOutput(child.stdout!, new RegExp(`one\r?\n${SPINNER} setup {2}`));
    gate.open('one');
    await waitForOutput(child.stdout!, new RegExp(`two${ESC}\\[39m\r?\n${SPINNER} setup {2}`));
    gate.open('two');
    const { stdout: output, exitCode } = await child;
    expect(exitCode).toBe(0);
    // [setup] always in one colour, never another.
    const setupColours = new Set([...output.matchAll(/\x1b\[(\d+)m\[setup\]/g)].map((m) => m[1]));
    expect(setupColours.size).toBe(1);
    expect(output).toMatch(/\x1b\[\d+m\[git\]/);
    expect(output).toMatch(/\[setup\]\x1b\[39m \x1b\[33mtwo\x1b\[39m/);
    // The status line: a spinner and the running stage, erased before each streamed line.
    expect(output).toMatch(new RegExp(`${SPINNER} setup {2}${DURATION}`));
    expect(output).toContain(`\r${ESC}[J`);
    // After the last erase, only the summary and the final line remain: no status line left over.
    const tail = output.slice(output.lastIndexOf(`${ESC}[J`) + 3);
    expect(tail).not.toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/);
    expect(tail).toMatch(new RegExp(`git ${DURATION} · prepare ${DURATION} · setup ${DURATION} · tmux ${DURATION}`));
    expect(tail).toMatch(new RegExp(`✓.* colourful ready \\(simple, ready\\) in ${DURATION}`));
    // Every streamed line arrived whole, right after an erased status line.
    expect(output).toMatch(new RegExp(`${ESC}\\[J${ESC}\\[\\d+m\\[setup\\]${ESC}\\[39m one\r?\n`));
    expect(output).toMatch(new RegExp(`${ESC}\\[J${ESC}\\[\\d+m\\[setup\\]${ESC}\\[39m three\r?\n`));
  });

  it('attaches to the environment\'s tmux session after a create, and only on a terminal', async () => {
    const box = sandbox();
    const repo = await initProject(box, { '.piko.yml': CONFIG });
    // The session's shell window runs this "shell", which says hello and, once the test has
    // seen that on the terminal, leaves, ending the session.
    const gate = gates();
    const shell = join(tempDir(), 'hello-shell');
    writeFileSync(shell, `#!/bin/sh\necho "inside the session"\n${gate.wait('$PIKO_ENV_NAME')}\n`, { mode: 0o755 });
    const tmux = { SHELL: shell };
    {
      const attaching = terminal(box, ['create', 'attached'], repo, tmux);
      await waitForOutput(attaching.stdout!, /inside the session/);
      gate.open('attached');
      const attached = await attaching;
      expect(attached.exitCode).toBe(0);

      const piped = await box.piko(['create', 'piped'], repo, tmux);
      expect(piped.stderr).toContain('not attaching to tmux session piko/app/piped: not a terminal; `piko attach app/piped` attaches later');
      const refused = await inTerminal(box, ['create', 'refused', '--no-attach'], repo, tmux);
      // Asked not to attach: nothing to say about it.
      expect(refused.exitCode).toBe(0);
      expect(refused.output).toContain('refused ready');
      expect(refused.output).not.toContain('not attaching');
    }
  });
});

describe('on a pipe', () => {
  it('prints plain lines, no status line, a summary of stage times and the final line', async () => {
    const box = sandbox();
    const repo = await initProject(box, { '.piko.yml': CONFIG });
    const result = await box.piko(['create', 'piped'], repo, { NO_COLOR: '' });
    expect(result.stdout).not.toContain(ESC);
    expect(result.stdout).not.toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/);
    const lines = result.stdout.split('\n');
    expect(lines.slice(-2)).toEqual([
      expect.stringMatching(new RegExp(`^ {2}git ${DURATION} · prepare ${DURATION} · setup ${DURATION} · tmux ${DURATION}$`)),
      expect.stringMatching(new RegExp(`^✓ piped ready \\(simple, ready\\) in ${DURATION}$`)),
    ]);
  });

  it('FORCE_COLOR colours a pipe, still without a status line', async () => {
    const box = sandbox();
    const repo = await initProject(box, { '.piko.yml': CONFIG });
    const { NO_COLOR: _, ...env } = box.env as Record<string, string>;
    const result = await execa('node', [PIKO_BIN, 'create', 'forced'], { cwd: repo, env: { ...env, FORCE_COLOR: '1' }, extendEnv: false });
    expect(result.stdout).toMatch(/\x1b\[\d+m\[setup\]/);
    expect(result.stdout).not.toContain(`${ESC}[J`);
  });

  it('a failure ends with where it failed, the exit code, and what to do next', async () => {
    const box = sandbox();
    const repo = await initProject(box, { '.piko.yml': 'scripts:\n  setup: echo trying; exit 4\n' });
    const result = await box.piko(['create', 'broken'], repo);
    expect(result.exitCode).toBe(1);
    expect(result.stdout.split('\n').at(-1)).toMatch(new RegExp(`^ {2}git ${DURATION} · setup ${DURATION} ✗$`));
    expect(result.stderr.split('\n')).toEqual([
      expect.stringMatching(new RegExp(`^✗ broken failed at script:setup \\(exit 4\\) in ${DURATION}$`)),
      "  script:setup failed: `sh -c 'echo trying; exit 4'` exited with code 4",
      '  Read the stage output above, fix the cause and run the command again.',
      '  the whole log: piko logs broken',
    ]);
  });

  it('--quiet prints only the final line, and errors', async () => {
    const box = sandbox();
    const repo = await initProject(box, { '.piko.yml': CONFIG });
    const ok = await box.piko(['create', 'hushed', '--quiet'], repo);
    expect(ok.stdout).toMatch(new RegExp(`^✓ hushed ready \\(simple, ready\\) in ${DURATION}$`));
    const failed = await box.piko(['create', 'Bad', '--quiet'], repo);
    expect(failed.stdout).toBe('');
    expect(failed.stderr).toContain('environment name "Bad" is not allowed');
  });

  it('piko list prints a table with a header and the ports', async () => {
    const box = sandbox();
    const repo = await initProject(box, { 'docker-compose.yml': 'services:\n  web:\n    image: nginx\n    ports: ["80", "443"]\n' });
    const created = (await box.piko(['create', 'listed'], repo)).stdout;
    const [http, https] = [printedPort(created, 'web:80'), printedPort(created, 'web:443')];
    const table = (await box.piko(['list'], repo)).stdout.split('\n');
    expect(table[0]).toMatch(/^ID +NAME +PROJECT +MODE +STATUS +BRANCH +PORTS +PATH$/);
    expect(table[1]).toMatch(new RegExp(`^1 +listed +app +docker +running +listed +web:${http} web:${https} +${join(repo, '.piko', 'worktrees', 'listed')}$`));
  });
});

describe('piko list on a narrow terminal', () => {
  it('fits the table to the width, cutting the path from its start', async () => {
    const box = sandbox();
    const repo = await initProject(box);
    expect((await box.piko(['create', 'a-rather-long-environment-name'], repo)).exitCode).toBe(0);
    const command = `stty cols 70; ${['node', PIKO_BIN, 'list'].map((a) => `'${a}'`).join(' ')}`;
    const { NO_COLOR: _, ...env } = box.env as Record<string, string>;
    const { stdout } = await execa('script', ['-qfec', command, '/dev/null'], { cwd: repo, env: { ...env, TERM: 'xterm-256color' }, extendEnv: false });
    const lines = stdout.split(/\r?\n/).filter((l) => l.trim() !== '');
    expect(lines[0]).toMatch(/^ID +NAME +PROJECT/);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(70);
    expect(lines[1]).toMatch(/^1 +a-rather.* …\S*ment-name$/);
    // On a pipe nothing is cut.
    expect((await box.piko(['list'], repo)).stdout).toContain(join(repo, '.piko', 'worktrees', 'a-rather-long-environment-name'));
  });
});

describe('re-attaching', () => {
  it('counts from when the operation started, not from when it attached', async () => {
    const box = sandbox();
    const gate = gates();
    const repo = await initProject(box, { '.piko.yml': `scripts:\n  setup: echo started; ${gate.wait('done')}\n` });
    const creating = box.spawn(['create', 'long', '--transport', 'stdout', '--no-attach'], repo);
    await waitForOutput(creating.stdout!, /\[setup\] started/);
    // As far as its record says, the operation started an hour ago.
    const db = new Database(join(box.home, 'state.db'));
    db.prepare('UPDATE operations SET started_at = ?').run(new Date(Date.now() - 3_600_000).toISOString());
    db.close();
    const following = terminal(box, ['logs', '-f', 'long'], repo);
    await waitForOutput(following.stdout!, /create long 60m \d+s/);
    gate.open('done');
    expect((await following).exitCode).toBe(0);
    expect((await creating).exitCode).toBe(0);
  });
});

describe('colour', () => {
  it('gives each source of an operation its own colour', async () => {
    const box = sandbox();
    const config = 'scripts:\n  prepare: echo preparing\n  setup: echo setting up\nstages:\n  - {name: noise, run: echo noisy, after: setup}\n  - {name: test, run: echo testing, after: noise}\n';
    const repo = await initProject(box, { '.piko.yml': config });
    const { output } = await inTerminal(box, ['create', 'colours', '--no-attach'], repo);
    const colourOf = (source: string) => new RegExp(`${ESC}\\[(\\d+)m\\[${source}\\]`).exec(output)?.[1];
    const sources = ['git', 'piko', 'prepare', 'setup', 'noise', 'test', 'tmux'];
    const colours = sources.map(colourOf);
    expect(colours.every((c) => c !== undefined)).toBe(true);
    expect(new Set(colours).size).toBe(sources.length);
  });

  it('follows NO_COLOR as no-color.org says: set and not empty turns it off, empty does not', async () => {
    const box = sandbox();
    const repo = await initProject(box, { '.piko.yml': 'scripts:\n  setup: echo hello\n' });
    const colour = /\x1b\[3\dm/;
    expect((await inTerminal(box, ['create', 'empty', '--no-attach'], repo, { NO_COLOR: '' })).output).toMatch(colour);
    expect((await inTerminal(box, ['create', 'set', '--no-attach'], repo, { NO_COLOR: '1' })).output).not.toMatch(colour);
  });
});

describe('the command line', () => {
  it('--help lists every command and each command documents its options with defaults', async () => {
    const box = sandbox();
    const help = (await box.piko(['--help'], box.home)).stdout;
    for (const command of ['init', 'create', 'destroy', 'list', 'logs', 'cancel', 'server']) expect(help).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    const create = (await box.piko(['create', '--help'], box.home)).stdout;
    for (const option of ['--branch <base>', '--no-attach', '--transport <transport>', '--json', '--quiet']) expect(create).toContain(option);
    // Defaults that say something (the base branch, attaching, the transport), never a flag's `false`.
    expect(create).not.toContain('(default: false)');
    expect(create.match(/\(default:\s/g)!.length).toBe(3);
    for (const command of ['destroy', 'list', 'logs', 'status', 'doctor']) {
      expect((await box.piko([command, '--help'], box.home)).stdout).not.toContain('(default: false)');
    }
    expect((await box.piko(['server', '--help'], box.home)).stdout).toMatch(/--port <port>[^]*\(default: "19876"\)/);
  });

  it('builds an entry file that runs on its own (executable, with a hashbang)', () => {
    expect(statSync(PIKO_BIN).mode & 0o100).toBe(0o100);
    expect(readFileSync(PIKO_BIN, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('says what it did not understand and suggests the nearest', async () => {
    const box = sandbox();
    const command = await box.piko(['craete', 'x'], box.home);
    expect(command.exitCode).toBe(1);
    expect(command.stderr).toBe("✗ unknown command 'craete'\n  did you mean create?\n  run `piko --help` for every command");
    const option = await box.piko(['create', 'x', '--jsno'], box.home);
    expect(option.stderr).toBe("✗ unknown option '--jsno'\n  did you mean --json?\n  run `piko --help` for every command");
  });

  it('says every error one way: ✗ what failed, then where and what to do, indented', async () => {
    const box = sandbox();
    const repo = await initProject(box, { '.piko.yml': 'scripts:\n  setup: exit 3\n' });
    // A command that fails before any operation.
    const missing = await box.piko(['destroy', 'nowhere'], repo);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toMatch(/^✗ .*nowhere.*\n {2}\S/);
    // An operation that fails.
    const failed = await box.piko(['create', 'broken', '--no-attach'], repo);
    expect(failed.exitCode).toBe(1);
    expect(failed.stderr).toMatch(/^✗ broken failed at script:setup \(exit 3\)/m);
    // On a terminal, the mark in red and what follows dimmed.
    const { output } = await inTerminal(box, ['destroy', 'nowhere'], repo);
    expect(output).toMatch(/\x1b\[31m✗\x1b\[39m .*nowhere.*\r\n\x1b\[2m {2}\S/);
    for (const text of [missing.stderr, failed.stderr, output]) expect(text).not.toMatch(/^(piko|error): /m);
  });

  it('--version loads one small file, --help only the argument parser: no server, engine, state, ws, zod or execa', async () => {
    const box = sandbox();
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    // Which sources each built file holds, as the build recorded it.
    const meta = JSON.parse(readFileSync(join(ROOT, 'dist', 'bin', 'meta.json'), 'utf8')) as { outputs: Record<string, { inputs: Record<string, unknown> }> };
    for (const args of [['--version'], ['--help'], ['create', '--help']]) {
      const trace = join(tempDir(), 'loaded.txt');
      const result = await execa('node', ['--require', join(ROOT, 'test', 'fixtures', 'trace-requires.cjs'), PIKO_BIN, ...args], {
        env: { ...box.env, PIKO_TRACE_REQUIRES: trace },
      });
      const files = readFileSync(trace, 'utf8').split('\n').filter(Boolean).map((file) => relative(ROOT, file));
      expect(files[0]).toBe(join('dist', 'bin', 'piko.js'));
      if (args[0] === '--version') {
        expect(result.stdout).toBe(version);
        expect(files).toEqual([join('dist', 'bin', 'piko.js')]);
      } else {
        expect(files).toEqual([join('dist', 'bin', 'piko.js'), join('dist', 'bin', 'program.js')]);
      }
      const sources = files.flatMap((file) => Object.keys(meta.outputs[file]?.inputs ?? {}));
      expect(sources).toContain('cli/piko.ts');
      for (const heavy of ['node_modules/ws/', 'node_modules/execa/', 'node_modules/zod/', 'node_modules/yaml/', 'node_modules/better-sqlite3/', 'core/state/', 'core/engine/', 'transports/', 'cli/server/']) {
        expect(sources.filter((source) => source.startsWith(heavy))).toEqual([]);
      }
    }
  });
});
