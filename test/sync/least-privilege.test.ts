import { CreateSecretCommand, PutSecretValueCommand, TagResourceCommand } from '@aws-sdk/client-secrets-manager';
import { beforeEach, describe, expect, it } from 'vitest';
import { guidePolicies } from '../support/aws-emulator/index.js';
import { GUIDE_ACTIONS, emulatorDestination, outOfBandClient, syncIdentity, useSyncServer } from '../support/sync.js';

/**
 * The policy suites: Ferry's sync under the identity policies of Vault's secrets-sync guide,
 * enforced by the emulator (an IAM user holding only that policy; the destination uses its
 * keys), driven round by round (`drainOnce`) on the clock Ferry and the emulator share.
 * (a) the minimal policy: Create*, Update*, Delete*, TagResource on secret:vault*;
 * (b) the tag-conditioned pair: CreateSecret/TagResource on secret:vault*, everything else only
 * on secrets tagged hashicorp:vault, and an out-of-band writer kept off them.
 */
const t = useSyncServer();

const put = (path: string, data: Record<string, unknown>) => t.call('PUT', `/v1/my-kv/data/${path}`, { body: { data } });
const associate = (secret: string, dest = 'd') =>
  t.call('PUT', `/v1/sys/sync/destinations/aws-sm/${dest}/associations/set`, { body: { mount: 'my-kv', secret_name: secret } });
const removeAssociation = (secret: string, dest = 'd') =>
  t.call('PUT', `/v1/sys/sync/destinations/aws-sm/${dest}/associations/remove`, { body: { mount: 'my-kv', secret_name: secret } });
const awsName = (secret: string) => `vault/${t.server.core.mounts.get('my-kv/')!.accessor}/${secret}`;
const inAws = (secret: string) => t.emu.getSecret('us-east-1', awsName(secret));
const current = (secret: string) => inAws(secret)?.versions.find((v) => v.stages.includes('AWSCURRENT'))?.secretString;

/** Delivery rounds, each after moving the clock past the minimum write interval and any backoff. */
async function deliver(rounds = 3) {
  for (let i = 0; i < rounds; i++) {
    t.clock.advance(1_000);
    await t.server.sync.worker.drainOnce();
  }
}
async function statusOf(secret: string, dest = 'd') {
  const res = await t.call('GET', `/v1/sys/sync/destinations/aws-sm/${dest}/associations`);
  return (res.json().data.associated_secrets as Record<string, any>)[`${t.server.core.mounts.get('my-kv/')!.accessor}/${secret}`];
}
const destination = async (dest = 'd') => (await t.call('GET', `/v1/sys/sync/destinations/aws-sm/${dest}`)).json().data;

/** Creates destination `d` acting as a new IAM user that holds `policies`; answers the user's ARN. */
async function destinationAs(policies: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<string> {
  const { arn, keys } = syncIdentity(t.emu, 'ferry-sync', policies);
  const res = await t.call('PUT', '/v1/sys/sync/destinations/aws-sm/d', { body: emulatorDestination(t.emu, { ...keys, ...extra }) });
  expect(res.statusCode).toBe(200);
  return arn;
}

beforeEach(async () => {
  await t.call('POST', '/v1/sys/mounts/my-kv', { body: { type: 'kv-v2' } });
});

describe("under the guide's minimal policy", () => {
  it('creates, updates, soft-deletes, undeletes, updates again, removes an association and purges the destination with only Create*, Update*, Delete* and TagResource, never denied', async () => {
    const user = await destinationAs({ minimal: guidePolicies.MINIMAL });
    // A force-deleted name stays taken while AWS purges it: the undelete below meets that.
    t.emu.setLags({ purgeLagMs: 5_000 });

    await put('app', { password: 'v1' });
    await put('other', { token: 'o1' });
    await associate('app');
    await associate('other');
    await deliver();
    expect(current('app')).toBe('{"password":"v1"}');
    expect(current('other')).toBe('{"token":"o1"}');
    expect((await statusOf('app')).sync_status).toBe('SYNCED');

    await put('app', { password: 'v2' });
    await deliver();
    expect(current('app')).toBe('{"password":"v2"}');
    expect(inAws('app')!.versions).toHaveLength(2);

    expect((await t.call('DELETE', '/v1/my-kv/data/app')).statusCode).toBe(204);
    await deliver(1);
    expect(inAws('app')).toBeUndefined();
    expect((await statusOf('app')).sync_status).toBe('UNSYNCED');

    // Undelete at once: CreateSecret meets the name still being purged, and is retried with backoff.
    expect((await t.call('PUT', '/v1/my-kv/undelete/app', { body: { versions: [2] } })).statusCode).toBe(204);
    await t.server.sync.worker.drainOnce();
    expect(inAws('app')).toBeUndefined();
    expect(t.emu.requestLog({ operation: 'CreateSecret', errorCode: 'InvalidRequestException' })).toHaveLength(1);
    t.clock.advance(5_000);
    await deliver();
    expect(current('app')).toBe('{"password":"v2"}');
    expect((await statusOf('app')).sync_status).toBe('SYNCED');

    await put('app', { password: 'v3' });
    await deliver();
    expect(current('app')).toBe('{"password":"v3"}');

    expect((await removeAssociation('other')).statusCode).toBe(200);
    await deliver();
    expect(inAws('other')).toBeUndefined();
    expect(await statusOf('other')).toBeUndefined();

    expect((await t.call('DELETE', '/v1/sys/sync/destinations/aws-sm/d?purge=true')).statusCode).toBe(204);
    await deliver();
    expect(inAws('app')).toBeUndefined();
    expect((await t.call('GET', '/v1/sys/sync/destinations/aws-sm/d')).statusCode).toBe(404);

    const calls = t.emu.requestLog({ service: 'secretsmanager' });
    expect(new Set(calls.map((e) => e.operation))).toEqual(new Set(['CreateSecret', 'UpdateSecret', 'DeleteSecret']));
    expect(calls.every((e) => e.principalArn === user)).toBe(true);
    expect(t.emu.requestLog({ service: 'secretsmanager', notAction: GUIDE_ACTIONS })).toEqual([]);
    expect(t.emu.requestLog({ decision: 'denied' })).toEqual([]);
  });

  it('applies custom tags and a KMS key with TagResource and UpdateSecret, and syncs each key of a secret-key secret', async () => {
    const kms = 'arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555';
    await destinationAs({ minimal: guidePolicies.MINIMAL }, { granularity: 'secret-key', custom_tags: { team: 'sre' } });
    await put('db', { username: 'u', password: 'p' });
    await associate('db');
    await deliver();
    expect(t.emu.getSecret('us-east-1', `${awsName('db')}/password`)!.versions[0]!.secretString).toBe('p');

    await t.call('PATCH', '/v1/sys/sync/destinations/aws-sm/d', {
      body: { kms_key_id: kms, custom_tags: { owner: 'platform' } },
      headers: { 'content-type': 'application/merge-patch+json' },
    });
    await put('db', { username: 'u', password: 'p2' });
    await deliver();
    const password = t.emu.getSecret('us-east-1', `${awsName('db')}/password`)!;
    expect(password.kmsKeyId).toBe(kms);
    expect(password.tags).toEqual(expect.arrayContaining([{ Key: 'team', Value: 'sre' }, { Key: 'owner', Value: 'platform' }]));
    expect(password.versions.find((v) => v.stages.includes('AWSCURRENT'))!.secretString).toBe('p2');

    expect(t.emu.requestLog({ service: 'secretsmanager', notAction: GUIDE_ACTIONS })).toEqual([]);
    expect(t.emu.requestLog({ decision: 'denied' })).toEqual([]);
  });
});

describe('under the tag-conditioned pair', () => {
  it("syncs Ferry's own secrets, leaves a pre-existing untagged secret untouched and says why, and keeps the out-of-band writer off tagged secrets", async () => {
    const user = await destinationAs({ sync: guidePolicies.TAG_CONDITIONED_SYNC });
    const admin = outOfBandClient(t.emu);
    await admin.send(new CreateSecretCommand({ Name: awsName('theirs'), SecretString: 'their value' }));

    await put('app', { password: 'v1' });
    await put('theirs', { password: 'ours' });
    await associate('app');
    await associate('theirs');
    await deliver();
    expect(current('app')).toBe('{"password":"v1"}');
    expect((await statusOf('app')).sync_status).toBe('SYNCED');

    // Left untouched, and the association says why.
    const refused = await statusOf('theirs');
    expect(refused.sync_status).toBe('CLIENT_SIDE_ERROR');
    expect(refused.last_error).toBe(
      `a secret named "${awsName('theirs')}" already exists in AWS Secrets Manager and Ferry has no record of creating it; ` +
        'Ferry does not overwrite secrets it did not create (AWS denied secretsmanager:DescribeSecret, so its tags could not be checked)',
    );
    const theirs = inAws('theirs')!;
    expect(theirs.versions.map((v) => v.secretString)).toEqual(['their value']);
    expect(theirs.tags).toEqual([]);
    // The destination reports the missing permission once; a refused target is not retried.
    expect((await destination()).missing_permissions).toEqual({
      'secretsmanager:DescribeSecret':
        'a secret found at a target name that Ferry has no record of creating is never written, since its tags cannot be checked',
    });
    await deliver(5);
    expect(t.emu.requestLog({ operation: 'DescribeSecret' })).toHaveLength(1);

    // Ferry's own secret keeps syncing: update, soft delete, undelete, association removal.
    await put('app', { password: 'v2' });
    await deliver();
    expect(current('app')).toBe('{"password":"v2"}');
    await t.call('DELETE', '/v1/my-kv/data/app');
    await deliver();
    expect(inAws('app')).toBeUndefined();
    await t.call('PUT', '/v1/my-kv/undelete/app', { body: { versions: [2] } });
    await deliver();
    expect(current('app')).toBe('{"password":"v2"}');
    await removeAssociation('app');
    await deliver();
    expect(inAws('app')).toBeUndefined();
    const ferryCalls = t.emu.requestLog({ principalArn: user, decision: 'denied' });
    expect(ferryCalls.map((e) => e.operation)).toEqual(['DescribeSecret']);

    // The out-of-band writer: every secret allowed, minus a Deny of those tagged hashicorp:vault.
    await associate('app');
    await deliver();
    const writer = syncIdentity(t.emu, 'deploy-bot', { all: guidePolicies.ALLOW_ALL_SECRETS, keepOff: guidePolicies.OUT_OF_BAND_DENY });
    const bot = outOfBandClient(t.emu, { accessKeyId: writer.keys.access_key_id, secretAccessKey: writer.keys.secret_access_key });
    await expect(
      bot.send(new PutSecretValueCommand({ SecretId: awsName('app'), SecretString: 'tampered', ClientRequestToken: 'c'.repeat(36) })),
    ).rejects.toMatchObject({ name: 'AccessDeniedException', message: expect.stringContaining('with an explicit deny') });
    await expect(bot.send(new TagResourceCommand({ SecretId: awsName('app'), Tags: [{ Key: 'x', Value: 'y' }] }))).rejects.toMatchObject({
      name: 'AccessDeniedException',
    });
    expect(current('app')).toBe('{"password":"v2"}');
    // …while untagged secrets stay its to write.
    await bot.send(new PutSecretValueCommand({ SecretId: awsName('theirs'), SecretString: 'their value 2', ClientRequestToken: 'd'.repeat(36) }));
    expect(inAws('theirs')!.versions).toHaveLength(2);
  });
});
