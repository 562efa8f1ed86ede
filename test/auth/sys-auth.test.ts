import { describe, expect, it } from 'vitest';
import { useTestServer } from '../support/fixtures.js';
import { CLI_HEADERS, tokenWithPolicy } from '../security/support.js';
import { approleRole, enableAuth, login, secretIdFor } from './helpers.js';

/** `sys/auth`: enabling, listing, reading, tuning and disabling auth methods (research §1). */
const t = useTestServer();

/** The body `vault auth enable approle` sends (api.MountInput). */
const CLI_ENABLE = {
  type: 'approle',
  description: '',
  config: { options: null, default_lease_ttl: '0s', max_lease_ttl: '0s', force_no_cache: false },
  local: false,
  seal_wrap: false,
  external_entropy_access: false,
  options: null,
};

const authList = async () => Object.keys((await t.call('GET', '/v1/sys/auth')).json().data).sort();

describe('enable', () => {
  it('enables with the CLI body and lists the method with an auth_<type>_ accessor', async () => {
    const res = await t.call('POST', '/v1/sys/auth/approle', { headers: CLI_HEADERS, body: CLI_ENABLE });
    expect(res.statusCode).toBe(204);
    const entry = (await t.call('GET', '/v1/sys/auth')).json().data['approle/'];
    expect(entry).toMatchObject({
      type: 'approle',
      description: '',
      config: { default_lease_ttl: 0, max_lease_ttl: 0, force_no_cache: false, token_type: 'default-service' },
      options: null,
      local: false,
      seal_wrap: false,
      deprecation_status: 'supported',
    });
    expect(entry.accessor).toMatch(/^auth_approle_[0-9a-f]{8}$/);
  });

  it('accepts node-vault and hvac bodies (unknown keys such as mount_point, numbers, a description)', async () => {
    const res = await t.call('POST', '/v1/sys/auth/up', {
      body: { mount_point: 'up', type: 'userpass', description: 'people', config: { default_lease_ttl: 3600, max_lease_ttl: '2h' }, local: false },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().warnings).toEqual(['Endpoint ignored these unrecognized parameters: [mount_point]']);
    const entry = (await t.call('GET', '/v1/sys/auth/up')).json().data;
    expect(entry).toMatchObject({ type: 'userpass', description: 'people', config: { default_lease_ttl: 3600, max_lease_ttl: 7200 } });
  });

  it('answers 409 for a path in use or overlapping another auth mount, naming it relative to auth/', async () => {
    await enableAuth(t, 'approle');
    for (const [path, existing] of [
      ['approle', 'approle/'],
      ['approle/inner', 'approle/'],
      ['token', 'token/'],
      ['token/x', 'token/'],
    ]) {
      const res = await t.call('POST', `/v1/sys/auth/${path}`, { body: { type: 'userpass' } });
      expect(res.statusCode, path).toBe(409);
      expect(res.json()).toEqual({ errors: [`path is already in use at ${existing}`] });
    }
    await enableAuth(t, 'userpass', 'team/people');
    const above = await t.call('POST', '/v1/sys/auth/team', { body: { type: 'userpass' } });
    expect(above.statusCode).toBe(409);
    expect(above.json()).toEqual({ errors: ['path is already in use at team/people/'] });
  });

  it.each([
    [{ type: 'token' }, 'token credential backend cannot be instantiated'],
    [{ type: 'ldap' }, 'plugin not found in the catalog: ldap'],
    [{}, 'backend type must be specified as a string'],
    [{ type: 'approle', options: { version: '2' } }, 'auth method "approle" does not allow setting a version'],
    [{ type: 'approle', config: { default_lease_ttl: '2h', max_lease_ttl: '1h' } }, 'given default lease TTL greater than given max lease TTL'],
    [{ type: 'approle', config: { token_type: 'weird' } }, "invalid value for 'token_type'"],
    [{ type: 'approle', config: { listing_visibility: 'loud' } }, 'invalid listing_visibility loud'],
  ])('refuses %j with Vault’s 400 and creates nothing', async (body, message) => {
    const before = await authList();
    const res = await t.call('POST', '/v1/sys/auth/x', { body });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ errors: [message] });
    expect(await authList()).toEqual(before);
  });

  it('refuses a bad TTL with a 400', async () => {
    const res = await t.call('POST', '/v1/sys/auth/x', { body: { type: 'approle', config: { default_lease_ttl: 'soon' } } });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0]).toMatch(/default_lease_ttl/);
  });

  it.each(['batch', 'default-batch', 'service', 'default-service'])('accepts config.token_type=%s', async (tokenType) => {
    expect((await t.call('POST', '/v1/sys/auth/x', { body: { type: 'approle', config: { token_type: tokenType } } })).statusCode).toBe(204);
    expect((await t.call('GET', '/v1/sys/auth/x')).json().data.config.token_type).toBe(tokenType);
  });
});

describe('list and read', () => {
  it('lists token/ and copies the entries to the top level, as Vault does for sys/auth', async () => {
    await enableAuth(t, 'jwt');
    const body = (await t.call('GET', '/v1/sys/auth')).json();
    expect(Object.keys(body.data).sort()).toEqual(['jwt/', 'token/']);
    expect(body['jwt/']).toEqual(body.data['jwt/']);
    expect(body.data['token/']).toMatchObject({ type: 'token', description: 'token based credentials' });
    for (const m of Object.values<any>(body.data)) {
      expect(Number.isInteger(m.config.default_lease_ttl)).toBe(true);
      expect(Number.isInteger(m.config.max_lease_ttl)).toBe(true);
      expect(typeof m.uuid).toBe('string');
    }
  });

  it('reads one method; a missing one is a 400 naming the path', async () => {
    await enableAuth(t, 'userpass');
    const res = await t.call('GET', '/v1/sys/auth/userpass');
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toMatchObject({ type: 'userpass', config: { token_type: 'default-service' } });
    const missing = await t.call('GET', '/v1/sys/auth/nope');
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toEqual({ errors: ['No auth engine at nope/'] });
  });

  it('answers the Go client’s GetAuth at sys/mounts/auth/:path', async () => {
    await enableAuth(t, 'approle');
    const res = await t.call('GET', '/v1/sys/mounts/auth/approle');
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toMatchObject({ type: 'approle', config: { token_type: 'default-service' } });
  });

  it('keeps auth methods out of sys/mounts', async () => {
    await enableAuth(t, 'approle');
    expect(Object.keys((await t.call('GET', '/v1/sys/mounts')).json().data)).not.toContain('auth/approle/');
  });
});

describe('tune', () => {
  it('reads the effective TTLs and token type; `vault auth tune` (PUT sys/mounts/auth/<p>/tune) changes the TTL logins get', async () => {
    await enableAuth(t, 'approle');
    const before = await t.call('GET', '/v1/sys/auth/approle/tune');
    expect(before.json().data).toMatchObject({
      default_lease_ttl: 2764800,
      max_lease_ttl: 2764800,
      force_no_cache: false,
      description: '',
      token_type: 'default-service',
    });
    const tune = await t.call('PUT', '/v1/sys/mounts/auth/approle/tune', { headers: CLI_HEADERS, body: { default_lease_ttl: '1h', description: 'ci' } });
    expect(tune.statusCode).toBe(204);
    expect((await t.call('GET', '/v1/sys/mounts/auth/approle/tune')).json().data).toMatchObject({ default_lease_ttl: 3600, description: 'ci' });
    const roleId = await approleRole(t, 'ci');
    const { secret_id } = await secretIdFor(t, 'ci');
    const res = await login(t, 'auth/approle/login', { role_id: roleId, secret_id });
    expect(res.json().auth.lease_duration).toBe(3600);
  });

  it('tunes through sys/auth/:path/tune too; an unknown token type is refused', async () => {
    await enableAuth(t, 'userpass');
    expect((await t.call('POST', '/v1/sys/auth/userpass/tune', { body: { max_lease_ttl: 7200, token_type: 'batch' } })).statusCode).toBe(204);
    expect((await t.call('GET', '/v1/sys/auth/userpass/tune')).json().data).toMatchObject({ max_lease_ttl: 7200, token_type: 'batch' });
    const weird = await t.call('POST', '/v1/sys/auth/userpass/tune', { body: { token_type: 'weird' } });
    expect(weird.statusCode).toBe(400);
    expect(weird.json()).toEqual({ errors: ["invalid value for 'token_type'"] });
    expect((await t.call('GET', '/v1/sys/auth/userpass/tune')).json().data.token_type).toBe('batch');
  });

  it('answers a missing method with Vault’s sysview message on both paths', async () => {
    for (const path of ['/v1/sys/auth/nope/tune', '/v1/sys/mounts/auth/nope/tune']) {
      const res = await t.call('GET', path);
      expect(res.statusCode, path).toBe(400);
      expect(res.json()).toEqual({ errors: ['cannot fetch sysview for path "auth/nope/"'] });
    }
  });

  it('refuses token_type on a secrets engine', async () => {
    const res = await t.call('POST', '/v1/sys/mounts/secret/tune', { body: { token_type: 'service' } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ errors: ['token_type can only be modified on auth mounts'] });
  });
});

describe('disable', () => {
  it('revokes every token the method’s logins issued and deletes its roles', async () => {
    await enableAuth(t, 'approle');
    await t.call('PUT', '/v1/sys/policies/acl/creator', { body: { policy: 'path "auth/token/create" { capabilities = ["update"] }' } });
    const roleId = await approleRole(t, 'ci', { token_policies: 'creator' });
    const tokens: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { secret_id } = await secretIdFor(t, 'ci');
      tokens.push((await login(t, 'auth/approle/login', { role_id: roleId, secret_id })).json().auth.client_token);
    }
    // A child of a login token goes with it.
    const child = await t.call('POST', '/v1/auth/token/create', { token: tokens[0]!, body: { policies: ['default'] } });
    expect(child.statusCode).toBe(200);
    tokens.push(child.json().auth.client_token);
    // A token from another mount stays.
    await enableAuth(t, 'approle', 'other');
    const otherRole = await approleRole(t, 'ci', {}, 'other');
    const otherSecret = await secretIdFor(t, 'ci', {}, 'other');
    const survivor = (await login(t, 'auth/other/login', { role_id: otherRole, secret_id: otherSecret.secret_id })).json().auth.client_token;

    expect((await t.call('DELETE', '/v1/sys/auth/approle', { headers: CLI_HEADERS })).statusCode).toBe(204);
    for (const token of tokens) expect((await t.call('GET', '/v1/auth/token/lookup-self', { token })).statusCode).toBe(403);
    expect((await t.call('GET', '/v1/auth/token/lookup-self', { token: survivor })).statusCode).toBe(200);
    expect(await authList()).toEqual(['other/', 'token/']);
    // Enabled again at the same path, it starts empty.
    await enableAuth(t, 'approle');
    expect((await t.call('GET', '/v1/auth/approle/role/ci')).statusCode).toBe(404);
  });

  it('refuses a login token as soon as its method is gone, before its revocation has run', async () => {
    await enableAuth(t, 'approle');
    const roleId = await approleRole(t, 'ci');
    const { secret_id } = await secretIdFor(t, 'ci');
    const token = (await login(t, 'auth/approle/login', { role_id: roleId, secret_id })).json().auth.client_token;
    expect((await t.call('GET', '/v1/auth/token/lookup-self', { token })).statusCode).toBe(200);
    // The mount leaves the table; the revocation that follows it in a disable has not happened.
    await t.server.core.mounts.update((mounts) => {
      mounts.splice(mounts.findIndex((m) => m.path === 'auth/approle/'), 1);
    });
    expect((await t.call('GET', '/v1/auth/token/lookup-self', { token })).statusCode).toBe(403);
  });

  it('answers 204 when nothing is mounted, and refuses to disable token/', async () => {
    expect((await t.call('DELETE', '/v1/sys/auth/nope')).statusCode).toBe(204);
    const res = await t.call('DELETE', '/v1/sys/auth/token');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ errors: ['token credential backend cannot be disabled'] });
  });

  it('cannot be bypassed through sys/mounts', async () => {
    await enableAuth(t, 'approle');
    const res = await t.call('DELETE', '/v1/sys/mounts/auth/approle');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ errors: ['cannot unmount "auth/approle/"'] });
    expect(await authList()).toEqual(['approle/', 'token/']);
  });
});

describe('who may', () => {
  it('needs sudo on sys/auth/* to enable, read and disable; read on sys/auth to list', async () => {
    const noSudo = await tokenWithPolicy(t, 'auth-admin', 'path "sys/auth/*" { capabilities = ["create", "read", "update", "delete"] }\npath "sys/auth" { capabilities = ["read"] }');
    const sudo = await tokenWithPolicy(t, 'auth-sudo', 'path "sys/auth/*" { capabilities = ["create", "read", "update", "delete", "sudo"] }');
    expect((await t.call('POST', '/v1/sys/auth/approle', { token: noSudo, body: { type: 'approle' } })).statusCode).toBe(403);
    expect(await authList()).toEqual(['token/']);
    expect((await t.call('POST', '/v1/sys/auth/approle', { token: sudo, body: { type: 'approle' } })).statusCode).toBe(204);
    expect((await t.call('GET', '/v1/sys/auth', { token: noSudo })).statusCode).toBe(200);
    expect((await t.call('GET', '/v1/sys/auth', { token: sudo })).statusCode).toBe(403);
    expect((await t.call('DELETE', '/v1/sys/auth/approle', { token: noSudo })).statusCode).toBe(403);
    expect((await t.call('DELETE', '/v1/sys/auth/approle', { token: sudo })).statusCode).toBe(204);
  });
});
