// `piko prune [--idle <duration>] [--yes] [--discard-changes]`: the environments that are done,
// in a table (why, when last used, size, what a person made there, what keeps it), and with
// --yes removed: those piko has a record of by a destroy, streamed like one (through the server
// when one runs), the rest by the commands doctor shows. Work a person made is never thrown away
// unless asked; an environment in use is never touched.
import { PikoError } from '../../core/errors.js';
import { shown } from '../../core/leftovers/report.js';
import { longAgo, pruneCandidates, type Candidate } from '../../core/prune/candidates.js';
import { removeLeftovers } from '../../core/prune/remove.js';
import { meantProject } from '../../core/state/resolve.js';
import type { ProjectRow, State } from '../../core/state/state.js';
import { ExitError } from '../exit.js';
import { openState } from '../open-state.js';
import { print } from '../terminal/print.js';

export interface PruneOptions {
  idle?: string;
  yes?: boolean;
  discardChanges?: boolean;
  project?: string;
  json?: boolean;
  transport?: string;
}

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** `30d`, `2w`, `12h`, `90m` in milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+)\s*([mhdw])$/.exec(text.trim());
  if (!match) throw new PikoError('PIKO_ERR_USAGE', `--idle ${JSON.stringify(text)}: a number with m, h, d or w after it (30d, 2w, 12h)`);
  return Number(match[1]) * UNITS[match[2]!]!;
}

const size = (bytes: number | undefined): string =>
  bytes === undefined ? '-' : bytes < 1024 ** 2 ? `${Math.ceil(bytes / 1024)} KB` : bytes < 1024 ** 3 ? `${(bytes / 1024 ** 2).toFixed(0)} MB` : `${(bytes / 1024 ** 3).toFixed(1)} GB`;

const ago = (when: string | undefined, now: number): string => (when === undefined ? '-' : `${longAgo(now - Date.parse(when))} ago`);

/** What happens to a candidate: removed, or kept and why. */
function verdict(candidate: Candidate, discard: boolean): { remove: boolean; note: string } {
  if (candidate.heldBy) return { remove: false, note: `kept: ${candidate.heldBy}` };
  if (candidate.changes.length > 0 && !discard) return { remove: false, note: `kept: ${candidate.changes.length} uncommitted change${candidate.changes.length === 1 ? '' : 's'} (--discard-changes removes them)` };
  return { remove: true, note: candidate.changes.length > 0 ? `${candidate.changes.length} uncommitted change${candidate.changes.length === 1 ? '' : 's'}, discarded` : '-' };
}

/** The projects to look in: the one named, else the one the user stands in, else every one. */
async function projectsMeant(state: State, named: string | undefined): Promise<ProjectRow[]> {
  if (named !== undefined) return [state.requestProject(named)];
  try {
    return [(await meantProject(state, undefined, process.cwd())).project];
  } catch {
    return state.listProjects();
  }
}

export async function prune(options: PruneOptions): Promise<void> {
  // Each removal streams like a destroy: its lines would break the JSON.
  if (options.json && options.yes) throw new PikoError('PIKO_ERR_USAGE', '--json lists the candidates and removes nothing: leave out --json to remove them with --yes');
  const idleMs = options.idle === undefined ? undefined : parseDuration(options.idle);
  const now = Date.now();
  const { state } = openState();
  let candidates: Candidate[];
  try {
    candidates = await pruneCandidates(state, await projectsMeant(state, options.project), { idleMs, now });
  } finally {
    state.close();
  }
  const discard = options.discardChanges === true;
  if (options.json) {
    print(`${JSON.stringify(candidates.map(({ row: _row, leftovers, ...c }) => ({ ...c, leftovers: leftovers?.length ?? 0, ...verdict(c, discard) })), null, 2)}\n`);
  } else if (candidates.length === 0) {
    print(`nothing to prune: no environment is merged, gone${idleMs === undefined ? '' : ', idle'} or left without a record${idleMs === undefined ? ' (--idle 30d also counts the unused ones)' : ''}\n`);
    return;
  } else {
    const rows = [['ENVIRONMENT', 'WHY', 'LAST USED', 'SIZE', 'WHAT HAPPENS'], ...candidates.map((c) => [`${c.project}/${c.environment}`, c.why.join(', '), ago(c.lastUsed, now), size(c.bytes), options.yes ? verdict(c, discard).note.replace(/^-$/, 'removed') : verdict(c, discard).note])];
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    print(`${rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n')}\n`);
  }
  const removable = candidates.filter((c) => verdict(c, discard).remove);
  if (!options.yes) {
    // The command that removes what this one listed: the same flags.
    const again = ['piko prune --yes', ...(options.idle ? [`--idle ${options.idle}`] : []), ...(discard ? ['--discard-changes'] : []), ...(options.project !== undefined ? [`--project ${options.project}`] : [])].join(' ');
    if (!options.json) print(`${removable.length} of ${candidates.length} would be removed: \`${again}\` removes them${candidates.length > removable.length ? '; the others are kept, as said' : ''}\n`);
    return;
  }
  let failed = 0;
  for (const candidate of removable) {
    const name = `${candidate.project}/${candidate.environment}`;
    try {
      if (candidate.row) {
        const { operate } = await import('../delivery/operate.js');
        await operate(name, (target) => ({ action: 'destroy', ...target, ...(discard ? { discardChanges: true } : {}) }), { transport: options.transport });
      } else {
        await removeLeftovers(candidate.leftovers ?? [], (command) => process.stderr.write(`[prune] ${name}: ${shown(command)}\n`));
        process.stderr.write(`✓ ${name}: what was left is removed\n`);
      }
    } catch (err) {
      failed++;
      if (!(err instanceof ExitError)) process.stderr.write(`✗ ${name}: ${(err as Error).message}\n`);
    }
  }
  if (failed > 0) throw new ExitError(1);
}
