/**
 * The metrics feature: one prom-client registry per server holding every Ferry metric, and the
 * two forms `sys/metrics` answers with — Prometheus' text exposition and Vault's JSON
 * (go-metrics' summary). The HTTP layer records requests through `requests` (the kernel's
 * `RequestObserver`); secrets sync records through `sync` (`SyncMetrics`).
 *
 * It imports nothing of Ferry's but the kernel, so that any feature may report to it.
 */
import { Gauge, Registry } from 'prom-client';
import type { SealState } from '../kernel/services.js';
import { HttpRequestMetrics } from './http.js';
import { SeriesCounter, SeriesHistogram, registerInstrument } from './instruments.js';
import { SyncInstruments } from './sync.js';
import { byNameThenLabels, goTimestamp, sampledValue, type GaugeValue, type MetricsSummary, type SampledValue } from './vault-json.js';

export { routeFamily, UNMATCHED_ROUTE } from './http.js';
export { SYNC_METRICS, type DeliveryResult, type DestinationMetrics, type DriftKind, type SyncMetrics } from './sync.js';
export type { MetricsSummary } from './vault-json.js';

/** Prometheus' text exposition format, version 0.0.4 (what Vault answers with too). */
export const PROMETHEUS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

export interface MetricsOptions {
  /**
   * The `telemetry` stanza's `prometheus_retention_time`, in seconds. 0 turns the Prometheus
   * form off, as in Vault; any other value turns it on (Ferry's series are cumulative and never
   * expire, so the value itself is not used).
   */
  prometheusRetentionSeconds: number;
  /**
   * The `host` label every gauge carries, or undefined for none: Vault puts the hostname on
   * gauges unless `disable_hostname` is set (in the metric's name, or with
   * `enable_hostname_label` as a label; Ferry always uses the label, so names stay fixed).
   */
  hostLabel?: string;
  /** For the unsealed gauge. */
  seal: SealState;
  /** Ferry's release, for `ferry_build_info`. */
  version: string;
  clock: () => number;
}

/** What `sys/metrics` answers: a body in the format asked for, or Vault's refusal text (a 400). */
export type MetricsAnswer = { refused: false; contentType: string; body: string } | { refused: true; message: string };

/**
 * The format a request asks for, as Vault reads it: its `format` parameter, else its `Accept`
 * header (`application/openmetrics-text…` first, or any value naming `prometheus/telemetry`,
 * means Prometheus), else `""`, the JSON form.
 */
export function requestedFormat(format: string | undefined, accept: string | string[] | undefined): string {
  if (format !== undefined && format !== '') return format;
  const values = accept === undefined ? [] : Array.isArray(accept) ? accept : [accept];
  if (values.length === 0) return '';
  if (values[0]!.startsWith('application/openmetrics-text')) return 'prometheus';
  return values.some((v) => v.includes('prometheus/telemetry')) ? 'prometheus' : '';
}

export class FerryMetrics {
  readonly registry = new Registry();
  readonly requests = new HttpRequestMetrics();
  readonly sync: SyncInstruments;
  private readonly startedAt: number;

  constructor(private readonly options: MetricsOptions) {
    this.startedAt = options.clock();
    const host: Record<string, string> = options.hostLabel === undefined ? {} : { host: options.hostLabel };
    const gaugeLabels = Object.keys(host);
    const gauge = (name: string, help: string, read: () => number | undefined, labels: Record<string, string> = {}) =>
      new Gauge({
        name,
        help,
        labelNames: [...Object.keys(labels), ...gaugeLabels],
        registers: [this.registry],
        collect() {
          const value = read();
          if (value !== undefined) this.set({ ...labels, ...host }, value);
        },
      });
    gauge('ferry_core_unsealed', 'Whether the server is unsealed: 1 unsealed, 0 sealed (Vault\'s vault_core_unsealed).', () =>
      options.seal.status().sealed ? 0 : 1,
    );
    gauge('ferry_build_info', 'Always 1; the labels name the Ferry release.', () => 1, { version: options.version });
    gauge('ferry_process_resident_memory_bytes', 'Resident memory of the server process, in bytes.', () => process.memoryUsage.rss());
    gauge('ferry_process_heap_used_bytes', 'JavaScript heap in use by the server process, in bytes.', () => process.memoryUsage().heapUsed);
    registerInstrument(this.registry, this.requests.requests);
    registerInstrument(this.registry, this.requests.duration);
    this.sync = new SyncInstruments(this.registry, { names: gaugeLabels, values: host });
  }

  get prometheusEnabled(): boolean {
    return this.options.prometheusRetentionSeconds > 0;
  }

  /** `sys/metrics` in `format` (`prometheus`, or `""` for Vault's JSON form). */
  async answer(format: string): Promise<MetricsAnswer> {
    if (format === 'prometheus') {
      if (!this.prometheusEnabled) return { refused: true, message: 'prometheus is not enabled' };
      await this.sync.refresh();
      return { refused: false, contentType: PROMETHEUS_CONTENT_TYPE, body: await this.registry.metrics() };
    }
    if (format === '') return { refused: false, contentType: 'application/json', body: JSON.stringify(await this.summary()) };
    return { refused: true, message: `metric response format "${format}" unknown` };
  }

  /** Vault's JSON form: every gauge, counter and histogram of the registry as go-metrics reports them. */
  async summary(): Promise<MetricsSummary> {
    await this.sync.refresh();
    const now = this.options.clock();
    const seconds = Math.max(0, (now - this.startedAt) / 1000);
    const gauges: GaugeValue[] = [];
    const counters: SampledValue[] = [];
    const samples: SampledValue[] = [];
    for (const metric of this.registry.getMetricsAsArray() as unknown[]) {
      if (metric instanceof SeriesCounter) {
        for (const s of metric.snapshots()) counters.push(sampledValue(metric.name, s, seconds));
      } else if (metric instanceof SeriesHistogram) {
        for (const s of metric.snapshots()) samples.push(sampledValue(metric.name, s, seconds));
      } else if (metric instanceof Gauge) {
        const { name, values } = await metric.get();
        for (const v of values) gauges.push({ Name: name, Value: v.value, Labels: stringLabels(v.labels) });
      }
    }
    return {
      Timestamp: goTimestamp(now),
      Gauges: byNameThenLabels(gauges),
      Points: [],
      Counters: byNameThenLabels(counters),
      Samples: byNameThenLabels(samples),
    };
  }
}

function stringLabels(labels: Record<string, string | number | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) if (v !== undefined) out[k] = String(v);
  return out;
}
