import { describe, expect, it } from '@jest/globals';
import { countLines, LineStore, planAppend, planBackfill, planEarlier } from '../../../cli/ui/line-store.js';

const lines = (from: number, to: number): string => Array.from({ length: to - from }, (_, i) => `line ${from + i}\n`).join('');

describe('LineStore', () => {
  it('counts lines, a last one without its newline too', () => {
    expect(countLines('')).toBe(0);
    expect(countLines('a\n')).toBe(1);
    expect(countLines('a\nb')).toBe(2);
    expect(countLines('a\nb\n')).toBe(2);
    expect(countLines('\n\n')).toBe(2);
  });

  it('keeps batches as written and cuts out any range of lines across them', () => {
    const store = new LineStore();
    expect(store.append(lines(0, 3))).toBe(3);
    expect(store.append('err 3\n', true)).toBe(1);
    expect(store.append(lines(4, 10))).toBe(6);
    expect(store.total).toBe(10);
    expect(store.lines(2, 5)).toEqual([
      { text: 'line 2', stderr: false },
      { text: 'err 3', stderr: true },
      { text: 'line 4', stderr: false },
    ]);
    expect(store.lines(9, 50)).toEqual([{ text: 'line 9', stderr: false }]);
    expect(store.lines(7, 7)).toEqual([]);
    expect(store.lines(0, 10).map((l) => l.text)).toEqual(['line 0', 'line 1', 'line 2', 'err 3', ...Array.from({ length: 6 }, (_, i) => `line ${i + 4}`)]);
  });

  it('keeps empty lines', () => {
    const store = new LineStore();
    store.append('a\n\n\nb\n');
    expect(store.lines(0, 4).map((l) => l.text)).toEqual(['a', '', '', 'b']);
  });

  it('holds 400,000 lines as a few hundred strings, and finds a line among them at once', () => {
    const store = new LineStore();
    for (let at = 0; at < 400_000; at += 500) store.append(lines(at, at + 500));
    expect(store.total).toBe(400_000);
    const started = performance.now();
    for (let i = 0; i < 1000; i++) store.lines(399_000 + i, 399_001 + i);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(store.lines(123_456, 123_458).map((l) => l.text)).toEqual(['line 123456', 'line 123457']);
  });

  it('lets the oldest batches go past its bound, and says from where it still has lines', () => {
    const store = new LineStore(100);
    for (let at = 0; at < 100; at += 5) store.append(lines(at, at + 5));
    expect(store.total).toBe(100);
    expect(store.size).toBeLessThanOrEqual(100);
    expect(store.first).toBeGreaterThan(0);
    expect(store.lines(0, store.first)).toEqual([]);
    expect(store.lines(store.first, store.first + 1)[0]!.text).toBe(`line ${store.first}`);
    expect([...store.texts()].join('')).toBe(lines(store.first, 100));
  });

  it('keeps the last batch even when it alone is bigger than the bound', () => {
    const store = new LineStore(10);
    store.append(lines(0, 50));
    expect(store.first).toBe(0);
    store.append(lines(50, 60));
    expect(store.first).toBe(50);
  });
});

const limits = { tail: 10, perFrame: 10 };

describe('planAppend', () => {
  it('adds what came and moves the window to the last `tail` lines while following', () => {
    expect(planAppend({ start: 0, end: 0 }, 5, limits, true)).toEqual({ from: 0, to: 5, drop: 0, window: { start: 0, end: 5 }, behind: 0 });
    expect(planAppend({ start: 0, end: 8 }, 12, limits, true)).toEqual({ from: 8, to: 12, drop: 2, window: { start: 2, end: 12 }, behind: 0 });
  });

  it('skips straight to the end of a burst bigger than a frame builds, building only that', () => {
    expect(planAppend({ start: 0, end: 10 }, 400_000, { tail: 2000, perFrame: 400 }, true)).toEqual({
      from: 399_600,
      to: 400_000,
      drop: 10,
      window: { start: 399_600, end: 400_000 },
      behind: 0,
    });
  });

  it('leaves the DOM alone while the reader is further up, and counts what they have not seen', () => {
    expect(planAppend({ start: 2, end: 12 }, 40, limits, false)).toEqual({ from: 12, to: 12, drop: 0, window: { start: 2, end: 12 }, behind: 28 });
  });

  it('trims lines shown from earlier once the reader follows the end again', () => {
    expect(planAppend({ start: 0, end: 30 }, 30, limits, true)).toEqual({ from: 30, to: 30, drop: 20, window: { start: 20, end: 30 }, behind: 0 });
  });

  it('never starts before the first line memory still has', () => {
    expect(planAppend({ start: 0, end: 0 }, 100, { tail: 50, perFrame: 50 }, true, 70).from).toBe(70);
  });
});

describe('planBackfill', () => {
  const big = { tail: 2000, perFrame: 400 };
  it('fills the tail back in above a burst, a frame’s budget at a time, until it is whole', () => {
    let window = planAppend({ start: 0, end: 0 }, 400_000, big, true).window;
    expect(window).toEqual({ start: 399_600, end: 400_000 });
    const steps: number[] = [];
    for (let plan = planBackfill(window, 400_000, big, 400); plan; plan = planBackfill(window, 400_000, big, 400)) {
      expect(plan.to).toBe(window.start);
      steps.push(plan.to - plan.from);
      window = plan.window;
    }
    expect(steps).toEqual([400, 400, 400, 400]);
    expect(window).toEqual({ start: 398_000, end: 400_000 });
  });

  it('waits while the window is not at the end, or the frame has no budget left, and stops at memory’s first line', () => {
    expect(planBackfill({ start: 500, end: 900 }, 1000, big, 400)).toBeUndefined();
    expect(planBackfill({ start: 500, end: 1000 }, 1000, big, 0)).toBeUndefined();
    expect(planBackfill({ start: 500, end: 1000 }, 1000, big, 400, 450)).toEqual({ from: 450, to: 500, window: { start: 450, end: 1000 } });
  });
});

describe('planEarlier', () => {
  it('gives the chunk above the window, down to the first line held', () => {
    expect(planEarlier({ start: 5000, end: 7000 }, 2000)).toEqual({ from: 3000, to: 5000, window: { start: 3000, end: 7000 } });
    expect(planEarlier({ start: 1500, end: 3500 }, 2000, 200)).toEqual({ from: 200, to: 1500, window: { start: 200, end: 3500 } });
  });
});
