import { base64url } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import { useTestServer } from '../support/fixtures.js';
import { enableAuth, liveTokens, login } from './helpers.js';

/** Malformed and oversized input to the auth methods: always a Vault-style 4xx, never a 500, nothing issued. */
const t = useTestServer();
beforeEach(async () => {
  for (const type of ['approle', 'userpass', 'jwt']) await enableAuth(t, type);
  await t.call('POST', '/v1/auth/jwt/config', {
    body: { jwt_validation_pubkeys: ['-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEVs/o5+uQbTjL3chynL4wXgUg2R9\nq9UU8I5mEovUf86QZ7kOBIjJwqnzD1omageEHWwHdBO6B+dFabmdT9POxg==\n-----END PUBLIC KEY-----'] },
  });
  await t.call('POST', '/v1/auth/jwt/role/ci', { body: { role_type: 'jwt', user_claim: 'sub', bound_subject: 'x' } });
});

describe('bad input to the auth methods', () => {
  it.each([
    ['a body that is not JSON', 'auth/approle/login', '{"role_id": ', 400, 'error parsing JSON'],
    ['a JSON array body', 'auth/userpass/login/alice', '["pw"]', 400, 'error parsing JSON'],
    ['a role_id that is an object', 'auth/approle/login', '{"role_id": {"a": 1}, "secret_id": "x"}', 400, /^Field validation failed: error converting input for field "role_id"/],
    ['a password that is a list', 'auth/userpass/login/alice', '{"password": ["a", "b"]}', 400, /^Field validation failed: error converting input for field "password"/],
    ['a 1 MiB JWT of garbage', 'auth/jwt/login', JSON.stringify({ role: 'ci', jwt: 'x'.repeat(1024 * 1024) }), 400, /^error validating token: error verifying token signature: malformed jwt/],
    [
      'a JWT whose header is not JSON',
      'auth/jwt/login',
      JSON.stringify({ role: 'ci', jwt: `${base64url.encode('{alg')}.${base64url.encode('{}')}.sig` }),
      400,
      /^error validating token: error verifying token signature: malformed jwt/,
    ],
    [
      'a JWT with a deeply nested payload',
      'auth/jwt/login',
      JSON.stringify({ role: 'ci', jwt: `${base64url.encode('{"alg":"ES256"}')}.${base64url.encode('['.repeat(5000) + ']'.repeat(5000))}.c2ln` }),
      400,
      /^error validating token: error verifying token signature: no known key successfully validated the token signature$/,
    ],
  ])('%s: %i', async (_what, path, rawBody, status, message) => {
    const before = await liveTokens(t);
    const res = await t.call('POST', `/v1/${path}`, { token: null, rawBody });
    expect(res.statusCode).toBe(status);
    expect(res.json().errors[0]).toMatch(message);
    expect(await liveTokens(t)).toEqual(before);
  });

  it('refuses a role name over 4096 bytes', async () => {
    const res = await t.call('POST', `/v1/auth/approle/role/${'r'.repeat(4097)}`, { body: {} });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ errors: ['role_name is longer than maximum of 4096 bytes'] });
  });

  it('answers unknown paths under an auth mount with 404 and unsupported verbs with 405', async () => {
    expect((await t.call('GET', '/v1/auth/approle/nope')).statusCode).toBe(404);
    expect((await login(t, 'auth/userpass/login', { password: 'x' })).statusCode).toBe(404);
    expect((await t.call('GET', '/v1/auth/jwt/login')).statusCode).toBe(405);
    expect((await t.call('DELETE', '/v1/auth/approle/login')).statusCode).toBe(405);
  });
});
