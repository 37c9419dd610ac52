import { describe, expect, it } from '@jest/globals';
import type { ServerMessage } from '../../../core/protocol/messages.js';
import { TerminalRenderer } from '../../../cli/terminal/render.js';
import { OperationSession } from '../../../cli/ui/session.js';
import { stripSgr } from '../../../cli/ui/sgr.js';

const run: ServerMessage[] = [
  { type: 'accepted', operation: 'op_1', action: 'create', project: 'shop', environment: 'feat', seq: 0 },
  { type: 'stage', name: 'git', state: 'start', seq: 1 },
  { type: 'log', source: 'git', stream: 'stdout', data: 'Preparing worktree\n', seq: 2 },
  { type: 'stage', name: 'git', state: 'end', ok: true, durationMs: 412, seq: 3 },
  { type: 'stage', name: 'docker', state: 'skip', reason: 'no compose file', seq: 4 },
  { type: 'stage', name: 'script:setup', state: 'start', seq: 5 },
  { type: 'logs', source: 'script:setup', stream: 'stdout', data: 'one\ntwo\nthree\n', seq: 6, count: 3 },
  { type: 'log', source: 'script:setup', stream: 'stderr', data: 'npm WARN x\n', seq: 9 },
  { type: 'log', source: 'script:setup', stream: 'stdout', data: Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]).toString('base64'), encoding: 'base64', seq: 10 },
  { type: 'stage', name: 'script:setup', state: 'end', ok: true, durationMs: 11_400, seq: 11 },
  {
    type: 'complete',
    success: true,
    environment: { id: 1, name: 'feat', project: 'shop', mode: 'docker', status: 'running', branch: 'feat', path: '/w', dataDir: '/d', ports: [{ service: 'web', containerPort: 3000, hostPort: 10180, protocol: 'tcp' }] },
    operation: 'op_1',
    durationMs: 14_200,
    seq: 12,
  },
];

/**
 * What the terminal prints for the same messages, coloured (a colour closed after a write's last
 * newline closed before it instead, as the page keeps it: the same on a screen).
 */
function terminal(messages: ServerMessage[]): string {
  let out = '';
  const renderer = new TerminalRenderer({
    write: (t) => (out += (typeof t === 'string' ? t : new TextDecoder().decode(t)).replace(/\n((?:\x1b\[[0-9;]*m)+)$/, '$1\n')),
    color: true,
  });
  for (const message of messages) renderer.render(message);
  return out;
}

const shown = (session: OperationSession): string => [...session.store.texts()].join('');

describe('OperationSession', () => {
  it('shows exactly the terminal’s lines, and knows the stages, the outcome and the ✓ line', () => {
    const session = new OperationSession({ now: () => 1000 });
    for (const message of run) session.feed(message);
    expect(shown(session)).toBe(terminal(run));
    expect(session.phase).toBe('succeeded');
    expect(session.id).toBe('op_1');
    expect(session.stages.map((s) => [s.label, s.state, s.durationMs])).toEqual([
      ['git', 'ok', 412],
      ['docker', 'skipped', undefined],
      ['setup', 'ok', 11_400],
    ]);
    expect(stripSgr(session.final)).toBe('  git 412ms · setup 11.4s\n✓ feat ready (docker, running) in 14.2s\n  ports: web 3000 → localhost:10180\n');
    const lines = session.store.lines(0, session.store.total);
    expect(lines.at(-1)!.text).toBe('\x1b[2m  ports: web 3000 → localhost:10180\x1b[22m');
    expect(lines.filter((l) => l.stderr).map((l) => stripSgr(l.text))).toEqual(['[setup] npm WARN x']);
    // A line that is not UTF-8 reads as a UTF-8 terminal shows it.
    expect(lines.map((l) => stripSgr(l.text))).toContain('[setup] caf\ufffd');
  });

  it('takes a re-attach’s replay without showing a line twice, batches cut part way included', () => {
    const session = new OperationSession();
    for (const message of run.slice(0, 7)) session.feed(message);
    expect(session.last).toBe(8);
    // The server replays from an earlier point, with the batch made differently.
    session.feed({ type: 'logs', source: 'script:setup', stream: 'stdout', data: 'two\nthree\n', seq: 7, count: 2 });
    session.feed({ type: 'log', source: 'script:setup', stream: 'stdout', data: 'three\n', seq: 8 });
    for (const message of run.slice(7)) session.feed(message);
    expect(shown(session)).toBe(terminal(run));
  });

  it('turns a destroy refused for changes into the list and the choice', () => {
    const session = new OperationSession({ request: { action: 'destroy', project: 'shop', environment: 'feat' } });
    session.feed({
      type: 'complete',
      success: false,
      error: 'worktree /src/shop/.piko/worktrees/feat has uncommitted changes:  M src/app.ts, ?? notes.md and 3 more',
      code: 'PIKO_ERR_WORKTREE_DIRTY',
      hint: 'Commit or stash them',
      dirty: { path: '/src/shop/.piko/worktrees/feat', changes: [' M src/app.ts', '?? notes, draft.md'], more: 3 },
      seq: 0,
    });
    expect(session.phase).toBe('refused');
    // From the answer's list, not its message: a file name with `, ` in it stays one.
    expect(session.refusal).toEqual({ kind: 'dirty', path: '/src/shop/.piko/worktrees/feat', changes: [' M src/app.ts', '?? notes, draft.md'], more: 3 });
    expect(stripSgr(session.final)).toContain('✗ feat: worktree /src/shop/.piko/worktrees/feat has uncommitted changes');
  });

  it('turns a config that changed into its difference and the digest that approves exactly that', () => {
    const session = new OperationSession({ request: { action: 'create', project: 'shop', environment: 'feat' } });
    session.feed({ type: 'complete', success: false, error: 'project shop: its config runs what you have not approved:\n  + setup: npm ci', code: 'PIKO_ERR_UNTRUSTED', approval: 'sha256:abc', seq: 0 });
    expect(session.refusal).toEqual({ kind: 'untrusted', difference: 'project shop: its config runs what you have not approved:\n  + setup: npm ci', approval: 'sha256:abc' });
  });

  it('knows a cancel from a failure, and a lost connection from both', () => {
    const cancelled = new OperationSession();
    cancelled.feed(run[0]!);
    cancelled.feed({ type: 'complete', success: false, error: 'cancelled by the dashboard', code: 'PIKO_ERR_CANCELLED', stage: 'script:setup', operation: 'op_1', seq: 1 });
    expect(cancelled.phase).toBe('cancelled');
    const failed = new OperationSession();
    failed.feed(run[0]!);
    failed.feed({ type: 'complete', success: false, error: 'exit 1', code: 'PIKO_ERR_STAGE_FAILED', stage: 'script:setup', exitCode: 1, operation: 'op_1', seq: 1 });
    expect(failed.phase).toBe('failed');
    expect(stripSgr(failed.final)).toContain('✗ feat failed at script:setup (exit 1)');
    const lost = new OperationSession();
    lost.feed(run[0]!);
    lost.lose('gone');
    expect(lost.phase).toBe('lost');
    lost.lose('again');
    expect(lost.lostReason).toBe('gone');
  });

  it('counts lines the server could not send it', () => {
    const session = new OperationSession();
    session.feed(run[0]!);
    session.feed({ type: 'dropped', operation: 'op_1', count: 1234 });
    expect(session.dropped).toBe(1234);
    expect(stripSgr([...session.plainText()].join(''))).toContain('1234 log lines were not shown here');
  });
});
