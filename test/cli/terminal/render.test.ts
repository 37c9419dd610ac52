import { describe, expect, it } from '@jest/globals';
import { JsonRenderer, TerminalRenderer } from '../../../cli/terminal/render.js';
import { formatDuration } from '../../../core/display/log-lines.js';
import type { ServerMessage } from '../../../core/protocol/messages.js';

function render(messages: ServerMessage[], color = false) {
  let out = '';
  let err = '';
  const renderer = new TerminalRenderer({ write: (t) => (out += t), writeError: (t) => (err += t), color, logsCommand: () => 'piko logs feat' });
  for (const message of messages) renderer.render(message);
  return { out, err };
}

const accepted: ServerMessage = { type: 'accepted', operation: 'op_1', action: 'create', project: 'p', environment: 'feat', seq: 0 };

describe('TerminalRenderer', () => {
  it('prints [source] line, dropping the script: prefix, and a final ready line', () => {
    const { out, err } = render([
      accepted,
      { type: 'stage', name: 'git', state: 'start', seq: 1 },
      { type: 'log', source: 'git', stream: 'stdout', data: 'Preparing worktree\n', seq: 2 },
      { type: 'stage', name: 'git', state: 'end', ok: true, durationMs: 412, seq: 2 },
      { type: 'stage', name: 'docker', state: 'skip', reason: 'no compose file', seq: 2 },
      { type: 'log', source: 'script:setup', stream: 'stderr', data: 'npm WARN x\n', seq: 3 },
      { type: 'log', source: 'script:setup', stream: 'stdout', data: 'partial', seq: 4 },
      { type: 'log', source: 'script:setup', stream: 'stdout', data: Buffer.from('bin\n').toString('base64'), encoding: 'base64', seq: 5 },
      {
        type: 'complete',
        success: true,
        environment: {
          id: 1, name: 'feat', project: 'p', mode: 'docker', status: 'running', branch: 'feat', path: '/w', dataDir: '/d',
          ports: [{ service: 'web', containerPort: 80, hostPort: 10180, protocol: 'tcp' }],
        },
        durationMs: 14_200,
        seq: 6,
      },
    ]);
    expect(out).toBe(
      '[git] Preparing worktree\n[setup] npm WARN x\n[setup] partial\n[setup] bin\n  git 412ms\n✓ feat ready (docker, running) in 14.2s\n  ports: web 80 → localhost:10180\n',
    );
    expect(err).toBe('');
  });

  it('writes each message in one piece, a line that is not UTF-8 with its prefix too (a writer may flush between two writes)', () => {
    const writes: (string | Uint8Array)[] = [];
    const renderer = new TerminalRenderer({ write: (t) => void writes.push(t), color: true });
    renderer.render({ type: 'log', source: 'script:setup', stream: 'stdout', data: Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]).toString('base64'), encoding: 'base64', seq: 1 });
    renderer.render({ type: 'logs', source: 'script:setup', stream: 'stdout', data: 'a\nb\n', seq: 2, count: 2 });
    expect(writes).toHaveLength(2);
    expect(Buffer.from(writes[0]!)).toEqual(Buffer.concat([Buffer.from('\x1b[36m[setup]\x1b[39m caf'), Buffer.from([0xe9, 0x0a])]));
    expect(writes[1]).toBe('\x1b[36m[setup]\x1b[39m a\n\x1b[36m[setup]\x1b[39m b\n');
  });

  it('colours stderr lines yellow and each source the same way, only when colour is on', () => {
    const line: ServerMessage = { type: 'log', source: 'git', stream: 'stderr', data: 'warn\n', seq: 1 };
    const coloured = render([line, line], true).out.split('\n');
    expect(coloured[0]).toMatch(/^\x1b\[\d+m\[git\]\x1b\[39m \x1b\[33mwarn\x1b\[39m$/);
    expect(coloured[1]).toBe(coloured[0]);
    expect(render([line], false).out).toBe('[git] warn\n');
  });

  it('says where and how a failure happened, and where the log is, on the error stream', () => {
    const { out, err } = render([
      accepted,
      {
        type: 'complete',
        success: false,
        error: 'script:setup failed: `npm install` exited with code 1',
        hint: 'Read the stage output above.',
        stage: 'script:setup',
        exitCode: 1,
        operation: 'op_1',
        durationMs: 3100,
        seq: 9,
      },
    ]);
    expect(out).toBe('');
    expect(err).toBe(
      '✗ feat failed at script:setup (exit 1) in 3.1s\n  script:setup failed: `npm install` exited with code 1\n  Read the stage output above.\n  the whole log: piko logs feat\n',
    );
  });

  it('formats durations', () => {
    expect([formatDuration(45), formatDuration(1049), formatDuration(59_990), formatDuration(125_000)]).toEqual(['45ms', '1.0s', '1m 0s', '2m 5s']);
  });

  it('--json writes each message as one line', () => {
    let out = '';
    new JsonRenderer((t) => (out += t)).render(accepted);
    expect(out).toBe(`${JSON.stringify(accepted)}\n`);
  });
});
