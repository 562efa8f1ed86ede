/**
 * ReplicateSecretToRegions / RemoveRegionsFromReplication. A replica is a read-only view of its
 * primary's data in another region of the same account, with the primary's name and ARN suffix.
 * Replication is asynchronous on AWS: the call answers `InProgress`, and a later DescribeSecret
 * shows `InSync` (never instantly `InSync` — moto's pitfall #19).
 */
import type { Handler, OpContext } from './context.js';
import { smErrors } from './errors.js';
import { accessDay, type SecretRecord } from './store.js';
import { writable } from './rules.js';

export interface ReplicaRegionInput {
  Region: string;
  KmsKeyId?: string;
}

const DEFAULT_REPLICA_KEY = 'alias/aws/secretsmanager';

export function renderReplicationStatus(ctx: OpContext, primary: SecretRecord): Record<string, unknown>[] {
  return [...primary.replicas.values()].map((r) => {
    const replica = ctx.store.byName(ctx.accountId, r.region, primary.core.name, ctx.now);
    return {
      Region: r.region,
      KmsKeyId: r.kmsKeyId ?? DEFAULT_REPLICA_KEY,
      Status: r.status,
      StatusMessage: r.statusMessage,
      LastAccessedDate:
        replica?.isReplica === true && replica.lastAccessedDate !== undefined ? accessDay(replica.lastAccessedDate) : undefined,
    };
  });
}

/** The asynchronous copy has "finished" by the time anyone looks again. */
export function settleReplicas(primary: SecretRecord): void {
  for (const r of primary.replicas.values()) {
    if (r.status === 'InProgress') {
      r.status = 'InSync';
      r.statusMessage = 'Replication succeeded';
    }
  }
}

export function addReplicas(
  ctx: OpContext,
  primary: SecretRecord,
  regions: ReplicaRegionInput[],
  force: boolean,
): Record<string, unknown>[] {
  for (const { Region, KmsKeyId } of regions) {
    if (Region === primary.region) throw smErrors.replicaSameRegion(Region);
    const current = primary.replicas.get(Region);
    if (current !== undefined && current.status !== 'Failed') continue;
    const occupant = ctx.store.byName(ctx.accountId, Region, primary.core.name, ctx.now);
    if (occupant !== undefined && !force) {
      // chosen wording; the call itself still succeeds (spec §2.3, unconfirmed)
      primary.replicas.set(Region, {
        region: Region,
        kmsKeyId: KmsKeyId,
        status: 'Failed',
        statusMessage: `Replication failed: Secret name already exists in Region: ${Region}.`,
      });
      continue;
    }
    if (occupant !== undefined) ctx.store.remove(occupant);
    ctx.store.addReplica(primary, Region, KmsKeyId === '' ? undefined : KmsKeyId);
    primary.replicas.set(Region, { region: Region, kmsKeyId: KmsKeyId, status: 'InProgress' });
  }
  primary.core.lastChangedDate = ctx.now;
  return renderReplicationStatus(ctx, primary);
}

export interface ReplicateSecretToRegionsInput {
  SecretId: string;
  AddReplicaRegions: ReplicaRegionInput[];
  ForceOverwriteReplicaSecret?: boolean;
}

export const replicateSecretToRegions: Handler<ReplicateSecretToRegionsInput> = (ctx, input) => {
  const primary = writable(ctx, input.SecretId);
  const status = addReplicas(ctx, primary, input.AddReplicaRegions, input.ForceOverwriteReplicaSecret === true);
  return { ARN: primary.arn, ReplicationStatus: status };
};

export interface RemoveRegionsFromReplicationInput {
  SecretId: string;
  RemoveReplicaRegions: string[];
}

/** Removed replicas are deleted at once, without a recovery window. */
export const removeRegionsFromReplication: Handler<RemoveRegionsFromReplicationInput> = (ctx, input) => {
  const primary = ctx.store.resolve(ctx, input.SecretId);
  if (primary.isReplica) throw smErrors.replicaReadOnly();
  for (const region of input.RemoveReplicaRegions) {
    const state = primary.replicas.get(region);
    if (state === undefined) continue;
    const replica = ctx.store.byName(ctx.accountId, region, primary.core.name, ctx.now);
    if (replica?.isReplica === true && replica.core === primary.core) ctx.store.remove(replica);
    primary.replicas.delete(region);
  }
  primary.core.lastChangedDate = ctx.now;
  return { ARN: primary.arn, ReplicationStatus: renderReplicationStatus(ctx, primary) };
};
