// `piko config [env]`: the configuration in force for an environment, defaults filled in, the
// `environments:` glob applied, each value with where it came from; a config that is code is
// not run to show it unless it is approved. `piko config schema`: the shipped JSON Schema.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { cleanup, git, initProject, ROOT, sandbox } from '../helpers/fixtures.js';

afterEach(cleanup);

const CONFIG = [
  'scripts:',
  '  setup: echo setting up',
  'environments:',
  '  "ci-*": {transport: sse}',
  '  "review-*": {transport: stdout}',
  'shells:',
  '  web: bash',
  '',
].join('\n');
const COMPOSE = 'services:\n  web:\n    image: nginx\n  db:\n    image: postgres\n';

interface Report {
  project: string;
  environment: string | null;
  exists: boolean | null;
  file: string | null;
  approval: string;
  environments: { glob: string; matches: boolean }[];
  matched: string | null;
  values: Record<string, { value: unknown; source: string; note?: string }>;
}

/** The line of `key` in the text output: key, value and source, in columns. */
const row = (key: string, value: string, source: string) =>
  new RegExp(`^ {2}${escape(key)} +${escape(value)} +${escape(source)}$`, 'm');
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('piko config', () => {
  it('shows what applies to an environment: defaults, the glob that matched, where each value came from', async () => {
    const box = sandbox();
    const repo = await initProject(box, { '.piko.yml': CONFIG, 'compose.yaml': COMPOSE });

    const matched = await box.piko(['config', 'ci-1'], repo);
    expect(matched.stderr).toBe('');
    expect(matched.exitCode).toBe(0);
    expect(matched.stdout).toContain('app/ci-1 (not created yet: what a create of it would get)\n');
    expect(matched.stdout).toContain('"ci-*" matches ci-1; "review-*" does not');
    expect(matched.stdout).toMatch(row('scripts.setup', 'echo setting up', '.piko.yml: scripts.setup'));
    expect(matched.stdout).toMatch(row('transport', 'sse', '.piko.yml: environments."ci-*".transport'));
    expect(matched.stdout).toMatch(row('worktrees', '.piko/worktrees', 'default'));
    expect(matched.stdout).toMatch(row('compose', 'compose.yaml', `default (found in the repository root ${repo})`));
    expect(matched.stdout).toMatch(row('shells.web', 'bash', '.piko.yml: shells.web'));
    expect(matched.stdout).toMatch(row('shells.db', 'sh', 'default'));

    // No glob matches: the top-level default applies.
    const unmatched = await box.piko(['config', 'app/feature'], repo);
    expect(unmatched.stdout).toContain('no glob matches; "ci-*" does not; "review-*" does not');
    expect(unmatched.stdout).toMatch(row('transport', 'websocket', 'default'));

    // The variable comes before the config, and says what it overrides.
    const variable = await box.piko(['config', 'ci-1'], repo, { PIKO_TRANSPORT: 'stdout' });
    expect(variable.stdout).toMatch(row('transport', 'stdout', 'PIKO_TRANSPORT (without it: sse from .piko.yml: environments."ci-*".transport)'));

    // Standing in the repository, no name: the project's settings, no glob applied.
    const project = await box.piko(['config'], repo);
    expect(project.stdout).toContain("app (no environment: the project's settings, no environments: glob applied)\n");
    expect(project.stdout).toContain('not applied without an environment: "ci-*", "review-*"');
    expect(project.stdout).toMatch(row('transport', 'websocket', 'default'));
    expect(project.stdout).not.toMatch(/^ {2}worktree /m);
  });

  it('--json: each key with its value and source', async () => {
    const box = sandbox();
    const repo = await initProject(box, { '.piko.yml': CONFIG, 'compose.yaml': COMPOSE });
    const result = await box.piko(['config', 'ci-7', '--json'], repo);
    expect(result.exitCode).toBe(0);
    const report = JSON.parse(result.stdout) as Report;
    expect(report).toMatchObject({
      project: 'app',
      environment: 'ci-7',
      exists: false,
      file: join(repo, '.piko.yml'),
      approval: 'approved',
      environments: [
        { glob: 'ci-*', matches: true },
        { glob: 'review-*', matches: false },
      ],
      matched: 'ci-*',
    });
    expect(report.values).toEqual({
      'scripts.setup': { value: 'echo setting up', source: '.piko.yml: scripts.setup' },
      'shells.web': { value: 'bash', source: '.piko.yml: shells.web' },
      'shells.db': { value: 'sh', source: 'default' },
      transport: { value: 'sse', source: '.piko.yml: environments."ci-*".transport' },
      'server.url': { value: null, source: 'default', note: expect.any(String) },
      worktrees: { value: '.piko/worktrees', source: 'default' },
      worktree: { value: join(repo, '.piko', 'worktrees', 'ci-7'), source: 'default', note: 'where a create puts it' },
      compose: { value: 'compose.yaml', source: 'default', note: `found in the repository root ${repo}` },
    });
  });

  it('of an environment that exists, from inside its worktree: where it was made', async () => {
    const box = sandbox();
    const repo = await initProject(box, { '.piko.yml': 'worktrees: ../{project}-trees\nenvironments:\n  "review-*": {transport: stdout}\n' });
    expect((await box.piko(['create', 'review-1', '--no-attach', '--quiet'], repo)).exitCode).toBe(0);
    const worktree = join(repo, '..', 'app-trees', 'review-1');
    const result = await box.piko(['config', '--json'], worktree);
    const report = JSON.parse(result.stdout) as Report;
    expect(report).toMatchObject({ environment: 'review-1', exists: true, matched: 'review-*' });
    expect(report.values.transport).toEqual({ value: 'stdout', source: '.piko.yml: environments."review-*".transport' });
    expect(report.values.worktrees).toEqual({ value: '../{project}-trees', source: '.piko.yml: worktrees' });
    expect(report.values.worktree).toMatchObject({ value: worktree, source: 'the environment' });
    expect(report.values.compose).toMatchObject({ value: null, source: 'default' });
  });

  it('does not run a config that is code and not approved, and says how to approve it', async () => {
    const box = sandbox();
    const code = (line: string) => `import { writeFileSync } from 'node:fs';\n${line}\nexport default { scripts: { setup: 'echo hi' } };\n`;
    const repo = await initProject(box, { 'piko.config.mjs': code('') });
    writeFileSync(join(repo, 'piko.config.mjs'), code("writeFileSync(new URL('./ran', import.meta.url), 'read');"));
    git(repo, 'commit', '-qam', 'upstream change');

    for (const args of [['config'], ['config', 'ci-1', '--json']]) {
      const refused = await box.piko(args, repo);
      expect(refused.exitCode).toBe(1);
      expect(refused.stdout).toBe('');
      expect(refused.stderr).toContain('its config piko.config.mjs is code, which runs when it is read, and it is not approved as it is now: not read');
      expect(refused.stderr).toContain('`piko trust app`');
    }
    expect(existsSync(join(repo, 'ran'))).toBe(false);

    // Approved, it is read (and so runs), and shown.
    expect((await box.piko(['trust'], repo)).exitCode).toBe(0);
    const shown = await box.piko(['config'], repo);
    expect(shown.stdout).toMatch(row('scripts.setup', 'echo hi', 'piko.config.mjs: scripts.setup'));
  });
});

describe('piko config schema', () => {
  it('prints the JSON Schema the package ships, which a JSON config may name', async () => {
    const box = sandbox();
    const repo = await initProject(box, { '.pikorc.json': '{"$schema": "./node_modules/piko/dist/bin/piko.schema.json", "transport": "sse"}\n' });
    const result = await box.piko(['config', 'schema'], repo);
    expect(result.exitCode).toBe(0);
    // (execa takes the last newline off what it read.)
    expect(`${result.stdout}\n`).toBe(readFileSync(join(ROOT, 'dist', 'bin', 'piko.schema.json'), 'utf8'));
    const report = JSON.parse((await box.piko(['config', '--json'], repo)).stdout) as Report;
    expect(report.values.transport).toEqual({ value: 'sse', source: '.pikorc.json: transport' });
    expect(Object.keys(report.values)).not.toContain('$schema');
  });
});
