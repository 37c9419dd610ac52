// Which files a new worktree gets a copy of: those the source worktree's `.worktreeinclude` (or
// the config's `copy:`) names that git ignores there. git answers both questions itself, with the
// same pattern rules as .gitignore, and names a folder that is ignored whole once (`node_modules/`)
// instead of every file in it.
import { join } from 'node:path';
import { git } from '../../core/system/git.js';

/** The file of patterns several worktree tools share, at the root of the worktree copied from. */
export const INCLUDE_FILE = '.worktreeinclude';

/** Untracked paths of `worktree` that match `patterns` (folders end with `/`), as git lists them. */
async function untracked(worktree: string, patterns: readonly string[]): Promise<string[]> {
  const listed = await git(worktree, ['ls-files', '-z', '--others', '--ignored', '--directory', ...patterns]);
  if (!listed.ok) throw new Error(`git ls-files failed in ${worktree}`);
  return listed.stdout.split('\0').filter(Boolean);
}

/**
 * The paths (relative to `source`, folders ending in `/`) to copy: untracked, git-ignored, and
 * named by `.worktreeinclude` or `extra`. Never `.git` (git never lists it), never piko's own
 * `.piko/`, never a folder that holds `keepOut` (the new worktree itself, when it lies inside).
 */
export async function selectCopies(source: string, extra: readonly string[], includeFile: boolean, keepOut: string): Promise<string[]> {
  const patterns = [...(includeFile ? [`--exclude-from=${join(source, INCLUDE_FILE)}`] : []), ...extra.map((p) => `--exclude=${p}`)];
  if (patterns.length === 0) return [];
  const [named, ignored] = await Promise.all([untracked(source, patterns), untracked(source, ['--exclude-standard'])]);
  // The two lists may cut at different depths: keep what is named and ignored, at the deeper cut.
  const inside = (path: string, folder: string): boolean => folder.endsWith('/') && path.startsWith(folder);
  const chosen = new Set<string>();
  for (const path of named) {
    if (ignored.some((folder) => path === folder || inside(path, folder))) chosen.add(path);
    else for (const part of ignored) if (inside(part, path)) chosen.add(part);
  }
  return [...chosen]
    .filter((path) => path !== '.piko/' && !path.startsWith('.piko/') && !inside(`${keepOut}/`, path) && `${keepOut}/` !== path)
    .sort();
}
