import { afterEach, describe, expect, it } from '@jest/globals';
import { chmodSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { State } from '../../../core/state/state.js';
import { cleanup, tempDir } from '../../helpers/fixtures.js';

afterEach(cleanup);

function fresh() {
  const state = new State(tempDir('piko-home-'));
  const project = state.addProject('app', '/repo/app');
  const reserve = (name: string) =>
    state.reserveEnvironment({ projectId: project.id, name, branch: name, path: `/w/${name}`, dataDir: `/d/${name}` }, `op_${name}`);
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
    const { state, reserve } = fresh();
    const env = reserve('busy');
    expect(state.operation('op_busy')).toMatchObject({ status: 'running', pid: process.pid, envId: env.id });
    const destroy = { id: 'op_destroy', kind: 'destroy' } as const;
    expect(() => state.claimEnvironment(env.id, 'destroying', destroy)).toThrow(expect.objectContaining({ code: 'PIKO_ERR_ENV_BUSY' }));
    expect(state.operation('op_destroy')).toBeUndefined();
    // The same row, as left behind by a process that no longer exists.
    state.db.prepare('UPDATE operations SET pid = ? WHERE id = ?').run(2 ** 22 + 12345, 'op_busy');
    expect(state.claimEnvironment(env.id, 'destroying', destroy).status).toBe('creating');
    expect(state.environmentById(env.id)!.status).toBe('destroying');
    expect(state.operation('op_destroy')).toMatchObject({ status: 'running', kind: 'destroy' });
  });

  it('marks what a dead process left running as failed, and stops the command it was running', async () => {
    const { state, reserve } = fresh();
    const env = reserve('crashed');
    const { execa } = await import('execa');
    const orphan = execa('sleep', ['30'], { detached: true, reject: false });
    state.setOperationChild('op_crashed', orphan.pid);
    state.db.prepare('UPDATE operations SET pid = ? WHERE id = ?').run(2 ** 22 + 999, 'op_crashed');
    const failed = state.failInterruptedOperations();
    expect(failed.map((op) => op.id)).toEqual(['op_crashed']);
    expect(state.operation('op_crashed')).toMatchObject({ status: 'failed', error: expect.stringContaining('interrupted') });
    expect(state.environmentById(env.id)!.status).toBe('failed');
    expect((await orphan).signal).toBe('SIGKILL');
    // Operations of live processes are left alone.
    reserve('alive');
    expect(state.failInterruptedOperations()).toEqual([]);
  });
});

describe('a state database that fails', () => {
  it('is private to its user: PIKO_HOME 0700, state.db 0600, and a loose one is tightened', () => {
    const home = join(tempDir('piko-home-'), 'nested', 'home');
    new State(home).close();
    expect(statSync(home).mode & 0o777).toBe(0o700);
    expect(statSync(join(home, 'state.db')).mode & 0o777).toBe(0o600);
    chmodSync(join(home, 'state.db'), 0o644);
    new State(home).close();
    expect(statSync(join(home, 'state.db')).mode & 0o777).toBe(0o600);
  });

  it('that is not a database names the file and what to do', () => {
    const home = tempDir('piko-home-');
    writeFileSync(join(home, 'state.db'), 'these are not the bytes of a database, but long enough to look like a header\n'.repeat(20));
    expect(() => new State(home)).toThrow(
      expect.objectContaining({ code: 'PIKO_ERR_STATE', message: expect.stringContaining(`the state database ${join(home, 'state.db')} is not a SQLite database: move it aside`) }),
    );
  });

  it('that cannot be opened names the file', () => {
    const home = tempDir('piko-home-');
    mkdirSync(join(home, 'state.db'));
    expect(() => new State(home)).toThrow(expect.objectContaining({ code: 'PIKO_ERR_STATE', message: expect.stringContaining(join(home, 'state.db')) }));
  });

  it('on a full disk fails the write with an error that names the file, and the file stays usable', () => {
    const { state, reserve } = fresh();
    // The disk is as full as SQLite is allowed to grow the file.
    state.db.pragma(`max_page_count = ${state.db.pragma('page_count', { simple: true }) as number}`);
    let error: unknown;
    for (let i = 0; i < 1000 && !error; i++) {
      try {
        reserve(`env-${i}-${'x'.repeat(200)}`);
      } catch (err) {
        error = err;
      }
    }
    expect(error).toEqual(expect.objectContaining({ code: 'PIKO_ERR_STATE', message: expect.stringContaining(`the state database ${state.path} cannot be written, the disk is full`) }));
    // The failed transaction left nothing half-made.
    expect(state.listEnvironments().every((e) => state.operation(`op_${e.name}`) !== undefined)).toBe(true);
  });

  it('knows when its file was removed or replaced under it', () => {
    const { state } = fresh();
    expect(state.replaced()).toBeUndefined();
    rmSync(state.path);
    expect(state.replaced()).toContain(`the state database ${state.path} was removed`);
    new State(dirname(state.path)).close();
    expect(state.replaced()).toContain(`the state database ${state.path} was replaced`);
  });
});
