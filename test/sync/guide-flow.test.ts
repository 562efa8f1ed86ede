import { beforeEach, describe, expect, it } from 'vitest';
import { waitUntil } from '../support/process.js';
import { TEST_SECRET_KEY, useSyncScenario, type SyncScenario } from '../support/sync.js';

/**
 * Vault's secrets-sync guide, replayed with the CLI's exact requests against a listening Ferry
 * and the emulator through the real AWS SDK. The first test runs the worker as the server does,
 * in its own time, and waits for it; the others drive it round by round (`drainOnce`) on a
 * manual clock, so they wait for nothing.
 */
/** The scenario of the running test; each block below points it at its own (the helpers use it). */
let s: SyncScenario;

const awsName = (secret = 'my-secret') => `vault/${s.server.core.mounts.get('my-kv/')!.accessor}/${secret}`;

async function associationStatus(dest = 'my-awssm-1') {
  const res = await s.cli('GET', `sys/sync/destinations/aws-sm/${dest}/associations`);
  return Object.values<any>(res.body.data.associated_secrets);
}

const associate = (secret = 'my-secret') =>
  s.cli('PUT', 'sys/sync/destinations/aws-sm/my-awssm-1/associations/set', { mount: 'my-kv', secret_name: secret });

describe('the secrets-sync guide with the running worker', () => {
  const running = useSyncScenario('running');
  beforeEach(async () => {
    s = running;
    expect((await s.cli('POST', 'sys/mounts/my-kv', { type: 'kv-v2' })).status).toBe(204);
  });

  it('syncs a secret with the hashicorp:vault and owner tags, follows an update with exactly one UpdateSecret, and unsyncs on remove', async () => {
    const dest = await s.createDestination('my-awssm-1');
    expect(dest.status).toBe(200);
    expect(dest.body.data.connection_details).toMatchObject({ access_key_id: '*****', secret_access_key: '*****', region: 'us-east-1' });

    expect((await s.cli('PUT', 'my-kv/data/my-secret', { data: { foo: 'bar' }, options: {} })).status).toBe(200);
    const set = await associate();
    expect(set.status).toBe(200);
    expect(set.body.data).toMatchObject({ store_name: 'my-awssm-1', store_type: 'aws-sm' });

    const name = awsName();
    const synced = await waitUntil('the secret in AWS', () => s.emu.getSecret('us-east-1', name));
    expect(synced.tags).toContainEqual({ Key: 'hashicorp:vault', Value: '' });
    expect(synced.tags).toContainEqual({ Key: 'ferry:owner', Value: expect.stringMatching(/^[0-9a-f-]{36}\/aws-sm\/my-awssm-1$/) });
    expect(synced.versions).toHaveLength(1);
    expect(JSON.parse(synced.versions[0]!.secretString!)).toEqual({ foo: 'bar' });

    const [status] = await waitUntil('the association SYNCED', async () => {
      const entries = await associationStatus();
      return entries[0]?.sync_status === 'SYNCED' ? entries : undefined;
    });
    expect(status).toMatchObject({ accessor: s.server.core.mounts.get('my-kv/')!.accessor, secret_name: 'my-secret', sync_status: 'SYNCED' });
    expect(new Date(status.updated_at).toString()).not.toBe('Invalid Date');

    expect((await s.cli('PUT', 'my-kv/data/my-secret', { data: { foo: 'baz' }, options: {} })).status).toBe(200);
    const updated = await waitUntil('the update as the AWSCURRENT version', () => {
      const sec = s.emu.getSecret('us-east-1', name);
      return sec && sec.versions.some((v) => v.stages.includes('AWSCURRENT') && v.secretString === '{"foo":"baz"}') ? sec : undefined;
    });
    expect(updated.versions).toHaveLength(2);
    expect(updated.versions.find((v) => v.stages.includes('AWSPREVIOUS'))?.secretString).toBe('{"foo":"bar"}');
    const calls = s.emu.requestLog({ service: 'secretsmanager' });
    expect(calls.map((e) => e.operation)).toEqual(['CreateSecret', 'UpdateSecret']);

    const removed = await s.cli('PUT', 'sys/sync/destinations/aws-sm/my-awssm-1/associations/remove', { mount: 'my-kv', secret_name: 'my-secret' });
    expect(removed.status).toBe(200);
    await waitUntil('the secret gone from AWS', () => s.emu.getSecret('us-east-1', name) === undefined);
    await waitUntil('the association gone', async () => (await associationStatus()).length === 0);
  });
});

describe('the secrets-sync guide, delivered round by round', () => {
  const drained = useSyncScenario('drained');
  beforeEach(async () => {
    s = drained;
    expect((await s.cli('POST', 'sys/mounts/my-kv', { type: 'kv-v2' })).status).toBe(204);
    expect((await s.createDestination('my-awssm-1')).status).toBe(200);
  });

  /** Runs delivery rounds until one finds nothing to do (a bounded number, so a loop cannot hang the test). */
  async function deliver(): Promise<void> {
    for (let round = 0; round < 10 && (await s.server.sync.worker.drainOnce()) > 0; round++);
  }

  it('removes the AWS secret when the KV secret metadata is deleted', async () => {
    await s.cli('PUT', 'my-kv/data/my-secret', { data: { foo: 'bar' }, options: {} });
    await associate();
    await deliver();
    expect(s.emu.getSecret('us-east-1', awsName())).toBeDefined();
    expect((await s.cli('DELETE', 'my-kv/metadata/my-secret')).status).toBe(204);
    await deliver();
    expect(s.emu.getSecret('us-east-1', awsName())).toBeUndefined();
    expect((await associationStatus())[0]).toMatchObject({ sync_status: 'UNSYNCED' });
  });

  it('removes the AWS secret on a soft delete and brings it back on undelete', async () => {
    await s.cli('PUT', 'my-kv/data/my-secret', { data: { foo: 'bar' }, options: {} });
    await associate();
    await deliver();
    expect(s.emu.getSecret('us-east-1', awsName())).toBeDefined();
    expect((await s.cli('DELETE', 'my-kv/data/my-secret')).status).toBe(204);
    await deliver();
    expect(s.emu.getSecret('us-east-1', awsName())).toBeUndefined();
    expect((await associationStatus())[0]).toMatchObject({ sync_status: 'UNSYNCED' });
    expect((await s.cli('PUT', 'my-kv/undelete/my-secret', { versions: '1' })).status).toBe(204);
    await deliver();
    const back = s.emu.getSecret('us-east-1', awsName())!;
    expect(JSON.parse(back.versions[0]!.secretString!)).toEqual({ foo: 'bar' });
    expect((await associationStatus())[0]).toMatchObject({ sync_status: 'SYNCED' });
  });

  it('purges every synced secret when the destination is deleted with purge=true', async () => {
    for (const name of ['a', 'b', 'c']) {
      await s.cli('PUT', `my-kv/data/${name}`, { data: { v: name }, options: {} });
      await associate(name);
    }
    await deliver();
    expect(s.emu.listSecretNames('us-east-1').sort()).toEqual(['a', 'b', 'c'].map((n) => awsName(n)));
    const refused = await s.cli('DELETE', 'sys/sync/destinations/aws-sm/my-awssm-1');
    expect(refused.status).toBe(400);
    expect(refused.body.errors[0]).toMatch(/still has 3 association/);
    expect((await s.cli('DELETE', 'sys/sync/destinations/aws-sm/my-awssm-1?purge=true')).status).toBe(204);
    // The destination stays readable, showing the purge, until its last association is unsynced.
    expect((await s.cli('GET', 'sys/sync/destinations/aws-sm/my-awssm-1')).body.data.purge_initiated_at).toBeDefined();
    await deliver();
    expect(s.emu.listSecretNames('us-east-1')).toEqual([]);
    expect((await s.cli('GET', 'sys/sync/destinations/aws-sm/my-awssm-1')).status).toBe(404);
  });

  it('never overwrites an existing untagged secret and shows a clear error status instead', async () => {
    const { SecretsManagerClient, CreateSecretCommand } = await import('@aws-sdk/client-secrets-manager');
    const sm = new SecretsManagerClient({
      region: 'us-east-1',
      endpoint: s.emu.endpoint,
      credentials: { accessKeyId: 'AKIAOTHERTEAM0000001', secretAccessKey: 'x' },
    });
    await sm.send(new CreateSecretCommand({ Name: awsName(), SecretString: 'theirs' }));
    await s.cli('PUT', 'my-kv/data/my-secret', { data: { password: 'ours-S3CRET' }, options: {} });
    await associate();
    await deliver();
    const [entry] = await associationStatus();
    expect(entry.sync_status).toBe('CLIENT_SIDE_ERROR');
    expect(entry.last_error).toMatch(/already exists in AWS Secrets Manager and Ferry has no record of creating it/);
    expect(JSON.stringify(entry)).not.toContain('ours-S3CRET');
    expect(JSON.stringify(entry)).not.toContain(TEST_SECRET_KEY);
    const theirs = s.emu.getSecret('us-east-1', awsName())!;
    expect(theirs.versions).toHaveLength(1);
    expect(theirs.versions[0]!.secretString).toBe('theirs');
  });
});
