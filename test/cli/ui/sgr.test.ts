import { describe, expect, it } from '@jest/globals';
import { TerminalRenderer } from '../../../cli/terminal/render.js';
import { sgrSpans, stripSgr } from '../../../cli/ui/sgr.js';

describe('sgrSpans', () => {
  it('gives plain text as one span, and nothing for nothing', () => {
    expect(sgrSpans('hello <b>&amp;')).toEqual([{ text: 'hello <b>&amp;', classes: '' }]);
    expect(sgrSpans('')).toEqual([]);
  });

  it('turns the renderer’s prefix colour and a stderr line into classes', () => {
    let out = '';
    const renderer = new TerminalRenderer({ write: (t) => (out += t), color: true });
    renderer.render({ type: 'log', source: 'script:setup', stream: 'stderr', data: 'npm WARN x\n', seq: 1 });
    expect(sgrSpans(out.trimEnd())).toEqual([
      { text: '[setup]', classes: 'c6' },
      { text: ' ', classes: '' },
      { text: 'npm WARN x', classes: 'c3' },
    ]);
  });

  it('reads bold, dim, italic, underline and their resets, and bright colours', () => {
    expect(sgrSpans('\x1b[1;31mA\x1b[22mB\x1b[2;3;4mC\x1b[23;24mD\x1b[39mE\x1b[0mF\x1b[94mG\x1b[mH')).toEqual([
      { text: 'A', classes: 'b c1' },
      { text: 'B', classes: 'c1' },
      { text: 'C', classes: 'd i u c1' },
      { text: 'D', classes: 'd c1' },
      { text: 'E', classes: 'd' },
      { text: 'F', classes: '' },
      { text: 'G', classes: 'c12' },
      { text: 'H', classes: '' },
    ]);
  });

  it('joins neighbours of one style', () => {
    expect(sgrSpans('\x1b[32ma\x1b[32mb\x1b[0m\x1b[0mc')).toEqual([
      { text: 'ab', classes: 'c2' },
      { text: 'c', classes: '' },
    ]);
  });

  it('maps 256 colours (palette, cube, greys) and 24-bit colours, with ; and : separators', () => {
    expect(sgrSpans('\x1b[38;5;9ma\x1b[38;5;208mb\x1b[38;5;244mc\x1b[38;2;1;2;3md\x1b[38:2::4:5:6me\x1b[38:5:21mf')).toEqual([
      { text: 'a', classes: 'c9' },
      { text: 'b', classes: '', color: 'rgb(255,135,0)' },
      { text: 'c', classes: '', color: 'rgb(128,128,128)' },
      { text: 'd', classes: '', color: 'rgb(1,2,3)' },
      { text: 'e', classes: '', color: 'rgb(4,5,6)' },
      { text: 'f', classes: '', color: 'rgb(0,0,255)' },
    ]);
  });

  it('skips what it does not show, arguments and all: backgrounds, inverse, blink, bad colours', () => {
    expect(sgrSpans('\x1b[48;5;1;1ma\x1b[0;48;2;9;9;9;32mb\x1b[0;7;5mc\x1b[38;5;300md\x1b[38;2;1;2me')).toEqual([
      { text: 'a', classes: 'b' },
      { text: 'b', classes: 'c2' },
      { text: 'cde', classes: '' },
    ]);
  });

  it('drops any other escape, and a lone ESC, rather than show it raw', () => {
    expect(sgrSpans('a\x1b[2Kb\x1b[10;3Hc\x1bd')).toEqual([{ text: 'abcd', classes: '' }]);
  });

  it('never reads markup: text stays text', () => {
    expect(sgrSpans('\x1b[31m<img src=x onerror=alert(1)>\x1b[0m')).toEqual([{ text: '<img src=x onerror=alert(1)>', classes: 'c1' }]);
  });
});

describe('stripSgr', () => {
  it('leaves the text a terminal without colours shows', () => {
    expect(stripSgr('\x1b[36m[git]\x1b[39m Preparing \x1b[1mworktree\x1b[22m\n')).toBe('[git] Preparing worktree\n');
    expect(stripSgr('plain')).toBe('plain');
  });
});
