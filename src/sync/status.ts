import { keysOfPending, type PendingKey, type Store } from '../store/store.js';
import { destinationOfOrderKey, nowIso, SYNC_QUEUE, type PrefixAssociation } from './model.js';
import type { DriftRepair } from './drift.js';
import type { AdaptiveBudget } from './pacing.js';
import type { WriteClass } from './port.js';
import type { SyncService } from './service.js';

/**
 * A destination's status summary (`GET sys/sync/destinations/:type/:name/status`, a Ferry
 * extension): what its associations' entries say, counted; what waits in the queue; how its AWS
 * is answering and the budget it is given; and drift repair's state. Names and counts only.
 */

export interface QueueView {
  /** Associations with work waiting (operations of one association coalesce into one delivery). */
  depth: number;
  /** Unix ms of the oldest pending operation. */
  oldestAt?: number;
}

/** Queue depth and oldest pending operation per destination (`<type>/<name>`), from the outbox's order keys. */
export function queueByDestination(keys: PendingKey[]): Map<string, QueueView> {
  const out = new Map<string, QueueView>();
  for (const key of keys) {
    const dest = destinationOfOrderKey(key.orderKey);
    const q = out.get(dest) ?? { depth: 0 };
    q.depth += 1;
    q.oldestAt = q.oldestAt === undefined ? key.oldestAt : Math.min(q.oldestAt, key.oldestAt);
    out.set(dest, q);
  }
  return out;
}

/**
 * The sync queue's pending order keys, for a summary or a scrape: read without a payload (a scrape
 * may be anyone's, on a listener with unauthenticated_metrics_access, and the queue grows long
 * while AWS is down; reading and decrypting every item took seconds at 100,000 of them).
 */
export function pendingSyncKeys(store: Pick<Store, 'pendingOutbox' | 'pendingOutboxKeys'>): Promise<PendingKey[]> {
  return store.pendingOutboxKeys ? store.pendingOutboxKeys(SYNC_QUEUE) : store.pendingOutbox(SYNC_QUEUE, Number.MAX_SAFE_INTEGER).then(keysOfPending);
}

export interface DestinationStatusDeps {
  service: SyncService;
  budget: AdaptiveBudget;
  drift: DriftRepair;
  pending: () => Promise<PendingKey[]>;
  /** The destination's prefix associations (`prefixes.ts`), for their progress. */
  prefixes?: (type: string, name: string) => Promise<PrefixAssociation[]>;
  clock: () => number;
}

const GROUPS: WriteClass[] = ['create', 'update', 'delete', 'tag'];

export async function destinationStatus(deps: DestinationStatusDeps, type: string, name: string): Promise<Record<string, unknown> | undefined> {
  const { service, budget, clock } = deps;
  const destination = await service.getDestination(type, name);
  if (!destination) return undefined;
  const now = clock();
  const ref = `${type}/${name}`;
  const counts: Record<string, number> = {};
  let lastSuccess: string | undefined;
  let failing = 0;
  const associations = await service.associationsForDisplay(type, name);
  // Per prefix: its associations whose AWS secrets are not all synced yet.
  const unsynced = new Map<string, number>();
  for (const a of associations) {
    const waiting = Object.entries(a.targets).some(([subKey, t]) => !subKey.startsWith('retired:') && t.status !== 'SYNCED');
    if (waiting) for (const p of a.prefixes ?? []) unsynced.set(`${a.accessor}|${p}`, (unsynced.get(`${a.accessor}|${p}`) ?? 0) + 1);
    for (const [subKey, t] of Object.entries(a.targets)) {
      if (subKey.startsWith('retired:')) continue;
      counts[t.status] = (counts[t.status] ?? 0) + 1;
      if (t.last_error !== undefined) failing++;
      if (t.status === 'SYNCED' && (lastSuccess === undefined || t.updated_at > lastSuccess)) lastSuccess = t.updated_at;
    }
  }
  const queue = queueByDestination(await deps.pending()).get(ref) ?? { depth: 0 };
  const prefixes = (await deps.prefixes?.(type, name)) ?? [];
  const b = budget.view(ref, now);
  return {
    name,
    type,
    associations: associations.length,
    sync_status_counts: counts,
    with_last_error: failing,
    queue_depth: queue.depth,
    oldest_pending_seconds: queue.oldestAt === undefined ? 0 : Math.max(0, Math.round((now - queue.oldestAt) / 1000)),
    ...(lastSuccess ? { last_success_at: lastSuccess } : {}),
    ...(prefixes.length > 0
      ? {
          prefixes: prefixes.map((p) => ({
            mount: p.mount,
            prefix: p.prefix,
            state: p.state,
            brought_in: p.brought_in,
            skipped: p.skipped,
            pending: unsynced.get(`${p.accessor}|${p.prefix}`) ?? 0,
          })),
        }
      : {}),
    aws: {
      state: b.health,
      since: nowIso(b.since),
      ...(b.next_probe_at !== undefined ? { next_probe_at: nowIso(b.next_probe_at) } : {}),
      throttled_answers: b.throttled_total,
    },
    budget_per_second: Object.fromEntries(GROUPS.map((g) => [g, b.rates[g] ?? budget.perSecond])),
    drift_repair: await deps.drift.view(type, name).then((d) => ({
      state: d.state,
      interval_seconds: d.interval_seconds,
      ...(d.missing_permission ? { missing_permission: d.missing_permission } : {}),
      ...(d.last_pass_at !== undefined ? { last_pass_at: nowIso(d.last_pass_at) } : {}),
      ...(d.next_pass_at !== undefined ? { next_pass_at: nowIso(d.next_pass_at) } : {}),
      ...(d.last_pass ? { last_pass: d.last_pass } : {}),
      repairs_queued: d.confirmed_total,
    })),
  };
}
