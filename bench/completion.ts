// Shell completion: what a Tab waits for. `piko __complete` answers before the argument parser
// loads, from the state database read-only (and git, for branches), against `node -e 0`, the
// least any piko command costs; interleaved runs, as the start-up rows are (bench/startup.ts).
import { execa } from 'execa';
import { median, ms, piko, repo, row, RUNS, spread, timed } from './harness.js';

/** `piko __complete` for environments, projects and branches, against `node -e 0`. */
export async function completion(): Promise<void> {
  const dir = await repo('completion', 'true');
  for (const name of ['feat-a', 'feat-b', 'feat-c']) await piko(['create', name, '--no-attach', '--transport', 'stdout'], dir);
  const asks: Record<string, string[]> = {
    environments: ['envs', ''],
    projects: ['projects'],
    'branches (+ git for-each-ref)': ['branches'],
  };
  // Each answer is checked once: a fast answer that is wrong would measure nothing.
  const names = (await piko(['__complete', 'envs'], dir)).stdout.split('\n');
  if (!['feat-a', 'feat-b', 'feat-c'].every((name) => names.includes(name))) throw new Error(`__complete envs answered ${JSON.stringify(names)}`);
  const node: number[] = [];
  const times: Record<string, number[]> = {};
  for (let run = 0; run < Math.max(RUNS, 20); run++) {
    node.push(await timed(() => execa('node', ['-e', '0'])));
    for (const [what, args] of Object.entries(asks)) (times[what] ??= []).push(await timed(() => piko(['__complete', ...args], dir)));
  }
  for (const [what, t] of Object.entries(times)) {
    const r = t.map((x, i) => x / node[i]!);
    row(`completion: piko __complete, ${what} / node -e 0`, `${median(r).toFixed(2)}×`, '≤ 1.3', median(r) <= 1.3, `${ms(median(t))} vs ${ms(median(node))} (node -e 0); ratios ${spread(r, 2)}`);
  }
}
