import { z } from 'zod';

/**
 * The data secrets sync keeps: destinations, associations and their per-target status, the
 * configuration, and the outbox operation that asks for a reconcile. Each is declared once as a
 * zod schema, so that `records.ts` parses stored rows rather than trusting a cast; the types
 * follow from the schemas. Everything is stored through the barrier; credentials only ever
 * leave through the masking read model in `views.ts`.
 */

/** Vault's sync status names (secrets-sync.md §6). */
export const syncStatus = z.enum([
  'PENDING',
  'SYNCING',
  'SYNCED',
  'UNSYNCING',
  'UNSYNCED',
  'INTERNAL_VAULT_ERROR',
  'CLIENT_SIDE_ERROR',
  'EXTERNAL_SERVICE_ERROR',
  'UNKNOWN',
]);
export type SyncStatus = z.infer<typeof syncStatus>;

export const granularity = z.enum(['secret-path', 'secret-key']);
export type Granularity = z.infer<typeof granularity>;

const stringMap = z.record(z.string(), z.string());

/** Connection details of an `aws-sm` destination, as stored (credentials in clear, behind the barrier). */
export const awsSmConnection = z.object({
  access_key_id: z.string(),
  secret_access_key: z.string(),
  region: z.string(),
  role_arn: z.string(),
  external_id: z.string(),
  identity_token_audience: z.string(),
  identity_token_key: z.string(),
  identity_token_ttl: z.number(),
  kms_key_id: z.string(),
  replica_regions: stringMap,
  /** Ferry's addition: an AWS-compatible endpoint (the emulator); http allowed. */
  endpoint_url: z.string(),
  /** Ferry's addition: overrides the STS endpoint alone. */
  sts_endpoint_url: z.string(),
  disable_strict_networking: z.boolean(),
  allowed_ipv4_addresses: z.array(z.string()),
  allowed_ipv6_addresses: z.array(z.string()),
  allowed_ports: z.array(z.number()),
});
export type AwsSmConnection = z.infer<typeof awsSmConnection>;

export const syncOptions = z.object({
  granularity_level: granularity,
  secret_name_template: z.string(),
  custom_tags: stringMap,
});
export type SyncOptions = z.infer<typeof syncOptions>;

export const destination = z.object({
  type: z.literal('aws-sm'),
  name: z.string(),
  connection: awsSmConnection,
  options: syncOptions,
  /** Bumped on every change, so cached AWS clients and credentials are rebuilt. */
  generation: z.number(),
  /**
   * Random, made when the destination is created: one deleted and created again under the same
   * name starts again at generation 1, and must not get the old one's cached AWS client and
   * credentials. Absent on destinations created before it existed (they count as one incarnation).
   */
  incarnation: z.string().optional(),
  created_at: z.string(),
  /**
   * Set when a sudo holder last wrote this destination while it had an endpoint_url or
   * sts_endpoint_url (only sudo holders may set them now). Endpoints stored before that rule
   * lack it: they are kept, and listed in one WARN line at every unseal until a sudo holder
   * writes the destination (`index.ts`).
   */
  endpoints_confirmed: z.boolean().optional(),
  /**
   * The AWS account the destination's static keys were found to belong to (sts:GetCallerIdentity)
   * when a writer without sudo changed them; dropped whenever the keys change otherwise. Lets the
   * next rotation be checked against it even once the old keys are deactivated.
   */
  keys_account: z.string().optional(),
  purge_initiated_at: z.string().optional(),
  purge_error: z.string().optional(),
  /**
   * Optional IAM actions AWS denied to this destination's identity, each with what Ferry does
   * without it; written once by the worker, cleared when the action works again or the
   * destination is written.
   */
  missing_permissions: stringMap.optional(),
});
export type Destination = z.infer<typeof destination>;

/** One external secret an association maintains ('' sub-key for secret-path granularity). */
export const targetState = z.object({
  sub_key: z.string(),
  /** External name (rendered from the template at association time). */
  name: z.string(),
  /** Stored before ownership records existed (the ARN is in the ownership record now); read by the migration. */
  arn: z.string().optional(),
  status: syncStatus,
  updated_at: z.string(),
  last_error: z.string().optional(),
  /**
   * Stored before ownership records existed: Ferry created or adopted this external secret.
   * Read only by the migration (`migration.ts`), which moves it into an ownership record.
   */
  owned: z.boolean().optional(),
  /**
   * Set by the migration when several associations claimed one AWS secret (an adopted one):
   * the other claimants. Nothing is written or deleted until only one claimant is left.
   */
  conflict_with: z.array(z.object({ dest: z.string(), accessor: z.string(), secret_name: z.string() })).optional(),
  /** The KV incarnation and version whose value the external secret holds. */
  incarnation: z.string().optional(),
  version: z.number().optional(),
  /** Digest of tags, KMS key and replicas last applied, to skip metadata calls in steady state. */
  config_digest: z.string().optional(),
  applied_tags: stringMap.optional(),
  applied_replicas: z.array(z.string()).optional(),
  /** KMS key last applied ('' = AWS's default key). */
  applied_kms: z.string().optional(),
  /** Consecutive failed attempts, for backoff and for deciding when to surface an error. */
  attempts: z.number().optional(),
  /** Unix ms of the last value write, for the per-secret minimum interval. */
  last_write_at: z.number().optional(),
  /** Keyed digest (with the association's salt) of the value AWS holds, to skip writing it again. */
  value_digest: z.string().optional(),
  /** Consecutive writes that each followed the previous one closely; lengthens the interval. */
  hot_streak: z.number().optional(),
  /** When `last_error` was recorded (ISO). */
  last_error_at: z.string().optional(),
  /** The provider's error code behind `last_error`, so that a log line is written once per change of cause. */
  last_error_code: z.string().optional(),
  /** When the worker tries again after a failed attempt (ISO). */
  next_attempt_at: z.string().optional(),
  /** The AWS version id of the value last written (what drift repair expects to find current). */
  aws_version_id: z.string().optional(),
  /** Out-of-band changes repaired so far; also makes a repair write's request token a new one. */
  repairs: z.number().optional(),
  /** Drift repair found this out-of-band change; the next delivery undoes it. */
  drift: z.enum(['value', 'tags', 'deleted']).optional(),
  /** When the last out-of-band change was repaired (ISO). */
  last_repaired_at: z.string().optional(),
  /** When Ferry took this pre-existing AWS secret over on an `adopt=true` set (ISO; `bulk.md`). */
  adopted_at: z.string().optional(),
});
export type TargetState = z.infer<typeof targetState>;

export const association = z.object({
  dest_type: z.literal('aws-sm'),
  dest_name: z.string(),
  accessor: z.string(),
  /** Mount path at association time, with trailing slash (display only; the accessor is the identity). */
  mount: z.string(),
  secret_name: z.string(),
  /** Snapshot of the destination's options when the association was set (Vault: applies to new associations). */
  granularity: granularity,
  template: z.string(),
  created_at: z.string(),
  /** Set by `associations/remove` and purge: the worker unsyncs, then deletes the record. */
  removing: z.boolean().optional(),
  /** Random key of the value digests (the record itself is encrypted at rest). */
  salt: z.string().optional(),
  /**
   * False when the association exists only because prefixes cover the secret (absent: set
   * explicitly, as every association was before prefixes existed).
   */
  explicit: z.boolean().optional(),
  /** The prefix associations (`prefixes.ts`) of this destination and mount that cover the secret. */
  prefixes: z.array(z.string()).optional(),
  /**
   * Set by an `adopt=true` set (a sudo holder's): a pre-existing AWS secret at a target name that
   * is not another Ferry destination's may be taken over. Cleared by a set without it.
   */
  adopt: z.boolean().optional(),
  /** By sub-key; a target renamed away is kept as `retired:<name>` until the worker removes it. */
  targets: z.record(z.string(), targetState),
});
export type Association = z.infer<typeof association>;

/**
 * `sys/sync/config`: the emergency brake, the queue capacity, and Ferry's two extensions: drift
 * repair's interval (`reconcile_interval`, seconds, 0 = off) and the AWS write budget
 * (`write_budget_per_second`: the calls per second each destination's budget starts at and
 * regrows to, per quota group); both absent in records written before they existed.
 */
export const syncConfig = z.object({
  disabled: z.boolean(),
  queue_capacity: z.number().int(),
  reconcile_interval: z.number().int().optional(),
  write_budget_per_second: z.number().int().optional(),
});
export type SyncConfig = z.infer<typeof syncConfig>;
/** Drift repair's default interval: 5 minutes. */
export const DEFAULT_RECONCILE_INTERVAL = 300;
/**
 * The longest reconcile_interval, in seconds: Go's longest duration (2562047h47m16.85s), past
 * which Vault's duration parsing fails. Beyond it the next pass's date would not even be a
 * date JavaScript can write (the status summary answered a 500).
 */
export const MAX_RECONCILE_INTERVAL = 9_223_372_036;
/** The default write budget: under AWS's default quota of 50 calls/s per account, region and quota group. */
export const DEFAULT_WRITE_BUDGET = 45;
/** The largest write budget accepted: AWS raises quotas on request, but not beyond this. */
export const MAX_WRITE_BUDGET = 10_000;
export const DEFAULT_SYNC_CONFIG: Required<SyncConfig> = {
  disabled: false,
  queue_capacity: 1_000_000,
  reconcile_interval: DEFAULT_RECONCILE_INTERVAL,
  write_budget_per_second: DEFAULT_WRITE_BUDGET,
};

/** The outbox queue of reconciles; KV's change events arrive on `kv-events` (`kv/events.ts`). */
export const SYNC_QUEUE = 'sync';

/** A sync operation in the outbox: a reference to an association, never a value. */
export const syncOperation = z.object({
  /** `<type>/<name>` of the destination. */
  dest: z.string(),
  accessor: z.string(),
  secret_name: z.string(),
  reason: z.enum(['kv-change', 'set', 'remove', 'destination-change', 'purge', 'ownership', 'retry', 'drift']),
});
export type SyncOperation = z.infer<typeof syncOperation>;

/**
 * A prefix association (a Ferry extension): every secret of a mount under `prefix` (a folder,
 * ending with `/`, or '' for the whole mount) is associated with the destination, existing ones
 * brought in by bounded steps through the `sync-prefix` queue, later ones by fan-out.
 */
export const prefixAssociation = z.object({
  dest_type: z.literal('aws-sm'),
  dest_name: z.string(),
  accessor: z.string(),
  /** Mount path when set, with trailing slash (display only). */
  mount: z.string(),
  prefix: z.string(),
  /**
   * The policy names of the token that set the prefix: each secret is checked against them, as
   * they stand when it is brought in (read on its data path); denied ones are skipped.
   */
  policies: z.array(z.string()),
  created_at: z.string(),
  /** `bringing-in`: existing secrets are still being associated; `removing`: being taken off. */
  state: z.enum(['bringing-in', 'complete', 'removing']),
  /** Secrets associated through this prefix so far (by bring-in or by a later write). */
  brought_in: z.number().int(),
  /** Secrets the setter's policies did not let it read: never synced through this prefix. */
  skipped: z.number().int(),
  /** Bumped by every set: a bring-in of an earlier set stops, the new one starts from the beginning. */
  run: z.number().int().optional(),
});
export type PrefixAssociation = z.infer<typeof prefixAssociation>;

/** The outbox queue of prefix steps: each brings in (or takes off) a bounded number of secrets. */
export const PREFIX_QUEUE = 'sync-prefix';

/** One step of a prefix bring-in or removal: the secrets after `after` (in key order), a bounded number. */
export const prefixStep = z.object({
  kind: z.enum(['bring-in', 'remove']),
  dest: z.string(),
  accessor: z.string(),
  prefix: z.string(),
  /** The last secret path the previous step handled; null for the first step. */
  after: z.string().nullable(),
  /** The prefix record's `run` the bring-in belongs to. */
  run: z.number().int().optional(),
});
export type PrefixStep = z.infer<typeof prefixStep>;

/** The association an operation or order key refers to. */
export type AssociationRef = Pick<Association, 'dest_type' | 'dest_name' | 'accessor' | 'secret_name'>;

/** The outbox order key of an association: `<type>/<name>|<accessor>|<secret>`, destination first. */
export const orderKeyOf = (dest: string, accessor: string, secret: string) => `${dest}|${accessor}|${secret}`;
/** The destination (`<type>/<name>`) an order key belongs to, for per-destination limits. */
export const destinationOfOrderKey = (orderKey: string) => orderKey.slice(0, orderKey.indexOf('|'));

export const DEFAULT_TEMPLATE = 'vault/{{ .MountAccessor }}/{{ .SecretPath }}';
export const DEFAULT_KEY_TEMPLATE = 'vault/{{ .MountAccessor }}/{{ .SecretPath }}/{{ .SecretKey }}';
export const MASK = '*****';
/** The longest `identity_token_ttl` accepted, and the longest token ever signed: 24 hours. */
export const MAX_IDENTITY_TOKEN_TTL = 24 * 3600;

/**
 * The tag Vault puts on every secret it syncs (IAM policies condition on it). Ferry sets it too,
 * but it does not prove ownership: the ownership record and the owner tag (`ownership.ts`) do.
 */
export const SYNC_TAG = 'hashicorp:vault';

/**
 * The tag naming the Ferry cluster and destination that synced a secret, value
 * `<cluster id>/<type>/<name>` (`ownership.ts`). Read only when `DescribeSecret` is granted.
 */
export const OWNER_TAG = 'ferry:owner';

/**
 * Ferry's durable record of an external secret one of its destinations created (or adopted),
 * per destination and external name: the proof of ownership, since a policy without
 * `DescribeSecret` cannot read tags. Written before the CreateSecret (`creating`, with the
 * request token that proves the outcome later) and after it (`owned`, with the ARN).
 */
export const ownedSecret = z.object({
  name: z.string(),
  /** The association target it belongs to (its sub-key: '' for secret-path granularity). */
  accessor: z.string(),
  secret_name: z.string(),
  sub_key: z.string(),
  /** `creating`: a CreateSecret was (perhaps) sent and its outcome not recorded yet. */
  state: z.enum(['creating', 'owned']),
  /** How ownership was established: created by Ferry, recognised by its owner tag, or taken over from old records. */
  via: z.enum(['create', 'owner-tag', 'migration', 'adopt']),
  arn: z.string().optional(),
  /** The ClientRequestToken of the CreateSecret: a replay with it finds the secret it made. */
  request_token: z.string().optional(),
  recorded_at: z.string(),
});
export type OwnedSecret = z.infer<typeof ownedSecret>;

/**
 * An association that syncs to an AWS name, as the name's claims record it (`name-claims.ts`):
 * its destination (`<type>/<name>`) and secret.
 */
export const nameClaimant = z.object({ dest: z.string(), accessor: z.string(), secret_name: z.string() });
export type NameClaimant = z.infer<typeof nameClaimant>;
export const nameClaims = z.object({ claimants: z.array(nameClaimant) });

export const nowIso = (ms: number) => new Date(ms).toISOString();
