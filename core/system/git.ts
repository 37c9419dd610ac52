// Small read-only git queries (argument arrays, never a shell).
import { execa } from 'execa';

export async function git(cwd: string, args: readonly string[]): Promise<{ ok: boolean; stdout: string }> {
  const result = await execa('git', args, { cwd, reject: false });
  return { ok: result.exitCode === 0, stdout: result.stdout };
}

/** Whether `refs/heads/<branch>` exists in the repository at `root`. */
export async function branchExists(root: string, branch: string): Promise<boolean> {
  return (await git(root, ['show-ref', '--verify', '--quiet', `refs/heads/${branch}`])).ok;
}
