// Whether a branch is in the branch it was made from, and how it got there, asked of real
// repositories: a merge commit and a fast-forward are `merged`, commits cherry-picked one by one
// (a rebase merge) are `rebased`, one commit of the branch's whole change (a squash merge) is
// `squashed`; a branch with a change of its own not in the base, one still at the commit it was
// made from, and one reset to an older commit are none of them.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { execaSync } from 'execa';
import { mergedInto } from '../../../core/prune/merged.js';
import { cleanup, git, makeRepo } from '../../helpers/fixtures.js';

afterEach(cleanup);

/** Commits `files` on the branch checked out in `repo`; returns the new commit. */
function commit(repo: string, message: string, files: Record<string, string>): string {
  for (const [name, text] of Object.entries(files)) writeFileSync(join(repo, name), text);
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', message);
  return git(repo, 'rev-parse', 'HEAD');
}

/** A repository on `main` and a branch `feat` made from its tip (checked out); the commit it was made from. */
function withBranch(): { repo: string; base: string } {
  const repo = makeRepo({ 'a.txt': 'one\ntwo\nthree\n', 'b.txt': 'b\n' });
  const base = git(repo, 'rev-parse', 'HEAD');
  git(repo, 'checkout', '-q', '-b', 'feat');
  return { repo, base };
}

describe('mergedInto', () => {
  it('says merged for a branch merged with a merge commit', async () => {
    const { repo, base } = withBranch();
    commit(repo, 'feat 1', { 'a.txt': 'one\nTWO\nthree\n' });
    commit(repo, 'feat 2', { 'c.txt': 'c\n' });
    git(repo, 'checkout', '-q', 'main');
    commit(repo, 'main moves on', { 'b.txt': 'b changed\n' });
    git(repo, 'merge', '-q', '--no-ff', '-m', 'merge feat', 'feat');
    expect(git(repo, 'rev-list', '--count', '--merges', 'main')).toBe('1');
    await expect(mergedInto(repo, 'feat', 'main', base)).resolves.toBe('merged');
    // An environment made before piko recorded its base commit: the same answer.
    await expect(mergedInto(repo, 'feat', 'main', null)).resolves.toBe('merged');
  });

  it('says merged for a branch main fast-forwarded to', async () => {
    const { repo, base } = withBranch();
    const tip = commit(repo, 'feat 1', { 'c.txt': 'c\n' });
    git(repo, 'checkout', '-q', 'main');
    git(repo, 'merge', '-q', '--ff-only', 'feat');
    expect(git(repo, 'rev-parse', 'main')).toBe(tip);
    await expect(mergedInto(repo, 'feat', 'main', base)).resolves.toBe('merged');
  });

  it('says merged when main went on past the fast-forward', async () => {
    const { repo, base } = withBranch();
    commit(repo, 'feat 1', { 'c.txt': 'c\n' });
    git(repo, 'checkout', '-q', 'main');
    git(repo, 'merge', '-q', '--ff-only', 'feat');
    commit(repo, 'after', { 'd.txt': 'd\n' });
    await expect(mergedInto(repo, 'feat', 'main', base)).resolves.toBe('merged');
  });

  it('says rebased for a branch whose commits were cherry-picked onto main', async () => {
    const { repo, base } = withBranch();
    const one = commit(repo, 'feat 1', { 'a.txt': 'one\nTWO\nthree\n' });
    const two = commit(repo, 'feat 2', { 'c.txt': 'c\n' });
    git(repo, 'checkout', '-q', 'main');
    commit(repo, 'main moves on', { 'b.txt': 'b changed\n' });
    git(repo, 'cherry-pick', one, two);
    // Not the branch's commits: the same patches as new commits.
    expect(execaSync('git', ['merge-base', '--is-ancestor', 'feat', 'main'], { cwd: repo, reject: false }).exitCode).toBe(1);
    await expect(mergedInto(repo, 'feat', 'main', base)).resolves.toBe('rebased');
  });

  it('says squashed for a branch merged with --squash and committed', async () => {
    const { repo, base } = withBranch();
    commit(repo, 'feat 1', { 'a.txt': 'one\nTWO\nthree\n' });
    commit(repo, 'feat 2', { 'c.txt': 'c\n' });
    commit(repo, 'feat 3', { 'a.txt': 'one\nTWO\nthree\nfour\n' });
    git(repo, 'checkout', '-q', 'main');
    commit(repo, 'main moves on', { 'b.txt': 'b changed\n' });
    git(repo, 'merge', '-q', '--squash', 'feat');
    git(repo, 'commit', '-q', '-m', 'feat, squashed');
    // More work on main since does not hide the squash.
    commit(repo, 'later', { 'd.txt': 'd\n' });
    await expect(mergedInto(repo, 'feat', 'main', base)).resolves.toBe('squashed');
  });

  it('says nothing for a branch with a commit that is not in main', async () => {
    const { repo, base } = withBranch();
    commit(repo, 'feat 1', { 'c.txt': 'c\n' });
    git(repo, 'checkout', '-q', 'main');
    commit(repo, 'main moves on', { 'b.txt': 'b changed\n' });
    await expect(mergedInto(repo, 'feat', 'main', base)).resolves.toBeUndefined();
  });

  it('says nothing for a branch only part of which was cherry-picked or squashed', async () => {
    const { repo, base } = withBranch();
    const one = commit(repo, 'feat 1', { 'a.txt': 'one\nTWO\nthree\n' });
    commit(repo, 'feat 2', { 'c.txt': 'c\n' });
    git(repo, 'checkout', '-q', 'main');
    commit(repo, 'main moves on', { 'b.txt': 'b changed\n' });
    git(repo, 'cherry-pick', one);
    await expect(mergedInto(repo, 'feat', 'main', base)).resolves.toBeUndefined();

    // Squashed, then worked on again: the new commit is not in main.
    git(repo, 'checkout', '-q', 'feat');
    git(repo, 'checkout', '-q', '-b', 'other', base);
    commit(repo, 'other 1', { 'e.txt': 'e\n' });
    commit(repo, 'other 2', { 'f.txt': 'f\n' });
    git(repo, 'checkout', '-q', 'main');
    git(repo, 'merge', '-q', '--squash', 'other');
    git(repo, 'commit', '-q', '-m', 'other, squashed');
    await expect(mergedInto(repo, 'other', 'main', base)).resolves.toBe('squashed');
    git(repo, 'checkout', '-q', 'other');
    commit(repo, 'other 3', { 'e.txt': 'e, more\n' });
    await expect(mergedInto(repo, 'other', 'main', base)).resolves.toBeUndefined();
  });

  it('says nothing for a branch still at the commit it was made from, even when main moved on', async () => {
    const { repo, base } = withBranch();
    await expect(mergedInto(repo, 'feat', 'main', base)).resolves.toBeUndefined();
    git(repo, 'checkout', '-q', 'main');
    commit(repo, 'main moves on', { 'b.txt': 'b changed\n' });
    // feat is now an ancestor of main, with nothing of its own.
    await expect(mergedInto(repo, 'feat', 'main', base)).resolves.toBeUndefined();
  });

  it('says nothing for a branch reset to a commit older than the one it was made from', async () => {
    const repo = makeRepo({ 'a.txt': 'one\n' });
    const older = git(repo, 'rev-parse', 'HEAD');
    const base = commit(repo, 'second', { 'b.txt': 'b\n' });
    git(repo, 'branch', 'feat', base);
    git(repo, 'branch', '-f', 'feat', older);
    await expect(mergedInto(repo, 'feat', 'main', base)).resolves.toBeUndefined();
  });

  it('says nothing for a branch or a base that does not exist', async () => {
    const { repo, base } = withBranch();
    commit(repo, 'feat 1', { 'c.txt': 'c\n' });
    await expect(mergedInto(repo, 'nope', 'main', base)).resolves.toBeUndefined();
    await expect(mergedInto(repo, 'feat', 'nope', base)).resolves.toBeUndefined();
  });
});
