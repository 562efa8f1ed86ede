import net from 'node:net';
import { beforeEach, describe, expect, it } from 'vitest';
import { SyncRecords } from '../../src/sync/records.js';
import { useSyncScenario } from '../support/sync.js';

/**
 * A destination's static keys decide which AWS account every associated value is written to.
 * A writer without sudo may rotate them within the destination's account (the routine case),
 * never move the destination to another account (their own, say): both accounts are learnt
 * with sts:GetCallerIdentity, and a change whose accounts cannot be learnt is refused.
 */
const s = useSyncScenario('drained');
const HOME = '123456789012'; // the emulator's default account
const OTHER = '999988887777';
const PATH = 'sys/sync/destinations/aws-sm/team';

let keyCount = 0;
/** A fresh IAM user (unrestricted) of `account` with one long-term key; the destination fields for it. */
function userKeys(account: string): { access_key_id: string; secret_access_key: string } {
  keyCount += 1;
  const keys = { access_key_id: `AKIAKEYACCOUNT${String(keyCount).padStart(6, '0')}`, secret_access_key: `secret-${account}-${keyCount}` };
  s.emu.registerUser({
    userName: `user-${keyCount}`,
    accountId: account,
    accessKeys: [{ accessKeyId: keys.access_key_id, secretAccessKey: keys.secret_access_key }],
  });
  return keys;
}

/** A token with every capability on sys/sync/* (and the KV secrets) but, unless asked, sudo. */
async function syncWriter(sudo = false): Promise<string> {
  const caps = JSON.stringify(['create', 'read', 'update', 'patch', 'delete', 'list', ...(sudo ? ['sudo'] : [])]);
  const name = sudo ? 'sync-operator' : 'sync-writer';
  expect((await s.cli('PUT', `sys/policies/acl/${name}`, { policy: `path "sys/sync/*" { capabilities = ${caps} }\n` })).status).toBe(204);
  return (await s.cli('POST', 'auth/token/create', { policies: [name] })).body.auth.client_token as string;
}

/** A loopback port nothing listens on: an unreachable STS. */
async function closedPort(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

const storedConnection = async () => (await new SyncRecords(s.server.core.store).destination('aws-sm', 'team'))!.value.connection;
const syncedName = (secret = 'app') => `vault/${s.server.core.mounts.get('my-kv/')!.accessor}/${secret}`;

/** A new KV secret associated with the destination and delivered (a create: it goes to whatever account the keys are in). */
async function associateNew(secret: string): Promise<void> {
  expect((await s.cli('PUT', `my-kv/data/${secret}`, { data: { password: secret } })).status).toBe(200);
  expect((await s.cli('PUT', `${PATH}/associations/set`, { mount: 'my-kv', secret_name: secret })).status).toBe(200);
  await deliver();
}
/** Every call the emulator received in `account` other than sts:GetCallerIdentity. */
const writesIn = (account: string) => s.emu.requestLog().filter((e) => e.accountId === account && e.operation !== 'GetCallerIdentity');
const denied = (what: string) =>
  `permission denied: ${what} needs the "sudo" capability on ${PATH}, which this token does not have`;
const UNVERIFIED =
  `permission denied: the AWS account of this destination's credentials could not be verified (sts:GetCallerIdentity through its network rules failed), ` +
  `so the change may move it to another account, which needs the "sudo" capability on ${PATH}, which this token does not have`;

/** Delivery rounds, each after moving the clock past the minimum write interval and any backoff. */
async function deliver(rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    s.clock.advance(1_000);
    await s.server.sync.worker.drainOnce();
  }
}

/** Writes a new value to the synced secret and delivers it; answers the value now in the home account. */
async function syncValue(value: string): Promise<string | undefined> {
  expect((await s.cli('PUT', 'my-kv/data/app', { data: { password: value } })).status).toBe(200);
  await deliver();
  return s.emu.getSecret('us-east-1', syncedName())?.versions.find((v) => v.stages.includes('AWSCURRENT'))?.secretString;
}

let original: { access_key_id: string; secret_access_key: string };

beforeEach(async () => {
  original = userKeys(HOME);
  await s.cli('POST', 'sys/mounts/my-kv', { type: 'kv-v2' });
  await s.cli('PUT', 'my-kv/data/app', { data: { password: 'first' } });
  expect((await s.createDestination('team', original)).status).toBe(200);
  expect((await s.cli('PUT', `${PATH}/associations/set`, { mount: 'my-kv', secret_name: 'app' })).status).toBe(200);
  await deliver();
});

describe('a writer without sudo on the destination', () => {
  it('rotates its keys within its AWS account, by PATCH and by POST, and sync goes on with the new keys', async () => {
    const user = await syncWriter();
    const second = userKeys(HOME);
    const third = userKeys(HOME);
    expect((await s.cli('PATCH', PATH, second, user)).status).toBe(200);
    expect(await storedConnection()).toMatchObject(second);
    expect(await syncValue('second')).toContain('second');
    expect(s.emu.requestLog({ operation: 'UpdateSecret' }).at(-1)!.accessKeyId).toBe(second.access_key_id);

    const res = await s.cli('PUT', PATH, { ...third, region: 'us-east-1', endpoint_url: s.emu.endpoint }, user);
    expect(res.status).toBe(200);
    expect(await storedConnection()).toMatchObject(third);
    expect(await syncValue('third')).toContain('third');
    expect(s.emu.requestLog({ operation: 'UpdateSecret' }).at(-1)!.accessKeyId).toBe(third.access_key_id);
  });

  it('cannot move it to keys of another account, by PATCH or POST: a 403, nothing stored, nothing ever written there', async () => {
    const user = await syncWriter();
    const attacker = userKeys(OTHER);
    const attempts: Array<[string, Record<string, unknown>]> = [
      ['PATCH', attacker],
      ['PUT', { ...attacker, region: 'us-east-1', endpoint_url: s.emu.endpoint }],
    ];
    for (const [method, body] of attempts) {
      const res = await s.cli(method, PATH, body, user);
      expect([method, res.status, res.body]).toEqual([method, 403, { errors: [denied('moving the destination to another AWS account')] }]);
      // Nothing about the new credentials in the answer.
      expect(JSON.stringify(res.body)).not.toContain(attacker.access_key_id);
      expect(JSON.stringify(res.body)).not.toContain(OTHER);
    }
    expect(await storedConnection()).toMatchObject(original);
    expect(await syncValue('after')).toContain('after');
    await associateNew('later');
    expect(s.emu.getSecret('us-east-1', syncedName('later'))).toBeDefined();
    expect(writesIn(OTHER)).toEqual([]);
    expect(s.emu.listSecretNames('us-east-1', OTHER)).toEqual([]);
  });

  it('cannot move it between its keys and a role of another account, either way; a role of the same account, and back, are fine', async () => {
    const user = await syncWriter();
    const otherRole = `arn:aws:iam::${OTHER}:role/theirs`;
    const homeRole = `arn:aws:iam::${HOME}:role/ours`;
    // Keys → a role in another account (the keys kept, to assume it with).
    expect((await s.cli('PATCH', PATH, { role_arn: otherRole }, user)).body).toEqual({ errors: [denied('moving the destination to another AWS account')] });
    expect((await storedConnection()).role_arn).toBe('');
    // Keys → a role of the same account, and back to the keys alone.
    expect((await s.cli('PATCH', PATH, { role_arn: homeRole }, user)).status).toBe(200);
    expect((await storedConnection()).role_arn).toBe(homeRole);
    expect((await s.cli('PATCH', PATH, { role_arn: null }, user)).status).toBe(200);
    expect((await storedConnection()).role_arn).toBe('');
    // A role → keys of another account (the role dropped at the same time).
    expect((await s.cli('PATCH', PATH, { role_arn: homeRole }, user)).status).toBe(200);
    const attacker = userKeys(OTHER);
    const res = await s.cli('PATCH', PATH, { ...attacker, role_arn: null }, user);
    expect([res.status, res.body]).toEqual([403, { errors: [denied('moving the destination to another AWS account')] }]);
    expect(await storedConnection()).toMatchObject({ ...original, role_arn: homeRole });
    expect(writesIn(OTHER)).toEqual([]);
  });

  it('is refused when an account cannot be learnt (STS unreachable, or the new keys refused): fail closed, nothing stored', async () => {
    const user = await syncWriter();
    // The operator routes this destination's STS calls to an endpoint that does not answer.
    expect((await s.cli('PATCH', PATH, { sts_endpoint_url: await closedPort() })).status).toBe(200);
    const sameAccount = userKeys(HOME);
    for (const method of ['PATCH', 'PUT']) {
      const body = method === 'PATCH' ? sameAccount : { ...sameAccount, region: 'us-east-1', endpoint_url: s.emu.endpoint };
      const res = await s.cli(method, PATH, body, user);
      expect([method, res.status, res.body]).toEqual([method, 403, { errors: [UNVERIFIED] }]);
    }
    expect(await storedConnection()).toMatchObject(original);
    // STS reachable again: keys STS refuses (a known key id with a wrong secret) are not verified either.
    expect((await s.cli('PATCH', PATH, { sts_endpoint_url: null })).status).toBe(200);
    const wrongSecret = { access_key_id: sameAccount.access_key_id, secret_access_key: 'not-its-secret' };
    const res = await s.cli('PATCH', PATH, wrongSecret, user);
    expect([res.status, res.body]).toEqual([403, { errors: [UNVERIFIED] }]);
    expect(JSON.stringify(res.body)).not.toContain('not-its-secret');
    expect(await storedConnection()).toMatchObject(original);
    // The same rotation verified: accepted.
    expect((await s.cli('PATCH', PATH, sameAccount, user)).status).toBe(200);
  });

  it('checks a rotation against the account recorded at the last one, once the old keys no longer work', async () => {
    const user = await syncWriter();
    const second = userKeys(HOME);
    expect((await s.cli('PATCH', PATH, second, user)).status).toBe(200);
    expect((await new SyncRecords(s.server.core.store).destination('aws-sm', 'team'))!.value.keys_account).toBe(HOME);
    // The old keys (second's) are deactivated: the emulator no longer knows them; a lookup with them would fail.
    s.emu.registerUser({ userName: 'user-retired', accessKeys: [{ accessKeyId: second.access_key_id, secretAccessKey: 'rotated-away' }] });
    const third = userKeys(HOME);
    expect((await s.cli('PATCH', PATH, third, user)).status).toBe(200);
    expect(await syncValue('third')).toContain('third');
    const attacker = userKeys(OTHER);
    expect((await s.cli('PATCH', PATH, attacker, user)).status).toBe(403);
  });

  it('under concurrent PATCHes: every same-account rotation answers 200, every other-account one 403, and only home keys end up stored', async () => {
    const user = await syncWriter();
    const home = Array.from({ length: 4 }, () => userKeys(HOME));
    const other = Array.from({ length: 4 }, () => userKeys(OTHER));
    const bodies = home.flatMap((h, i) => [h, other[i]!]);
    const results = await Promise.all(bodies.map((body) => s.cli('PATCH', PATH, body, user)));
    expect(results.map((r) => r.status)).toEqual(bodies.map((_, i) => (i % 2 === 0 ? 200 : 403)));
    const stored = await storedConnection();
    expect(home.map((h) => h.access_key_id)).toContain(stored.access_key_id);
    expect(await syncValue('raced')).toContain('raced');
    expect(writesIn(OTHER)).toEqual([]);
  });
});

it('a sudo holder may move the destination to another account, and the next sync writes there', async () => {
  const operator = await syncWriter(true);
  const theirs = userKeys(OTHER);
  expect((await s.cli('PATCH', PATH, theirs, operator)).status).toBe(200);
  expect(await storedConnection()).toMatchObject(theirs);
  // A secret created after the move lands in the other account: the refusals above are not vacuous.
  await associateNew('later');
  expect(s.emu.listSecretNames('us-east-1', OTHER)).toEqual([syncedName('later')]);
  expect(s.emu.getSecret('us-east-1', syncedName('later'), OTHER)!.versions[0]!.secretString).toContain('later');
});
