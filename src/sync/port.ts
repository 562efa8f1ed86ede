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
  /** Outage, 5xx, connection trouble: retry with backoff, reported after repeated failures. */
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

/** What reconciliation remembers about an external secret between deliveries. */
export interface KnownExternalState {
  owned: boolean;
  arn?: string;
  configDigest?: string;
  appliedTags?: Record<string, string>;
  appliedReplicas?: string[];
  /** The KMS key last applied ('' = AWS's default key); undefined when not known. */
  appliedKmsKeyId?: string;
}

export interface UpsertOutcome {
  arn: string;
  configDigest: string;
  appliedTags: Record<string, string>;
  appliedReplicas: string[];
  appliedKmsKeyId: string;
  /** Which provider calls were made, for tests and metrics (e.g. ['PutSecretValue']). */
  calls: string[];
}

/** The provider operations a quota applies to, for pacing. */
export type WriteClass = 'create' | 'put' | 'delete' | 'tag' | 'restore';

export interface DestinationAdapter {
  /** Creates or updates the external secret; refuses to touch one the server does not own. */
  upsert(spec: ExternalSecretSpec, known: KnownExternalState): Promise<UpsertOutcome>;
  /** Brings tags, KMS key and replicas of an owned secret in line, without writing its value. */
  reconfigure(spec: ExternalSecretSpec, known: KnownExternalState): Promise<UpsertOutcome>;
  /** Deletes an owned external secret without a recovery window; missing is success. */
  remove(name: string, known: KnownExternalState): Promise<void>;
  /** The write class of the first call `upsert` will make, for pacing. */
  firstWriteClass(known: KnownExternalState): WriteClass;
}

/** Maps a destination to its adapter; adapters are cached per destination generation. */
export interface AdapterRegistry {
  adapterFor(destination: Destination): DestinationAdapter;
  /** Drops cached clients and credentials (on seal, on destination delete). */
  reset(): void;
}

/** Digest of everything besides the value that a synced secret carries (tags, KMS key, replicas). */
export function configDigest(spec: Pick<ExternalSecretSpec, 'tags' | 'kmsKeyId' | 'replicaRegions'>): string {
  const canonical = JSON.stringify([Object.entries(spec.tags).sort(), spec.kmsKeyId, Object.entries(spec.replicaRegions).sort()]);
  return createHash('sha256').update(canonical).digest('hex').slice(0, 32);
}
