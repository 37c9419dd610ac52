import { describe, expect, it, jest } from '@jest/globals';
import { cleanLine, markPlain } from '../../../core/display/clean-line.js';
import { formatDuration, logText, prefixedLines, sourceLabel } from '../../../core/display/log-lines.js';
import type { LogBatchMessage, LogMessage } from '../../../core/protocol/messages.js';

const ESC = '\x1b';
const log = (data: string, extra: Partial<LogMessage> = {}): LogMessage => ({ type: 'log', source: 'git', stream: 'stdout', data, seq: 1, ...extra });
const batch = (data: string, count: number): LogBatchMessage => ({ type: 'logs', source: 'script:setup', stream: 'stdout', data, seq: 10, count });
/** A `show` that records the lines it was given and marks what it made of them. */
const recording = () => jest.fn((line: string) => `<${line}>`);
const clean = (line: string) => cleanLine(line, false);

describe('sourceLabel', () => {
  it('shows a script by its stage name, and other sources as they are', () => {
    expect(sourceLabel('script:setup')).toBe('setup');
    expect(sourceLabel('script:db:migrate')).toBe('db:migrate');
    expect(sourceLabel('docker')).toBe('docker');
    expect(sourceLabel('git')).toBe('git');
    // Only a leading `script:` is a script's.
    expect(sourceLabel('my-script:x')).toBe('my-script:x');
  });
});

describe('logText', () => {
  it('gives UTF-8 data as it is', () => {
    expect(logText({ data: 'héllo ✓\n' })).toBe('héllo ✓\n');
  });

  it('decodes base64 data as UTF-8', () => {
    expect(logText({ data: Buffer.from('héllo ✓\n').toString('base64'), encoding: 'base64' })).toBe('héllo ✓\n');
  });

  it('decodes bytes that are not UTF-8 to replacement characters', () => {
    expect(logText({ data: Buffer.from([0x61, 0xff, 0x62, 0x0a]).toString('base64'), encoding: 'base64' })).toBe('a\ufffdb\n');
  });
});

describe('formatDuration', () => {
  it('gives milliseconds under a second', () => {
    expect(formatDuration(0)).toBe('0ms');
    expect(formatDuration(840)).toBe('840ms');
    expect(formatDuration(12.4)).toBe('12ms');
  });

  it('never rounds into a unit that does not exist (60.0s, 1m 60s)', () => {
    expect(formatDuration(999.6)).toBe('1.0s');
    expect(formatDuration(59_949)).toBe('59.9s');
    expect(formatDuration(59_950)).toBe('1m 0s');
    expect(formatDuration(119_500)).toBe('2m 0s');
    expect(formatDuration(3_599_999)).toBe('60m 0s');
  });

  it('gives seconds with one decimal under a minute', () => {
    expect(formatDuration(1000)).toBe('1.0s');
    expect(formatDuration(2345)).toBe('2.3s');
    expect(formatDuration(59_000)).toBe('59.0s');
  });

  it('gives minutes and whole seconds from a minute on', () => {
    expect(formatDuration(60_000)).toBe('1m 0s');
    expect(formatDuration(72_000)).toBe('1m 12s');
    expect(formatDuration(3_725_000)).toBe('62m 5s');
  });
});

describe('prefixedLines', () => {
  it('puts a log line behind the prefix and ends it with one newline', () => {
    const show = recording();
    expect(prefixedLines(log('hello\n'), '[git] ', show)).toEqual({ text: '[git] hello\n', count: 1 });
    expect(show).not.toHaveBeenCalled();
  });

  it('ends a partial last line (no newline) with a newline too', () => {
    expect(prefixedLines(log('partial'), '[git] ', recording())).toEqual({ text: '[git] partial\n', count: 1 });
  });

  it('gives an empty line its prefix', () => {
    expect(prefixedLines(log('\n'), '[git] ', recording())).toEqual({ text: '[git] \n', count: 1 });
  });

  it('puts every line of a batch behind the prefix, one string for all', () => {
    const show = recording();
    expect(prefixedLines(batch('one\ntwo\nthree\n', 3), '[setup] ', show)).toEqual({
      text: '[setup] one\n[setup] two\n[setup] three\n',
      count: 3,
    });
    expect(show).not.toHaveBeenCalled();
  });

  it('reads a batch whose last line has no newline the same way', () => {
    expect(prefixedLines(batch('one\ntwo', 2), '| ', recording())).toEqual({ text: '| one\n| two\n', count: 2 });
  });

  it('keeps the empty lines inside a batch, each with its prefix', () => {
    expect(prefixedLines(batch('a\n\nb\n', 3), '| ', recording())).toEqual({ text: '| a\n| \n| b\n', count: 3 });
  });

  it('calls show on a log line that needs cleaning, with the line without its newline', () => {
    const show = recording();
    expect(prefixedLines(log(`${ESC}[31mred${ESC}[0m\n`), '[git] ', show).text).toBe(`[git] <${ESC}[31mred${ESC}[0m>\n`);
    expect(show.mock.calls.map(([line]) => line)).toEqual([`${ESC}[31mred${ESC}[0m`]);
  });

  it('cleans a batch that holds a control character, every line showing as its reader should see it', () => {
    const result = prefixedLines(batch('10%\r100%\nplain\ncrlf\r\n', 3), '[setup] ', clean);
    expect(result).toEqual({ text: '[setup] 100%\n[setup] plain\n[setup] crlf\n', count: 3 });
  });

  it('does not call show on a message marked plain, whatever its text', () => {
    const marked = log(`a\x07b\n`);
    markPlain(marked);
    const show = recording();
    expect(prefixedLines(marked, '> ', show).text).toBe('> a\x07b\n');
    expect(show).not.toHaveBeenCalled();
  });

  it('calls show on every line when showEvery, plain or not', () => {
    const show = recording();
    expect(prefixedLines(batch('a\nb\nc\n', 3), '! ', show, true)).toEqual({ text: '! <a>\n! <b>\n! <c>\n', count: 3 });
    expect(show.mock.calls.map(([line]) => line)).toEqual(['a', 'b', 'c']);

    const marked = log('x\n');
    markPlain(marked);
    const again = recording();
    expect(prefixedLines(marked, '! ', again, true).text).toBe('! <x>\n');
    expect(again).toHaveBeenCalledTimes(1);
  });

  it('decodes a base64 log line before prefixing and cleaning it', () => {
    const message = log(Buffer.from(`caf\u00e9 ${ESC}[1mbold\n`).toString('base64'), { encoding: 'base64' });
    expect(prefixedLines(message, '[git] ', clean)).toEqual({ text: '[git] café bold\n', count: 1 });
    const plain = log(Buffer.from('naïve\n').toString('base64'), { encoding: 'base64' });
    const show = recording();
    expect(prefixedLines(plain, '[git] ', show).text).toBe('[git] naïve\n');
    expect(show).not.toHaveBeenCalled();
  });
});
