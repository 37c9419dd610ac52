import { afterEach, describe, expect, it } from '@jest/globals';
import { State } from '../../core/state.js';
import { cleanup, tempDir } from '../helpers/fixtures.js';

afterEach(cleanup);

function fresh() {
  const state = new State(tempDir('piko-home-'));
  const project = state.addProject('app', '/repo/app');
  const reserve = (name: string) => state.reserveEnvironment({ projectId: project.id, name, branch: name, path: `/w/${name}`, dataDir: `/d/${name}` });
  return { state, project, reserve };
}

describe('State', () => {
  it('uses WAL and a busy timeout so a server and CLIs can share it', () => {
    const { state } = fresh();
    expect(state.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(state.db.pragma('busy_timeout', { simple: true })).toBe(5000);
  });

  it('gives the smallest free id, so port blocks are reused', () => {
    const { state, reserve } = fresh();
    expect([reserve('a').id, reserve('b').id, reserve('c').id]).toEqual([1, 2, 3]);
    state.deleteEnvironment(2);
    expect(reserve('d').id).toBe(2);
    state.deleteEnvironment(1);
    expect(reserve('e').id).toBe(1);
    expect(reserve('f').id).toBe(4);
  });

  it('refuses a name that is taken in the project', () => {
    const { reserve } = fresh();
    reserve('a');
    expect(() => reserve('a')).toThrow(expect.objectContaining({ code: 'PIKO_ERR_ENV_EXISTS' }));
  });

  it('refuses a second registration of a project name for another folder', () => {
    const { state } = fresh();
    expect(state.addProject('app', '/repo/app').name).toBe('app');
    expect(() => state.addProject('app', '/elsewhere/app')).toThrow('another repository is already registered as project "app" (/repo/app)');
  });

  it('will not let a destroy claim an environment a live operation holds, but will take one a dead process left', () => {
    const { state, project, reserve } = fresh();
    const env = reserve('busy');
    state.insertOperation({ id: 'op_live', kind: 'create', projectId: project.id, environment: 'busy', envId: env.id });
    expect(() => state.claimEnvironment(env.id, 'destroying')).toThrow(expect.objectContaining({ code: 'PIKO_ERR_ENV_BUSY' }));
    // The same row, as left behind by a process that no longer exists.
    state.db.prepare('UPDATE operations SET pid = ? WHERE id = ?').run(2 ** 22 + 12345, 'op_live');
    expect(state.claimEnvironment(env.id, 'destroying').status).toBe('creating');
    expect(state.environmentById(env.id)!.status).toBe('destroying');
  });
});
