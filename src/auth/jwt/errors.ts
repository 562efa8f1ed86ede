import { defineError } from '../../kernel/errors.js';

/** The JWT method's errors, as Vault's JWT plugin words them. */
export const jwtErrors = {
  // Configuration.
  oneKeySource: defineError(
    'jwt.one_key_source',
    'invalid',
    () => "exactly one of 'jwt_validation_pubkeys', 'jwks_url' or 'oidc_discovery_url' must be set",
  ),
  clientIdAndSecret: defineError('jwt.client_id_and_secret', 'invalid', () => "both 'oidc_client_id' and 'oidc_client_secret' must be set for OIDC"),
  discoveryForOidc: defineError('jwt.discovery_for_oidc', 'invalid', () => "'oidc_discovery_url' must be set for OIDC"),
  badDiscovery: defineError('jwt.bad_discovery', 'invalid', () => 'error checking oidc discovery URL'),
  badJwks: defineError('jwt.bad_jwks', 'invalid', () => 'error checking jwks URL'),
  badCaPem: defineError('jwt.bad_ca_pem', 'invalid', (field: string) => `error checking ${field}`),
  badPublicKey: defineError('jwt.bad_public_key', 'invalid', (reason: string) => `error parsing public key: ${reason}`),
  badAlgs: defineError('jwt.bad_algs', 'invalid', (alg: string) => `invalid jwt_supported_algs: ${alg}`),
  notConfigured: defineError('jwt.not_configured', 'invalid', () => 'could not load configuration'),
  // Roles.
  badRoleType: defineError('jwt.bad_role_type', 'invalid', (value: string) => `invalid 'role_type': ${value}`),
  badBoundClaimsType: defineError('jwt.bad_bound_claims_type', 'invalid', (value: string) => `invalid 'bound_claims_type': ${value}`),
  boundClaimNotList: defineError('jwt.bound_claim_not_list', 'invalid', (value: string) => `claim is not a string or list: ${value}`),
  boundClaimNotString: defineError('jwt.bound_claim_not_string', 'invalid', (value: string) => `claim is not a string: ${value}`),
  userClaimRequired: defineError('jwt.user_claim_required', 'invalid', () => 'a user claim must be defined on the role'),
  reservedMetadataKey: defineError(
    'jwt.reserved_metadata_key',
    'invalid',
    (key: string) => `metadata key ${JSON.stringify(key)} is reserved and may not be a mapping destination`,
  ),
  duplicateMetadataKey: defineError(
    'jwt.duplicate_metadata_key',
    'invalid',
    (key: string) => `multiple keys are mapped to metadata key ${JSON.stringify(key)}`,
  ),
  noBoundConstraint: defineError(
    'jwt.no_bound_constraint',
    'invalid',
    () => 'must have at least one bound constraint when creating/updating a role',
  ),
  redirectUrisRequired: defineError(
    'jwt.redirect_uris_required',
    'invalid',
    () => "'allowed_redirect_uris' must be set if 'role_type' is 'oidc' or unspecified.",
  ),
  // Login.
  missingRole: defineError('jwt.missing_role', 'invalid', () => 'missing role'),
  unknownRole: defineError('jwt.unknown_role', 'invalid', (name: string) => `role ${JSON.stringify(name)} could not be found`),
  roleGoneAtRenewal: defineError('jwt.role_gone_at_renewal', 'invalid', (name: string) => `role ${name} does not exist during renewal`),
  oidcRole: defineError('jwt.oidc_role', 'invalid', () => 'role with oidc role_type is not allowed'),
  missingToken: defineError('jwt.missing_token', 'invalid', () => 'missing token'),
  /** Signature, algorithm, issuer, subject, audience and time checks; `reason` says which failed. */
  invalidToken: defineError('jwt.invalid_token', 'invalid', (reason: string) => `error validating token: ${reason}`),
  /**
   * An `aud` claim a role does not bind. Ferry refuses it whether `aud` is a string or a list;
   * Vault's current plugin refuses only a list (GitHub's string `aud` slips through there).
   */
  unboundAudience: defineError('jwt.unbound_audience', 'invalid', () => 'audience claim found in JWT but no audiences bound to the role'),
  userClaimMissing: defineError('jwt.user_claim_missing', 'invalid', (claim: string) => `claim ${JSON.stringify(claim)} not found in token`),
  userClaimNotString: defineError(
    'jwt.user_claim_not_string',
    'invalid',
    (claim: string) => `claim ${JSON.stringify(claim)} could not be converted to string`,
  ),
  mappedClaimNotString: defineError('jwt.mapped_claim_not_string', 'invalid', (claim: string) => `error converting claim '${claim}' to string`),
  invalidClaims: defineError('jwt.invalid_claims', 'invalid', (reason: string) => `error validating claims: ${reason}`),
};
