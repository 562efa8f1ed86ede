import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import { describe, expect, it } from 'vitest';
import { createSecretsSyncTokenSigner, type SecretsSyncTokenSigner } from '../../src/identity/index.js';
import { startListeningServer, startTestServer, type TestServer } from '../support/app.js';
import { HOUR, MINUTE, SECOND, manualClock, type ManualClock } from '../support/clock.js';
import { closeAfterTest } from '../support/fixtures.js';
import { T0, WELL_KNOWN } from './helpers.js';

const AUDIENCE = 'ferry.example.com/v1/identity/oidc/secrets-sync';

/** A listening server whose api_addr is its own URL, so the discovery document points back at it. */
async function listening(clock: ManualClock) {
  const s = closeAfterTest(await startListeningServer({ clock }));
  s.server.core.info.apiAddr = s.listener.url;
  const call = async (method: string, path: string, body?: unknown) =>
    fetch(`${s.listener.url}${path}`, {
      method,
      headers: { 'x-vault-token': s.rootToken, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  return { ...s, call, signer: createSecretsSyncTokenSigner(s.server.core) };
}

/** Verifies a token the way AWS does: discovery document → jwks_uri → key by kid → signature and claims. */
async function verifyThroughDiscovery(issuerBase: string, token: string, clock: ManualClock) {
  const discovery = (await (await fetch(`${issuerBase}${WELL_KNOWN}/openid-configuration`)).json()) as { issuer: string; jwks_uri: string };
  // A fresh key set per verification: jose's cache must not hide what the server publishes now.
  const keySet = createRemoteJWKSet(new URL(discovery.jwks_uri));
  return jwtVerify(token, keySet, { issuer: discovery.issuer, audience: AUDIENCE, currentDate: new Date(clock()) });
}

async function inProcess(clock = manualClock(T0)): Promise<{ t: TestServer; signer: SecretsSyncTokenSigner; clock: ManualClock }> {
  const t = closeAfterTest(await startTestServer({ apiAddr: 'https://ferry.example.com', clock }));
  return { t, signer: createSecretsSyncTokenSigner(t.server.core), clock };
}

const jwksKids = async (t: TestServer): Promise<string[]> =>
  (await t.call('GET', `${WELL_KNOWN}/keys`, { token: null })).json().keys.map((k: { kid: string }) => k.kid);

describe('secrets-sync identity tokens', () => {
  it('verify with jose against a listening server: discovery, JWKS, signature, iss, sub, aud and a one-hour lifetime', async () => {
    const clock = manualClock(T0);
    const s = await listening(clock);
    const minted = await s.signer.mint({ destinationType: 'aws-sm', destinationName: 'prod-wif', audience: AUDIENCE });

    const { payload, protectedHeader } = await verifyThroughDiscovery(s.listener.url, minted.token, clock);
    const iat = Math.floor(clock() / 1000);
    expect(payload).toEqual({
      iss: `${s.listener.url}/v1/identity/oidc/secrets-sync`,
      sub: 'secrets-sync:root:aws-sm:prod-wif',
      aud: AUDIENCE,
      iat,
      nbf: iat,
      exp: iat + 3600,
      'vaultproject.io': { namespace_id: 'root', namespace_path: '', store_type: 'aws-sm', store_name: 'prod-wif' },
    } satisfies JWTPayload);
    expect(protectedHeader).toEqual({ alg: 'RS256', kid: minted.kid, typ: 'JWT' });
    expect(minted.expiresAt).toBe((iat + 3600) * 1000);
  });

  it('signs with the current key of the JWKS, takes the ttl given, and keeps aud a single string', async () => {
    const { t, signer, clock } = await inProcess();
    const minted = await signer.mint({ destinationType: 'aws-sm', destinationName: 'd', audience: 'sts.amazonaws.com', ttlSeconds: 900 });
    const [current] = await jwksKids(t);
    expect(decodeProtectedHeader(minted.token).kid).toBe(current);
    const claims = decodeJwt(minted.token);
    expect(claims.aud).toBe('sts.amazonaws.com');
    expect(claims.exp! - claims.iat!).toBe(900);
    expect(claims.iat).toBe(Math.floor(clock() / 1000));
  });

  it('after rotate, earlier tokens verify until verification_ttl passes and new tokens carry the new kid', async () => {
    const clock = manualClock(T0);
    const s = await listening(clock);
    expect((await s.call('POST', '/v1/identity/oidc/key/short', { rotation_period: '1h', verification_ttl: '30m' })).status).toBe(204);
    const input = { destinationType: 'aws-sm', destinationName: 'd', audience: AUDIENCE, ttlSeconds: 2 * 3600, keyName: 'short' };
    const before = await s.signer.mint(input);

    expect((await s.call('POST', '/v1/identity/oidc/key/short/rotate')).status).toBe(204);
    const after = await s.signer.mint(input);
    expect(after.kid).not.toBe(before.kid);
    expect(decodeProtectedHeader(after.token).kid).toBe(after.kid);

    clock.advance(30 * MINUTE - SECOND);
    await expect(verifyThroughDiscovery(s.listener.url, before.token, clock)).resolves.toMatchObject({ protectedHeader: { kid: before.kid } });
    await expect(verifyThroughDiscovery(s.listener.url, after.token, clock)).resolves.toMatchObject({ protectedHeader: { kid: after.kid } });

    clock.advance(SECOND);
    await expect(verifyThroughDiscovery(s.listener.url, before.token, clock)).rejects.toMatchObject({ code: 'ERR_JWKS_NO_MATCHING_KEY' });
    await expect(verifyThroughDiscovery(s.listener.url, after.token, clock)).resolves.toMatchObject({ protectedHeader: { kid: after.kid } });
  });

  it('rotates on schedule at mint time: the key that was published as next starts signing', async () => {
    const { t, signer, clock } = await inProcess();
    const input = { destinationType: 'aws-sm', destinationName: 'd', audience: AUDIENCE };
    const first = await signer.mint(input);
    const [, published] = await jwksKids(t);

    clock.advance(24 * HOUR - SECOND);
    expect((await signer.mint(input)).kid).toBe(first.kid);
    clock.advance(SECOND);
    expect((await signer.mint(input)).kid).toBe(published);
    expect(await jwksKids(t)).toContain(first.kid);
  });

  it('rotates once when many mints (from two signers) find the rotation due at the same time', async () => {
    const { t, signer, clock } = await inProcess();
    const other = createSecretsSyncTokenSigner(t.server.core);
    const input = { destinationType: 'aws-sm', destinationName: 'd', audience: AUDIENCE };
    const first = await signer.mint(input);
    clock.advance(24 * HOUR);
    const minted = await Promise.all([...Array(5)].flatMap(() => [signer.mint(input), other.mint(input)]));
    expect(new Set(minted.map((m) => m.kid)).size).toBe(1);
    // previous (the first key), current and next: exactly one rotation happened
    const kids = await jwksKids(t);
    expect(kids).toHaveLength(3);
    expect(kids).toEqual([minted[0]!.kid, expect.any(String), first.kid]);
  });

  it('signs with ES256 keys, which AWS accepts, and the EC public key verifies them', async () => {
    const clock = manualClock(T0);
    const s = await listening(clock);
    await s.call('POST', '/v1/identity/oidc/key/ec', { algorithm: 'ES256' });
    const minted = await s.signer.mint({ destinationType: 'aws-sm', destinationName: 'd', audience: AUDIENCE, keyName: 'ec' });
    const { protectedHeader } = await verifyThroughDiscovery(s.listener.url, minted.token, clock);
    expect(protectedHeader.alg).toBe('ES256');
    const jwks = (await (await fetch(`${s.listener.url}${WELL_KNOWN}/keys`)).json()) as { keys: Array<{ kid: string }> };
    expect(jwks.keys.find((k) => k.kid === minted.kid)).toEqual({
      use: 'sig',
      kty: 'EC',
      kid: minted.kid,
      alg: 'ES256',
      crv: 'P-256',
      x: expect.any(String),
      y: expect.any(String),
    });
  });

  it('signs with EdDSA keys too (Vault allows them; AWS does not)', async () => {
    const clock = manualClock(T0);
    const s = await listening(clock);
    await s.call('POST', '/v1/identity/oidc/key/ed', { algorithm: 'EdDSA' });
    const minted = await s.signer.mint({ destinationType: 'aws-sm', destinationName: 'd', audience: AUDIENCE, keyName: 'ed' });
    const { protectedHeader } = await verifyThroughDiscovery(s.listener.url, minted.token, clock);
    expect(protectedHeader.alg).toBe('EdDSA');
  });

  it('refuses a key that does not exist, and keyExists says so (default always exists)', async () => {
    const { signer } = await inProcess();
    await expect(signer.mint({ destinationType: 'aws-sm', destinationName: 'd', audience: AUDIENCE, keyName: 'nope' })).rejects.toMatchObject({
      kind: 'invalid',
      errors: ['no named key "nope" found'],
    });
    expect(await signer.keyExists('nope')).toBe(false);
    expect(await signer.keyExists('default')).toBe(true);
  });

  it("refuses an audience outside the key's allowed_client_ids", async () => {
    const { t, signer } = await inProcess();
    await t.call('POST', '/v1/identity/oidc/key/narrow', { body: { allowed_client_ids: ['sts.amazonaws.com'] } });
    const input = { destinationType: 'aws-sm', destinationName: 'd', keyName: 'narrow' };
    expect(decodeJwt((await signer.mint({ ...input, audience: 'sts.amazonaws.com' })).token).aud).toBe('sts.amazonaws.com');
    await expect(signer.mint({ ...input, audience: 'other' })).rejects.toMatchObject({ kind: 'invalid' });
  });

  it('builds iss from identity/oidc/config when set', async () => {
    const { t, signer } = await inProcess();
    await t.call('POST', '/v1/identity/oidc/config', { body: { issuer: 'https://vault.example.com' } });
    const minted = await signer.mint({ destinationType: 'aws-sm', destinationName: 'd', audience: AUDIENCE });
    expect(decodeJwt(minted.token).iss).toBe('https://vault.example.com/v1/identity/oidc/secrets-sync');
  });

  it('keeps signing after reset (the imported keys are re-imported from the store)', async () => {
    const { signer } = await inProcess();
    const input = { destinationType: 'aws-sm', destinationName: 'd', audience: AUDIENCE };
    const a = await signer.mint(input);
    signer.reset();
    expect((await signer.mint(input)).kid).toBe(a.kid);
  });
});
