import { describe, expect, it } from 'vitest';
import { useTestServer } from '../support/fixtures.js';
import { WELL_KNOWN } from './helpers.js';

const t = useTestServer({ apiAddr: 'https://ferry.example.com' });

const readKey = async (name: string) => t.call('GET', `/v1/identity/oidc/key/${name}`);

describe('identity/oidc/key/:name', () => {
  it('creates the default key on first use with RS256, 24h rotation, 24h verification and every client allowed', async () => {
    const res = await readKey('default');
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toEqual({ algorithm: 'RS256', allowed_client_ids: ['*'], rotation_period: 86400, verification_ttl: 86400 });
  });

  it('creates a named key with the defaults for what is not given and reads durations back as integer seconds', async () => {
    const created = await t.call('POST', '/v1/identity/oidc/key/aws', { body: { rotation_period: '1h', verification_ttl: 7200 } });
    expect(created.statusCode).toBe(204);
    expect((await readKey('aws')).json().data).toEqual({
      algorithm: 'RS256',
      allowed_client_ids: ['*'],
      rotation_period: 3600,
      verification_ttl: 7200,
    });
  });

  it('keeps the settings an update does not mention', async () => {
    await t.call('POST', '/v1/identity/oidc/key/aws', { body: { algorithm: 'ES256', rotation_period: '3h', allowed_client_ids: 'a,b' } });
    await t.call('POST', '/v1/identity/oidc/key/aws', { body: { verification_ttl: '2h' } });
    expect((await readKey('aws')).json().data).toEqual({
      algorithm: 'ES256',
      allowed_client_ids: ['a', 'b'],
      rotation_period: 10800,
      verification_ttl: 7200,
    });
  });

  it('answers 404 for a key that does not exist', async () => {
    const res = await readKey('nope');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ errors: [] });
  });

  it('requires a token', async () => {
    expect((await t.call('GET', '/v1/identity/oidc/key/default', { token: null })).statusCode).toBe(403);
    expect((await t.call('POST', '/v1/identity/oidc/key/x', { token: null, body: {} })).statusCode).toBe(403);
  });
});

describe('key settings validation', () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['an unknown algorithm', { algorithm: 'HS256' }, 'unknown signing algorithm "HS256"'],
    ['a rotation_period under one minute', { rotation_period: '59s' }, 'rotation_period must be at least one minute'],
    [
      'a verification_ttl over 10x the rotation_period',
      { rotation_period: '1h', verification_ttl: '10h1s' },
      'verification_ttl cannot be longer than 10x rotation_period',
    ],
    [
      'a verification_ttl over 10x the stored rotation_period',
      { verification_ttl: '241h' },
      'verification_ttl cannot be longer than 10x rotation_period',
    ],
  ];
  for (const [what, body, message] of cases) {
    it(`rejects ${what} with 400 and creates nothing`, async () => {
      const res = await t.call('POST', '/v1/identity/oidc/key/bad', { body });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ errors: [message] });
      expect((await readKey('bad')).statusCode).toBe(404);
    });
  }

  it('rejects a duration that does not parse with a field validation error', async () => {
    const res = await t.call('POST', '/v1/identity/oidc/key/bad', { body: { rotation_period: 'soon' } });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0]).toContain('field "rotation_period"');
  });

  it('accepts the bounds: one minute rotation and exactly 10x verification', async () => {
    const res = await t.call('POST', '/v1/identity/oidc/key/edge', { body: { rotation_period: '1m', verification_ttl: '10m' } });
    expect(res.statusCode).toBe(204);
  });

  it('leaves an existing key unchanged when an update is rejected', async () => {
    await t.call('POST', '/v1/identity/oidc/key/aws', { body: { rotation_period: '3h' } });
    expect((await t.call('POST', '/v1/identity/oidc/key/aws', { body: { rotation_period: '30s' } })).statusCode).toBe(400);
    expect((await readKey('aws')).json().data.rotation_period).toBe(10800);
  });
});

describe('identity/oidc/key (list) and delete', () => {
  it('lists every key, default included', async () => {
    await t.call('POST', '/v1/identity/oidc/key/b-key', { body: {} });
    await t.call('POST', '/v1/identity/oidc/key/a-key', { body: {} });
    const res = await t.call('GET', '/v1/identity/oidc/key?list=true');
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toEqual({ keys: ['a-key', 'b-key', 'default'] });
  });

  it('refuses to delete the default key', async () => {
    const res = await t.call('DELETE', '/v1/identity/oidc/key/default');
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0]).toContain('"default" key cannot be deleted');
    expect((await readKey('default')).statusCode).toBe(200);
  });

  it('deletes a named key: gone from the list, the reads and the JWKS', async () => {
    await t.call('POST', '/v1/identity/oidc/key/gone', { body: { algorithm: 'ES256' } });
    expect((await t.call('GET', `${WELL_KNOWN}/keys`, { token: null })).json().keys).toHaveLength(4);
    expect((await t.call('DELETE', '/v1/identity/oidc/key/gone')).statusCode).toBe(204);
    expect((await readKey('gone')).statusCode).toBe(404);
    expect((await t.call('GET', '/v1/identity/oidc/key?list=true')).json().data.keys).toEqual(['default']);
    const keys = (await t.call('GET', `${WELL_KNOWN}/keys`, { token: null })).json().keys;
    expect(keys.map((k: { alg: string }) => k.alg)).toEqual(['RS256', 'RS256']);
  });
});

describe('identity/oidc/key/:name/rotate', () => {
  it('answers 400 for a key that does not exist', async () => {
    const res = await t.call('POST', '/v1/identity/oidc/key/nope/rotate');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ errors: ['no named key "nope" found'] });
  });

  it('switches a key to a new algorithm by rotating it, keeping the old key published for verification', async () => {
    await t.call('POST', '/v1/identity/oidc/key/k', { body: {} });
    const before = (await t.call('GET', `${WELL_KNOWN}/keys`, { token: null })).json().keys.slice(2);
    await t.call('POST', '/v1/identity/oidc/key/k', { body: { algorithm: 'ES384' } });
    const after = (await t.call('GET', `${WELL_KNOWN}/keys`, { token: null })).json().keys.slice(2);
    expect(after.map((k: { alg: string; crv?: string }) => [k.alg, k.crv])).toEqual([
      ['ES384', 'P-384'],
      ['ES384', 'P-384'],
      ['RS256', undefined],
    ]);
    expect(after[2].kid).toBe(before[0].kid);
    // the never-used next key of the old algorithm is not kept
    expect(after.map((k: { kid: string }) => k.kid)).not.toContain(before[1].kid);
  });
});
