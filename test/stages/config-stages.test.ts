// Stages a team defines in config: ordered by before/after, with env, timeout and optional.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { cleanup, gates, git, makeRepo, printedPort, sandbox, type Sandbox, waitForFile, waitUntilGone, writtenPorts } from '../helpers/fixtures.js';

afterEach(cleanup);

const COMPOSE = 'services:\n  web:\n    image: nginx\n    ports: ["80"]\n';

async function create(box: Sandbox, files: Record<string, string>, name = 'custom') {
  const repo = makeRepo({ 'docker-compose.yml': COMPOSE, ...files });
  await box.piko(['init'], repo);
  return { repo, result: await box.piko(['create', name], repo) };
}

describe('stages from config', () => {
  it('run in the order before/after and the built-in positions give, not list order, tagged with their name', async () => {
    const box = sandbox();
    const { repo, result } = await create(box, {
      '.piko.yml': `scripts:
  prepare: echo prepare
  setup: echo setup
stages:
  - {name: last, run: echo last}
  - {name: late, run: echo late, after: setup}
  - {name: migrate, run: 'echo "migrating db on $PIKO_WEB_PORT as $RAILS_ENV"', after: docker, env: {RAILS_ENV: development}}
  - {name: early, run: echo early, before: prepare}
  - {name: seed, run: echo seed, after: migrate}
`,
    });
    expect(result.exitCode).toBe(0);
    const web = printedPort(result.stdout, 'web:80');
    expect(writtenPorts(join(repo, '.piko', 'worktrees', 'custom')).web).toEqual([`${web}:80/tcp`]);
    expect(result.stdout).toContain(`[migrate] migrating db on ${web} as development`);
    expect(result.stdout).toContain('[early] early');
    const events = (await box.piko(['logs', 'custom', '--json'], repo)).stdout.split('\n').map((l) => JSON.parse(l));
    const started = events.filter((m) => m.type === 'stage' && m.state === 'start').map((m) => m.name);
    expect(started).toEqual(['git', 'ports', 'script:early', 'script:prepare', 'docker', 'script:migrate', 'script:seed', 'script:setup', 'script:late', 'script:last', 'tmux']);
  });

  it('a non-optional stage that fails rolls back every earlier stage', async () => {
    const box = sandbox();
    const { repo, result } = await create(box, {
      '.piko.yml': 'stages:\n  - {name: migrate, run: "echo migrating; exit 5", after: docker}\n  - {name: never, run: echo never}\n',
    });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('✗ custom failed at script:migrate (exit 5)');
    expect(result.stdout).toContain('[piko] rolling back docker');
    expect(result.stdout).not.toContain('never');
    expect(box.docker.lastCompose('down')).toBeDefined();
    expect(existsSync(join(repo, '.piko', 'worktrees', 'custom'))).toBe(false);
    expect(git(repo, 'branch', '--list', 'custom')).toBe('');
  });

  it('an optional stage that fails is a warning naming it and its exit code; the create succeeds', async () => {
    const box = sandbox();
    const { result } = await create(box, {
      '.piko.yml': 'stages:\n  - {name: lint, run: "exit 3", optional: true}\n  - {name: after-lint, run: echo still here, after: lint}\n',
    });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('[piko] warning: optional stage script:lint failed (script:lint failed: `sh -c \'exit 3\'` exited with code 3); carrying on');
    expect(result.stdout).toContain('[after-lint] still here');
    expect(result.stdout).toMatch(/✓ custom ready/);
  });

  it('kills a stage that runs over its timeout, its whole process tree', async () => {
    const box = sandbox();
    // The stage waits on a gate the test never opens: the create can only end by the timeout.
    const wait = gates().wait();
    const run = `sleep 30 & echo $! > ../slow.pid; ${wait}`;
    const { repo, result } = await create(box, {
      '.piko.yml': `stages:\n  - {name: slow, run: ${JSON.stringify(run)}, timeout: 1}\n`,
    });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`script:slow failed: \`sh -c '${run.replaceAll("'", "'\\''")}'\` timed out after 1 s and was killed`);
    expect(existsSync(join(repo, '.piko', 'worktrees', 'custom'))).toBe(false);
    // The background sleep was in the stage's process group: it is gone too.
    await waitUntilGone(Number(await waitForFile(join(repo, '.piko', 'worktrees', 'slow.pid'), 1000)), 'the background sleep');
  });
});
