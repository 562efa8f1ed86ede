/**
 * The data secrets sync keeps: destinations, associations and their per-target status.
 * Everything here is stored through the barrier; credentials only ever leave through
 * the masking read model in `views.ts`.
 */

/** Vault's sync status names (secrets-sync.md §6). */
export type SyncStatus =
  | 'PENDING'
  | 'SYNCING'
  | 'SYNCED'
  | 'UNSYNCING'
  | 'UNSYNCED'
  | 'INTERNAL_VAULT_ERROR'
  | 'CLIENT_SIDE_ERROR'
  | 'EXTERNAL_SERVICE_ERROR'
  | 'UNKNOWN';

export type Granularity = 'secret-path' | 'secret-key';

/** Connection details of an `aws-sm` destination, as stored (credentials in clear, behind the barrier). */
export interface AwsSmConnection {
  access_key_id: string;
  secret_access_key: string;
  region: string;
  role_arn: string;
  external_id: string;
  identity_token_audience: string;
  identity_token_key: string;
  identity_token_ttl: number;
  kms_key_id: string;
  replica_regions: Record<string, string>;
  /** Ferry's addition: an AWS-compatible endpoint (the emulator); http allowed. */
  endpoint_url: string;
  /** Ferry's addition: overrides the STS endpoint alone. */
  sts_endpoint_url: string;
  disable_strict_networking: boolean;
  allowed_ipv4_addresses: string[];
  allowed_ipv6_addresses: string[];
  allowed_ports: number[];
}

export interface SyncOptions {
  granularity_level: Granularity;
  secret_name_template: string;
  custom_tags: Record<string, string>;
}

export interface Destination {
  type: 'aws-sm';
  name: string;
  connection: AwsSmConnection;
  options: SyncOptions;
  /** Bumped on every change, so cached AWS clients and credentials are rebuilt. */
  generation: number;
  created_at: string;
  purge_initiated_at?: string;
  purge_error?: string;
}

/** One external secret an association maintains ('' sub-key for secret-path granularity). */
export interface TargetState {
  sub_key: string;
  /** External name (rendered from the template at association time). */
  name: string;
  /** ARN once known; used as SecretId so that a name ending in `-xxxxxx` is never misread as an ARN. */
  arn?: string;
  status: SyncStatus;
  updated_at: string;
  last_error?: string;
  /** Ferry created or adopted this external secret (it carries `hashicorp:vault`). */
  owned: boolean;
  /** The KV incarnation and version whose value the external secret holds. */
  incarnation?: string;
  version?: number;
  /** Digest of tags, KMS key and replicas last applied, to skip metadata calls in steady state. */
  config_digest?: string;
  applied_tags?: Record<string, string>;
  applied_replicas?: string[];
  /** KMS key last applied ('' = AWS's default key). */
  applied_kms?: string;
  /** Consecutive failed attempts, for backoff and for deciding when to surface an error. */
  attempts?: number;
  /** Unix ms of the last value write, for the per-secret minimum interval. */
  last_write_at?: number;
  /** Keyed digest (with the association's salt) of the value AWS holds, to skip writing it again. */
  value_digest?: string;
  /** Consecutive writes that each followed the previous one closely; lengthens the interval. */
  hot_streak?: number;
}

export interface Association {
  dest_type: 'aws-sm';
  dest_name: string;
  accessor: string;
  /** Mount path at association time, with trailing slash (display only; the accessor is the identity). */
  mount: string;
  secret_name: string;
  /** Snapshot of the destination's options when the association was set (Vault: applies to new associations). */
  granularity: Granularity;
  template: string;
  created_at: string;
  /** Set by `associations/remove` and purge: the worker unsyncs, then deletes the record. */
  removing?: boolean;
  /** Random key of the value digests (the record itself is encrypted at rest). */
  salt?: string;
  targets: Record<string, TargetState>;
}

export const SYNC_QUEUE = 'sync';
export const KV_EVENTS_QUEUE = 'kv-events';

/** A sync operation in the outbox: a reference to an association, never a value. */
export interface SyncOperation {
  dest: string;
  accessor: string;
  secret_name: string;
  reason: 'kv-change' | 'set' | 'remove' | 'destination-change' | 'purge';
}

const enc = encodeURIComponent;

/** Storage keys. Secret paths contain `/`, so they are percent-encoded into one segment. */
export const keys = {
  config: 'sync/config',
  activation: 'sync/activated',
  destinationPrefix: (type: string) => `sync/destinations/${type}/`,
  destination: (type: string, name: string) => `sync/destinations/${type}/${enc(name)}`,
  associationPrefix: (type: string, name: string) => `sync/associations/${type}/${enc(name)}/`,
  association: (type: string, name: string, accessor: string, secret: string) =>
    `sync/associations/${type}/${enc(name)}/${accessor}/${enc(secret)}`,
  /** Reverse index: secret → destinations, for fan-out of KV changes. */
  bySecretPrefix: (accessor: string, secret: string) => `sync/by-secret/${accessor}/${enc(secret)}/`,
  bySecret: (accessor: string, secret: string, type: string, name: string) =>
    `sync/by-secret/${accessor}/${enc(secret)}/${type}:${enc(name)}`,
  bySecretAll: 'sync/by-secret/',
};

export const orderKeyOf = (dest: string, accessor: string, secret: string) => `${dest}|${accessor}|${secret}`;

export const DEFAULT_TEMPLATE = 'vault/{{ .MountAccessor }}/{{ .SecretPath }}';
export const DEFAULT_KEY_TEMPLATE = 'vault/{{ .MountAccessor }}/{{ .SecretPath }}/{{ .SecretKey }}';
export const MASK = '*****';

/** The tag that marks a secret as synced by Vault (or Ferry): ownership is this tag. */
export const OWNERSHIP_TAG = 'hashicorp:vault';

export const nowIso = (ms: number) => new Date(ms).toISOString();
