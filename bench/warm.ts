// Warm environments on a real project: a create whose setup is `npm install` (a few hundred
// packages from the npm registry), with the copy stage giving the worktree the repository's
// node_modules, against the same create without it. Side by side in one run, interleaved.
import { execa } from 'execa';
import { median, piko, repo, row, RUNS, spread, timed } from './harness.js';

/** A small web app's dependencies: about 430 packages once installed. */
const PACKAGE = JSON.stringify(
  {
    name: 'shop',
    version: '1.0.0',
    private: true,
    dependencies: { express: '4.21.2', 'body-parser': '1.20.3', 'cookie-parser': '1.4.7' },
    devDependencies: { jest: '29.7.0', eslint: '8.57.1', supertest: '7.1.0' },
  },
  null,
  2,
);
const INSTALL = 'npm install --no-audit --no-fund';

/** A repository with the app's package.json and lockfile committed and node_modules installed (ignored), as after a day's work. */
async function project(name: string, include: boolean): Promise<string> {
  const dir = await repo(name, INSTALL, {
    'package.json': PACKAGE,
    '.gitignore': 'node_modules/\n',
    ...(include ? { '.worktreeinclude': 'node_modules/\n' } : {}),
  });
  await execa('sh', ['-c', INSTALL], { cwd: dir });
  await execa('git', ['add', 'package-lock.json'], { cwd: dir });
  await execa('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@example.com', 'commit', '-q', '-m', 'lockfile'], { cwd: dir });
  return dir;
}

/** Stage durations of a create, from its --json messages. */
function stageTimes(stdout: string): Record<string, number> {
  const times: Record<string, number> = {};
  for (const line of stdout.split('\n')) {
    const m = line ? (JSON.parse(line) as { type: string; name?: string; state?: string; durationMs?: number }) : undefined;
    if (m?.type === 'stage' && m.state === 'end') times[m.name!] = m.durationMs!;
  }
  return times;
}

export async function warmCreate(): Promise<void> {
  const warm = await project('warm', true);
  const cold = await project('cold', false);
  const t: Record<string, number[]> = {};
  const add = (key: string, value: number) => (t[key] ??= []).push(value);
  for (let run = 0; run < RUNS; run++) {
    for (const [dir, kind] of [[cold, 'cold'], [warm, 'warm']] as const) {
      let stdout = '';
      add(kind, await timed(async () => {
        const created = await piko(['create', `${kind}${run}`, '--no-attach', '--transport', 'stdout', '--json'], dir);
        if (created.exitCode !== 0) throw new Error(`${kind} create failed: ${created.stderr}`);
        stdout = created.stdout;
      }));
      const stages = stageTimes(stdout);
      add(`${kind} setup`, stages['script:setup'] ?? 0);
      if (kind === 'warm') add('copy', stages.copy ?? 0);
      await piko(['destroy', `${kind}${run}`, '--force', '--transport', 'stdout'], dir);
    }
  }
  const s = (xs: number[]) => `${(median(xs) / 1000).toFixed(1)} s`;
  row(
    'warm create: npm install setup, node_modules copied (435 packages, 38 MB)',
    s(t.warm!),
    '< 3 s',
    median(t.warm!) < 3000,
    `spread ${spread(t.warm!.map((x) => x / 1000), 1)} s; copy ${s(t.copy!)}, then npm install ${s(t['warm setup']!)} ("up to date")`,
  );
  row(
    'the same create without the copy',
    s(t.cold!),
    '',
    undefined,
    `spread ${spread(t.cold!.map((x) => x / 1000), 1)} s; npm install ${s(t['cold setup']!)}; warm/cold ${(median(t.warm!) / median(t.cold!)).toFixed(2)}×`,
  );
}
