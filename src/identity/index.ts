import type { PathSpec } from '../kernel/request.js';
import type { IdentityDeps } from './deps.js';
import { OidcKeyRing } from './oidc-keys.js';
import { configPath } from './path-config.js';
import { keyRotatePath } from './path-key-rotate.js';
import { keyPaths } from './path-key.js';
import { wellKnownPaths } from './path-well-known.js';

export type { IdentityDeps } from './deps.js';
export { createSecretsSyncTokenSigner, type MintedToken, type SecretsSyncTokenInput, type SecretsSyncTokenSigner } from './token-signer.js';
export { describeIssuerWarnings, secretsSyncIssuer, SECRETS_SYNC_ISSUER_PATH } from './issuer.js';
export { DEFAULT_KEY, SIGNING_ALGORITHMS, type SigningAlgorithm } from './oidc-keys.js';

/** Paths of the `identity/` mount (the OIDC issuer for secrets sync). */
export function identityPaths(deps: IdentityDeps): PathSpec[] {
  const keys = new OidcKeyRing(deps.store, deps.clock);
  return [configPath(deps), ...keyPaths(keys), keyRotatePath(keys), ...wellKnownPaths(deps, keys)];
}
