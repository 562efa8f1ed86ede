/**
 * Secrets sync's metrics, one set of series per destination. Declared here, beside the other
 * metrics, and handed to sync by the composition root as `SyncMetrics`: sync imports this
 * module's types, never the other way round, so the metrics feature depends on nothing but the
 * kernel and prom-client.
 *
 * Destination names are the operator's (bounded like mounts); every other label takes values
 * from a fixed set or from AWS's own operation names and error codes.
 */
import { Gauge, type Registry } from 'prom-client';
import { SeriesCounter, SeriesHistogram, registerInstrument, type CounterSeries, type HistogramSeries } from './instruments.js';

/** How one delivery attempt ended. */
export type DeliveryResult =
  /** AWS confirmed the write (or the delete). */
  | 'success'
  /** A transient failure (throttling, a network error, AWS unavailable): it will be tried again. */
  | 'retry'
  /** A final failure: the association is marked failed until retried or changed. */
  | 'failed';

/** What an out-of-band change in AWS was, as drift repair found it. */
export type DriftKind =
  /** The secret's value was changed outside Ferry. */
  | 'value'
  /** The secret's tags were changed outside Ferry. */
  | 'tags'
  /** The secret was deleted or scheduled for deletion outside Ferry. */
  | 'deleted';

/** One destination's instruments. Get it once per destination (`SyncMetrics.destination`) and keep it. */
export interface DestinationMetrics {
  /** `ferry_sync_queue_depth`: changes waiting to be delivered. */
  setQueueDepth(changes: number): void;
  /** `ferry_sync_oldest_pending_seconds`: age of the oldest change waiting (0 when none is). */
  setOldestPendingAge(seconds: number): void;
  /**
   * `ferry_sync_deliveries_total{result}`; on `success`, also `ferry_sync_delivery_duration_seconds`
   * with the time from the KV commit to AWS's confirmation, when it is known.
   */
  delivered(result: DeliveryResult, commitToConfirmedSeconds?: number): void;
  /**
   * `ferry_sync_aws_calls_total{operation,code}`: one AWS API call by its operation name
   * (`PutSecretValue`) and outcome — `ok`, AWS's error code (`ThrottlingException`,
   * `ResourceNotFoundException`), or `NetworkError` when no answer came.
   */
  awsCall(operation: string, code: string): void;
  /** `ferry_sync_throttled_total{operation}`: an answer that said to slow down. */
  throttled(operation: string): void;
  /** `ferry_sync_write_budget{quota_group}`: the calls per second the destination may make now. */
  setWriteBudget(quotaGroup: string, callsPerSecond: number): void;
  /** `ferry_sync_drift_repairs_total{kind}`: an out-of-band change in AWS that Ferry undid. */
  driftRepaired(kind: DriftKind): void;
  /** `ferry_sync_sts_refreshes_total{result}`: a web-identity credential refresh through STS. */
  stsRefreshed(result: 'success' | 'failed'): void;
}

/** Secrets sync's view of the metrics. */
export interface SyncMetrics {
  /** The instruments of one destination; cached, so calling it per event is cheap but not free. */
  destination(type: string, name: string): DestinationMetrics;
  /** Drops a deleted destination's series, so that it stops being reported. */
  forget(type: string, name: string): void;
  /**
   * Runs before every scrape (both forms), to refresh gauges from state rather than on every
   * change (queue depth and the oldest pending change read from the outbox). A failing
   * refresh keeps the previous values.
   */
  beforeScrape(refresh: () => Promise<void> | void): void;
}

/** The names and labels of sync's metrics, as documented in the README. */
export const SYNC_METRICS = {
  queueDepth: 'ferry_sync_queue_depth',
  oldestPending: 'ferry_sync_oldest_pending_seconds',
  deliveries: 'ferry_sync_deliveries_total',
  deliveryDuration: 'ferry_sync_delivery_duration_seconds',
  awsCalls: 'ferry_sync_aws_calls_total',
  throttled: 'ferry_sync_throttled_total',
  writeBudget: 'ferry_sync_write_budget',
  driftRepairs: 'ferry_sync_drift_repairs_total',
  stsRefreshes: 'ferry_sync_sts_refreshes_total',
} as const;

/** KV commit → AWS confirmed, in seconds: from 10 ms (a write delivered at once) to 10 minutes (a long outage). */
export const DELIVERY_DURATION_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

type DestinationLabel = 'destination_type' | 'destination';
const DESTINATION_LABELS = ['destination_type', 'destination'] as const;

/** Gauges carry the host label (Vault's hostname on gauges) when the configuration asks for it. */
export interface GaugeLabelling {
  names: readonly string[];
  values: Readonly<Record<string, string>>;
}

/** The registered instruments behind `SyncMetrics`. */
export class SyncInstruments implements SyncMetrics {
  readonly deliveries = new SeriesCounter<DestinationLabel | 'result'>(
    SYNC_METRICS.deliveries,
    'Delivery attempts to a sync destination, by result: success, retry (a transient failure) or failed.',
    [...DESTINATION_LABELS, 'result'],
  );
  readonly deliveryDuration = new SeriesHistogram<DestinationLabel>(
    SYNC_METRICS.deliveryDuration,
    'Time from a KV commit to AWS confirming its delivery, in seconds.',
    DESTINATION_LABELS,
    DELIVERY_DURATION_BUCKETS,
  );
  readonly awsCalls = new SeriesCounter<DestinationLabel | 'operation' | 'code'>(
    SYNC_METRICS.awsCalls,
    'AWS API calls made for a sync destination, by operation and outcome (ok, or the AWS error code).',
    [...DESTINATION_LABELS, 'operation', 'code'],
  );
  readonly throttled = new SeriesCounter<DestinationLabel | 'operation'>(
    SYNC_METRICS.throttled,
    'AWS answers to a sync destination that said to slow down, by operation.',
    [...DESTINATION_LABELS, 'operation'],
  );
  readonly driftRepairs = new SeriesCounter<DestinationLabel | 'kind'>(
    SYNC_METRICS.driftRepairs,
    'Out-of-band changes in AWS that drift repair undid, by kind: value, tags or deleted.',
    [...DESTINATION_LABELS, 'kind'],
  );
  readonly stsRefreshes = new SeriesCounter<DestinationLabel | 'result'>(
    SYNC_METRICS.stsRefreshes,
    'Web-identity credential refreshes through STS for a sync destination, by result: success or failed.',
    [...DESTINATION_LABELS, 'result'],
  );
  readonly queueDepth: Gauge;
  readonly oldestPending: Gauge;
  readonly writeBudget: Gauge;
  private readonly refreshers: Array<() => Promise<void> | void> = [];
  private readonly destinations = new Map<string, { metrics: DestinationMetrics; gaugeLabels: Record<string, string>; quotaGroups: Set<string> }>();

  constructor(
    registry: Registry,
    private readonly gauges: GaugeLabelling,
  ) {
    const gauge = (name: string, help: string, extra: string[] = []) =>
      new Gauge({ name, help, labelNames: [...DESTINATION_LABELS, ...extra, ...gauges.names], registers: [registry] });
    this.queueDepth = gauge(SYNC_METRICS.queueDepth, 'Changes waiting to be delivered to a sync destination.');
    this.oldestPending = gauge(SYNC_METRICS.oldestPending, 'Age of the oldest change waiting to be delivered to a sync destination, in seconds (0 when none is).');
    this.writeBudget = gauge(SYNC_METRICS.writeBudget, 'AWS calls per second a sync destination may make now, by quota group.', ['quota_group']);
    for (const instrument of this.instruments()) registerInstrument(registry, instrument);
  }

  destination(type: string, name: string): DestinationMetrics {
    const key = `${type}\u0000${name}`;
    let found = this.destinations.get(key);
    if (!found) {
      found = this.build({ destination_type: type, destination: name });
      this.destinations.set(key, found);
    }
    return found.metrics;
  }

  forget(type: string, name: string): void {
    const key = `${type}\u0000${name}`;
    const found = this.destinations.get(key);
    this.destinations.delete(key);
    for (const instrument of this.instruments()) instrument.removeMatching({ destination_type: type, destination: name });
    if (!found) return;
    // prom-client's gauges remove one full label set at a time: the ones this destination set.
    this.queueDepth.remove(found.gaugeLabels);
    this.oldestPending.remove(found.gaugeLabels);
    for (const group of found.quotaGroups) this.writeBudget.remove({ ...found.gaugeLabels, quota_group: group });
  }

  beforeScrape(refresh: () => Promise<void> | void): void {
    this.refreshers.push(refresh);
  }

  /** Runs the refreshers sync registered; one that fails leaves its gauges as they were. */
  async refresh(): Promise<void> {
    await Promise.allSettled(this.refreshers.map(async (refresh) => refresh()));
  }

  private instruments() {
    return [this.deliveries, this.deliveryDuration, this.awsCalls, this.throttled, this.driftRepairs, this.stsRefreshes];
  }

  private build(destination: Record<DestinationLabel, string>) {
    const gaugeLabels = { ...destination, ...this.gauges.values };
    const quotaGroups = new Set<string>();
    const outcomes = new Map<string, CounterSeries>();
    const cached = <L extends string>(counter: SeriesCounter<DestinationLabel | L>, labels: Record<L, string>): CounterSeries => {
      const key = `${counter.name}\u0000${Object.values(labels).join('\u0000')}`;
      let series = outcomes.get(key);
      if (!series) {
        series = counter.with({ ...destination, ...labels } as Record<DestinationLabel | L, string>);
        outcomes.set(key, series);
      }
      return series;
    };
    let duration: HistogramSeries | undefined;
    const metrics: DestinationMetrics = {
      setQueueDepth: (changes) => this.queueDepth.set(gaugeLabels, changes),
      setOldestPendingAge: (seconds) => this.oldestPending.set(gaugeLabels, Math.max(0, seconds)),
      delivered: (result, seconds) => {
        cached(this.deliveries, { result }).inc();
        if (result === 'success' && seconds !== undefined) (duration ??= this.deliveryDuration.with(destination)).observe(seconds);
      },
      awsCall: (operation, code) => cached(this.awsCalls, { operation, code }).inc(),
      throttled: (operation) => cached(this.throttled, { operation }).inc(),
      setWriteBudget: (quotaGroup, callsPerSecond) => {
        quotaGroups.add(quotaGroup);
        this.writeBudget.set({ ...gaugeLabels, quota_group: quotaGroup }, callsPerSecond);
      },
      driftRepaired: (kind) => cached(this.driftRepairs, { kind }).inc(),
      stsRefreshed: (result) => cached(this.stsRefreshes, { result }).inc(),
    };
    return { metrics, gaugeLabels, quotaGroups };
  }
}
