import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportSPKI, generateKeyPair } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import { SECOND } from '../support/clock.js';
import { closeAfterTest } from '../support/fixtures.js';
import { foreignKey, startTestIssuer, unsignedToken, type TestIssuer } from '../support/oidc-issuer.js';
import { enableAuth, expectAuthBlock, liveTokens, login, useClockedServer } from './helpers.js';

/** The JWT method (research §5) against a GitHub-Actions-shaped issuer on a loopback port. */
const t = useClockedServer();
let issuer: TestIssuer;

/** The role a CI job logs in with: its repository bound, its claims mapped into the token's metadata. */
const CI_ROLE = {
  role_type: 'jwt',
  user_claim: 'actor',
  bound_audiences: 'https://github.com/org',
  bound_claims: { repository: 'org/name' },
  claim_mappings: { repository: 'repository', ref: 'ref' },
  token_policies: 'ci',
  token_ttl: '15m',
};

const writeRole = (name: string, body: Record<string, unknown>) => t.call('POST', `/v1/auth/jwt/role/${name}`, { body });
const jwtLogin = (body: Record<string, unknown>, remoteAddress?: string) => login(t, 'auth/jwt/login', body, remoteAddress);
const expectRefused = async (body: Record<string, unknown>, message: string) => {
  const before = await liveTokens(t);
  const res = await jwtLogin(body);
  expect(res.json()).toEqual({ errors: [message] });
  expect(res.statusCode).toBe(400);
  expect(await liveTokens(t)).toEqual(before);
};

beforeEach(async () => {
  issuer = closeAfterTest(await startTestIssuer(t.clock));
  await enableAuth(t, 'jwt');
});

describe('config', () => {
  it('configures OIDC discovery and reads it back without the client secret', async () => {
    const res = await t.call('POST', '/v1/auth/jwt/config', {
      body: { oidc_discovery_url: issuer.url, bound_issuer: issuer.url, oidc_client_id: 'ferry', oidc_client_secret: 'shh-secret' },
    });
    expect(res.statusCode).toBe(204);
    const read = await t.call('GET', '/v1/auth/jwt/config');
    expect(read.json().data).toMatchObject({ oidc_discovery_url: issuer.url, bound_issuer: issuer.url, oidc_client_id: 'ferry', jwks_url: '' });
    expect(read.body).not.toContain('shh-secret');
    expect(read.json().data).not.toHaveProperty('oidc_client_secret');
  });

  it.each([
    [{}, "exactly one of 'jwt_validation_pubkeys', 'jwks_url' or 'oidc_discovery_url' must be set"],
    [{ jwks_url: 'http://127.0.0.1:1/keys', oidc_discovery_url: 'http://127.0.0.1:1' }, "exactly one of 'jwt_validation_pubkeys', 'jwks_url' or 'oidc_discovery_url' must be set"],
    [{ jwt_validation_pubkeys: 'not a key' }, 'error parsing public key: data does not contain any valid RSA or ECDSA public keys'],
    [{ jwks_url: 'http://127.0.0.1:1/keys' }, 'error checking jwks URL'],
    [{ oidc_discovery_url: 'http://127.0.0.1:1' }, 'error checking oidc discovery URL'],
    [{ oidc_discovery_url: 'http://127.0.0.1:1', jwt_supported_algs: 'HS256' }, 'invalid jwt_supported_algs: HS256'],
    [{ oidc_discovery_url: 'http://127.0.0.1:1', oidc_client_id: 'x' }, "both 'oidc_client_id' and 'oidc_client_secret' must be set for OIDC"],
    [{ jwks_url: 'http://127.0.0.1:1/keys', jwks_ca_pem: 'nonsense' }, 'error checking jwks_ca_pem'],
  ])('refuses %j with Vault’s 400 and stores nothing', async (body, message) => {
    const res = await t.call('POST', '/v1/auth/jwt/config', { body });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ errors: [message] });
    expect((await t.call('GET', '/v1/auth/jwt/config')).statusCode).toBe(404);
  });

  it('refuses a discovery document naming another issuer', async () => {
    const res = await t.call('POST', '/v1/auth/jwt/config', { body: { oidc_discovery_url: `${issuer.url}/` } });
    expect(res.json()).toEqual({ errors: ['error checking oidc discovery URL'] });
  });

  it('turns an unreachable source into a warning with skip_jwks_validation', async () => {
    const res = await t.call('POST', '/v1/auth/jwt/config', { body: { jwks_url: 'http://127.0.0.1:1/keys', skip_jwks_validation: true } });
    expect(res.statusCode).toBe(200);
    expect(res.json().warnings[0]).toMatch(/^error checking jwks URL: /);
  });
});

describe('roles', () => {
  it('reads back a CI role with Vault’s defaults (leeways 60/150/150, string bound claims)', async () => {
    // hvac sends the name in the body too: ignored, with Vault's warning.
    const write = await writeRole('CI', { ...CI_ROLE, name: 'ci' });
    expect(write.statusCode).toBe(200);
    expect(write.json().warnings).toEqual(['Endpoint ignored these unrecognized parameters: [name]']);
    const data = (await t.call('GET', '/v1/auth/jwt/role/ci')).json().data;
    expect(data).toMatchObject({
      role_type: 'jwt',
      bound_audiences: ['https://github.com/org'],
      bound_claims: { repository: 'org/name' },
      bound_claims_type: 'string',
      bound_subject: '',
      user_claim: 'actor',
      claim_mappings: { repository: 'repository', ref: 'ref' },
      clock_skew_leeway: 60,
      expiration_leeway: 150,
      not_before_leeway: 150,
      token_policies: ['ci'],
      token_ttl: 900,
    });
    expect((await t.call('GET', '/v1/auth/jwt/role?list=true')).json().data.keys).toEqual(['ci']);
  });

  it('takes bound_claims and claim_mappings as the CLI sends them (a JSON string, key=value pairs)', async () => {
    const res = await writeRole('cli', { ...CI_ROLE, bound_claims: '{"repository":["org/name","org/other"]}', claim_mappings: 'repository=repo,ref=ref' });
    expect(res.statusCode).toBe(204);
    expect((await t.call('GET', '/v1/auth/jwt/role/cli')).json().data).toMatchObject({
      bound_claims: { repository: ['org/name', 'org/other'] },
      claim_mappings: { repository: 'repo', ref: 'ref' },
    });
  });

  it.each([
    [{ user_claim: 'actor', bound_audiences: 'x' }, "'allowed_redirect_uris' must be set if 'role_type' is 'oidc' or unspecified."],
    [{ role_type: 'jwt', bound_audiences: 'x' }, 'a user claim must be defined on the role'],
    [{ role_type: 'jwt', user_claim: 'actor' }, 'must have at least one bound constraint when creating/updating a role'],
    [{ role_type: 'saml', user_claim: 'actor' }, "invalid 'role_type': saml"],
    [{ ...CI_ROLE, bound_claims_type: 'regex' }, "invalid 'bound_claims_type': regex"],
    [{ ...CI_ROLE, bound_claims_type: 'glob', bound_claims: { n: [1] } }, 'claim is not a string: [1]'],
    [{ ...CI_ROLE, bound_claims: { n: { deep: 1 } } }, 'claim is not a string or list: {"deep":1}'],
    [{ ...CI_ROLE, claim_mappings: { repository: 'role' } }, 'metadata key "role" is reserved and may not be a mapping destination'],
    [{ ...CI_ROLE, claim_mappings: { repository: 'x', ref: 'x' } }, 'multiple keys are mapped to metadata key "x"'],
    [{ ...CI_ROLE, bound_claims: 5 }, 'Field validation failed: error converting input for field "bound_claims": expected a value of the right type'],
    [{ ...CI_ROLE, bound_claims: '[1,2]' }, 'Field validation failed: error converting input for field "bound_claims": expected a JSON object'],
    [{ ...CI_ROLE, clock_skew_leeway: 'later' }, 'Field validation failed: error converting input for field "clock_skew_leeway": time: invalid duration'],
  ])('refuses %j with Vault’s 400 and creates no role', async (body, message) => {
    const res = await writeRole('bad', body);
    expect(res.json()).toEqual({ errors: [message] });
    expect(res.statusCode).toBe(400);
    expect((await t.call('GET', '/v1/auth/jwt/role/bad')).statusCode).toBe(404);
  });
});

describe('login with OIDC discovery (GitHub Actions)', () => {
  beforeEach(async () => {
    expect((await t.call('POST', '/v1/auth/jwt/config', { body: { oidc_discovery_url: issuer.url, bound_issuer: issuer.url } })).statusCode).toBe(204);
    expect((await writeRole('ci', CI_ROLE)).statusCode).toBe(204);
  });

  it('issues a token with the role’s policies and TTL, the mapped claims in its metadata', async () => {
    const res = await jwtLogin({ role: 'ci', jwt: await issuer.token() });
    expect(res.statusCode).toBe(200);
    const auth = res.json().auth;
    expectAuthBlock(auth);
    expect(auth).toMatchObject({
      policies: ['ci', 'default'],
      metadata: { role: 'ci', repository: 'org/name', ref: 'refs/heads/main' },
      lease_duration: 900,
      renewable: true,
    });
    const self = (await t.call('GET', '/v1/auth/token/lookup-self', { token: auth.client_token })).json().data;
    expect(self).toMatchObject({ display_name: 'jwt-octocat', path: 'auth/jwt/login', orphan: true });
  });

  it('refuses another repository', async () => {
    await expectRefused(
      { role: 'ci', jwt: await issuer.token({ repository: 'org/other', sub: 'repo:org/other:ref:refs/heads/main' }) },
      'error validating claims: claim "repository" does not match any associated bound claim values',
    );
  });

  it('refuses a token missing a bound claim', async () => {
    await expectRefused({ role: 'ci', jwt: await issuer.token({ repository: undefined }) }, 'error validating claims: claim "repository" is missing');
  });

  it('refuses an expired token once the clock-skew leeway has passed', async () => {
    const jwt = await issuer.token();
    // exp is 300 s after the token's issue; the clock-skew leeway adds 60 s.
    t.clock.advance((300 + 59) * SECOND);
    expect((await jwtLogin({ role: 'ci', jwt })).statusCode).toBe(200);
    t.clock.advance(2 * SECOND);
    await expectRefused({ role: 'ci', jwt }, 'error validating token: invalid expiration time (exp) claim: token is expired');
  });

  it('refuses tokens not yet valid, issued in the future, or without any time claim', async () => {
    const now = Math.floor(t.clock() / 1000);
    await expectRefused({ role: 'ci', jwt: await issuer.token({ nbf: now + 120 }) }, 'error validating token: invalid not before (nbf) claim: token not yet valid');
    await expectRefused({ role: 'ci', jwt: await issuer.token({ iat: now + 120 }) }, 'error validating token: invalid issued at (iat) claim: token issued in the future');
    await expectRefused(
      { role: 'ci', jwt: await issuer.token({ iat: undefined, nbf: undefined, exp: undefined }) },
      'error validating token: no issued at (iat), not before (nbf), or expiration time (exp) claims in token',
    );
  });

  it('refuses a wrong audience', async () => {
    await expectRefused(
      { role: 'ci', jwt: await issuer.token({ aud: 'sigstore' }) },
      'error validating token: invalid audience (aud) claim: audience claim does not match any expected audience',
    );
  });

  it('refuses a wrong signature', async () => {
    await expectRefused(
      { role: 'ci', jwt: await issuer.token({}, { key: await foreignKey() }) },
      'error validating token: error verifying token signature: failed to verify id token signature',
    );
    const good = await issuer.token();
    const [header, payload] = good.split('.');
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), repository: 'org/name' })).toString('base64url')}.${good.split('.')[2]!.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'))}`;
    await expectRefused({ role: 'ci', jwt: tampered }, 'error validating token: error verifying token signature: failed to verify id token signature');
  });

  it('refuses an unsigned (alg: none) token', async () => {
    const claims = JSON.parse(Buffer.from((await issuer.token()).split('.')[1]!, 'base64url').toString());
    await expectRefused({ role: 'ci', jwt: unsignedToken(claims) }, 'error validating token: error verifying token signature: token is not signed');
  });

  it.each(['not-a-jwt', 'a.b.c', 'eyJhbGciOiJSUzI1NiJ9.e30', ''])('refuses the malformed token %j', async (jwt) => {
    const res = await jwtLogin({ role: 'ci', jwt });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0]).toMatch(jwt === '' ? /^missing token$/ : /^error validating token: error verifying token signature: malformed jwt/);
  });

  it('refuses another issuer', async () => {
    await expectRefused({ role: 'ci', jwt: await issuer.token({ iss: 'https://token.actions.githubusercontent.com' }) }, 'error validating token: invalid issuer (iss) claim');
  });

  it('answers an unknown role, a missing role and a missing token as Vault does', async () => {
    const jwt = await issuer.token();
    await expectRefused({ role: 'nope', jwt }, 'role "nope" could not be found');
    await expectRefused({ jwt }, 'missing role');
    await expectRefused({ role: 'ci' }, 'missing token');
  });

  it('uses default_role when the login names none', async () => {
    await t.call('POST', '/v1/auth/jwt/config', { body: { oidc_discovery_url: issuer.url, default_role: 'CI' } });
    expect((await jwtLogin({ jwt: await issuer.token() })).statusCode).toBe(200);
  });

  it('refuses an oidc role for a JWT login', async () => {
    await writeRole('browser', { user_claim: 'sub', allowed_redirect_uris: 'http://localhost:8250/oidc/callback' });
    await expectRefused({ role: 'browser', jwt: await issuer.token() }, 'role with oidc role_type is not allowed');
  });

  it('refuses an audience the role does not bind — a string aud (GitHub’s) as well as a list', async () => {
    await writeRole('repo-only', { role_type: 'jwt', user_claim: 'actor', bound_claims: { repository: 'org/name' } });
    for (const aud of ['https://github.com/org', ['a', 'b']]) {
      await expectRefused({ role: 'repo-only', jwt: await issuer.token({ aud }) }, 'audience claim found in JWT but no audiences bound to the role');
    }
    expect((await jwtLogin({ role: 'repo-only', jwt: await issuer.token({ aud: undefined }) })).statusCode).toBe(200);
  });

  it('matches globs and bound_subject; checks nested claims through JSON pointers', async () => {
    await writeRole('main', {
      ...CI_ROLE,
      bound_claims_type: 'glob',
      bound_claims: { sub: 'repo:org/*:ref:refs/heads/main', '/context/env': ['prod*', 'staging'] },
      claim_mappings: { '/context/env': 'env' },
      bound_subject: 'repo:org/name:ref:refs/heads/main',
    });
    const context = { env: 'production' };
    const res = await jwtLogin({ role: 'main', jwt: await issuer.token({ context }) });
    expect(res.statusCode).toBe(200);
    expect(res.json().auth.metadata).toEqual({ env: 'production', role: 'main' });
    await expectRefused(
      { role: 'main', jwt: await issuer.token({ context: { env: 'dev' } }) },
      'error validating claims: claim "/context/env" does not match any associated bound claim values',
    );
    await expectRefused(
      { role: 'main', jwt: await issuer.token({ sub: 'repo:org/name:ref:refs/heads/feature', context }) },
      'error validating token: invalid subject (sub) claim',
    );
  });

  it('refuses a user claim that is missing or not a string, and a mapped claim that is an object', async () => {
    await expectRefused({ role: 'ci', jwt: await issuer.token({ actor: undefined }) }, 'claim "actor" not found in token');
    await expectRefused({ role: 'ci', jwt: await issuer.token({ actor: { name: 'x' } }) }, 'claim "actor" could not be converted to string');
    await expectRefused({ role: 'ci', jwt: await issuer.token({ ref: ['a'] }) }, "error converting claim 'ref' to string");
  });

  it('refetches the JWKS when a token names an unknown key, at most once per cooldown', async () => {
    expect((await jwtLogin({ role: 'ci', jwt: await issuer.token() })).statusCode).toBe(200);
    const fetched = issuer.jwksFetches();
    await issuer.rotate();
    const rotated = await issuer.token();
    expect((await jwtLogin({ role: 'ci', jwt: rotated })).statusCode).toBe(400);
    expect(issuer.jwksFetches()).toBe(fetched);
    t.clock.advance(11 * SECOND);
    expect((await jwtLogin({ role: 'ci', jwt: await issuer.token() })).statusCode).toBe(200);
    expect(issuer.jwksFetches()).toBe(fetched + 1);
    expect((await jwtLogin({ role: 'ci', jwt: await issuer.token({}, { kid: 'made-up' }) })).statusCode).toBe(400);
    expect(issuer.jwksFetches()).toBe(fetched + 1);
  });

  it('keeps using its cached keys when the issuer is unreachable at refresh time', async () => {
    expect((await jwtLogin({ role: 'ci', jwt: await issuer.token() })).statusCode).toBe(200);
    await issuer.close();
    t.clock.advance(61 * 60 * SECOND);
    expect((await jwtLogin({ role: 'ci', jwt: await issuer.token() })).statusCode).toBe(200);
  });

  it('refuses a login from outside token_bound_cidrs with 403', async () => {
    await writeRole('ci', { ...CI_ROLE, token_bound_cidrs: '10.0.0.0/8' });
    const outside = await jwtLogin({ role: 'ci', jwt: await issuer.token() }, '192.0.2.1');
    expect(outside.statusCode).toBe(403);
    expect((await jwtLogin({ role: 'ci', jwt: await issuer.token() }, '10.2.3.4')).statusCode).toBe(200);
  });
});

describe('login with other key sources', () => {
  it('verifies against static PEM keys, refusing algorithms outside jwt_supported_algs', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const config = { jwt_validation_pubkeys: [await exportSPKI(publicKey)], jwt_supported_algs: 'ES256', bound_issuer: 'https://ci.example' };
    expect((await t.call('POST', '/v1/auth/jwt/config', { body: config })).statusCode).toBe(204);
    await writeRole('svc', { role_type: 'jwt', user_claim: 'sub', bound_subject: 'svc-a' });
    const now = Math.floor(t.clock() / 1000);
    const jwt = await new SignJWT({ sub: 'svc-a', iss: 'https://ci.example', iat: now, exp: now + 60 }).setProtectedHeader({ alg: 'ES256' }).sign(privateKey);
    expect((await jwtLogin({ role: 'svc', jwt })).statusCode).toBe(200);
    await expectRefused(
      { role: 'svc', jwt: await issuer.token({ sub: 'svc-a', iss: 'https://ci.example', aud: undefined }) },
      'error validating token: invalid algorithm (alg) header parameter: token signed with unexpected algorithm',
    );
  });

  it('verifies against a JWKS URL', async () => {
    expect((await t.call('POST', '/v1/auth/jwt/config', { body: { jwks_url: `${issuer.url}/.well-known/jwks` } })).statusCode).toBe(204);
    await writeRole('ci', CI_ROLE);
    expect((await jwtLogin({ role: 'ci', jwt: await issuer.token() })).statusCode).toBe(200);
  });

  it.each([
    ['oidc_discovery_url', (url: string) => ({ oidc_discovery_url: url })],
    ['jwks_url', (url: string) => ({ jwks_url: `${url}/keys` })],
  ])('asks a failing %s again only after the cooldown, however many logins arrive meanwhile', async (_source, config) => {
    // Logins are unauthenticated: each must not make Ferry fetch from the issuer.
    let fetches = 0;
    const failing = http.createServer((_req, res) => {
      fetches++;
      res.writeHead(500).end();
    });
    await new Promise<void>((resolve) => failing.listen(0, '127.0.0.1', resolve));
    closeAfterTest({ close: () => new Promise<void>((resolve) => failing.close(() => resolve())) });
    const url = `http://127.0.0.1:${(failing.address() as AddressInfo).port}`;
    const written = await t.call('POST', '/v1/auth/jwt/config', { body: { ...config(url), skip_jwks_validation: true } });
    expect(written.statusCode).toBe(200);
    await writeRole('ci', CI_ROLE);
    const afterConfig = fetches;
    for (let i = 0; i < 5; i++) {
      const res = await jwtLogin({ role: 'ci', jwt: await issuer.token() });
      expect(res.json().errors[0]).toMatch(/^error validating token: error verifying token signature: .*500 Internal Server Error$/);
    }
    expect(fetches).toBe(afterConfig + 1);
    t.clock.advance(11 * SECOND);
    expect((await jwtLogin({ role: 'ci', jwt: await issuer.token() })).statusCode).toBe(400);
    expect(fetches).toBe(afterConfig + 2);
  });

  it('answers a login before any configuration as Vault does', async () => {
    await expectRefused({ role: 'ci', jwt: await issuer.token() }, 'could not load configuration');
  });
});
