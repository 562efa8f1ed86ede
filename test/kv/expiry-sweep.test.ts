import { beforeEach, describe, expect, it } from 'vitest';
import type { SecretRef } from '../../src/kv/index.js';
import { HOUR, T0, events, put, useKv } from './helpers.js';

/**
 * KV's expiry sweep: `delete_version_after` expiries of the secrets a consumer follows become
 * ordinary `delete` events in the kv-events outbox, whether or not anybody reads the secrets.
 */
const t = useKv();
let followed: SecretRef[];
beforeEach(async () => {
  const accessor = t.server.core.mounts.get('secret/')!.accessor;
  followed = [{ mountAccessor: accessor, path: 'a' }, { mountAccessor: accessor, path: 'b' }, { mountAccessor: 'kv_gone', path: 'x' }];
  await t.call('POST', '/v1/secret/config', { body: { delete_version_after: '1h' } });
  for (const path of ['a', 'b', 'c']) await put(t, path, { v: 1 });
});

const sweep = () => t.server.kv.createExpirySweep(async () => followed);
const deletes = async () => (await events(t)).filter((e) => e.change === 'delete').map((e) => [e.path, e.at]);

describe('the KV expiry sweep', () => {
  it('reports each expiry of a followed secret once, as a delete event, and leaves other secrets alone', async () => {
    expect(await sweep().sweepOnce()).toBe(0);
    t.clock.advance(2 * HOUR);
    expect(await sweep().sweepOnce()).toBe(2);
    expect(await sweep().sweepOnce()).toBe(0);
    expect(await deletes()).toEqual([
      ['a', T0 + 2 * HOUR],
      ['b', T0 + 2 * HOUR],
    ]);
  });

  it('reads nothing while sealed', async () => {
    t.clock.advance(2 * HOUR);
    await t.call('PUT', '/v1/sys/seal', { body: null });
    expect(await sweep().sweepOnce()).toBe(0);
  });

  it('sweeps as soon as it is started, and stop waits for that sweep', async () => {
    t.clock.advance(2 * HOUR);
    const running = sweep();
    running.start();
    await running.stop();
    expect((await deletes()).map(([path]) => path)).toEqual(['a', 'b']);
  });
});
