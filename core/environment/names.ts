import { PikoError } from '../errors.js';

// An environment name becomes a branch, a folder and part of a docker compose project name
// (`piko-<project>-<env>`), so it must be safe for all three: lowercase letters, digits, `-`
// and `_` only (compose accepts no more, and two names must never map to one compose project),
// no leading dash (argv), nothing a shell or git treats specially. Every such name is a valid
// git branch name, so no git call is needed to check it.
const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** Why `name` cannot name an environment, or undefined when it can. */
export function environmentNameProblem(name: string): string | undefined {
  if (name === '') return 'it is empty';
  if (name.length > 63) return 'it is longer than 63 characters';
  if (!NAME.test(name)) {
    return 'it may only hold lowercase letters, digits, `-` and `_`, and must start with a letter or digit';
  }
  return undefined;
}

/** Throws PIKO_ERR_NAME_INVALID unless `name` is safe as a branch, a folder and a compose project name. */
export function assertEnvironmentName(name: string): void {
  const problem = environmentNameProblem(name);
  if (problem !== undefined) {
    throw new PikoError('PIKO_ERR_NAME_INVALID', `environment name ${JSON.stringify(name)} is not allowed: ${problem}`);
  }
}

/**
 * `project/env` → both parts; anything else is all environment name (so `../x` is refused as
 * a name rather than read as a project called `..`).
 */
export function splitName(name: string): { project: string | undefined; environment: string } {
  const parts = name.split('/');
  if (parts.length === 2 && parts[0] !== '' && parts[0] !== '.' && parts[0] !== '..' && parts[1] !== '') {
    return { project: parts[0], environment: parts[1]! };
  }
  return { project: undefined, environment: name };
}
