import { describe, expect, it } from '@jest/globals';
import { cleanLine, isPlain, markPlain, needsCleaning, withoutNewline } from '../../../core/display/clean-line.js';
import type { LogBatchMessage, LogMessage } from '../../../core/protocol/messages.js';

const ESC = '\x1b';
const RESET = `${ESC}[0m`;
/** The bytes of a line that is not UTF-8, one character each, as the renderer gets them. */
const bytes = (...values: number[]): string => Buffer.from(values).toString('latin1');

describe('cleanLine: carriage returns', () => {
  it('shows a progress line as the segment it ended on', () => {
    expect(cleanLine('10%\r50%\r100%', false)).toBe('100%');
  });

  it('does not count a trailing \\r (CRLF, a finished progress bar)', () => {
    expect(cleanLine('done\r', false)).toBe('done');
    expect(cleanLine('10%\r100%\r', false)).toBe('100%');
  });

  it('does not count a last segment that is only escape sequences (an erase after the last redraw)', () => {
    expect(cleanLine(`building\r${ESC}[K`, false)).toBe('building');
    expect(cleanLine(`a\rb\r${ESC}[2K${ESC}[1G`, false)).toBe('b');
  });

  it('gives an empty line for one made only of carriage returns', () => {
    expect(cleanLine('\r', false)).toBe('');
    expect(cleanLine('\r\r\r', false)).toBe('');
  });

  it('keeps the colours of the segment it shows, and resets after them', () => {
    expect(cleanLine(`${ESC}[32m10%${ESC}[0m\r${ESC}[32m100%${ESC}[0m`, true)).toBe(`${ESC}[32m100%${ESC}[0m${RESET}`);
    expect(cleanLine(`${ESC}[32m10%${ESC}[0m\r${ESC}[32m100%${ESC}[0m`, false)).toBe('100%');
  });
});

describe('cleanLine: escape sequences', () => {
  it('removes CSI sequences: cursor moves, erases, modes with private markers', () => {
    expect(cleanLine(`${ESC}[2K${ESC}[1Aabc${ESC}[10;20H`, false)).toBe('abc');
    expect(cleanLine(`${ESC}[?25lhidden cursor${ESC}[?25h`, false)).toBe('hidden cursor');
    // An intermediate byte before the final one (DECSCUSR: `CSI 2 SP q`).
    expect(cleanLine(`${ESC}[2 qx`, false)).toBe('x');
  });

  it('removes OSC sequences ended by BEL or by ST (a window title, a hyperlink)', () => {
    expect(cleanLine(`${ESC}]0;my title\x07text`, false)).toBe('text');
    expect(cleanLine(`${ESC}]8;;https://example.com${ESC}\\link${ESC}]8;;${ESC}\\ after`, false)).toBe('link after');
  });

  it('removes DCS, SOS, PM and APC strings up to their ST', () => {
    expect(cleanLine(`${ESC}Pq#0;2;0;0;0${ESC}\\after`, false)).toBe('after');
    expect(cleanLine(`a${ESC}Xsos${ESC}\\b`, false)).toBe('ab');
    expect(cleanLine(`a${ESC}^pm${ESC}\\b`, false)).toBe('ab');
    expect(cleanLine(`a${ESC}_apc${ESC}\\b`, false)).toBe('ab');
  });

  it('removes two-byte escapes, with or without an intermediate byte', () => {
    expect(cleanLine(`${ESC}7saved${ESC}8`, false)).toBe('saved');
    expect(cleanLine(`${ESC}(Bascii`, false)).toBe('ascii');
    expect(cleanLine(`${ESC}cafter reset`, false)).toBe('after reset');
  });

  it('removes a lone ESC at the end of the line', () => {
    expect(cleanLine(`abc${ESC}`, false)).toBe('abc');
    expect(cleanLine(`abc${ESC}`, true)).toBe('abc');
  });

  it('keeps colours (SGR) only when asked, and then ends the line with a reset', () => {
    const red = `${ESC}[31mred${ESC}[0m plain ${ESC}[1;38;5;208mbold orange`;
    expect(cleanLine(red, false)).toBe('red plain bold orange');
    const kept = cleanLine(red, true);
    expect(kept).toBe(`${red}${RESET}`);
    expect(kept.endsWith(RESET)).toBe(true);
    // Colon-separated parameters (truecolour, underline styles) are SGR too.
    expect(cleanLine(`${ESC}[4:3mcurly`, true)).toBe(`${ESC}[4:3mcurly${RESET}`);
  });

  it('removes everything but the colours when keeping them', () => {
    expect(cleanLine(`${ESC}[2K${ESC}[1mbold${ESC}]0;t\x07${ESC}[3D`, true)).toBe(`${ESC}[1mbold${RESET}`);
  });

  it('adds no reset to a line that kept no colour', () => {
    expect(cleanLine(`${ESC}[2Kno colour`, true)).toBe('no colour');
    expect(cleanLine('bell\x07', true)).toBe('bell');
  });
});

describe('cleanLine: control characters', () => {
  it('removes C0 controls and DEL, but keeps tabs', () => {
    expect(cleanLine('a\x00b\x07c\x08d\x0be\x0cf\x7fg', false)).toBe('abcdefg');
    expect(cleanLine('col1\tcol2\x07', false)).toBe('col1\tcol2');
  });

  it('removes C1 controls, among them U+009B (a one-character CSI to some terminals)', () => {
    const cleaned = cleanLine('a\u009b31mb\u0085c\u0080', false);
    expect(cleaned).toBe('a31mbc');
    expect(cleaned).not.toMatch(/[\u0080-\u009f]/);
  });

  it('keeps printable characters around them, whatever their script', () => {
    expect(cleanLine('héllo ✓ € 日本\x07', false)).toBe('héllo ✓ € 日本');
    // U+00A0 and above are printable: only U+0080–U+009F are C1.
    expect(cleanLine('\u00a0\u00ff\x07', false)).toBe('\u00a0\u00ff');
  });
});

describe('cleanLine: the bytes of a line that is not UTF-8', () => {
  it('keeps 0x80–0x9F, printable there (cp1252 quotes, €), and still removes escapes and C0 controls', () => {
    const line = bytes(0x93, 0x71, 0x94, 0x20, 0x80, 0x1b, 0x5b, 0x33, 0x31, 0x6d, 0x21, 0x07, 0x9b);
    expect(cleanLine(line, false, true)).toBe(bytes(0x93, 0x71, 0x94, 0x20, 0x80, 0x21, 0x9b));
    // The same text read as characters loses them.
    expect(cleanLine(line, false)).toBe('q !');
  });

  it('leaves a line whose only bytes above 0x7F are 0x80–0x9F untouched', () => {
    const line = bytes(0x80, 0x41, 0x9f);
    expect(cleanLine(line, false, true)).toBe(line);
    expect(cleanLine(line, false)).toBe('A');
  });

  it('handles carriage returns and colours the same way', () => {
    expect(cleanLine(bytes(0x31, 0x0d, 0x1b, 0x5b, 0x33, 0x32, 0x6d, 0x32, 0x85), true, true)).toBe(`${ESC}[32m2${bytes(0x85)}${RESET}`);
  });
});

describe('cleanLine: plain lines', () => {
  it('returns a line without control characters as it is', () => {
    for (const line of ['', 'hello world', 'tabs\tstay', 'unicode ✓ € 日本', '[brackets] and ; semicolons']) {
      expect(cleanLine(line, false)).toBe(line);
      expect(cleanLine(line, true)).toBe(line);
      expect(cleanLine(line, false, true)).toBe(line);
    }
  });
});

describe('needsCleaning, markPlain and isPlain', () => {
  const log = (data: string): LogMessage => ({ type: 'log', source: 'git', stream: 'stdout', data, seq: 1 });
  const batch = (data: string, count: number): LogBatchMessage => ({ type: 'logs', source: 'docker', stream: 'stderr', data, seq: 5, count });

  it('says a text with a control character needs cleaning, and a plain one does not', () => {
    expect(needsCleaning(log(`${ESC}[31mred\n`), `${ESC}[31mred`)).toBe(true);
    expect(needsCleaning(log('a\rb\n'), 'a\rb')).toBe(true);
    expect(needsCleaning(log('x\u009by\n'), 'x\u009by')).toBe(true);
    expect(needsCleaning(log('plain\n'), 'plain')).toBe(false);
    expect(needsCleaning(log('tab\there\n'), 'tab\there')).toBe(false);
  });

  it('trusts a message marked plain, even when its text holds control characters', () => {
    const marked = log(`${ESC}[31mred\n`);
    const twin = log(`${ESC}[31mred\n`);
    expect(isPlain(marked)).toBe(false);
    markPlain(marked);
    expect(isPlain(marked)).toBe(true);
    expect(needsCleaning(marked, `${ESC}[31mred`)).toBe(false);
    // The mark is on that object, not on messages that look the same.
    expect(isPlain(twin)).toBe(false);
    expect(needsCleaning(twin, `${ESC}[31mred`)).toBe(true);
  });

  it('marks batches the same way', () => {
    const marked = batch('a\x07\nb\n', 2);
    markPlain(marked);
    expect(isPlain(marked)).toBe(true);
    expect(needsCleaning(marked, 'a\x07\nb')).toBe(false);
    expect(needsCleaning(batch('a\x07\nb\n', 2), 'a\x07\nb')).toBe(true);
  });
});

describe('withoutNewline', () => {
  it('takes off one last newline, and only that', () => {
    expect(withoutNewline('line\n')).toBe('line');
    expect(withoutNewline('partial')).toBe('partial');
    expect(withoutNewline('two\n\n')).toBe('two\n');
    expect(withoutNewline('crlf\r\n')).toBe('crlf\r');
    expect(withoutNewline('\n')).toBe('');
    expect(withoutNewline('')).toBe('');
  });
});
