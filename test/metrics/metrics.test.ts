import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { MountEntry } from '../../src/kernel/entries.js';
import type { PathSpec } from '../../src/kernel/request.js';
import { FerryMetrics, requestedFormat, routeFamily, SYNC_METRICS, type MetricsSummary } from '../../src/metrics/index.js';
import { registerInstrument, SeriesCounter, SeriesHistogram } from '../../src/metrics/instruments.js';
import { goTimestamp } from '../../src/metrics/vault-json.js';
import { manualClock } from '../support/clock.js';
import { Scrape } from '../support/prometheus.js';

const START = Date.UTC(2026, 10, 29, 12, 0, 0);

function metrics(opts: { hostLabel?: string; sealed?: boolean } = {}) {
  const clock = manualClock(START);
  const m = new FerryMetrics({
    prometheusRetentionSeconds: 86400,
    hostLabel: opts.hostLabel,
    seal: { status: () => ({ initialized: true, sealed: opts.sealed ?? false, t: 1, n: 1, progress: 0, nonce: '' }) },
    version: '0.1.0',
    clock,
  });
  return { m, clock };
}

async function prometheus(m: FerryMetrics): Promise<Scrape> {
  const answer = await m.answer('prometheus');
  if (answer.refused) throw new Error(answer.message);
  return new Scrape(answer.body);
}

const mount = (path: string, type: string, version?: string): MountEntry =>
  ({ path, type, options: version ? { version } : null }) as unknown as MountEntry;
const spec = (pattern: string): PathSpec => ({ pattern, operations: {} });

describe('the instruments', () => {
  it('render through prom-client as text a parser reads back, label values escaped', async () => {
    const registry = new Registry();
    const counter = new SeriesCounter('test_events_total', 'Events.', ['kind'] as const);
    registerInstrument(registry, counter);
    const awkward = 'a "quoted" back\\slash and a\nnewline';
    counter.with({ kind: awkward }).inc();
    counter.with({ kind: awkward }).inc(2);
    counter.with({ kind: 'plain' }).inc();
    const scraped = new Scrape(await registry.metrics());
    expect(scraped.family('test_events_total').type).toBe('COUNTER');
    expect(scraped.value('test_events_total', { kind: awkward })).toBe(3);
    expect(scraped.value('test_events_total', { kind: 'plain' })).toBe(1);
  });

  it('count a histogram observation in the first bucket whose bound is not below it, cumulated when rendered', async () => {
    const registry = new Registry();
    const histogram = new SeriesHistogram('test_seconds', 'Durations.', ['op'] as const, [0.1, 1, 10]);
    registerInstrument(registry, histogram);
    const series = histogram.with({ op: 'x' });
    for (const v of [0.05, 0.1, 0.5, 1, 3, 10, 11, Number.NaN, Number.POSITIVE_INFINITY]) series.observe(v);
    const scraped = new Scrape(await registry.metrics()).series('test_seconds', { op: 'x' })!;
    expect(scraped.buckets).toEqual([
      ['0.1', 2],
      ['1', 4],
      ['10', 6],
      ['+Inf', 7],
    ]);
    expect(scraped.count).toBe(7);
    expect(scraped.sum).toBeCloseTo(25.65, 10);
  });

  it('hand out one series per label set, and refuse what Prometheus would not take', () => {
    const counter = new SeriesCounter('test_total', 'x', ['a', 'b'] as const);
    expect(counter.with({ a: '1', b: '2' })).toBe(counter.with({ b: '2', a: '1' }));
    // The separator keeps ("x", "y z") and ("x y", "z") apart.
    expect(counter.with({ a: 'x', b: 'y z' })).not.toBe(counter.with({ a: 'x y', b: 'z' }));
    expect(() => counter.with({ a: '1' } as never)).toThrow(/label "b"/);
    expect(() => counter.with({ a: '1', b: '2' }).inc(-1)).toThrow(RangeError);
    expect(() => new SeriesHistogram('h', 'x', ['le'] as const, [1])).toThrow(/le/);
    expect(() => new SeriesHistogram('h', 'x', [], [1, 1])).toThrow(/increase/);
  });
});

describe("Vault's JSON form", () => {
  it("reports go-metrics' aggregate of each series: count, rate per second since the start, sum, min, max, mean and sample stddev", async () => {
    const { m, clock } = metrics();
    const delivery = m.sync.destination('aws-sm', 'prod');
    for (const seconds of [1, 2, 3, 4]) delivery.delivered('success', seconds);
    clock.advance(20_000);
    const summary: MetricsSummary = await m.summary();
    expect(summary.Timestamp).toBe('2026-11-29 12:00:20 +0000 UTC');
    expect(summary.Samples).toEqual([
      {
        Name: SYNC_METRICS.deliveryDuration,
        Count: 4,
        Rate: 0.5,
        Sum: 10,
        Min: 1,
        Max: 4,
        Mean: 2.5,
        // sqrt((4·30 − 10²) / (4·3)), as go-metrics' Stddev().
        Stddev: Math.sqrt(20 / 12),
        Labels: { destination_type: 'aws-sm', destination: 'prod' },
      },
    ]);
    expect(summary.Counters).toEqual([
      {
        Name: SYNC_METRICS.deliveries,
        Count: 4,
        Rate: 0.2,
        Sum: 4,
        Min: 1,
        Max: 1,
        Mean: 1,
        Stddev: 0,
        Labels: { destination_type: 'aws-sm', destination: 'prod', result: 'success' },
      },
    ]);
  });

  it("writes the timestamp as Go's time.String() of the instant rounded to the second", () => {
    expect(goTimestamp(Date.UTC(2024, 0, 9, 0, 11, 39, 600))).toBe('2024-01-09 00:11:40 +0000 UTC');
    expect(goTimestamp(Date.UTC(2024, 11, 31, 23, 59, 59, 499))).toBe('2024-12-31 23:59:59 +0000 UTC');
  });

  it('lists gauges, counters and samples in a stable order: by name, then labels', async () => {
    const { m } = metrics();
    for (const name of ['b', 'a', 'c']) m.sync.destination('aws-sm', name).setQueueDepth(1);
    const names = (await m.summary()).Gauges.filter((g) => g.Name === SYNC_METRICS.queueDepth).map((g) => g.Labels.destination);
    expect(names).toEqual(['a', 'b', 'c']);
  });
});

describe("sync's metrics", () => {
  it('are all reported with their labels and the values recorded, in both forms', async () => {
    const { m } = metrics({ hostLabel: 'ferry-1' });
    const prod = m.sync.destination('aws-sm', 'prod');
    prod.setQueueDepth(7);
    prod.setOldestPendingAge(12.5);
    prod.delivered('success', 0.2);
    prod.delivered('success');
    prod.delivered('retry');
    prod.delivered('failed', 3);
    prod.awsCall('PutSecretValue', 'ok');
    prod.awsCall('PutSecretValue', 'ThrottlingException');
    prod.awsCall('DescribeSecret', 'ok');
    prod.throttled('PutSecretValue');
    prod.setWriteBudget('write', 48);
    prod.setWriteBudget('write', 24);
    prod.setWriteBudget('describe', 40);
    prod.driftRepaired('value');
    prod.driftRepaired('deleted');
    prod.stsRefreshed('success');
    prod.stsRefreshed('failed');
    const s = await prometheus(m);
    const d = { destination_type: 'aws-sm', destination: 'prod' };
    expect(s.series(SYNC_METRICS.queueDepth, d)).toEqual({ labels: { ...d, host: 'ferry-1' }, value: 7 });
    expect(s.value(SYNC_METRICS.oldestPending, d)).toBe(12.5);
    expect(s.value(SYNC_METRICS.deliveries, { ...d, result: 'success' })).toBe(2);
    expect(s.value(SYNC_METRICS.deliveries, { ...d, result: 'retry' })).toBe(1);
    expect(s.value(SYNC_METRICS.deliveries, { ...d, result: 'failed' })).toBe(1);
    // Only confirmed deliveries with a known commit time are timed.
    expect(s.series(SYNC_METRICS.deliveryDuration, d)).toMatchObject({ labels: d, count: 1, sum: 0.2 });
    expect(s.value(SYNC_METRICS.awsCalls, { ...d, operation: 'PutSecretValue', code: 'ok' })).toBe(1);
    expect(s.value(SYNC_METRICS.awsCalls, { ...d, operation: 'PutSecretValue', code: 'ThrottlingException' })).toBe(1);
    expect(s.value(SYNC_METRICS.awsCalls, { ...d, operation: 'DescribeSecret', code: 'ok' })).toBe(1);
    expect(s.value(SYNC_METRICS.throttled, { ...d, operation: 'PutSecretValue' })).toBe(1);
    expect(s.value(SYNC_METRICS.writeBudget, { ...d, quota_group: 'write' })).toBe(24);
    expect(s.value(SYNC_METRICS.writeBudget, { ...d, quota_group: 'describe' })).toBe(40);
    expect(s.value(SYNC_METRICS.driftRepairs, { ...d, kind: 'value' })).toBe(1);
    expect(s.value(SYNC_METRICS.driftRepairs, { ...d, kind: 'deleted' })).toBe(1);
    expect(s.value(SYNC_METRICS.stsRefreshes, { ...d, result: 'success' })).toBe(1);
    expect(s.value(SYNC_METRICS.stsRefreshes, { ...d, result: 'failed' })).toBe(1);
    // Counters never carry the host label; gauges do.
    expect(s.series(SYNC_METRICS.throttled, d)?.labels).toEqual({ ...d, operation: 'PutSecretValue' });

    const json = await m.summary();
    const names = (list: Array<{ Name: string }>) => [...new Set(list.map((e) => e.Name))].sort();
    expect(names(json.Gauges.filter((g) => g.Name.startsWith('ferry_sync_')))).toEqual(
      [SYNC_METRICS.oldestPending, SYNC_METRICS.queueDepth, SYNC_METRICS.writeBudget].sort(),
    );
    expect(names(json.Counters)).toEqual(
      [SYNC_METRICS.awsCalls, SYNC_METRICS.deliveries, SYNC_METRICS.driftRepairs, SYNC_METRICS.stsRefreshes, SYNC_METRICS.throttled].sort(),
    );
    expect(names(json.Samples)).toEqual([SYNC_METRICS.deliveryDuration]);
  });

  it("forget a deleted destination's series, and only its own", async () => {
    const { m } = metrics();
    for (const name of ['gone', 'kept']) {
      const d = m.sync.destination('aws-sm', name);
      d.setQueueDepth(1);
      d.setOldestPendingAge(1);
      d.setWriteBudget('write', 48);
      d.delivered('success', 1);
      d.awsCall('PutSecretValue', 'ok');
      d.throttled('PutSecretValue');
      d.driftRepaired('tags');
      d.stsRefreshed('success');
    }
    m.sync.forget('aws-sm', 'gone');
    m.sync.forget('aws-sm', 'never-existed');
    const s = await prometheus(m);
    for (const name of Object.values(SYNC_METRICS)) {
      expect(s.all(name, { destination: 'gone' }), name).toEqual([]);
      expect(s.all(name, { destination: 'kept' }), name).toHaveLength(1);
    }
    // A destination made again under the old name starts from nothing.
    m.sync.destination('aws-sm', 'gone').delivered('retry');
    expect((await prometheus(m)).value(SYNC_METRICS.deliveries, { destination: 'gone', result: 'retry' })).toBe(1);
  });

  it('refresh gauges before every scrape of either form; a refresh that fails keeps the last values and the scrape', async () => {
    const { m } = metrics();
    const prod = m.sync.destination('aws-sm', 'prod');
    let depth = 3;
    let calls = 0;
    m.sync.beforeScrape(() => {
      calls += 1;
      prod.setQueueDepth(depth);
    });
    m.sync.beforeScrape(async () => {
      throw new Error('the outbox could not be read');
    });
    expect((await prometheus(m)).value(SYNC_METRICS.queueDepth)).toBe(3);
    depth = 5;
    expect((await m.summary()).Gauges.find((g) => g.Name === SYNC_METRICS.queueDepth)?.Value).toBe(5);
    expect(calls).toBe(2);
  });
});

describe('the forms and their selection', () => {
  it("pick the format as Vault's metricsutil does", () => {
    expect(requestedFormat('prometheus', 'application/json')).toBe('prometheus');
    expect(requestedFormat('weird', undefined)).toBe('weird');
    expect(requestedFormat(undefined, 'application/openmetrics-text; version=1.0.0')).toBe('prometheus');
    expect(requestedFormat('', ['text/plain', 'x prometheus/telemetry'])).toBe('prometheus');
    expect(requestedFormat(undefined, 'text/plain, application/openmetrics-text')).toBe('');
    expect(requestedFormat(undefined, undefined)).toBe('');
  });

  it('refuse the Prometheus form when retention is 0, and any unknown format, with the texts Vault answers', async () => {
    const off = new FerryMetrics({
      prometheusRetentionSeconds: 0,
      seal: { status: () => ({ initialized: true, sealed: false, t: 1, n: 1, progress: 0, nonce: '' }) },
      version: '0.1.0',
      clock: () => START,
    });
    expect(await off.answer('prometheus')).toEqual({ refused: true, message: 'prometheus is not enabled' });
    expect(await off.answer('text')).toEqual({ refused: true, message: 'metric response format "text" unknown' });
    expect((await off.answer('')).refused).toBe(false);
  });

  it('report the seal', async () => {
    expect((await prometheus(metrics({ sealed: true }).m)).value('ferry_core_unsealed')).toBe(0);
    expect((await prometheus(metrics({ sealed: false }).m)).value('ferry_core_unsealed')).toBe(1);
  });
});

describe('route families', () => {
  it('name the declaration behind its mount: fixed mounts by path, operators’ mounts by type', () => {
    expect(routeFamily(mount('sys/', 'system'), spec('seal-status'))).toBe('sys/seal-status');
    expect(routeFamily(mount('sys/', 'system'), spec('sync/destinations/:type/:name'))).toBe('sys/sync/destinations/:type/:name');
    expect(routeFamily(mount('auth/token/', 'token'), spec('lookup-self'))).toBe('auth/token/lookup-self');
    expect(routeFamily(mount('identity/', 'identity'), spec('oidc/key/:name'))).toBe('identity/oidc/key/:name');
    expect(routeFamily(mount('team/payments/', 'kv', '2'), spec('data/:path+'))).toBe('{kv-v2}/data/:path+');
    expect(routeFamily(mount('legacy/', 'kv', '1'), spec(':path*'))).toBe('{kv-v1}/:path*');
    expect(routeFamily(mount('legacy/', 'kv'), spec(':path*'))).toBe('{kv-v1}/:path*');
    expect(routeFamily(mount('auth/ci/', 'jwt'), spec('login'))).toBe('auth/{jwt}/login');
  });

  it('are recorded per verb and status, with no series made for a request until it is answered', async () => {
    const { m } = metrics();
    const kv = mount('secret/', 'kv', '2');
    const data = spec('data/:path+');
    m.requests.requestAnswered('GET', kv, data, 200, 0.001);
    m.requests.requestAnswered('GET', kv, data, 200, 0.003);
    m.requests.requestAnswered('GET', kv, data, 404, 0.002);
    m.requests.requestAnswered('BREW', undefined, undefined, 405, 0.0001);
    const s = await prometheus(m);
    expect(s.all('ferry_http_requests_total').map((x) => [x.labels, x.value])).toEqual([
      [{ method: 'GET', route: '{kv-v2}/data/:path+', status: '200' }, 2],
      [{ method: 'GET', route: '{kv-v2}/data/:path+', status: '404' }, 1],
      [{ method: 'other', route: 'unmatched', status: '405' }, 1],
    ]);
    expect(s.series('ferry_http_request_duration_seconds', { method: 'GET' })).toMatchObject({ count: 3 });
    expect(s.series('ferry_http_request_duration_seconds', { method: 'GET' })!.sum).toBeCloseTo(0.006, 12);
  });
});
