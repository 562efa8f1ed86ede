import fs from 'node:fs';
import path from 'node:path';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { beforeEach, describe, expect, it } from 'vitest';
import { tokenWithPolicy } from '../security/support.js';
import { guidePolicies } from '../support/aws-emulator/index.js';
import { tempDirForTest } from '../support/fixtures.js';
import { logicalSnapshot } from '../support/store-snapshot.js';
import { emulatorDestination, outOfBandClient, syncIdentity, useSyncServer } from '../support/sync.js';

/**
 * Explicit adoption (a Ferry extension): `adopt=true` on associations/set, by a holder of sudo
 * on the destination's path, takes over a pre-existing AWS secret at the target name — untagged,
 * or tagged by Vault Enterprise — unless another Ferry destination's owner tag is on it; the
 * previous value stays as AWSPREVIOUS; the request is audited and the entry shows `adopted`.
 * Without adopt=true nothing pre-existing is written.
 */
const t = useSyncServer();

const accessor = () => t.server.core.mounts.get('my-kv/')!.accessor;
const awsName = (secret: string) => `vault/${accessor()}/${secret}`;
const put = (p: string, data: Record<string, unknown>) => t.call('PUT', `/v1/my-kv/data/${p}`, { body: { data } });
const associate = (secret: string, body: Record<string, unknown> = {}, token?: string, d = 'd') =>
  t.call('PUT', `/v1/sys/sync/destinations/aws-sm/${d}/associations/set`, { body: { mount: 'my-kv', secret_name: secret, ...body }, token });
const entryOf = async (secret: string, d = 'd') =>
  (await t.call('GET', `/v1/sys/sync/destinations/aws-sm/${d}/associations`)).json().data.associated_secrets[`${accessor()}/${secret}`];
const stages = (name: string) =>
  t.emu
    .getSecret('us-east-1', name)!
    .versions.map((v) => [v.secretString, v.stages.filter((s) => s !== 'AWSPENDING').sort().join(',')])
    .filter(([, s]) => s !== '');
const ownerOf = (name: string) => t.emu.getSecret('us-east-1', name)?.tags.find((tag) => tag.Key === 'ferry:owner')?.Value;
const DESCRIBE = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['secretsmanager:DescribeSecret'], Resource: '*' }] };

async function deliver(rounds = 3) {
  for (let i = 0; i < rounds; i++) {
    t.clock.advance(1_000);
    await t.server.sync.worker.drainOnce();
  }
}

/** Destination `d` acting as an IAM user with the guide's minimal policy (and DescribeSecret unless `describe` is false). */
async function destination(name = 'd', describe = true) {
  const { keys } = syncIdentity(t.emu, `ferry-${name}`, describe ? { minimal: guidePolicies.MINIMAL, describe: DESCRIBE } : { minimal: guidePolicies.MINIMAL });
  const res = await t.call('PUT', `/v1/sys/sync/destinations/aws-sm/${name}`, { body: emulatorDestination(t.emu, keys) });
  expect(res.statusCode).toBe(200);
}

beforeEach(async () => {
  await t.call('POST', '/v1/sys/mounts/my-kv', { body: { type: 'kv-v2' } });
});

describe('adopt=true', () => {
  it('leaves a pre-existing untagged secret alone without adopt (conflict, nothing written); with adopt=true syncs it, keeps the old value as AWSPREVIOUS, audits and shows the adoption', async () => {
    await destination();
    const file = path.join(tempDirForTest('ferry-adopt-audit-'), 'audit.log');
    expect((await t.call('PUT', '/v1/sys/audit/file', { body: { type: 'file', options: { file_path: file } } })).statusCode).toBe(204);
    await outOfBandClient(t.emu).send(new CreateSecretCommand({ Name: awsName('app'), SecretString: 'pre-existing' }));
    await put('app', { v: 'ours' });

    expect((await associate('app')).statusCode).toBe(200);
    await deliver();
    expect(await entryOf('app')).toMatchObject({ sync_status: 'CLIENT_SIDE_ERROR', last_error: expect.stringContaining('Ferry has no record of creating it') });
    expect(stages(awsName('app'))).toEqual([['pre-existing', 'AWSCURRENT']]);

    const res = await associate('app', { adopt: true });
    expect(res.statusCode).toBe(200);
    await deliver();
    expect(await entryOf('app')).toMatchObject({ sync_status: 'SYNCED', adopted: true, adopted_at: expect.any(String) });
    expect(stages(awsName('app'))).toEqual([
      ['pre-existing', 'AWSPREVIOUS'],
      [JSON.stringify({ v: 'ours' }), 'AWSCURRENT'],
    ]);
    expect(ownerOf(awsName('app'))).toMatch(/\/aws-sm\/d$/);
    // It is Ferry's now: later writes update it, removal deletes it.
    await put('app', { v: 'ours-2' });
    await deliver();
    expect(stages(awsName('app')).find(([, s]) => s === 'AWSCURRENT')![0]).toBe(JSON.stringify({ v: 'ours-2' }));

    const audited = fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l))
      .filter((e) => e.request.path === 'sys/sync/destinations/aws-sm/d/associations/set' && e.request.data?.adopt === true);
    expect(audited.map((e) => e.type)).toEqual(['request', 'response']);
  });

  it('adopts a secret tagged only by Vault Enterprise (hashicorp:vault)', async () => {
    await destination();
    await outOfBandClient(t.emu).send(new CreateSecretCommand({ Name: awsName('vaults'), SecretString: 'from vault', Tags: [{ Key: 'hashicorp:vault', Value: '' }] }));
    await put('vaults', { v: 'ours' });
    expect((await associate('vaults', { adopt: 'true' })).statusCode).toBe(200);
    await deliver();
    expect(await entryOf('vaults')).toMatchObject({ sync_status: 'SYNCED', adopted: true });
    expect(stages(awsName('vaults'))).toEqual([
      ['from vault', 'AWSPREVIOUS'],
      [JSON.stringify({ v: 'ours' }), 'AWSCURRENT'],
    ]);
  });

  it("never takes over another Ferry destination's secret (its ferry:owner tag), even with adopt=true", async () => {
    await destination();
    const other = '5f0c1d2e-other-cluster/aws-sm/prod';
    await outOfBandClient(t.emu).send(
      new CreateSecretCommand({ Name: awsName('app'), SecretString: 'theirs', Tags: [{ Key: 'hashicorp:vault', Value: '' }, { Key: 'ferry:owner', Value: other }] }),
    );
    await put('app', { v: 'ours' });
    expect((await associate('app', { adopt: true })).statusCode).toBe(200);
    await deliver();
    expect(await entryOf('app')).toMatchObject({ sync_status: 'CLIENT_SIDE_ERROR', last_error: expect.stringContaining(`belongs to another destination (ferry:owner = "${other}")`) });
    expect((await entryOf('app')).adopted).toBeUndefined();
    expect(ownerOf(awsName('app'))).toBe(other);
    expect(stages(awsName('app'))).toEqual([['theirs', 'AWSCURRENT']]);
  });

  it('takes nothing over when AWS denies DescribeSecret: the owner tag cannot be checked', async () => {
    await destination('d', false);
    await outOfBandClient(t.emu).send(new CreateSecretCommand({ Name: awsName('app'), SecretString: 'pre-existing' }));
    await put('app', { v: 'ours' });
    expect((await associate('app', { adopt: true })).statusCode).toBe(200);
    await deliver();
    expect(await entryOf('app')).toMatchObject({ sync_status: 'CLIENT_SIDE_ERROR', last_error: expect.stringContaining('DescribeSecret') });
    expect(stages(awsName('app'))).toEqual([['pre-existing', 'AWSCURRENT']]);
  });

  it('needs sudo on the destination path: a writer without it gets a 403 and nothing is stored', async () => {
    await destination();
    await put('app', { v: 'ours' });
    const token = await tokenWithPolicy(
      t,
      'sync-writer',
      'path "sys/sync/destinations/aws-sm/d/*" { capabilities = ["create", "update", "read"] }\n' + 'path "my-kv/data/*" { capabilities = ["read"] }\n',
    );
    const before = await logicalSnapshot(t.server.core.store);
    const res = await associate('app', { adopt: true }, token);
    expect([res.statusCode, res.json()]).toEqual([
      403,
      {
        errors: [
          'permission denied: adopt=true (taking over a pre-existing AWS secret) needs the "sudo" capability on sys/sync/destinations/aws-sm/d, which this token does not have',
        ],
      },
    ]);
    expect(await logicalSnapshot(t.server.core.store)).toEqual(before);
    // The same writer may set it without adopt.
    expect((await associate('app', {}, token)).statusCode).toBe(200);
  });
});
