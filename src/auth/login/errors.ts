import { defineError } from '../../kernel/errors.js';

/**
 * Errors every auth method shares: the role/user token fields (Vault's tokenutil), CIDR lists
 * and the issuing of login tokens, as Vault words them.
 */
export const loginErrors = {
  negative: defineError('login.negative_field', 'invalid', (field: string) => `'${field}' cannot be negative`),
  ttlAboveMax: defineError('login.ttl_above_max', 'invalid', () => "'token_ttl' cannot be greater than 'token_max_ttl'"),
  invalidTokenType: defineError('login.invalid_token_type', 'invalid', (value: string) => `invalid 'token_type' value ${JSON.stringify(value)}`),
  /** Until Ferry has batch tokens (they are service tokens only), a role cannot ask for them. */
  batchUnsupported: defineError(
    'login.batch_unsupported',
    'invalid',
    () => "token_type 'batch' is not supported: Ferry issues service tokens only (use 'service' or 'default')",
  ),
  invalidAddress: defineError(
    'login.invalid_address',
    'invalid',
    (address: string) => `error parsing address ${JSON.stringify(address)}: not an IP address or CIDR block`,
  ),
  rootPolicy: defineError('login.root_policy', 'invalid', () => 'auth methods cannot create root tokens'),
  /** Field decoding that Vault's framework does (a JSON object given as a string, for example). */
  fieldValue: defineError(
    'login.field_value',
    'invalid',
    (field: string, reason: string) => `Field validation failed: error converting input for field "${field}": ${reason}`,
  ),
};
