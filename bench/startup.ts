// Start-up: what a command costs before (and around) its own work, against what it cannot do
// without: `node -e 0` for the commands that read state, and F = `node -e 0` + a bare
// `git worktree add` on the same repository for a create (and F = `node -e 0` + a bare
// `git worktree remove` for a destroy). Every figure is a ratio of runs interleaved with each
// other, so a machine that slows down mid-run slows both sides.
import { join } from 'node:path';
import { execa } from 'execa';
import { median, ms, piko, repo, row, RUNS, spread, startServer, stopServer, timed } from './harness.js';

const ratio = (a: number[], b: number[]): number[] => a.map((t, i) => t / b[i]!);

function report(what: string, a: number[], b: number[], target: number, against: string): void {
  const r = ratio(a, b);
  row(what, `${median(r).toFixed(2)}×`, `≤ ${target}`, median(r) <= target, `${ms(median(a))} vs ${ms(median(b))} (${against}); ratios ${spread(r, 2)}`);
}

/** `--version`, `--help`, and the commands that read state, against `node -e 0`. */
export async function startup(): Promise<void> {
  const dir = await repo('startup', 'true');
  await piko(['create', 'here', '--no-attach', '--transport', 'stdout'], dir);
  const commands: Record<string, string[]> = {
    '--version': ['--version'],
    '--help': ['--help'],
    list: ['list'],
    status: ['status', 'here'],
    vars: ['vars', 'here'],
    'logs (finished op)': ['logs', 'here'],
  };
  const node: number[] = [];
  const times: Record<string, number[]> = {};
  for (let run = 0; run < Math.max(RUNS, 10); run++) {
    node.push(await timed(() => execa('node', ['-e', '0'])));
    for (const [name, args] of Object.entries(commands)) (times[name] ??= []).push(await timed(() => piko(args, dir)));
  }
  for (const name of Object.keys(commands)) {
    report(`start-up: piko ${name} / node -e 0`, times[name]!, node, name.startsWith('--') ? 1.1 : 1.3, 'node -e 0');
  }
}

/** A create and a destroy of a simple environment (a one-line setup), locally and through a running server. */
export async function createCost(): Promise<void> {
  const dir = await repo('quick', 'echo ready');
  const server = await startServer();
  const t: Record<string, number[]> = {};
  const add = (key: string, value: number) => (t[key] ??= []).push(value);
  try {
    for (let run = 0; run < Math.max(RUNS, 7); run++) {
      const bare = join(dir, '.piko', 'bare');
      const node = await timed(() => execa('node', ['-e', '0']));
      add('F create', node + (await timed(() => execa('git', ['worktree', 'add', '-q', '-b', `bare${run}`, bare], { cwd: dir }))));
      add('F destroy', (await timed(() => execa('node', ['-e', '0']))) + (await timed(() => execa('git', ['worktree', 'remove', '--force', bare], { cwd: dir }))));
      add('create here', await timed(() => piko(['create', `here${run}`, '--no-attach', '--transport', 'stdout'], dir)));
      add('create via server', await timed(() => piko(['create', `there${run}`, '--no-attach'], dir)));
      add('destroy here', await timed(() => piko(['destroy', `here${run}`, '--transport', 'stdout'], dir)));
      add('destroy via server', await timed(() => piko(['destroy', `there${run}`], dir)));
    }
  } finally {
    await stopServer(server);
  }
  report('create (simple env), through a running server / F', t['create via server']!, t['F create']!, 1.5, 'F = node -e 0 + git worktree add');
  report('create (simple env), locally / F', t['create here']!, t['F create']!, 2, 'F = node -e 0 + git worktree add');
  report('destroy (simple env), through a running server / F', t['destroy via server']!, t['F destroy']!, 1.5, 'F = node -e 0 + git worktree remove');
  report('destroy (simple env), locally / F', t['destroy here']!, t['F destroy']!, 2, 'F = node -e 0 + git worktree remove');
}
