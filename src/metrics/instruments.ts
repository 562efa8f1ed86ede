/**
 * Ferry's counters and histograms. prom-client's own `Counter` and `Histogram` hash the label
 * set and allocate on every `inc`/`observe`, even through a cached `labels()` child (about 1 µs a
 * request for one of each, measured on the 2-core development machine; a KV read costs Ferry
 * about 5.5 µs of its own work). Here a series is looked up once, by whoever records into it, and
 * then updated with a few additions and no allocation. prom-client still renders them: each
 * instrument answers `get()` the way prom-client's own metric classes do, so the registry writes
 * the exposition text (names, label escaping, number formatting) for all metrics alike.
 *
 * Every series also keeps what Vault's JSON form reports for counters and samples (go-metrics'
 * aggregate: count, sum, min, max, sum of squares), so that form shows exact figures.
 */

import type { Registry } from 'prom-client';

/** go-metrics' aggregate of one series: what Vault's JSON `Counters` and `Samples` entries are made of. */
export interface Aggregate {
  /** How many values were recorded (increments of a counter, observations of a histogram). */
  count: number;
  sum: number;
  sumSquares: number;
  min: number;
  max: number;
}

/** One series' labels and aggregate, for the JSON form. */
export interface SeriesSnapshot extends Aggregate {
  labels: Readonly<Record<string, string>>;
}

/** A value as prom-client's registry renders it (the shape its own metric classes answer `get()` with). */
interface RenderedValue {
  value: number;
  labels: Record<string, string>;
  metricName?: string;
  sharedLabels?: Record<string, string>;
}

class AggregateSeries implements Aggregate {
  count = 0;
  sum = 0;
  sumSquares = 0;
  min = 0;
  max = 0;

  constructor(readonly labels: Readonly<Record<string, string>>) {}

  protected record(value: number): void {
    if (this.count === 0 || value < this.min) this.min = value;
    if (this.count === 0 || value > this.max) this.max = value;
    this.count += 1;
    this.sum += value;
    this.sumSquares += value * value;
  }

  snapshot(): SeriesSnapshot {
    return { labels: this.labels, count: this.count, sum: this.sum, sumSquares: this.sumSquares, min: this.min, max: this.max };
  }
}

/** One counter series: its value is the sum of its increments. */
export class CounterSeries extends AggregateSeries {
  inc(by = 1): void {
    if (!(by >= 0)) throw new RangeError(`a counter only goes up (got ${by})`);
    this.record(by);
  }
}

/** One histogram series: observations counted per bucket (not cumulated until rendered). */
export class HistogramSeries extends AggregateSeries {
  /** Per bucket, then the observations above the last bound (`+Inf`). */
  readonly perBucket: Float64Array;

  constructor(
    labels: Readonly<Record<string, string>>,
    private readonly bounds: readonly number[],
  ) {
    super(labels);
    this.perBucket = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) return;
    let i = 0;
    while (i < this.bounds.length && value > this.bounds[i]!) i += 1;
    this.perBucket[i]! += 1;
    this.record(value);
  }
}

/** What both instruments share: a fixed set of label names and the series made so far. */
abstract class Instrument<S extends AggregateSeries, L extends string> {
  readonly aggregator = 'sum';
  private readonly series = new Map<string, S>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly L[],
  ) {}

  protected abstract create(labels: Readonly<Record<string, string>>): S;

  /**
   * The series of one label set, made on first use. This is the lookup to do once: keep the
   * series and record into it (the HTTP layer caches one per route and verb).
   */
  with(labels: Readonly<Record<L, string>>): S {
    const key = this.keyOf(labels);
    let found = this.series.get(key);
    if (!found) {
      const own: Record<string, string> = {};
      for (const name of this.labelNames) own[name] = labels[name];
      found = this.create(Object.freeze(own));
      this.series.set(key, found);
    }
    return found;
  }

  /** Drops the series whose labels include all of `match` (a destination that was deleted). */
  removeMatching(match: Partial<Record<L, string>>): void {
    const wanted = Object.entries(match) as Array<[string, string]>;
    for (const [key, series] of this.series) {
      if (wanted.every(([name, value]) => series.labels[name] === value)) this.series.delete(key);
    }
  }

  /** Every series' labels and aggregate (Vault's JSON form). */
  snapshots(): SeriesSnapshot[] {
    return [...this.series.values()].map((s) => s.snapshot());
  }

  reset(): void {
    this.series.clear();
  }

  protected all(): Iterable<S> {
    return this.series.values();
  }

  private keyOf(labels: Readonly<Record<L, string>>): string {
    let key = '';
    for (const name of this.labelNames) {
      const value = labels[name];
      if (typeof value !== 'string') throw new TypeError(`${this.name}: label "${name}" needs a string value`);
      key += `${value}\u0000`;
    }
    return key;
  }
}

/** A Prometheus counter of labelled series. */
export class SeriesCounter<L extends string = string> extends Instrument<CounterSeries, L> {
  readonly type = 'counter';

  protected create(labels: Readonly<Record<string, string>>): CounterSeries {
    return new CounterSeries(labels);
  }

  /** prom-client's metric protocol: what its registry renders. */
  async get(): Promise<{ name: string; help: string; type: 'counter'; aggregator: string; values: RenderedValue[] }> {
    const values: RenderedValue[] = [];
    for (const s of this.all()) values.push({ value: s.sum, labels: s.labels });
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

/** A Prometheus histogram of labelled series, with fixed bucket bounds. */
export class SeriesHistogram<L extends string = string> extends Instrument<HistogramSeries, L> {
  readonly type = 'histogram';
  readonly bounds: readonly number[];
  private readonly boundLabels: ReadonlyArray<Record<string, string>>;

  constructor(name: string, help: string, labelNames: readonly L[], bounds: readonly number[]) {
    super(name, help, labelNames);
    if (labelNames.includes('le' as L)) throw new Error(`${name}: "le" is the bucket label`);
    if (bounds.some((b, i) => i > 0 && b <= bounds[i - 1]!)) throw new Error(`${name}: bucket bounds must increase`);
    this.bounds = Object.freeze([...bounds]);
    this.boundLabels = [...bounds.map((b) => ({ le: String(b) })), { le: '+Inf' }];
  }

  protected create(labels: Readonly<Record<string, string>>): HistogramSeries {
    return new HistogramSeries(labels, this.bounds);
  }

  /** prom-client's metric protocol: cumulative `_bucket` lines, then `_sum` and `_count`, per series. */
  async get(): Promise<{ name: string; help: string; type: 'histogram'; aggregator: string; values: RenderedValue[] }> {
    const values: RenderedValue[] = [];
    for (const s of this.all()) {
      let cumulative = 0;
      for (let i = 0; i < this.boundLabels.length; i += 1) {
        cumulative += s.perBucket[i]!;
        values.push({ metricName: `${this.name}_bucket`, labels: this.boundLabels[i]!, sharedLabels: s.labels, value: cumulative });
      }
      values.push({ metricName: `${this.name}_sum`, labels: {}, sharedLabels: s.labels, value: s.sum });
      values.push({ metricName: `${this.name}_count`, labels: {}, sharedLabels: s.labels, value: s.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

/**
 * Registers an instrument with prom-client's registry, which renders it with the rest. Its
 * types name only prom-client's own classes; the registry itself needs only what they share and
 * these answer: `name`, `help`, `type`, `get()` and `reset()`.
 */
export function registerInstrument(registry: Registry, instrument: SeriesCounter<any> | SeriesHistogram<any>): void {
  registry.registerMetric(instrument as unknown as Parameters<Registry['registerMetric']>[0]);
}
