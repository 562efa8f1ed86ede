import { describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/app.js';
import { SECOND, manualClock, type ManualClock } from '../support/clock.js';
import { closeAfterTest } from '../support/fixtures.js';
import { CLI_HEADERS, tokenWithPolicy } from './support.js';


/** A dev server whose clock the test moves. */
async function start(): Promise<{ t: TestServer; clock: ManualClock }> {
  const clock = manualClock(Date.parse('2026-03-01T12:00:00Z'));
  const t = closeAfterTest(await startTestServer({ clock }));
  return { t, clock };
}

const create = async (t: TestServer, body: Record<string, unknown>, token = t.rootToken, path = 'create') => {
  const res = await t.call('POST', `/v1/auth/token/${path}`, { token, body });
  return res;
};

describe('vault token create -policy=... (CLI flow)', () => {
  it('creates a child token with the auth block the Go client decodes, typed as Vault types it', async () => {
    const { t } = await start();
    await t.call('PUT', '/v1/sys/policies/acl/sync-admin', { body: { policy: 'path "sys/sync/*" { capabilities = ["read"] }' } });
    const res = await t.call('POST', '/v1/auth/token/create', {
      headers: CLI_HEADERS,
      body: {
        policies: ['sync-admin'],
        ttl: '1h0m0s',
        explicit_max_ttl: '0s',
        period: '0s',
        display_name: '',
        num_uses: 0,
        renewable: true,
        type: 'service',
        entity_alias: '',
      },
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.request_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.auth.client_token).toMatch(/^hvs\.[A-Za-z0-9_-]{20,}$/);
    expect(body.auth.accessor).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(body).toEqual({
      request_id: body.request_id,
      lease_id: '',
      renewable: false,
      lease_duration: 0,
      data: null,
      wrap_info: null,
      warnings: null,
      auth: {
        client_token: body.auth.client_token,
        accessor: body.auth.accessor,
        policies: ['default', 'sync-admin'],
        token_policies: ['default', 'sync-admin'],
        metadata: null,
        lease_duration: 3600,
        renewable: true,
        entity_id: '',
        token_type: 'service',
        orphan: false,
        mfa_requirement: null,
        num_uses: 0,
      },
      mount_type: 'token',
    });
  });

  it('takes string-typed values and metadata as the CLI sends them (-metadata=k=v, repeated -policy)', async () => {
    const { t } = await start();
    const res = await create(t, { policies: 'a,b', meta: ['team=sre', 'purpose=ci'], ttl: '90m', num_uses: '3', renewable: 'false', display_name: 'ci bot' });
    expect(res.statusCode).toBe(200);
    const auth = res.json().auth;
    expect(auth).toMatchObject({ policies: ['a', 'b', 'default'], metadata: { team: 'sre', purpose: 'ci' }, lease_duration: 5400, renewable: false, num_uses: 3 });
    const lookup = (await t.call('GET', '/v1/auth/token/lookup-self', { token: auth.client_token })).json().data;
    expect(lookup).toMatchObject({ display_name: 'token-ci-bot', meta: { team: 'sre', purpose: 'ci' }, num_uses: 2, path: 'auth/token/create', orphan: false });
  });
});

describe('vault login <created token> (CLI flow)', () => {
  it('looks up a created token with non-null policies, string meta and integer ttl', async () => {
    const { t } = await start();
    const token = await tokenWithPolicy(t, 'reader', 'path "secret/data/*" { capabilities = ["read"] }', t.rootToken, { ttl: '2h', meta: { owner: 'me' } });
    const res = await t.call('GET', '/v1/auth/token/lookup-self', { token, headers: CLI_HEADERS });
    expect(res.statusCode).toBe(200);
    const d = res.json().data;
    expect(d).toEqual({
      accessor: d.accessor,
      creation_time: Date.parse('2026-03-01T12:00:00Z') / 1000,
      creation_ttl: 7200,
      display_name: 'token',
      entity_id: '',
      expire_time: '2026-03-01T14:00:00.000Z',
      explicit_max_ttl: 0,
      id: token,
      issue_time: '2026-03-01T12:00:00.000Z',
      meta: { owner: 'me' },
      num_uses: 0,
      orphan: false,
      path: 'auth/token/create',
      policies: ['default', 'reader'],
      renewable: true,
      ttl: 7200,
      type: 'service',
    });
  });
});

describe('token policies', () => {
  it('inherits the parent policies when none are given, and never adds default to root tokens', async () => {
    const { t } = await start();
    const rootChild = (await create(t, {})).json().auth;
    expect(rootChild.policies).toEqual(['root']);
    expect(rootChild.lease_duration).toBe(0);
    expect(rootChild.renewable).toBe(false);
    const limited = await tokenWithPolicy(t, 'p1', 'path "auth/token/create" { capabilities = ["update"] }');
    const grandchild = (await create(t, {}, limited)).json().auth;
    expect(grandchild.policies).toEqual(['default', 'p1']);
    expect(grandchild.lease_duration).toBe(768 * 3600);
  });

  it('honours no_default_policy and refuses a token without policies', async () => {
    const { t } = await start();
    expect((await create(t, { policies: ['x'], no_default_policy: true })).json().auth.policies).toEqual(['x']);
    const none = await create(t, { policies: ['default'], no_default_policy: 'true' });
    expect(none.statusCode).toBe(400);
    expect(none.json()).toEqual({ errors: ['token must have at least one policy'] });
  });

  it("refuses child policies outside the parent's unless the parent is root or has sudo", async () => {
    const { t } = await start();
    const limited = await tokenWithPolicy(t, 'p1', 'path "auth/token/create" { capabilities = ["update"] }');
    const res = await create(t, { policies: ['admin'] }, limited);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ errors: ['child policies must be subset of parent'] });
    expect((await create(t, { policies: ['p1', 'default'] }, limited)).statusCode).toBe(200);
    const sudo = await tokenWithPolicy(t, 'p2', 'path "auth/token/create" { capabilities = ["update", "sudo"] }');
    expect((await create(t, { policies: ['admin'] }, sudo)).json().auth.policies).toEqual(['admin', 'default']);
    expect((await create(t, { policies: ['root'] }, sudo)).json()).toEqual({ errors: ['root tokens may not be created without parent token being root'] });
  });
});

describe('privileged token options', () => {
  it('lets only root or sudo set the token id, create orphans with no_parent, or create periodic tokens', async () => {
    const { t } = await start();
    const limited = await tokenWithPolicy(t, 'p1', 'path "auth/token/*" { capabilities = ["update"] }');
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ id: 'custom' }, 'root or sudo privileges required to specify token id'],
      [{ no_parent: true }, 'root or sudo privileges required to create orphan token'],
      [{ period: '1h' }, 'root or sudo privileges required to create periodic token'],
      [{ num_uses: -1 }, 'number of uses cannot be negative'],
      [{ type: 'nonsense' }, `invalid 'type' value "nonsense"`],
    ];
    for (const [body, message] of cases) {
      const res = await create(t, body, limited);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json()).toEqual({ errors: [message] });
    }
    // create-orphan is the unprivileged way to get an orphan.
    expect((await create(t, {}, limited, 'create-orphan')).json().auth.orphan).toBe(true);
    // Root may choose the id; a duplicate is refused.
    expect((await create(t, { id: 'my-custom-id' })).json().auth.client_token).toBe('my-custom-id');
    expect((await create(t, { id: 'my-custom-id' })).json()).toEqual({ errors: ['cannot create a token with a duplicate ID'] });
    expect((await create(t, { id: 'has.dot' })).json()).toEqual({ errors: ["custom token ID cannot have a '.' in the value"] });
  });
});

describe('expiry, revocation and limited uses', () => {
  it('answers 403 to an expired token on every request', async () => {
    const { t, clock } = await start();
    const token = (await create(t, { policies: ['default'], ttl: '30s' })).json().auth.client_token;
    expect((await t.call('GET', '/v1/auth/token/lookup-self', { token })).statusCode).toBe(200);
    clock.advance(31 * SECOND);
    const res = await t.call('GET', '/v1/auth/token/lookup-self', { token });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toEqual({ errors: ['permission denied'] });
  });

  it('answers 403 to a revoked token and to every token created under it', async () => {
    const { t } = await start();
    const parent = await tokenWithPolicy(t, 'p1', 'path "auth/token/create*" { capabilities = ["update"] }');
    const child = (await create(t, {}, parent)).json().auth.client_token;
    const grandchild = (await create(t, {}, child)).json().auth.client_token;
    const orphan = (await create(t, {}, parent, 'create-orphan')).json().auth.client_token;
    const revoke = await t.call('POST', '/v1/auth/token/revoke', { headers: CLI_HEADERS, body: { token: parent } });
    expect(revoke.statusCode).toBe(204);
    for (const token of [parent, child, grandchild]) {
      const res = await t.call('GET', '/v1/auth/token/lookup-self', { token });
      expect(res.statusCode).toBe(403);
      expect(res.json()).toEqual({ errors: ['permission denied'] });
    }
    expect((await t.call('GET', '/v1/auth/token/lookup-self', { token: orphan })).statusCode).toBe(200);
  });

  it('caps a child at its parent: when the parent expires the child is gone too', async () => {
    const { t, clock } = await start();
    const parent = (await create(t, { policies: ['p'], ttl: '1m' })).json().auth.client_token;
    await t.call('PUT', '/v1/sys/policies/acl/p', { body: { policy: 'path "auth/token/create" { capabilities = ["update"] }' } });
    const child = (await create(t, { ttl: '1h' }, parent)).json().auth;
    expect(child.lease_duration).toBe(60);
    clock.advance(61 * SECOND);
    expect((await t.call('GET', '/v1/auth/token/lookup-self', { token: child.client_token })).statusCode).toBe(403);
  });

  it('revokes itself with revoke-self, and by accessor with revoke-accessor', async () => {
    const { t } = await start();
    const a = (await create(t, { policies: ['default'] })).json().auth;
    expect((await t.call('POST', '/v1/auth/token/revoke-self', { token: a.client_token })).statusCode).toBe(204);
    expect((await t.call('GET', '/v1/auth/token/lookup-self', { token: a.client_token })).statusCode).toBe(403);
    const b = (await create(t, { policies: ['default'] })).json().auth;
    expect((await t.call('POST', '/v1/auth/token/revoke-accessor', { body: { accessor: b.accessor } })).statusCode).toBe(204);
    expect((await t.call('GET', '/v1/auth/token/lookup-self', { token: b.client_token })).statusCode).toBe(403);
    // Revoking what does not exist succeeds, as "vault token revoke" expects.
    expect((await t.call('POST', '/v1/auth/token/revoke', { body: { token: 'hvs.nope' } })).statusCode).toBe(204);
  });

  it('spends one use per request and is revoked after the last', async () => {
    const { t } = await start();
    const token = (await create(t, { policies: ['default'], num_uses: 2 })).json().auth.client_token;
    expect((await t.call('GET', '/v1/auth/token/lookup-self', { token })).json().data.num_uses).toBe(1);
    expect((await t.call('GET', '/v1/auth/token/lookup-self', { token })).statusCode).toBe(200);
    expect((await t.call('GET', '/v1/auth/token/lookup-self', { token })).statusCode).toBe(403);
  });
});

describe('renewal', () => {
  it('renews to the increment, capped by explicit_max_ttl with a warning', async () => {
    const { t, clock } = await start();
    const token = (await create(t, { policies: ['default'], ttl: '10m', explicit_max_ttl: '1h' })).json().auth.client_token;
    clock.advance(300 * SECOND);
    const res = await t.call('POST', '/v1/auth/token/renew-self', { token, body: { increment: '30m' } });
    expect(res.statusCode).toBe(200);
    expect(res.json().auth).toMatchObject({ client_token: token, lease_duration: 1800, renewable: true });
    expect(res.json().warnings).toBeNull();
    const capped = await t.call('POST', '/v1/auth/token/renew', { body: { token, increment: '2h' } });
    expect(capped.json().auth.lease_duration).toBe(3300);
    expect(capped.json().warnings).toEqual(['TTL of "2h0m0s" exceeded the effective max_ttl of "55m0s"; TTL value is capped accordingly']);
    clock.advance(3301 * SECOND);
    expect((await t.call('GET', '/v1/auth/token/lookup-self', { token })).statusCode).toBe(403);
  });

  it('refuses to renew a non-renewable token; a token without TTL renews to no TTL', async () => {
    const { t } = await start();
    const fixed = (await create(t, { policies: ['default'], ttl: '1h', renewable: false })).json().auth.client_token;
    const res = await t.call('POST', '/v1/auth/token/renew-self', { token: fixed });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ errors: ['lease is not renewable'] });
    const root = await t.call('POST', '/v1/auth/token/renew-self', {});
    expect(root.json().auth).toMatchObject({ client_token: 'root', lease_duration: 0, renewable: false, policies: ['root'] });
  });
});

describe('lookup by token and by accessor, and the accessor list', () => {
  it('looks a token up by accessor without revealing it, and lists accessors only with sudo', async () => {
    const { t } = await start();
    const created = (await create(t, { policies: ['default'] })).json().auth;
    const byAccessor = await t.call('POST', '/v1/auth/token/lookup-accessor', { body: { accessor: created.accessor } });
    expect(byAccessor.statusCode).toBe(200);
    expect(byAccessor.json().data).toMatchObject({ id: '', accessor: created.accessor, policies: ['default'] });
    expect((await t.call('POST', '/v1/auth/token/lookup-accessor', { body: { accessor: 'nope' } })).json()).toEqual({ errors: ['invalid accessor'] });

    const lookup = await t.call('POST', '/v1/auth/token/lookup', { body: { token: created.client_token } });
    expect(lookup.json().data).toMatchObject({ id: created.client_token, accessor: created.accessor });

    const list = await t.call('GET', '/v1/auth/token/accessors?list=true');
    expect(list.statusCode).toBe(200);
    expect(list.json().data.keys).toContain(created.accessor);
    const limited = await tokenWithPolicy(t, 'lister', 'path "auth/token/accessors" { capabilities = ["list"] }');
    expect((await t.call('GET', '/v1/auth/token/accessors?list=true', { token: limited })).statusCode).toBe(403);
    const sudo = await tokenWithPolicy(t, 'sudo-lister', 'path "auth/token/accessors/" { capabilities = ["list", "sudo"] }');
    expect((await t.call('GET', '/v1/auth/token/accessors?list=true', { token: sudo })).statusCode).toBe(200);
  });
});

describe('the token store answering from memory (every request looks its token up)', () => {
  it('answers a cached live token as lookup does, and nothing for one that expired, was revoked or is unknown', async () => {
    const { SqliteStore } = await import('../../src/store/sqlite.js');
    const { TokenStore } = await import('../../src/auth/token/store.js');
    const clock = manualClock(Date.parse('2026-03-01T12:00:00Z'));
    const tokens = new TokenStore(closeAfterTest(new SqliteStore({ path: ':memory:' })), clock);
    const { id } = await tokens.create({ policies: ['default'], parent: null, ttl: 30 });
    // Not read yet: memory does not answer, lookup does (and caches it).
    expect(tokens.cachedLookup(id)).toBeUndefined();
    const entry = await tokens.lookup(id);
    expect(entry?.policies).toEqual(['default']);
    expect(tokens.cachedLookup(id)).toBe(entry);
    expect(tokens.cachedLookup('hvs.unknown')).toBeUndefined();
    clock.advance(31 * SECOND);
    expect(tokens.cachedLookup(id)).toBeUndefined();
    expect(await tokens.lookup(id)).toBeUndefined();

    const other = await tokens.create({ policies: ['default'], parent: null, ttl: 0 });
    expect(await tokens.lookup(other.id)).toBeDefined();
    expect(tokens.cachedLookup(other.id)).toBeDefined();
    await tokens.revokeTree(other.entry.hash);
    expect(tokens.cachedLookup(other.id)).toBeUndefined();
    expect(await tokens.lookup(other.id)).toBeUndefined();
  });
});
