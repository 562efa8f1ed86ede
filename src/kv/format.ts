/**
 * How KV renders times and durations on the wire, as Vault's Go code does.
 */

/**
 * RFC 3339 in UTC with the fraction's trailing zeros trimmed (Go's RFC3339Nano):
 * `2025-01-07T09:15:02.117Z`, `2025-01-07T09:15:02Z`. `null` (not set) is `""`, never null.
 */
export function formatTime(ms: number | null): string {
  if (ms === null) return '';
  // Every read renders its version's creation time; formatting a Date costs more than a lookup.
  let text = formatted.get(ms);
  if (text === undefined) {
    text = rfc3339(ms);
    if (formatted.size >= FORMATTED_MAX) formatted.clear();
    formatted.set(ms, text);
  }
  return text;
}

const formatted = new Map<number, string>();
const FORMATTED_MAX = 4096;

function rfc3339(ms: number): string {
  // `YYYY-MM-DDTHH:MM:SS.mmmZ`; on every read path, hence slicing rather than a regex.
  const iso = new Date(ms).toISOString();
  const dot = iso.length - 5;
  if (iso.charCodeAt(dot + 3) !== 48) return iso;
  if (iso.charCodeAt(dot + 2) !== 48) return `${iso.slice(0, dot + 3)}Z`;
  if (iso.charCodeAt(dot + 1) !== 48) return `${iso.slice(0, dot + 2)}Z`;
  return `${iso.slice(0, dot)}Z`;
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
