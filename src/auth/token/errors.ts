import { defineError } from '../../kernel/errors.js';

/** Token creation, lookup, renewal and revocation errors, as Vault words them. */
export const tokenErrors = {
  /** A token id that names no live token, where the token is a parameter of the request. */
  invalidToken: defineError('token.invalid_token', 'invalid', () => 'invalid token'),
  invalidAccessor: defineError('token.invalid_accessor', 'invalid', () => 'invalid accessor'),
  /** `auth/token/lookup` of a token that does not exist: Vault answers 403. */
  badToken: defineError('token.bad_token', 'denied', () => 'bad token'),
  missingToken: defineError('token.missing_token', 'invalid', () => 'missing token'),
  missingLookupToken: defineError('token.missing_lookup_token', 'invalid', () => 'missing token to look up'),
  missingAccessor: defineError('token.missing_accessor', 'invalid', () => 'missing accessor'),
  duplicateId: defineError('token.duplicate_id', 'invalid', () => 'cannot create a token with a duplicate ID'),
  entityAliasWithoutRole: defineError(
    'token.entity_alias_without_role',
    'invalid',
    () => "'entity_alias' is only allowed in combination with token role",
  ),
  batchCannotCreate: defineError('token.batch_cannot_create', 'invalid', () => 'batch tokens cannot create more tokens'),
  batchCannotHave: defineError('token.batch_cannot_have', 'invalid', (field: string) => `batch tokens cannot have "${field}" set`),
  batchRoot: defineError('token.batch_root', 'invalid', () => 'batch tokens cannot be root tokens'),
  batchNotRenewable: defineError('token.batch_not_renewable', 'invalid', () => 'batch tokens cannot be renewed'),
  batchNotRevocable: defineError('token.batch_not_revocable', 'invalid', () => 'batch tokens cannot be revoked'),
  invalidType: defineError('token.invalid_type', 'invalid', (type: string) => `invalid 'type' value "${type}"`),
  customIdNeedsPrivilege: defineError(
    'token.custom_id_needs_privilege',
    'invalid',
    () => 'root or sudo privileges required to specify token id',
  ),
  customIdWithDot: defineError('token.custom_id_with_dot', 'invalid', () => "custom token ID cannot have a '.' in the value"),
  negativeUses: defineError('token.negative_uses', 'invalid', () => 'number of uses cannot be negative'),
  orphanNeedsPrivilege: defineError(
    'token.orphan_needs_privilege',
    'invalid',
    () => 'root or sudo privileges required to create orphan token',
  ),
  periodicNeedsPrivilege: defineError(
    'token.periodic_needs_privilege',
    'invalid',
    () => 'root or sudo privileges required to create periodic token',
  ),
  rootNeedsRootParent: defineError(
    'token.root_needs_root_parent',
    'invalid',
    () => 'root tokens may not be created without parent token being root',
  ),
  policiesNotSubset: defineError('token.policies_not_subset', 'invalid', () => 'child policies must be subset of parent'),
  noPolicies: defineError('token.no_policies', 'invalid', () => 'token must have at least one policy'),
  notRenewable: defineError('token.not_renewable', 'invalid', () => 'lease is not renewable'),
};
