import { describe, expect, it } from 'vitest';
import { closeAfterTest, useTestServer } from '../support/fixtures.js';
import { startTestIssuer } from '../support/oidc-issuer.js';
import { CLI_HEADERS } from '../security/support.js';

/**
 * The `vault` CLI's auth request flows replayed as it sends them (research §1, §4, §5): the Go
 * client strips trailing slashes, sends no Content-Type, writes with PUT and every `key=value`
 * as a JSON string; each response field the CLI reads is checked with the type it decodes into.
 */
const t = useTestServer();
const cli = (method: string, path: string, body?: unknown, token: string | null = 'root') =>
  t.call(method, path, { headers: CLI_HEADERS, token, ...(body === undefined ? {} : { rawBody: JSON.stringify(body) }) });

/** What `vault write auth/.../login` and `vault login -method=…` print from the auth block. */
function expectCliAuth(body: any, meta: Record<string, string>): string {
  const auth = body.auth;
  expect(typeof auth.client_token).toBe('string'); // token
  expect(typeof auth.accessor).toBe('string'); // token_accessor
  expect(Number.isInteger(auth.lease_duration)).toBe(true); // token_duration
  expect(typeof auth.renewable).toBe('boolean'); // token_renewable
  expect(auth.token_policies).toEqual(expect.arrayContaining(['default'])); // token_policies
  expect(auth.policies).toEqual(auth.token_policies); // policies
  expect(auth.identity_policies ?? []).toEqual([]); // identity_policies
  expect(auth.metadata).toEqual(meta); // token_meta_*
  expect(body.wrap_info).toBeNull();
  expect(body.warnings).toBeNull();
  return auth.client_token as string;
}

describe('vault auth enable | list | tune | disable', () => {
  it('runs the whole flow with the bodies the CLI sends', async () => {
    const enable = await cli('POST', '/v1/sys/auth/approle', {
      type: 'approle',
      description: '',
      config: { options: null, default_lease_ttl: '0s', max_lease_ttl: '0s', force_no_cache: false },
      local: false,
      seal_wrap: false,
      external_entropy_access: false,
      options: null,
    });
    expect(enable.statusCode).toBe(204);
    // `vault auth enable -path=ci/jwt -description="CI logins" -default-lease-ttl=30m jwt`
    const withFlags = await cli('POST', '/v1/sys/auth/ci/jwt', {
      type: 'jwt',
      description: 'CI logins',
      config: { options: null, default_lease_ttl: '30m0s', max_lease_ttl: '0s', force_no_cache: false },
      local: false,
      seal_wrap: false,
      external_entropy_access: false,
      options: null,
    });
    expect(withFlags.statusCode).toBe(204);

    // `vault auth list` (and -detailed): the map of MountOutput, decoded strictly by the Go client.
    const list = await cli('GET', '/v1/sys/auth');
    expect(list.statusCode).toBe(200);
    expect(list.headers['content-type']).toBe('application/json');
    const data = list.json().data;
    expect(Object.keys(data).sort()).toEqual(['approle/', 'ci/jwt/', 'token/']);
    for (const [path, m] of Object.entries<any>(data)) {
      expect(path.endsWith('/')).toBe(true);
      for (const k of ['type', 'description', 'accessor', 'uuid', 'plugin_version', 'running_plugin_version']) expect(typeof m[k], `${path} ${k}`).toBe('string');
      for (const k of ['local', 'seal_wrap', 'external_entropy_access']) expect(typeof m[k], `${path} ${k}`).toBe('boolean');
      expect(Number.isInteger(m.config.default_lease_ttl)).toBe(true);
      expect(Number.isInteger(m.config.max_lease_ttl)).toBe(true);
      expect(typeof m.config.force_no_cache).toBe('boolean');
      expect(typeof m.config.token_type).toBe('string');
      expect(m.options === null || typeof m.options === 'object').toBe(true);
    }
    expect(data['ci/jwt/']).toMatchObject({ type: 'jwt', description: 'CI logins', config: { default_lease_ttl: 1800 } });

    // `vault auth tune -default-lease-ttl=1h -description=tuned approle`
    expect((await cli('PUT', '/v1/sys/mounts/auth/approle/tune', { default_lease_ttl: '1h0m0s', description: 'tuned' })).statusCode).toBe(204);
    expect((await cli('GET', '/v1/sys/auth')).json().data['approle/']).toMatchObject({ description: 'tuned', config: { default_lease_ttl: 3600 } });

    // `vault auth enable approle` again: the CLI prints Vault's error.
    const again = await cli('POST', '/v1/sys/auth/approle', { type: 'approle' });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toEqual({ errors: ['path is already in use at approle/'] });

    // `vault auth disable approle`, twice ("if it existed").
    expect((await cli('DELETE', '/v1/sys/auth/approle')).statusCode).toBe(204);
    expect((await cli('DELETE', '/v1/sys/auth/approle')).statusCode).toBe(204);
    expect(Object.keys((await cli('GET', '/v1/sys/auth')).json().data).sort()).toEqual(['ci/jwt/', 'token/']);
  });
});

describe('vault login -method=userpass', () => {
  it('PUTs the password to auth/userpass/login/<user> and gets every field the CLI prints', async () => {
    expect((await cli('POST', '/v1/sys/auth/userpass', { type: 'userpass' })).statusCode).toBe(204);
    // `vault write auth/userpass/users/alice password=… token_policies=admins`
    expect((await cli('PUT', '/v1/auth/userpass/users/alice', { password: 'correct horse', token_policies: 'admins' })).statusCode).toBe(204);
    const res = await cli('PUT', '/v1/auth/userpass/login/alice', { password: 'correct horse' }, null);
    expect(res.statusCode).toBe(200);
    const token = expectCliAuth(res.json(), { username: 'alice' });
    expect(res.json().auth.lease_duration).toBe(2764800);
    // The token helper then holds the token; `vault token lookup` reads it back.
    const self = (await cli('GET', '/v1/auth/token/lookup-self', undefined, token)).json().data;
    expect(self).toMatchObject({ policies: ['admins', 'default'], meta: { username: 'alice' }, renewable: true });
    // A wrong password: `Error authenticating: … Code: 400. Errors: * invalid username or password`.
    const wrong = await cli('PUT', '/v1/auth/userpass/login/alice', { password: 'nope' }, null);
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json()).toEqual({ errors: ['invalid username or password'] });
  });
});

describe('vault write auth/approle/login', () => {
  it('sets up a role with string values, fetches its IDs and logs in', async () => {
    expect((await cli('POST', '/v1/sys/auth/approle', { type: 'approle' })).statusCode).toBe(204);
    // `vault write auth/approle/role/ci token_policies=ci token_ttl=20m secret_id_num_uses=10`
    expect((await cli('PUT', '/v1/auth/approle/role/ci', { secret_id_num_uses: '10', token_policies: 'ci', token_ttl: '20m' })).statusCode).toBe(204);
    // `vault list auth/approle/role`
    expect((await cli('GET', '/v1/auth/approle/role?list=true')).json().data).toEqual({ keys: ['ci'] });
    // `vault read -field=role_id auth/approle/role/ci/role-id`
    const roleId = (await cli('GET', '/v1/auth/approle/role/ci/role-id')).json().data.role_id;
    // `vault write -f -field=secret_id auth/approle/role/ci/secret-id` (the body is the literal null)
    const generated = await t.call('PUT', '/v1/auth/approle/role/ci/secret-id', { headers: CLI_HEADERS, rawBody: 'null' });
    expect(generated.statusCode).toBe(200);
    const secretId = generated.json().data.secret_id;
    const res = await cli('PUT', '/v1/auth/approle/login', { role_id: roleId, secret_id: secretId }, null);
    expect(res.statusCode).toBe(200);
    expectCliAuth(res.json(), { role_name: 'ci' });
    expect(res.json().auth.lease_duration).toBe(1200);
  });
});

describe('vault write auth/jwt/login', () => {
  it('logs in with role= and jwt= as the CLI and hashicorp/vault-action send them', async () => {
    const issuer = closeAfterTest(await startTestIssuer());
    expect((await cli('POST', '/v1/sys/auth/jwt', { type: 'jwt' })).statusCode).toBe(204);
    expect((await cli('PUT', '/v1/auth/jwt/config', { oidc_discovery_url: issuer.url, bound_issuer: issuer.url })).statusCode).toBe(204);
    const role = {
      role_type: 'jwt',
      user_claim: 'actor',
      bound_audiences: 'https://github.com/org',
      bound_claims_type: 'glob',
      bound_claims: '{"sub":"repo:org/name:*"}',
      token_policies: 'ci',
      token_ttl: '15m',
    };
    expect((await cli('PUT', '/v1/auth/jwt/role/ci', role)).statusCode).toBe(204);
    const res = await cli('PUT', '/v1/auth/jwt/login', { role: 'ci', jwt: await issuer.token() }, null);
    expect(res.statusCode).toBe(200);
    expectCliAuth(res.json(), { role: 'ci' });
  });
});
