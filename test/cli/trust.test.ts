// Trust: what a repository's config runs, runs only once its user approved it. `piko init`
// shows and approves it; a change (a `git pull`) is refused with the difference until
// `piko trust` or `--yes`, or a yes at a terminal; plugins stay inside the repository.
import { existsSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { cleanup, git, initProject, makeRepo, PIKO_BIN, sandbox, tempDir, waitForOutput, type Sandbox } from '../helpers/fixtures.js';
import { request, startServer, stopServers } from '../helpers/server.js';

afterEach(async () => {
  await stopServers();
  cleanup();
});

/** Commits a change to the config, as a `git pull` would bring it. */
function pull(repo: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) writeFileSync(join(repo, path), text);
  git(repo, 'add', '-A');
  git(repo, 'commit', '-qm', 'upstream change');
}

/** Nothing a create could have made or run. */
function expectNothingRan(repo: string, name: string): void {
  expect(existsSync(join(repo, '.piko', 'worktrees', name))).toBe(false);
  expect(git(repo, 'branch', '--list', name)).toBe('');
  expect(existsSync(join(repo, 'ran'))).toBe(false);
}

const APPROVED = 'scripts:\n  setup: echo setting up\n';
const CHANGED = 'scripts:\n  setup: echo setting up; touch ../../../ran\n';

describe('piko init', () => {
  it('shows what the config runs and records the approval in PIKO_HOME, not in the repository', async () => {
    const box = sandbox();
    const repo = makeRepo({ '.piko.yml': `${APPROVED}stages:\n  - name: seed\n    run: echo seeding\n    env: {LEVEL: "2"}\nshells:\n  web: bash\n` });
    const init = await box.piko(['init'], repo);
    expect(init.exitCode).toBe(0);
    expect(init.stdout).toContain('✓ approved what .piko.yml of app runs');
    expect(init.stdout).toContain('  script setup: echo setting up\n  stage seed: echo seeding (env LEVEL=2)\n  shell web: bash');
    expect(readdirSync(join(box.home, 'trust'))).toHaveLength(1);
    expect(git(repo, 'status', '--porcelain')).toBe('?? .gitignore');
    expect((await box.piko(['create', 'one', '--no-attach'], repo)).exitCode).toBe(0);
  });
});

describe('a config that changed since it was approved', () => {
  it('is refused, with the difference and the command that approves it, by a local create and by the server; nothing runs', async () => {
    const box = sandbox();
    const repo = await initProject(box, { '.piko.yml': APPROVED });
    pull(repo, { '.piko.yml': CHANGED });
    const local = await box.piko(['create', 'here', '--transport', 'stdout'], repo);
    expect(local.exitCode).toBe(1);
    expect(local.stderr).toContain('project app');
    expect(local.stderr).toContain('its config runs what you have not approved:\n  - script setup: echo setting up\n  + script setup: echo setting up; touch ../../../ran\n');
    expect(local.stderr).toContain('`piko trust app`');
    expectNothingRan(repo, 'here');

    const server = await startServer(box);
    const viaCli = await box.piko(['create', 'there'], repo);
    expect(viaCli.exitCode).toBe(1);
    expect(viaCli.stderr).toContain('+ script setup: echo setting up; touch ../../../ran');
    const { messages } = await request(server, 'create', { action: 'create', environment: 'there' });
    expect(messages).toEqual([expect.objectContaining({ type: 'complete', success: false, code: 'PIKO_ERR_UNTRUSTED', approval: expect.any(String) })]);
    expectNothingRan(repo, 'there');

    // `piko trust` shows what changed and approves it; the same create then runs.
    const trust = await box.piko(['trust'], repo);
    expect(trust.stdout).toContain('✓ approved what changed in .piko.yml of app:\n  - script setup: echo setting up\n  + script setup: echo setting up; touch ../../../ran');
    expect((await box.piko(['create', 'there'], repo)).exitCode).toBe(0);
    expect(existsSync(join(repo, 'ran'))).toBe(true);
  });

  it('is approved on the spot with --yes', async () => {
    const box = sandbox();
    const repo = await initProject(box, { '.piko.yml': APPROVED });
    pull(repo, { '.piko.yml': CHANGED });
    expect((await box.piko(['create', 'yes', '--yes', '--transport', 'stdout'], repo)).exitCode).toBe(0);
    expect(existsSync(join(repo, 'ran'))).toBe(true);
    expect((await box.piko(['trust'], repo)).stdout).toContain('is approved already');
  });

  it('is approved through the server only as it was shown: the digest of a refusal approves that, and nothing else', async () => {
    const box = sandbox();
    const repo = await initProject(box, { '.piko.yml': APPROVED });
    const server = await startServer(box);
    pull(repo, { '.piko.yml': CHANGED });
    const refused = (await request(server, 'create', { action: 'create', environment: 'shown' })).messages[0] as { approval: string };
    // Changed again after it was shown: the old digest approves nothing.
    pull(repo, { '.piko.yml': `${CHANGED.trimEnd()}; echo more\n` });
    const stale = await request(server, 'create', { action: 'create', environment: 'shown', approve: refused.approval });
    expect(stale.messages).toEqual([expect.objectContaining({ code: 'PIKO_ERR_UNTRUSTED' })]);
    expectNothingRan(repo, 'shown');
    const current = (stale.messages[0] as { approval: string }).approval;
    const approved = await request(server, 'create', { action: 'create', environment: 'shown', approve: current });
    expect(approved.messages.at(-1)).toMatchObject({ type: 'complete', success: true });
  });

  it('is shown at a terminal and asked about: yes runs it, no leaves everything as it was', async () => {
    const box = sandbox();
    const repo = await initProject(box, { '.piko.yml': APPROVED });
    pull(repo, { '.piko.yml': CHANGED });
    const atTerminal = (name: string) => {
      const command = ['node', PIKO_BIN, 'create', name, '--no-attach', '--transport', 'stdout'].map((a) => `'${a}'`).join(' ');
      return execa('script', ['-qfec', command, '/dev/null'], { cwd: repo, env: { ...box.env, TERM: 'xterm-256color' }, reject: false });
    };
    const no = atTerminal('no');
    await waitForOutput(no.stdout!, /go on\? \[y\/N\]/);
    no.stdin!.write('n\n');
    expect((await no).exitCode).toBe(1);
    expectNothingRan(repo, 'no');

    const yes = atTerminal('yes');
    const asked = await waitForOutput(yes.stdout!, /go on\? \[y\/N\]/);
    expect(asked).toContain('+ script setup: echo setting up; touch ../../../ran');
    yes.stdin!.write('y\n');
    const result = await yes;
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('yes ready');
    expect(existsSync(join(repo, 'ran'))).toBe(true);
  });

  it('covers a plugin module by its content, and a config that is code before it is read', async () => {
    const box = sandbox();
    const plugin = "export default { name: 'noop', apply() {} };\n";
    const code = (line: string) => `import { writeFileSync } from 'node:fs';\n${line}\nexport default { plugins: ['./tools/noop.mjs'] };\n`;
    const repo = await initProject(box, { 'tools/noop.mjs': plugin, 'piko.config.mjs': code('') });
    expect((await box.piko(['create', 'first', '--transport', 'stdout'], repo)).exitCode).toBe(0);

    pull(repo, { 'tools/noop.mjs': `${plugin}// changed\n` });
    const changedPlugin = await box.piko(['create', 'second', '--transport', 'stdout'], repo);
    expect(changedPlugin.stderr).toMatch(/- plugin tools\/noop\.mjs sha256:\w+\n {2}\+ plugin tools\/noop\.mjs sha256:\w+/);
    expectNothingRan(repo, 'second');
    await box.piko(['trust'], repo);

    // The new config writes a file when it is read: refused before it is read.
    pull(repo, { 'piko.config.mjs': code("writeFileSync(new URL('./ran', import.meta.url), 'read');") });
    const changedCode = await box.piko(['create', 'third', '--transport', 'stdout'], repo);
    expect(changedCode.exitCode).toBe(1);
    expect(changedCode.stderr).toMatch(/\+ config piko\.config\.mjs sha256:\w+ \(code: it runs when read\)/);
    expectNothingRan(repo, 'third');
  });
});

describe('a config that is code, not approved', () => {
  const code = (line: string) => `import { writeFileSync } from 'node:fs';\n${line}\nexport default { scripts: { setup: 'echo hi' } };\n`;

  it('is not read by the server, even to choose a transport', async () => {
    const box = sandbox();
    const repo = await initProject(box, { 'piko.config.mjs': code('') });
    const server = await startServer(box);
    pull(repo, { 'piko.config.mjs': code("writeFileSync(new URL('./ran', import.meta.url), 'read');") });
    const refused = await box.piko(['create', 'served'], repo);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('its config runs what you have not approved');
    expectNothingRan(repo, 'served');
    expect(server.output()).toContain('/api/environments/create/stream 101');
  });

  it('behind an empty .piko.yml is never read: the first file there is the config', async () => {
    const box = sandbox();
    const repo = makeRepo({ '.piko.yml': '', 'piko.config.mjs': code("writeFileSync(new URL('./ran', import.meta.url), 'read');") });
    await box.piko(['init'], repo);
    expect((await box.piko(['create', 'plain', '--transport', 'stdout'], repo)).exitCode).toBe(0);
    expect(existsSync(join(repo, 'ran'))).toBe(false);
  });
});

describe('commands that only read the config', () => {
  it('do not run a config that is code and not approved', async () => {
    const box = sandbox();
    const code = (line: string) => `import { writeFileSync } from 'node:fs';\n${line}\nexport default { scripts: { setup: 'echo hi' } };\n`;
    const repo = await initProject(box, { 'piko.config.mjs': code('') });
    expect((await box.piko(['create', 'one', '--transport', 'stdout'], repo)).exitCode).toBe(0);
    pull(repo, { 'piko.config.mjs': code("writeFileSync(new URL('./ran', import.meta.url), 'read');") });
    expect((await box.piko(['logs', 'one'], repo)).exitCode).toBe(0);
    await box.piko(['cancel', 'one'], repo);
    await box.piko(['doctor'], repo);
    expect(existsSync(join(repo, 'ran'))).toBe(false);
  });
});

describe('a plugin outside the repository', () => {
  async function refused(box: Sandbox, repo: string): Promise<string> {
    const result = await box.piko(['create', 'outside', '--yes', '--transport', 'stdout'], repo);
    expect(result.exitCode).toBe(1);
    expectNothingRan(repo, 'outside');
    return result.stderr;
  }

  it('is refused, by path or through a symlink, naming the file and key', async () => {
    const box = sandbox();
    const elsewhere = join(tempDir(), 'evil.mjs');
    writeFileSync(elsewhere, "import { writeFileSync } from 'node:fs'; writeFileSync('ran', ''); export default { name: 'evil', apply() {} };\n");
    const plain = makeRepo({ '.piko.yml': `plugins:\n  - ${elsewhere}\n` });
    const init = await box.piko(['init'], plain);
    expect(init.stderr).toContain(`nothing approved yet: .piko.yml: plugins[0]: ${elsewhere} is outside the repository`);
    expect(await refused(box, plain)).toContain(`.piko.yml: plugins[0]: ${elsewhere} is outside the repository`);
    symlinkSync(elsewhere, join(plain, 'tools.mjs'));
    pull(plain, { '.piko.yml': 'plugins:\n  - ./tools.mjs\n' });
    expect(await refused(box, plain)).toContain('.piko.yml: plugins[0]: ./tools.mjs is outside the repository');
  });
});
