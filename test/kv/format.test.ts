import { describe, expect, it } from 'vitest';
import { formatDuration, formatTime } from '../../src/kv/format.js';

describe('KV wire formats (kv-v2.md §1, §3)', () => {
  it('timestamps are RFC 3339 UTC with the fraction\'s trailing zeros trimmed, "" when not set', () => {
    expect(formatTime(Date.UTC(2025, 0, 7, 9, 15, 2, 117))).toBe('2025-01-07T09:15:02.117Z');
    expect(formatTime(Date.UTC(2025, 0, 7, 9, 15, 2, 110))).toBe('2025-01-07T09:15:02.11Z');
    expect(formatTime(Date.UTC(2025, 0, 8, 11, 0, 0, 500))).toBe('2025-01-08T11:00:00.5Z');
    expect(formatTime(Date.UTC(2025, 0, 8, 11, 0, 1, 0))).toBe('2025-01-08T11:00:01Z');
    expect(formatTime(Date.UTC(2025, 0, 8, 11, 0, 1, 7))).toBe('2025-01-08T11:00:01.007Z');
    expect(formatTime(null)).toBe('');
  });

  it('durations are Go duration strings', () => {
    expect([0, 45, 90, 3600, 12319, 259200, -1, -3600].map(formatDuration)).toEqual([
      '0s',
      '45s',
      '1m30s',
      '1h0m0s',
      '3h25m19s',
      '72h0m0s',
      '-1s',
      '-1h0m0s',
    ]);
  });
});
