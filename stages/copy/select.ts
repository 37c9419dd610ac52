// Which files a new worktree gets a copy of: those the source worktree's `.worktreeinclude` (or
// the config's `copy:`) names that git ignores there. git answers both questions itself, with the
// same pattern rules as .gitignore, and names a folder that is ignored whole once (`node_modules/`)
// instead of every file in it.
import { join } from 'node:path';
import { git } from '../../core/system/git.js';

/** The file of patterns several worktree tools share, at the root of the worktree copied from. */
export const INCLUDE_FILE = '.worktreeinclude';

/** Untracked paths of `worktree` that match `patterns` (folders end with `/`, unless `files`), as git lists them. */
async function untracked(worktree: string, patterns: readonly string[], files = false): Promise<string[]> {
  const listed = await git(worktree, ['ls-files', '-z', '--others', '--ignored', ...(files ? [] : ['--directory']), ...patterns]);
  if (!listed.ok) throw new Error(`git ls-files failed in ${worktree}`);
  return listed.stdout.split('\0').filter(Boolean);
}

/**
 * The paths (relative to `source`, folders ending in `/`) to copy: untracked, git-ignored, and
 * named by `.worktreeinclude` or `extra`. Never `.git` (git never lists it), never piko's own
 * `.piko/`, never a folder that holds `keepOut` (the new worktree itself, when it lies inside),
 * never a path inside another one chosen.
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
  const kept = [...chosen].filter((path) => !path.startsWith('.piko/') && !inside(`${keepOut}/`, path));
  return kept.filter((path) => !kept.some((folder) => folder !== path && inside(path, folder))).sort();
}

/** Which of `paths` git ignores in `worktree`. A path git refuses outright (one behind a link) counts as not ignored. */
async function checkIgnore(worktree: string, paths: readonly string[]): Promise<Set<string>> {
  if (paths.length === 0) return new Set();
  const ask = async (asked: readonly string[]) => {
    const { code, stdout } = await git(worktree, ['check-ignore', '-z', '--stdin'], asked.map((p) => `${p}\0`).join(''));
    return { failed: code !== 0 && code !== 1, ignored: stdout.split('\0').filter(Boolean) };
  };
  // git stops at the first path it refuses: then each half is asked again, down to that path.
  const settle = async (asked: readonly string[]): Promise<string[]> => {
    const answer = await ask(asked);
    if (!answer.failed) return answer.ignored;
    if (asked.length === 1) return [];
    const half = Math.ceil(asked.length / 2);
    return [...(await settle(asked.slice(0, half))), ...(await settle(asked.slice(half)))];
  };
  return new Set(await settle(paths));
}

/**
 * What of `paths` (from `source`, folders ending in `/`) the new worktree's branch ignores too,
 * so a copy of it cannot show up there as a change, one `git add -A` away from being committed
 * (a `.env` on a branch whose .gitignore does not name it), nor land on a file the branch tracks.
 * A folder counts when its contents would be ignored there (`node_modules/` that also holds a
 * tracked file); a folder whose contents would not be is taken file by file.
 */
export async function ignoredThere(source: string, target: string, paths: readonly string[]): Promise<{ copy: string[]; leftOut: string[] }> {
  // A name inside the folder: ignored when what the folder holds would be.
  const probe = (folder: string): string => `${folder}.piko-probe`;
  const ignored = await checkIgnore(target, paths.flatMap((p) => (p.endsWith('/') ? [p, probe(p)] : [p])));
  const copy: string[] = [];
  const leftOut: string[] = [];
  const byFile: string[] = [];
  for (const path of paths) {
    if (ignored.has(path) || (path.endsWith('/') && ignored.has(probe(path)))) copy.push(path);
    else (path.endsWith('/') ? byFile : leftOut).push(path);
  }
  if (byFile.length > 0) {
    const files = await untracked(source, ['--exclude-standard', '--', ...byFile], true);
    const filesIgnored = await checkIgnore(target, files);
    for (const folder of byFile) {
      const its = files.filter((f) => f.startsWith(folder));
      const taken = its.filter((f) => filesIgnored.has(f));
      copy.push(...taken);
      if (taken.length < its.length || its.length === 0) leftOut.push(taken.length === 0 ? folder : `${its.length - taken.length} files of ${folder}`);
    }
  }
  return { copy: copy.sort(), leftOut };
}
