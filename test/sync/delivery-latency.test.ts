import { beforeEach, describe, expect, it } from 'vitest';
import { Scrape } from '../support/prometheus.js';
import { emulatorDestination, useSyncServer } from '../support/sync.js';

/**
 * `ferry_sync_delivery_duration_seconds` is documented (README, Metrics) as "Time from the KV
 * commit to AWS confirming the delivery". A cold review (session 6) found it observed at the
 * delivery's start clock, before the AWS call, so a slow or stalled AWS never showed in it; it is
 * now observed at the answer (`AttemptContext.answeredAt`).
 */
const t = useSyncServer();

beforeEach(async () => {
  await t.call('POST', '/v1/sys/mounts/my-kv', { body: { type: 'kv-v2' } });
  await t.call('PUT', '/v1/sys/sync/destinations/aws-sm/d', { body: emulatorDestination(t.emu) });
});

describe('the delivery latency histogram', () => {
  it('includes the time AWS took to confirm the write', async () => {
    await t.call('PUT', '/v1/my-kv/data/s', { body: { data: { v: 1 } } });
    await t.call('PUT', '/v1/sys/sync/destinations/aws-sm/d/associations/set', { body: { mount: 'my-kv', secret_name: 's' } });
    // The CreateSecret answer takes 300 ms (real time); while it is on its way, 5 s pass on the clock.
    t.emu.injectFault({ kind: 'latency', latencyMs: 300, operation: 'CreateSecret', count: 1 });
    const timer = setTimeout(() => t.clock.advance(5000), 100);
    try {
      await t.server.sync.worker.drainOnce();
    } finally {
      clearTimeout(timer);
    }
    const m = new Scrape((await t.call('GET', '/v1/sys/metrics?format=prometheus')).body);
    const latency = m.series('ferry_sync_delivery_duration_seconds', { destination_type: 'aws-sm', destination: 'd' })!;
    expect(latency.count).toBe(1);
    // Committed at T, confirmed by AWS at T + 5 s.
    expect(latency.sum).toBeGreaterThanOrEqual(5);
  });
});
