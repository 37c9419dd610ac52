import { describe, expect, it } from '@jest/globals';
import { assertEnvironmentName, environmentNameProblem } from '../../core/names.js';
import { composeProjectName } from '../../core/paths.js';

describe('environment names', () => {
  it.each(['feature-xyz', 'a', 'v1.2', 'fix_42', 'x'.repeat(63)])('accepts %j', async (name) => {
    expect(environmentNameProblem(name)).toBeUndefined();
    await expect(assertEnvironmentName(name)).resolves.toBeUndefined();
  });

  it.each([
    ['', 'it is empty'],
    ['../x', 'it may only hold'],
    ['-rf', 'it may only hold'],
    ['a;b', 'it may only hold'],
    ['bad name', 'it may only hold'],
    ['a/b', 'it may only hold'],
    ['x..y', 'it contains `..`'],
    ['x.', 'it ends with `.`'],
    ['x.lock', 'it ends with `.lock`'],
  ])('refuses %j: %s', async (name, problem) => {
    expect(environmentNameProblem(name)).toContain(problem);
    await expect(assertEnvironmentName(name)).rejects.toMatchObject({ code: 'PIKO_ERR_NAME_INVALID' });
  });

  it('makes compose project names docker accepts', () => {
    expect(composeProjectName('My.Project', 'v1.2')).toBe('piko-my-project-v1-2');
  });
});
