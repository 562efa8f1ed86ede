import { describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/app.js';
import { HOUR, SECOND, manualClock, type ManualClock } from '../support/clock.js';
import { closeAfterTest } from '../support/fixtures.js';
import { CLI_HEADERS, tokenWithPolicy } from './support.js';

/** A dev server whose clock the test moves, with a secret to read and a policy that reads it. */
async function start(): Promise<{ t: TestServer; clock: ManualClock }> {
  const clock = manualClock(Date.parse('2026-03-01T12:00:00Z'));
  const t = closeAfterTest(await startTestServer({ clock }));
  await t.call('PUT', '/v1/secret/data/app', { body: { data: { password: 'p' } } });
  await t.call('PUT', '/v1/secret/data/other', { body: { data: { password: 'q' } } });
  const put = await t.call('PUT', '/v1/sys/policies/acl/reader', {
    body: { policy: 'path "secret/data/app" { capabilities = ["read"] }\npath "auth/token/create" { capabilities = ["update"] }' },
  });
  expect(put.statusCode).toBe(204);
  return { t, clock };
}

/** What `vault token create -type=batch -policy=reader -ttl=1h` sends. */
const cliBatchBody = (extra: Record<string, unknown> = {}) => ({
  policies: ['reader'],
  ttl: '1h0m0s',
  explicit_max_ttl: '0s',
  period: '0s',
  display_name: '',
  num_uses: 0,
  renewable: true,
  type: 'batch',
  entity_alias: '',
  ...extra,
});

async function batchToken(t: TestServer, extra: Record<string, unknown> = {}, parent = t.rootToken, path = 'create'): Promise<string> {
  const res = await t.call('POST', `/v1/auth/token/${path}`, { token: parent, headers: CLI_HEADERS, body: cliBatchBody(extra) });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().auth.client_token as string;
}

const storedTokens = async (t: TestServer) => (await t.server.core.store.scan('auth/token/')).map((e) => e.key).sort();

describe('vault token create -type=batch', () => {
  it('issues an hvb. token with no accessor, not renewable, typed batch, and stores nothing', async () => {
    const { t } = await start();
    const before = await storedTokens(t);
    const res = await t.call('POST', '/v1/auth/token/create', { headers: CLI_HEADERS, body: cliBatchBody() });
    expect(res.statusCode).toBe(200);
    const auth = res.json().auth;
    expect(auth.client_token).toMatch(/^hvb\.[A-Za-z0-9_-]{40,}$/);
    expect(auth).toMatchObject({
      accessor: '',
      policies: ['default', 'reader'],
      token_policies: ['default', 'reader'],
      lease_duration: 3600,
      renewable: false,
      token_type: 'batch',
      orphan: false,
      num_uses: 0,
    });
    expect(await storedTokens(t)).toEqual(before);
  });

  it('reads what its policy allows and nothing else, also under concurrent requests', async () => {
    const { t } = await start();
    const token = await batchToken(t);
    const reads = await Promise.all(Array.from({ length: 40 }, () => t.call('GET', '/v1/secret/data/app', { token })));
    for (const r of reads) expect(r.statusCode).toBe(200);
    expect(reads[0]!.json().data.data).toEqual({ password: 'p' });
    expect((await t.call('GET', '/v1/secret/data/other', { token })).statusCode).toBe(403);
    expect((await t.call('PUT', '/v1/secret/data/app', { token, body: { data: { x: '1' } } })).statusCode).toBe(403);
  });

  it('looks up as type batch with an empty accessor, by lookup-self and by lookup', async () => {
    const { t } = await start();
    const token = await batchToken(t);
    const self = await t.call('GET', '/v1/auth/token/lookup-self', { token });
    expect(self.statusCode).toBe(200);
    expect(self.json().data).toMatchObject({
      id: token,
      accessor: '',
      type: 'batch',
      policies: ['default', 'reader'],
      renewable: false,
      ttl: 3600,
      creation_ttl: 3600,
      num_uses: 0,
      explicit_max_ttl: 0,
      orphan: false,
      path: 'auth/token/create',
      expire_time: '2026-03-01T13:00:00.000Z',
    });
    const byRoot = await t.call('POST', '/v1/auth/token/lookup', { body: { token } });
    expect(byRoot.json().data).toMatchObject({ id: token, type: 'batch', accessor: '' });
  });

  it('cannot renew, cannot create children, cannot be revoked (Vault’s 400s)', async () => {
    const { t } = await start();
    const token = await batchToken(t);
    for (const [caller, path, body, message] of [
      [token, '/v1/auth/token/renew-self', {}, 'batch tokens cannot be renewed'],
      [t.rootToken, '/v1/auth/token/renew', { token }, 'batch tokens cannot be renewed'],
      [token, '/v1/auth/token/create', { policies: ['reader'] }, 'batch tokens cannot create more tokens'],
      [token, '/v1/auth/token/create', cliBatchBody(), 'batch tokens cannot create more tokens'],
    ] as const) {
      const res = await t.call('POST', path, { token: caller, body });
      expect(res.statusCode, path).toBe(400);
      expect(res.json(), path).toEqual({ errors: [message] });
    }
    const revokeSelf = await t.call('POST', '/v1/auth/token/revoke-self', { token });
    expect(revokeSelf.json()).toEqual({ errors: ['batch tokens cannot be revoked'] });
    const revoke = await t.call('POST', '/v1/auth/token/revoke', { body: { token } });
    expect(revoke.statusCode).toBe(400);
    expect(revoke.json()).toEqual({ errors: ['batch tokens cannot be revoked'] });
    // Still usable after all of that.
    expect((await t.call('GET', '/v1/secret/data/app', { token })).statusCode).toBe(200);
  });

  it('is refused once its TTL has passed', async () => {
    const { t, clock } = await start();
    const token = await batchToken(t, { ttl: '10m' });
    clock.advance(10 * 60 * SECOND - SECOND);
    expect((await t.call('GET', '/v1/secret/data/app', { token })).statusCode).toBe(200);
    clock.advance(SECOND);
    expect((await t.call('GET', '/v1/secret/data/app', { token })).statusCode).toBe(403);
    expect((await t.call('GET', '/v1/auth/token/lookup-self', { token })).statusCode).toBe(403);
  });

  it('refuses an altered, truncated, extended, made-up or another server’s batch token', async () => {
    const { t } = await start();
    const token = await batchToken(t);
    const body = token.slice('hvb.'.length);
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    const other = closeAfterTest(await startTestServer());
    await other.call('PUT', '/v1/sys/policies/acl/reader', { body: { policy: 'path "secret/*" { capabilities = ["read"] }' } });
    const foreign = (await other.call('POST', '/v1/auth/token/create', { body: cliBatchBody() })).json().auth.client_token;
    const forged = [
      `hvb.${flip(body, 1)}`,
      `hvb.${flip(body, Math.floor(body.length / 2))}`,
      `hvb.${flip(body, body.length - 1)}`,
      `hvb.${body.slice(0, -4)}`,
      `hvb.${body}AAAA`,
      'hvb.' + Buffer.concat([Buffer.from([1]), Buffer.alloc(60, 7)]).toString('base64url'),
      'hvb.',
      'hvb.!!!',
      foreign,
    ];
    for (const bad of forged) {
      expect((await t.call('GET', '/v1/secret/data/app', { token: bad })).statusCode, bad).toBe(403);
      expect((await t.call('POST', '/v1/auth/token/lookup', { body: { token: bad } })).statusCode, bad).toBe(403);
    }
    expect((await t.call('GET', '/v1/secret/data/app', { token })).statusCode).toBe(200);
  });

  it('is accepted by no sealed server, and works again after unseal (its key is behind the barrier)', async () => {
    const { t } = await start();
    const token = await batchToken(t);
    expect((await t.call('PUT', '/v1/sys/seal', { body: null })).statusCode).toBe(204);
    const sealedRead = await t.call('GET', '/v1/secret/data/app', { token });
    expect(sealedRead.statusCode).toBe(503);
    expect(sealedRead.json()).toEqual({ errors: ['Vault is sealed'] });
    // Below the HTTP gate too: without the barrier's keys the token store cannot open it.
    await expect(t.server.core.tokens.lookup(token)).rejects.toThrow(/sealed/i);
    const unseal = await t.call('PUT', '/v1/sys/unseal', { token: null, body: { key: t.server.devUnsealKey } });
    expect(unseal.json().sealed).toBe(false);
    expect((await t.call('GET', '/v1/secret/data/app', { token })).statusCode).toBe(200);
  });

  it('stops working with its parent; an orphan batch token does not', async () => {
    const { t } = await start();
    const parent = await tokenWithPolicy(t, 'parent', 'path "secret/data/app" { capabilities = ["read"] }\npath "auth/token/*" { capabilities = ["update"] }');
    const child = await batchToken(t, { policies: ['parent'] }, parent);
    const orphan = await batchToken(t, { policies: ['parent'] }, parent, 'create-orphan');
    expect((await t.call('GET', '/v1/auth/token/lookup-self', { token: orphan })).json().data.orphan).toBe(true);
    expect((await t.call('GET', '/v1/secret/data/app', { token: child })).statusCode).toBe(200);
    expect((await t.call('POST', '/v1/auth/token/revoke', { body: { token: parent } })).statusCode).toBe(204);
    expect((await t.call('GET', '/v1/secret/data/app', { token: child })).statusCode).toBe(403);
    expect((await t.call('GET', '/v1/secret/data/app', { token: orphan })).statusCode).toBe(200);
  });

  it('never outlives its parent: its TTL is capped at the parent’s', async () => {
    const { t, clock } = await start();
    const parent = await tokenWithPolicy(t, 'parent', 'path "secret/data/app" { capabilities = ["read"] }\npath "auth/token/*" { capabilities = ["update"] }', t.rootToken, { ttl: '30m' });
    const child = await batchToken(t, { policies: ['parent'], ttl: '2h' }, parent);
    expect((await t.call('GET', '/v1/auth/token/lookup-self', { token: child })).json().data.ttl).toBe(1800);
    clock.advance(HOUR / 2);
    expect((await t.call('GET', '/v1/secret/data/app', { token: child })).statusCode).toBe(403);
  });

  it('refuses what batch tokens cannot have, with Vault’s texts and order, and stores nothing', async () => {
    const { t } = await start();
    const before = await storedTokens(t);
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ num_uses: 3 }, 'batch tokens cannot have "num_uses" set'],
      [{ explicit_max_ttl: '1h' }, 'batch tokens cannot have "explicit_max_ttl" set'],
      [{ explicit_max_ttl: '1h', num_uses: 3, period: '1h' }, 'batch tokens cannot have "explicit_max_ttl" set'],
      [{ period: '1h' }, 'batch tokens cannot have "period" set'],
      [{ policies: ['root'] }, 'batch tokens cannot be root tokens'],
      // A root parent's policies are inherited when none are named: still a root token.
      [{ policies: [] }, 'batch tokens cannot be root tokens'],
      [{ id: 'my-id' }, 'batch tokens cannot have "id" set'],
    ];
    for (const [extra, message] of cases) {
      const res = await t.call('POST', '/v1/auth/token/create', { body: cliBatchBody(extra) });
      expect(res.statusCode, JSON.stringify(extra)).toBe(400);
      expect(res.json(), JSON.stringify(extra)).toEqual({ errors: [message] });
    }
    expect(await storedTokens(t)).toEqual(before);
  });
});
