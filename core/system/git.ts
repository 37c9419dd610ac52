// Small git queries (argument arrays, never a shell), and the record of the untracked files a
// create made, so that a destroy can tell them from a person's work.
import { execFile } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Runs git (with `input` on its stdin, when given); resolves with its exit code and what it printed, never rejects. */
export function git(cwd: string, args: readonly string[], input?: string): Promise<{ ok: boolean; code: number; stdout: string }> {
  return new Promise((resolve) => {
    const child = execFile('git', args, { cwd, maxBuffer: 64 * 1024 * 1024 }, (error, stdout) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ ok: code === 0, code, stdout: stdout.replace(/\n$/, '') });
    });
    // git may be done before it reads (or without reading) its input.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input);
  });
}

/** Whether `refs/heads/<branch>` exists in the repository at `root`. */
export async function branchExists(root: string, branch: string): Promise<boolean> {
  return (await git(root, ['show-ref', '--verify', '--quiet', `refs/heads/${branch}`])).ok;
}

/** Where a create records the untracked files it left: the worktree's own git folder, which goes with the worktree. */
async function madeFilesRecord(worktree: string): Promise<string | undefined> {
  // A linked worktree names its git folder in its `.git` file, which is quicker to read than to ask git.
  try {
    const named = /^gitdir: (.+)$/m.exec(readFileSync(join(worktree, '.git'), 'utf8'))?.[1];
    if (named) return join(resolve(worktree, named.trim()), 'piko-made-files.json');
  } catch {
    // `.git` is a folder, or missing: git knows.
  }
  const dir = await git(worktree, ['rev-parse', '--absolute-git-dir']);
  return dir.ok ? join(dir.stdout.trim(), 'piko-made-files.json') : undefined;
}

/** The worktree's untracked files (each file, not its folder), as `git status --porcelain` lines. */
async function untrackedStatus(worktree: string): Promise<string[]> {
  const status = await git(worktree, ['status', '--porcelain', '--untracked-files=all']);
  return status.ok ? status.stdout.split('\n').filter((line) => line.trim() !== '') : [];
}

const stamp = (file: string): string | undefined => {
  try {
    const stat = statSync(file);
    return `${stat.size}:${stat.mtimeMs}`;
  } catch {
    return undefined;
  }
};

/**
 * Records the worktree's untracked files as they are now, at the end of a create: what piko's
 * own stages made there (`prepare` copying `.env`), which a destroy does not count as work as
 * long as nobody changed it.
 */
export async function recordMadeFiles(worktree: string): Promise<void> {
  const record = await madeFilesRecord(worktree);
  if (!record) return;
  const files: Record<string, string> = {};
  for (const line of await untrackedStatus(worktree)) {
    if (!line.startsWith('?? ')) continue;
    const file = line.slice(3);
    const now = stamp(join(worktree, file));
    if (now) files[file] = now;
  }
  writeFileSync(record, JSON.stringify(files));
}

/** The worktree's changes a person made: its `git status` without the untracked files the create made and nobody touched since. */
export async function changesMade(worktree: string): Promise<string[]> {
  const record = await madeFilesRecord(worktree);
  let made: Record<string, string> = {};
  try {
    if (record) made = JSON.parse(readFileSync(record, 'utf8')) as Record<string, string>;
  } catch {
    // No record (an environment made before piko kept one): every change counts.
  }
  return (await untrackedStatus(worktree)).filter((line) => {
    if (!line.startsWith('?? ')) return true;
    const file = line.slice(3);
    return made[file] === undefined || made[file] !== stamp(join(worktree, file));
  });
}
