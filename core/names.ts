import { execa } from 'execa';
import { PikoError } from './errors.js';

// An environment name becomes a branch, a folder and part of a docker compose project name, so
// it must be safe for all three: lowercase (compose), no path separators or leading dash (files
// and argv), and a valid git ref component.
const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/** Why `name` cannot name an environment, or undefined when it can (pure, no git). */
export function environmentNameProblem(name: string): string | undefined {
  if (name === '') return 'it is empty';
  if (!NAME.test(name)) {
    if (name.length > 63) return 'it is longer than 63 characters';
    return 'it may only hold lowercase letters, digits, `-`, `_` and `.`, and must start with a letter or digit';
  }
  if (name.includes('..')) return 'it contains `..`';
  if (name.endsWith('.')) return 'it ends with `.`';
  if (name.endsWith('.lock')) return 'it ends with `.lock`';
  return undefined;
}

/** Throws PIKO_ERR_NAME_INVALID unless `name` is safe everywhere and git accepts it as a branch. */
export async function assertEnvironmentName(name: string): Promise<void> {
  const problem = environmentNameProblem(name);
  if (problem === undefined) {
    const git = await execa('git', ['check-ref-format', '--branch', name], { reject: false });
    if (git.exitCode === 0) return;
  }
  throw new PikoError(
    'PIKO_ERR_NAME_INVALID',
    `environment name ${JSON.stringify(name)} is not allowed: ${problem ?? 'git rejects it as a branch name'}`,
  );
}
