import { describe, expect, it } from 'vitest';
import { closeAfterTest, useListeningServer } from '../support/fixtures.js';
import { foreignKey, startTestIssuer, unsignedToken } from '../support/oidc-issuer.js';

/**
 * The README's CI example end to end over a real socket: a GitHub-Actions-shaped issuer
 * (discovery and JWKS over HTTP), the JWT method configured for it with a role bound to one
 * repository, and a job that logs in as hashicorp/vault-action does (`POST v1/auth/jwt/login`
 * with `{jwt, role}`) and reads its secret with the token.
 */
const server = useListeningServer();

async function vaultApi(method: string, path: string, body?: unknown, token?: string) {
  const res = await fetch(`${server.listener.url}/v1/${path}`, {
    method,
    headers: { ...(token ? { 'X-Vault-Token': token } : {}), 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? null : JSON.parse(text), contentType: res.headers.get('content-type') };
}

describe('a GitHub Actions job logging in with its OIDC token', () => {
  it('reads its secret; tokens for another repository, expired, for another audience, badly signed or unsigned are refused', async () => {
    const issuer = closeAfterTest(await startTestIssuer());
    // The operator's setup (README: "CI logins with GitHub Actions").
    expect((await vaultApi('POST', 'sys/auth/jwt', { type: 'jwt' }, 'root')).status).toBe(204);
    expect((await vaultApi('POST', 'auth/jwt/config', { oidc_discovery_url: issuer.url, bound_issuer: issuer.url }, 'root')).status).toBe(204);
    const policy = 'path "secret/data/ci/deploy" { capabilities = ["read"] }';
    expect((await vaultApi('PUT', 'sys/policies/acl/ci-deploy', { policy }, 'root')).status).toBe(204);
    const role = {
      role_type: 'jwt',
      user_claim: 'actor',
      bound_audiences: ['https://github.com/org'],
      bound_claims: { repository: 'org/name', ref: 'refs/heads/main' },
      token_policies: ['ci-deploy'],
      token_ttl: '15m',
    };
    expect((await vaultApi('POST', 'auth/jwt/role/deploy', role, 'root')).status).toBe(204);
    expect((await vaultApi('POST', 'secret/data/ci/deploy', { data: { api_key: 'k-123' } }, 'root')).status).toBe(200);

    // The job.
    const login = await vaultApi('POST', 'auth/jwt/login', { jwt: await issuer.token(), role: 'deploy' });
    expect(login.status).toBe(200);
    expect(login.contentType).toBe('application/json');
    const token = login.body.auth.client_token as string;
    expect(login.body.auth).toMatchObject({ policies: ['ci-deploy', 'default'], metadata: { role: 'deploy' }, lease_duration: 900 });
    const secret = await vaultApi('GET', 'secret/data/ci/deploy', undefined, token);
    expect(secret.status).toBe(200);
    expect(secret.body.data.data).toEqual({ api_key: 'k-123' });
    expect((await vaultApi('GET', 'secret/data/other', undefined, token)).status).toBe(403);

    const now = Math.floor(Date.now() / 1000);
    const claims = JSON.parse(Buffer.from((await issuer.token()).split('.')[1]!, 'base64url').toString());
    const refused: Array<[string, string, string]> = [
      [
        'another repository',
        await issuer.token({ repository: 'org/other', sub: 'repo:org/other:ref:refs/heads/main' }),
        'error validating claims: claim "repository" does not match any associated bound claim values',
      ],
      ['an expired token', await issuer.token({ iat: now - 900, nbf: now - 900, exp: now - 600 }), 'error validating token: invalid expiration time (exp) claim: token is expired'],
      [
        'another audience (vault-action’s default, sigstore)',
        await issuer.token({ aud: 'sigstore' }),
        'error validating token: invalid audience (aud) claim: audience claim does not match any expected audience',
      ],
      ['a wrong signature', await issuer.token({}, { key: await foreignKey() }), 'error validating token: error verifying token signature: failed to verify id token signature'],
      ['an unsigned token (alg: none)', unsignedToken(claims), 'error validating token: error verifying token signature: token is not signed'],
    ];
    for (const [what, jwt, message] of refused) {
      const res = await vaultApi('POST', 'auth/jwt/login', { jwt, role: 'deploy' });
      expect(res.status, what).toBe(400);
      expect(res.body, what).toEqual({ errors: [message] });
    }
  });
});
