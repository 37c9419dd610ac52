// A team's plugins and config: found by cosmiconfig, validated, and used through the same
// mechanisms as the built-in stages and transports. Bad config changes nothing.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { cleanup, git, initProject, ROOT, sandbox, type Sandbox } from '../helpers/fixtures.js';
import { startServer, stopServers } from '../helpers/server.js';

afterEach(async () => {
  await stopServers();
  cleanup();
});

const TEAM_PLUGIN = readFileSync(join(ROOT, 'test', 'fixtures', 'team-plugin.mjs'), 'utf8');

/** Nothing a create could have made: no worktree, branch, row, or operation log. */
async function expectNothingMade(box: Sandbox, repo: string, name: string): Promise<void> {
  expect(existsSync(join(repo, '.piko', 'worktrees', name))).toBe(false);
  expect(git(repo, 'branch', '--list', name)).toBe('');
  expect(JSON.parse((await box.piko(['list', '--json'], repo)).stdout)).toEqual([]);
  expect(existsSync(join(box.home, 'logs')) ? readdirSync(join(box.home, 'logs')) : []).toEqual([]);
  expect(box.docker.calls()).toEqual([]);
}

describe('a team plugin', () => {
  it('adds a stage and sees every event, locally and on the server', async () => {
    const box = sandbox();
    const repo = await initProject(box, {
      'tools/team.mjs': TEAM_PLUGIN,
      '.piko.yml': 'scripts:\n  setup: echo setting up\nplugins:\n  - ./tools/team.mjs\n',
    });
    const local = await box.piko(['create', 'here', '--transport', 'stdout'], repo);
    expect(local.exitCode).toBe(0);
    expect(local.stdout).toContain('[announce] announcing here on port none');
    const events = readFileSync(join(repo, 'team-events.log'), 'utf8').split('\n');
    expect(events).toEqual(
      expect.arrayContaining(['start create here', 'stage git', 'stage script:setup', 'log [script:setup] setting up', 'stage announce', 'end ok']),
    );
    expect(events.indexOf('stage announce')).toBeGreaterThan(events.indexOf('stage script:setup'));

    const server = await startServer(box);
    const remote = await box.piko(['create', 'there'], repo);
    expect(remote.exitCode).toBe(0);
    expect(remote.stdout).toContain('[announce] announcing there on port none');
    await server.waitFor(/create app\/there: succeeded/);
    expect(readFileSync(join(repo, 'team-events.log'), 'utf8')).toContain('log [announce] announcing there on port none');
  });

  it('an exception in its tap names the plugin and the hook, and the create rolls back', async () => {
    const box = sandbox();
    const repo = await initProject(box, {
      'tools/team.mjs': TEAM_PLUGIN,
      '.piko.yml': 'scripts:\n  setup: echo setting up\nplugins: [./tools/team.mjs]\n',
    });
    const result = await box.piko(['create', 'broken'], repo, { TEAM_PLUGIN_THROW: 'script:setup' });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('plugin TeamPlugin failed in hook stageStart: refusing to run script:setup');
    expect(result.stdout).toContain('[piko] rolling back git');
    expect(existsSync(join(repo, '.piko', 'worktrees', 'broken'))).toBe(false);
  });

  it('adds a transport, picked by name like the built-in ones', async () => {
    const box = sandbox();
    const repo = await initProject(box, {
      'tools/team.mjs': TEAM_PLUGIN,
      '.piko.yml': 'plugins: [./tools/team.mjs]\nenvironments:\n  "rec-*": {transport: tee-file}\n',
    });
    const result = await box.piko(['create', 'rec-1'], repo);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/✓ rec-1 ready/);
    const teed = readFileSync(join(repo, 'team-messages.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(teed[0]).toMatchObject({ type: 'accepted', environment: 'rec-1' });
    expect(teed.at(-1)).toMatchObject({ type: 'complete', success: true });
  });
});

describe('config discovery', () => {
  it.each([
    ['piko.config.mjs', { 'piko.config.mjs': "export default { scripts: { setup: 'echo from mjs' } };\n" }, '[setup] from mjs'],
    ['package.json#piko', { 'package.json': JSON.stringify({ name: 'x', piko: { scripts: { setup: 'echo from package.json' } } }) }, '[setup] from package.json'],
    ['.pikorc.json', { '.pikorc.json': '{"scripts": {"setup": "echo from pikorc"}}' }, '[setup] from pikorc'],
    ['.piko.yml before the rest', { '.piko.yml': 'scripts: {setup: echo from yml}\n', 'piko.config.mjs': "export default { scripts: { setup: 'echo from mjs' } };\n" }, '[setup] from yml'],
  ])('finds %s', async (_what, files, line) => {
    const box = sandbox();
    const repo = await initProject(box, files);
    const result = await box.piko(['create', 'found'], repo);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(line);
  });
});

describe('config mistakes, said at once', () => {
  it('every problem in one run, with the key that was meant', async () => {
    const box = sandbox();
    const repo = await initProject(box, { '.piko.yml': 'script:\n  setup: echo hi\ntransport: 42\nstages:\n  - {name: x}\n' });
    const result = await box.piko(['create', 'nope', '--yes'], repo);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('.piko.yml has 3 problems:');
    expect(result.stderr).toContain('.piko.yml: unknown key "script" (did you mean "scripts"?)');
    expect(result.stderr).toContain('.piko.yml: transport: expected string, got number 42');
    expect(result.stderr).toContain('.piko.yml: stages[0].run: required string');
    await expectNothingMade(box, repo, 'nope');
  });

  it('a transport nobody offers, in the config even when --transport says another, or on the command line', async () => {
    const box = sandbox();
    const repo = await initProject(box, { '.piko.yml': 'transport: webscoket\n' });
    const overridden = await box.piko(['create', 'nope', '--transport', 'stdout'], repo);
    expect(overridden.exitCode).toBe(1);
    expect(overridden.stderr).toContain('.piko.yml: transport: no transport named "webscoket" (did you mean "websocket"?); transports: websocket, sse, stdout');
    const flag = await box.piko(['create', 'nope', '--transport', 'sdtout'], repo);
    expect(flag.stderr).toContain('--transport: no transport named "sdtout" (did you mean "stdout"?)');
    await expectNothingMade(box, repo, 'nope');
  });
});

describe('invalid config changes nothing', () => {
  it.each([
    ['a stage without run', '.piko.yml', 'stages:\n  - name: migrate\n', '.piko.yml: stages[0].run: required string'],
    ['unparsable YAML', '.piko.yml', 'scripts:\n  setup: [oops\n', /\.piko\.yml: not valid YAML: line \d+, column \d+/],
    ['an unknown before/after', '.piko.yml', 'stages:\n  - {name: a, run: "true", after: nowhere}\n', '.piko.yml: stages[0].after: unknown stage "nowhere" (stages: git, copy, prepare, ports, docker, setup, a, tmux)'],
    ['a cycle', '.piko.yml', 'stages:\n  - {name: a, run: "true", after: b}\n  - {name: b, run: "true", after: a}\n', '.piko.yml: stages[0] (a), stages[1] (b) form a cycle through before/after'],
    ['a name the built-ins use', '.piko.yml', 'stages:\n  - {name: setup, run: "true"}\n', '.piko.yml: stages[0].name: two stages are named "setup"'],
    ['a missing plugin module', '.piko.yml', 'plugins: [./tools/nope.mjs]\n', /\.piko\.yml: plugins\[0\]: no plugin module at \/.*\/tools\/nope\.mjs/],
    ['a plugin that is no plugin', '.piko.yml', 'plugins: [./README.md]\n', /\.piko\.yml: plugins\[0\]: .*README\.md could not be loaded/],
    ['an invalid package.json#piko', 'package.json', '{"name": "x", "piko": {"scripts": {"setup": 42}}}', 'package.json#piko: scripts.setup: expected string, got number 42'],
    ['a broken piko.config.mjs', 'piko.config.mjs', 'export default {;\n', /piko\.config\.mjs: could not be loaded/],
  ])('%s', async (_what, file, text, error) => {
    const box = sandbox();
    const repo = await initProject(box, { [file]: text, 'tools/empty.mjs': 'export default 42;\n' });
    // Approved on the spot, so that what is reported is what is wrong with the config itself.
    const result = await box.piko(['create', 'nope', '--yes'], repo);
    expect(result.exitCode).toBe(1);
    if (typeof error === 'string') expect(result.stderr).toContain(error);
    else expect(result.stderr).toMatch(error);
    await expectNothingMade(box, repo, 'nope');
  });

  it('a plugin module without a plugin object', async () => {
    const box = sandbox();
    const repo = await initProject(box, { 'tools/empty.mjs': 'export default 42;\n', '.piko.yml': 'plugins: [tools/empty.mjs]\n' });
    const result = await box.piko(['create', 'nope'], repo);
    expect(result.stderr).toMatch(/plugins\[0\]: \/.*tools\/empty\.mjs must export default a plugin object \{ name: string, apply\(engine\) \}/);
    await expectNothingMade(box, repo, 'nope');
  });
});
