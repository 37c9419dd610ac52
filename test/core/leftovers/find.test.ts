// The finder of leftovers on its own: which compose project is whose (by the longest project
// name that fits; never the shared one, never one a row accounts for), what is skipped when
// docker cannot answer, and removal commands a shell reads back as they were meant, even for
// paths with spaces and quotes. A stand-in docker answers from a table; tmux is asked on a
// server of the test's own, which does not run.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { findLeftovers, leftoversOf } from '../../../core/leftovers/find.js';
import { shellQuote, type Accounted } from '../../../core/leftovers/report.js';
import { cleanup, git, makeRepo, tempDir } from '../../helpers/fixtures.js';

afterEach(cleanup);

const saved = { PATH: process.env.PATH, PIKO_TMUX_SOCKET: process.env.PIKO_TMUX_SOCKET };
beforeAll(() => {
  // A tmux server nobody started: no sessions, whatever the machine's own tmux has.
  process.env.PIKO_TMUX_SOCKET = `piko-test-none-${process.pid}`;
});
afterAll(() => {
  process.env.PATH = saved.PATH;
  if (saved.PIKO_TMUX_SOCKET === undefined) delete process.env.PIKO_TMUX_SOCKET;
  else process.env.PIKO_TMUX_SOCKET = saved.PIKO_TMUX_SOCKET;
});

type Table = Record<'ps' | 'network' | 'volume', [name: string, project: string][]>;

/**
 * A `docker` first on PATH that lists `table` the way `docker ps|network ls|volume ls
 * --format '{{.Name}}\t{{.Label "com.docker.compose.project"}}'` does (honouring an exact label
 * filter), or fails like a daemon that is down when `table` is a string.
 */
function standInDocker(table: Table | string): void {
  const bin = tempDir('piko-docker-');
  writeFileSync(
    join(bin, 'docker'),
    `#!/usr/bin/env node
const table = ${JSON.stringify(table)};
if (typeof table === 'string') { console.error(table); process.exit(1); }
const args = process.argv.slice(2);
const filter = args[args.indexOf('--filter') + 1] || '';
const exact = filter.includes('project=') ? filter.split('=').pop() : undefined;
for (const [name, project] of table[args[0]] || []) if (exact === undefined || exact === project) console.log(name + '\\t' + project);
`,
  );
  chmodSync(join(bin, 'docker'), 0o755);
  process.env.PATH = `${bin}:${saved.PATH}`;
}

const row = (project: string, name: string, root: string, composeProject: string | null = null): Accounted => ({
  project,
  name,
  path: join(root, '.piko', 'worktrees', name),
  dataDir: join(root, '.piko', 'data', name),
  composeProject,
});

describe('findLeftovers', () => {
  it('puts a compose project down to the project whose name fits longest, and leaves out shared ones, accounted ones and strangers', async () => {
    const x = makeRepo({}, 'x');
    const xy = makeRepo({}, 'x-y');
    standInDocker({
      ps: [
        ['piko-x-y-z-web-1', 'piko-x-y-z'],
        ['piko-x-a-web-1', 'piko-x-a'],
        ['piko-x-a-db-1', 'piko-x-a'],
        ['piko-x-shared-db-1', 'piko-x-shared'],
        ['piko-x-y-shared-db-1', 'piko-x-y-shared'],
        ['piko-x-kept-web-1', 'piko-x-kept'],
        ['piko-other-b-web-1', 'piko-other-b'],
        ['myapp-web-1', 'myapp'],
      ],
      network: [['piko-x-a_default', 'piko-x-a']],
      volume: [
        ['piko-x-a_data', 'piko-x-a'],
        ['piko-x-vol_data', 'piko-x-vol'],
      ],
    });
    const report = await findLeftovers(
      [
        { name: 'x', root: x },
        { name: 'x-y', root: xy },
      ],
      [row('x', 'kept', x, 'piko-x-kept')],
    );
    expect(report.skipped).toEqual([]);
    const compose = report.leftovers.filter((l) => l.kind === 'compose');
    expect(compose).toEqual([
      expect.objectContaining({
        project: 'x',
        environment: 'a',
        composeProject: 'piko-x-a',
        containers: ['piko-x-a-web-1', 'piko-x-a-db-1'],
        networks: ['piko-x-a_default'],
        volumes: ['piko-x-a_data'],
        what: 'compose project piko-x-a (2 containers, 1 network, 1 volume)',
        remove: [['docker', 'rm', '--force', 'piko-x-a-web-1', 'piko-x-a-db-1'], ['docker', 'network', 'rm', 'piko-x-a_default']],
        keep: expect.objectContaining({ remove: [['docker', 'volume', 'rm', 'piko-x-a_data']] }),
      }),
      // Volumes alone: what `destroy --keep-volumes` keeps; listed, with nothing that must go.
      expect.objectContaining({ project: 'x', environment: 'vol', what: 'compose project piko-x-vol (1 volume)', remove: [] }),
      expect.objectContaining({ project: 'x-y', environment: 'z', composeProject: 'piko-x-y-z' }),
    ]);
  });

  it('says docker was not looked at when it cannot answer, and finds the rest all the same', async () => {
    const repo = makeRepo({}, 'app');
    mkdirSync(join(repo, '.piko', 'data', 'gone'), { recursive: true });
    // Not an environment's name: not piko's.
    mkdirSync(join(repo, '.piko', 'data', 'Not A Name'), { recursive: true });
    standInDocker('Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?');
    const report = await findLeftovers([{ name: 'app', root: repo }], []);
    expect(report.skipped).toEqual(['docker: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?']);
    expect(report.leftovers).toEqual([expect.objectContaining({ kind: 'data-dir', environment: 'gone' })]);
  });

  it('gives removal commands a shell runs as meant, whatever the paths hold', async () => {
    const repo = makeRepo({}, "it's my app");
    const worktree = join(repo, '.piko', 'worktrees', 'feat');
    git(repo, 'worktree', 'add', '-q', '-b', 'feat', worktree);
    mkdirSync(join(repo, '.piko', 'data', 'feat'), { recursive: true });
    standInDocker({ ps: [], network: [], volume: [] });
    const { leftovers } = await findLeftovers([{ name: "it's my app", root: repo }], []);
    expect(leftovers.map((l) => l.kind)).toEqual(['worktree', 'branch', 'data-dir']);
    for (const l of leftovers) for (const [file, ...args] of [...l.remove, ...(l.keep?.remove ?? [])]) await execa(file!, args);
    expect(git(repo, 'worktree', 'list', '--porcelain').split('\n\n')).toHaveLength(1);
    expect(git(repo, 'branch', '--list', 'feat')).toBe('');
    expect((await findLeftovers([{ name: "it's my app", root: repo }], [])).leftovers).toEqual([]);
    expect(shellQuote("a b'c")).toBe(`'a b'\\''c'`);
  });
});

describe('leftoversOf (what a create runs into)', () => {
  it('looks for one name only, and asks docker only when told to or when something else is left', async () => {
    const repo = makeRepo({}, 'app');
    mkdirSync(join(repo, '.piko', 'data', 'other'), { recursive: true });
    standInDocker({ ps: [['piko-app-feat-web-1', 'piko-app-feat']], network: [['piko-app-feat_default', 'piko-app-feat']], volume: [] });
    const project = { name: 'app', root: repo };
    expect(await leftoversOf(project, 'feat', [], { containers: 'if-others' })).toEqual([]);
    const containers = await leftoversOf(project, 'feat', [], { containers: 'always' });
    expect(containers).toEqual([expect.objectContaining({ kind: 'compose', containers: ['piko-app-feat-web-1'], networks: ['piko-app-feat_default'] })]);
    mkdirSync(join(repo, '.piko', 'data', 'feat'));
    expect((await leftoversOf(project, 'feat', [], { containers: 'if-others' })).map((l) => l.kind)).toEqual(['data-dir', 'compose']);
    // A row accounts for them: nothing is left over.
    expect(await leftoversOf(project, 'feat', [row('app', 'feat', repo, 'piko-app-feat')], { containers: 'always' })).toEqual([]);
  });
});
