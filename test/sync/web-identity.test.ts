import { beforeEach, describe, expect, it } from 'vitest';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { guidePolicies } from '../support/aws-emulator/index.js';
import { GUIDE_ACTIONS, TEST_ACCESS_KEY, TEST_SECRET_KEY, useSyncScenario } from '../support/sync.js';
import { createSecretsSyncTokenSigner } from '../../src/identity/index.js';

/**
 * Workload identity federation end to end: Ferry signs an identity token, the emulator's
 * strict STS fetches Ferry's discovery document and JWKS over HTTP, verifies the token and
 * the role's trust policy, and Secrets Manager accepts only the session credentials it issued.
 * One manual clock is shared by Ferry and the emulator; the worker is driven with `drainOnce`.
 */
const s = useSyncScenario('drained');
const AUDIENCE = 'ferry.test/v1/identity/oidc/secrets-sync';
/** Ferry's secrets-sync issuer, which the emulator's STS trusts and fetches keys from. */
const issuer = () => `${s.url}/v1/identity/oidc/secrets-sync`;

const call = (method: string, path: string, body?: Record<string, unknown>) => s.cli(method, path, body);

beforeEach(async () => {
  s.emu.registerOidcProvider({ url: issuer(), clientIds: [AUDIENCE] });
  await call('POST', 'sys/mounts/my-kv', { type: 'kv-v2' });
  await call('PUT', 'my-kv/data/app', { data: { password: 'wif-S3CRET' } });
});

const drain = async (n = 3) => {
  for (let i = 0; i < n; i++) await s.server.sync.worker.drainOnce();
};
const awsName = (secret = 'app') => `vault/${s.server.core.mounts.get('my-kv/')!.accessor}/${secret}`;
const statusOf = async (dest: string) => Object.values<any>((await call('GET', `sys/sync/destinations/aws-sm/${dest}/associations`)).body.data.associated_secrets)[0];
const providerHost = () => issuer().replace(/^https?:\/\//, '');

function wifRole(sub = 'secrets-sync:root:aws-sm:wif', inlinePolicies?: Record<string, unknown>) {
  return s.emu.registerRole({ roleName: 'ferry-sync', trust: { provider: providerHost(), sub, aud: AUDIENCE }, ...(inlinePolicies ? { inlinePolicies } : {}) }).arn;
}

async function createWifDestination(roleArn: string, name = 'wif') {
  return call('PUT', `sys/sync/destinations/aws-sm/${name}`, {
    role_arn: roleArn,
    identity_token_audience: AUDIENCE,
    region: 'us-east-1',
    endpoint_url: s.emu.endpoint,
  });
}

describe('workload identity federation', () => {
  it('syncs through AssumeRoleWithWebIdentity with a token STS verified through Ferry\'s discovery document', async () => {
    const roleArn = wifRole();
    const created = await createWifDestination(roleArn);
    expect(created.status).toBe(200);
    expect(created.body.data.connection_details).toMatchObject({ identity_token_audience: '*****', role_arn: roleArn, identity_token_ttl: 3600 });
    await call('PUT', 'sys/sync/destinations/aws-sm/wif/associations/set', { mount: 'my-kv', secret_name: 'app' });
    await drain();
    expect((await statusOf('wif')).sync_status).toBe('SYNCED');
    const secret = s.emu.getSecret('us-east-1', awsName())!;
    expect(secret.versions[0]!.secretString).toBe('{"password":"wif-S3CRET"}');

    const log = s.emu.requestLog();
    const sts = log.filter((e) => e.operation === 'AssumeRoleWithWebIdentity');
    expect(sts).toHaveLength(1);
    expect(sts[0]!.status).toBe(200);
    const claims = sts[0]!.webIdentity!;
    expect(claims).toMatchObject({ sub: 'secrets-sync:root:aws-sm:wif', aud: AUDIENCE, iss: issuer() });
    expect(claims.exp - claims.iat).toBe(3600);
    const creates = log.filter((e) => e.operation === 'CreateSecret');
    expect(creates[0]!.accessKeyId).toMatch(/^ASIA/);
    expect(creates[0]!.status).toBe(200);
  });

  it("syncs, updates and unsyncs as a role holding only the guide's minimal policy", async () => {
    await createWifDestination(wifRole(undefined, { minimal: guidePolicies.MINIMAL }));
    await call('PUT', 'sys/sync/destinations/aws-sm/wif/associations/set', { mount: 'my-kv', secret_name: 'app' });
    await drain();
    await call('PUT', 'my-kv/data/app', { data: { password: 'rotated' } });
    s.clock.advance(1_000);
    await drain();
    expect(s.emu.getSecret('us-east-1', awsName())!.versions.find((v) => v.stages.includes('AWSCURRENT'))!.secretString).toBe('{"password":"rotated"}');
    await call('PUT', 'sys/sync/destinations/aws-sm/wif/associations/remove', { mount: 'my-kv', secret_name: 'app' });
    await drain();
    expect(s.emu.getSecret('us-east-1', awsName())).toBeUndefined();
    const calls = s.emu.requestLog({ service: 'secretsmanager' });
    expect(calls.map((e) => e.operation)).toEqual(['CreateSecret', 'UpdateSecret', 'DeleteSecret']);
    expect(calls.every((e) => e.principalArn?.startsWith('arn:aws:sts::123456789012:assumed-role/ferry-sync/'))).toBe(true);
    expect(s.emu.requestLog({ service: 'secretsmanager', notAction: GUIDE_ACTIONS })).toEqual([]);
    expect(s.emu.requestLog({ decision: 'denied' })).toEqual([]);
  });

  it('reuses the session credentials for many deliveries and refreshes them before they lapse', async () => {
    await createWifDestination(wifRole());
    for (const name of ['a', 'b', 'c']) {
      await call('PUT', `my-kv/data/${name}`, { data: { v: name } });
      await call('PUT', 'sys/sync/destinations/aws-sm/wif/associations/set', { mount: 'my-kv', secret_name: name });
    }
    await drain();
    const stsCalls = () => s.emu.requestLog().filter((e) => e.operation === 'AssumeRoleWithWebIdentity').length;
    expect(stsCalls()).toBe(1);
    s.clock.advance(50 * 60_000); // 50 minutes: still valid and outside the refresh window (the last 5 minutes)
    await call('PUT', 'my-kv/data/a', { data: { v: 'a2' } });
    await drain();
    expect(stsCalls()).toBe(1);
    s.clock.advance(6 * 60_000); // 56 minutes: within 5 minutes of expiry → refreshed before the next delivery
    await call('PUT', 'my-kv/data/b', { data: { v: 'b2' } });
    await drain();
    expect(stsCalls()).toBe(2);
    expect((await statusOf('wif')).sync_status).toBe('SYNCED');
    const updates = s.emu.requestLog().filter((e) => e.operation === 'UpdateSecret');
    expect(updates.map((u) => u.status)).toEqual([200, 200]);
  });

  it('shows the STS error on the association and writes nothing when the trust policy expects another sub; fixing the destination recovers', async () => {
    const roleArn = wifRole('secrets-sync:root:aws-sm:someone-else');
    await createWifDestination(roleArn);
    await call('PUT', 'sys/sync/destinations/aws-sm/wif/associations/set', { mount: 'my-kv', secret_name: 'app' });
    await drain();
    const failed = await statusOf('wif');
    expect(failed.sync_status).toBe('CLIENT_SIDE_ERROR');
    expect(failed.last_error).toMatch(/AssumeRoleWithWebIdentity: AccessDenied/);
    expect(s.emu.listSecretNames('us-east-1')).toEqual([]);
    // The operator fixes the trust on the AWS side by pointing the destination at a role that trusts it.
    const good = s.emu.registerRole({ roleName: 'ferry-sync-fixed', trust: { provider: providerHost(), sub: 'secrets-sync:root:aws-sm:wif', aud: AUDIENCE } }).arn;
    expect((await call('PATCH', 'sys/sync/destinations/aws-sm/wif', { role_arn: good })).status).toBe(200);
    await drain();
    expect((await statusOf('wif')).sync_status).toBe('SYNCED');
    expect(s.emu.getSecret('us-east-1', awsName())).toBeDefined();
  });

  it('shows the STS error when the audience is not one the provider accepts', async () => {
    await createWifDestination(wifRole());
    await call('PATCH', 'sys/sync/destinations/aws-sm/wif', { identity_token_audience: 'someone-else' });
    await call('PUT', 'sys/sync/destinations/aws-sm/wif/associations/set', { mount: 'my-kv', secret_name: 'app' });
    await drain();
    const failed = await statusOf('wif');
    expect(failed.sync_status).toBe('CLIENT_SIDE_ERROR');
    expect(failed.last_error).toMatch(/STS AssumeRoleWithWebIdentity: (InvalidIdentityToken|AccessDenied)/);
    expect(s.emu.listSecretNames('us-east-1')).toEqual([]);
  });

  it('syncs with static keys plus role_arn and external_id through AssumeRole, which checks the external id', async () => {
    const role = s.emu.registerRole({ roleName: 'assumed', trust: { externalId: 'ext-123' } }).arn;
    await call('PUT', 'sys/sync/destinations/aws-sm/ar', {
      access_key_id: TEST_ACCESS_KEY,
      secret_access_key: TEST_SECRET_KEY,
      role_arn: role,
      external_id: 'ext-123',
      region: 'us-east-1',
      endpoint_url: s.emu.endpoint,
    });
    await call('PUT', 'sys/sync/destinations/aws-sm/ar/associations/set', { mount: 'my-kv', secret_name: 'app' });
    await drain();
    expect((await statusOf('ar')).sync_status).toBe('SYNCED');
    const assume = s.emu.requestLog().find((e) => e.operation === 'AssumeRole')!;
    expect(assume.status).toBe(200);
    expect(s.emu.requestLog().find((e) => e.operation === 'CreateSecret')!.accessKeyId).toMatch(/^ASIA/);

    await call('PATCH', 'sys/sync/destinations/aws-sm/ar', { external_id: 'wrong' });
    await call('PUT', 'my-kv/data/app', { data: { password: 'next' } });
    s.clock.advance(1000);
    await drain();
    expect((await statusOf('ar')).last_error).toMatch(/AssumeRole: AccessDenied/);
  });

  it('publishes discovery and JWKS that verify a minted token with jose', async () => {
    const { token } = await createSecretsSyncTokenSigner(s.server.core).mint({
      destinationType: 'aws-sm',
      destinationName: 'wif',
      audience: AUDIENCE,
    });
    const discovery: any = await (await fetch(`${issuer()}/.well-known/openid-configuration`)).json();
    expect(discovery.issuer).toBe(issuer());
    const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(discovery.jwks_uri)), { issuer: issuer(), audience: AUDIENCE, currentDate: new Date(s.clock()) });
    expect(payload.sub).toBe('secrets-sync:root:aws-sm:wif');
  });
});
