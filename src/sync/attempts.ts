import type { Logger } from 'pino';
import type { DestinationMetrics } from '../metrics/index.js';
import { nowIso, type Association, type TargetState } from './model.js';
import type { AdaptiveBudget } from './pacing.js';
import { backoffMs } from './pacing.js';
import { DeliveryError, type WriteClass } from './port.js';

/**
 * What one delivery attempt of one external secret leaves on its target record, so that the
 * association explains itself: every failed or throttled attempt sets `last_error` (with
 * `last_error_at`, `attempts` and `next_attempt_at`), transient ones included; a success clears
 * them. The destination's budget hears of every answer (or its absence), and metrics count it.
 */

export interface AttemptContext {
  /** The delivery's clock, read when it started: the budget's bookkeeping and the status fields go by it. */
  now: number;
  /** The clock read when AWS's answer was recorded: the delivery latency ends here, the AWS call included. */
  answeredAt: number;
  /** `<type>/<name>` of the destination. */
  destination: string;
  /** The quota group of the call that failed or succeeded, when one was made. */
  group: WriteClass | undefined;
  budget: AdaptiveBudget;
  metrics: DestinationMetrics | undefined;
  backoffBaseMs: number;
  backoffCapMs: number;
  /** Consecutive failures of a passing kind after which the status shows an error (delivery keeps retrying). */
  reportAfterAttempts: number;
}

/**
 * Records a failed attempt; answers when to try again, or undefined for a final failure (shown
 * until something changes or the association is retried).
 */
export function recordFailure(t: TargetState, err: unknown, ctx: AttemptContext): number | undefined {
  const e = err instanceof DeliveryError ? err : new DeliveryError('transient', 'INTERNAL_VAULT_ERROR', 'Error', (err as Error).message);
  const at = nowIso(ctx.now);
  t.attempts = (t.attempts ?? 0) + 1;
  t.last_error = e.message;
  t.last_error_code = e.code;
  t.last_error_at = at;
  let retryAt: number | undefined;
  switch (e.kind) {
    case 'final':
      ctx.budget.answered(ctx.destination, ctx.group, ctx.now, false);
      t.status = e.status;
      t.updated_at = at;
      delete t.next_attempt_at;
      ctx.metrics?.delivered('failed');
      return undefined;
    case 'throttled':
      // Paced by the destination's budget, which the throttling answer just shrank: no per-secret backoff.
      retryAt = ctx.budget.throttled(ctx.destination, ctx.group, ctx.now);
      break;
    case 'unavailable':
      // Probed by the destination's budget, and released with it as soon as AWS answers.
      retryAt = ctx.budget.unavailable(ctx.destination, ctx.now);
      break;
    default:
      retryAt = ctx.now + backoffMs(t.attempts, ctx.backoffBaseMs, ctx.backoffCapMs);
  }
  if (e.kind !== 'throttled' && t.attempts >= ctx.reportAfterAttempts) {
    t.status = e.status === 'PENDING' ? 'EXTERNAL_SERVICE_ERROR' : e.status;
    t.updated_at = at;
  }
  t.next_attempt_at = nowIso(retryAt);
  ctx.metrics?.delivered('retry');
  return retryAt;
}

/** Records a confirmed delivery; answers true when it released a destination that was being probed. */
export function recordSuccess(t: TargetState, ctx: AttemptContext, committedAt: number | undefined): boolean {
  delete t.last_error;
  delete t.last_error_code;
  delete t.last_error_at;
  delete t.next_attempt_at;
  t.attempts = 0;
  ctx.metrics?.delivered('success', committedAt === undefined ? undefined : Math.max(0, ctx.answeredAt - committedAt) / 1000);
  return ctx.budget.answered(ctx.destination, ctx.group, ctx.now, true);
}

/**
 * Logs each target whose state changed in this delivery, at `warn` when it now carries an error
 * (a new cause, not every retry of the same one) and at `info` when it recovered from one. Lines
 * name the destination, mount and secret path (never values); `secret_path`, because a field
 * named `secret` is censored by the logger.
 */
export function logTransitions(log: Pick<Logger, 'warn' | 'info' | 'debug'>, destination: string, before: Association, after: Association): void {
  for (const [subKey, t] of Object.entries(after.targets)) {
    const was = before.targets[subKey];
    const fields = {
      destination,
      mount: after.mount,
      secret_path: after.secret_name,
      ...(subKey ? { sub_key: subKey } : {}),
      external_name: t.name,
      // A target recorded SYNCED whose delivery just failed holds an older value in AWS: the
      // association shows it PENDING (SyncService.withDisplayStatus), and so does its log line.
      status: t.status === 'SYNCED' && t.last_error !== undefined ? 'PENDING' : t.status,
    };
    const cause = t.last_error_code ?? (t.status.endsWith('_ERROR') ? t.status : undefined);
    const previousCause = was?.last_error_code ?? (was?.status.endsWith('_ERROR') ? was.status : undefined);
    if (cause !== undefined && (cause !== previousCause || t.status !== was?.status)) {
      log.warn({ ...fields, attempts: t.attempts, next_attempt_at: t.next_attempt_at, error: t.last_error }, 'sync delivery failed');
    } else if (cause === undefined && previousCause !== undefined) {
      log.info(fields, 'sync delivery recovered');
    } else {
      log.debug(fields, 'sync delivery');
    }
  }
}
