import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, base64url, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';

/**
 * An OIDC token issuer shaped like GitHub Actions' (`https://token.actions.githubusercontent.com`),
 * on a loopback port: it serves the discovery document and the JWKS over plain HTTP, as Vault's
 * JWT method fetches them, and signs tokens with RS256 keys that carry a `kid`.
 */
export interface TestIssuer {
  /** The issuer URL (`http://127.0.0.1:<port>`): the `iss` of its tokens and the discovery URL. */
  url: string;
  /** A token with GitHub's claims for `org/name` on `refs/heads/main`, `overrides` applied (undefined removes a claim). */
  token(overrides?: Record<string, unknown>, options?: { kid?: string; key?: CryptoKey }): Promise<string>;
  /** Starts signing with a new key; the JWKS then serves only the new one. */
  rotate(): Promise<void>;
  /** How many times the JWKS was fetched. */
  jwksFetches(): number;
  /** The active key's public half as PEM-less JWK (for static-key configurations). */
  publicJwk(): JWK;
  close(): Promise<void>;
}

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

/**
 * RSA key generation is slow, and no test depends on its keys being new: the n-th key is made
 * once per test file and shared by every issuer that file starts.
 */
const keys = new Map<number, Promise<SigningKey>>();

function newKey(n: number): Promise<SigningKey> {
  let key = keys.get(n);
  if (!key) {
    key = (async () => {
      const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
      const kid = `test-key-${n}`;
      return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
    })();
    keys.set(n, key);
  }
  return key;
}

/** A key no issuer publishes (a forger's), made once per test file. */
export async function foreignKey(): Promise<CryptoKey> {
  return (await newKey(0)).privateKey;
}

/** An unsigned token (`alg: none`), as an attacker would send one. */
export function unsignedToken(claims: Record<string, unknown>): string {
  const enc = (v: unknown) => base64url.encode(JSON.stringify(v));
  return `${enc({ alg: 'none', typ: 'JWT' })}.${enc(claims)}.`;
}

export async function startTestIssuer(clock: () => number = Date.now): Promise<TestIssuer> {
  let generation = 1;
  let active = await newKey(generation);
  let fetches = 0;
  let url = '';
  const server = http.createServer((req, res) => {
    const send = (body: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.url === '/.well-known/openid-configuration') {
      send({
        issuer: url,
        jwks_uri: `${url}/.well-known/jwks`,
        subject_types_supported: ['public', 'pairwise'],
        response_types_supported: ['id_token'],
        claims_supported: ['sub', 'aud', 'exp', 'iat', 'iss', 'jti', 'nbf', 'ref', 'repository', 'repository_owner', 'run_id', 'actor'],
        id_token_signing_alg_values_supported: ['RS256'],
        scopes_supported: ['openid'],
      });
    } else if (req.url === '/.well-known/jwks') {
      fetches++;
      send({ keys: [active.jwk] });
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    token: async (overrides = {}, options = {}) => {
      const now = Math.floor(clock() / 1000);
      const claims: Record<string, unknown> = {
        jti: `run-${now}`,
        sub: 'repo:org/name:ref:refs/heads/main',
        aud: 'https://github.com/org',
        ref: 'refs/heads/main',
        sha: '0123456789abcdef0123456789abcdef01234567',
        repository: 'org/name',
        repository_owner: 'org',
        repository_owner_id: '65',
        repository_id: '74',
        repository_visibility: 'private',
        run_id: '6230391187',
        run_number: '10',
        run_attempt: '1',
        runner_environment: 'github-hosted',
        actor: 'octocat',
        actor_id: '12',
        workflow: 'deploy',
        event_name: 'push',
        ref_type: 'branch',
        job_workflow_ref: 'org/name/.github/workflows/deploy.yml@refs/heads/main',
        iss: url,
        nbf: now - 5,
        iat: now,
        exp: now + 300,
        ...overrides,
      };
      for (const [k, v] of Object.entries(claims)) if (v === undefined) delete claims[k];
      return new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: options.kid ?? active.kid, x5t: 'test-thumbprint' })
        .sign(options.key ?? active.privateKey);
    },
    rotate: async () => {
      active = await newKey(++generation);
    },
    jwksFetches: () => fetches,
    publicJwk: () => active.jwk,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
