import fs from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { telemetryDefaults } from '../../src/config/schema.js';
import { loadServerConfig } from '../../src/config/server-config.js';
import { LIST_MARKER_HEADER } from '../../src/http/wire.js';
import { startTestServer, type TestServer } from '../support/app.js';
import { closeAfterTest, tempDirForTest, useTestServer } from '../support/fixtures.js';
import { Scrape } from '../support/prometheus.js';
import { tokenWithPolicy } from '../security/support.js';

const KV_DATA = '{kv-v2}/data/:path+';
/** The Accept header Prometheus 2.x and 3.x scrape with. */
const PROMETHEUS_ACCEPT = 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';

async function scrape(t: TestServer, token?: string | null): Promise<Scrape> {
  const res = await t.call('GET', '/v1/sys/metrics?format=prometheus', { token });
  expect(res.statusCode, res.body).toBe(200);
  expect(res.headers['content-type']).toBe(PROMETHEUS_TEXT);
  return new Scrape(res.body);
}

/** The app a listener with `telemetry { unauthenticated_metrics_access = true }` serves. */
async function openListener(t: TestServer) {
  const app = closeAfterTest(await buildApp({ ...t.server.core, unauthenticatedMetricsAccess: true }));
  return (method: 'GET' | 'POST' | 'HEAD', url: string, headers: Record<string, string> = {}) => app.inject({ method, url, headers });
}

describe('sys/metrics', () => {
  const t = useTestServer();

  it('answers in Prometheus text that a text-format parser reads, with every metric family Ferry declares', async () => {
    const res = await t.call('GET', '/v1/sys/metrics?format=prometheus');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe(PROMETHEUS_TEXT);
    const families = new Scrape(res.body).families;
    expect(Object.fromEntries(families.map((f) => [f.name, f.type]))).toEqual({
      ferry_core_unsealed: 'GAUGE',
      ferry_build_info: 'GAUGE',
      ferry_process_resident_memory_bytes: 'GAUGE',
      ferry_process_heap_used_bytes: 'GAUGE',
      ferry_http_requests_total: 'COUNTER',
      ferry_http_request_duration_seconds: 'HISTOGRAM',
      ferry_sync_queue_depth: 'GAUGE',
      ferry_sync_oldest_pending_seconds: 'GAUGE',
      ferry_sync_write_budget: 'GAUGE',
      ferry_sync_deliveries_total: 'COUNTER',
      ferry_sync_delivery_duration_seconds: 'HISTOGRAM',
      ferry_sync_aws_calls_total: 'COUNTER',
      ferry_sync_throttled_total: 'COUNTER',
      ferry_sync_drift_repairs_total: 'COUNTER',
      ferry_sync_sts_refreshes_total: 'COUNTER',
    });
    const scraped = new Scrape(res.body);
    expect(scraped.value('ferry_core_unsealed')).toBe(1);
    expect(scraped.series('ferry_build_info')?.labels).toEqual({ version: '0.1.0' });
    expect(scraped.value('ferry_process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it("answers in Vault's JSON form by default, with go-metrics' field names in go-metrics' order", async () => {
    await t.call('GET', '/v1/sys/health');
    const res = await t.call('GET', '/v1/sys/metrics');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    const body = JSON.parse(res.body);
    expect(Object.keys(body)).toEqual(['Timestamp', 'Gauges', 'Points', 'Counters', 'Samples']);
    expect(body.Timestamp).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000 UTC$/);
    expect(body.Points).toEqual([]);
    expect(body.Gauges).toContainEqual({ Name: 'ferry_core_unsealed', Value: 1, Labels: {} });
    for (const gauge of body.Gauges) expect(Object.keys(gauge)).toEqual(['Name', 'Value', 'Labels']);
    const health = body.Counters.find((c: any) => c.Labels.route === 'sys/health');
    expect(health).toMatchObject({
      Name: 'ferry_http_requests_total',
      Count: 1,
      Sum: 1,
      Min: 1,
      Max: 1,
      Mean: 1,
      Stddev: 0,
      Labels: { method: 'GET', route: 'sys/health', status: '200' },
    });
    expect(health.Rate).toBeGreaterThan(0);
    const timing = body.Samples.find((s: any) => s.Labels.route === 'sys/health');
    expect(timing.Name).toBe('ferry_http_request_duration_seconds');
    expect(timing.Count).toBe(1);
    expect(timing.Min).toBe(timing.Max);
    expect(timing.Mean).toBe(timing.Sum);
    for (const entry of [...body.Counters, ...body.Samples]) {
      expect(Object.keys(entry)).toEqual(['Name', 'Count', 'Rate', 'Sum', 'Min', 'Max', 'Mean', 'Stddev', 'Labels']);
    }
  });

  it('picks the format as Vault does: the format parameter, else an Accept header asking for Prometheus', async () => {
    for (const accept of [PROMETHEUS_ACCEPT, 'application/openmetrics-text', 'text/plain, prometheus/telemetry']) {
      const res = await t.call('GET', '/v1/sys/metrics', { headers: { accept } });
      expect(res.headers['content-type'], accept).toBe(PROMETHEUS_TEXT);
      expect(() => new Scrape(res.body)).not.toThrow();
    }
    for (const accept of ['application/json', 'text/plain', '*/*', 'text/html, application/openmetrics-text']) {
      const res = await t.call('GET', '/v1/sys/metrics', { headers: { accept } });
      expect(res.headers['content-type'], accept).toBe('application/json');
    }
    const empty = await t.call('GET', '/v1/sys/metrics?format=', { headers: { accept: 'application/json' } });
    expect(empty.headers['content-type']).toBe('application/json');
  });

  it("refuses an unknown format with Vault's 400 and text/plain reason", async () => {
    for (const format of ['json', 'PROMETHEUS', 'openmetrics', '<b>']) {
      const res = await t.call('GET', `/v1/sys/metrics?format=${encodeURIComponent(format)}`);
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toBe('text/plain');
      expect(res.body).toBe(`metric response format "${format}" unknown`);
    }
  });

  it('refuses malformed requests with a 4xx, never a 500', async () => {
    const twice = await t.call('GET', '/v1/sys/metrics?format=prometheus&format=prometheus');
    expect(twice.statusCode).toBe(400);
    expect(twice.json().errors[0]).toContain('format');
    expect((await t.call('POST', '/v1/sys/metrics', { body: { format: 'prometheus' } })).statusCode).toBe(405);
    expect((await t.call('DELETE', '/v1/sys/metrics')).statusCode).toBe(405);
    expect((await t.call('LIST', '/v1/sys/metrics')).statusCode).toBe(405);
    expect((await t.call('GET', `/v1/sys/metrics?format=${'x'.repeat(100_000)}`)).statusCode).toBe(400);
  });

  it('needs a token: none, or an unknown one, is refused with 403', async () => {
    for (const token of [null, 'hvs.unknown']) {
      const res = await t.call('GET', '/v1/sys/metrics?format=prometheus', { token });
      expect(res.statusCode).toBe(403);
      expect(res.json()).toEqual({ errors: ['permission denied'] });
    }
  });

  it('answers a narrow token with read on sys/metrics in both forms, and refuses tokens without it', async () => {
    const reader = await tokenWithPolicy(t, 'metrics-reader', 'path "sys/metrics" { capabilities = ["read"] }');
    expect((await t.call('GET', '/v1/sys/metrics', { token: reader })).statusCode).toBe(200);
    expect((await t.call('GET', '/v1/sys/metrics?format=prometheus', { token: reader })).statusCode).toBe(200);
    expect((await t.call('GET', '/v1/sys/mounts', { token: reader })).statusCode).toBe(403);

    const others = {
      'kv-reader': 'path "secret/*" { capabilities = ["read", "list"] }',
      'list-only': 'path "sys/metrics" { capabilities = ["list"] }',
      'sys-star-denied': 'path "sys/*" { capabilities = ["read"] }\npath "sys/metrics" { capabilities = ["deny"] }',
    };
    for (const [name, policy] of Object.entries(others)) {
      const token = await tokenWithPolicy(t, name, policy);
      const res = await t.call('GET', '/v1/sys/metrics?format=prometheus', { token });
      expect(res.statusCode, name).toBe(403);
    }
  });

  it('counts a scripted HTTP workload exactly: requests by verb, route family and status, and one timing per request', async () => {
    const narrow = await tokenWithPolicy(t, 'kv-lister', 'path "secret/metadata/*" { capabilities = ["list"] }');
    const before = await scrape(t);
    for (let i = 0; i < 5; i++) expect((await t.call('PUT', `/v1/secret/data/app-${i}`, { body: { data: { v: i } } })).statusCode).toBe(200);
    for (let i = 0; i < 3; i++) expect((await t.call('GET', '/v1/secret/data/app-0')).statusCode).toBe(200);
    for (let i = 0; i < 2; i++) expect((await t.call('GET', '/v1/secret/data/missing-secret')).statusCode).toBe(404);
    expect((await t.call('LIST', '/v1/secret/metadata')).statusCode).toBe(200);
    expect((await t.call('GET', '/v1/secret/data/app-0', { token: narrow })).statusCode).toBe(403);
    expect((await t.call('DELETE', '/v1/secret/data/app-1')).statusCode).toBe(204);
    expect((await t.call('PUT', '/v1/secret/data/app-2', { rawBody: '{"data": ' })).statusCode).toBe(400);
    expect((await t.call('GET', '/v1/no-such-mount/x')).statusCode).toBe(404);
    expect((await t.call('GET', '/v1/sys/no-such-path')).statusCode).toBe(404);
    const after = await scrape(t);

    const counted = (method: string, route: string, status: string) =>
      after.value('ferry_http_requests_total', { method, route, status }) - before.value('ferry_http_requests_total', { method, route, status });
    expect(counted('PUT', KV_DATA, '200')).toBe(5);
    expect(counted('GET', KV_DATA, '200')).toBe(3);
    expect(counted('GET', KV_DATA, '404')).toBe(2);
    expect(counted('GET', KV_DATA, '403')).toBe(1);
    expect(counted('LIST', '{kv-v2}/metadata/:path*', '200')).toBe(1);
    expect(counted('DELETE', KV_DATA, '204')).toBe(1);
    // Refused before routing (the body is read first) or matching no declaration.
    expect(counted('PUT', 'unmatched', '400')).toBe(1);
    expect(counted('GET', 'unmatched', '404')).toBe(2);
    // The first scrape was answered before the second one read the counters.
    expect(counted('GET', 'sys/metrics', '200')).toBe(1);
    const total = (s: Scrape) => s.all('ferry_http_requests_total').reduce((n, m) => n + m.value!, 0);
    expect(total(after) - total(before)).toBe(5 + 3 + 2 + 1 + 1 + 1 + 1 + 2 + 1);

    // One observation per request, in buckets that only grow and end with the count.
    for (const [method, requests] of [['PUT', 5], ['GET', 6], ['DELETE', 1]] as const) {
      const was = before.series('ferry_http_request_duration_seconds', { method, route: KV_DATA });
      const now = after.series('ferry_http_request_duration_seconds', { method, route: KV_DATA })!;
      expect(now.labels).toEqual({ method, route: KV_DATA });
      expect(now.count! - (was?.count ?? 0), method).toBe(requests);
      expect(now.sum!).toBeGreaterThan(was?.sum ?? 0);
      expect(now.buckets!.map(([le]) => le)).toEqual(['0.0005', '0.001', '0.0025', '0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf']);
      const counts = now.buckets!.map(([, n]) => n);
      expect(counts).toEqual([...counts].sort((a, b) => a - b));
      expect(counts.at(-1)).toBe(now.count);
    }
    // Route families, never the paths requested: no secret's name reaches a label.
    for (const name of ['app-0', 'app-1', 'missing-secret', 'no-such-mount', 'no-such-path']) expect(after.text).not.toContain(name);
  });

  it('counts what the HTTP server refuses before routing (an oversized body, a path outside /v1) once each, as unmatched', async () => {
    const small = closeAfterTest(await startTestServer({ maxRequestSize: 1024 }));
    const big = await small.call('PUT', '/v1/secret/data/big', { body: { data: { blob: 'x'.repeat(4096) } } });
    expect(big.statusCode).toBe(413);
    expect((await small.app.inject({ method: 'GET', url: '/ui/nothing' })).statusCode).toBe(404);
    const scraped = await scrape(small);
    expect(scraped.all('ferry_http_requests_total', { route: 'unmatched' }).map((x) => [x.labels, x.value])).toEqual([
      [{ method: 'PUT', route: 'unmatched', status: '413' }, 1],
      [{ method: 'GET', route: 'unmatched', status: '404' }, 1],
    ]);
    expect(scraped.value('ferry_http_requests_total', { route: KV_DATA })).toBe(0);
  });

  it('counts concurrent requests without losing one', async () => {
    const before = await scrape(t);
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => t.call(i % 2 ? 'GET' : 'PUT', '/v1/secret/data/shared', i % 2 ? {} : { body: { data: { i } } })));
    const byStatus = (s: number) => answers.filter((a) => a.statusCode === s).length;
    const after = await scrape(t);
    const delta = (method: string, status: number) =>
      after.value('ferry_http_requests_total', { method, route: KV_DATA, status: String(status) }) -
      before.value('ferry_http_requests_total', { method, route: KV_DATA, status: String(status) });
    expect(delta('PUT', 200)).toBe(20);
    expect(delta('GET', 200) + delta('GET', 404)).toBe(20);
    expect(delta('GET', 200)).toBe(answers.filter((a, i) => i % 2 === 1 && a.statusCode === 200).length);
    expect(byStatus(200) + byStatus(404)).toBe(40);
  });

  it('names route families after the declaration and its mount type, never the mount path an operator chose', async () => {
    expect((await t.call('POST', '/v1/sys/mounts/team-blue', { body: { type: 'kv', options: { version: '1' } } })).statusCode).toBe(204);
    expect((await t.call('PUT', '/v1/team-blue/db', { body: { password: 'p' } })).statusCode).toBe(204);
    expect((await t.call('GET', '/v1/auth/token/lookup-self')).statusCode).toBe(200);
    expect((await t.call('GET', '/v1/identity/oidc/secrets-sync/.well-known/keys')).statusCode).toBe(200);
    const after = await scrape(t);
    expect(after.value('ferry_http_requests_total', { method: 'PUT', route: '{kv-v1}/:path*', status: '204' })).toBe(1);
    expect(after.value('ferry_http_requests_total', { method: 'GET', route: 'auth/token/lookup-self', status: '200' })).toBe(1);
    expect(after.value('ferry_http_requests_total', { method: 'GET', route: 'identity/oidc/secrets-sync/.well-known/keys', status: '200' })).toBe(1);
    expect(after.value('ferry_http_requests_total', { method: 'POST', route: 'sys/mounts/:path+', status: '204' })).toBe(1);
    expect(after.text).not.toContain('team-blue');
  });

  it('answers 503 while sealed on an ordinary listener, and reports the seal once unsealed again', async () => {
    expect((await t.call('PUT', '/v1/sys/seal')).statusCode).toBe(204);
    const sealed = await t.call('GET', '/v1/sys/metrics');
    expect(sealed.statusCode).toBe(503);
    expect(sealed.json()).toEqual({ errors: ['Vault is sealed'] });
    expect((await t.call('PUT', '/v1/sys/unseal', { token: null, body: { key: t.server.devUnsealKey } })).statusCode).toBe(200);
    expect((await scrape(t)).value('ferry_core_unsealed')).toBe(1);
  });
});

describe('sys/metrics on a listener with telemetry { unauthenticated_metrics_access = true }', () => {
  const t = useTestServer();

  it('answers both forms without a token, and still refuses other paths without one', async () => {
    const open = await openListener(t);
    const text = await open('GET', '/v1/sys/metrics?format=prometheus');
    expect(text.statusCode).toBe(200);
    expect(new Scrape(text.body).value('ferry_core_unsealed')).toBe(1);
    const json = await open('GET', '/v1/sys/metrics');
    expect(json.statusCode).toBe(200);
    expect(Object.keys(json.json())).toEqual(['Timestamp', 'Gauges', 'Points', 'Counters', 'Samples']);
    expect((await open('GET', '/v1/sys/metrics', { accept: PROMETHEUS_ACCEPT })).headers['content-type']).toBe(PROMETHEUS_TEXT);
    expect((await open('GET', '/v1/sys/mounts')).statusCode).toBe(403);
    expect((await open('GET', '/v1/secret/data/x')).statusCode).toBe(403);
    // A bad token is not looked at, as Vault's listener handler does not look at it.
    expect((await open('GET', '/v1/sys/metrics', { 'x-vault-token': 'hvs.unknown' })).statusCode).toBe(200);
    // The other listener of the same server still wants a token.
    expect((await t.call('GET', '/v1/sys/metrics', { token: null })).statusCode).toBe(403);
  });

  it('answers while sealed, showing the seal', async () => {
    const open = await openListener(t);
    expect((await t.call('PUT', '/v1/sys/seal')).statusCode).toBe(204);
    const res = await open('GET', '/v1/sys/metrics?format=prometheus');
    expect(res.statusCode).toBe(200);
    expect(new Scrape(res.body).value('ferry_core_unsealed')).toBe(0);
    expect((await open('GET', '/v1/sys/metrics')).json().Gauges).toContainEqual({ Name: 'ferry_core_unsealed', Value: 0, Labels: {} });
  });

  it('serves only GET, as Vault does', async () => {
    const open = await openListener(t);
    for (const method of ['POST', 'HEAD'] as const) expect((await open(method, '/v1/sys/metrics')).statusCode, method).toBe(405);
    expect((await open('GET', '/v1/sys/metrics', { [LIST_MARKER_HEADER]: '1' })).statusCode).toBe(405);
  });

  it('writes no audit entry for an open scrape; an authenticated one is audited as any request', async () => {
    const file = path.join(tempDirForTest('ferry-metrics-audit-'), 'audit.log');
    expect((await t.call('PUT', '/v1/sys/audit/file', { body: { type: 'file', options: { file_path: file } } })).statusCode).toBe(204);
    const open = await openListener(t);
    expect((await open('GET', '/v1/sys/metrics')).statusCode).toBe(200);
    const paths = () =>
      fs
        .readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l).request.path);
    expect(paths()).not.toContain('sys/metrics');
    expect((await t.call('GET', '/v1/sys/metrics')).statusCode).toBe(200);
    expect(paths().filter((p) => p === 'sys/metrics')).toHaveLength(2);
  });
});

describe('the telemetry stanza', () => {
  it("turns the Prometheus form off with prometheus_retention_time = 0, with Vault's 400; the JSON form still answers", async () => {
    const t = closeAfterTest(await startTestServer({ telemetry: { ...telemetryDefaults(), prometheus_retention_time: 0 } }));
    for (const res of [await t.call('GET', '/v1/sys/metrics?format=prometheus'), await t.call('GET', '/v1/sys/metrics', { headers: { accept: PROMETHEUS_ACCEPT } })]) {
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toBe('text/plain');
      expect(res.body).toBe('prometheus is not enabled');
    }
    expect((await t.call('GET', '/v1/sys/metrics')).statusCode).toBe(200);
  });

  it('is read from the configuration file as Vault reads it: retention 0 refuses Prometheus, the listener block opens sys/metrics', async () => {
    const dir = tempDirForTest('ferry-metrics-config-');
    const file = path.join(dir, 'ferry.hcl');
    fs.writeFileSync(
      file,
      `storage "sqlite" { path = "${dir}/f.db" }\nlistener "tcp" {\n  address = "127.0.0.1:0"\n  tls_disable = true\n  telemetry { unauthenticated_metrics_access = "true" }\n}\ntelemetry { prometheus_retention_time = 0 }\n`,
    );
    const config = loadServerConfig(file);
    const t = closeAfterTest(await startTestServer({ telemetry: config.telemetry }));
    const app = closeAfterTest(await buildApp({ ...t.server.core, unauthenticatedMetricsAccess: config.listeners[0]!.telemetry.unauthenticatedMetricsAccess }));
    const refused = await app.inject({ method: 'GET', url: '/v1/sys/metrics?format=prometheus' });
    expect([refused.statusCode, refused.body]).toEqual([400, 'prometheus is not enabled']);
    const json = await app.inject({ method: 'GET', url: '/v1/sys/metrics' });
    expect(json.statusCode).toBe(200);
    // No disable_hostname: the gauges carry the host, as Vault's do.
    expect(json.json().Gauges).toContainEqual({ Name: 'ferry_core_unsealed', Value: 1, Labels: { host: hostname() } });
  });

  it('puts the hostname on gauges as a host label unless disable_hostname is set (or enable_hostname_label asks for it anyway)', async () => {
    const cases = [
      { telemetry: { disable_hostname: false, enable_hostname_label: false }, host: true },
      { telemetry: { disable_hostname: true, enable_hostname_label: true }, host: true },
      { telemetry: { disable_hostname: true, enable_hostname_label: false }, host: false },
    ];
    for (const c of cases) {
      const t = closeAfterTest(await startTestServer({ telemetry: { ...telemetryDefaults(), ...c.telemetry } }));
      await t.call('GET', '/v1/sys/health');
      const scraped = await scrape(t);
      expect(scraped.series('ferry_core_unsealed')?.labels, JSON.stringify(c)).toEqual(c.host ? { host: hostname() } : {});
      // Counters and histograms never carry it, as in Vault.
      expect(scraped.series('ferry_http_requests_total', { route: 'sys/health' })?.labels).toEqual({ method: 'GET', route: 'sys/health', status: '200' });
      const json = JSON.parse((await t.call('GET', '/v1/sys/metrics')).body);
      expect(json.Gauges.find((g: any) => g.Name === 'ferry_core_unsealed').Labels).toEqual(c.host ? { host: hostname() } : {});
    }
  });
});
