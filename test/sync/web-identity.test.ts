import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { startListeningServer } from '../support/app.js';
import { startAwsEmulator, type AwsEmulator } from '../support/aws-emulator/index.js';
import { TEST_ACCESS_KEY, TEST_SECRET_KEY } from '../support/sync.js';
import { createSecretsSyncTokenSigner } from '../../src/identity/index.js';

/**
 * Workload identity federation end to end: Ferry signs an identity token, the emulator's
 * strict STS fetches Ferry's discovery document and JWKS over HTTP, verifies the token and
 * the role's trust policy, and Secrets Manager accepts only the session credentials it issued.
 * One injectable clock is shared by Ferry and the emulator.
 */
let emu: AwsEmulator;
let srv: Awaited<ReturnType<typeof startListeningServer>>;
let now: number;
let issuer: string;
const AUDIENCE = 'ferry.test/v1/identity/oidc/secrets-sync';

beforeEach(async () => {
  now = Date.now();
  emu = await startAwsEmulator({ clock: () => now });
  srv = await startListeningServer({ clock: () => now, syncWorker: { start: false } });
  srv.server.core.info.apiAddr = srv.listener.url;
  issuer = `${srv.listener.url}/v1/identity/oidc/secrets-sync`;
  emu.registerOidcProvider({ url: issuer, clientIds: [AUDIENCE] });
  await call('POST', 'sys/mounts/my-kv', { type: 'kv-v2' });
  await call('PUT', 'my-kv/data/app', { data: { password: 'wif-S3CRET' } });
});
afterEach(async () => {
  await srv.close();
  await emu.close();
});

async function call(method: string, path: string, body?: unknown) {
  const res = await fetch(`${srv.listener.url}/v1/${path}`, {
    method,
    headers: { 'X-Vault-Token': 'root', ...(method === 'PATCH' ? { 'Content-Type': 'application/merge-patch+json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}
const drain = async (n = 3) => {
  for (let i = 0; i < n; i++) await srv.server.sync.worker.drainOnce();
};
const awsName = (secret = 'app') => `vault/${srv.server.core.mounts.get('my-kv/')!.accessor}/${secret}`;
const statusOf = async (dest: string) => Object.values<any>((await call('GET', `sys/sync/destinations/aws-sm/${dest}/associations`)).body.data.associated_secrets)[0];
const providerHost = () => issuer.replace(/^https?:\/\//, '');

function wifRole(sub = 'secrets-sync:root:aws-sm:wif') {
  return emu.registerRole({ roleName: 'ferry-sync', trust: { provider: providerHost(), sub, aud: AUDIENCE } }).arn;
}

async function createWifDestination(roleArn: string, name = 'wif') {
  return call('PUT', `sys/sync/destinations/aws-sm/${name}`, {
    role_arn: roleArn,
    identity_token_audience: AUDIENCE,
    region: 'us-east-1',
    endpoint_url: emu.endpoint,
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
    const secret = emu.getSecret('us-east-1', awsName())!;
    expect(secret.versions[0]!.secretString).toBe('{"password":"wif-S3CRET"}');

    const log = emu.requestLog();
    const sts = log.filter((e) => e.operation === 'AssumeRoleWithWebIdentity');
    expect(sts).toHaveLength(1);
    expect(sts[0]!.status).toBe(200);
    const claims = sts[0]!.webIdentity!;
    expect(claims).toMatchObject({ sub: 'secrets-sync:root:aws-sm:wif', aud: AUDIENCE, iss: issuer });
    expect(claims.exp - claims.iat).toBe(3600);
    const creates = log.filter((e) => e.operation === 'CreateSecret');
    expect(creates[0]!.accessKeyId).toMatch(/^ASIA/);
    expect(creates[0]!.status).toBe(200);
  });

  it('reuses the session credentials for many deliveries and refreshes them before they lapse', async () => {
    await createWifDestination(wifRole());
    for (const name of ['a', 'b', 'c']) {
      await call('PUT', `my-kv/data/${name}`, { data: { v: name } });
      await call('PUT', 'sys/sync/destinations/aws-sm/wif/associations/set', { mount: 'my-kv', secret_name: name });
    }
    await drain();
    const stsCalls = () => emu.requestLog().filter((e) => e.operation === 'AssumeRoleWithWebIdentity').length;
    expect(stsCalls()).toBe(1);
    now += 50 * 60_000; // 50 minutes: still valid and outside the refresh window (the last 5 minutes)
    await call('PUT', 'my-kv/data/a', { data: { v: 'a2' } });
    await drain();
    expect(stsCalls()).toBe(1);
    now += 6 * 60_000; // 56 minutes: within 5 minutes of expiry → refreshed before the next delivery
    await call('PUT', 'my-kv/data/b', { data: { v: 'b2' } });
    await drain();
    expect(stsCalls()).toBe(2);
    expect((await statusOf('wif')).sync_status).toBe('SYNCED');
    const puts = emu.requestLog().filter((e) => e.operation === 'PutSecretValue');
    expect(puts.every((p) => p.status === 200)).toBe(true);
  });

  it('shows the STS error on the association and writes nothing when the trust policy expects another sub; fixing the destination recovers', async () => {
    const roleArn = wifRole('secrets-sync:root:aws-sm:someone-else');
    await createWifDestination(roleArn);
    await call('PUT', 'sys/sync/destinations/aws-sm/wif/associations/set', { mount: 'my-kv', secret_name: 'app' });
    await drain();
    const failed = await statusOf('wif');
    expect(failed.sync_status).toBe('CLIENT_SIDE_ERROR');
    expect(failed.last_error).toMatch(/AssumeRoleWithWebIdentity: AccessDenied/);
    expect(emu.listSecretNames('us-east-1')).toEqual([]);
    // The operator fixes the trust on the AWS side by pointing the destination at a role that trusts it.
    const good = emu.registerRole({ roleName: 'ferry-sync-fixed', trust: { provider: providerHost(), sub: 'secrets-sync:root:aws-sm:wif', aud: AUDIENCE } }).arn;
    expect((await call('PATCH', 'sys/sync/destinations/aws-sm/wif', { role_arn: good })).status).toBe(200);
    await drain();
    expect((await statusOf('wif')).sync_status).toBe('SYNCED');
    expect(emu.getSecret('us-east-1', awsName())).toBeDefined();
  });

  it('shows the STS error when the audience is not one the provider accepts', async () => {
    await createWifDestination(wifRole());
    await call('PATCH', 'sys/sync/destinations/aws-sm/wif', { identity_token_audience: 'someone-else' });
    await call('PUT', 'sys/sync/destinations/aws-sm/wif/associations/set', { mount: 'my-kv', secret_name: 'app' });
    await drain();
    const failed = await statusOf('wif');
    expect(failed.sync_status).toBe('CLIENT_SIDE_ERROR');
    expect(failed.last_error).toMatch(/STS AssumeRoleWithWebIdentity: (InvalidIdentityToken|AccessDenied)/);
    expect(emu.listSecretNames('us-east-1')).toEqual([]);
  });

  it('syncs with static keys plus role_arn and external_id through AssumeRole, which checks the external id', async () => {
    const role = emu.registerRole({ roleName: 'assumed', trust: { externalId: 'ext-123' } }).arn;
    await call('PUT', 'sys/sync/destinations/aws-sm/ar', {
      access_key_id: TEST_ACCESS_KEY,
      secret_access_key: TEST_SECRET_KEY,
      role_arn: role,
      external_id: 'ext-123',
      region: 'us-east-1',
      endpoint_url: emu.endpoint,
    });
    await call('PUT', 'sys/sync/destinations/aws-sm/ar/associations/set', { mount: 'my-kv', secret_name: 'app' });
    await drain();
    expect((await statusOf('ar')).sync_status).toBe('SYNCED');
    const assume = emu.requestLog().find((e) => e.operation === 'AssumeRole')!;
    expect(assume.status).toBe(200);
    expect(emu.requestLog().find((e) => e.operation === 'CreateSecret')!.accessKeyId).toMatch(/^ASIA/);

    await call('PATCH', 'sys/sync/destinations/aws-sm/ar', { external_id: 'wrong' });
    await call('PUT', 'my-kv/data/app', { data: { password: 'next' } });
    now += 1000;
    await drain();
    expect((await statusOf('ar')).last_error).toMatch(/AssumeRole: AccessDenied/);
  });

  it('publishes discovery and JWKS that verify a minted token with jose', async () => {
    const { token } = await createSecretsSyncTokenSigner(srv.server.core).mint({
      destinationType: 'aws-sm',
      destinationName: 'wif',
      audience: AUDIENCE,
    });
    const discovery: any = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
    expect(discovery.issuer).toBe(issuer);
    const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(discovery.jwks_uri)), { issuer, audience: AUDIENCE, currentDate: new Date(now) });
    expect(payload.sub).toBe('secrets-sync:root:aws-sm:wif');
  });
});
