import { createHash } from 'node:crypto';
import type { Destination, SyncStatus } from './model.js';

/**
 * The port between reconciliation (`reconcile.ts`) and a destination provider. Reconciliation
 * decides what must exist where; an adapter knows how to make it so on one provider. Errors
 * are classified once, by the adapter, into what delivery does next.
 */
export type DeliveryErrorKind =
  /** Rate limited: retry with backoff, never reported as a failure. */
  | 'throttled'
  /** AWS (or STS) did not answer: connection trouble, timeouts, 5xx. The destination is probed until it answers. */
  | 'unavailable'
  /** Another passing condition (a name still being purged, a record changed meanwhile): retry with backoff. */
  | 'transient'
  /** Configuration or ownership problem: reported, not retried until something changes. */
  | 'final';

export class DeliveryError extends Error {
  constructor(
    public readonly kind: DeliveryErrorKind,
    public readonly status: SyncStatus,
    /** Provider error code, e.g. `ResourceExistsException`, `AccessDenied`. */
    public readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

/** What one external secret should look like. Never logged: it carries the value. */
export interface ExternalSecretSpec {
  name: string;
  value: string;
  /** Deterministic per (association, incarnation, sub-key, version): a retry never makes a second version. */
  requestToken: string;
  tags: Record<string, string>;
  kmsKeyId: string;
  replicaRegions: Record<string, string>;
}

/** What reconciliation remembers about an owned external secret's configuration between deliveries. */
export interface KnownConfig {
  configDigest?: string;
  appliedTags?: Record<string, string>;
  appliedReplicas?: string[];
  /** The KMS key last applied ('' = AWS's default key); undefined when not known. */
  appliedKmsKeyId?: string;
}

/** An optional permission the provider denied, and what Ferry does without it (README: "Least privilege"). */
export interface MissingPermission {
  action: string;
  consequence: string;
}

/** What a call changed, for the record and for the destination's permission report. */
export interface CallReport {
  /** Which provider calls were made, for tests and metrics (e.g. ['UpdateSecret']). */
  calls: string[];
  /** Optional calls AWS denied; Ferry went on without them. */
  missing: MissingPermission[];
  /** Optional actions that worked (a missing-permission note about them is stale). */
  granted: string[];
}

/** The configuration now applied to an external secret. */
export interface AppliedConfig {
  configDigest: string;
  appliedTags: Record<string, string>;
  appliedReplicas: string[];
  appliedKmsKeyId: string;
}

/** `versionId`: the AWS version a value write made (or found made by the same request token); none for a configuration-only change. */
export type WriteOutcome = AppliedConfig & CallReport & { arn: string; versionId?: string };

export type CreateResult =
  | ({ kind: 'created' } & WriteOutcome)
  /**
   * The name is taken. `ours`: AWS refused the request token because a version of that
   * secret already uses it, which only a CreateSecret or UpdateSecret of Ferry's can have made.
   */
  | { kind: 'taken'; ours: boolean; arn?: string };

export type UpdateResult =
  | ({ kind: 'written' } & WriteOutcome)
  /** No secret at that ARN any more (deleted out of band, or purged). */
  | { kind: 'gone' }
  /** The secret is scheduled for deletion (out of band). */
  | { kind: 'scheduled' };

/** A pre-existing secret as `DescribeSecret` shows it. */
export interface ExistingSecret {
  arn: string;
  tags: Record<string, string>;
  kmsKeyId: string;
  replicas: string[];
  scheduledForDeletion: boolean;
  /** The version labelled AWSCURRENT. */
  currentVersionId?: string;
}

/** A secret as a `ListSecrets` page shows it: eventually consistent, so only a reason to look closer. */
export interface ListedSecret {
  name: string;
  /** The version labelled AWSCURRENT. */
  currentVersionId?: string;
  tags: Record<string, string>;
  scheduledForDeletion: boolean;
}

/** The provider operations a quota applies to, for pacing. */
export type WriteClass = 'create' | 'update' | 'delete' | 'tag';

/**
 * One provider's calls, each a single step: reconciliation (`reconcile.ts`, `target-writes.ts`)
 * decides which, from Ferry's ownership records. The default path uses only what the guide's
 * minimal IAM policy grants: create, update, delete, tag. `describe`, `restore`, untagging and
 * replication are optional: a denial comes back as a `MissingPermission`, never as a failure.
 */
export interface DestinationAdapter {
  /** Creates the secret with its value, tags, KMS key and replicas, with `spec.requestToken`. */
  create(spec: ExternalSecretSpec): Promise<CreateResult>;
  /** Writes a new value to an owned secret (by ARN), then brings its configuration in line if it changed. */
  update(arn: string, spec: ExternalSecretSpec, known: KnownConfig): Promise<UpdateResult>;
  /** Brings tags, KMS key and replicas of an owned secret in line, without writing its value. */
  reconfigure(arn: string, spec: ExternalSecretSpec, known: KnownConfig): Promise<UpdateResult>;
  /** Optional: a pre-existing secret's tags and state; undefined when there is none. */
  describe(name: string): Promise<ExistingSecret | undefined | MissingPermission>;
  /** Optional: one page of the secrets AWS lists (planned deletions included), for drift repair. */
  list(nextToken?: string): Promise<{ secrets: ListedSecret[]; nextToken?: string } | MissingPermission>;
  /** Optional: cancels an out-of-band scheduled deletion of an owned secret. */
  restore(arn: string): Promise<true | MissingPermission>;
  /** Deletes an owned secret without a recovery window (its replicas first); missing is success. */
  remove(arn: string, replicas: string[]): Promise<CallReport>;
}

/** Maps a destination to its adapter; adapters are cached per destination incarnation and generation. */
export interface AdapterRegistry {
  adapterFor(destination: Destination): DestinationAdapter;
  /**
   * The provider account the destination's secrets live in (AWS: its role's account, else its
   * credentials' by `sts:GetCallerIdentity`, which no policy can deny); undefined when it cannot
   * be learnt (the endpoint unreachable, the credentials refused). Learnt once per destination
   * version, on demand: only when a name collision has to be judged.
   */
  accountOf(destination: Destination): Promise<string | undefined>;
  /**
   * The same for a destination not stored yet (a write being checked): asked afresh, through
   * that destination's own sockets and network policy, and never cached nor touching the
   * stored destination's clients.
   */
  accountOfCandidate(destination: Destination): Promise<string | undefined>;
  /** Drops cached clients and credentials (on seal, on destination delete). */
  reset(): void;
}

/** Digest of everything besides the value that a synced secret carries (tags, KMS key, replicas). */
export function configDigest(spec: Pick<ExternalSecretSpec, 'tags' | 'kmsKeyId' | 'replicaRegions'>): string {
  const canonical = JSON.stringify([Object.entries(spec.tags).sort(), spec.kmsKeyId, Object.entries(spec.replicaRegions).sort()]);
  return createHash('sha256').update(canonical).digest('hex').slice(0, 32);
}
