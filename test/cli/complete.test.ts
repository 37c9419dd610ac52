// `piko __complete`: the names a completion script asks for on every Tab, answered by the entry
// before the argument parser loads, from the state as it is at that moment.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { composeServices } from '../../cli/complete.js';
import { cleanup, git, initProject, makeRepo, sandbox, tempDir } from '../helpers/fixtures.js';

afterEach(cleanup);

describe('piko __complete', () => {
  it('answers from the state as it is now: a destroyed environment is gone at once', async () => {
    const box = sandbox();
    const repo = await initProject(box, {}, 'shop');
    for (const name of ['one', 'two']) expect((await box.piko(['create', name, '--no-attach'], repo)).exitCode).toBe(0);
    expect((await box.piko(['__complete', 'envs'], repo)).stdout).toBe('one\ntwo');
    expect((await box.piko(['destroy', 'one'], repo)).exitCode).toBe(0);
    const after = await box.piko(['__complete', 'envs'], repo);
    expect(after).toEqual({ stdout: 'two', stderr: '', exitCode: 0 });
    expect((await box.piko(['__complete', 'projects'], tempDir())).stdout).toBe('shop');
  });

  it("lists branches, remote ones and tags, without a remote's HEAD", async () => {
    const box = sandbox();
    const upstream = makeRepo({}, 'upstream');
    git(upstream, 'branch', 'release');
    const repo = await initProject(box, {}, 'shop');
    git(repo, 'remote', 'add', 'origin', upstream);
    git(repo, 'fetch', '-q', 'origin');
    git(repo, 'remote', 'set-head', 'origin', 'main');
    git(repo, 'tag', 'v2');
    expect((await box.piko(['__complete', 'branches'], repo)).stdout.split('\n')).toEqual(['main', 'origin/main', 'origin/release', 'v2']);
    // From elsewhere, for a create that names the project.
    expect((await box.piko(['__complete', 'branches', 'shop/new'], tempDir())).stdout.split('\n')).toEqual(['main', 'origin/main', 'origin/release', 'v2']);
  });

  it('loads neither the argument parser nor a command', async () => {
    const box = sandbox();
    const repo = await initProject(box);
    const preload = join(tempDir(), 'loaded.cjs');
    const record = join(tempDir(), 'loaded.json');
    writeFileSync(preload, `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(record)}, JSON.stringify(Object.keys(require.cache))));\n`);
    const answered = await box.piko(['__complete', 'envs'], repo, { NODE_OPTIONS: `--require ${preload}` });
    expect(answered).toEqual({ stdout: '', stderr: '', exitCode: 0 });
    const loaded = (JSON.parse(readFileSync(record, 'utf8')) as string[]).map((file) => file.split('/').pop());
    expect(loaded).toEqual(expect.arrayContaining(['piko.js', 'complete.js']));
    expect(loaded).not.toContain('program.js');
  });

  it('prints nothing, and makes nothing, where there is no state, or it is not a database, or it is asked something else', async () => {
    const box = sandbox();
    const home = join(box.home, 'not-yet');
    for (const kind of ['envs', 'projects', 'services', 'project-envs', 'something']) {
      expect(await box.piko(['__complete', kind, 'x'], box.home, { PIKO_HOME: home })).toEqual({ stdout: '', stderr: '', exitCode: 0 });
    }
    expect(existsSync(home)).toBe(false);
    writeFileSync(join(box.home, 'state.db'), 'not a database');
    expect(await box.piko(['__complete', 'envs'], box.home)).toEqual({ stdout: '', stderr: '', exitCode: 0 });
    // Branches need no state where you stand in a repository, and are nothing where you do not.
    expect(await box.piko(['__complete', 'branches'], tempDir())).toEqual({ stdout: '', stderr: '', exitCode: 0 });
  });
});

describe('the services of a compose file', () => {
  it('are the keys of its top-level services mapping, as piko writes it', () => {
    const text = [
      '# Written by piko for environment feat from docker-compose.yml: edit that file, not this one.',
      'name: piko-shop-feat',
      'services:',
      '  web:',
      '    image: nginx',
      '    ports:',
      '      - 127.0.0.1:10180:80',
      '    environment:',
      '      services: not one',
      '',
      '  "db.primary":',
      '    image: postgres',
      "  'worker': {image: busybox}",
      'volumes:',
      '  data: {}',
    ].join('\n');
    expect(composeServices(text)).toEqual(['web', 'db.primary', 'worker']);
  });

  it('are none where the file is in a shape piko does not write, rather than wrong ones', () => {
    expect(composeServices('services: {web: {image: nginx}}\n')).toEqual([]);
    expect(composeServices('volumes:\n  data: {}\n')).toEqual([]);
    expect(composeServices('services:\n  ? web\n  : image: nginx\n')).toEqual([]);
  });
});
