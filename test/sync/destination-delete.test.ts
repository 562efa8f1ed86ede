import { beforeEach, describe, expect, it } from 'vitest';
import { waitUntil } from '../support/process.js';
import { syncIdentity, useSyncScenario, type SyncScenario } from '../support/sync.js';

/**
 * `terraform destroy` removes an association, then deletes its destination, one request right
 * after the other; the removal is still on its way to AWS when the delete arrives.
 */
async function setUp(s: SyncScenario): Promise<void> {
  expect((await s.cli('POST', 'sys/mounts/my-kv', { type: 'kv-v2' })).status).toBe(204);
  expect((await s.createDestination('dest')).status).toBe(200);
}

const awsName = (s: SyncScenario, secret: string) => `vault/${s.server.core.mounts.get('my-kv/')!.accessor}/${secret}`;

async function associated(s: SyncScenario, secret: string): Promise<void> {
  expect((await s.cli('PUT', `my-kv/data/${secret}`, { data: { v: secret } })).status).toBe(200);
  expect((await s.cli('PUT', 'sys/sync/destinations/aws-sm/dest/associations/set', { mount: 'my-kv', secret_name: secret })).status).toBe(200);
}

const statuses = async (s: SyncScenario) =>
  Object.values<any>((await s.cli('GET', 'sys/sync/destinations/aws-sm/dest/associations')).body.data.associated_secrets).map((a) => a.sync_status);

const remove = (s: SyncScenario, secret: string) =>
  s.cli('PUT', 'sys/sync/destinations/aws-sm/dest/associations/remove', { mount: 'my-kv', secret_name: secret });

describe('deleting a destination right after removing its last association, the worker running', () => {
  const s = useSyncScenario('running');
  beforeEach(() => setUp(s));

  it('succeeds: the delete waits for the removal, which reaches AWS first', async () => {
    await associated(s, 'app');
    await waitUntil('the association SYNCED', async () => (await statuses(s))[0] === 'SYNCED');
    expect(s.emu.getSecret('us-east-1', awsName(s, 'app'))).toBeDefined();

    expect((await remove(s, 'app')).status).toBe(200);
    const deleted = await s.cli('DELETE', 'sys/sync/destinations/aws-sm/dest');
    expect(deleted.status).toBe(204);
    expect(s.emu.getSecret('us-east-1', awsName(s, 'app'))).toBeUndefined();
    expect((await s.cli('GET', 'sys/sync/destinations/aws-sm/dest')).status).toBe(404);
  });
});

describe('deleting a destination right after removing an association, the worker driven by the test', () => {
  const s = useSyncScenario('drained');
  beforeEach(() => setUp(s));

  it('is woken by the removal itself: a delete already waiting finishes when the worker delivers the removal', async () => {
    await associated(s, 'app');
    await s.server.sync.worker.drainOnce();
    expect(await statuses(s)).toEqual(['SYNCED']);
    expect((await remove(s, 'app')).status).toBe(200);
    const deleting = s.cli('DELETE', 'sys/sync/destinations/aws-sm/dest');
    await s.server.sync.worker.drainOnce();
    expect((await deleting).status).toBe(204);
    expect(s.emu.getSecret('us-east-1', awsName(s, 'app'))).toBeUndefined();
  });

  it('is still refused when an association remains that is not being removed', async () => {
    await associated(s, 'app');
    await associated(s, 'other');
    await s.server.sync.worker.drainOnce();
    expect((await remove(s, 'app')).status).toBe(200);
    const refused = await s.cli('DELETE', 'sys/sync/destinations/aws-sm/dest');
    expect(refused.status).toBe(400);
    expect(refused.body.errors[0]).toMatch(/^destination "aws-sm\/dest" still has 2 association\(s\)/);
    // Once the removal is through, one remains, and the delete is still refused.
    await s.server.sync.worker.drainOnce();
    const again = await s.cli('DELETE', 'sys/sync/destinations/aws-sm/dest');
    expect(again.status).toBe(400);
    expect(again.body.errors[0]).toMatch(/still has 1 association\(s\)/);
    expect(s.emu.getSecret('us-east-1', awsName(s, 'other'))).toBeDefined();
  });

  it('does not wait on a removal that failed: it is refused at once', async () => {
    await associated(s, 'app');
    await s.server.sync.worker.drainOnce();
    // Keys AWS does not know: the unsync's DeleteSecret fails for good.
    const patched = await s.cli('PUT', 'sys/sync/destinations/aws-sm/dest', { access_key_id: 'BADKEY00000000000001' });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    await s.server.sync.worker.drainOnce();
    expect((await remove(s, 'app')).status).toBe(200);
    await s.server.sync.worker.drainOnce();
    expect(await statuses(s)).toEqual(['CLIENT_SIDE_ERROR']);
    const refused = await s.cli('DELETE', 'sys/sync/destinations/aws-sm/dest');
    expect(refused.status).toBe(400);
    expect(refused.body.errors[0]).toMatch(/still has 1 association\(s\)/);
  });

  it('a destination deleted and created again under the same name uses its new credentials, never the old cached client', async () => {
    await associated(s, 'app');
    await s.server.sync.worker.drainOnce();
    expect((await remove(s, 'app')).status).toBe(200);
    await s.server.sync.worker.drainOnce();
    expect((await s.cli('DELETE', 'sys/sync/destinations/aws-sm/dest')).status).toBe(204);
    // The new one starts again at generation 1, as the old one did.
    const { keys } = syncIdentity(s.emu, 'second-owner', {});
    expect((await s.createDestination('dest', keys)).status).toBe(200);
    await associated(s, 'next');
    await s.server.sync.worker.drainOnce();
    expect(await statuses(s)).toEqual(['SYNCED']);
    const creates = s.emu.requestLog({ operation: 'CreateSecret' });
    expect(creates.map((e) => e.accessKeyId)).toEqual(['AKIAFERRYTEST0000001', keys.access_key_id]);
  });
});
