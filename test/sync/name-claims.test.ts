import { beforeEach, describe, expect, it } from 'vitest';
import { RevisionConflict } from '../../src/store/store.js';
import { NameClaims } from '../../src/sync/name-claims.js';
import { SyncRecords } from '../../src/sync/records.js';
import { SimulatedCrash } from '../../src/sync/worker.js';
import { guidePolicies } from '../support/aws-emulator/index.js';
import { emulatorDestination, syncIdentity, useSyncServer } from '../support/sync.js';

/**
 * Per-destination ownership, seen from the API: an association is refused when it is set (a
 * 400 naming the other one) if another association already syncs the AWS name it renders, in
 * the same destination or in a destination of the same account and region; a collision that
 * appears later (a new key) is a conflict on that key, never written. Whatever the claims miss
 * (an account that could not be learnt), AWS-side ownership still keeps a destination off
 * another's secret. Everything runs against the emulator with IAM enforced: each destination is
 * an IAM user of the emulator's default account holding the guide's minimal policy.
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

const ACCOUNT = '123456789012';
const MARKER = 'VALUE-MARKER-9f31';
const accessor = () => t.server.core.mounts.get('my-kv/')!.accessor;
const defaultName = (secret: string) => `vault/${accessor()}/${secret}`;
const put = (path: string, data: Record<string, unknown>) => t.call('PUT', `/v1/my-kv/data/${path}`, { body: { data } });
const associate = (secret: string, dest: string, token?: string) =>
  t.call('PUT', `/v1/sys/sync/destinations/aws-sm/${dest}/associations/set`, { body: { mount: 'my-kv', secret_name: secret }, token });
const removeAssociation = (secret: string, dest: string) =>
  t.call('PUT', `/v1/sys/sync/destinations/aws-sm/${dest}/associations/remove`, { body: { mount: 'my-kv', secret_name: secret } });
const valueIn = (name: string, region = 'us-east-1', account?: string) =>
  t.emu.getSecret(region, name, account)?.versions.find((v) => v.stages.includes('AWSCURRENT'))?.secretString;
/** Deleted, or scheduled for deletion. */
const gone = (name: string) => {
  const secret = t.emu.getSecret('us-east-1', name);
  return secret === undefined || secret.deletedDate !== undefined;
};
const ownerOf = (name: string) => t.emu.getSecret('us-east-1', name)?.tags.find((tag) => tag.Key === 'ferry:owner')?.Value;
const listed = async (dest: string) =>
  (await t.call('GET', `/v1/sys/sync/destinations/aws-sm/${dest}/associations`)).json().data.associated_secrets as Record<string, any>;
const statusOf = async (secret: string, dest: string) => (await listed(dest))[`${accessor()}/${secret}`];
const claimsOf = async (name: string, region = 'us-east-1') => (await new SyncRecords(t.server.core.store).nameClaims(region, name)).value;
const claimant = (dest: string, secret: string) => ({ dest: `aws-sm/${dest}`, accessor: accessor(), secret_name: secret });

async function deliver(rounds = 3, worker = t.server.sync.worker) {
  for (let i = 0; i < rounds; i++) {
    t.clock.advance(1_000);
    await worker.drainOnce();
  }
}

/** Destination `dest` acting as its own IAM user (of the default account) with the guide's minimal policy. */
async function destination(dest: string, extra: Record<string, unknown> = {}) {
  const { keys } = syncIdentity(t.emu, `ferry-${dest}`, { minimal: guidePolicies.MINIMAL });
  const res = await t.call('PUT', `/v1/sys/sync/destinations/aws-sm/${dest}`, { body: emulatorDestination(t.emu, { ...keys, ...extra }) });
  expect(res.statusCode).toBe(200);
  return keys;
}

/** The Secrets Manager calls made with `keys` (GetCallerIdentity, which learns the account, aside). */
const callsBy = (keys: { access_key_id: string }) =>
  t.emu
    .requestLog()
    .filter((e) => e.accessKeyId === keys.access_key_id && e.operation !== 'GetCallerIdentity')
    .map((e) => e.operation);

const elsewhere = (name: string, dest: string, secret: string) =>
  `the AWS secret name "${name}" is already synced by destination aws-sm/${dest} (${accessor()}/${secret}) in the same AWS account (${ACCOUNT}) and region (us-east-1): two destinations cannot write one secret`;

beforeEach(async () => {
  crashNext = false;
  await t.call('POST', '/v1/sys/mounts/my-kv', { body: { type: 'kv-v2' } });
});

describe('two destinations of one account and region', () => {
  it("refuses, when set, an association whose default name another destination syncs: 400 naming it, nothing stored, A's secret untouched", async () => {
    await destination('a');
    const bKeys = await destination('b');
    await put('app', { password: MARKER });
    expect((await associate('app', 'a')).statusCode).toBe(200);
    await deliver();

    const res = await associate('app', 'b');
    expect([res.statusCode, res.json()]).toEqual([400, { errors: [elsewhere(defaultName('app'), 'a', 'app')] }]);
    expect(res.body).not.toContain(MARKER);
    // Nothing of the refused set was stored: no association, no claim, nothing queued for B.
    expect(await listed('b')).toEqual({});
    expect(await claimsOf(defaultName('app'))).toEqual([claimant('a', 'app')]);
    await put('app', { password: `${MARKER}-2` });
    await deliver();
    expect(callsBy(bKeys)).toEqual([]);
    expect(valueIn(defaultName('app'))).toBe(JSON.stringify({ password: `${MARKER}-2` }));
    expect(ownerOf(defaultName('app'))).toMatch(/\/aws-sm\/a$/);
    expect((await statusOf('app', 'a')).sync_status).toBe('SYNCED');
    expect(JSON.stringify(await listed('a'))).not.toContain(MARKER);
  });

  it("refuses a team destination's name template aimed at production's AWS name, for a user allowed only team-* destinations", async () => {
    await destination('prod', { secret_name_template: 'vault-prod-db' });
    const teamKeys = await destination('team-b');
    await put('app', { password: MARKER });
    expect((await associate('app', 'prod')).statusCode).toBe(200);
    await deliver();

    const policy =
      'path "sys/sync/destinations/aws-sm/team-*" { capabilities = ["create", "read", "update", "patch", "delete", "list"] }\n' +
      'path "my-kv/data/team/*" { capabilities = ["create", "read", "update"] }\n';
    expect((await t.call('PUT', '/v1/sys/policies/acl/team', { body: { policy } })).statusCode).toBe(204);
    const team = (await t.call('POST', '/v1/auth/token/create', { body: { policies: ['team'] } })).json().auth.client_token as string;

    // The team may not touch production's destination, nor sync production's secret.
    expect((await t.call('PATCH', '/v1/sys/sync/destinations/aws-sm/prod', { body: { custom_tags: { x: 'y' } }, token: team, headers: { 'content-type': 'application/merge-patch+json' } })).statusCode).toBe(403);
    expect((await associate('app', 'team-b', team)).statusCode).toBe(403);
    // It may aim its own template anywhere; the association that would write production's name is refused.
    const patched = await t.call('PATCH', '/v1/sys/sync/destinations/aws-sm/team-b', {
      body: { secret_name_template: 'vault-prod-db' },
      token: team,
      headers: { 'content-type': 'application/merge-patch+json' },
    });
    expect(patched.statusCode).toBe(200);
    expect((await t.call('PUT', '/v1/my-kv/data/team/x', { body: { data: { password: 'team-value' } }, token: team })).statusCode).toBe(200);
    const res = await associate('team/x', 'team-b', team);
    expect([res.statusCode, res.json()]).toEqual([400, { errors: [elsewhere('vault-prod-db', 'prod', 'app')] }]);

    // Removing an association the team never got deletes nothing either.
    await removeAssociation('team/x', 'team-b');
    await deliver();
    expect(callsBy(teamKeys)).toEqual([]);
    expect(valueIn('vault-prod-db')).toBe(JSON.stringify({ password: MARKER }));
    expect((await statusOf('app', 'prod')).sync_status).toBe('SYNCED');
  });

  it('checks each claim record at the revision it was read at: of two claims read before either commits, the second commit fails', async () => {
    await destination('a');
    await destination('b');
    const records = new SyncRecords(t.server.core.store);
    const claims = new NameClaims(records, async () => ACCOUNT);
    const dest = async (name: string) => (await records.destination('aws-sm', name))!.value;
    const [first, second] = [records.change(), records.change()];
    expect(await claims.claim(first, await dest('a'), claimant('a', 'x'), ['vault-contested'])).toBeUndefined();
    expect(await claims.claim(second, await dest('b'), claimant('b', 'y'), ['vault-contested'])).toBeUndefined();
    await first.commit();
    await expect(second.commit()).rejects.toBeInstanceOf(RevisionConflict);
    expect(await claimsOf('vault-contested')).toEqual([claimant('a', 'x')]);
  });

  it('lets the other destination take the name once the association that synced it is removed and its secret deleted', async () => {
    await destination('a');
    await destination('b');
    await put('app', { v: '1' });
    await associate('app', 'a');
    await deliver();
    expect((await associate('app', 'b')).statusCode).toBe(400);
    await removeAssociation('app', 'a');
    // While A's secret is being deleted, the name is still A's.
    expect((await associate('app', 'b')).statusCode).toBe(400);
    await deliver();
    expect(gone(defaultName('app'))).toBe(true);
    expect(await claimsOf(defaultName('app'))).toEqual([]);
    expect((await associate('app', 'b')).statusCode).toBe(200);
  });

  it('accepts the same name in another region or another account, each synced in its own', async () => {
    await destination('a');
    await destination('west', { region: 'us-west-2' });
    t.emu.mapAccessKey('AKIAOTHERACCOUNT0001', 'other-account-secret', '210987654321');
    await destination('other', { access_key_id: 'AKIAOTHERACCOUNT0001', secret_access_key: 'other-account-secret' });
    await put('app', { v: '1' });
    for (const d of ['a', 'west', 'other']) expect((await associate('app', d)).statusCode).toBe(200);
    await deliver();
    for (const d of ['a', 'west', 'other']) expect((await statusOf('app', d)).sync_status).toBe('SYNCED');
    expect(ownerOf(defaultName('app'))).toMatch(/\/aws-sm\/a$/);
    expect(valueIn(defaultName('app'), 'us-west-2')).toBe('{"v":"1"}');
    expect(valueIn(defaultName('app'), 'us-east-1', '210987654321')).toBe('{"v":"1"}');
  });

  it("judges a destination that assumes a role by the role's account, without asking STS", async () => {
    await destination('a');
    const rKeys = await destination('r', { role_arn: `arn:aws:iam::${ACCOUNT}:role/sync` });
    await put('app', { v: '1' });
    await associate('app', 'a');
    const res = await associate('app', 'r');
    expect([res.statusCode, res.json().errors]).toEqual([400, [elsewhere(defaultName('app'), 'a', 'app')]]);
    expect(t.emu.requestLog().filter((e) => e.accessKeyId === rKeys.access_key_id)).toEqual([]);
  });
});

describe('one destination', () => {
  it('refuses a second association rendering a name the first one syncs', async () => {
    await destination('d', { secret_name_template: 'vault-shared-{{ .MountAccessor }}' });
    await put('one', { v: '1' });
    await put('two', { v: '2' });
    expect((await associate('one', 'd')).statusCode).toBe(200);
    const res = await associate('two', 'd');
    const name = `vault-shared-${accessor()}`;
    expect([res.statusCode, res.json()]).toEqual([
      400,
      {
        errors: [
          `the AWS secret name "${name}" is already synced by another association of this destination (${accessor()}/one): two associations cannot write one secret`,
        ],
      },
    ]);
    // Setting the first one again is no collision with itself.
    expect((await associate('one', 'd')).statusCode).toBe(200);
    await deliver();
    expect(valueIn(name)).toBe('{"v":"1"}');
  });
});

describe('malformed or refused sets', () => {
  it('answer 4xx and record no claim: an invalid secret name, a missing secret, duplicate key names, an unknown destination, a truncated body', async () => {
    await destination('d');
    await destination('keys', { granularity: 'secret-key', secret_name_template: 'vault-fixed-{{ .SecretKey | replace "a" "b" }}' });
    await put('two-keys', { a: '1', b: '2' });
    const refused: Array<[string, string, number]> = [
      ['a//b', 'd', 400],
      ['../x', 'd', 400],
      ['missing', 'd', 400],
      ['two-keys', 'keys', 400],
      ['two-keys', 'nope', 404],
    ];
    for (const [secret, dest, status] of refused) {
      const res = await associate(secret, dest);
      expect([secret, dest, res.statusCode]).toEqual([secret, dest, status]);
      expect(res.json().errors).toHaveLength(1);
    }
    const truncated = await t.call('PUT', '/v1/sys/sync/destinations/aws-sm/d/associations/set', { rawBody: '{"mount": "my-kv", "secret_name": ' });
    expect(truncated.statusCode).toBe(400);
    expect(await t.server.core.store.scan('sync/names/')).toEqual([]);
    expect(await listed('d')).toEqual({});
  });
});

describe('collisions that appear later', () => {
  it("make a new key under secret-key granularity a conflict on that key, never written, and the other destination's secret stays SYNCED", async () => {
    await destination('p', { secret_name_template: 'vault-app-late' });
    await destination('k', { granularity: 'secret-key', secret_name_template: 'vault-{{ .SecretPath }}-{{ .SecretKey }}' });
    await put('other', { v: 'owned-by-p' });
    await put('app', { first: '1' });
    await associate('other', 'p');
    expect((await associate('app', 'k')).statusCode).toBe(200);
    await deliver();
    expect(valueIn('vault-app-first')).toBe('1');

    await put('app', { first: '1', late: MARKER });
    await deliver();
    const keys = await listed('k');
    expect(keys[`${accessor()}/app/first`].sync_status).toBe('SYNCED');
    const late = keys[`${accessor()}/app/late`];
    expect(late.sync_status).toBe('CLIENT_SIDE_ERROR');
    expect(late.last_error).toBe(
      `conflict: key "late" would be synced to "vault-app-late", which destination aws-sm/p, in the same AWS account and region, already syncs (${accessor()}/other); it is not written`,
    );
    expect(JSON.stringify(keys)).not.toContain(MARKER);
    expect(valueIn('vault-app-late')).toBe('{"v":"owned-by-p"}');
    expect((await statusOf('other', 'p')).sync_status).toBe('SYNCED');
    // Removing k's association deletes its own secret and nothing of p's.
    await removeAssociation('app', 'k');
    await deliver();
    expect(gone('vault-app-first')).toBe(true);
    expect(gone('vault-app-late')).toBe(false);
    expect(t.emu.getSecret('us-east-1', 'vault-app-late')!.versions.map((v) => v.secretString)).toEqual(['{"v":"owned-by-p"}']);
  });
});

describe('a crash mid-claim', () => {
  it('leaves at most a stale claim, which is ignored: an association that does not sync the name does not hold it', async () => {
    await destination('a');
    await destination('b');
    await put('app', { v: '1' });
    // What a crash between committing a new key's claim and saving its association leaves.
    const records = new SyncRecords(t.server.core.store);
    await records.change().saveNameClaims('us-east-1', defaultName('app'), [claimant('a', 'ghost')], 0).commit();
    expect((await associate('app', 'b')).statusCode).toBe(200);
    expect(await claimsOf(defaultName('app'))).toEqual([claimant('b', 'app')]);
  });

  it("keeps a new key's claim across a crash right after its CreateSecret: the restarted worker finishes, and a competing set is refused", async () => {
    await destination('k', { granularity: 'secret-key', secret_name_template: 'vault-{{ .SecretPath }}-{{ .SecretKey }}' });
    await destination('p', { secret_name_template: 'vault-app-late' });
    await put('app', { first: '1' });
    await associate('app', 'k');
    await deliver();
    await put('app', { first: '1', late: '2' });
    crashNext = true;
    await expect(deliver(1)).rejects.toBeInstanceOf(SimulatedCrash);
    t.clock.advance(31_000);
    await deliver(3, t.server.sync.createWorker());
    expect((await listed('k'))[`${accessor()}/app/late`].sync_status).toBe('SYNCED');
    expect(valueIn('vault-app-late')).toBe('2');
    await put('other', { v: 'p' });
    const res = await associate('other', 'p');
    expect([res.statusCode, res.json().errors]).toEqual([400, [elsewhere('vault-app-late', 'k', 'app')]]);
  });
});
