import { createPublicKey, type KeyObject } from 'node:crypto';
import { createLocalJWKSet, type FlattenedJWSInput, type JSONWebKeySet, type JWSHeaderParameters } from 'jose';
import { fetchJson } from './remote.js';

/** A key set is refetched when a token names a key it lacks, at most this often. */
const REFRESH_COOLDOWN_MS = 10_000;
/** Cached keys are refetched after this long even when every token finds its key. */
const MAX_AGE_MS = 60 * 60_000;

type LocalKeySet = ReturnType<typeof createLocalJWKSet>;

/**
 * A JWKS fetched over HTTP and cached, refetched when a token's `kid` matches no cached key
 * (the issuer rotated its keys) — at most once per cooldown, so tokens naming made-up keys
 * cannot make Ferry hammer the issuer — and after an hour. Times come from the server's clock.
 * Key selection is jose's (`createLocalJWKSet`: by `kid`, `alg`, `use` and `key_ops`).
 */
export class RemoteKeySet {
  private local: LocalKeySet | undefined;
  /** When the cached keys were fetched. */
  private fetchedAt = 0;
  /** When a fetch was last tried, whether it worked or not: refetches wait a cooldown after it. */
  private triedAt = Number.NEGATIVE_INFINITY;
  /** Why the last fetch failed, answered again while cooling down when there are no keys yet. */
  private lastFailure: unknown;
  private inflight: Promise<void> | undefined;

  constructor(
    private readonly load: () => Promise<unknown>,
    private readonly clock: () => number,
  ) {}

  private refresh(): Promise<void> {
    this.inflight ??= (async () => {
      this.triedAt = this.clock();
      try {
        const jwks = await this.load();
        this.local = createLocalJWKSet(jwks as JSONWebKeySet);
        this.fetchedAt = this.clock();
        this.lastFailure = undefined;
      } catch (err) {
        this.lastFailure = err;
        throw err;
      } finally {
        this.inflight = undefined;
      }
    })();
    return this.inflight;
  }

  private coolingDown(): boolean {
    return this.clock() - this.triedAt < REFRESH_COOLDOWN_MS;
  }

  /** The key that verifies a token with this header (jose's key resolver shape). */
  async resolve(header: JWSHeaderParameters, token: FlattenedJWSInput) {
    if (!this.local) {
      // No keys yet: a login is unauthenticated, so a failing issuer is asked again only after the cooldown.
      if (this.coolingDown() && this.lastFailure !== undefined) throw this.lastFailure;
      await this.refresh();
    } else if (this.clock() - this.fetchedAt > MAX_AGE_MS && !this.coolingDown()) {
      // Stale keys whose refresh fails are still better than none; the next try waits a cooldown.
      await this.refresh().catch(() => undefined);
    }
    try {
      return await this.local!(header, token);
    } catch (err) {
      const noMatch = (err as { code?: string }).code === 'ERR_JWKS_NO_MATCHING_KEY';
      if (!noMatch || this.coolingDown()) throw err;
      await this.refresh();
      return this.local!(header, token);
    }
  }
}

/** The part of a mount's configuration that says where its keys come from. */
export interface KeySourceConfig {
  jwt_validation_pubkeys: string[];
  jwks_url: string;
  jwks_ca_pem: string;
  oidc_discovery_url: string;
  oidc_discovery_ca_pem: string;
}

/** Where a mount's verification keys come from. */
export type KeySource =
  | { kind: 'static'; keys: KeyObject[] }
  /** `issuer`: with OIDC discovery, the issuer the discovery document names. */
  | { kind: 'remote'; keys: RemoteKeySet; issuer?: string };

/** A PEM public key or certificate (`jwt_validation_pubkeys`): RSA, EC or Ed25519. */
export function parsePublicKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new Error('data does not contain any valid RSA or ECDSA public keys');
  }
  if (!['rsa', 'rsa-pss', 'ec', 'ed25519'].includes(key.asymmetricKeyType ?? '')) {
    throw new Error(`unsupported key type ${JSON.stringify(key.asymmetricKeyType)}`);
  }
  return key;
}

/** Fetches and checks an OIDC discovery document: its `issuer` must be the URL it was fetched for. */
export async function discover(issuer: string, caPem?: string): Promise<{ issuer: string; jwks_uri: string }> {
  const doc = (await fetchJson(`${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`, caPem)) as Record<string, unknown>;
  if (doc === null || typeof doc !== 'object') throw new Error('the discovery document is not a JSON object');
  if (doc.issuer !== issuer) throw new Error(`issuer did not match the returned issuer, expected ${JSON.stringify(issuer)} got ${JSON.stringify(doc.issuer)}`);
  if (typeof doc.jwks_uri !== 'string') throw new Error('the discovery document has no jwks_uri');
  return { issuer, jwks_uri: doc.jwks_uri };
}

async function buildSource(config: KeySourceConfig, clock: () => number): Promise<KeySource> {
  if (config.jwt_validation_pubkeys.length > 0) return { kind: 'static', keys: config.jwt_validation_pubkeys.map(parsePublicKey) };
  if (config.jwks_url) {
    const url = config.jwks_url;
    const ca = config.jwks_ca_pem || undefined;
    return { kind: 'remote', keys: new RemoteKeySet(() => fetchJson(url, ca), clock) };
  }
  const ca = config.oidc_discovery_ca_pem || undefined;
  const { issuer, jwks_uri } = await discover(config.oidc_discovery_url, ca);
  return { kind: 'remote', keys: new RemoteKeySet(() => fetchJson(jwks_uri, ca), clock), issuer };
}

/**
 * Each JWT mount's key source, built from its configuration on first use and kept until the
 * configuration changes (a new configuration is a new fingerprint) or the server seals. A
 * source that fails to build (discovery unreachable) is built again by the first login after
 * the refresh cooldown; the logins before that get its failure without a fetch.
 */
export class JwtKeyCache {
  /** `failedAt`: when the source failed to build; it is answered as failed until the cooldown has passed. */
  private readonly byMount = new Map<string, { fingerprint: string; source: Promise<KeySource>; failedAt?: number }>();

  constructor(private readonly clock: () => number) {}

  sourceFor(mountUuid: string, config: KeySourceConfig): Promise<KeySource> {
    const fingerprint = JSON.stringify([
      config.jwt_validation_pubkeys,
      config.jwks_url,
      config.jwks_ca_pem,
      config.oidc_discovery_url,
      config.oidc_discovery_ca_pem,
    ]);
    const cached = this.byMount.get(mountUuid);
    if (cached && cached.fingerprint === fingerprint) {
      // Logins are unauthenticated: a discovery that failed is not fetched again for each of them.
      if (cached.failedAt === undefined || this.clock() - cached.failedAt < REFRESH_COOLDOWN_MS) return cached.source;
    }
    const source = buildSource(config, this.clock);
    const entry: { fingerprint: string; source: Promise<KeySource>; failedAt?: number } = { fingerprint, source };
    this.byMount.set(mountUuid, entry);
    source.catch(() => {
      entry.failedAt = this.clock();
    });
    return source;
  }

  reset(): void {
    this.byMount.clear();
  }
}
