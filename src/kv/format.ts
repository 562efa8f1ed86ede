/**
 * How KV renders times and durations on the wire, as Vault's Go code does.
 */

/**
 * RFC 3339 in UTC with the fraction's trailing zeros trimmed (Go's RFC3339Nano):
 * `2025-01-07T09:15:02.117Z`, `2025-01-07T09:15:02Z`. `null` (not set) is `""`, never null.
 */
export function formatTime(ms: number | null): string {
  if (ms === null) return '';
  const iso = new Date(ms).toISOString(); // 2025-01-07T09:15:02.110Z
  const dot = iso.lastIndexOf('.');
  const fraction = iso.slice(dot + 1, -1).replace(/0+$/, '');
  return fraction === '' ? `${iso.slice(0, dot)}Z` : `${iso.slice(0, dot)}.${fraction}Z`;
}

/** Go's `time.Duration.String()` for whole seconds: `0s`, `45s`, `1m30s`, `72h0m0s`, `-1s`. */
export function formatDuration(seconds: number): string {
  if (seconds === 0) return '0s';
  const sign = seconds < 0 ? '-' : '';
  let rest = Math.abs(seconds);
  const h = Math.floor(rest / 3600);
  rest -= h * 3600;
  const m = Math.floor(rest / 60);
  const s = rest - m * 60;
  if (h > 0) return `${sign}${h}h${m}m${s}s`;
  if (m > 0) return `${sign}${m}m${s}s`;
  return `${sign}${s}s`;
}
