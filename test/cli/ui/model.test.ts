import { describe, expect, it } from '@jest/globals';
import { actionsFor, applyEvent, boardOf, emptyBoard, findEnv, runningCount, type Env, type OperationSummary } from '../../../cli/ui/model.js';
import { ago, hostPorts, operationLine, portUrl } from '../../../cli/ui/format.js';

function env(name: string, more: Partial<Env> = {}): Env {
  return {
    id: 1,
    name,
    project: 'shop',
    mode: 'docker',
    status: 'running',
    branch: name,
    path: `/src/shop/.piko/worktrees/${name}`,
    dataDir: `/src/shop/.piko/data/${name}`,
    ports: [{ service: 'web', containerPort: 3000, hostPort: 10180, protocol: 'tcp' }],
    lastOperation: null,
    marks: [],
    ...more,
  };
}

function op(id: string, more: Partial<OperationSummary> = {}): OperationSummary {
  return { id, kind: 'create', status: 'running', startedAt: '2025-01-01T10:00:00.000Z', endedAt: null, error: null, stage: null, durationMs: null, ...more };
}

const snapshot = { projects: [{ name: 'shop', root: '/src/shop', environments: [env('zeta'), env('alpha')] }, { name: 'api', root: '/src/api', environments: [] }], version: '0.1.0' };

describe('the board', () => {
  it('takes a snapshot whole, projects and environments sorted by name', () => {
    const { board } = applyEvent(emptyBoard(), 'snapshot', snapshot);
    expect(board.version).toBe('0.1.0');
    expect(board.projects.map((p) => p.name)).toEqual(['api', 'shop']);
    expect(board.projects[1]!.environments.map((e) => e.name)).toEqual(['alpha', 'zeta']);
    // A snapshot replaces: what the page had is gone.
    const again = applyEvent(board, 'snapshot', { projects: [] }).board;
    expect(again.projects).toEqual([]);
  });

  it('adds, replaces and removes environments, and learns of a project from its first event', () => {
    let board = boardOf(snapshot);
    board = applyEvent(board, 'environment', { project: 'shop', environment: env('beta') }).board;
    expect(board.projects[1]!.environments.map((e) => e.name)).toEqual(['alpha', 'beta', 'zeta']);
    board = applyEvent(board, 'environment', { project: 'shop', environment: env('beta', { status: 'stopped' }) }).board;
    expect(findEnv(board, 'shop', 'beta')!.status).toBe('stopped');
    board = applyEvent(board, 'environment-removed', { project: 'shop', name: 'alpha' }).board;
    expect(board.projects[1]!.environments.map((e) => e.name)).toEqual(['beta', 'zeta']);
    board = applyEvent(board, 'environment', { project: 'new', environment: env('x', { project: 'new' }) }).board;
    expect(board.projects.map((p) => p.name)).toEqual(['api', 'new', 'shop']);
  });

  it('shows a create from its operation at once, before its environment exists, and drops it if it fails', () => {
    let board = boardOf(snapshot);
    const started = applyEvent(board, 'operation', { project: 'shop', environment: 'fresh', operation: op('op_1') });
    expect(started.ended).toBeUndefined();
    board = started.board;
    expect(findEnv(board, 'shop', 'fresh')).toMatchObject({ placeholder: true, status: 'creating' });
    expect(runningCount(board)).toBe(1);
    expect(actionsFor(findEnv(board, 'shop', 'fresh')!).busy).toBe(true);
    const failed = applyEvent(board, 'operation', { project: 'shop', environment: 'fresh', operation: op('op_1', { status: 'failed', error: 'boom', stage: 'setup' }) });
    expect(failed.ended).toMatchObject({ project: 'shop', environment: 'fresh', operation: { id: 'op_1', status: 'failed' } });
    expect(findEnv(failed.board, 'shop', 'fresh')).toBeUndefined();
  });

  it('replaces a placeholder with the environment its event brings', () => {
    let board = applyEvent(boardOf(snapshot), 'operation', { project: 'shop', environment: 'fresh', operation: op('op_1') }).board;
    board = applyEvent(board, 'environment', { project: 'shop', environment: env('fresh', { status: 'creating', lastOperation: op('op_1') }) }).board;
    expect(findEnv(board, 'shop', 'fresh')!.placeholder).toBeUndefined();
    const done = applyEvent(board, 'operation', { project: 'shop', environment: 'fresh', operation: op('op_1', { status: 'succeeded', durationMs: 1200 }) });
    expect(findEnv(done.board, 'shop', 'fresh')!.lastOperation!.status).toBe('succeeded');
    expect(done.ended?.operation.id).toBe('op_1');
  });

  it('does not let an older operation’s news replace a newer one', () => {
    let board = boardOf({ projects: [{ name: 'shop', root: '/src/shop', environments: [env('a', { lastOperation: op('op_2', { kind: 'up', startedAt: '2025-01-02T00:00:00.000Z' }) })] }] });
    board = applyEvent(board, 'operation', { project: 'shop', environment: 'a', operation: op('op_1', { status: 'succeeded' }) }).board;
    expect(findEnv(board, 'shop', 'a')!.lastOperation!.id).toBe('op_2');
  });

  it('ignores what it does not know or cannot read', () => {
    const board = boardOf(snapshot);
    expect(applyEvent(board, 'mystery', { a: 1 }).board).toBe(board);
    expect(applyEvent(board, 'environment', null).board).toBe(board);
    expect(applyEvent(board, 'environment', { project: 'shop' }).board).toBe(board);
    expect(applyEvent(board, 'operation', { project: 'shop', environment: 'zeta', operation: { nope: 1 } }).board).toBe(board);
    expect(applyEvent(board, 'environment-removed', { project: 'elsewhere', name: 'x' }).board).toBe(board);
  });

  it('offers what fits the environment', () => {
    expect(actionsFor(env('a'))).toEqual({ busy: false, up: false, down: true, restart: true, destroy: true });
    expect(actionsFor(env('a', { status: 'stopped' }))).toEqual({ busy: false, up: true, down: false, restart: false, destroy: true });
    expect(actionsFor(env('a', { mode: 'simple', status: 'ready' }))).toEqual({ busy: false, up: false, down: false, restart: false, destroy: true });
    expect(actionsFor(env('a', { lastOperation: op('op_1', { kind: 'up' }) })).busy).toBe(true);
    // A create whose process died leaves `creating`: only a destroy clears it.
    expect(actionsFor(env('a', { status: 'creating', lastOperation: op('op_1', { status: 'failed' }) })).destroy).toBe(true);
  });
});

describe('format', () => {
  it('makes port addresses from numbers only', () => {
    expect(portUrl(10180)).toBe('http://localhost:10180');
    for (const bad of [0, 70000, 1.5, '80', '80@evil.example', NaN, null]) expect(portUrl(bad)).toBeUndefined();
    expect(hostPorts({ service: 'web', containerPort: 80, hostPort: 10180, protocol: 'tcp', replicas: 3 })).toEqual([10180, 10181, 10182]);
  });

  it('says how long ago, and what an operation did', () => {
    const now = Date.parse('2025-01-01T12:00:00.000Z');
    expect(ago('2025-01-01T11:59:50.000Z', now)).toBe('just now');
    expect(ago('2025-01-01T11:55:00.000Z', now)).toBe('5 min ago');
    expect(ago('2025-01-01T09:00:00.000Z', now)).toBe('3 h ago');
    expect(ago('2024-12-30T12:00:00.000Z', now)).toBe('2 days ago');
    expect(ago(null, now)).toBe('');
    expect(operationLine(op('o', { status: 'running', stage: 'setup' }))).toBe('create running (setup)');
    expect(operationLine(op('o', { status: 'succeeded', durationMs: 14_200 }))).toBe('created in 14.2s');
    expect(operationLine(op('o', { kind: 'up', status: 'failed', stage: 'docker', durationMs: 900 }))).toBe('up failed at docker in 900ms');
  });
});
