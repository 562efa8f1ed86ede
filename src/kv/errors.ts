import { FerryError, badRequest } from '../kernel/errors.js';

/** The KV engines' own error texts, as Vault words them (kv-v2.md §4–6). */
export const kvErrors = {
  noData: () => badRequest('no data provided'),
  missingPath: () => badRequest('missing path'),
  casRequired: () => badRequest('check-and-set parameter required for this call'),
  casMismatch: () => badRequest('check-and-set parameter did not match the current version'),
  casUnparseable: () => badRequest('error parsing check-and-set parameter'),
  /** `delete` and `undelete` capitalise it; `destroy` does not (as Vault does). */
  noVersions: (op: 'delete' | 'undelete' | 'destroy') =>
    badRequest(op === 'destroy' ? 'no version number provided' : 'No version number provided'),
  customMetadata: (errors: string[]) => new FerryError('kv.custom_metadata', 'invalid', errors),
  negative: (field: string) => badRequest(`${field} must be a non-negative integer`),
  /** KV v1. */
  missingDataFields: () => badRequest('missing data fields'),
  trailingSlashWrite: () => badRequest("cannot write to a path ending in '/'"),
  /** The domain read API refuses KV v1 mounts, which have neither versions nor events. */
  notKvV2: (mountPath: string) =>
    badRequest(`mount "${mountPath}" is not a KV version 2 secrets engine; only KV v2 secrets can be read for sync`),
};
