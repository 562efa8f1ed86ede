import { beforeEach, expect, it } from 'vitest';
import { waitUntil } from '../support/process.js';
import { useSyncScenario } from '../support/sync.js';

/**
 * Prefix associations with the `vault` CLI's requests (`vault write …/prefixes/set mount=…
 * prefix=… [dry_run=true]`: string-typed fields, no Content-Type) against a listening Ferry whose
 * worker runs on its own, as `main.ts` runs it.
 */
const s = useSyncScenario('running');
const path = 'sys/sync/destinations/aws-sm/cli';

beforeEach(async () => {
  expect((await s.cli('POST', 'sys/mounts/my-kv', { type: 'kv-v2' })).status).toBe(204);
  expect((await s.createDestination('cli')).status).toBe(200);
});

it('plans with dry_run=true, then sets the prefix, syncs what it covers, and reads the prefixes and the progress back', async () => {
  const accessor = s.server.core.mounts.get('my-kv/')!.accessor;
  for (const p of ['apps/a', 'apps/b/c', 'apps2/x']) expect((await s.cli('PUT', `my-kv/data/${p}`, { data: { v: p } })).status).toBe(200);

  const planned = await s.cli('PUT', `${path}/prefixes/set`, { mount: 'my-kv', prefix: 'apps/', dry_run: 'true' });
  expect(planned.status).toBe(200);
  expect(planned.body.data.plan).toEqual([
    { action: 'create', name: `vault/${accessor}/apps/a` },
    { action: 'create', name: `vault/${accessor}/apps/b/c` },
  ]);
  expect(planned.body.data.associated_prefixes).toEqual({});

  expect((await s.cli('PUT', `${path}/prefixes/set`, { mount: 'my-kv', prefix: 'apps/' })).status).toBe(200);
  await waitUntil('both secrets in AWS', () => s.emu.listSecretNames('us-east-1').length === 2 || undefined);
  expect(s.emu.listSecretNames('us-east-1').sort()).toEqual([`vault/${accessor}/apps/a`, `vault/${accessor}/apps/b/c`]);
  const listed = await s.cli('GET', `${path}/prefixes`);
  expect(listed.body.data.associated_prefixes[`${accessor}/apps/`]).toMatchObject({ mount: 'my-kv/', prefix: 'apps/', state: 'complete', brought_in: 2, skipped: 0 });
  const status = await waitUntil('both SYNCED', async () => {
    const res = await s.cli('GET', `${path}/status`);
    return res.body.data.prefixes?.[0]?.pending === 0 ? res.body.data : undefined;
  });
  expect(status.prefixes).toEqual([{ mount: 'my-kv/', prefix: 'apps/', state: 'complete', brought_in: 2, skipped: 0, pending: 0 }]);
});
