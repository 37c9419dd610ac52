import { describe, expect, it } from '@jest/globals';
import { afterScroll, atEnd } from '../../../cli/ui/follow.js';

/** A log 10,000 px tall in a 500 px box, scrolled to `top`. */
const at = (top: number, height = 10_000) => ({ top, height, client: 500 });

describe('following the end of the log', () => {
  it('counts the last few pixels as the end', () => {
    expect(atEnd(at(9500))).toBe(true);
    expect(atEnd(at(9480))).toBe(true);
    expect(atEnd(at(9400))).toBe(false);
  });

  it('stops only when the reader went above where the page put them', () => {
    expect(afterScroll(true, 9500, at(9000))).toBe('stop');
    expect(afterScroll(true, 9500, at(0))).toBe('stop');
  });

  it('keeps following when the end moved away by itself (lines laid out taller), and scrolls to it again', () => {
    // The page scrolled to 9,500 of 10,000; the lines then took 12,000 px: the reader did nothing.
    expect(afterScroll(true, 9500, at(9500, 12_000))).toBe('pin');
    // A fraction of a pixel lower is rounding, not the reader.
    expect(afterScroll(true, 9500, at(9499.5, 12_000))).toBe('pin');
  });

  it('keeps following at the end, however it got there (a taller box clamps the position lower)', () => {
    expect(afterScroll(true, 9500, at(9500))).toBe('none');
    expect(afterScroll(true, 9500, { top: 9000, height: 10_000, client: 1000 })).toBe('none');
  });

  it('follows again once the reader is back at the end, and not before', () => {
    expect(afterScroll(false, 9500, at(9500))).toBe('resume');
    expect(afterScroll(false, 9500, at(9000))).toBe('none');
  });
});
