import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/app.js';
import { closeAfterTest, tempDirForTest } from '../support/fixtures.js';

/** The cluster id `sys/seal-status` and `sys/health` report, and the one sync's owner tags carry. */
describe('the cluster id', () => {
  const status = async (t: TestServer) => (await t.call('GET', '/v1/sys/seal-status', { token: null })).json();
  const health = async (t: TestServer) => (await t.call('GET', '/v1/sys/health?sealedcode=200', { token: null })).json();

  it('is stored behind the barrier: omitted while sealed, the same after a restart, and the one the sync owner tag names', async () => {
    const file = path.join(tempDirForTest('ferry-cluster-'), 'ferry.db');
    const first = closeAfterTest(await startTestServer({ storagePath: file, dev: false }));
    const init = (await first.call('PUT', '/v1/sys/init', { token: null, body: { secret_shares: 1, secret_threshold: 1 } })).json();
    expect((await status(first)).cluster_id).toBeUndefined();
    expect((await health(first)).cluster_id).toBeUndefined();
    await first.call('PUT', '/v1/sys/unseal', { token: null, body: { key: init.keys[0] } });
    const id: string = (await status(first)).cluster_id;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect((await health(first)).cluster_id).toBe(id);
    await first.close();

    const second = closeAfterTest(await startTestServer({ storagePath: file, dev: false }));
    expect((await status(second)).cluster_id).toBeUndefined();
    await second.call('PUT', '/v1/sys/unseal', { token: null, body: { key: init.keys[0] } });
    expect((await status(second)).cluster_id).toBe(id);
  });

  it('keeps the id an older store gave the sync owner tag, so the secrets already tagged stay this cluster\'s', async () => {
    const file = path.join(tempDirForTest('ferry-cluster-'), 'ferry.db');
    const first = closeAfterTest(await startTestServer({ storagePath: file, dev: false }));
    const init = (await first.call('PUT', '/v1/sys/init', { token: null, body: { secret_shares: 1, secret_threshold: 1 } })).json();
    await first.call('PUT', '/v1/sys/unseal', { token: null, body: { key: init.keys[0] } });
    // As the previous release left it: sync's own id, and no cluster record yet.
    const legacy = '7ba06c4b-835d-4f7c-b213-4ee192b1187b';
    await first.server.core.store.commit([
      { kind: 'delete', key: 'core/cluster' },
      { kind: 'put', key: 'sync/cluster-id', value: Buffer.from(JSON.stringify({ id: legacy })) },
    ]);
    await first.close();

    const second = closeAfterTest(await startTestServer({ storagePath: file, dev: false }));
    await second.call('PUT', '/v1/sys/unseal', { token: null, body: { key: init.keys[0] } });
    expect((await status(second)).cluster_id).toBe(legacy);
  });
});
