import type { IdentityDeps } from './deps.js';
import type { PathSpec } from '../kernel/request.js';
import { OidcKeyRing } from './oidc-keys.js';
import { oidcConfigPaths } from './path-oidc-config.js';
import { oidcKeyPaths } from './path-oidc-key.js';
import { oidcWellKnownPaths } from './path-oidc-well-known.js';

export { createSecretsSyncTokenSigner, type MintedToken, type SecretsSyncTokenInput, type SecretsSyncTokenSigner } from './token-signer.js';
export { describeIssuerWarnings, issuerWarnings, secretsSyncIssuer, SECRETS_SYNC_ISSUER_PATH } from './issuer.js';
export { DEFAULT_KEY, SIGNING_ALGORITHMS, type SigningAlgorithm } from './oidc-keys.js';

/** Paths of the `identity/` mount (the OIDC issuer for secrets sync). */
export function identityPaths(core: IdentityDeps): PathSpec[] {
  const keys = new OidcKeyRing(core.store, core.clock);
  return [...oidcConfigPaths(core), ...oidcKeyPaths(keys), ...oidcWellKnownPaths(core, keys)];
}
