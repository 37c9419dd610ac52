// The package as a user gets it: `npm pack`, `npm install -g` of the tarball into a prefix of
// its own (dependencies from the npm registry, through this machine's npm cache), the whole
// prefix made read-only, and the installed `piko` run from folders that are not this project.
import { lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa, execaSync } from 'execa';
import { afterEach, describe, expect, it } from '@jest/globals';
import { cleanup, makeRepo, ROOT, sandbox, tempDir } from '../helpers/fixtures.js';

/** Prefixes made read-only, given back their write permission before cleanup() removes them. */
const readOnly: string[] = [];

afterEach(() => {
  for (const dir of readOnly.splice(0)) execaSync('chmod', ['-R', 'u+w', dir]);
  cleanup();
});

/**
 * This process's environment without what an outer npm (`npm test`) put there for its own
 * scripts (npm_config_prefix, npm_lifecycle_event…): the npm run here reads its configuration
 * as in a user's shell. The npm cache stays this machine's, so packages it holds already are
 * not fetched again.
 */
function npmEnv(): Record<string, string> {
  const cache = execaSync('npm', ['config', 'get', 'cache'], { cwd: ROOT }).stdout.trim();
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key) && key !== 'INIT_CWD')) as Record<string, string>;
  return { ...env, npm_config_cache: cache };
}

/**
 * A prebuilt better-sqlite3 addon for prebuild-install (which better-sqlite3's install script
 * runs) to take instead of compiling one, about a minute of this test: this checkout's own
 * build, for the version it has. prebuild-install reads `.prebuild-installrc` from the folders
 * above the package it installs, so the file in `prefix` applies to that install alone. Where
 * npm resolves another version (or this is not a glibc Linux or a Mac), the names do not match
 * and the addon is compiled as on a user's machine.
 */
function localAddon(prefix: string): void {
  const { version } = JSON.parse(readFileSync(join(ROOT, 'node_modules', 'better-sqlite3', 'package.json'), 'utf8')) as { version: string };
  const stage = tempDir('piko-addon-');
  mkdirSync(join(stage, 'build', 'Release'), { recursive: true });
  writeFileSync(join(stage, 'build', 'Release', 'better_sqlite3.node'), readFileSync(join(ROOT, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node')));
  const prebuilds = tempDir('piko-prebuilds-');
  const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  execaSync('tar', ['-czf', join(prebuilds, name), '-C', stage, 'build']);
  writeFileSync(join(prefix, '.prebuild-installrc'), `local-prebuilds=${prebuilds}\n`);
}

/** Every path under `dir` with its size and modification time: what a write would change. */
function snapshot(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((path) => {
      const stat = lstatSync(join(dir, path));
      return `${path} ${stat.mode.toString(8)} ${stat.isDirectory() ? '' : stat.size} ${stat.mtimeMs}`;
    })
    .sort();
}

const COMPOSE = 'services:\n  web:\n    image: nginx\n    ports: ["80"]\n';

describe('the installed package', () => {
  it(
    'packs the built command whole, installs with npm install -g, and runs from a read-only prefix',
    async () => {
      const env = npmEnv();
      const packed = tempDir('piko-pack-');
      // The build is npm test's (pretest): building again here would replace dist/bin under the
      // tests that run beside this one. `npm pack` alone builds first (prepare).
      const pack = await execa('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', packed], { cwd: ROOT, env });
      const [{ filename, files }] = JSON.parse(pack.stdout) as [{ filename: string; files: { path: string }[] }];
      const shipped = files.map((file) => file.path).sort();

      // The command and what it needs to run, nothing of the sources, tests or the demo.
      expect(shipped).toEqual(expect.arrayContaining(['package.json', 'README.md', 'dist/bin/package.json', 'dist/bin/piko.js', 'dist/bin/program.js']));
      // The dashboard's page ships in its own folder beside the command (the server serves it).
      expect(shipped.filter((path) => !/^(package\.json|README\.md|LICEN[CS]E.*|dist\/bin\/[^/]+|dist\/bin\/ui\/[^/]+)$/.test(path))).toEqual([]);
      expect(shipped).toEqual(expect.arrayContaining(['dist/bin/ui/index.html', 'dist/bin/ui/app.js', 'dist/bin/ui/app.css']));
      expect(shipped.filter((path) => /demo|meta\.json/.test(path))).toEqual([]);
      // Every built file another one loads (`require("./commands-list.js")`) is in the tarball.
      const loaded = new Set(
        shipped
          .filter((path) => path.endsWith('.js'))
          .flatMap((path) => [...readFileSync(join(ROOT, path), 'utf8').matchAll(/require\("\.\/([\w.-]+\.js)"\)/g)].map((m) => `dist/bin/${m[1]}`)),
      );
      expect(loaded.size).toBeGreaterThan(5);
      expect([...loaded].filter((path) => !shipped.includes(path))).toEqual([]);

      const prefix = tempDir('piko-prefix-');
      localAddon(prefix);
      await execa(
        'npm',
        ['install', '--global', '--prefix', prefix, '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline', '--allow-scripts=better-sqlite3', join(packed, filename)],
        { cwd: tempDir(), env },
      );
      const installed = join(prefix, 'lib', 'node_modules', 'piko');
      expect(readdirSync(installed).sort()).toEqual(['README.md', 'dist', 'node_modules', 'package.json']);

      // Nothing may be written into the installed package: made read-only (which stops anyone
      // but root), and compared file by file at the end (which stops root too).
      execaSync('chmod', ['-R', 'a-w', prefix]);
      readOnly.push(prefix);
      const before = snapshot(prefix);

      const box = sandbox();
      const run = { ...box.env, PATH: `${join(prefix, 'bin')}:${box.env.PATH}` };
      const piko = async (args: string[], cwd: string) => {
        const result = await execa('piko', args, { cwd, env: run, reject: false });
        expect({ args, exitCode: result.exitCode, stderr: result.stderr }).toEqual({ args, exitCode: 0, stderr: expect.any(String) });
        return result.stdout;
      };
      const elsewhere = tempDir();
      expect((await execa('sh', ['-c', 'command -v piko'], { env: run })).stdout).toBe(join(prefix, 'bin', 'piko'));
      const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
      expect(await piko(['--version'], elsewhere)).toBe(version);
      expect(await piko(['--help'], elsewhere)).toMatch(/^Usage: piko .*\n[\s\S]*\n {2}create \[options\] <name>/);

      const repo = makeRepo({ 'docker-compose.yml': COMPOSE });
      expect(await piko(['init'], repo)).toContain(`registered project app (${repo})`);
      expect(await piko(['create', 'feat-1'], repo)).toMatch(/✓ feat-1 ready \(docker, running\)/);
      expect(box.docker.upProjects()).toEqual(['piko-app-feat-1']);
      expect(await piko(['list'], elsewhere)).toMatch(/feat-1\s+app\s+docker\s+running/);
      expect(await piko(['path', 'app/feat-1'], elsewhere)).toBe(join(repo, '.piko', 'worktrees', 'feat-1'));
      expect(await piko(['destroy', 'feat-1'], repo)).toMatch(/✓ feat-1 destroyed/);
      expect(box.docker.upProjects()).toEqual([]);
      expect(await piko(['list'], elsewhere)).toContain('no environments yet');

      // The V8 code cache went where piko keeps its own things.
      expect(readdirSync(join(box.home, 'cache')).length).toBeGreaterThan(0);
      expect(snapshot(prefix)).toEqual(before);
    },
    // Long only where npm has to fetch packages or compile better-sqlite3 (see localAddon).
    600_000,
  );
});
