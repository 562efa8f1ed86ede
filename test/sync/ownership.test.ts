import { CreateSecretCommand, DeleteSecretCommand } from '@aws-sdk/client-secrets-manager';
import { beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_TEMPLATE, type Association } from '../../src/sync/model.js';
import { SyncRecords } from '../../src/sync/records.js';
import { SimulatedCrash } from '../../src/sync/worker.js';
import { guidePolicies } from '../support/aws-emulator/index.js';
import { GUIDE_ACTIONS, emulatorDestination, outOfBandClient, syncIdentity, useSyncServer } from '../support/sync.js';

/**
 * Whose an AWS secret is: Ferry's record of the CreateSecret it made (proven again after a crash
 * by replaying its request token), the owner tag when DescribeSecret is granted, the optional
 * permissions and what Ferry does without them, and the migration of records that marked
 * adopted secrets as owned. Driven round by round on the clock Ferry and the emulator share.
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

/** The guide's minimal policy plus DescribeSecret: Ferry may read the tags of a secret it finds at a target name. */
const DESCRIBE = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 'secretsmanager:DescribeSecret', Resource: 'arn:aws:secretsmanager:*:*:secret:vault*' }],
};

const accessor = () => t.server.core.mounts.get('my-kv/')!.accessor;
const put = (path: string, data: Record<string, unknown>) => t.call('PUT', `/v1/my-kv/data/${path}`, { body: { data } });
const associate = (secret: string, dest = 'd') =>
  t.call('PUT', `/v1/sys/sync/destinations/aws-sm/${dest}/associations/set`, { body: { mount: 'my-kv', secret_name: secret } });
const removeAssociation = (secret: string, dest = 'd') =>
  t.call('PUT', `/v1/sys/sync/destinations/aws-sm/${dest}/associations/remove`, { body: { mount: 'my-kv', secret_name: secret } });
const awsName = (secret: string) => `vault/${accessor()}/${secret}`;
const inAws = (secret: string, region = 'us-east-1') => t.emu.getSecret(region, awsName(secret));
const current = (secret: string, region = 'us-east-1') => inAws(secret, region)?.versions.find((v) => v.stages.includes('AWSCURRENT'))?.secretString;
const tagOf = (secret: string, key: string) => inAws(secret)?.tags.find((tag) => tag.Key === key)?.Value;

async function deliver(rounds = 3, worker = t.server.sync.worker) {
  for (let i = 0; i < rounds; i++) {
    t.clock.advance(1_000);
    await worker.drainOnce();
  }
}
/** A new worker on the same store, as after a process restart, once the dead worker's lease has lapsed. */
const restartedWorker = () => {
  t.clock.advance(31_000);
  return t.server.sync.createWorker();
};
async function statusOf(secret: string, dest = 'd') {
  const res = await t.call('GET', `/v1/sys/sync/destinations/aws-sm/${dest}/associations`);
  return (res.json().data.associated_secrets as Record<string, any>)[`${accessor()}/${secret}`];
}
const destination = async (dest = 'd') => (await t.call('GET', `/v1/sys/sync/destinations/aws-sm/${dest}`)).json().data;

/** Destination `dest` acting as a new IAM user holding `policies`. */
async function destinationAs(policies: Record<string, unknown>, dest = 'd', extra: Record<string, unknown> = {}) {
  const identity = syncIdentity(t.emu, `ferry-${dest}`, policies);
  const res = await t.call('PUT', `/v1/sys/sync/destinations/aws-sm/${dest}`, { body: emulatorDestination(t.emu, { ...identity.keys, ...extra }) });
  expect(res.statusCode).toBe(200);
  return identity;
}
const noneDenied = () => expect(t.emu.requestLog({ decision: 'denied' })).toEqual([]);

beforeEach(async () => {
  crashNext = false;
  await t.call('POST', '/v1/sys/mounts/my-kv', { body: { type: 'kv-v2' } });
});

describe('with DescribeSecret granted, the tags of a pre-existing secret decide', () => {
  it("writes a secret carrying this destination's owner tag (one it synced before its records were forgotten)", async () => {
    const { keys } = await destinationAs({ minimal: guidePolicies.MINIMAL, describe: DESCRIBE });
    await put('app', { v: '1' });
    await associate('app');
    await deliver();
    expect(tagOf('app', 'ferry:owner')).toMatch(/^[0-9a-f-]{36}\/aws-sm\/d$/);
    // force_delete forgets the destination's records and leaves its secrets in AWS; it comes back under the same name.
    expect((await t.call('DELETE', '/v1/sys/sync/destinations/aws-sm/d?force_delete=true')).statusCode).toBe(204);
    await t.call('PUT', '/v1/sys/sync/destinations/aws-sm/d', { body: emulatorDestination(t.emu, keys) });
    await put('app', { v: '2' });
    await associate('app');
    t.emu.clearRequestLog();
    await deliver();
    expect((await statusOf('app')).sync_status).toBe('SYNCED');
    expect(current('app')).toBe('{"v":"2"}');
    expect(t.emu.requestLog({ service: 'secretsmanager' }).map((e) => [e.operation, e.errorCode])).toEqual([
      ['CreateSecret', 'ResourceExistsException'],
      ['DescribeSecret', undefined],
      ['UpdateSecret', undefined],
    ]);
    // Ferry's again, on record: it is deleted with its association.
    await removeAssociation('app');
    await deliver();
    expect(inAws('app')).toBeUndefined();
    noneDenied();
  });

  it("without DescribeSecret, fails closed even on a secret carrying this destination's owner tag", async () => {
    const { keys } = await destinationAs({ minimal: guidePolicies.MINIMAL });
    await put('app', { v: '1' });
    await associate('app');
    await deliver();
    await t.call('DELETE', '/v1/sys/sync/destinations/aws-sm/d?force_delete=true');
    await t.call('PUT', '/v1/sys/sync/destinations/aws-sm/d', { body: emulatorDestination(t.emu, keys) });
    await put('app', { v: '2' });
    await associate('app');
    await deliver();
    const status = await statusOf('app');
    expect(status.sync_status).toBe('CLIENT_SIDE_ERROR');
    expect(status.last_error).toMatch(/Ferry has no record of creating it; .*AWS denied secretsmanager:DescribeSecret/);
    expect(current('app')).toBe('{"v":"1"}');
    expect(t.emu.requestLog({ decision: 'denied' }).map((e) => e.operation)).toEqual(['DescribeSecret']);
  });

  it("reports a conflict naming the owner for another destination's secret, and writes it not", async () => {
    await destinationAs({ minimal: guidePolicies.MINIMAL, describe: DESCRIBE }, 'd');
    await destinationAs({ minimal: guidePolicies.MINIMAL, describe: DESCRIBE }, 'd2');
    await put('app', { v: '1' });
    await associate('app', 'd');
    await deliver();
    const owner = tagOf('app', 'ferry:owner')!;
    // Both are in one account: known, that is a 400 when set (name-claims.test.ts). Here STS cannot
    // tell d2's account, so the set is accepted and AWS-side ownership has to keep d2 off d's secret.
    t.emu.injectFault({ kind: '500', operation: 'GetCallerIdentity', count: 2 });
    expect((await associate('app', 'd2')).statusCode).toBe(200);
    await deliver();
    const status = await statusOf('app', 'd2');
    expect(status.sync_status).toBe('CLIENT_SIDE_ERROR');
    expect(status.last_error).toBe(
      `conflict: the secret "${awsName('app')}" in AWS Secrets Manager belongs to another destination (ferry:owner = "${owner}"); Ferry does not overwrite it`,
    );
    expect(owner.endsWith('/aws-sm/d')).toBe(true);
    expect(inAws('app')!.versions).toHaveLength(1);
    // Removing the refused association deletes nothing: the secret is d's.
    await removeAssociation('app', 'd2');
    await deliver();
    expect(current('app')).toBe('{"v":"1"}');
    expect((await statusOf('app', 'd')).sync_status).toBe('SYNCED');
    noneDenied();
  });

  it('writes no secret without an owner tag, or with only hashicorp:vault (adoption is not automatic)', async () => {
    await destinationAs({ minimal: guidePolicies.MINIMAL, describe: DESCRIBE });
    const admin = outOfBandClient(t.emu);
    await admin.send(new CreateSecretCommand({ Name: awsName('plain'), SecretString: 'theirs' }));
    await admin.send(new CreateSecretCommand({ Name: awsName('vaults'), SecretString: 'vault enterprise', Tags: [{ Key: 'hashicorp:vault', Value: '' }] }));
    for (const secret of ['plain', 'vaults']) {
      await put(secret, { v: 'ours' });
      await associate(secret);
    }
    await deliver();
    for (const [secret, value] of [
      ['plain', 'theirs'],
      ['vaults', 'vault enterprise'],
    ] as const) {
      const status = await statusOf(secret);
      expect(status.sync_status).toBe('CLIENT_SIDE_ERROR');
      expect(status.last_error).toBe(
        `a secret named "${awsName(secret)}" already exists in AWS Secrets Manager and Ferry has no record of creating it; ` +
          "it does not carry this destination's ferry:owner tag, and Ferry does not overwrite secrets it did not create",
      );
      expect(inAws(secret)!.versions.map((v) => v.secretString)).toEqual([value]);
    }
    // Removing their associations leaves them in AWS.
    await removeAssociation('plain');
    await removeAssociation('vaults');
    await deliver();
    expect(inAws('plain')).toBeDefined();
    expect(inAws('vaults')).toBeDefined();
    noneDenied();
  });
});

describe('fails closed whatever the name of the secret found', () => {
  it('does not take a name clash for its own replayed request token because the name contains "ClientRequestToken"', async () => {
    // AWS names the secret in its "already exists" answer: only the request-token answer proves the secret is Ferry's.
    await destinationAs({ minimal: guidePolicies.MINIMAL });
    await outOfBandClient(t.emu).send(new CreateSecretCommand({ Name: awsName('ClientRequestToken'), SecretString: 'theirs' }));
    await put('ClientRequestToken', { v: 'ours' });
    await associate('ClientRequestToken');
    await deliver();
    const status = await statusOf('ClientRequestToken');
    expect(status.sync_status).toBe('CLIENT_SIDE_ERROR');
    expect(status.last_error).toMatch(/already exists in AWS Secrets Manager and Ferry has no record of creating it/);
    expect(inAws('ClientRequestToken')!.versions.map((v) => v.secretString)).toEqual(['theirs']);
    await removeAssociation('ClientRequestToken');
    await deliver();
    expect(inAws('ClientRequestToken')!.versions.map((v) => v.secretString)).toEqual(['theirs']);
  });
});

describe('the crash window between CreateSecret and recording it, under the minimal policy', () => {
  let keyId: string;
  beforeEach(async () => {
    keyId = (await destinationAs({ minimal: guidePolicies.MINIMAL })).keys.access_key_id;
  });

  it('recovers the secret it created when the value changed before the restart, by replaying the same request token', async () => {
    await put('app', { v: '1' });
    await associate('app');
    crashNext = true;
    await expect(t.server.sync.worker.drainOnce()).rejects.toBeInstanceOf(SimulatedCrash);
    expect(current('app')).toBe('{"v":"1"}');
    await put('app', { v: '2' });
    await deliver(2, restartedWorker());
    expect((await statusOf('app')).sync_status).toBe('SYNCED');
    expect(inAws('app')!.versions).toHaveLength(2);
    expect(current('app')).toBe('{"v":"2"}');
    const creates = t.emu.requestLog({ operation: 'CreateSecret' });
    expect(creates.map((e) => e.errorCode)).toEqual([undefined, 'ResourceExistsException']);
    expect(creates[1]!.clientRequestToken).toBe(creates[0]!.clientRequestToken);
    expect(t.emu.requestLog({ service: 'secretsmanager', notAction: GUIDE_ACTIONS })).toEqual([]);
    noneDenied();
  });

  it('deletes the secret it created when the association was removed before the restart', async () => {
    await put('app', { v: '1' });
    await associate('app');
    crashNext = true;
    await expect(t.server.sync.worker.drainOnce()).rejects.toBeInstanceOf(SimulatedCrash);
    await removeAssociation('app');
    await deliver(2, restartedWorker());
    expect(inAws('app')).toBeUndefined();
    expect(await statusOf('app')).toBeUndefined();
    expect(t.emu.requestLog({ service: 'secretsmanager', notAction: GUIDE_ACTIONS })).toEqual([]);
    noneDenied();
  });

  it('fails closed when its CreateSecret never arrived and someone else took the name meanwhile', async () => {
    await put('app', { v: '1' });
    await associate('app');
    t.emu.injectFault({ kind: 'reset', operation: 'CreateSecret', count: 1 });
    await t.server.sync.worker.drainOnce();
    // The intent was recorded before the call: its token is what a retry sends, whatever the value is by then.
    const records = new SyncRecords(t.server.core.store);
    const intent = (await records.owned('aws-sm', 'd', awsName('app')))!.value;
    expect(intent).toMatchObject({ state: 'creating', request_token: expect.any(String) });
    await outOfBandClient(t.emu).send(new CreateSecretCommand({ Name: awsName('app'), SecretString: 'theirs' }));
    await put('app', { v: '2' });
    await deliver();
    const status = await statusOf('app');
    expect(status.sync_status).toBe('CLIENT_SIDE_ERROR');
    expect(status.last_error).toMatch(/already exists in AWS Secrets Manager and Ferry has no record of creating it; .*DescribeSecret/);
    expect(inAws('app')!.versions.map((v) => v.secretString)).toEqual(['theirs']);
    const retried = t.emu.requestLog({ operation: 'CreateSecret' }).filter((e) => e.accessKeyId === keyId);
    expect(retried.map((e) => [e.errorCode, e.clientRequestToken])).toEqual([['ResourceExistsException', intent.request_token]]);
    // Not Ferry's: the intent is dropped, and removing the association leaves their secret.
    expect(await records.owned('aws-sm', 'd', awsName('app'))).toBeUndefined();
    await removeAssociation('app');
    await deliver();
    expect(inAws('app')).toBeDefined();
  });
});

describe('optional permissions, under the minimal policy', () => {
  it('leaves a removed custom tag in AWS without UntagResource, reports it once on the destination, and clears the report when the destination is written', async () => {
    await destinationAs({ minimal: guidePolicies.MINIMAL }, 'd', { custom_tags: { team: 'sre' } });
    await put('app', { v: '1' });
    await associate('app');
    await deliver();
    await t.call('PATCH', '/v1/sys/sync/destinations/aws-sm/d', {
      body: { custom_tags: { team: null } },
      headers: { 'content-type': 'application/merge-patch+json' },
    });
    await deliver();
    await put('app', { v: '2' });
    await deliver();
    expect((await statusOf('app')).sync_status).toBe('SYNCED');
    expect(current('app')).toBe('{"v":"2"}');
    expect(tagOf('app', 'team')).toBe('sre');
    expect((await destination()).missing_permissions).toEqual({
      'secretsmanager:UntagResource': 'custom tags removed from the destination stay on its secrets in AWS',
    });
    expect(t.emu.requestLog({ operation: 'UntagResource' })).toHaveLength(1);
    await t.call('PATCH', '/v1/sys/sync/destinations/aws-sm/d', { body: { custom_tags: { owner: 'platform' } }, headers: { 'content-type': 'application/merge-patch+json' } });
    expect((await destination()).missing_permissions).toBeUndefined();
  });

  it('creates secrets unreplicated without ReplicateSecretToRegions, and says so on the destination', async () => {
    await destinationAs({ minimal: guidePolicies.MINIMAL }, 'd', { replica_regions: { 'us-west-2': '' } });
    await put('app', { v: '1' });
    await associate('app');
    await deliver();
    expect((await statusOf('app')).sync_status).toBe('SYNCED');
    expect(inAws('app')!.replicas ?? []).toEqual([]);
    expect((await destination()).missing_permissions).toEqual({
      'secretsmanager:ReplicateSecretToRegions': 'secrets are not replicated to replica_regions',
    });
  });

  it('deletes and re-creates a synced secret scheduled for deletion out of band when RestoreSecret is not granted', async () => {
    await destinationAs({ minimal: guidePolicies.MINIMAL });
    await put('app', { v: '1' });
    await associate('app');
    await deliver();
    await outOfBandClient(t.emu).send(new DeleteSecretCommand({ SecretId: awsName('app'), RecoveryWindowInDays: 7 }));
    await put('app', { v: '2' });
    await deliver();
    expect((await statusOf('app')).sync_status).toBe('SYNCED');
    expect(inAws('app')!.deletedDate).toBeUndefined();
    expect(current('app')).toBe('{"v":"2"}');
    expect(Object.keys((await destination()).missing_permissions)).toEqual(['secretsmanager:RestoreSecret']);
  });

  it('restores a synced secret scheduled for deletion out of band when RestoreSecret is granted, keeping its versions', async () => {
    const restore = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'secretsmanager:RestoreSecret', Resource: '*' }] };
    await destinationAs({ minimal: guidePolicies.MINIMAL, restore });
    await put('app', { v: '1' });
    await associate('app');
    await deliver();
    await outOfBandClient(t.emu).send(new DeleteSecretCommand({ SecretId: awsName('app'), RecoveryWindowInDays: 7 }));
    await put('app', { v: '2' });
    await deliver();
    expect(inAws('app')!.versions).toHaveLength(2);
    expect(current('app')).toBe('{"v":"2"}');
    expect((await destination()).missing_permissions).toBeUndefined();
    noneDenied();
  });
});

describe('migration of records that marked created and adopted secrets alike as owned', () => {
  /** An association as stored before ownership records: its one target `owned`, with the ARN. */
  function legacyAssociation(dest: string, secret: string, arn: string): Association {
    const at = new Date(t.clock()).toISOString();
    return {
      dest_type: 'aws-sm',
      dest_name: dest,
      accessor: accessor(),
      mount: 'my-kv/',
      secret_name: secret,
      granularity: 'secret-path',
      template: DEFAULT_TEMPLATE,
      created_at: at,
      targets: { '': { sub_key: '', name: awsName(secret), arn, status: 'SYNCED', updated_at: at, owned: true } },
    };
  }

  it('keeps a secret claimed once, makes one claimed by two destinations a conflict on both until one association is removed', async () => {
    await destinationAs({ minimal: guidePolicies.MINIMAL }, 'a');
    await destinationAs({ minimal: guidePolicies.MINIMAL }, 'b');
    await destinationAs({ minimal: guidePolicies.MINIMAL }, 'west', { region: 'us-west-2' });
    const admin = outOfBandClient(t.emu);
    const west = outOfBandClient(t.emu, undefined, 'us-west-2');
    const tags = [{ Key: 'hashicorp:vault', Value: '' }];
    for (const secret of ['shared', 'alone']) await put(secret, { v: '1' });
    // As the old code left them: `a` created both, `b` adopted `shared` by its tag; `west` created its own `shared` in another region.
    const shared = await admin.send(new CreateSecretCommand({ Name: awsName('shared'), SecretString: '{"v":"1"}', Tags: tags }));
    const alone = await admin.send(new CreateSecretCommand({ Name: awsName('alone'), SecretString: '{"v":"1"}', Tags: tags }));
    const sharedWest = await west.send(new CreateSecretCommand({ Name: awsName('shared'), SecretString: '{"v":"1"}', Tags: tags }));
    const records = new SyncRecords(t.server.core.store);
    for (const a of [
      legacyAssociation('a', 'shared', shared.ARN!),
      legacyAssociation('b', 'shared', shared.ARN!),
      legacyAssociation('a', 'alone', alone.ARN!),
      legacyAssociation('west', 'shared', sharedWest.ARN!),
    ]) {
      await records.change().saveAssociation(a).index(a).commit();
    }

    await put('shared', { v: '2' });
    await put('alone', { v: '2' });
    await deliver();
    // Claimed once: still Ferry's, synced, and tagged with its owner now.
    expect((await statusOf('alone', 'a')).sync_status).toBe('SYNCED');
    expect(current('alone')).toBe('{"v":"2"}');
    expect(tagOf('alone', 'ferry:owner')).toMatch(/\/aws-sm\/a$/);
    expect((await statusOf('shared', 'west')).sync_status).toBe('SYNCED');
    expect(current('shared', 'us-west-2')).toBe('{"v":"2"}');
    // Claimed twice: a conflict on both, each naming the other; AWS untouched.
    const onA = await statusOf('shared', 'a');
    const onB = await statusOf('shared', 'b');
    expect(onA.sync_status).toBe('CLIENT_SIDE_ERROR');
    expect(onA.last_error).toBe(
      `conflict: the secret "${awsName('shared')}" in AWS Secrets Manager is also claimed by aws-sm/b (${accessor()}/shared); ` +
        'Ferry writes and deletes it again once only one of these associations is left',
    );
    expect(onB.sync_status).toBe('CLIENT_SIDE_ERROR');
    expect(onB.last_error).toContain(`also claimed by aws-sm/a (${accessor()}/shared)`);
    expect(current('shared')).toBe('{"v":"1"}');

    // The operator removes one: the secret stays, and the other association takes it over.
    await removeAssociation('shared', 'b');
    await deliver();
    expect(await statusOf('shared', 'b')).toBeUndefined();
    expect((await statusOf('shared', 'a')).sync_status).toBe('SYNCED');
    expect(current('shared')).toBe('{"v":"2"}');
    await removeAssociation('shared', 'a');
    await deliver();
    expect(inAws('shared')).toBeUndefined();
    expect(t.emu.requestLog({ service: 'secretsmanager', notAction: GUIDE_ACTIONS })).toEqual([]);
    noneDenied();
  });
});
