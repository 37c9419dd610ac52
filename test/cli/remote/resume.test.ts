import { describe, expect, it } from '@jest/globals';
import type { ServerMessage } from '../../../core/protocol/messages.js';
import type { Connect, Target } from '../../../cli/remote/connection.js';
import { streamOperation } from '../../../cli/remote/resume.js';

const address = { url: 'http://127.0.0.1:1', token: 't' };
const log = (seq: number): ServerMessage => ({ type: 'log', source: 'script:setup', stream: 'stdout', data: `line ${seq}\n`, seq });
const accepted: ServerMessage = { type: 'accepted', operation: 'op_0123456789ab', action: 'create', project: 'p', environment: 'e', seq: 0 };
const complete = (seq: number): ServerMessage => ({ type: 'complete', success: true, operation: 'op_0123456789ab', seq } as ServerMessage);

/** A server scripted connection by connection: each entry is what one connection delivers, then how it ends. */
function scripted(connections: { messages: ServerMessage[]; reason?: string; opened?: boolean }[]) {
  const targets: Target[] = [];
  const connect: Connect = async (_address, target, onMessage) => {
    targets.push(target);
    const next = connections.shift();
    if (!next) return { opened: false, reason: 'nobody answers' };
    for (const message of next.messages) onMessage(message);
    return { opened: next.opened ?? true, reason: next.reason ?? 'cut' };
  };
  return { connect, targets };
}

describe('the client resume loop', () => {
  it('re-attaches from the last seq it saw after a drop, showing each message once', async () => {
    const server = scripted([
      { messages: [accepted, log(1), log(2), log(3)] },
      // The server replays from since=3 but the proxy repeats a message it had sent already.
      { messages: [log(3), log(4), { type: 'logs', source: 'script:setup', stream: 'stdout', data: 'line 5\nline 6\n', seq: 5, count: 2 }] },
      { messages: [{ type: 'logs', source: 'script:setup', stream: 'stdout', data: 'line 6\nline 7\n', seq: 6, count: 2 }, complete(8)] },
    ]);
    const shown: ServerMessage[] = [];
    const result = await streamOperation(address, { start: { action: 'create', environment: 'e' } }, {
      transport: 'websocket',
      connect: server.connect,
      retryDelaysMs: [0, 0, 0],
      onMessage: (message) => shown.push(message),
    });
    expect(result).toMatchObject({ kind: 'complete', complete: { type: 'complete', seq: 8 } });
    expect(server.targets.slice(1)).toEqual([
      { attach: 'op_0123456789ab', since: 3, follow: true },
      { attach: 'op_0123456789ab', since: 6, follow: true },
    ]);
    // The batch that was half seen comes through as its one unseen line.
    expect(shown.map((m) => `${m.type}:${'seq' in m ? m.seq : ''}`)).toEqual(['accepted:0', 'log:1', 'log:2', 'log:3', 'log:4', 'logs:5', 'log:7', 'complete:8']);
  });

  it('says unreachable when nothing answered (the caller may run it here), and lost once a request may have arrived', async () => {
    const none = scripted([{ messages: [], opened: false, reason: 'connect ECONNREFUSED' }]);
    const start = { start: { action: 'create' as const, environment: 'e' } };
    expect(await streamOperation(address, start, { transport: 'sse', connect: none.connect, onMessage: () => undefined })).toEqual({
      kind: 'unreachable',
      reason: 'connect ECONNREFUSED',
    });
    const gone = scripted([{ messages: [accepted, log(1)] }]);
    const result = await streamOperation(address, start, { transport: 'sse', connect: gone.connect, retryDelaysMs: [0, 0], onMessage: () => undefined });
    expect(result).toEqual({ kind: 'lost', operation: 'op_0123456789ab', reason: 'nobody answers' });
    expect(gone.targets).toHaveLength(3);
  });

  it('stops re-attaching once the server is known to be gone', async () => {
    const server = scripted([{ messages: [accepted] }, { messages: [log(1)] }]);
    const result = await streamOperation(address, { start: { action: 'create', environment: 'e' } }, {
      transport: 'websocket',
      connect: server.connect,
      retryDelaysMs: [0, 0],
      serverAlive: () => false,
      onMessage: () => undefined,
    });
    expect(result).toEqual({ kind: 'lost', operation: 'op_0123456789ab', reason: 'cut' });
    expect(server.targets).toHaveLength(1);
  });
});
