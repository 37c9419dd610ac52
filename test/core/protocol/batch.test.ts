import { describe, expect, it } from '@jest/globals';
import { batchRuns, expandBatch, MAX_BATCH_BYTES } from '../../../core/protocol/batch.js';
import type { LogMessage, OperationMessage } from '../../../core/protocol/messages.js';

const line = (seq: number, data: string, source: LogMessage['source'] = 'script:setup', stream: LogMessage['stream'] = 'stdout'): LogMessage => ({
  type: 'log',
  source,
  stream,
  data,
  seq,
});

describe('log batches', () => {
  it('keeps each batch within MAX_BATCH_BYTES, wherever it is made (the operation log too), and loses no line', () => {
    const text = `${'x'.repeat(999)}\n`;
    const messages = Array.from({ length: 200 }, (_, i) => line(i, text));
    const batches = batchRuns(messages);
    expect(batches.length).toBeGreaterThan(1);
    for (const batch of batches) expect(batch.type === 'logs' ? batch.data.length : 0).toBeLessThanOrEqual(MAX_BATCH_BYTES);
    expect(batches.flatMap((b) => (b.type === 'logs' ? expandBatch(b) : [b]))).toEqual(messages);
  });

  it('joins each run of one source and stream, numbered without a gap, into one batch', () => {
    const messages: OperationMessage[] = [
      { type: 'stage', name: 'script:setup', state: 'start', seq: 0 },
      line(1, 'a\n'),
      line(2, 'b\n'),
      line(3, 'err\n', 'script:setup', 'stderr'),
      line(4, 'c\n'),
      line(5, 'd'),
      { type: 'stage', name: 'script:setup', state: 'end', ok: true, durationMs: 3, seq: 6 },
    ];
    expect(batchRuns(messages)).toEqual([
      messages[0],
      { type: 'logs', source: 'script:setup', stream: 'stdout', data: 'a\nb\n', seq: 1, count: 2 },
      messages[3],
      { type: 'logs', source: 'script:setup', stream: 'stdout', data: 'c\nd', seq: 4, count: 2 },
      messages[6],
    ]);
  });

  it('never joins across a gap, a partial line, another source, or a base64 line', () => {
    const base64: LogMessage = { ...line(4, Buffer.from([0xff, 0x0a]).toString('base64')), encoding: 'base64' };
    const messages = [line(0, 'a\n'), line(2, 'b\n'), line(3, 'partial'), base64, line(5, 'x\n', 'git'), line(6, 'y\n')];
    expect(batchRuns(messages).map((m) => m.type)).toEqual(['log', 'logs', 'log', 'log', 'log']);
    expect(batchRuns(messages)[1]).toMatchObject({ seq: 2, count: 2, data: 'b\npartial' });
  });

  it('expands a batch back into the very messages it came from', () => {
    const messages = [line(7, 'one\n'), line(8, '\n'), line(9, 'three\n'), line(10, 'no newline')];
    const [batch] = batchRuns(messages);
    expect(batch).toMatchObject({ type: 'logs', count: 4 });
    expect(expandBatch(batch as Parameters<typeof expandBatch>[0])).toEqual(messages);
  });
});
