import { describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/app.js';
import { HOUR, MINUTE, manualClock, type ManualClock } from '../support/clock.js';
import { closeAfterTest } from '../support/fixtures.js';
import { T0, WELL_KNOWN } from './helpers.js';

let t: TestServer;
let clock: ManualClock;

/** A server for this test (closed after it) on a clock the test moves. */
async function start(apiAddr = 'https://ferry.example.com') {
  clock = manualClock(T0);
  t = closeAfterTest(await startTestServer({ apiAddr, clock }));
}

async function jwks(): Promise<Array<Record<string, string>>> {
  const res = await t.call('GET', `${WELL_KNOWN}/keys`, { token: null });
  expect(res.statusCode).toBe(200);
  return res.json().keys;
}

const kids = async () => (await jwks()).map((k) => k.kid);

describe('discovery document', () => {
  it('is served without a token as bare JSON, issuer built from api_addr, cacheable for an hour', async () => {
    await start();
    const res = await t.call('GET', `${WELL_KNOWN}/openid-configuration`, { token: null });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['cache-control']).toBe('max-age=3600');
    expect(res.json()).toEqual({
      issuer: 'https://ferry.example.com/v1/identity/oidc/secrets-sync',
      jwks_uri: 'https://ferry.example.com/v1/identity/oidc/secrets-sync/.well-known/keys',
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'EdDSA'],
    });
  });

  it('takes the issuer from identity/oidc/config when it sets one', async () => {
    await start('http://127.0.0.1:8200');
    expect((await t.call('POST', '/v1/identity/oidc/config', { body: { issuer: 'https://vault.example.com' } })).statusCode).toBe(204);
    const doc = (await t.call('GET', `${WELL_KNOWN}/openid-configuration`, { token: null })).json();
    expect(doc.issuer).toBe('https://vault.example.com/v1/identity/oidc/secrets-sync');
    expect(doc.jwks_uri).toBe('https://vault.example.com/v1/identity/oidc/secrets-sync/.well-known/keys');
  });
});

describe('JWKS', () => {
  it('publishes the default key (current and next) without a token, public members only, cacheable until the next rotation', async () => {
    await start();
    const res = await t.call('GET', `${WELL_KNOWN}/keys`, { token: null });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['cache-control']).toBe('max-age=86400');
    const { keys } = res.json();
    expect(keys).toHaveLength(2);
    for (const k of keys) {
      expect(Object.keys(k)).toEqual(['use', 'kty', 'kid', 'alg', 'n', 'e']);
      expect(k).toMatchObject({ use: 'sig', kty: 'RSA', alg: 'RS256', e: 'AQAB' });
      expect(k.kid).toMatch(/^[0-9a-f-]{36}$/);
    }
    expect(keys[0].kid).not.toBe(keys[1].kid);

    clock.advance(10 * MINUTE);
    expect((await t.call('GET', `${WELL_KNOWN}/keys`, { token: null })).headers['cache-control']).toBe('max-age=85800');
  });

  it('publishes the next key before it signs: after rotate, the signing key was already in the JWKS', async () => {
    await start();
    const before = await kids();
    expect((await t.call('POST', '/v1/identity/oidc/key/default/rotate')).statusCode).toBe(204);
    const after = await kids();
    // current and next before; previous, current (= the old next) and a new next after
    expect(after).toHaveLength(3);
    expect(after.slice(0, 2)).toEqual([before[1], expect.any(String)]);
    expect(after[2]).toBe(before[0]);
    expect(before).not.toContain(after[1]);
  });

  it('rotates on schedule when a read finds the rotation period passed, keeping the old key for verification', async () => {
    await start();
    await t.call('POST', '/v1/identity/oidc/key/hourly', { body: { rotation_period: '1h', verification_ttl: '2h' } });
    expect(await jwks()).toHaveLength(4); // default and hourly, current and next each
    const [hourlyCurrent, hourlyNext] = (await kids()).slice(2);

    clock.advance(HOUR - 1);
    expect((await kids()).slice(2)).toEqual([hourlyCurrent, hourlyNext]);
    clock.advance(1);
    const rotated = (await kids()).slice(2);
    expect(rotated[0]).toBe(hourlyNext);
    expect(rotated).toContain(hourlyCurrent);
    expect(rotated).toHaveLength(3);
    const res = await t.call('GET', `${WELL_KNOWN}/keys`, { token: null });
    expect(res.headers['cache-control']).toBe('max-age=3600');
  });

  it('drops a rotated key once its verification_ttl has passed since the rotation', async () => {
    await start();
    await t.call('POST', '/v1/identity/oidc/key/short', { body: { rotation_period: '1h', verification_ttl: '10m' } });
    const [oldCurrent] = (await kids()).slice(2);
    await t.call('POST', '/v1/identity/oidc/key/short/rotate');
    clock.advance(10 * MINUTE - 1);
    expect(await kids()).toContain(oldCurrent);
    clock.advance(1);
    expect(await kids()).not.toContain(oldCurrent);
  });

  it('honours a verification_ttl given to rotate for that rotation only', async () => {
    await start();
    const [oldCurrent] = await kids();
    await t.call('POST', '/v1/identity/oidc/key/default/rotate', { body: { verification_ttl: '5m' } });
    clock.advance(5 * MINUTE);
    expect(await kids()).not.toContain(oldCurrent);
    expect((await t.call('GET', '/v1/identity/oidc/key/default')).json().data.verification_ttl).toBe(86400);
  });

  it('answers reads only: a POST to the JWKS is 405', async () => {
    await start();
    const res = await t.call('POST', `${WELL_KNOWN}/keys`, { token: null, body: {} });
    expect(res.statusCode).toBe(405);
  });
});

describe('while sealed', () => {
  it('answers 503 on discovery and JWKS: the issuer config and the keys live behind the barrier', async () => {
    await start();
    expect((await t.call('POST', '/v1/sys/seal')).statusCode).toBe(204);
    for (const path of [`${WELL_KNOWN}/openid-configuration`, `${WELL_KNOWN}/keys`]) {
      const res = await t.call('GET', path, { token: null });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({ errors: ['Vault is sealed'] });
    }
  });
});
