import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { tempDirForTest } from '../support/fixtures.js';
import { freeLoopbackPort, runFerry } from '../support/process.js';
import { Scrape } from '../support/prometheus.js';

/** The Accept header Prometheus scrapes with (no `format` parameter in its scrape URL). */
const PROMETHEUS_ACCEPT = 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

/** `ferry server -config` on a file with `body`, stopped when the test finishes; resolves once it serves. */
async function serve(body: (dir: string) => string): Promise<void> {
  const dir = tempDirForTest('ferry-metrics-');
  const file = path.join(dir, 'ferry.hcl');
  fs.writeFileSync(file, body(dir));
  const p = runFerry(['server', `-config=${file}`, '-log-level=warn']);
  onTestFinished(() => p.stop());
  await p.waitFor(/Ferry server started/);
}

const get = (url: string, headers: Record<string, string> = {}) => fetch(url, { headers });

describe('sys/metrics over real sockets, configured as in Vault', () => {
  it('a listener with unauthenticated_metrics_access serves a Prometheus scrape to anyone, sealed or not; the other one wants a token', async () => {
    const [open, closed] = [await freeLoopbackPort(), await freeLoopbackPort()];
    await serve(
      (dir) => `
storage "sqlite" { path = "${dir}/ferry.db" }
listener "tcp" {
  address     = "127.0.0.1:${open}"
  tls_disable = true
  telemetry {
    unauthenticated_metrics_access = true
  }
}
listener "tcp" {
  address     = "127.0.0.1:${closed}"
  tls_disable = true
}
telemetry {
  prometheus_retention_time = "30s"
  disable_hostname          = true
}
`,
    );
    const openUrl = `http://127.0.0.1:${open}/v1/sys/metrics`;
    const closedUrl = `http://127.0.0.1:${closed}/v1/sys/metrics`;
    // Not yet initialised, so sealed: the open listener still answers, the other is Vault's 503.
    const sealed = await get(openUrl, { accept: PROMETHEUS_ACCEPT });
    expect(sealed.status).toBe(200);
    expect(sealed.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(new Scrape(await sealed.text()).series('ferry_core_unsealed')).toEqual({ labels: {}, value: 0 });
    expect((await get(closedUrl)).status).toBe(503);

    const base = `http://127.0.0.1:${closed}/v1`;
    const init: any = await (await fetch(`${base}/sys/init`, { method: 'PUT', body: JSON.stringify({ secret_shares: 1, secret_threshold: 1 }) })).json();
    expect((await fetch(`${base}/sys/unseal`, { method: 'PUT', body: JSON.stringify({ key: init.keys_base64[0] }) })).status).toBe(200);

    const scraped = new Scrape(await (await get(openUrl, { accept: PROMETHEUS_ACCEPT })).text());
    expect(scraped.value('ferry_core_unsealed')).toBe(1);
    // Both listeners' requests land in the one registry: the init and unseal, and the first scrape.
    expect(scraped.value('ferry_http_requests_total', { method: 'PUT', route: 'sys/init', status: '200' })).toBe(1);
    expect(scraped.value('ferry_http_requests_total', { method: 'PUT', route: 'sys/unseal', status: '200' })).toBe(1);
    expect(scraped.value('ferry_http_requests_total', { method: 'GET', route: 'sys/metrics', status: '200' })).toBe(1);
    expect(scraped.value('ferry_http_requests_total', { method: 'GET', route: 'sys/metrics', status: '503' })).toBe(1);

    expect((await get(closedUrl)).status).toBe(403);
    const withToken = await get(`${closedUrl}?format=prometheus`, { 'x-vault-token': init.root_token });
    expect(withToken.status).toBe(200);
    expect(new Scrape(await withToken.text()).value('ferry_http_requests_total', { route: 'sys/metrics', status: '403' })).toBe(1);
    const bearer = await get(closedUrl, { authorization: `Bearer ${init.root_token}` });
    expect(bearer.headers.get('content-type')).toBe('application/json');
    expect(Object.keys((await bearer.json()) as object)).toEqual(['Timestamp', 'Gauges', 'Points', 'Counters', 'Samples']);
  });
});
