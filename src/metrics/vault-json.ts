/**
 * Vault's JSON form of `sys/metrics`: go-metrics' `MetricsSummary` (`Timestamp`, `Gauges`,
 * `Points`, `Counters`, `Samples`), with go-metrics' field names and order. Vault shows its
 * in-memory sink's last finished 10-second interval; Ferry's series are cumulative since the
 * server started, so `Count`, `Sum`, `Min`, `Max` cover that whole time and `Rate` is `Sum` per
 * second of it.
 */
import type { Aggregate, SeriesSnapshot } from './instruments.js';

export interface GaugeValue {
  Name: string;
  Value: number;
  Labels: Record<string, string>;
}

/** go-metrics' `SampledValue`: the embedded aggregate's fields, then `Mean`, `Stddev` and the labels. */
export interface SampledValue {
  Name: string;
  Count: number;
  Rate: number;
  Sum: number;
  Min: number;
  Max: number;
  Mean: number;
  Stddev: number;
  Labels: Record<string, string>;
}

export interface MetricsSummary {
  Timestamp: string;
  Gauges: GaugeValue[];
  Points: Array<{ Name: string; Points: number[] }>;
  Counters: SampledValue[];
  Samples: SampledValue[];
}

/** Go's `time.Time.String()` of a UTC instant rounded to the second: `2024-01-09 00:11:40 +0000 UTC`. */
export function goTimestamp(ms: number): string {
  const iso = new Date(Math.round(ms / 1000) * 1000).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} +0000 UTC`;
}

/** go-metrics' `Stddev()`: the sample standard deviation from the count, sum and sum of squares. */
function stddev(a: Aggregate): number {
  const divisor = a.count * (a.count - 1);
  if (divisor === 0) return 0;
  // Rounding can leave a tiny negative where every value was the same.
  return Math.sqrt(Math.max(0, (a.count * a.sumSquares - a.sum * a.sum) / divisor));
}

/** One counter or histogram series as a `SampledValue`; `seconds` is how long the series has been kept. */
export function sampledValue(name: string, s: SeriesSnapshot, seconds: number): SampledValue {
  return {
    Name: name,
    Count: s.count,
    Rate: seconds > 0 ? s.sum / seconds : 0,
    Sum: s.sum,
    Min: s.min,
    Max: s.max,
    Mean: s.count === 0 ? 0 : s.sum / s.count,
    Stddev: stddev(s),
    Labels: { ...s.labels },
  };
}

/** go-metrics sorts each list by its series' hash (name, then labels); this is the same order in spirit and as stable. */
export function byNameThenLabels<T extends { Name: string; Labels: Record<string, string> }>(entries: T[]): T[] {
  const key = (e: T) => `${e.Name}\u0000${Object.entries(e.Labels).map(([k, v]) => `${k}=${v}`).sort().join('\u0000')}`;
  return entries
    .map((e) => [key(e), e] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, e]) => e);
}
