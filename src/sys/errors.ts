import { defineError } from '../kernel/errors.js';

/** The `sys/` endpoints' own errors (mounts, capabilities, health, init, audit), as Vault words them. */
export const sysErrors = {
  // Mount paths and the mount table.
  emptyMountPath: defineError('sys.empty_mount_path', 'invalid', () => 'path cannot be empty'),
  invalidMountPath: defineError('sys.invalid_mount_path', 'invalid', (path: string) => `invalid mount path "${path}"`),
  reservedMountPath: defineError('sys.reserved_mount_path', 'invalid', (path: string) => `cannot mount under reserved path "${path}"`),
  mountPathInUse: defineError('sys.mount_path_in_use', 'invalid', (path: string) => `path is already in use at ${path}`),
  overlappingMount: defineError('sys.overlapping_mount', 'invalid', (existing: string) => `existing mount at ${existing}`),
  noMountAt: defineError('sys.no_mount_at', 'invalid', (path: string) => `no mount at path "${path}"`),
  /** `GET sys/mounts/:path` of a path no secrets engine serves (`path` with its trailing slash). */
  noSecretEngineMount: defineError('sys.no_secret_engine_mount', 'invalid', (path: string) => `No secret engine mount at ${path}`),
  builtinMount: defineError('sys.builtin_mount', 'invalid', (path: string) => `cannot unmount "${path}"`),
  // Enabling and tuning secrets engines.
  engineTypeRequired: defineError('sys.engine_type_required', 'invalid', () => 'backend type must be specified as a string'),
  unknownEngine: defineError('sys.unknown_engine', 'invalid', (type: string) => `plugin not found in the catalog: ${type}`),
  versionNotAllowed: defineError(
    'sys.version_not_allowed',
    'invalid',
    (type: string) => `secrets engine "${type}" does not allow setting a version`,
  ),
  invalidKvVersion: defineError('sys.invalid_kv_version', 'invalid', (version: string) => `invalid KV version "${version}": must be 1 or 2`),
  kvDowngrade: defineError('sys.kv_downgrade', 'invalid', (from: number) => `cannot downgrade mount from version ${from}`),
  invalidTunedVersion: defineError('sys.invalid_tuned_version', 'invalid', (version: string) => `invalid version provided: ${version}`),
  invalidTtl: defineError(
    'sys.invalid_ttl',
    'invalid',
    // As every field-validation error: the field is named, the input is not quoted.
    (field: string) => `Field validation failed: error converting input for field "${field}": time: invalid duration`,
  ),
  invalidListingVisibility: defineError(
    'sys.invalid_listing_visibility',
    'invalid',
    (value: string) => `invalid listing_visibility ${value}`,
  ),
  // Auth methods (sys/auth).
  authPathInUse: defineError('sys.auth_path_in_use', 'conflict', (existing: string) => `path is already in use at ${existing}`),
  noAuthEngine: defineError('sys.no_auth_engine', 'invalid', (path: string) => `No auth engine at ${path}`),
  noAuthSysView: defineError('sys.no_auth_sysview', 'invalid', (path: string) => `cannot fetch sysview for path ${JSON.stringify(path)}`),
  tokenBackendSingleton: defineError('sys.token_backend_singleton', 'invalid', () => 'token credential backend cannot be instantiated'),
  tokenBackendUndeletable: defineError('sys.token_backend_undeletable', 'invalid', () => 'token credential backend cannot be disabled'),
  authVersionNotAllowed: defineError(
    'sys.auth_version_not_allowed',
    'invalid',
    (type: string) => `auth method ${JSON.stringify(type)} does not allow setting a version`,
  ),
  defaultAboveMax: defineError('sys.default_above_max', 'invalid', () => 'given default lease TTL greater than given max lease TTL'),
  invalidMountTokenType: defineError('sys.invalid_mount_token_type', 'invalid', () => "invalid value for 'token_type'"),
  mountTokenTypeOnSecrets: defineError(
    'sys.mount_token_type_on_secrets',
    'invalid',
    () => 'token_type can only be modified on auth mounts',
  ),
  // Capabilities.
  pathsRequired: defineError('sys.paths_required', 'invalid', () => "'paths' must be specified"),
  tokenRequired: defineError('sys.token_required', 'invalid', () => "'token' must be specified"),
  accessorRequired: defineError('sys.accessor_required', 'invalid', () => "'accessor' must be specified"),
  /** The KV CLI's preflight, refused (never a 404, so that mounts cannot be enumerated). */
  preflightDenied: defineError(
    'sys.preflight_denied',
    'denied',
    (target: string) => `preflight capability check returned 403, please ensure client's policies grant access to path "${target}/"`,
  ),
  // Health.
  invalidStatusCode: defineError('sys.invalid_status_code', 'invalid', (code: number) => `invalid status code ${code}`),
  // Init and unseal.
  invalidUnsealKey: defineError('sys.invalid_unseal_key', 'invalid', () => "'key' must be a valid hex or base64 string"),
  unsealKeyRequired: defineError(
    'sys.unseal_key_required',
    'invalid',
    () => "'key' must be specified in request body as JSON, or 'reset' set to true",
  ),
  pgpKeysUnsupported: defineError(
    'sys.pgp_keys_unsupported',
    'invalid',
    () => 'pgp_keys are not supported: Ferry returns the key shares unencrypted',
  ),
  rootTokenPgpKeyUnsupported: defineError(
    'sys.root_token_pgp_key_unsupported',
    'invalid',
    () => 'root_token_pgp_key is not supported: Ferry returns the root token unencrypted',
  ),
  storedSharesUnsupported: defineError(
    'sys.stored_shares_unsupported',
    'invalid',
    () => 'stored keys are not supported by the current seal type',
  ),
  recoveryUnsupported: defineError(
    'sys.recovery_unsupported',
    'invalid',
    () => 'parameters recovery_shares,recovery_threshold not applicable to seal type shamir',
  ),
  // Policies and audit devices.
  policyRequired: defineError('sys.policy_required', 'invalid', () => "'policy' parameter not supplied or empty"),
  auditTypeRequired: defineError('sys.audit_type_required', 'invalid', () => 'type is required'),
  // Snapshots (sys/storage/raft/snapshot).
  snapshotsUnsupported: defineError('sys.snapshots_unsupported', 'invalid', () => 'this storage cannot take or restore snapshots'),
  snapshotMissing: defineError('sys.snapshot_missing', 'invalid', () => 'no snapshot in the request body'),
  invalidSnapshot: defineError('sys.invalid_snapshot', 'invalid', (reason: string) => reason),
  snapshotOtherKeys: defineError(
    'sys.snapshot_other_keys',
    'invalid',
    () => 'could not verify hash file, possibly the snapshot is using a different set of unseal keys; use the snapshot-force API to bypass this check',
  ),
};
