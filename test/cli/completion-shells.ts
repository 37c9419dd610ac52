// What the completion tests share: real environments in a private PIKO_HOME to take names from,
// a `piko` on PATH (the scripts call the command the line starts with), and the shells, each
// started without the user's own configuration.
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from '@jest/globals';
import { execaSync } from 'execa';
import { git, initProject, PIKO_BIN, sandbox, tempDir, type Sandbox } from '../helpers/fixtures.js';

export type Shell = 'bash' | 'zsh' | 'fish';

const found = (shell: Shell): boolean => execaSync('sh', ['-c', `command -v ${shell}`], { reject: false }).exitCode === 0;

/**
 * `describe`, where `shell` is installed (.ci/ensure-tools installs it where it can). Elsewhere
 * the tests are skipped, saying why; under CI=true they fail instead, as the engine tests do.
 */
export function describeShell(shell: Shell, name: string, body: () => void): void {
  if (found(shell)) {
    describe(name, body);
    return;
  }
  const why = `${shell} is not installed (.ci/ensure-tools installs Debian's ${shell} as root)`;
  if (process.env.CI === 'true') {
    describe(name, () => it(`needs ${shell}`, () => {
      throw new Error(`CI=true needs ${shell} for the completion tests: ${why}`);
    }));
    return;
  }
  console.warn(`SKIPPED: ${name} (${why})`);
  describe.skip(name, body);
}

export const COMPOSE = 'services:\n  web:\n    image: nginx\n    ports: ["80"]\n  db:\n    image: postgres\n';

export interface World {
  box: Sandbox;
  /** A project with a compose file: environments feat-a and feat-b, branch feature-old, tag v1.0. */
  shop: string;
  /** A simple project: environments draft and feat-a. */
  blog: string;
  /** A folder in no project. */
  outside: string;
  /** For the shells: piko on PATH, the sandbox's PIKO_HOME, a HOME of their own. */
  env: Record<string, string>;
}

/** Two projects with real environments, made by the real CLI with the stand-in docker. */
export async function world(): Promise<World> {
  const box = sandbox();
  const shop = await initProject(box, { 'docker-compose.yml': COMPOSE }, 'shop');
  git(shop, 'branch', 'feature-old');
  git(shop, 'tag', 'v1.0');
  const blog = await initProject(box, {}, 'blog');
  for (const [name, repo] of [['feat-a', shop], ['feat-b', shop], ['draft', blog], ['feat-a', blog]] as const) {
    const created = await box.piko(['create', name, '--no-attach'], repo);
    if (created.exitCode !== 0) throw new Error(`piko create ${name} failed: ${created.stderr}`);
  }
  const bin = tempDir('piko-bin-');
  symlinkSync(PIKO_BIN, join(bin, 'piko'));
  const home = tempDir('piko-shell-home-');
  for (const dir of ['.config', '.local/share', '.cache']) mkdirSync(join(home, dir), { recursive: true });
  const env = {
    ...box.env,
    PATH: `${bin}:${box.env.PATH}`,
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_DATA_HOME: join(home, '.local/share'),
    XDG_CACHE_HOME: join(home, '.cache'),
    TERM: 'xterm-256color',
  };
  return { box, shop, blog, outside: tempDir('piko-outside-'), env };
}
