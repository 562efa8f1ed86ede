import { beforeEach, describe, expect, it } from 'vitest';
import { emulatorDestination, useSyncServer } from '../support/sync.js';
import { SYNC_QUEUE } from '../../src/sync/model.js';
import { SimulatedCrash } from '../../src/sync/worker.js';

/**
 * Delivery rules of the sync worker, driven round by round (`drainOnce`) on a manual clock
 * shared with the emulator, against the emulator through the real SDK. No sleeps.
 */
let crashNext = false;
const t = useSyncServer({
  afterProviderCall: () => {
    if (crashNext) {
      crashNext = false;
      throw new SimulatedCrash('killed between the AWS call and recording its outcome');
    }
  },
});

beforeEach(async () => {
  crashNext = false;
  await t.call('POST', '/v1/sys/mounts/my-kv', { body: { type: 'kv-v2' } });
  await t.call('PUT', '/v1/sys/sync/destinations/aws-sm/d', { body: emulatorDestination(t.emu) });
});

const worker = () => t.server.sync.worker;
/** A new worker on the same store, as after a process restart, once the dead worker's lease has lapsed. */
const restartedWorker = () => {
  t.clock.advance(31_000);
  return t.server.sync.createWorker();
};
const put = (path: string, data: Record<string, unknown>) => t.call('PUT', `/v1/my-kv/data/${path}`, { body: { data } });
const associate = (secret: string, dest = 'd') =>
  t.call('PUT', `/v1/sys/sync/destinations/aws-sm/${dest}/associations/set`, { body: { mount: 'my-kv', secret_name: secret } });
const awsName = (secret: string) => `vault/${t.server.core.mounts.get('my-kv/')!.accessor}/${secret}`;
const awsWrites = () =>
  t.emu.requestLog().filter((e) => ['CreateSecret', 'PutSecretValue', 'UpdateSecret'].includes(e.operation) && e.status === 200);
async function drain(rounds = 5) {
  for (let i = 0; i < rounds; i++) await worker().drainOnce();
}
async function statuses(dest = 'd') {
  const res = await t.call('GET', `/v1/sys/sync/destinations/aws-sm/${dest}/associations`);
  return res.json().data.associated_secrets as Record<string, any>;
}

describe('sync delivery', () => {
  it('makes one AWS version, not two, when the worker dies between the AWS call and recording its outcome', async () => {
    await put('s', { v: '1' });
    await associate('s');
    crashNext = true;
    await expect(worker().drainOnce()).rejects.toBeInstanceOf(SimulatedCrash);
    expect(t.emu.getSecret('us-east-1', awsName('s'))!.versions).toHaveLength(1);
    const restarted = restartedWorker();
    await restarted.drainOnce();
    await restarted.drainOnce();
    const secret = t.emu.getSecret('us-east-1', awsName('s'))!;
    expect(secret.versions).toHaveLength(1);
    expect(Object.values(await statuses())[0].sync_status).toBe('SYNCED');
  });

  it('makes one AWS version after a metadata delete and re-create, crash included', async () => {
    await put('s', { v: '1' });
    await associate('s');
    await drain();
    await t.call('DELETE', '/v1/my-kv/metadata/s');
    t.clock.advance(1000);
    await drain();
    expect(t.emu.getSecret('us-east-1', awsName('s'))).toBeUndefined();
    await put('s', { v: 'again' });
    crashNext = true;
    await expect(drain()).rejects.toBeInstanceOf(SimulatedCrash);
    const restarted = restartedWorker();
    await restarted.drainOnce();
    await restarted.drainOnce();
    const secret = t.emu.getSecret('us-east-1', awsName('s'))!;
    expect(secret.versions).toHaveLength(1);
    expect(secret.versions[0]!.secretString).toBe('{"v":"again"}');
  });

  it('retries a write whose answer was lost with the same ClientRequestToken, so no second version appears', async () => {
    await put('s', { v: '1' });
    await associate('s');
    await drain();
    t.clock.advance(1000);
    t.emu.injectFault({ kind: 'reset', operation: 'UpdateSecret', applyBeforeReset: true, count: 1 });
    await put('s', { v: '2' });
    await drain(2);
    t.clock.advance(5_000);
    await drain(3);
    const secret = t.emu.getSecret('us-east-1', awsName('s'))!;
    expect(secret.versions).toHaveLength(2);
    const updates = t.emu.requestLog().filter((e) => e.operation === 'UpdateSecret');
    expect(updates.length).toBe(2);
    expect(new Set(updates.map((p) => p.clientRequestToken)).size).toBe(1);
    expect(Object.values(await statuses())[0].sync_status).toBe('SYNCED');
  });

  it('sends one UpdateSecret and nothing else for a steady-state update', async () => {
    await put('s', { v: '1' });
    await associate('s');
    await drain();
    t.clock.advance(1000);
    t.emu.clearRequestLog();
    await put('s', { v: '2' });
    await drain();
    expect(t.emu.requestLog().map((e) => e.operation)).toEqual(['UpdateSecret']);
  });

  it('coalesces a burst of writes to one secret into few AWS writes that end on the last value', async () => {
    await put('s', { n: 0 });
    await associate('s');
    await drain();
    for (let i = 1; i <= 200; i++) await put('s', { n: i });
    await drain();
    t.clock.advance(250);
    await drain();
    t.clock.advance(250);
    await drain();
    expect(awsWrites().length).toBeLessThanOrEqual(3);
    const secret = t.emu.getSecret('us-east-1', awsName('s'))!;
    expect(secret.versions.find((v) => v.stages.includes('AWSCURRENT'))!.secretString).toBe('{"n":200}');
  });

  it('commits nothing while changes wait out the write interval: the association record is rewritten by the write alone', async () => {
    await put('s', { n: 0 });
    await associate('s');
    await drain();
    const key = `sync/associations/aws-sm/d/${t.server.core.mounts.get('my-kv/')!.accessor}/s`;
    const revision = async () => (await t.server.core.store.get(key))!.revision;
    const before = await revision();
    // The clock stands still: every change falls within 250 ms of the first write, and each is deferred.
    for (let i = 1; i <= 5; i++) {
      await put('s', { n: i });
      await drain(1);
    }
    expect(awsWrites()).toHaveLength(1);
    expect(await revision()).toBe(before);
    t.clock.advance(1000);
    await drain();
    expect(await revision()).toBeGreaterThan(before);
    expect(t.emu.getSecret('us-east-1', awsName('s'))!.versions.find((v) => v.stages.includes('AWSCURRENT'))!.secretString).toBe('{"n":5}');
  });

  it('keeps one waiting outbox item for a secret written while its delivery waits: later changes join it, none is lost', async () => {
    await put('s', { n: 0 });
    await associate('s');
    await drain();
    const waiting = async () => (await t.server.core.store.pendingOutbox(SYNC_QUEUE)).length;
    // The clock stands still: the first change is claimed and deferred to the write interval; the others find it waiting.
    for (let i = 1; i <= 20; i++) {
      await put('s', { n: i });
      await drain(1);
    }
    expect(await waiting()).toBe(1);
    t.clock.advance(1000);
    await drain();
    expect(await waiting()).toBe(0);
    expect(awsWrites()).toHaveLength(2);
    expect(t.emu.getSecret('us-east-1', awsName('s'))!.versions.find((v) => v.stages.includes('AWSCURRENT'))!.secretString).toBe('{"n":20}');
  });

  it('pauses delivery while sys/sync/config is disabled, keeping the operations, and resumes after', async () => {
    await t.call('PATCH', '/v1/sys/sync/config', { body: { disabled: true }, headers: { 'content-type': 'application/merge-patch+json' } });
    await put('s', { v: '1' });
    await associate('s');
    await drain();
    expect(t.emu.getSecret('us-east-1', awsName('s'))).toBeUndefined();
    expect(Object.values(await statuses())[0].sync_status).toBe('PENDING');
    await t.call('PATCH', '/v1/sys/sync/config', { body: { disabled: false }, headers: { 'content-type': 'application/merge-patch+json' } });
    await drain();
    expect(t.emu.getSecret('us-east-1', awsName('s'))).toBeDefined();
  });

  it('syncs one AWS secret per top-level key with secret-key granularity and deletes the one of a removed key', async () => {
    await t.call('PUT', '/v1/sys/sync/destinations/aws-sm/k', {
      body: emulatorDestination(t.emu, { granularity: 'secret-key' }),
    });
    await put('db', { username: 'u', password: 'p', port: 5432 });
    await associate('db', 'k');
    await drain();
    const base = awsName('db');
    expect(t.emu.getSecret('us-east-1', `${base}/username`)!.versions[0]!.secretString).toBe('u');
    expect(t.emu.getSecret('us-east-1', `${base}/port`)!.versions[0]!.secretString).toBe('5432');
    t.clock.advance(1000);
    await put('db', { username: 'u', password: 'p2' });
    await drain();
    expect(t.emu.getSecret('us-east-1', `${base}/port`)).toBeUndefined();
    expect(t.emu.getSecret('us-east-1', `${base}/password`)!.versions.find((v) => v.stages.includes('AWSCURRENT'))!.secretString).toBe('p2');
    expect(Object.keys(await statuses('k')).sort()).toEqual([`${base.split('/')[1]}/db/password`, `${base.split('/')[1]}/db/username`]);
  });

  it('retries throttled writes with backoff and never fails an association because of throttling', async () => {
    t.emu.setQuota('CreateSecret', 2);
    for (let i = 0; i < 10; i++) {
      await put(`s${i}`, { i });
      await associate(`s${i}`);
    }
    for (let round = 0; round < 40; round++) {
      await worker().drainOnce();
      t.clock.advance(500);
      const all = Object.values(await statuses());
      if (all.every((s: any) => s.sync_status === 'SYNCED')) break;
    }
    const all = Object.values(await statuses());
    expect(all.every((s: any) => s.sync_status === 'SYNCED')).toBe(true);
    expect(t.emu.listSecretNames('us-east-1')).toHaveLength(10);
  });

  it('sends at most 20 calls at once to a destination whose AWS is slow; the others go as slots free, each once', async () => {
    const n = 45;
    // A budget whose burst (a quarter second's worth) is above the cap, so that the cap binds.
    await t.call('PATCH', '/v1/sys/sync/config', { body: { write_budget_per_second: 1000 }, headers: { 'content-type': 'application/merge-patch+json' } });
    for (let i = 0; i < n; i++) {
      await put(`slow${i}`, { i });
      await associate(`slow${i}`);
    }
    // Every CreateSecret waits 300 ms (real time) for its answer: one round's 45 deliveries overlap.
    t.emu.injectFault({ kind: 'latency', latencyMs: 300, operation: 'CreateSecret', count: n });
    const creates = () => t.emu.requestLog().filter((e) => e.operation === 'CreateSecret').length;
    await worker().drainOnce();
    expect(creates()).toBe(20);
    for (let round = 0; round < 30 && Object.values(await statuses()).some((s: any) => s.sync_status !== 'SYNCED'); round++) {
      t.clock.advance(1000);
      await worker().drainOnce();
    }
    expect(Object.values(await statuses()).every((s: any) => s.sync_status === 'SYNCED')).toBe(true);
    expect(creates()).toBe(n);
  });

  it('frees the in-flight slot of every call, whatever AWS answers: throttling and outages leave no slot held', async () => {
    const n = 14;
    for (let i = 0; i < n; i++) {
      await put(`f${i}`, { i });
      await associate(`f${i}`);
    }
    // 14 failed calls, more than the 10 slots: one slot kept by each would stop the destination for good.
    t.emu.injectFault({ kind: 'throttle', operation: 'CreateSecret', count: 7 });
    t.emu.injectFault({ kind: '500', operation: 'CreateSecret', count: 7 });
    for (let round = 0; round < 60 && Object.values(await statuses()).some((s: any) => s.sync_status !== 'SYNCED'); round++) {
      t.clock.advance(1000);
      await worker().drainOnce();
    }
    const failed = t.emu.requestLog().filter((e) => e.operation === 'CreateSecret' && e.status !== 200);
    expect(failed).toHaveLength(n);
    expect(Object.values(await statuses()).every((s: any) => s.sync_status === 'SYNCED')).toBe(true);
  });

  it('gives up on a call AWS does not answer within the 10 s request timeout (the SDK only warned), so it holds no slot', { timeout: 30_000 }, async () => {
    await put('stuck', { v: 1 });
    await associate('stuck');
    t.emu.injectFault({ kind: 'latency', latencyMs: 12_000, operation: 'CreateSecret', count: 1 });
    const started = Date.now();
    await worker().drainOnce();
    expect(Date.now() - started).toBeLessThan(11_500);
    const [s] = Object.values(await statuses());
    expect(s.last_error).toMatch(/ETIMEDOUT|TimeoutError/);
    // Retried once AWS answers again: the same request token, one version.
    for (let round = 0; round < 10 && (Object.values(await statuses())[0] as any).sync_status !== 'SYNCED'; round++) {
      t.clock.advance(2000);
      await worker().drainOnce();
    }
    expect((Object.values(await statuses())[0] as any).sync_status).toBe('SYNCED');
  });

  it('reports a final error on the association and re-queues it when the destination changes', async () => {
    await t.call('PUT', '/v1/sys/sync/destinations/aws-sm/bad', {
      body: { access_key_id: 'AKIAFERRYTEST0000002', secret_access_key: 'x', region: 'us-east-1', endpoint_url: t.emu.endpoint },
    });
    t.emu.mapAccessKey('AKIAFERRYTEST0000002', 'the-real-secret', '123456789012');
    await put('s', { v: '1' });
    await associate('s', 'bad');
    await drain();
    const [failed] = Object.values(await statuses('bad'));
    expect(failed.sync_status).toBe('CLIENT_SIDE_ERROR');
    expect(failed.last_error).toMatch(/InvalidSignatureException|SignatureDoesNotMatch|UnrecognizedClient/);
    expect(failed.last_error).not.toContain('the-real-secret');
    await t.call('PUT', '/v1/sys/sync/destinations/aws-sm/bad', { body: { secret_access_key: 'the-real-secret' } });
    t.clock.advance(1000);
    await drain();
    expect(Object.values(await statuses('bad'))[0].sync_status).toBe('SYNCED');
  });
});

describe('delete_version_after', () => {
  it('removes the AWS secret when the synced version expires, even if nobody reads it', async () => {
    await t.call('POST', '/v1/my-kv/metadata/exp', { body: { delete_version_after: '10m' } });
    await put('exp', { v: '1' });
    await associate('exp');
    await drain();
    expect(t.emu.getSecret('us-east-1', awsName('exp'))).toBeDefined();
    t.clock.advance(11 * 60_000);
    // KV's sweep reports the expiry nobody read as a delete event; the worker fans it out.
    expect(await t.server.expirySweep.sweepOnce()).toBe(1);
    await drain();
    expect(t.emu.getSecret('us-east-1', awsName('exp'))).toBeUndefined();
    expect(Object.values(await statuses())[0].sync_status).toBe('UNSYNCED');
  });
});

describe('races and repairs', () => {
  it('deletes the AWS secret of an association removed while its first write was in flight', async () => {
    await put('s', { v: '1' });
    await associate('s');
    // The hook runs after the AWS call and before the outcome is recorded: remove meanwhile.
    crashNext = false;
    const hooked = t.server.sync.createWorker({
      afterProviderCall: async () => {
        await t.call('PUT', '/v1/sys/sync/destinations/aws-sm/d/associations/remove', { body: { mount: 'my-kv', secret_name: 's' } });
      },
    });
    await hooked.drainOnce();
    expect(t.emu.getSecret('us-east-1', awsName('s'))).toBeDefined();
    t.clock.advance(1000);
    await drain();
    expect(t.emu.getSecret('us-east-1', awsName('s'))).toBeUndefined();
    expect(Object.keys(await statuses())).toHaveLength(0);
  });

  it('deletes the AWS secret when the worker died after writing it and the association was removed before restart', async () => {
    await put('s', { v: '1' });
    await associate('s');
    crashNext = true;
    await expect(worker().drainOnce()).rejects.toBeInstanceOf(SimulatedCrash);
    await t.call('PUT', '/v1/sys/sync/destinations/aws-sm/d/associations/remove', { body: { mount: 'my-kv', secret_name: 's' } });
    const restarted = restartedWorker();
    for (let i = 0; i < 3; i++) await restarted.drainOnce();
    expect(t.emu.getSecret('us-east-1', awsName('s'))).toBeUndefined();
  });

  it('leaves untagged secrets alone when removing an association that never synced', async () => {
    const { SecretsManagerClient, CreateSecretCommand } = await import('@aws-sdk/client-secrets-manager');
    const sm = new SecretsManagerClient({ region: 'us-east-1', endpoint: t.emu.endpoint, credentials: { accessKeyId: 'AKIAOTHERTEAM0000001', secretAccessKey: 'x' } });
    await sm.send(new CreateSecretCommand({ Name: awsName('s'), SecretString: 'theirs' }));
    await put('s', { v: '1' });
    await associate('s');
    await drain();
    await t.call('PUT', '/v1/sys/sync/destinations/aws-sm/d/associations/remove', { body: { mount: 'my-kv', secret_name: 's' } });
    t.clock.advance(1000);
    await drain();
    expect(t.emu.getSecret('us-east-1', awsName('s'))!.versions[0]!.secretString).toBe('theirs');
  });

  it('does not rewrite the keys of a secret-key secret whose values did not change', async () => {
    await t.call('PUT', '/v1/sys/sync/destinations/aws-sm/k', {
      body: emulatorDestination(t.emu, { granularity: 'secret-key' }),
    });
    await put('db', { a: '1', b: '2', c: '3' });
    await associate('db', 'k');
    await drain();
    t.clock.advance(1000);
    t.emu.clearRequestLog();
    await put('db', { a: '1', b: 'changed', c: '3' });
    await drain();
    const writes = t.emu.requestLog().filter((e) => e.operation === 'UpdateSecret');
    expect(writes).toHaveLength(1);
    expect(writes[0]!.secretId).toContain('/db/b');
    expect(Object.values(await statuses('k')).every((s: any) => s.sync_status === 'SYNCED')).toBe(true);
  });

  it('shows PENDING for a synced association whose secret changed while delivery is paused', async () => {
    await put('s', { v: '1' });
    await associate('s');
    await drain();
    await t.call('PATCH', '/v1/sys/sync/config', { body: { disabled: true }, headers: { 'content-type': 'application/merge-patch+json' } });
    await put('s', { v: '2' });
    await drain();
    expect(Object.values(await statuses())[0].sync_status).toBe('PENDING');
  });

  it('reports a purge that cannot finish and completes it once the credentials are fixed', async () => {
    t.emu.mapAccessKey('AKIAFERRYTEST0000003', 'real-secret', '123456789012');
    await t.call('PUT', '/v1/sys/sync/destinations/aws-sm/p', {
      body: { access_key_id: 'AKIAFERRYTEST0000003', secret_access_key: 'real-secret', region: 'us-east-1', endpoint_url: t.emu.endpoint },
    });
    await put('s', { v: '1' });
    await associate('s', 'p');
    await drain();
    await t.call('PATCH', '/v1/sys/sync/destinations/aws-sm/p', { body: { secret_access_key: 'wrong' }, headers: { 'content-type': 'application/merge-patch+json' } });
    expect((await t.call('DELETE', '/v1/sys/sync/destinations/aws-sm/p?purge=true')).statusCode).toBe(204);
    t.clock.advance(1000);
    await drain();
    const stuck = (await t.call('GET', '/v1/sys/sync/destinations/aws-sm/p')).json().data;
    expect(stuck.purge_initiated_at).toBeDefined();
    expect(stuck.purge_error).toMatch(/DeleteSecret|Signature|Unrecognized/);
    expect((await t.call('PATCH', '/v1/sys/sync/destinations/aws-sm/p', { body: { secret_access_key: 'real-secret' }, headers: { 'content-type': 'application/merge-patch+json' } })).statusCode).toBe(200);
    t.clock.advance(1000);
    await drain();
    expect(t.emu.getSecret('us-east-1', awsName('s'))).toBeUndefined();
    expect((await t.call('GET', '/v1/sys/sync/destinations/aws-sm/p')).statusCode).toBe(404);
  });
});

describe('tags', () => {
  it("syncs 48 custom tags beside Ferry's two: AWS's limit of 50", async () => {
    const custom = Object.fromEntries(Array.from({ length: 48 }, (_, i) => [`t${i}`, `v${i}`]));
    expect((await t.call('PUT', '/v1/sys/sync/destinations/aws-sm/tags', { body: emulatorDestination(t.emu, { custom_tags: custom }) })).statusCode).toBe(200);
    await put('s', { v: '1' });
    await associate('s', 'tags');
    await drain();
    expect(Object.values(await statuses('tags'))[0].sync_status).toBe('SYNCED');
    const tags = t.emu.getSecret('us-east-1', awsName('s'))!.tags;
    expect(tags).toHaveLength(50);
    expect(tags.map((tag) => tag.Key)).toEqual(expect.arrayContaining(['hashicorp:vault', 'ferry:owner', 't0', 't47']));
  });
});

describe('KMS key and replica regions', () => {
  it('applies kms_key_id and replica_regions on AWS, and a changed replica set later', async () => {
    const kms = 'arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555';
    await t.call('PUT', '/v1/sys/sync/destinations/aws-sm/r', {
      body: emulatorDestination(t.emu, { kms_key_id: kms, replica_regions: { 'us-west-2': '' }, custom_tags: { team: 'sre' } }),
    });
    await put('s', { v: '1' });
    await associate('s', 'r');
    await drain();
    const created = t.emu.getSecret('us-east-1', awsName('s'))!;
    expect(created.kmsKeyId).toBe(kms);
    expect(created.replicas).toEqual(['us-west-2']);
    expect(created.tags).toEqual(expect.arrayContaining([{ Key: 'hashicorp:vault', Value: '' }, { Key: 'team', Value: 'sre' }]));

    await t.call('PATCH', '/v1/sys/sync/destinations/aws-sm/r', {
      body: { replica_regions: { 'eu-west-1': '' }, custom_tags: { team: null, owner: 'platform' } },
      headers: { 'content-type': 'application/merge-patch+json' },
    });
    t.clock.advance(1000);
    await drain();
    const updated = t.emu.getSecret('us-east-1', awsName('s'))!;
    expect(updated.replicas!.sort()).toEqual(['eu-west-1', 'us-west-2']);
    expect(updated.tags).toEqual(expect.arrayContaining([{ Key: 'owner', Value: 'platform' }]));
    expect(updated.tags.find((t) => t.Key === 'team')).toBeUndefined();
    expect(updated.versions).toHaveLength(1);

    // Clearing the KMS key moves the secret back to AWS's default key, with one UpdateSecret.
    t.emu.clearRequestLog();
    await t.call('PATCH', '/v1/sys/sync/destinations/aws-sm/r', {
      body: { kms_key_id: null },
      headers: { 'content-type': 'application/merge-patch+json' },
    });
    t.clock.advance(1000);
    await drain();
    expect(t.emu.getSecret('us-east-1', awsName('s'))!.kmsKeyId ?? '').not.toBe(kms);
    expect(t.emu.requestLog().filter((e) => e.operation === 'UpdateSecret')).toHaveLength(1);
    // …which writes no value: still the one version.
    expect(t.emu.getSecret('us-east-1', awsName('s'))!.versions).toHaveLength(1);
  });
});
