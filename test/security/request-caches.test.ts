import { describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/app.js';
import { SECOND, manualClock } from '../support/clock.js';
import { closeAfterTest } from '../support/fixtures.js';
import { tokenWithPolicy } from './support.js';

/**
 * Cold review (session 6) of the request pipeline's memory answers: `TokenResolver.cachedLookup`,
 * `Authorizer.cachedCapabilities`, the router's first-literal index and the envelope's cached
 * tail. Each test warms the cache first (a request that succeeds), then changes what the cache
 * was built from, and checks the next request sees the change.
 */
const READ_SECRET = 'path "secret/data/*" { capabilities = ["read", "create", "update"] }';

async function start(): Promise<TestServer> {
  return closeAfterTest(await startTestServer({ clock: manualClock(Date.parse('2026-03-01T12:00:00Z')) }));
}

async function seed(t: TestServer): Promise<void> {
  const put = await t.call('POST', '/v1/secret/data/app', { body: { data: { k: 'v' } } });
  expect(put.statusCode, put.body).toBe(200);
}

const read = (t: TestServer, token: string, query = '') => t.call('GET', `/v1/secret/data/app${query}`, { token });

describe('a token answered from memory', () => {
  it('spends num_uses exactly once per request, even when requests of one cached token run concurrently', async () => {
    const t = await start();
    await seed(t);
    const token = await tokenWithPolicy(t, 'reader', READ_SECRET, t.rootToken, { num_uses: 3 });
    // Warm the cache with one use.
    expect((await read(t, token)).statusCode).toBe(200);
    const results = await Promise.all(Array.from({ length: 10 }, () => read(t, token)));
    const ok = results.filter((r) => r.statusCode === 200).length;
    expect(ok).toBe(2);
    expect(results.filter((r) => r.statusCode === 403).length).toBe(8);
    expect((await read(t, token)).statusCode).toBe(403);
  });

  it('is refused after revocation by accessor (another token revoked it)', async () => {
    const t = await start();
    await seed(t);
    const token = await tokenWithPolicy(t, 'reader', READ_SECRET);
    expect((await read(t, token)).statusCode).toBe(200);
    const self = (await t.call('GET', '/v1/auth/token/lookup-self', { token })).json();
    const revoke = await t.call('POST', '/v1/auth/token/revoke-accessor', { body: { accessor: self.data.accessor } });
    expect(revoke.statusCode, revoke.body).toBe(204);
    expect((await read(t, token)).statusCode).toBe(403);
  });

  it('is refused once its TTL has run out, though it is still cached', async () => {
    const clock = manualClock(Date.parse('2026-03-01T12:00:00Z'));
    const t = closeAfterTest(await startTestServer({ clock }));
    await seed(t);
    const token = await tokenWithPolicy(t, 'reader', READ_SECRET, t.rootToken, { ttl: '30s' });
    expect((await read(t, token)).statusCode).toBe(200);
    clock.advance(31 * SECOND);
    expect((await read(t, token)).statusCode).toBe(403);
  });

  it('is refused after its parent is revoked (the tree goes with it)', async () => {
    const t = await start();
    await seed(t);
    const parent = await tokenWithPolicy(t, 'parent', 'path "auth/token/create" { capabilities = ["update"] }\n' + READ_SECRET);
    const child = (await t.call('POST', '/v1/auth/token/create', { token: parent, body: { policies: ['parent'] } })).json().auth.client_token as string;
    expect((await read(t, child)).statusCode).toBe(200);
    expect((await t.call('POST', '/v1/auth/token/revoke', { body: { token: parent } })).statusCode).toBe(204);
    expect((await read(t, child)).statusCode).toBe(403);
  });
});

describe('capabilities answered from memory', () => {
  it('follow a policy change on the very next request (narrowed, deleted, widened)', async () => {
    const t = await start();
    await seed(t);
    const token = await tokenWithPolicy(t, 'reader', READ_SECRET);
    expect((await read(t, token)).statusCode).toBe(200);
    // Narrowed to deny.
    await t.call('PUT', '/v1/sys/policies/acl/reader', { body: { policy: 'path "secret/data/*" { capabilities = ["deny"] }' } });
    expect((await read(t, token)).statusCode).toBe(403);
    // Widened again.
    await t.call('PUT', '/v1/sys/policies/acl/reader', { body: { policy: READ_SECRET } });
    expect((await read(t, token)).statusCode).toBe(200);
    // Deleted.
    expect((await t.call('DELETE', '/v1/sys/policies/acl/reader')).statusCode).toBe(204);
    expect((await read(t, token)).statusCode).toBe(403);
  });

  it('two tokens of different policy sets never share a compiled ACL', async () => {
    const t = await start();
    await seed(t);
    const reader = await tokenWithPolicy(t, 'reader', READ_SECRET);
    const other = await tokenWithPolicy(t, 'other', 'path "secret/data/other" { capabilities = ["read"] }');
    expect((await read(t, reader)).statusCode).toBe(200);
    expect((await read(t, other)).statusCode).toBe(403);
    expect((await read(t, reader)).statusCode).toBe(200);
  });

  it('do not survive a seal and unseal with a stale policy', async () => {
    const t = await start();
    await seed(t);
    const token = await tokenWithPolicy(t, 'reader', READ_SECRET);
    expect((await read(t, token)).statusCode).toBe(200);
    await t.call('PUT', '/v1/sys/policies/acl/reader', { body: { policy: 'path "secret/data/*" { capabilities = ["deny"] }' } });
    expect((await read(t, token)).statusCode).toBe(403);
    expect((await t.call('PUT', '/v1/sys/seal')).statusCode).toBe(204);
    expect((await read(t, token)).statusCode).toBe(503);
    const unsealed = await t.call('PUT', '/v1/sys/unseal', { token: null, body: { key: t.server.devUnsealKey } });
    expect(unsealed.json().sealed).toBe(false);
    // The token was read again from storage, and the policy too: still denied, then allowed once widened.
    expect((await read(t, token)).statusCode).toBe(403);
    await t.call('PUT', '/v1/sys/policies/acl/reader', { body: { policy: READ_SECRET } });
    expect((await read(t, token)).statusCode).toBe(200);
  });
});

describe('the envelope of frozen data, cached after its request id', () => {
  it("never carries one request's warnings or request id into another's answer of the same data", async () => {
    const t = await start();
    await seed(t);
    const first = await read(t, t.rootToken);
    const warned = await read(t, t.rootToken, '?bogus=1');
    const plain = await read(t, t.rootToken);
    expect(first.statusCode).toBe(200);
    expect(warned.statusCode).toBe(200);
    expect(plain.statusCode).toBe(200);
    const [a, b, c] = [first.json(), warned.json(), plain.json()];
    expect(new Set([a.request_id, b.request_id, c.request_id]).size).toBe(3);
    expect(a.data).toEqual(c.data);
    expect(a.warnings).toBeNull();
    expect(c.warnings).toBeNull();
    expect(c.auth).toBeNull();
    expect(c.wrap_info).toBeNull();
    expect(c.mount_type).toBe('kv');
  });
});

describe("the router's first-literal index", () => {
  it('follows a mount removed and another of a different type enabled at the same path at runtime', async () => {
    const t = await start();
    expect((await t.call('POST', '/v1/sys/mounts/x', { body: { type: 'kv', options: { version: '2' } } })).statusCode).toBe(204);
    expect((await t.call('POST', '/v1/x/data/s', { body: { data: { a: '1' } } })).statusCode).toBe(200);
    expect((await t.call('GET', '/v1/x/data/s')).statusCode).toBe(200);
    expect((await t.call('DELETE', '/v1/sys/mounts/x')).statusCode).toBe(204);
    expect((await t.call('GET', '/v1/x/data/s')).statusCode).toBe(404);
    expect((await t.call('POST', '/v1/sys/mounts/x', { body: { type: 'kv', options: { version: '1' } } })).statusCode).toBe(204);
    // KV v1: `data/s` is a plain key now, not v2's data path.
    expect((await t.call('PUT', '/v1/x/data/s', { body: { b: '2' } })).statusCode).toBe(204);
    const v1 = await t.call('GET', '/v1/x/data/s');
    expect(v1.statusCode, v1.body).toBe(200);
    expect(v1.json().data).toEqual({ b: '2' });
  });

  it("judges the path it routes: case variants miss, and dot segments are resolved before the ACL reads the path", async () => {
    const t = await start();
    await seed(t);
    // Allowed on metadata only: `metadata/../data/app` is `data/app`, and must be judged as that.
    const token = await tokenWithPolicy(t, 'meta', 'path "secret/metadata/*" { capabilities = ["read", "list"] }');
    expect((await t.call('GET', '/v1/secret/metadata/app', { token })).statusCode).toBe(200);
    for (const path of ['/v1/secret/DATA/app', '/v1/secret/Data/app', '/v1/secret/metadata/../data/app', '/v1/secret/metadata/%2e%2e/data/app', '/v1/secret/metadata/app/../../data/app']) {
      const res = await t.call('GET', path, { token });
      expect([400, 403, 404, 405], `${path}: ${res.statusCode} ${res.body}`).toContain(res.statusCode);
      expect(res.body).not.toContain('"k":"v"');
    }
  });
});
