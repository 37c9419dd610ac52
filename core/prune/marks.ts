// What `piko list` says of an environment that may be done, cheaply (two git calls a project,
// and one for each environment that looks merged): its branch gone, merged into the branch it
// was made from (by a merge or a fast-forward: rebased and squashed ones prune finds, at a price
// list does not pay), or unused for a while.
import type { Mark } from '../protocol/dashboard.js';
import type { EnvironmentRow, ProjectRow, State } from '../state/state.js';
import { git } from '../system/git.js';

/** When the environment was last used: its last operation, or a person's attach, exec, run or shell. */
export function lastUsed(state: State, row: EnvironmentRow): string | undefined {
  const operation = state.latestOperation(row.projectId, row.name)?.startedAt;
  return [operation, row.usedAt ?? undefined, row.createdAt].filter((t): t is string => t !== undefined).sort().at(-1);
}

/** How long unused before `piko list` calls an environment idle. */
export const LIST_IDLE_MS = 14 * 86_400_000;

export type { Mark };

/** The marks of every environment of `project`, by name. */
async function projectMarks(state: State, project: ProjectRow, rows: readonly EnvironmentRow[], now: number): Promise<Map<string, Mark[]>> {
  const heads = await git(project.root, ['for-each-ref', '--format=%(refname:short)%09%(objectname)', 'refs/heads']);
  const tips = new Map(heads.ok ? heads.stdout.split('\n').filter(Boolean).map((line) => line.split('\t') as [string, string]) : []);
  const bases = [...new Set(rows.map((row) => row.base).filter((base): base is string => Boolean(base)))];
  const merged = new Map(
    await Promise.all(
      bases.map(async (base) => {
        const into = await git(project.root, ['for-each-ref', `--merged=${base}`, '--format=%(refname:short)', 'refs/heads']);
        return [base, new Set(into.ok ? into.stdout.split('\n') : [])] as const;
      }),
    ),
  );
  const marks = new Map<string, Mark[]>();
  await Promise.all(
    rows.map(async (row) => {
      const mine: Mark[] = [];
      const tip = tips.get(row.branch);
      if (heads.ok && tip === undefined) mine.push('gone');
      else if (row.base && tip !== row.baseCommit && merged.get(row.base)?.has(row.branch) && (await ownWork(project.root, tip!, row.baseCommit))) mine.push('merged');
      const used = lastUsed(state, row);
      if (used !== undefined && now - Date.parse(used) > LIST_IDLE_MS) mine.push('idle');
      marks.set(row.name, mine);
    }),
  );
  return marks;
}

/**
 * Whether `tip` has commits of its own past `made` (the commit the environment was made from):
 * one still there, or moved back behind it, merged nothing; it is just new.
 */
async function ownWork(root: string, tip: string, made: string | null | undefined): Promise<boolean> {
  if (!made) return true;
  return (await git(root, ['merge-base', '--is-ancestor', tip, made])).code === 1;
}

/** The marks of every environment in `rows`, by `project/env`. */
export async function environmentMarks(state: State, rows: readonly EnvironmentRow[], now = Date.now()): Promise<Map<string, Mark[]>> {
  const projects = state.listProjects().filter((p) => rows.some((row) => row.projectId === p.id));
  const all = new Map<string, Mark[]>();
  await Promise.all(
    projects.map(async (project) => {
      for (const [name, marks] of await projectMarks(state, project, rows.filter((row) => row.projectId === project.id), now)) all.set(`${project.name}/${name}`, marks);
    }),
  );
  return all;
}
