import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { cleanup, initProject, ROOT, sandbox } from '../helpers/fixtures.js';

afterEach(cleanup);

/** Every file under `dir`, recursively. */
function filesIn(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesIn(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

// Node 22 keeps the cache itself, in its own format; on Node 20 piko does.
const ownCache = typeof (nodeModule as { enableCompileCache?: unknown }).enableCompileCache !== 'function';

describe('the compile cache', () => {
  it('is not made where there is no PIKO_HOME yet', async () => {
    const box = sandbox();
    const home = join(box.home, 'not-yet');
    const help = await box.piko(['--help'], box.home, { PIKO_HOME: home });
    expect(help.exitCode).toBe(0);
    expect(existsSync(home)).toBe(false);
  });

  it('is made by a command, used by the next, and made again when it does not fit', async () => {
    const box = sandbox();
    const repo = await initProject(box);
    const first = await box.piko(['list'], repo);
    expect(first.exitCode).toBe(0);
    const cache = join(box.home, 'cache');
    const files = filesIn(cache);
    expect(files.length).toBeGreaterThan(0);
    if (!ownCache) return;

    // One file per built file the command compiled: the parser and the command's own.
    const names = files.map((file) => file.split('/').pop()!.replace(/-\d+-\d+$/, ''));
    expect(names).toEqual(expect.arrayContaining(['program.js', 'commands-list.js']));
    // Taken as it is by the next run (one V8 refused would be written again).
    const before = files.map((file) => statSync(file).mtimeMs);
    const again = await box.piko(['list'], repo);
    expect(again.stdout).toBe(first.stdout);
    expect(filesIn(cache).map((file) => statSync(file).mtimeMs)).toEqual(before);

    // A damaged cache changes nothing the user sees, and is replaced (the files `list` compiles;
    // `piko init` made its own).
    const listed = files.filter((file) => /\/(program|commands-list)\.js-\d+-\d+$/.test(file));
    expect(listed).toHaveLength(2);
    for (const file of listed) writeFileSync(file, 'not a code cache');
    const damaged = await box.piko(['list'], repo);
    expect(damaged.exitCode).toBe(0);
    expect(damaged.stdout).toBe(first.stdout);
    for (const file of listed) expect(readFileSync(file, 'utf8')).not.toBe('not a code cache');
  });

  it('gives a local create its cache, and a code config and a plugin still load from cached code', async () => {
    const box = sandbox();
    const repo = await initProject(box, {
      'tools/team.mjs': readFileSync(join(ROOT, 'test', 'fixtures', 'team-plugin.mjs'), 'utf8'),
      'piko.config.mjs': "export default { scripts: { setup: 'echo setting up' }, plugins: ['./tools/team.mjs'] };\n",
    });
    // The cache of the file that runs a local create, each time one ran.
    const made: number[][] = [];
    for (const name of ['one', 'two']) {
      const created = await box.piko(['create', name, '--transport', 'stdout'], repo);
      expect(created.exitCode).toBe(0);
      expect(created.stdout).toContain('[setup] setting up');
      expect(created.stdout).toContain(`[announce] announcing ${name} on port none`);
      made.push(filesIn(join(box.home, 'cache')).filter((file) => file.split('/').pop()!.startsWith('delivery-configured.js-')).map((file) => statSync(file).mtimeMs));
    }
    // Made by the first create; the second compiled from it (and so imported the config and the plugin from cached code).
    if (ownCache) expect(made).toEqual([[expect.any(Number)], made[0]]);
  });
});
