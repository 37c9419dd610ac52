// What piko made that no environment row accounts for: worktrees, the branches they hold, data
// dirs, compose projects and tmux sessions of environments the state database no longer knows
// (a state.db lost or replaced while they existed). Everything piko makes carries the project and
// the environment in its path, its name or its compose label, so it can be found again without
// the database. Nothing here removes anything: it says what is there and the commands that
// remove it. Docker and tmux are asked with argument arrays; either missing is a part skipped
// (and said), never a failure.
import type { EnvironmentRow } from '../state/rows.js';

/** A repository to look in: a registered project, or one the user stands in that is not (yet again). */
export interface LeftoverProject {
  name: string;
  root: string;
  /** The config's `worktrees:` template, when it has one. */
  worktrees?: string | undefined;
}

/** What accounts for a thing: an environment row (of any project). */
export type Accounted = Pick<EnvironmentRow, 'project' | 'name' | 'path' | 'dataDir' | 'composeProject' | 'tmuxSocket'>;

interface LeftoverBase {
  project: string;
  /** The repository it belongs to. */
  root: string;
  environment: string;
  /** What it is, in a line: `worktree /src/app/.piko/worktrees/feat-1 (branch feat-1, 2 uncommitted changes)`. */
  what: string;
  /** The commands that remove it (what a create of the name would run into), in order, each an argument array. */
  remove: Command[];
  /**
   * What a create of the name takes over as it is, so it may stay: a branch (checked out as it
   * is), docker volumes (used again, as after `destroy --keep-volumes`). Why, and the commands
   * that remove it all the same.
   */
  keep?: { note: string; remove: Command[] };
}

/** A command as an argument array: run as it is (prune), shown quoted for a shell (doctor). */
export type Command = string[];

export type Leftover =
  | (LeftoverBase & {
      kind: 'worktree';
      path: string;
      /** How git knows it: a worktree of the repository, one whose folder is gone, or a folder git no longer lists. */
      git: 'registered' | 'missing' | 'unregistered';
      branch?: string;
      /** Changes a person made there (what a `--force` removal throws away). */
      changes?: number;
    })
  | (LeftoverBase & { kind: 'branch'; branch: string; worktree: string })
  | (LeftoverBase & { kind: 'data-dir'; path: string })
  | (LeftoverBase & { kind: 'compose'; composeProject: string; containers: string[]; networks: string[]; volumes: string[] })
  | (LeftoverBase & { kind: 'tmux'; session: string; socket: string });

export type LeftoverKind = Leftover['kind'];

export interface LeftoverReport {
  leftovers: Leftover[];
  /** The parts not looked at, and why: `docker: not installed`. */
  skipped: string[];
}

/** The order they are shown in; they are removed the other way round (but the branch last, and only if wanted). */
export const KIND_ORDER: readonly LeftoverKind[] = ['worktree', 'branch', 'data-dir', 'compose', 'tmux'];
const REMOVAL_ORDER: readonly LeftoverKind[] = ['tmux', 'compose', 'worktree', 'data-dir', 'branch'];

/** An argument as a POSIX shell reads it back: bare when it can be, else single-quoted. */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}

export const command = (...args: string[]): Command => args;

/** A command as a POSIX shell reads it back. */
export const shown = (command: Command): string => command.map(shellQuote).join(' ');

/** The removal commands of several leftovers, in an order that works: sessions and containers before the folders they use, a worktree before its branch. */
export function removalCommands(leftovers: readonly Leftover[]): Command[] {
  const sorted = [...leftovers].sort((a, b) => REMOVAL_ORDER.indexOf(a.kind) - REMOVAL_ORDER.indexOf(b.kind));
  const seen = new Set<string>();
  return sorted.flatMap((l) => l.remove).filter((c) => !seen.has(shown(c)) && seen.add(shown(c)));
}

/** A leftover as `doctor --json` shows it: its commands as a shell reads them. */
export function leftoverJson(leftover: Leftover): object {
  return { ...leftover, remove: leftover.remove.map(shown), ...(leftover.keep ? { keep: { ...leftover.keep, remove: leftover.keep.remove.map(shown) } } : {}) };
}

/** What of several leftovers may stay, each with the commands that remove it all the same. */
export function keepable(leftovers: readonly Leftover[]): { note: string; remove: Command[] }[] {
  return leftovers.flatMap((l) => (l.keep ? [l.keep] : []));
}

export const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

