import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SaltCache } from '../../src/auth/login/mount-storage.js';
import { DEFAULT_TOKEN_SETTINGS } from '../../src/auth/login/token-fields.js';
import { hashPassword } from '../../src/auth/userpass/passwords.js';
import { writeUser } from '../../src/auth/userpass/users.js';
import { mountDataPrefix } from '../../src/kernel/entries.js';
import type { TestServer } from '../support/app.js';
import { useTestServer } from '../support/fixtures.js';
import { tokenWithPolicy } from '../security/support.js';
import { enableAuth, expectAuthBlock, liveTokens, login } from './helpers.js';

/** userpass (research §4): users with scrypt-hashed passwords, their token settings, the login. */
const t = useTestServer();

/**
 * Each scrypt hash costs real CPU by design, so the users most tests start from are stored
 * with hashes made once per file; creating users through the API is tested on its own.
 */
let seedHashes: Record<string, string>;
beforeAll(async () => {
  seedHashes = { 'correct horse': await hashPassword('correct horse'), pw: await hashPassword('pw') };
});
async function seedUser(server: TestServer, name: string, password: string, settings: Partial<typeof DEFAULT_TOKEN_SETTINGS> = {}) {
  const mount = server.server.core.mounts.get('auth/userpass/')!;
  await writeUser({ store: server.server.core.store, salts: new SaltCache() }, mount, name, {
    password_hash: seedHashes[password]!,
    settings: { ...DEFAULT_TOKEN_SETTINGS, ...settings },
  });
}

beforeEach(async () => {
  await enableAuth(t, 'userpass');
  await seedUser(t, 'alice', 'correct horse', { token_policies: ['admins'], token_ttl: 3600 });
});

describe('users', () => {
  it('creates a user from the CLI’s values (name lower-cased); reads its token settings, never its password or hash', async () => {
    const write = await t.call('POST', '/v1/auth/userpass/users/Carol', {
      body: { password: 'correct horse', token_policies: 'admins', token_ttl: '1h' },
    });
    expect(write.statusCode).toBe(204);
    const res = await t.call('GET', '/v1/auth/userpass/users/carol');
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toEqual({
      token_bound_cidrs: [],
      token_explicit_max_ttl: 0,
      token_max_ttl: 0,
      token_no_default_policy: false,
      token_num_uses: 0,
      token_period: 0,
      token_policies: ['admins'],
      token_ttl: 3600,
      token_type: 'default',
    });
    expect(res.body).not.toMatch(/password|scrypt|correct horse/);
    expect((await t.call('GET', '/v1/auth/userpass/users?list=true')).json().data.keys).toEqual(['alice', 'carol']);
    const mount = t.server.core.mounts.get('auth/userpass/')!;
    const row = await t.server.core.store.get(`${mountDataPrefix(mount)}user/carol`);
    const stored = JSON.parse(row!.value.toString('utf8'));
    expect(stored.password_hash).toMatch(/^scrypt\$32768\$8\$3\$[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}$/);
    expect(JSON.stringify(stored)).not.toContain('correct horse');
    expect((await login(t, 'auth/userpass/login/carol', { password: 'correct horse' })).statusCode).toBe(200);
  });

  it('refuses a new user without a password, and a wrongly typed field; nothing is created', async () => {
    const missing = await t.call('POST', '/v1/auth/userpass/users/bob', { body: { token_policies: 'x' } });
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toEqual({ errors: ['missing password'] });
    const typed = await t.call('POST', '/v1/auth/userpass/users/bob', { body: { password: 'pw', token_no_default_policy: 'perhaps' } });
    expect(typed.statusCode).toBe(400);
    expect(typed.json().errors[0]).toMatch(/^Field validation failed: error converting input for field "token_no_default_policy"/);
    expect((await t.call('GET', '/v1/auth/userpass/users/bob')).statusCode).toBe(404);
  });

  it('updates token settings without touching the password; the legacy names work', async () => {
    expect((await t.call('POST', '/v1/auth/userpass/users/alice', { body: { policies: 'ops', ttl: '30m' } })).statusCode).toBe(204);
    expect((await t.call('GET', '/v1/auth/userpass/users/alice')).json().data).toMatchObject({ token_policies: ['ops'], token_ttl: 1800 });
    expect((await login(t, 'auth/userpass/login/alice', { password: 'correct horse' })).statusCode).toBe(200);
  });

  it('changes a password and the policies through their own paths', async () => {
    expect((await t.call('POST', '/v1/auth/userpass/users/alice/password', { body: { password: 'battery staple' } })).statusCode).toBe(204);
    expect((await login(t, 'auth/userpass/login/alice', { password: 'correct horse' })).statusCode).toBe(400);
    expect((await t.call('POST', '/v1/auth/userpass/users/alice/policies', { body: { token_policies: 'a,b' } })).statusCode).toBe(204);
    const auth = (await login(t, 'auth/userpass/login/alice', { password: 'battery staple' })).json().auth;
    expect(auth.policies).toEqual(['a', 'b', 'default']);
    const unknown = await t.call('POST', '/v1/auth/userpass/users/nobody/password', { body: { password: 'x' } });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json()).toEqual({ errors: ['username does not exist'] });
  });

  it('deletes a user (204 also when missing); the user can no longer log in', async () => {
    expect((await t.call('DELETE', '/v1/auth/userpass/users/alice')).statusCode).toBe(204);
    expect((await t.call('DELETE', '/v1/auth/userpass/users/alice')).statusCode).toBe(204);
    expect((await login(t, 'auth/userpass/login/alice', { password: 'correct horse' })).json()).toEqual({
      errors: ['invalid username or password'],
    });
  });
});

describe('login', () => {
  it('issues an orphan token with the user’s policies and TTL, username metadata and display name', async () => {
    const res = await login(t, 'auth/userpass/login/ALICE', { password: 'correct horse' });
    expect(res.statusCode).toBe(200);
    const auth = res.json().auth;
    expectAuthBlock(auth);
    expect(auth).toMatchObject({ policies: ['admins', 'default'], metadata: { username: 'alice' }, lease_duration: 3600, renewable: true });
    const self = (await t.call('GET', '/v1/auth/token/lookup-self', { token: auth.client_token })).json().data;
    expect(self).toMatchObject({ display_name: 'userpass-alice', path: 'auth/userpass/login/ALICE', meta: { username: 'alice' }, orphan: true });
  });

  it('gives a wrong password and an unknown user the same 400, and issues no token', async () => {
    const before = await liveTokens(t);
    for (const [user, password] of [
      ['alice', 'wrong'],
      ['mallory', 'correct horse'],
    ]) {
      const res = await login(t, `auth/userpass/login/${user}`, { password });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ errors: ['invalid username or password'] });
    }
    const empty = await login(t, 'auth/userpass/login/alice', {});
    expect(empty.statusCode).toBe(400);
    expect(empty.json()).toEqual({ errors: ['missing password'] });
    expect(await liveTokens(t)).toEqual(before);
  });

  it('refuses a login from outside token_bound_cidrs with 403', async () => {
    await seedUser(t, 'ops', 'pw', { token_bound_cidrs: ['10.0.0.0/8'] });
    const outside = await login(t, 'auth/userpass/login/ops', { password: 'pw' }, '192.0.2.1');
    expect(outside.statusCode).toBe(403);
    expect(outside.json()).toEqual({ errors: ['permission denied'] });
    expect((await login(t, 'auth/userpass/login/ops', { password: 'pw' }, '10.9.8.7')).statusCode).toBe(200);
  });

  it('a user allowed only to log in and read one secret can do just that', async () => {
    await t.call('PUT', '/v1/sys/policies/acl/admins', { body: { policy: 'path "secret/data/team/*" { capabilities = ["read"] }' } });
    await t.call('POST', '/v1/secret/data/team/db', { body: { data: { password: 'hunter2' } } });
    const token = (await login(t, 'auth/userpass/login/alice', { password: 'correct horse' })).json().auth.client_token;
    expect((await t.call('GET', '/v1/secret/data/team/db', { token })).json().data.data).toEqual({ password: 'hunter2' });
    expect((await t.call('POST', '/v1/secret/data/team/db', { token, body: { data: {} } })).statusCode).toBe(403);
    expect((await t.call('GET', '/v1/auth/userpass/users/alice', { token })).statusCode).toBe(403);
    expect((await t.call('POST', '/v1/auth/userpass/users/alice/password', { token, body: { password: 'mine' } })).statusCode).toBe(403);
  });

  it('lets a helpdesk token reset passwords but not read users or create them', async () => {
    const helpdesk = await tokenWithPolicy(t, 'helpdesk', 'path "auth/userpass/users/+/password" { capabilities = ["update"] }');
    expect((await t.call('POST', '/v1/auth/userpass/users/alice/password', { token: helpdesk, body: { password: 'reset' } })).statusCode).toBe(204);
    expect((await t.call('GET', '/v1/auth/userpass/users/alice', { token: helpdesk })).statusCode).toBe(403);
    expect((await t.call('POST', '/v1/auth/userpass/users/eve', { token: helpdesk, body: { password: 'x' } })).statusCode).toBe(403);
  });
});
