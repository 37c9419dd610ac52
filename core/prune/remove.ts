// Removing what piko made for an environment it has no record of: the commands doctor shows,
// run as argument arrays (never a shell), sessions and containers first, then the folders. The
// branch stays, as `destroy` keeps it; the compose project's volumes go, as `destroy` removes them.
import type { Command, Leftover } from '../leftovers/report.js';
import { removalCommands } from '../leftovers/report.js';
import { query, whyFailed } from '../system/query.js';

/** The commands that remove a leftover environment, in order. */
export function leftoverRemoval(group: readonly Leftover[]): Command[] {
  const volumes = group.flatMap((l) => (l.kind === 'compose' && l.keep ? l.keep.remove : []));
  return [...removalCommands(group), ...volumes];
}

/** Runs each command, telling `said` what it runs; stops at the first that fails, saying why. */
export async function removeLeftovers(group: readonly Leftover[], said: (command: Command) => void): Promise<void> {
  for (const command of leftoverRemoval(group)) {
    said(command);
    const ran = await query(command[0]!, command.slice(1), { timeout: 120_000 });
    if (ran.exitCode !== 0) throw new Error(`\`${command.join(' ')}\` failed: ${whyFailed(ran, 120_000)}`);
  }
}
