// Whether a branch is done with: every change of it already in the branch it was made from,
// whichever way it got there. A merge commit or a fast-forward leaves the branch's tip in the
// base; a rebase merge leaves each of its commits there as a commit of the same patch; a squash
// merge leaves all of them as one commit whose patch is the branch's whole change. All read-only.
import { git } from '../system/git.js';

export type Merged = 'merged' | 'rebased' | 'squashed';

/** Git's patch ids of a patch text, one per commit in it (`patch-id --stable`). */
async function patchIds(root: string, patch: string): Promise<string[]> {
  if (patch.trim() === '') return [];
  const ids = await git(root, ['patch-id', '--stable'], patch);
  return ids.ok ? ids.stdout.split('\n').map((line) => line.split(' ')[0]!).filter(Boolean) : [];
}

/**
 * How `branch` came into `base`, or undefined when it has not (or has nothing of its own:
 * still at `baseCommit`, the commit it was made from, it was never worked on).
 */
export async function mergedInto(root: string, branch: string, base: string, baseCommit: string | null | undefined): Promise<Merged | undefined> {
  const tip = await git(root, ['rev-parse', '--verify', '--quiet', '--end-of-options', `refs/heads/${branch}^{commit}`]);
  const into = await git(root, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${base}^{commit}`]);
  if (!tip.ok || !into.ok || tip.stdout === baseCommit) return undefined;
  if ((await git(root, ['merge-base', '--is-ancestor', tip.stdout, into.stdout])).ok) {
    // An ancestor that is also the fork point itself is a branch with nothing of its own.
    return baseCommit === undefined || baseCommit === null || (await git(root, ['merge-base', '--is-ancestor', tip.stdout, baseCommit])).code !== 0 ? 'merged' : undefined;
  }
  const fork = await git(root, ['merge-base', into.stdout, tip.stdout]);
  if (!fork.ok) return undefined;
  // Each commit of the branch: `-` when a commit of the same patch is in the base.
  const cherry = await git(root, ['cherry', into.stdout, tip.stdout]);
  const marks = cherry.ok ? cherry.stdout.split('\n').filter(Boolean) : [];
  if (marks.length > 0 && marks.every((line) => line.startsWith('- '))) return 'rebased';
  // The branch's whole change as one patch, against each commit the base made since the fork.
  const whole = await patchIds(root, (await git(root, ['diff', '--binary', fork.stdout, tip.stdout])).stdout);
  if (whole.length === 0) return undefined;
  const since = await git(root, ['log', '-p', '--binary', '--no-merges', '--format=commit %H', `${fork.stdout}..${into.stdout}`]);
  return (await patchIds(root, since.stdout)).includes(whole[0]!) ? 'squashed' : undefined;
}
