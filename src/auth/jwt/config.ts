import { X509Certificate } from 'node:crypto';
import { jwtErrors } from './errors.js';
import { discover, parsePublicKey } from './keys.js';
import { fetchJson } from './remote.js';

/** The signing algorithms Vault's JWT method accepts, and its default for `jwt_supported_algs`. */
export const SUPPORTED_ALGS = ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'EdDSA'];

/** A JWT mount's configuration as stored under `config` (a write replaces it whole, as in Vault). */
export interface StoredJwtConfig {
  oidc_discovery_url: string;
  oidc_discovery_ca_pem: string;
  oidc_client_id: string;
  /** Kept for the browser OIDC flow; never read back. */
  oidc_client_secret: string;
  oidc_response_mode: string;
  oidc_response_types: string[];
  jwks_url: string;
  jwks_ca_pem: string;
  jwt_validation_pubkeys: string[];
  jwt_supported_algs: string[];
  bound_issuer: string;
  default_role: string;
  provider_config: Record<string, unknown>;
  namespace_in_state: boolean;
}

export type JwtConfigInput = Partial<StoredJwtConfig>;

/** Vault's rules for a configuration: exactly one key source, parsable keys and CA bundles, known algorithms. */
export function planConfig(input: JwtConfigInput): StoredJwtConfig {
  const config: StoredJwtConfig = {
    oidc_discovery_url: input.oidc_discovery_url ?? '',
    oidc_discovery_ca_pem: input.oidc_discovery_ca_pem ?? '',
    oidc_client_id: input.oidc_client_id ?? '',
    oidc_client_secret: input.oidc_client_secret ?? '',
    oidc_response_mode: input.oidc_response_mode ?? '',
    oidc_response_types: input.oidc_response_types ?? [],
    jwks_url: input.jwks_url ?? '',
    jwks_ca_pem: input.jwks_ca_pem ?? '',
    jwt_validation_pubkeys: input.jwt_validation_pubkeys ?? [],
    jwt_supported_algs: input.jwt_supported_algs ?? [],
    bound_issuer: input.bound_issuer ?? '',
    default_role: (input.default_role ?? '').toLowerCase(),
    provider_config: input.provider_config ?? {},
    namespace_in_state: input.namespace_in_state ?? true,
  };
  const sources = [config.oidc_discovery_url !== '', config.jwks_url !== '', config.jwt_validation_pubkeys.length > 0].filter(Boolean);
  if (sources.length !== 1) throw jwtErrors.oneKeySource();
  if ((config.oidc_client_id === '') !== (config.oidc_client_secret === '')) throw jwtErrors.clientIdAndSecret();
  if (config.oidc_client_id !== '' && config.oidc_discovery_url === '') throw jwtErrors.discoveryForOidc();
  for (const field of ['jwks_ca_pem', 'oidc_discovery_ca_pem'] as const) {
    if (config[field] === '') continue;
    try {
      new X509Certificate(config[field]);
    } catch {
      throw jwtErrors.badCaPem(field);
    }
  }
  for (const pem of config.jwt_validation_pubkeys) {
    try {
      parsePublicKey(pem);
    } catch (err) {
      throw jwtErrors.badPublicKey((err as Error).message);
    }
  }
  const unknownAlg = config.jwt_supported_algs.find((alg) => !SUPPORTED_ALGS.includes(alg));
  if (unknownAlg !== undefined) throw jwtErrors.badAlgs(unknownAlg);
  return config;
}

/**
 * Checks that a remote key source answers (the discovery document names its issuer and a JWKS
 * URL; the JWKS URL serves a key set), as Vault does when the configuration is written. With
 * `skip_jwks_validation` a failure is a warning instead.
 */
export async function checkRemoteSource(config: StoredJwtConfig, skip: boolean): Promise<string[]> {
  const discovery = config.oidc_discovery_url !== '';
  if (!discovery && config.jwks_url === '') return [];
  try {
    if (discovery) {
      await discover(config.oidc_discovery_url, config.oidc_discovery_ca_pem || undefined);
    } else {
      const jwks = (await fetchJson(config.jwks_url, config.jwks_ca_pem || undefined)) as { keys?: unknown } | null;
      if (!jwks || !Array.isArray(jwks.keys)) throw new Error('not a JSON Web Key Set');
    }
    return [];
  } catch (err) {
    const failure = discovery ? jwtErrors.badDiscovery() : jwtErrors.badJwks();
    if (!skip) throw failure;
    return [`${failure.message}: ${(err as Error).message}`];
  }
}

/** The configuration as `config` reads it: the client secret never leaves. */
export function configView(config: StoredJwtConfig): Record<string, unknown> {
  const { oidc_client_secret: _secret, ...visible } = config;
  return visible;
}
