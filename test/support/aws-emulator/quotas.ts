/**
 * Request-rate quotas (aws-secrets-manager.md §4): one token bucket per
 * (account, region, quota class), refilled at the class's rate with a one-second burst.
 */

/** Quota classes and their default rates (requests per second), AWS's published values. */
export const DEFAULT_QUOTAS: Record<string, number> = {
  GetSecretValue: 10_000,
  DescribeSecret: 40_000,
  BatchGetSecretValue: 100,
  ListSecrets: 100,
  SecretWrites: 50,
  RestoreSecret: 50,
  Rotation: 50,
  Tagging: 50,
  ResourcePolicy: 50,
  CreateSecret: 50,
  DeleteSecret: 50,
  ListSecretVersionIds: 50,
  GetRandomPassword: 50,
  // STS: ≈600/s per account and region (unconfirmed in the spec).
  STS: 600,
};

/** Operation → quota class, for operations whose class is not their own name. */
const CLASS_OF: Record<string, string> = {
  PutSecretValue: 'SecretWrites',
  UpdateSecret: 'SecretWrites',
  UpdateSecretVersionStage: 'SecretWrites',
  ReplicateSecretToRegions: 'SecretWrites',
  RemoveRegionsFromReplication: 'SecretWrites',
  StopReplicationToReplica: 'SecretWrites',
  RotateSecret: 'Rotation',
  CancelRotateSecret: 'Rotation',
  TagResource: 'Tagging',
  UntagResource: 'Tagging',
  GetResourcePolicy: 'ResourcePolicy',
  PutResourcePolicy: 'ResourcePolicy',
  DeleteResourcePolicy: 'ResourcePolicy',
  ValidateResourcePolicy: 'ResourcePolicy',
  AssumeRole: 'STS',
  AssumeRoleWithWebIdentity: 'STS',
  GetCallerIdentity: 'STS',
};

/** The quota class of an operation; class names map to themselves. */
export function quotaClass(operationOrClass: string): string {
  return CLASS_OF[operationOrClass] ?? operationOrClass;
}

interface Bucket {
  tokens: number;
  emulatorAt: number;
  wallAt: number;
}

export class QuotaLimiter {
  private readonly rates: Record<string, number>;
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    overrides: Partial<Record<string, number>> = {},
    private readonly refill: 'clock-or-wall' | 'clock' = 'clock-or-wall',
  ) {
    this.rates = { ...DEFAULT_QUOTAS };
    for (const [name, rate] of Object.entries(overrides)) {
      if (rate !== undefined) this.set(name, rate);
    }
  }

  /** Sets the rate of a class (an operation name selects its class). Resets its buckets. */
  set(operationOrClass: string, perSecond: number): void {
    if (!(perSecond > 0) || !Number.isFinite(perSecond)) throw new Error('perSecond must be a positive number');
    const cls = quotaClass(operationOrClass);
    if (!(cls in this.rates)) {
      throw new Error(`unknown quota class or operation '${operationOrClass}'; classes: ${Object.keys(this.rates).join(', ')}`);
    }
    this.rates[cls] = perSecond;
    for (const key of [...this.buckets.keys()]) if (key.endsWith(`|${cls}`)) this.buckets.delete(key);
  }

  snapshot(): Record<string, number> {
    return { ...this.rates };
  }

  /**
   * Takes one token; false when the bucket is empty (→ ThrottlingException).
   * Refill counts elapsed time on whichever clock moved further — the injectable emulator clock
   * (so a test can refill by moving time) or the real one (so a frozen test clock does not starve
   * a long run forever) — or, with refill 'clock', on the emulator clock alone.
   */
  take(accountId: string, region: string, operation: string, now: number, wallNow: number): boolean {
    const cls = quotaClass(operation);
    const rate = this.rates[cls];
    if (rate === undefined) return true;
    const capacity = Math.max(1, rate);
    const key = `${accountId}|${region}|${cls}`;
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      bucket = { tokens: capacity, emulatorAt: now, wallAt: wallNow };
      this.buckets.set(key, bucket);
    }
    const wallElapsed = this.refill === 'clock' ? 0 : wallNow - bucket.wallAt;
    const elapsed = Math.max(now - bucket.emulatorAt, wallElapsed, 0);
    bucket.tokens = Math.min(capacity, bucket.tokens + (elapsed / 1000) * rate);
    bucket.emulatorAt = now;
    bucket.wallAt = wallNow;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}
