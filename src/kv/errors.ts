import { defineError } from '../kernel/errors.js';

/** The KV engines' own error texts, as Vault words them (kv-v2.md §4–6). */
export const kvErrors = {
  noData: defineError('kv.no_data', 'invalid', () => 'no data provided'),
  missingPath: defineError('kv.missing_path', 'invalid', () => 'missing path'),
  casRequired: defineError('kv.cas_required', 'invalid', () => 'check-and-set parameter required for this call'),
  casMismatch: defineError('kv.cas_mismatch', 'invalid', () => 'check-and-set parameter did not match the current version'),
  casUnparseable: defineError('kv.cas_unparseable', 'invalid', () => 'error parsing check-and-set parameter'),
  /** `delete` and `undelete` capitalise it; `destroy` does not (as Vault does). */
  noVersions: defineError('kv.no_versions', 'invalid', (op: 'delete' | 'undelete' | 'destroy') =>
    op === 'destroy' ? 'no version number provided' : 'No version number provided',
  ),
  /** Every rule `custom_metadata` breaks, one message each. */
  customMetadata: defineError('kv.custom_metadata', 'invalid', (errors: string[]) => errors),
  negative: defineError('kv.negative', 'invalid', (field: string) => `${field} must be a non-negative integer`),
  /** KV v1. */
  missingDataFields: defineError('kv.missing_data_fields', 'invalid', () => 'missing data fields'),
  trailingSlashWrite: defineError('kv.trailing_slash_write', 'invalid', () => "cannot write to a path ending in '/'"),
  /** Any request to a KV mount while it is upgraded from version 1 to 2 (Vault's text). */
  upgrading: defineError(
    'kv.upgrading',
    'invalid',
    () => 'Upgrading from non-versioned to versioned data. This backend will be unavailable for a brief period and will resume service shortly.',
  ),
  /** The domain read API refuses KV v1 mounts, which have neither versions nor events. */
  notKvV2: defineError(
    'kv.not_kv_v2',
    'invalid',
    (mountPath: string) => `mount "${mountPath}" is not a KV version 2 secrets engine; only KV v2 secrets can be read for sync`,
  ),
};
