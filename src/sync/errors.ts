import { defineError, notFound } from '../kernel/errors.js';

const invalid = <A extends unknown[]>(name: string, message: (...args: A) => string) => defineError(`sync.${name}`, 'invalid', message);

/**
 * Secrets sync's error texts, one entry per rule. Vault documents few of them (secrets-sync.md
 * marks most as unconfirmed), so each says what was wrong and what to do instead. Entries named
 * `*Absent` answer Vault's bare 404 (an empty `errors` list).
 */
export const syncErrors = {
  // ---- sys/sync/config ----------------------------------------------------------------------
  queueCapacity: invalid('queue_capacity', () => 'queue_capacity must be a positive integer'),
  writeBudget: invalid(
    'write_budget_per_second',
    (max: number) => `write_budget_per_second must be a whole number of AWS calls per second from 1 to ${max}`,
  ),

  // ---- destinations -------------------------------------------------------------------------
  unsupportedDestinationType: invalid(
    'unsupported_destination_type',
    (type: string) => `destination type "${type}" is not supported by Ferry; supported types: aws-sm`,
  ),
  invalidDestinationType: invalid('invalid_destination_type', (type: string) => `invalid destination type "${type}"; supported types: aws-sm`),
  invalidDestinationName: invalid(
    'invalid_destination_name',
    (name: string) => `invalid destination name "${name}": use 1 to 128 letters, digits, "-", "_" or "."`,
  ),
  destinationNotFound: defineError('sync.destination_not_found', 'missing', (type: string, name: string) => `destination "${type}/${name}" not found`),
  /** Reading a destination (or its associations) that does not exist. */
  destinationAbsent: () => notFound('sync.destination_absent'),
  /** A list with nothing to list: no destinations (of a type), no associations. */
  nothingListed: () => notFound('sync.nothing_listed'),
  destinationHasAssociations: invalid(
    'destination_has_associations',
    (type: string, name: string, count: number) =>
      `destination "${type}/${name}" still has ${count} association(s): remove them first, or delete with purge=true to unsync them all`,
  ),
  destinationPurging: invalid('destination_purging', (type: string, name: string) => `destination "${type}/${name}" is being purged`),
  identityKeyMissing: invalid(
    'identity_key_missing',
    (key: string) => `identity_token_key "${key}" does not exist: create it with identity/oidc/key/${key}`,
  ),
  regionImmutable: invalid(
    'region_immutable',
    (region: string) => `region cannot be changed after the destination is created (it is "${region}"); create a new destination instead`,
  ),
  roleAccountChanged: invalid(
    'role_account_changed',
    (before: string, after: string) => `role_arn must stay in AWS account ${before}: create a new destination for account ${after}`,
  ),
  invalidGranularity: invalid(
    'invalid_granularity',
    (granularity: string) => `invalid granularity "${granularity}": must be "secret-path" or "secret-key"`,
  ),
  missingRegion: invalid('missing_region', () => 'missing required field "region": the AWS region to sync secrets into, e.g. us-east-1'),
  invalidRegion: invalid('invalid_region', (region: string) => `invalid region "${region}"`),
  keysApart: invalid('keys_apart', () => 'access_key_id and secret_access_key must be given together'),
  identityWithKeys: invalid(
    'identity_with_keys',
    () => 'identity_token_audience (workload identity federation) and access_key_id (static credentials) are mutually exclusive',
  ),
  identityWithoutRole: invalid(
    'identity_without_role',
    () => 'identity_token_audience requires role_arn: the role to assume with the identity token',
  ),
  invalidRoleArn: invalid('invalid_role_arn', (arn: string) => `invalid role_arn "${arn}"`),
  negativeTokenTtl: invalid('negative_token_ttl', () => 'identity_token_ttl must not be negative'),
  tokenTtlTooLong: invalid(
    'token_ttl_too_long',
    (ttl: number, max: number) => `identity_token_ttl ${ttl}s is too long: at most ${max}s (24h); AWS needs the token only for one exchange`,
  ),
  tokenTtlOverVerification: invalid(
    'token_ttl_over_verification',
    (ttl: number, key: string, verification: number) =>
      `identity_token_ttl ${ttl}s is longer than the verification_ttl of signing key "${key}" (${verification}s): the token would outlive its key's publication`,
  ),
  /** A field only a sudo holder may set (`operator-fields.ts`). */
  sudoRequired: defineError(
    'sync.sudo_required',
    'denied',
    (changes: string[], path: string) =>
      `permission denied: ${changes.join(' and ')} needs the "sudo" capability on ${path}, which this token does not have`,
  ),
  /** A non-sudo change of credentials whose accounts could not both be learnt (`service.ts`): refused, as a move would be. */
  accountUnverified: defineError(
    'sync.account_unverified',
    'denied',
    (path: string) =>
      `permission denied: the AWS account of this destination's credentials could not be verified (sts:GetCallerIdentity through its network rules failed), so the change may move it to another account, which needs the "sudo" capability on ${path}, which this token does not have`,
  ),
  endpointNotAllowed: invalid(
    'endpoint_not_allowed',
    (field: string, url: string, prefixes: readonly string[]) =>
      `${field} "${url}" is not under any of the server configuration's sync.allowed_endpoint_prefixes (${prefixes.join(', ')})`,
  ),
  kmsKeyTooLong: invalid('kms_key_too_long', () => 'kms_key_id is longer than 2048 characters'),
  invalidReplicaRegion: invalid('invalid_replica_region', (region: string) => `invalid replica region "${region}"`),
  replicaIsOwnRegion: invalid('replica_is_own_region', (region: string) => `replica region "${region}" is the destination's own region`),
  replicaKmsKeyTooLong: invalid('replica_kms_key_too_long', (region: string) => `KMS key for replica region "${region}" is too long`),
  // The value is not quoted: a URL may carry credentials (`https://user:password@host`).
  urlUnparseable: invalid('url_unparseable', (field: string) => `invalid ${field}: not a URL`),
  urlScheme: invalid('url_scheme', (field: string) => `invalid ${field}: scheme must be http or https`),
  invalidPort: invalid('invalid_port', (port: number) => `invalid port ${port} in allowed_ports`),
  invalidIpv4Cidr: invalid(
    'invalid_ipv4_cidr',
    (cidr: string) => `invalid IPv4 CIDR "${cidr}" in allowed_ipv4_addresses: give an address and a prefix length, e.g. 10.0.0.0/8 or 10.1.2.3/32`,
  ),
  invalidIpv6Cidr: invalid(
    'invalid_ipv6_cidr',
    (cidr: string) => `invalid IPv6 CIDR "${cidr}" in allowed_ipv6_addresses: give an address and a prefix length, e.g. fd00::/8 or 2001:db8::1/128`,
  ),
  tooManyTags: invalid('too_many_tags', () => 'too many custom_tags: AWS allows 50 tags per secret, two of which are hashicorp:vault and ferry:owner'),
  tagKeyLength: invalid('tag_key_length', (key: string) => `custom tag key "${key}" must be 1 to 128 characters`),
  tagValueLength: invalid('tag_value_length', (key: string) => `custom tag "${key}" has a value longer than 256 characters`),
  tagReservedPrefix: invalid('tag_reserved_prefix', (key: string) => `custom tag key "${key}" uses the reserved prefix "aws:"`),
  tagReserved: invalid('tag_reserved', (key: string) => `custom tag key "${key}" is reserved: Ferry sets it on every synced secret`),
  templateUnparseable: invalid('template_unparseable', (reason: string) => `invalid secret_name_template: ${reason}`),
  templateWithoutSecretKey: invalid(
    'template_without_secret_key',
    () => 'secret_name_template must use {{ .SecretKey }} with granularity "secret-key", so that each key gets its own secret',
  ),
  templateOverBudget: invalid(
    'template_over_budget',
    (reason: string) => `invalid secret_name_template: ${reason}; Ferry bounds the work of rendering a name`,
  ),
  templateUnnameable: invalid(
    'template_unnameable',
    (sample: string) =>
      `invalid secret_name_template: it renders "${sample.slice(0, 80)}", which cannot be made a valid AWS Secrets Manager name (1 to 512 characters)`,
  ),

  // ---- associations -------------------------------------------------------------------------
  missingField: invalid('missing_field', (field: 'mount' | 'secret_name') => `missing required field "${field}"`),
  /** The query form of `sys/sync/associations/destinations`. */
  missingMountAndSecret: invalid('missing_mount_and_secret', () => 'mount and secret_name are required'),
  mountNotFound: invalid('mount_not_found', (path: string) => `mount "${path}" not found`),
  mountNotKv: invalid(
    'mount_not_kv',
    (path: string, type: string) => `mount "${path}" is a ${type} mount; secrets sync supports KV version 2 mounts only`,
  ),
  mountKvV1: invalid('mount_kv_v1', (path: string) => `mount "${path}" is a KV version 1 mount; secrets sync supports KV version 2 mounts only`),
  invalidSecretName: invalid(
    'invalid_secret_name',
    (secret: string) => `invalid secret_name "${secret}": give the full path of a secret, without leading or trailing "/"`,
  ),
  secretNotFound: invalid(
    'secret_not_found',
    (secret: string, mountPath: string) => `Secret not found. Please provide full path to existing secret: "${secret}" in mount ${mountPath}`,
  ),
  secretReadDenied: defineError(
    'sync.secret_read_denied',
    'denied',
    (secret: string, mountPath: string) => `permission denied to read the content of the secret ${secret} in mount ${mountPath}`,
  ),
  /** Rendering a name for one secret (or key) gave nothing AWS accepts. */
  secretUnnameable: invalid(
    'secret_unnameable',
    (rendered: string) =>
      `secret_name_template renders "${rendered.slice(0, 80)}" for this secret, which cannot be made a valid AWS Secrets Manager name`,
  ),
  /** Rendering a name for one secret (or key) went over the rendering budget. */
  secretOverBudget: invalid(
    'secret_over_budget',
    (reason: string) => `secret_name_template cannot name this secret: ${reason}; Ferry bounds the work of rendering a name`,
  ),
  /** Set time: another association of the destination already syncs to a name this one renders. */
  nameClaimedInDestination: invalid(
    'name_claimed_in_destination',
    (name: string, other: { accessor: string; secret_name: string }) =>
      `the AWS secret name "${name}" is already synced by another association of this destination (${other.accessor}/${other.secret_name}): two associations cannot write one secret`,
  ),
  /** Set time: a destination in the same AWS account and region already syncs to a name this one renders. */
  nameClaimedElsewhere: invalid(
    'name_claimed_elsewhere',
    (name: string, other: { dest: string; accessor: string; secret_name: string }, account: string, region: string) =>
      `the AWS secret name "${name}" is already synced by destination ${other.dest} (${other.accessor}/${other.secret_name}) in the same AWS account (${account}) and region (${region}): two destinations cannot write one secret`,
  ),
  duplicateKeyNames: invalid('duplicate_key_names', () => 'secret_name_template gives two keys of this secret the same AWS name'),
  reconcileInterval: invalid(
    'reconcile_interval',
    () => "reconcile_interval must be 0 (drift repair off), or from 1s to 2562047h (Go's longest duration)",
  ),
  /** `associations/retry` naming an association the destination does not have. */
  associationNotFound: invalid(
    'association_not_found',
    (mountPath: string, secret: string, type: string, name: string) => `secret "${secret}" of mount ${mountPath} is not associated with destination "${type}/${name}"`,
  ),
  /** `associations/remove` of a secret that only a prefix association covers. */
  coveredByPrefix: invalid(
    'covered_by_prefix',
    (secret: string, mountPath: string, prefix: string, dest: string) =>
      `secret "${secret}" of mount ${mountPath} is synced through the prefix "${prefix}" of destination ${dest}, not by an association of its own: remove the prefix (prefixes/remove) to unsync it`,
  ),
  missingPrefix: invalid('missing_prefix', () => 'missing required field "prefix": a folder of the mount ending with "/" (e.g. "apps/"), or "" for the whole mount'),
  invalidPrefix: invalid(
    'invalid_prefix',
    (prefix: string) => `invalid prefix "${prefix}": a prefix is a folder of the mount, ending with "/" (e.g. "apps/"), without a leading "/" or empty segments; "" covers the whole mount`,
  ),
  prefixNotFound: invalid(
    'prefix_not_found',
    (mountPath: string, prefix: string, dest: string) => `the prefix "${prefix}" of mount ${mountPath} is not associated with destination ${dest}`,
  ),
  /** Looking up the destinations of a secret that has none, or whose mount cannot be resolved. */
  associationsAbsent: () => notFound('sync.associations_absent'),
  /** The unmount guard: a KV mount whose secrets are still synced cannot be disabled. */
  mountHasAssociations: invalid(
    'mount_has_associations',
    (mountPath: string, secrets: string[]) =>
      `mount ${mountPath} has secrets synced by secrets sync (${secrets.slice(0, 5).join(', ')}${secrets.length > 5 ? ', …' : ''}): remove their associations first`,
  ),
};
