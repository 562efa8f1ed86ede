import { defineError } from '../../kernel/errors.js';

/** The AppRole method's errors, as Vault words them (a few of Vault's 500s are 400s here: bad input is never a 500). */
export const approleErrors = {
  missingRoleId: defineError('approle.missing_role_id', 'invalid', () => 'missing role_id'),
  missingSecretId: defineError('approle.missing_secret_id', 'invalid', () => 'missing secret_id'),
  missingAccessor: defineError('approle.missing_accessor', 'invalid', () => 'missing secret_id_accessor'),
  /** One answer for an unknown role ID and an unknown, used-up, expired or destroyed secret ID. */
  invalidCredentials: defineError('approle.invalid_credentials', 'invalid', () => 'invalid role or secret ID'),
  roleGoneAtRenewal: defineError('approle.role_gone_at_renewal', 'invalid', (name: string) => `role ${JSON.stringify(name)} does not exist during renewal`),
  secretCidrMismatch: defineError(
    'approle.secret_cidr_mismatch',
    'invalid',
    (address: string) => `source address ${JSON.stringify(address)} unauthorized through CIDR restrictions on the secret ID`,
  ),
  roleCidrMismatch: defineError(
    'approle.role_cidr_mismatch',
    'invalid',
    (address: string) => `source address ${JSON.stringify(address)} unauthorized by CIDR restrictions on the role`,
  ),
  /** Generating or reading what belongs to a role that does not exist. */
  roleMissing: defineError('approle.role_missing', 'missing', (name: string) => `role ${JSON.stringify(name)} does not exist`),
  /** Listing the secret IDs of a role that does not exist (Vault answers this one with 400). */
  roleMissingForList: defineError('approle.role_missing_for_list', 'invalid', (name: string) => `role ${JSON.stringify(name)} does not exist`),
  roleNameTooLong: defineError('approle.role_name_too_long', 'invalid', () => 'role_name is longer than maximum of 4096 bytes'),
  noConstraint: defineError('approle.no_constraint', 'invalid', () => 'at least one constraint should be enabled on the role'),
  roleIdInUse: defineError('approle.role_id_in_use', 'invalid', () => 'role_id already in use'),
  invalidRoleCidrs: defineError('approle.invalid_role_cidrs', 'invalid', () => 'invalid CIDR blocks'),
  invalidSecretCidrs: defineError('approle.invalid_secret_cidrs', 'invalid', () => 'failed to validate CIDR blocks'),
  cidrsNotSubset: defineError(
    'approle.cidrs_not_subset',
    'invalid',
    (field: string) => `the CIDR blocks in ${field} must be a subset of the role's`,
  ),
  negativeRoleUses: defineError('approle.negative_role_uses', 'invalid', () => 'secret_id_num_uses cannot be negative'),
  localSecretIdsImmutable: defineError(
    'approle.local_secret_ids_immutable',
    'invalid',
    () => 'local_secret_ids can only be modified during role creation',
  ),
  periodAboveMount: defineError(
    'approle.period_above_mount',
    'invalid',
    (period: string, max: string) => `period of ${JSON.stringify(period)} is greater than the backend's maximum lease TTL of ${JSON.stringify(max)}`,
  ),
  bindSecretIdUnset: defineError('approle.bind_secret_id_unset', 'invalid', () => 'bind_secret_id is not set on the role'),
  negativeUses: defineError('approle.negative_uses', 'invalid', () => 'num_uses cannot be negative'),
  usesAboveRole: defineError('approle.uses_above_role', 'invalid', () => "num_uses cannot be higher than the role's secret_id_num_uses"),
  ttlAboveRole: defineError('approle.ttl_above_role', 'invalid', () => "ttl cannot be longer than the role's secret_id_ttl"),
  badMetadata: defineError('approle.bad_metadata', 'invalid', (reason: string) => `failed to parse metadata: ${reason}`),
  secretIdTaken: defineError('approle.secret_id_taken', 'invalid', () => 'SecretID is already registered'),
  // Vault quotes the accessor; Ferry names the field only, since accessors are kept salted and
  // the audit log HMACs them in requests but writes error texts as they are.
  unknownAccessor: defineError('approle.unknown_accessor', 'missing', () => 'failed to find accessor entry for secret_id_accessor'),
};
