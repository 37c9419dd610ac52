// The environments that are done, and why: their branch merged into the one they were made from
// (a merge, a rebase or a squash), their branch gone, unused for longer than asked, their
// worktree removed by hand; and what piko made that no environment accounts for any more. Each
// with what a removal would throw away (work a person made) and what keeps it (see ./holds.ts).
import { existsSync } from 'node:fs';
import { findLeftovers } from '../leftovers/find.js';
import type { Leftover, LeftoverProject } from '../leftovers/report.js';
import type { EnvironmentRow, ProjectRow, State } from '../state/state.js';
import { uncommittedChanges } from '../prepare/destroy.js';
import { git } from '../system/git.js';
import { sameProcess } from '../system/process.js';
import { query } from '../system/query.js';
import { tmuxSession } from '../system/tmux.js';
import { heldBy } from './holds.js';
import { lastUsed } from './marks.js';
import { mergedInto } from './merged.js';

export interface Candidate {
  project: string;
  environment: string;
  /** Why it is done: `merged into main`, `branch gone`, `unused for 21 days`, `worktree removed`, `no record`. */
  why: string[];
  /** When it was last used (an operation, attach, exec, run, shell), when known. */
  lastUsed: string | undefined;
  /** Bytes on disk of its worktree and data dir, when they are there. */
  bytes: number | undefined;
  /** Changes a person made in its worktree (what a removal throws away). */
  changes: string[];
  /** What keeps it whatever is asked, if anything. */
  heldBy: string | undefined;
  /** The row, for an environment piko has a record of; the leftovers, for one it has not. */
  row?: EnvironmentRow;
  leftovers?: Leftover[];
}

/** A time gone by, as a person says it: `40 min`, `5 h`, `12 days`. */
export function longAgo(ms: number): string {
  if (ms < 3_600_000) return `${Math.max(1, Math.round(ms / 60_000))} min`;
  if (ms < 2 * 86_400_000) return `${Math.round(ms / 3_600_000)} h`;
  return `${Math.floor(ms / 86_400_000)} days`;
}

/** Bytes `du` counts under the paths that are there (in KiB blocks, as disk use). */
async function diskUse(paths: readonly string[]): Promise<number | undefined> {
  const there = paths.filter((path) => existsSync(path));
  if (there.length === 0) return undefined;
  const du = await query('du', ['-s', '-k', ...there], { timeout: 60_000 });
  if (du.exitCode !== 0 && du.stdout === '') return undefined;
  return du.stdout.split('\n').filter(Boolean).reduce((sum, line) => sum + Number(line.split('\t')[0]) * 1024, 0);
}

/** Why `row` is done, if it is; `idleMs`: unused for longer than this counts. */
async function whyDone(state: State, project: ProjectRow, row: EnvironmentRow, idleMs: number | undefined, now: number): Promise<string[]> {
  const why: string[] = [];
  if (!existsSync(row.path)) why.push('worktree removed');
  const branch = await git(project.root, ['rev-parse', '--verify', '--quiet', `refs/heads/${row.branch}`]);
  if (!branch.ok) why.push('branch gone');
  else {
    const base = row.base ?? (await git(project.root, ['symbolic-ref', '--quiet', '--short', 'HEAD'])).stdout.trim();
    const merged = base ? await mergedInto(project.root, row.branch, base, row.baseCommit) : undefined;
    if (merged) why.push(`${merged === 'merged' ? 'merged' : `${merged} and merged`} into ${base}`);
  }
  const used = lastUsed(state, row);
  if (idleMs !== undefined && used !== undefined && now - Date.parse(used) > idleMs) why.push(`unused for ${longAgo(now - Date.parse(used))}`);
  return why;
}

/** Every environment of `projects` that is done, and every leftover piko has no record of. */
export async function pruneCandidates(state: State, projects: readonly ProjectRow[], options: { idleMs?: number | undefined; now?: number }): Promise<Candidate[]> {
  const now = options.now ?? Date.now();
  const rows = state.listEnvironments().filter((row) => projects.some((p) => p.id === row.projectId));
  const found = await Promise.all(
    rows.map(async (row): Promise<Candidate | undefined> => {
      const project = projects.find((p) => p.id === row.projectId)!;
      const why = await whyDone(state, project, row, options.idleMs, now);
      if (why.length === 0) return undefined;
      const operation = state.latestOperation(row.projectId, row.name);
      const running = operation?.status === 'running' && sameProcess(operation.pid, operation.pidStart);
      const [changes, bytes, held] = await Promise.all([
        existsSync(row.path) ? uncommittedChanges(row.path) : Promise.resolve([]),
        diskUse([row.path, row.dataDir]),
        heldBy({ worktree: row.path, session: tmuxSession(project.name, row.name), socket: row.tmuxSocket, running }),
      ]);
      return { project: project.name, environment: row.name, why, lastUsed: lastUsed(state, row), bytes, changes, heldBy: held, row };
    }),
  );
  const { leftovers } = await findLeftovers(projects.map((p): LeftoverProject => ({ name: p.name, root: p.root })), state.listEnvironments());
  const byEnvironment = new Map<string, Leftover[]>();
  for (const l of leftovers) byEnvironment.set(`${l.project}/${l.environment}`, [...(byEnvironment.get(`${l.project}/${l.environment}`) ?? []), l]);
  const orphans = await Promise.all(
    [...byEnvironment.values()].map(async (group): Promise<Candidate> => {
      const { project, environment } = group[0]!;
      const worktree = group.find((l) => l.kind === 'worktree' && l.git !== 'missing');
      const data = group.find((l) => l.kind === 'data-dir');
      const paths = [worktree, data].flatMap((l) => (l && 'path' in l ? [l.path] : []));
      const changes = worktree?.kind === 'worktree' && worktree.git === 'registered' ? await uncommittedChanges(worktree.path) : [];
      const session = group.find((l) => l.kind === 'tmux');
      const held = await heldBy({
        worktree: worktree && 'path' in worktree ? worktree.path : '/nonexistent/piko',
        session: tmuxSession(project, environment),
        socket: session?.kind === 'tmux' ? session.socket : undefined,
        running: false,
      });
      return { project, environment, why: ['no record: what piko made is left'], lastUsed: undefined, bytes: await diskUse(paths), changes, heldBy: held, leftovers: group };
    }),
  );
  return [...found.filter((c): c is Candidate => c !== undefined), ...orphans].sort((a, b) => a.project.localeCompare(b.project) || a.environment.localeCompare(b.environment));
}
