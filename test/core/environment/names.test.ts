import { execaSync } from 'execa';
import { describe, expect, it } from '@jest/globals';
import { assertEnvironmentName, environmentNameProblem } from '../../../core/environment/names.js';
import { composeProjectName } from '../../../core/paths.js';

describe('environment names', () => {
  it.each(['feature-xyz', 'a', 'fix_42', '0day', 'x'.repeat(63)])('accepts %j, which git accepts as a branch too', (name) => {
    expect(environmentNameProblem(name)).toBeUndefined();
    expect(() => assertEnvironmentName(name)).not.toThrow();
    expect(execaSync('git', ['check-ref-format', '--branch', name], { reject: false }).exitCode).toBe(0);
  });

  it.each([
    ['', 'it is empty'],
    ['../x', 'it may only hold'],
    ['-rf', 'it may only hold'],
    ['a;b', 'it may only hold'],
    ['bad name', 'it may only hold'],
    ['a/b', 'it may only hold'],
    ['x..y', 'it may only hold'],
    ['v1.2', 'it may only hold'],
    ['Upper', 'it may only hold lowercase'],
    ['$(rm -rf ~)', 'it may only hold'],
    ['x'.repeat(64), 'longer than 63'],
  ])('refuses %j: %s', (name, problem) => {
    expect(environmentNameProblem(name)).toContain(problem);
    expect(() => assertEnvironmentName(name)).toThrow(expect.objectContaining({ code: 'PIKO_ERR_NAME_INVALID' }));
  });

  it('makes compose project names docker accepts', () => {
    expect(composeProjectName('My.Project', 'v1-2')).toBe('piko-my-project-v1-2');
  });
});
