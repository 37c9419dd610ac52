import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { messageText } from '../../core/protocol/message-text.js';
import type { OperationMessage, OutputMessage, ServerMessage } from '../../core/protocol/messages.js';
import { Channel } from '../../transports/channel.js';

class TestChannel extends Channel {
  queued = 0;
  sent: ServerMessage[] = [];
  buffered(): number {
    return this.queued;
  }
  protected write(message: ServerMessage): void {
    this.sent.push(message);
  }
  get open(): boolean {
    return true;
  }
  protected end(): void {}
  onClose(): void {}
}

let seq = 0;
const log = (): OperationMessage => ({ type: 'log', source: 'script:setup', stream: 'stdout', data: 'x\n', seq: seq++ });
const complete = (): OperationMessage => ({ type: 'complete', success: false, error: 'e', seq: seq++ });

beforeEach(() => {
  jest.useFakeTimers({ now: 0 });
});
afterEach(() => {
  jest.useRealTimers();
});

describe('Channel backpressure', () => {
  it('sends everything while the client keeps up', () => {
    const c = new TestChannel('op_1');
    for (let i = 0; i < 5; i++) c.send(log());
    expect(c.sent).toHaveLength(5);
  });

  it('drops log lines only after the queue stayed above the soft limit for longer than the bound, then reports the count', () => {
    const c = new TestChannel('op_1', { softLimitBytes: 100, slowClientMs: 5000, hardLimitBytes: 1000 });
    c.queued = 500;
    c.send(log());
    jest.setSystemTime(4000);
    c.send(log());
    expect(c.sent).toHaveLength(2); // above the limit, but not for 5 s yet
    jest.setSystemTime(5001);
    c.send(log());
    c.send(log());
    expect(c.sent).toHaveLength(2);
    // Stage messages still go out; the client catches up, is told, and gets lines again.
    c.send({ type: 'stage', name: 'git', state: 'start', seq: seq++ });
    expect(c.sent).toHaveLength(3);
    c.queued = 10;
    c.send(log());
    expect(c.sent.slice(3)).toEqual([{ type: 'dropped', operation: 'op_1', count: 2 }, expect.objectContaining({ type: 'log' })]);
  });

  it('drops at once past the hard limit, and reports before complete', () => {
    const c = new TestChannel('op_1', { softLimitBytes: 100, hardLimitBytes: 1000 });
    c.queued = 2000;
    c.send(log());
    c.send(log());
    c.send(complete());
    expect(c.sent).toEqual([{ type: 'dropped', operation: 'op_1', count: 2 }, expect.objectContaining({ type: 'complete' })]);
  });

  it('forgets the slow clock when the client catches up in time', () => {
    const c = new TestChannel('op_1', { softLimitBytes: 100, slowClientMs: 5000 });
    c.queued = 500;
    c.send(log());
    jest.setSystemTime(3000);
    c.queued = 0;
    c.send(log());
    c.queued = 500;
    jest.setSystemTime(7000);
    c.send(log()); // above again, but only just now
    expect(c.sent).toHaveLength(3);
  });
});

describe('the clients of one operation', () => {
  it('share each batch and its JSON text: made once, however many clients', () => {
    const [a, b] = [new TestChannel('op_1', { batch: true }), new TestChannel('op_1', { batch: true })];
    const lines = Array.from({ length: 100 }, log);
    const end = complete();
    for (const message of [...lines, end]) {
      a.send(message);
      b.send(message);
    }
    expect(a.sent).toHaveLength(2);
    expect(a.sent[0]).toMatchObject({ type: 'logs', count: 100 });
    expect(b.sent[0]).toBe(a.sent[0]);
    const stringify = jest.spyOn(JSON, 'stringify');
    try {
      const texts = [a, b].map((c) => messageText(c.sent[0]!));
      expect(texts[1]).toBe(texts[0]);
      expect(stringify).toHaveBeenCalledTimes(1);
    } finally {
      stringify.mockRestore();
    }
  });

  it('pass an engine batch on whole to a client that asked for batches, line by line to one that did not, and count its lines when dropped', () => {
    const batch: OutputMessage = { type: 'logs', source: 'script:setup', stream: 'stdout', data: 'a\nb\nc\n', seq, count: 3 };
    seq += 3;
    const [batched, lines, slow] = [new TestChannel('op_1', { batch: true }), new TestChannel('op_1'), new TestChannel('op_1', { batch: true, softLimitBytes: 100, hardLimitBytes: 1000 })];
    const before = log();
    slow.queued = 2000;
    for (const c of [batched, lines, slow]) {
      c.send(before);
      c.send(batch);
      c.send(complete());
    }
    jest.runOnlyPendingTimers();
    expect(batched.sent.map((m) => m.type)).toEqual(['log', 'logs', 'complete']);
    expect(batched.sent[1]).toBe(batch);
    expect(lines.sent.filter((m) => m.type === 'log').map((m) => [m.data, m.seq])).toEqual([
      ['x\n', before.seq],
      ['a\n', batch.seq],
      ['b\n', batch.seq + 1],
      ['c\n', batch.seq + 2],
    ]);
    expect(slow.sent).toEqual([{ type: 'dropped', operation: 'op_1', count: 4 }, expect.objectContaining({ type: 'complete' })]);
  });
});
