/**
 * The one test clock: time moves only when the test says so, so tests assert exact timestamps
 * and expiries without sleeping. It is a plain `() => number` (milliseconds since the epoch),
 * which is what Ferry's `clock` option, the store and the AWS emulator take.
 */
export interface ManualClock {
  (): number;
  /** Moves time forward (or back, with a negative `ms`). */
  advance(ms: number): void;
  /** Jumps to an absolute time. */
  set(ms: number): void;
}

export function manualClock(start: number = Date.now()): ManualClock {
  let now = start;
  const clock = (() => now) as ManualClock;
  clock.advance = (ms) => {
    now += ms;
  };
  clock.set = (ms) => {
    now = ms;
  };
  return clock;
}

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
