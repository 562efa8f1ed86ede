import { beforeEach, describe, expect, it } from 'vitest';
import { KV_EVENTS_QUEUE } from '../../src/kv/index.js';
import { emulatorDestination, useSyncServer } from '../support/sync.js';

/**
 * KV appends change events only for mounts sync watches (src/kv/events.ts, watch records),
 * once sync's records are at layout 3: writes of a mount without associations leave no outbox
 * row, and the first association of a mount makes its later changes reach AWS as before.
 */
const t = useSyncServer();

beforeEach(async () => {
  await t.call('POST', '/v1/sys/mounts/my-kv', { body: { type: 'kv-v2' } });
  await t.call('POST', '/v1/sys/mounts/other-kv', { body: { type: 'kv-v2' } });
  await t.call('PUT', '/v1/sys/sync/destinations/aws-sm/d', { body: emulatorDestination(t.emu) });
});

const put = (mount: string, path: string, data: Record<string, unknown>) => t.call('PUT', `/v1/${mount}/data/${path}`, { body: { data } });
const associate = (secret: string) =>
  t.call('PUT', '/v1/sys/sync/destinations/aws-sm/d/associations/set', { body: { mount: 'my-kv', secret_name: secret } });
const awsName = (secret: string) => `vault/${t.server.core.mounts.get('my-kv/')!.accessor}/${secret}`;
const pendingEvents = async () => (await t.server.core.store.pendingOutbox(KV_EVENTS_QUEUE)).length;
async function drain(rounds = 4) {
  for (let i = 0; i < rounds; i++) await t.server.sync.worker.drainOnce();
}

describe('KV change events of watched mounts only', () => {
  it('a mount without associations appends no event; its first association makes later writes reach AWS; other mounts stay quiet', async () => {
    await drain(1); // the worker's first round brings sync's records to layout 3
    expect((await put('my-kv', 's', { v: '1' })).statusCode).toBe(200);
    expect((await put('other-kv', 'x', { v: '1' })).statusCode).toBe(200);
    expect(await pendingEvents()).toBe(0);

    expect((await associate('s')).statusCode).toBe(200);
    await drain();
    expect(t.emu.getSecret('us-east-1', awsName('s'))!.versions.at(-1)!.secretString).toBe('{"v":"1"}');

    await Promise.all([put('my-kv', 's', { v: '2' }), put('other-kv', 'x', { v: '2' })]);
    expect(await pendingEvents()).toBe(1);
    t.clock.advance(1000);
    await drain();
    expect(t.emu.getSecret('us-east-1', awsName('s'))!.versions.at(-1)!.secretString).toBe('{"v":"2"}');
  });
});
