// `piko open <name> [service]` through the real CLI: stand-in editors and browser openers first
// on PATH record how they were called, so nothing real is ever opened.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { State } from '../../core/state/state.js';
import { cleanup, initProject, pathWithoutDocker, printedPort, sandbox, type Sandbox, tempDir, waitForFile } from '../helpers/fixtures.js';

afterEach(cleanup);

interface Call {
  program: string;
  args: string[];
  cwd: string;
}

/**
 * Stand-ins for `programs` in a folder of their own (to put first on PATH): each records its
 * name, arguments and working directory as a line of `calls.ndjson` there, and exits with
 * STUB_EXIT (default 0).
 */
function stubs(...programs: string[]): { bin: string; calls(): Call[]; log: string } {
  const bin = tempDir('piko-stubs-');
  const log = join(bin, 'calls.ndjson');
  const script = `#!/usr/bin/env node
const fs = require('node:fs');
const program = require('node:path').basename(process.argv[1]);
fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify({ program, args: process.argv.slice(2), cwd: process.cwd() }) + '\\n');
process.exit(Number(process.env.STUB_EXIT || 0));
`;
  for (const program of programs) writeFileSync(join(bin, program), script, { mode: 0o755 });
  const calls = () =>
    existsSync(log)
      ? readFileSync(log, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as Call)
      : [];
  return { bin, log, calls };
}

/** No editor chosen by the environment the tests run in: only what a test sets counts. */
const NO_EDITOR = { VISUAL: '', EDITOR: '' };

const COMPOSE = 'services:\n  web:\n    image: nginx\n    ports: ["80"]\n  worker:\n    image: busybox\n';

async function withEnvironment(box: Sandbox, files: Record<string, string> = {}): Promise<{ repo: string; worktree: string; output: string }> {
  const repo = await initProject(box, files);
  const created = await box.piko(['create', 'feat-1'], repo);
  expect(created.exitCode).toBe(0);
  return { repo, worktree: join(repo, '.piko', 'worktrees', 'feat-1'), output: created.stdout };
}

describe('piko open <name>: the worktree in an editor', () => {
  it('runs $EDITOR split into words like a shell would, with the worktree as its last argument, in the worktree', async () => {
    const box = sandbox();
    const { repo, worktree } = await withEnvironment(box);
    const editor = stubs('my editor');
    const result = await box.piko(['open', 'feat-1'], repo, {
      ...NO_EDITOR,
      PATH: `${editor.bin}:${box.env.PATH}`,
      EDITOR: `"${editor.bin}/my editor" -n --title 'a b' c\\ d`,
    });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(`[piko] opening ${worktree} in "${editor.bin}/my editor" -n`);
    expect(editor.calls()).toEqual([{ program: 'my editor', args: ['-n', '--title', 'a b', 'c d', worktree], cwd: worktree }]);
  });

  it('prefers $VISUAL to $EDITOR, and never hands either to a shell', async () => {
    const box = sandbox();
    const { worktree } = await withEnvironment(box);
    const editors = stubs('visual-editor', 'plain-editor');
    const elsewhere = tempDir();
    const result = await box.piko(['open', 'app/feat-1'], elsewhere, {
      PATH: `${editors.bin}:${box.env.PATH}`,
      VISUAL: 'visual-editor --wait ";touch pwned" $HOME',
      EDITOR: 'plain-editor',
    });
    expect(result.exitCode).toBe(0);
    expect(editors.calls()).toEqual([{ program: 'visual-editor', args: ['--wait', ';touch pwned', '$HOME', worktree], cwd: worktree }]);
    expect(existsSync(join(worktree, 'pwned'))).toBe(false);
    expect(existsSync(join(elsewhere, 'pwned'))).toBe(false);
  });

  it('without VISUAL or EDITOR uses cursor, else code, whichever is installed first', async () => {
    const box = sandbox();
    const { repo, worktree } = await withEnvironment(box);
    const both = stubs('cursor', 'code');
    const codeOnly = stubs('code');

    expect((await box.piko(['open', 'feat-1'], repo, { ...NO_EDITOR, PATH: `${both.bin}:${box.env.PATH}` })).exitCode).toBe(0);
    expect(both.calls()).toEqual([{ program: 'cursor', args: [worktree], cwd: worktree }]);

    const result = await box.piko(['open', 'feat-1'], repo, { ...NO_EDITOR, PATH: `${codeOnly.bin}:${box.env.PATH}` });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(`[piko] opening ${worktree} in code`);
    expect(codeOnly.calls()).toEqual([{ program: 'code', args: [worktree], cwd: worktree }]);
  });

  it('with no editor at all says what to set', async () => {
    const box = sandbox();
    const { repo, worktree } = await withEnvironment(box);
    // node, git and sh only: no cursor, no code, whatever this machine has installed.
    const result = await box.piko(['open', 'feat-1'], repo, { ...NO_EDITOR, PATH: pathWithoutDocker() });
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('no editor to open app/feat-1 with: VISUAL and EDITOR are not set, and neither cursor nor code is on PATH');
    expect(result.stderr).toContain(`Set EDITOR (or VISUAL) to your editor, e.g. \`export EDITOR="code -n"\``);
    expect(result.stderr).toContain(worktree);
  });

  it('names an editor that is not installed, and leaves with the code of one that fails', async () => {
    const box = sandbox();
    const { repo } = await withEnvironment(box);
    const missing = await box.piko(['open', 'feat-1'], repo, { ...NO_EDITOR, EDITOR: 'no-such-editor --flag' });
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain('the editor no-such-editor (from $EDITOR) is not installed: it is not on PATH');

    const unclosed = await box.piko(['open', 'feat-1'], repo, { ...NO_EDITOR, EDITOR: "vim 'oops" });
    expect(unclosed.exitCode).toBe(2);
    expect(unclosed.stderr).toContain("$EDITOR has a quote that is never closed: vim 'oops");

    const failing = stubs('failing-editor');
    const failed = await box.piko(['open', 'feat-1'], repo, { ...NO_EDITOR, PATH: `${failing.bin}:${box.env.PATH}`, EDITOR: 'failing-editor', STUB_EXIT: '3' });
    expect(failed.exitCode).toBe(3);
    expect(failing.calls()).toHaveLength(1);
  });

  it('refuses an environment that does not exist', async () => {
    const box = sandbox();
    const repo = await initProject(box);
    const editor = stubs('code');
    const result = await box.piko(['open', 'nope'], repo, { ...NO_EDITOR, PATH: `${editor.bin}:${box.env.PATH}` });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('no environment "nope"');
    expect(editor.calls()).toEqual([]);
  });
});

describe('piko open <name> <service>: a published port in the browser', () => {
  it("opens the service's first published port as http://localhost:<port>", async () => {
    const box = sandbox();
    const { output } = await withEnvironment(box, { 'docker-compose.yml': COMPOSE });
    const port = printedPort(output, 'web:80');
    // Linux opens with xdg-open, macOS with open: both are stood in for.
    const openers = stubs('xdg-open', 'open');
    const result = await box.piko(['open', 'app/feat-1', 'web'], tempDir(), { PATH: `${openers.bin}:${box.env.PATH}` });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(`[piko] opening http://localhost:${port} (web of app/feat-1)`);
    // The opener is left to run on its own (one may stay until the browser quits): its record comes when it comes.
    await waitForFile(openers.log);
    expect(openers.calls()).toEqual([{ program: process.platform === 'darwin' ? 'open' : 'xdg-open', args: [`http://localhost:${port}`], cwd: expect.any(String) }]);
  });

  it("opens a shared service's port, the first TCP one, from what the environment recorded of it", async () => {
    const box = sandbox();
    await withEnvironment(box, { 'docker-compose.yml': COMPOSE });
    // What the shared stage records of a project's database server (made here without an engine).
    const state = new State(box.home);
    try {
      const [row] = state.listEnvironments();
      state.updateEnvironment(row!.id, {
        shared: [
          {
            service: 'db',
            ports: [
              { service: 'db', containerPort: 5353, hostPort: 10953, protocol: 'udp' },
              { service: 'db', containerPort: 5432, hostPort: 10932, protocol: 'tcp' },
            ],
          },
          { service: 'dns', ports: [{ service: 'dns', containerPort: 53, hostPort: 10953, protocol: 'udp' }] },
        ],
      });
    } finally {
      state.close();
    }
    const openers = stubs('xdg-open', 'open');
    const env = { PATH: `${openers.bin}:${box.env.PATH}` };
    const result = await box.piko(['open', 'app/feat-1', 'db'], tempDir(), env);
    expect(result.exitCode).toBe(0);
    await waitForFile(openers.log);
    expect(openers.calls().map((call) => call.args)).toEqual([['http://localhost:10932']]);

    // A port a browser cannot open is no port to open.
    const udp = await box.piko(['open', 'app/feat-1', 'dns'], tempDir(), env);
    expect(udp.exitCode).toBe(2);
    expect(udp.stderr).toContain('app/feat-1 has no published port for dns (services with one: web, db)');
  });

  it('prints the address where there is no opener', async () => {
    const box = sandbox();
    const { repo, output } = await withEnvironment(box, { 'docker-compose.yml': COMPOSE });
    const port = printedPort(output, 'web:80');
    const result = await box.piko(['open', 'feat-1', 'web'], repo, { PATH: pathWithoutDocker() });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(`http://localhost:${port}`);
    expect(result.stderr).toContain('on PATH to open a browser with: open this address yourself');
  });

  it('refuses a service without a published port, naming those that have one', async () => {
    const box = sandbox();
    const { repo } = await withEnvironment(box, { 'docker-compose.yml': COMPOSE });
    const openers = stubs('xdg-open', 'open');
    const env = { PATH: `${openers.bin}:${box.env.PATH}` };
    for (const service of ['worker', 'nope']) {
      const result = await box.piko(['open', 'feat-1', service], repo, env);
      expect(result.exitCode).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain(`app/feat-1 has no published port for ${service} (services with one: web)`);
      expect(result.stderr).toContain('`piko open app/feat-1 web`');
    }

    // A simple environment publishes nothing.
    const simple = await initProject(box, {}, 'plain');
    expect((await box.piko(['create', 'feat-2'], simple)).exitCode).toBe(0);
    const none = await box.piko(['open', 'plain/feat-2', 'web'], repo, env);
    expect(none.exitCode).toBe(2);
    expect(none.stderr).toContain('plain/feat-2 has no published port for web (none of its services publishes one)');
    expect(openers.calls()).toEqual([]);
  });
});
