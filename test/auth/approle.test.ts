import { beforeEach, describe, expect, it } from 'vitest';
import { SECOND } from '../support/clock.js';
import { tokenWithPolicy } from '../security/support.js';
import { approleRole, callFrom, enableAuth, expectAuthBlock, liveTokens, login, secretIdFor, useClockedServer } from './helpers.js';

/** AppRole (research §3): roles, role IDs, secret IDs and the login, with Vault's messages. */
const t = useClockedServer();
beforeEach(async () => {
  await enableAuth(t, 'approle');
});

const roleRead = async (name: string) => (await t.call('GET', `/v1/auth/approle/role/${name}`)).json().data;

describe('roles', () => {
  it('creates a role from the CLI’s string values, lower-cases its name and reads back Vault’s fields and types', async () => {
    const res = await t.call('POST', '/v1/auth/approle/role/CI-Deploy', {
      body: { token_policies: 'deploy,read', token_ttl: '20m', token_max_ttl: '1h', secret_id_ttl: '10m', secret_id_num_uses: '5' },
    });
    expect(res.statusCode).toBe(204);
    expect(await roleRead('ci-deploy')).toEqual({
      bind_secret_id: true,
      local_secret_ids: false,
      secret_id_bound_cidrs: [],
      secret_id_num_uses: 5,
      secret_id_ttl: 600,
      token_bound_cidrs: [],
      token_explicit_max_ttl: 0,
      token_max_ttl: 3600,
      token_no_default_policy: false,
      token_num_uses: 0,
      token_period: 0,
      token_policies: ['deploy', 'read'],
      token_ttl: 1200,
      token_type: 'default',
    });
    expect((await t.call('GET', '/v1/auth/approle/role?list=true')).json().data.keys).toEqual(['ci-deploy']);
    expect((await t.call('GET', '/v1/auth/approle/role/ci-deploy/role-id')).json().data.role_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('updates only the fields a write names; the deprecated spellings still work', async () => {
    await approleRole(t, 'ci', { token_policies: 'a', secret_id_num_uses: 3 });
    await t.call('POST', '/v1/auth/approle/role/ci', { body: { token_ttl: 60 } });
    expect(await roleRead('ci')).toMatchObject({ token_policies: ['a'], secret_id_num_uses: 3, token_ttl: 60 });
    await t.call('POST', '/v1/auth/approle/role/legacy', { body: { policies: 'x,y', period: '1h', bound_cidr_list: '10.0.0.0/8' } });
    expect(await roleRead('legacy')).toMatchObject({ token_policies: ['x', 'y'], token_period: 3600, secret_id_bound_cidrs: ['10.0.0.0/8'] });
  });

  it('turns default-service into service with Vault’s warning', async () => {
    const res = await t.call('POST', '/v1/auth/approle/role/ci', { body: { token_type: 'default-service' } });
    expect(res.statusCode).toBe(200);
    expect(res.json().warnings).toEqual(['default-service has no useful meaning; adjusting to service']);
    expect((await roleRead('ci')).token_type).toBe('service');
  });

  it.each([
    [{ bind_secret_id: 'maybe' }, 'Field validation failed: error converting input for field "bind_secret_id": strconv.ParseBool: invalid syntax'],
    [{ token_ttl: 'soon' }, 'Field validation failed: error converting input for field "token_ttl": time: invalid duration'],
    [{ token_num_uses: -1 }, "'token_num_uses' cannot be negative"],
    [{ token_ttl: '2h', token_max_ttl: '1h' }, "'token_ttl' cannot be greater than 'token_max_ttl'"],
    [{ token_type: 'weird' }, 'invalid \'token_type\' value "weird"'],
    [{ token_type: 'batch', token_period: '1h' }, "'token_type' cannot be 'batch' or 'default_batch' when set to generate periodic tokens"],
    [{ token_type: 'default-batch', token_num_uses: 3 }, "'token_type' cannot be 'batch' or 'default_batch' when set to generate tokens with limited use count"],
    [{ bind_secret_id: false }, 'at least one constraint should be enabled on the role'],
    [{ secret_id_bound_cidrs: '10.0.0.0/33' }, 'invalid CIDR blocks'],
    [{ token_bound_cidrs: 'example.com' }, 'error parsing address "example.com": not an IP address or CIDR block'],
    [{ secret_id_num_uses: -2 }, 'secret_id_num_uses cannot be negative'],
    [{ token_period: '800h' }, 'period of "800h0m0s" is greater than the backend\'s maximum lease TTL of "768h0m0s"'],
  ])('refuses %j with a 400 and creates no role', async (body, message) => {
    const res = await t.call('POST', '/v1/auth/approle/role/bad', { body });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ errors: [message] });
    expect((await t.call('GET', '/v1/auth/approle/role/bad')).statusCode).toBe(404);
  });

  it('refuses a role ID another role uses', async () => {
    await approleRole(t, 'one', { role_id: 'shared-id' });
    const res = await t.call('POST', '/v1/auth/approle/role/two', { body: { role_id: 'shared-id' } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ errors: ['role_id already in use'] });
    expect((await t.call('GET', '/v1/auth/approle/role/two')).statusCode).toBe(404);
  });

  it('answers a role name outside Vault’s pattern as an unsupported path', async () => {
    const res = await t.call('POST', '/v1/auth/approle/role/-bad-', { body: {} });
    expect(res.statusCode).toBe(404);
  });

  it('changes a role ID: the old one no longer logs in', async () => {
    const oldId = await approleRole(t, 'ci');
    const { secret_id } = await secretIdFor(t, 'ci');
    expect((await t.call('POST', '/v1/auth/approle/role/ci/role-id', { body: { role_id: 'my-new-id' } })).statusCode).toBe(204);
    expect((await login(t, 'auth/approle/login', { role_id: oldId, secret_id })).statusCode).toBe(400);
    expect((await login(t, 'auth/approle/login', { role_id: 'my-new-id', secret_id })).statusCode).toBe(200);
  });

  it('deletes a role with its secret IDs', async () => {
    const roleId = await approleRole(t, 'ci');
    const { secret_id } = await secretIdFor(t, 'ci');
    expect((await t.call('DELETE', '/v1/auth/approle/role/ci')).statusCode).toBe(204);
    expect((await t.call('GET', '/v1/auth/approle/role/ci')).statusCode).toBe(404);
    await approleRole(t, 'ci', { role_id: roleId });
    expect((await login(t, 'auth/approle/login', { role_id: roleId, secret_id })).json()).toEqual({ errors: ['invalid role or secret ID'] });
  });
});

describe('secret IDs', () => {
  beforeEach(async () => {
    await approleRole(t, 'ci', { secret_id_num_uses: 5, secret_id_ttl: '1h', secret_id_bound_cidrs: '127.0.0.0/8,10.0.0.0/8' });
  });

  it('generates one (its metadata a JSON string, as hvac sends it) and shows it only then', async () => {
    const created = await secretIdFor(t, 'ci', { metadata: '{"env":"prod"}', cidr_list: '127.0.0.1/32' });
    expect(created).toEqual({
      secret_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      secret_id_accessor: expect.stringMatching(/^[0-9a-f-]{36}$/),
      secret_id_ttl: 3600,
      secret_id_num_uses: 5,
    });
    expect((await t.call('GET', '/v1/auth/approle/role/ci/secret-id?list=true')).json().data.keys).toEqual([created.secret_id_accessor]);
    const lookup = await t.call('POST', '/v1/auth/approle/role/ci/secret-id/lookup', { body: { secret_id: created.secret_id } });
    const byAccessor = await t.call('POST', '/v1/auth/approle/role/ci/secret-id-accessor/lookup', {
      body: { secret_id_accessor: created.secret_id_accessor },
    });
    const expected = {
      cidr_list: ['127.0.0.1/32'],
      creation_time: new Date(t.clock()).toISOString(),
      expiration_time: new Date(t.clock() + 3600 * SECOND).toISOString(),
      last_updated_time: new Date(t.clock()).toISOString(),
      metadata: { env: 'prod' },
      secret_id_accessor: created.secret_id_accessor,
      secret_id_num_uses: 5,
      secret_id_ttl: 3600,
      token_bound_cidrs: [],
    };
    expect(lookup.json().data).toEqual(expected);
    expect(byAccessor.json().data).toEqual(expected);
    expect(lookup.body).not.toContain(created.secret_id);
  });

  it('answers an unknown secret ID’s lookup with 204 and an unknown accessor with Vault’s 404', async () => {
    expect((await t.call('POST', '/v1/auth/approle/role/ci/secret-id/lookup', { body: { secret_id: 'nope' } })).statusCode).toBe(204);
    const res = await t.call('POST', '/v1/auth/approle/role/ci/secret-id-accessor/lookup', { body: { secret_id_accessor: 'nope' } });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ errors: ['failed to find accessor entry for secret_id_accessor'] });
  });

  it('destroys by secret ID and by accessor; destroyed ones no longer log in', async () => {
    const roleId = (await t.call('GET', '/v1/auth/approle/role/ci/role-id')).json().data.role_id;
    const a = await secretIdFor(t, 'ci');
    const b = await secretIdFor(t, 'ci');
    expect((await t.call('POST', '/v1/auth/approle/role/ci/secret-id/destroy', { body: { secret_id: a.secret_id } })).statusCode).toBe(204);
    expect(
      (await t.call('POST', '/v1/auth/approle/role/ci/secret-id-accessor/destroy', { body: { secret_id_accessor: b.secret_id_accessor } })).statusCode,
    ).toBe(204);
    for (const s of [a, b]) expect((await login(t, 'auth/approle/login', { role_id: roleId, secret_id: s.secret_id })).statusCode).toBe(400);
    expect((await t.call('GET', '/v1/auth/approle/role/ci/secret-id?list=true')).statusCode).toBe(404);
    expect((await t.call('POST', '/v1/auth/approle/role/ci/secret-id/destroy', { body: { secret_id: a.secret_id } })).statusCode).toBe(204);
  });

  it('registers a custom secret ID once', async () => {
    const first = await t.call('POST', '/v1/auth/approle/role/ci/custom-secret-id', { body: { secret_id: 'my-chosen-secret' } });
    expect(first.statusCode).toBe(200);
    expect(first.json().data.secret_id).toBe('my-chosen-secret');
    const again = await t.call('POST', '/v1/auth/approle/role/ci/custom-secret-id', { body: { secret_id: 'my-chosen-secret' } });
    expect(again.statusCode).toBe(400);
    expect(again.json()).toEqual({ errors: ['SecretID is already registered'] });
  });

  it.each([
    ['nope', {}, 404, 'role "nope" does not exist'],
    ['ci', { num_uses: -1 }, 400, 'num_uses cannot be negative'],
    ['ci', { num_uses: 6 }, 400, "num_uses cannot be higher than the role's secret_id_num_uses"],
    ['ci', { num_uses: 0 }, 400, "num_uses cannot be higher than the role's secret_id_num_uses"],
    ['ci', { ttl: '2h' }, 400, "ttl cannot be longer than the role's secret_id_ttl"],
    ['ci', { metadata: '{"n":1}' }, 400, 'failed to parse metadata: the value of "n" is not a string'],
    ['ci', { metadata: 'not json' }, 400, 'failed to parse metadata: not a JSON object'],
    ['ci', { cidr_list: '192.168.0.0/16' }, 400, "the CIDR blocks in cidr_list must be a subset of the role's"],
    ['ci', { cidr_list: 'nonsense' }, 400, 'failed to validate CIDR blocks'],
  ])('refuses generating for role %s with %j: %i and creates nothing', async (role, body, status, message) => {
    const res = await t.call('POST', `/v1/auth/approle/role/${role}/secret-id`, { body });
    expect(res.statusCode).toBe(status);
    expect(res.json()).toEqual({ errors: [message] });
    expect((await t.call('GET', '/v1/auth/approle/role/ci/secret-id?list=true')).statusCode).toBe(404);
  });

  it('refuses a secret ID for a role without bind_secret_id', async () => {
    await approleRole(t, 'open', { bind_secret_id: false, secret_id_bound_cidrs: '10.0.0.0/8' });
    const res = await t.call('POST', '/v1/auth/approle/role/open/secret-id', { body: {} });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ errors: ['bind_secret_id is not set on the role'] });
  });

  it('refuses response wrapping (X-Vault-Wrap-TTL) with a clear 400, before anything is made', async () => {
    const res = await t.call('POST', '/v1/auth/approle/role/ci/secret-id', { body: {}, headers: { 'x-vault-wrap-ttl': '60s' } });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0]).toMatch(/^response wrapping is not supported by Ferry/);
    expect((await t.call('GET', '/v1/auth/approle/role/ci/secret-id?list=true')).statusCode).toBe(404);
    const bad = await t.call('POST', '/v1/auth/approle/role/ci/secret-id', { body: {}, headers: { 'x-vault-wrap-ttl': '-5' } });
    expect(bad.json()).toEqual({ errors: ['error parsing X-Vault-Wrap-TTL header: requested wrap ttl cannot be negative'] });
  });
});

describe('login', () => {
  it('issues an orphan service token with the role’s policies, TTL and metadata, with every field the clients read', async () => {
    const roleId = await approleRole(t, 'ci', { token_policies: 'deploy', token_ttl: '15m', token_max_ttl: '1h' });
    const { secret_id } = await secretIdFor(t, 'ci', { metadata: '{"pipeline":"release"}' });
    const res = await login(t, 'auth/approle/login', { role_id: roleId, secret_id });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ data: null, lease_id: '', renewable: false, lease_duration: 0, mount_type: '' });
    expectAuthBlock(body.auth);
    expect(body.auth).toMatchObject({
      policies: ['default', 'deploy'],
      token_policies: ['default', 'deploy'],
      metadata: { pipeline: 'release', role_name: 'ci' },
      lease_duration: 900,
      renewable: true,
      num_uses: 0,
    });
    const self = (await t.call('GET', '/v1/auth/token/lookup-self', { token: body.auth.client_token })).json().data;
    expect(self).toMatchObject({ display_name: 'approle', path: 'auth/approle/login', orphan: true, ttl: 900, entity_id: '' });
  });

  it('spends secret_id_num_uses: the last use succeeds, the next login is refused', async () => {
    const roleId = await approleRole(t, 'ci', { secret_id_num_uses: 2 });
    const { secret_id } = await secretIdFor(t, 'ci');
    expect((await login(t, 'auth/approle/login', { role_id: roleId, secret_id })).statusCode).toBe(200);
    const lookup = await t.call('POST', '/v1/auth/approle/role/ci/secret-id/lookup', { body: { secret_id } });
    expect(lookup.json().data.secret_id_num_uses).toBe(1);
    expect((await login(t, 'auth/approle/login', { role_id: roleId, secret_id })).statusCode).toBe(200);
    const third = await login(t, 'auth/approle/login', { role_id: roleId, secret_id });
    expect(third.statusCode).toBe(400);
    expect(third.json()).toEqual({ errors: ['invalid role or secret ID'] });
    expect((await t.call('GET', '/v1/auth/approle/role/ci/secret-id?list=true')).statusCode).toBe(404);
  });

  it('lets exactly one of 20 concurrent logins spend a single-use secret ID', async () => {
    const roleId = await approleRole(t, 'ci', { secret_id_num_uses: 1 });
    const { secret_id } = await secretIdFor(t, 'ci');
    const before = await liveTokens(t);
    // Reads answer only after the other requests have run, as a networked store's would, so
    // the 20 logins really interleave between reading the secret ID and spending its use.
    const store = t.server.core.store;
    const read = store.get.bind(store);
    store.get = async (key) => {
      const value = await read(key);
      await new Promise((resolve) => setImmediate(resolve));
      return value;
    };
    const results = await Promise.all(Array.from({ length: 20 }, () => login(t, 'auth/approle/login', { role_id: roleId, secret_id })));
    store.get = read;
    const statuses = results.map((r) => r.statusCode).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 400)).toHaveLength(19);
    for (const r of results.filter((x) => x.statusCode === 400)) expect(r.json()).toEqual({ errors: ['invalid role or secret ID'] });
    expect((await liveTokens(t)).length).toBe(before.length + 1);
  });

  it.each([
    [{}, 'missing role_id'],
    [{ role_id: '   ', secret_id: 'x' }, 'missing role_id'],
    [{ role_id: 'unknown-role-id', secret_id: 'x' }, 'invalid role or secret ID'],
    ['known role, wrong secret ID', 'invalid role or secret ID'],
    ['known role, no secret ID', 'missing secret_id'],
    ['known role, secret ID null (hvac)', 'missing secret_id'],
  ])('refuses %j with a 400 and issues no token', async (input, message) => {
    const roleId = await approleRole(t, 'ci');
    await secretIdFor(t, 'ci');
    const bodies: Record<string, Record<string, unknown>> = {
      'known role, wrong secret ID': { role_id: roleId, secret_id: 'not-the-secret' },
      'known role, no secret ID': { role_id: roleId },
      'known role, secret ID null (hvac)': { role_id: roleId, secret_id: null },
    };
    const before = await liveTokens(t);
    const res = await login(t, 'auth/approle/login', typeof input === 'string' ? bodies[input]! : input);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ errors: [message] });
    expect(await liveTokens(t)).toEqual(before);
  });

  it('refuses an expired secret ID at once (no tidy wait)', async () => {
    const roleId = await approleRole(t, 'ci', { secret_id_ttl: 60 });
    const { secret_id } = await secretIdFor(t, 'ci');
    t.clock.advance(61 * SECOND);
    expect((await login(t, 'auth/approle/login', { role_id: roleId, secret_id })).json()).toEqual({ errors: ['invalid role or secret ID'] });
    expect((await t.call('POST', '/v1/auth/approle/role/ci/secret-id/lookup', { body: { secret_id } })).statusCode).toBe(204);
  });

  it('checks the secret ID’s CIDRs before spending a use', async () => {
    const roleId = await approleRole(t, 'ci', { secret_id_num_uses: 1 });
    const { secret_id } = await secretIdFor(t, 'ci', { cidr_list: '10.0.0.0/8' });
    const outside = await login(t, 'auth/approle/login', { role_id: roleId, secret_id }, '192.168.1.7');
    expect(outside.statusCode).toBe(400);
    expect(outside.json()).toEqual({ errors: ['source address "192.168.1.7" unauthorized through CIDR restrictions on the secret ID'] });
    expect((await login(t, 'auth/approle/login', { role_id: roleId, secret_id }, '10.1.2.3')).statusCode).toBe(200);
  });

  it('checks the role’s secret_id_bound_cidrs; a role without bind_secret_id logs in by role ID from inside them', async () => {
    const roleId = await approleRole(t, 'machine', { bind_secret_id: false, secret_id_bound_cidrs: '10.0.0.0/8' });
    const outside = await login(t, 'auth/approle/login', { role_id: roleId }, '::ffff:172.16.0.1');
    expect(outside.statusCode).toBe(400);
    expect(outside.json()).toEqual({ errors: ['source address "172.16.0.1" unauthorized by CIDR restrictions on the role'] });
    expect((await login(t, 'auth/approle/login', { role_id: roleId }, '::ffff:10.0.0.9')).statusCode).toBe(200);
  });

  it('binds the token to token_bound_cidrs: usable from inside, refused (403) from outside', async () => {
    await t.call('PUT', '/v1/sys/policies/acl/reader', { body: { policy: 'path "secret/data/app" { capabilities = ["read"] }' } });
    await t.call('POST', '/v1/secret/data/app', { body: { data: { k: 'v' } } });
    const roleId = await approleRole(t, 'ci', { token_policies: 'reader', token_bound_cidrs: '10.0.0.0/8' });
    const { secret_id } = await secretIdFor(t, 'ci');
    const auth = (await login(t, 'auth/approle/login', { role_id: roleId, secret_id }, '10.0.0.5')).json().auth;
    expect((await callFrom(t, '10.0.0.5', 'GET', '/v1/secret/data/app', auth.client_token)).statusCode).toBe(200);
    const outside = await callFrom(t, '127.0.0.1', 'GET', '/v1/secret/data/app', auth.client_token);
    expect(outside.statusCode).toBe(403);
    expect(JSON.parse(outside.body)).toEqual({ errors: ['permission denied'] });
    const self = (await callFrom(t, '10.0.0.5', 'GET', '/v1/auth/token/lookup-self', auth.client_token)).json();
    expect(self.data.bound_cidrs).toEqual(['10.0.0.0/8']);
  });

  it('applies token_num_uses, token_period, token_no_default_policy and token_explicit_max_ttl', async () => {
    await t.call('PUT', '/v1/sys/policies/acl/p', { body: { policy: 'path "auth/token/lookup-self" { capabilities = ["read"] }' } });
    const roleId = await approleRole(t, 'ci', {
      token_num_uses: 2,
      token_period: '30m',
      token_no_default_policy: true,
      token_policies: 'p',
      token_explicit_max_ttl: '2h',
    });
    const { secret_id } = await secretIdFor(t, 'ci');
    const auth = (await login(t, 'auth/approle/login', { role_id: roleId, secret_id })).json().auth;
    expect(auth).toMatchObject({ policies: ['p'], num_uses: 2, lease_duration: 1800, renewable: true });
    const self = (await t.call('GET', '/v1/auth/token/lookup-self', { token: auth.client_token })).json().data;
    expect(self).toMatchObject({ period: 1800, explicit_max_ttl: 7200, num_uses: 1 });
  });

  it('caps renewals at token_max_ttl, counted from the login', async () => {
    const roleId = await approleRole(t, 'ci', { token_ttl: '20m', token_max_ttl: '30m' });
    const { secret_id } = await secretIdFor(t, 'ci');
    const token = (await login(t, 'auth/approle/login', { role_id: roleId, secret_id })).json().auth.client_token;
    t.clock.advance(15 * 60 * SECOND);
    const renew = await t.call('POST', '/v1/auth/token/renew-self', { token, body: { increment: '1h' } });
    expect(renew.statusCode).toBe(200);
    expect(renew.json().auth.lease_duration).toBe(900);
    expect(renew.json().warnings).toEqual(['TTL of "1h0m0s" exceeded the effective max_ttl of "15m0s"; TTL value is capped accordingly']);
  });

  it('never issues a root token', async () => {
    const roleId = await approleRole(t, 'ci', { token_policies: 'root' });
    const { secret_id } = await secretIdFor(t, 'ci');
    const before = await liveTokens(t);
    const res = await login(t, 'auth/approle/login', { role_id: roleId, secret_id });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ errors: ['auth methods cannot create root tokens'] });
    expect(await liveTokens(t)).toEqual(before);
  });
});

describe('narrow policies', () => {
  it('a deployer allowed only to mint secret IDs for one role can do that and nothing else', async () => {
    await approleRole(t, 'ci');
    await approleRole(t, 'admin');
    const deployer = await tokenWithPolicy(t, 'mint-ci', 'path "auth/approle/role/ci/secret-id" { capabilities = ["update"] }');
    expect((await t.call('POST', '/v1/auth/approle/role/ci/secret-id', { token: deployer, body: {} })).statusCode).toBe(200);
    for (const [method, path] of [
      ['POST', '/v1/auth/approle/role/admin/secret-id'],
      ['GET', '/v1/auth/approle/role/ci'],
      ['GET', '/v1/auth/approle/role/ci/role-id'],
      ['POST', '/v1/auth/approle/role/ci'],
      ['GET', '/v1/auth/approle/role?list=true'],
      ['POST', '/v1/sys/auth/other'],
    ] as const) {
      const res = await t.call(method, path, { token: deployer, body: method === 'POST' ? { type: 'approle' } : undefined });
      expect(res.statusCode, `${method} ${path}`).toBe(403);
    }
    expect((await t.call('GET', '/v1/auth/approle/role/admin')).json().data.token_policies).toEqual([]);
  });

  it('the login needs no token, and a login token holds only its role’s policies', async () => {
    await t.call('PUT', '/v1/sys/policies/acl/app-read', { body: { policy: 'path "secret/data/app" { capabilities = ["read"] }' } });
    await t.call('POST', '/v1/secret/data/app', { body: { data: { k: 'v' } } });
    await t.call('POST', '/v1/secret/data/other', { body: { data: { k: 'v' } } });
    const roleId = await approleRole(t, 'app', { token_policies: 'app-read' });
    const { secret_id } = await secretIdFor(t, 'app');
    const token = (await login(t, 'auth/approle/login', { role_id: roleId, secret_id })).json().auth.client_token;
    expect((await t.call('GET', '/v1/secret/data/app', { token })).statusCode).toBe(200);
    expect((await t.call('GET', '/v1/secret/data/other', { token })).statusCode).toBe(403);
    expect((await t.call('POST', '/v1/auth/approle/role/app/secret-id', { token, body: {} })).statusCode).toBe(403);
    expect((await t.call('POST', '/v1/sys/auth/x', { token, body: { type: 'approle' } })).statusCode).toBe(403);
  });
});

describe('batch tokens', () => {
  it('issues a batch token (hvb., no accessor, not renewable) for a batch role; it works and keeps its CIDRs', async () => {
    await t.call('PUT', '/v1/sys/policies/acl/reader', { body: { policy: 'path "secret/data/app" { capabilities = ["read"] }' } });
    await t.call('POST', '/v1/secret/data/app', { body: { data: { k: 'v' } } });
    const roleId = await approleRole(t, 'ci', { token_type: 'batch', token_policies: 'reader', token_ttl: '10m', token_bound_cidrs: '10.0.0.0/8' });
    const { secret_id } = await secretIdFor(t, 'ci');
    const res = await login(t, 'auth/approle/login', { role_id: roleId, secret_id }, '10.0.0.1');
    expect(res.statusCode).toBe(200);
    const auth = res.json().auth;
    expect(auth).toMatchObject({ token_type: 'batch', accessor: '', renewable: false, orphan: true, lease_duration: 600, metadata: { role_name: 'ci' } });
    expect(auth.client_token).toMatch(/^hvb\./);
    expect((await callFrom(t, '10.0.0.1', 'GET', '/v1/secret/data/app', auth.client_token)).statusCode).toBe(200);
    expect((await callFrom(t, '192.0.2.1', 'GET', '/v1/secret/data/app', auth.client_token)).statusCode).toBe(403);
    // Nothing can revoke a batch token, but one from a disabled method is no token.
    expect((await t.call('DELETE', '/v1/sys/auth/approle')).statusCode).toBe(204);
    expect((await callFrom(t, '10.0.0.1', 'GET', '/v1/secret/data/app', auth.client_token)).statusCode).toBe(403);
  });

  it('follows the mount’s token type: default-batch for roles of the default type, service or batch for all', async () => {
    const roleId = await approleRole(t, 'plain');
    const serviceRoleId = await approleRole(t, 'svc', { token_type: 'service' });
    const typeOf = async (id: string, name: string) =>
      (await login(t, 'auth/approle/login', { role_id: id, secret_id: (await secretIdFor(t, name)).secret_id })).json().auth.token_type;
    expect(await typeOf(roleId, 'plain')).toBe('service');
    await t.call('POST', '/v1/sys/auth/approle/tune', { body: { token_type: 'default-batch' } });
    expect([await typeOf(roleId, 'plain'), await typeOf(serviceRoleId, 'svc')]).toEqual(['batch', 'service']);
    await t.call('POST', '/v1/sys/auth/approle/tune', { body: { token_type: 'batch' } });
    expect(await typeOf(serviceRoleId, 'svc')).toBe('batch');
  });

  it('refuses a login that would make a batch token with a use limit', async () => {
    await t.call('POST', '/v1/sys/auth/approle/tune', { body: { token_type: 'default-batch' } });
    const roleId = await approleRole(t, 'limited', { token_num_uses: 2 });
    const { secret_id } = await secretIdFor(t, 'limited');
    const before = await liveTokens(t);
    const res = await login(t, 'auth/approle/login', { role_id: roleId, secret_id });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ errors: ["'token_type' cannot be 'batch' or 'default_batch' when set to generate tokens with limited use count"] });
    expect(await liveTokens(t)).toEqual(before);
  });
});
