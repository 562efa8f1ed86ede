import { defineError } from '../kernel/errors.js';

/** The OIDC issuer's errors (configuration, named keys, token minting), as Vault words them. */
export const identityErrors = {
  invalidIssuer: defineError(
    'identity.invalid_issuer',
    'invalid',
    () => 'invalid issuer, which must include only a scheme, host, and optional port (e.g. https://example.com:8200)',
  ),
  unknownAlgorithm: defineError('identity.unknown_algorithm', 'invalid', (algorithm: string) => `unknown signing algorithm "${algorithm}"`),
  rotationPeriodTooShort: defineError('identity.rotation_period_too_short', 'invalid', () => 'rotation_period must be at least one minute'),
  verificationTtlTooLong: defineError(
    'identity.verification_ttl_too_long',
    'invalid',
    () => 'verification_ttl cannot be longer than 10x rotation_period',
  ),
  defaultKeyUndeletable: defineError(
    'identity.default_key_undeletable',
    'invalid',
    () => 'the "default" key cannot be deleted: it signs the identity tokens of destinations that name no key',
  ),
  noSuchKey: defineError('identity.no_such_key', 'invalid', (name: string) => `no named key "${name}" found`),
  destinationRequired: defineError('identity.destination_required', 'invalid', () => 'a destination type and name are required'),
  audienceRequired: defineError('identity.audience_required', 'invalid', () => 'identity_token_audience is required'),
  invalidTokenTtl: defineError('identity.invalid_token_ttl', 'invalid', () => 'identity_token_ttl must be a positive number of seconds'),
  audienceNotAllowed: defineError(
    'identity.audience_not_allowed',
    'invalid',
    (key: string, audience: string) => `key "${key}" does not allow the audience "${audience}": add it to the key's allowed_client_ids`,
  ),
};
