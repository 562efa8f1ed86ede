import { beforeEach, describe, expect, it } from 'vitest';
import { SYNC_QUEUE } from '../../src/sync/model.js';
import { emulatorDestination, useSyncServer } from '../support/sync.js';

/**
 * Cold review (session 6): a KV change that finds its association's reconcile waiting
 * unclaimed appends nothing (`enqueue.joinWaiting`). Whatever made that reconcile wait — a
 * transient failure's backoff, a throttling answer, a parked destination — the change it
 * absorbed must still reach AWS once the wait is over.
 */
const t = useSyncServer();

beforeEach(async () => {
  await t.call('POST', '/v1/sys/mounts/my-kv', { body: { type: 'kv-v2' } });
  await t.call('PUT', '/v1/sys/sync/destinations/aws-sm/d', { body: emulatorDestination(t.emu) });
});

const put = (path: string, data: Record<string, unknown>) => t.call('PUT', `/v1/my-kv/data/${path}`, { body: { data } });
const associate = (secret: string) =>
  t.call('PUT', '/v1/sys/sync/destinations/aws-sm/d/associations/set', { body: { mount: 'my-kv', secret_name: secret } });
const awsName = (secret: string) => `vault/${t.server.core.mounts.get('my-kv/')!.accessor}/${secret}`;
const awsCurrent = (secret: string) => t.emu.getSecret('us-east-1', awsName(secret))?.versions.find((v) => v.stages.includes('AWSCURRENT'))?.secretString;
const waiting = async () => (await t.server.core.store.pendingOutbox(SYNC_QUEUE)).length;
const drain = async (rounds = 3) => {
  for (let i = 0; i < rounds; i++) await t.server.sync.worker.drainOnce();
};

describe('a KV change joining a reconcile that waits', () => {
  for (const fault of ['500', 'throttle'] as const) {
    it(`reaches AWS after the waiting reconcile's ${fault} answer is retried`, async () => {
      await put('s', { n: 1 });
      await associate('s');
      t.emu.injectFault({ kind: fault, operation: 'CreateSecret', count: 1 });
      await t.server.sync.worker.drainOnce();
      expect(awsCurrent('s')).toBeUndefined();
      expect(await waiting()).toBe(1);
      // Written while the failed reconcile waits for its retry: it joins it.
      await put('s', { n: 2 });
      await t.server.sync.worker.drainOnce();
      await put('s', { n: 3 });
      await t.server.sync.worker.drainOnce();
      for (let i = 0; i < 10 && (await waiting()) > 0; i++) {
        t.clock.advance(2_000);
        await drain();
      }
      expect(await waiting()).toBe(0);
      expect(awsCurrent('s')).toBe(JSON.stringify({ n: 3 }));
    });
  }

  it('reaches AWS after a parked destination is released', async () => {
    await put('s', { n: 1 });
    await associate('s');
    // 5xx answers for 5 s park the destination (AWS counts as unavailable).
    t.emu.injectFault({ kind: '500', untilMs: t.clock() + 5_000 });
    await t.server.sync.worker.drainOnce();
    await put('s', { n: 2 });
    await t.server.sync.worker.drainOnce();
    expect(awsCurrent('s')).toBeUndefined();
    for (let i = 0; i < 20 && (await waiting()) > 0; i++) {
      t.clock.advance(1_000);
      await drain();
    }
    expect(await waiting()).toBe(0);
    expect(awsCurrent('s')).toBe(JSON.stringify({ n: 2 }));
  });
});
