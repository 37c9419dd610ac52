import { describe, expect, it } from '@jest/globals';
import { isPlain } from '../../../core/display/clean-line.js';
import type { LogBatchMessage, LogMessage, ServerMessage, Unsequenced } from '../../../core/protocol/messages.js';
import { MAX_BATCH_BYTES } from '../../../core/protocol/batch.js';
import { StreamWriter, utf8Boundary, type LogSink } from '../../../core/engine/stream-writer.js';

/** A sink that keeps every line as a `log` of its own, batches cut back into their lines. */
function lineSink(messages: Unsequenced<LogMessage>[]): LogSink {
  return (m) => {
    if (m.type === 'log') messages.push(m);
    else for (const data of m.data.split(/(?<=\n)/)) messages.push({ type: 'log', source: m.source, stream: m.stream, data });
  };
}

function collect(options: { maxLineBytes?: number } = {}) {
  const messages: Unsequenced<LogMessage>[] = [];
  const writer = new StreamWriter({ source: 'script:setup', stream: 'stdout', sink: lineSink(messages), ...options });
  return { writer, messages, data: () => messages.map((m) => m.data) };
}

describe('StreamWriter', () => {
  it('emits one tagged log message per complete line as soon as its newline arrives', () => {
    const { writer, messages, data } = collect();
    writer.write('hel');
    expect(messages).toEqual([]);
    writer.write('lo\nwor');
    expect(data()).toEqual(['hello\n']);
    writer.write(Buffer.from('ld\n\nlast'));
    expect(data()).toEqual(['hello\n', 'world\n', '\n']);
    expect(messages[0]).toEqual({ type: 'log', source: 'script:setup', stream: 'stdout', data: 'hello\n' });
  });

  it('flushes the partial last line on flush() and on end()', async () => {
    const { writer, data } = collect();
    writer.write('no newline');
    writer.flush();
    expect(data()).toEqual(['no newline']);
    writer.flush();
    expect(data()).toEqual(['no newline']);
    writer.write('tail');
    await new Promise<void>((resolve) => writer.end(resolve));
    expect(data()).toEqual(['no newline', 'tail']);
  });

  it('keeps a multi-byte character split across chunks intact', () => {
    const { writer, messages } = collect();
    const bytes = Buffer.from('naïve café ✓\n');
    writer.write(bytes.subarray(0, 3));
    writer.write(bytes.subarray(3, 13));
    writer.write(bytes.subarray(13));
    expect(messages).toEqual([{ type: 'log', source: 'script:setup', stream: 'stdout', data: 'naïve café ✓\n' }]);
  });

  it('sends lines that are not valid UTF-8 as base64, and only those', () => {
    const { writer, messages } = collect();
    const binary = Buffer.from([0xff, 0xfe, 0x00, 0x41, 0x0a]);
    writer.write(Buffer.concat([Buffer.from('text\n'), binary, Buffer.from('more\n')]));
    expect(messages).toEqual([
      { type: 'log', source: 'script:setup', stream: 'stdout', data: 'text\n' },
      { type: 'log', source: 'script:setup', stream: 'stdout', data: binary.toString('base64'), encoding: 'base64' },
      { type: 'log', source: 'script:setup', stream: 'stdout', data: 'more\n' },
    ]);
    expect(Buffer.from(messages[1]!.data, 'base64')).toEqual(binary);
  });

  it('cuts a line that never ends into bounded pieces without splitting characters', () => {
    const { writer, data } = collect({ maxLineBytes: 10 });
    writer.write('ééééééééé'); // 18 bytes, no newline
    expect(data()).toEqual(['ééééé']);
    writer.write('x\n');
    expect(data()).toEqual(['ééééé', 'ééééx\n']);
    expect(data().every((piece) => Buffer.byteLength(piece) <= 10)).toBe(true);
  });

  it('hands on the lines of one chunk as batches of at most MAX_BATCH_BYTES, cut after a newline', () => {
    const emitted: (Unsequenced<LogMessage> | Unsequenced<LogBatchMessage>)[] = [];
    const writer = new StreamWriter({ source: 'git', stream: 'stdout', sink: (m) => emitted.push(m) });
    const lines = Array.from({ length: 3000 }, (_, i) => `line ${i} ${'x'.repeat(i % 50)}\n`);
    writer.write(lines.join(''));
    writer.write('alone\n');
    writer.write(`${'y'.repeat(MAX_BATCH_BYTES + 10)}\nafter\n`);
    const batches = emitted.filter((m) => m.type === 'logs');
    expect(batches.length).toBeGreaterThan(1);
    for (const m of emitted.slice(0, batches.length)) {
      expect(m.type).toBe('logs');
      expect(m.data.length).toBeLessThanOrEqual(MAX_BATCH_BYTES);
      expect(m.data.endsWith('\n')).toBe(true);
      expect((m as LogBatchMessage).count).toBe(m.data.split('\n').length - 1);
    }
    expect(emitted.slice(0, batches.length).map((m) => m.data).join('')).toBe(lines.join(''));
    expect(emitted.slice(batches.length).map((m) => [m.type, m.data.length])).toEqual([
      ['log', 'alone\n'.length],
      ['log', MAX_BATCH_BYTES + 11],
      ['log', 'after\n'.length],
    ]);
  });

  it('marks as plain only the lines its bytes show hold no control character', () => {
    const emitted: (Unsequenced<LogMessage> | Unsequenced<LogBatchMessage>)[] = [];
    const writer = new StreamWriter({ source: 'git', stream: 'stdout', sink: (m) => emitted.push(m) });
    const chunks = ['plain\tline\nnaïve ✓\n', 'red \x1b[31mx\x1b[0m\n', 'bell \x07\n', 'del \x7f\n', 'csi \u009b2J\n', 'pound £\n', 'progress 10%\rprogress 100%\r\n'];
    for (const chunk of chunks) writer.write(chunk);
    expect(emitted.map((m) => [m.data, isPlain(m as ServerMessage)])).toEqual([
      ['plain\tline\nnaïve ✓\n', true],
      ['red \x1b[31mx\x1b[0m\n', false],
      ['bell \x07\n', false],
      ['del \x7f\n', false],
      ['csi \u009b2J\n', false],
      // U+00A3 starts with the byte C1 controls start with: looked at again by the renderer.
      ['pound £\n', false],
      ['progress 10%\rprogress 100%\r\n', false],
    ]);
  });

  it('never mixes stdout and stderr lines written at once', () => {
    const messages: Unsequenced<LogMessage>[] = [];
    const sink = lineSink(messages);
    const out = new StreamWriter({ source: 'git', stream: 'stdout', sink });
    const err = new StreamWriter({ source: 'git', stream: 'stderr', sink });
    for (let i = 0; i < 100; i++) {
      out.write(`out ${i} `);
      err.write(`err ${i} `);
      out.write('end\n');
      err.write('end\n');
    }
    expect(messages).toHaveLength(200);
    for (const m of messages) expect(m.data).toMatch(m.stream === 'stdout' ? /^out \d+ end\n$/ : /^err \d+ end\n$/);
  });

  it('keeps every line of a real child writing to stdout and stderr at the same time intact', async () => {
    const { execa } = await import('execa');
    const messages: Unsequenced<LogMessage>[] = [];
    const sink = lineSink(messages);
    const out = new StreamWriter({ source: 'git', stream: 'stdout', sink });
    const err = new StreamWriter({ source: 'git', stream: 'stderr', sink });
    // Two writers racing, with long lines so they cross pipe-buffer boundaries.
    const script = 'pad=$(printf "%0300d" 0); (for i in $(seq 1 2000); do echo "out $i $pad"; done) & (for i in $(seq 1 2000); do echo "err $i $pad" >&2; done); wait';
    const child = execa('sh', ['-c', script], { buffer: false, encoding: 'buffer' });
    const finished = Promise.all([new Promise((r) => out.on('finish', r)), new Promise((r) => err.on('finish', r))]);
    child.stdout.pipe(out);
    child.stderr.pipe(err);
    await child;
    await finished;
    const lines = (stream: string) => messages.filter((m) => m.stream === stream).map((m) => m.data);
    const expected = (tag: string) => Array.from({ length: 2000 }, (_, i) => `${tag} ${i + 1} ${'0'.repeat(300)}\n`);
    expect(lines('stdout')).toEqual(expected('out'));
    expect(lines('stderr')).toEqual(expected('err'));
  });

  it('finds UTF-8 boundaries', () => {
    const bytes = Buffer.from('aé✓');
    expect(utf8Boundary(bytes, 2)).toBe(1);
    expect(utf8Boundary(bytes, 3)).toBe(3);
    expect(utf8Boundary(bytes, 5)).toBe(3);
  });
});
