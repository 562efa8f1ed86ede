import { defineError } from '../../kernel/errors.js';

/**
 * Errors every auth method shares: the role/user token fields (Vault's tokenutil), CIDR lists
 * and the issuing of login tokens, as Vault words them.
 */
export const loginErrors = {
  negative: defineError('login.negative_field', 'invalid', (field: string) => `'${field}' cannot be negative`),
  ttlAboveMax: defineError('login.ttl_above_max', 'invalid', () => "'token_ttl' cannot be greater than 'token_max_ttl'"),
  invalidTokenType: defineError('login.invalid_token_type', 'invalid', (value: string) => `invalid 'token_type' value ${JSON.stringify(value)}`),
  /** Batch tokens cannot be renewed or count uses: a batch role with a period or a use limit is refused. */
  batchPeriodic: defineError(
    'login.batch_periodic',
    'invalid',
    () => "'token_type' cannot be 'batch' or 'default_batch' when set to generate periodic tokens",
  ),
  batchLimitedUses: defineError(
    'login.batch_limited_uses',
    'invalid',
    () => "'token_type' cannot be 'batch' or 'default_batch' when set to generate tokens with limited use count",
  ),
  invalidAddress: defineError(
    'login.invalid_address',
    'invalid',
    (address: string) => `error parsing address ${JSON.stringify(address)}: not an IP address or CIDR block`,
  ),
  rootPolicy: defineError('login.root_policy', 'invalid', () => 'auth methods cannot create root tokens'),
  /** Renewing a login token whose user or role no longer grants the policies it carries. */
  policiesChanged: defineError('login.policies_changed', 'invalid', () => 'policies have changed, not renewing'),
  /** Field decoding that Vault's framework does (a JSON object given as a string, for example). */
  fieldValue: defineError(
    'login.field_value',
    'invalid',
    (field: string, reason: string) => `Field validation failed: error converting input for field "${field}": ${reason}`,
  ),
};
