/** Deletion and recovery: DeleteSecret, RestoreSecret. */
import { AwsError } from '../errors.js';
import type { Handler } from './context.js';
import { smErrors } from './errors.js';
import { DAY_MS, epochSeconds } from './store.js';

export interface DeleteSecretInput {
  SecretId: string;
  RecoveryWindowInDays?: number;
  ForceDeleteWithoutRecovery?: boolean;
}

/**
 * Schedules deletion (window 7–30 days, default 30) or, with ForceDeleteWithoutRecovery, purges at
 * once. The purge after the window happens on the first access after it ends.
 */
export const deleteSecret: Handler<DeleteSecretInput> = (ctx, input) => {
  const force = input.ForceDeleteWithoutRecovery === true;
  if (force && input.RecoveryWindowInDays !== undefined) throw smErrors.forceWithWindow();
  const window = input.RecoveryWindowInDays ?? 30;
  if (window < 7 || window > 30) throw smErrors.recoveryWindow();
  let record;
  try {
    record = ctx.store.resolve(ctx, input.SecretId);
  } catch (e) {
    // Documented: with force, an unknown secret is not an error. Response content is unconfirmed;
    // this echoes the id and the deletion instant.
    if (force && e instanceof AwsError && e.code === 'ResourceNotFoundException') {
      const isArn = input.SecretId.startsWith('arn:');
      return {
        ARN: isArn ? input.SecretId : undefined,
        Name: isArn ? undefined : input.SecretId,
        DeletionDate: epochSeconds(ctx.now),
      };
    }
    throw e;
  }
  if (record.isReplica) throw smErrors.replicaReadOnly();
  if (record.replicas.size > 0) throw smErrors.deleteWithReplicas(record.core.name, [...record.replicas.keys()]);
  if (force) {
    ctx.store.purge(record, ctx.now);
    return { ARN: record.arn, Name: record.core.name, DeletionDate: epochSeconds(ctx.now) };
  }
  if (record.deletedDate !== undefined) throw smErrors.alreadyScheduled();
  record.deletedDate = ctx.now;
  record.deletionDate = ctx.now + window * DAY_MS;
  record.core.lastChangedDate = ctx.now;
  return { ARN: record.arn, Name: record.core.name, DeletionDate: epochSeconds(record.deletionDate) };
};

export interface RestoreSecretInput {
  SecretId: string;
}

/** Clears the scheduled deletion; on a secret that is not scheduled it is a no-op (spec's expectation). */
export const restoreSecret: Handler<RestoreSecretInput> = (ctx, input) => {
  const record = ctx.store.resolve(ctx, input.SecretId);
  if (record.isReplica) throw smErrors.replicaReadOnly();
  if (record.deletedDate !== undefined) {
    record.deletedDate = undefined;
    record.deletionDate = undefined;
    record.core.lastChangedDate = ctx.now;
  }
  return { ARN: record.arn, Name: record.core.name };
};
