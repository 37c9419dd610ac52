import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { silenceTimer } from '../../../cli/remote/connection.js';

beforeEach(() => {
  jest.useFakeTimers();
});
afterEach(() => {
  jest.useRealTimers();
});

describe('the silence timer', () => {
  it('ends a connection only after that long without a sign of life, and never once stopped', () => {
    const silent = jest.fn();
    const silence = silenceTimer(1000, silent);
    silence.heard();
    for (let i = 0; i < 5; i++) {
      jest.advanceTimersByTime(900);
      silence.heard();
    }
    expect(silent).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1000);
    expect(silent).toHaveBeenCalledTimes(1);
    // Heard again (a late chunk): watched again.
    silence.heard();
    jest.advanceTimersByTime(1000);
    expect(silent).toHaveBeenCalledTimes(2);
    silence.heard();
    silence.stop();
    jest.advanceTimersByTime(5000);
    expect(silent).toHaveBeenCalledTimes(2);
  });
});
