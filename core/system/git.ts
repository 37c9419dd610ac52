// Small read-only git queries (argument arrays, never a shell).
import { execFile } from 'node:child_process';

export function git(cwd: string, args: readonly string[]): Promise<{ ok: boolean; stdout: string }> {
  return new Promise((resolve) => {
    execFile('git', args, { cwd, maxBuffer: 16 * 1024 * 1024 }, (error, stdout) => resolve({ ok: !error, stdout: stdout.replace(/\n$/, '') }));
  });
}

/** Whether `refs/heads/<branch>` exists in the repository at `root`. */
export async function branchExists(root: string, branch: string): Promise<boolean> {
  return (await git(root, ['show-ref', '--verify', '--quiet', `refs/heads/${branch}`])).ok;
}
