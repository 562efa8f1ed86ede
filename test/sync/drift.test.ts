import { CreateSecretCommand, DeleteSecretCommand, PutSecretValueCommand, TagResourceCommand, UntagResourceCommand } from '@aws-sdk/client-secrets-manager';
import { beforeEach, describe, expect, it } from 'vitest';
import { guidePolicies } from '../support/aws-emulator/index.js';
import { Scrape } from '../support/prometheus.js';
import { emulatorDestination, outOfBandClient, syncIdentity, useSyncServer } from '../support/sync.js';

/**
 * Drift repair: each `reconcile_interval` a pass lists the destination's secrets, confirms each
 * suspect with DescribeSecret, and the ordinary delivery undoes what changed out of band. The
 * passes are driven by the worker's rounds (`drainOnce`) on a manual clock shared with the
 * emulator, so "the next pass" is exactly one interval later.
 */
const t = useSyncServer();
const INTERVAL_S = 60;

beforeEach(async () => {
  await t.call('POST', '/v1/sys/mounts/my-kv', { body: { type: 'kv-v2' } });
  await t.call('PUT', '/v1/sys/sync/destinations/aws-sm/d', { body: emulatorDestination(t.emu, { custom_tags: { team: 'payments' } }) });
  await t.call('PATCH', '/v1/sys/sync/config', {
    body: { reconcile_interval: `${INTERVAL_S}s` },
    headers: { 'content-type': 'application/merge-patch+json' },
  });
});

const drain = async (rounds = 3) => {
  for (let i = 0; i < rounds; i++) await t.server.sync.worker.drainOnce();
};
/** Moves to the next pass and runs it, then delivers what it queued. */
const nextPass = async () => {
  t.clock.advance(INTERVAL_S * 1000);
  await drain();
};
const put = (path: string, data: Record<string, unknown>) => t.call('PUT', `/v1/my-kv/data/${path}`, { body: { data } });
const associate = (secret: string, dest = 'd') =>
  t.call('PUT', `/v1/sys/sync/destinations/aws-sm/${dest}/associations/set`, { body: { mount: 'my-kv', secret_name: secret } });
const awsName = (secret: string) => `vault/${t.server.core.mounts.get('my-kv/')!.accessor}/${secret}`;
const inAws = (secret: string) => t.emu.getSecret('us-east-1', awsName(secret));
const current = (secret: string) => inAws(secret)?.versions.find((v) => v.stages.includes('AWSCURRENT'))?.secretString;
const tags = (secret: string) => Object.fromEntries((inAws(secret)?.tags ?? []).map((x) => [x.Key, x.Value]));
async function entry(secret: string, dest = 'd'): Promise<any> {
  const res = await t.call('GET', `/v1/sys/sync/destinations/aws-sm/${dest}/associations`);
  return Object.values<any>(res.json().data.associated_secrets).find((e) => e.secret_name === secret);
}
const summary = async (dest = 'd') => (await t.call('GET', `/v1/sys/sync/destinations/aws-sm/${dest}/status`)).json().data;
async function repairs(kind: string, dest = 'd'): Promise<number> {
  const m = new Scrape((await t.call('GET', '/v1/sys/metrics?format=prometheus')).body);
  return m.value('ferry_sync_drift_repairs_total', { destination: dest, kind });
}
async function synced(secret: string, data: Record<string, unknown>) {
  await put(secret, data);
  await associate(secret);
  await drain();
  expect(current(secret)).toBe(JSON.stringify(data));
}

describe('drift repair', () => {
  it('undoes an out-of-band value change at the next pass, with one new AWS version, counted on the association and in metrics', async () => {
    await synced('app', { v: 1 });
    const versionsBefore = inAws('app')!.versions.length;
    await outOfBandClient(t.emu).send(new PutSecretValueCommand({ SecretId: awsName('app'), SecretString: 'changed by hand' }));
    // Not before the pass is due.
    t.clock.advance(INTERVAL_S * 1000 - 1);
    await drain();
    expect(current('app')).toBe('changed by hand');
    t.clock.advance(1);
    await drain();
    expect(current('app')).toBe('{"v":1}');
    expect(inAws('app')!.versions.length).toBe(versionsBefore + 2);
    expect(await entry('app')).toMatchObject({ sync_status: 'SYNCED', drift_repairs: 1, last_repaired_at: new Date(t.clock()).toISOString() });
    expect(await repairs('value')).toBe(1);
    expect((await summary()).drift_repair).toMatchObject({ state: 'on', interval_seconds: INTERVAL_S, last_pass: { checked: 1, suspects: 1, confirmed: 1 }, repairs_queued: 1 });
    // The pass after finds nothing: the repair write is what Ferry expects now.
    t.emu.clearRequestLog();
    await nextPass();
    expect(t.emu.requestLog().map((e) => e.operation)).toEqual(['ListSecrets']);
    expect(await repairs('value')).toBe(1);
    // A second tampering is repaired with another version (another request token).
    await outOfBandClient(t.emu).send(new PutSecretValueCommand({ SecretId: awsName('app'), SecretString: 'again by hand' }));
    await nextPass();
    expect(current('app')).toBe('{"v":1}');
    expect(await repairs('value')).toBe(2);
  });

  it('creates again a secret force-deleted out of band, and restores one scheduled for deletion', async () => {
    await synced('gone', { g: 1 });
    await synced('scheduled', { s: 1 });
    const sm = outOfBandClient(t.emu);
    await sm.send(new DeleteSecretCommand({ SecretId: awsName('gone'), ForceDeleteWithoutRecovery: true }));
    await sm.send(new DeleteSecretCommand({ SecretId: awsName('scheduled'), RecoveryWindowInDays: 7 }));
    await nextPass();
    expect(current('gone')).toBe('{"g":1}');
    expect(current('scheduled')).toBe('{"s":1}');
    expect(inAws('scheduled')!.deletedDate).toBeUndefined();
    // Restored with its version kept, then written once more (a drift repair always writes its value).
    expect(inAws('scheduled')!.versions.map((v) => v.secretString)).toEqual(['{"s":1}', '{"s":1}']);
    expect(t.emu.requestLog({ operation: 'RestoreSecret' })).toHaveLength(1);
    expect(await repairs('deleted')).toBe(2);
    expect((await entry('gone')).drift_repairs).toBe(1);
  });

  it("puts back Ferry's tags changed or removed out of band, leaving others' tags alone", async () => {
    await synced('app', { v: 1 });
    const sm = outOfBandClient(t.emu);
    await sm.send(new TagResourceCommand({ SecretId: awsName('app'), Tags: [{ Key: 'team', Value: 'someone-else' }, { Key: 'owner', Value: 'ops' }] }));
    await sm.send(new UntagResourceCommand({ SecretId: awsName('app'), TagKeys: ['hashicorp:vault'] }));
    const versionsBefore = inAws('app')!.versions.length;
    await nextPass();
    expect(tags('app')).toMatchObject({ team: 'payments', 'hashicorp:vault': '', owner: 'ops' });
    expect(inAws('app')!.versions.length).toBe(versionsBefore);
    expect(await repairs('tags')).toBe(1);
  });

  it('never writes a secret someone else created at the name of one force-deleted out of band', async () => {
    await synced('app', { v: 1 });
    const sm = outOfBandClient(t.emu);
    await sm.send(new DeleteSecretCommand({ SecretId: awsName('app'), ForceDeleteWithoutRecovery: true }));
    await sm.send(new CreateSecretCommand({ Name: awsName('app'), SecretString: 'theirs' }));
    await nextPass();
    t.clock.advance(1000);
    await drain();
    expect(inAws('app')!.versions.map((v) => v.secretString)).toEqual(['theirs']);
    expect(await entry('app')).toMatchObject({ sync_status: 'CLIENT_SIDE_ERROR', last_error: expect.stringContaining(awsName('app')) });
  });

  it('repairs nothing on a stale listing: every suspect is confirmed with DescribeSecret first', async () => {
    t.emu.setLags({ listingLagMs: 10 * 60_000 });
    await synced('app', { v: 1 });
    t.clock.advance(1000);
    await put('app', { v: 2 });
    await drain();
    await synced('fresh', { f: 1 });
    t.emu.clearRequestLog();
    await nextPass();
    // The listing still shows the old version of one and no trace of the other: both suspects, neither changed.
    expect((await summary()).drift_repair.last_pass).toEqual({ checked: 2, suspects: 2, confirmed: 0 });
    expect(t.emu.requestLog().map((e) => e.operation).sort()).toEqual(['DescribeSecret', 'DescribeSecret', 'ListSecrets']);
    expect(current('app')).toBe('{"v":2}');
    expect(inAws('app')!.versions).toHaveLength(2);
    expect(await repairs('value')).toBe(0);
    expect(await repairs('deleted')).toBe(0);
  });

  it('reports itself off under the guide\'s minimal IAM policy, naming the permission it lacks, and goes on syncing', async () => {
    const { keys } = syncIdentity(t.emu, 'sync-minimal', { minimal: guidePolicies.MINIMAL });
    await t.call('PUT', '/v1/sys/sync/destinations/aws-sm/min', { body: emulatorDestination(t.emu, keys) });
    await put('app', { v: 1 });
    await associate('app', 'min');
    await drain();
    await nextPass();
    const drift = (await summary('min')).drift_repair;
    expect(drift).toMatchObject({ state: 'unavailable', missing_permission: 'secretsmanager:ListSecrets' });
    const dest = (await t.call('GET', '/v1/sys/sync/destinations/aws-sm/min')).json().data;
    expect(dest.missing_permissions['secretsmanager:ListSecrets']).toMatch(/drift repair is off/);
    expect((await entry('app', 'min')).sync_status).toBe('SYNCED');
    await put('app', { v: 2 });
    await drain();
    expect(current('app')).toBe('{"v":2}');
  });

  it("does not take Ferry's own write, made in AWS but not yet recorded, for drift; the secret stays watched", async () => {
    await synced('app', { v: 1 });
    t.clock.advance(1000);
    await put('app', { v: 2 });
    t.clock.advance(INTERVAL_S * 1000);
    // A delivery whose UpdateSecret has been answered but whose outcome is not recorded yet,
    // while the main worker's pass, due now, lists and describes the secret.
    let passed = false;
    const delivering = t.server.sync.createWorker({
      afterProviderCall: async () => {
        if (passed) return;
        passed = true;
        await t.server.sync.worker.drainOnce();
      },
    });
    await delivering.drainOnce();
    expect(passed).toBe(true);
    t.clock.advance(1000);
    await drain();
    expect(current('app')).toBe('{"v":2}');
    expect(inAws('app')!.versions).toHaveLength(2);
    expect((await summary()).drift_repair.last_pass.confirmed).toBe(0);
    expect(await entry('app')).not.toHaveProperty('drift_repairs');
    // Still compared at every pass: a later out-of-band change is undone.
    await outOfBandClient(t.emu).send(new PutSecretValueCommand({ SecretId: awsName('app'), SecretString: 'changed by hand' }));
    await nextPass();
    expect(current('app')).toBe('{"v":2}');
    expect(await repairs('value')).toBe(1);
  });

  it('refuses a reconcile_interval beyond the longest Go duration with a 400, and the summary of the longest one answers', async () => {
    const patch = (reconcile_interval: unknown) =>
      t.call('PATCH', '/v1/sys/sync/config', { body: { reconcile_interval }, headers: { 'content-type': 'application/merge-patch+json' } });
    for (const tooLong of ['2562048h', 9_223_372_037, '100000000000000s']) {
      const res = await patch(tooLong);
      expect(res.statusCode, String(tooLong)).toBe(400);
      expect(res.json().errors[0]).toMatch(/reconcile_interval/);
    }
    expect((await t.call('GET', '/v1/sys/sync/config')).json().data.reconcile_interval).toBe(INTERVAL_S);
    expect((await patch('2562047h')).json().data.reconcile_interval).toBe(2562047 * 3600);
    await synced('app', { v: 1 });
    const res = await t.call('GET', '/v1/sys/sync/destinations/aws-sm/d/status');
    expect(res.statusCode, res.body).toBe(200);
    expect(Date.parse(res.json().data.drift_repair.next_pass_at)).toBeGreaterThan(t.clock());
  });

  it("forgets a deleted destination's state: one re-created under its name, now allowed to list, does not report drift repair unavailable", async () => {
    const { keys } = syncIdentity(t.emu, 'sync-minimal', { minimal: guidePolicies.MINIMAL });
    await t.call('PUT', '/v1/sys/sync/destinations/aws-sm/min', { body: emulatorDestination(t.emu, keys) });
    await put('app', { v: 1 });
    await associate('app', 'min');
    await drain();
    await nextPass();
    expect((await summary('min')).drift_repair.state).toBe('unavailable');
    await t.call('PUT', '/v1/sys/sync/destinations/aws-sm/min/associations/remove', { body: { mount: 'my-kv', secret_name: 'app' } });
    await drain();
    expect((await t.call('DELETE', '/v1/sys/sync/destinations/aws-sm/min')).statusCode).toBe(204);
    await drain(1);
    await t.call('PUT', '/v1/sys/sync/destinations/aws-sm/min', { body: emulatorDestination(t.emu) });
    expect((await summary('min')).drift_repair).toMatchObject({ state: 'on', repairs_queued: 0 });
    expect((await summary('min')).drift_repair).not.toHaveProperty('missing_permission');
    expect((await summary('min')).drift_repair).not.toHaveProperty('last_pass');
  });

  it('makes no call at all with reconcile_interval 0', async () => {
    await t.call('PATCH', '/v1/sys/sync/config', { body: { reconcile_interval: 0 }, headers: { 'content-type': 'application/merge-patch+json' } });
    await synced('app', { v: 1 });
    t.emu.clearRequestLog();
    t.clock.advance(3600_000);
    await drain();
    expect(t.emu.requestLog()).toEqual([]);
    expect((await summary()).drift_repair).toMatchObject({ state: 'off', interval_seconds: 0 });
  });
});
