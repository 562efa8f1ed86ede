import type { WriteClass } from './port.js';

/**
 * Per-destination write budgets, one token bucket per AWS quota group, kept under AWS's
 * 50 requests/s per account and region so that steady traffic is never throttled.
 * `take` never waits: it answers how long the caller should defer, so the operation is
 * rescheduled instead of holding a slot of the worker's pool.
 */
export class WriteBudget {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly perSecond: number) {}

  /** 0 when a token was taken; otherwise the milliseconds until one is available. */
  take(destination: string, group: WriteClass, now: number): number {
    const key = `${destination}|${group}`;
    const bucket = this.buckets.get(key) ?? { tokens: this.perSecond, at: now };
    const refilled = Math.min(this.perSecond, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
    if (refilled >= 1) {
      this.buckets.set(key, { tokens: refilled - 1, at: now });
      return 0;
    }
    this.buckets.set(key, { tokens: refilled, at: now });
    return Math.ceil(((1 - refilled) / this.perSecond) * 1000);
  }
}

/** Exponential backoff with full jitter, capped. */
export function backoffMs(attempt: number, baseMs: number, capMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 20));
  return Math.max(baseMs / 2, Math.floor(random() * ceiling));
}
