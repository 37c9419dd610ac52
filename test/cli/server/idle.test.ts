import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { IdleCollector } from '../../../cli/server/idle.js';

afterEach(() => {
  jest.useRealTimers();
});

describe('the server once idle', () => {
  it('collects at each step while it stays idle, never while busy', () => {
    jest.useFakeTimers();
    const collect = jest.fn();
    const idle = new IdleCollector(collect, [1000, 7000]);
    idle.idle();
    jest.advanceTimersByTime(900);
    // Busy again just before: nothing, however long it stays busy.
    idle.busy();
    jest.advanceTimersByTime(10_000);
    expect(collect).not.toHaveBeenCalled();
    idle.idle();
    jest.advanceTimersByTime(1000);
    expect(collect).toHaveBeenCalledTimes(1);
    // Idle again (another operation ended): the steps start over.
    idle.idle();
    jest.advanceTimersByTime(6999);
    expect(collect).toHaveBeenCalledTimes(2);
    jest.advanceTimersByTime(1);
    expect(collect).toHaveBeenCalledTimes(3);
    jest.advanceTimersByTime(60_000);
    expect(collect).toHaveBeenCalledTimes(3);
  });
});
