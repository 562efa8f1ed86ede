/**
 * Fetching an issuer's verification keys like AWS does: GET `<iss>/.well-known/openid-configuration`,
 * read `jwks_uri`, GET the JWKS. Cached per issuer for a short time; a token whose `kid` is not in
 * the cached set triggers one refetch (key rotation).
 */
import type { JWK } from 'jose';

const CACHE_TTL_MS = 60_000;
const FETCH_TIMEOUT_MS = 5_000;

/** Any failure to obtain the keys; STS answers it with "Couldn't retrieve verification key…". */
export class KeyFetchError extends Error {}

export class OidcKeyCache {
  private readonly cache = new Map<string, { keys: JWK[]; fetchedAt: number }>();

  constructor(private readonly requireHttps: boolean) {}

  /** Keys for `issuer`; `refresh` forces a refetch. Throws KeyFetchError. */
  async keys(issuer: string, refresh = false): Promise<JWK[]> {
    const cached = this.cache.get(issuer);
    if (!refresh && cached !== undefined && Date.now() - cached.fetchedAt < CACHE_TTL_MS) return cached.keys;
    const discovery = await getJson(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`);
    // The OIDC discovery specification requires the document's issuer to be the token's.
    if (discovery.issuer !== issuer) throw new KeyFetchError(`discovery issuer ${String(discovery.issuer)} is not ${issuer}`);
    const jwksUri = discovery.jwks_uri;
    if (typeof jwksUri !== 'string') throw new KeyFetchError('discovery document has no jwks_uri');
    if (this.requireHttps && !jwksUri.startsWith('https://')) throw new KeyFetchError('jwks_uri is not https');
    const jwks = await getJson(jwksUri);
    if (!Array.isArray(jwks.keys)) throw new KeyFetchError('JWKS has no keys array');
    const keys = (jwks.keys as unknown[]).filter((k): k is JWK => k !== null && typeof k === 'object');
    this.cache.set(issuer, { keys, fetchedAt: Date.now() });
    return keys;
  }
}

async function getJson(url: string): Promise<Record<string, unknown>> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'follow' });
  } catch (e) {
    throw new KeyFetchError(`GET ${url} failed: ${(e as Error).message}`);
  }
  if (res.status !== 200) throw new KeyFetchError(`GET ${url} answered ${res.status}`);
  try {
    const body = (await res.json()) as unknown;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new Error('not an object');
    return body as Record<string, unknown>;
  } catch (e) {
    throw new KeyFetchError(`GET ${url}: body is not a JSON object (${(e as Error).message})`);
  }
}
