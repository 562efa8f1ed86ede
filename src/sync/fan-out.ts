import type { Logger } from 'pino';
import { KV_EVENTS_QUEUE, parseKvChangeEvent } from '../kv/index.js';
import type { Store } from '../store/store.js';
import type { PrefixAssociation } from './model.js';
import type { PrefixAssociations } from './prefixes.js';
import type { PrefixRef, Row, SyncRecords } from './records.js';

export interface FanOutDeps {
  store: Pick<Store, 'pendingOutbox'>;
  records: SyncRecords;
  log: Pick<Logger, 'error'>;
  /** Prefix associations: a written secret they cover is associated (`prefixes.ts`). */
  prefixes?: Pick<PrefixAssociations, 'fanOut' | 'saveProgress'>;
}

/** KV change events handled per call. */
const BATCH = 256;

/**
 * KV change → one sync operation per association of that secret, and a new association for
 * each destination whose prefix covers it and that has none yet. A whole batch of events is
 * read, fanned out and removed in one commit: no claim is needed, and a crash repeats nothing.
 * Secrets of mounts without any association or prefix are settled without a lookup: most KV
 * writes are not synced. Returns the number of events handled.
 */
export async function fanOutKvEvents(deps: FanOutDeps): Promise<number> {
  const events = await deps.store.pendingOutbox(KV_EVENTS_QUEUE, BATCH);
  if (events.length === 0) return 0;
  const syncedMounts = await deps.records.syncedMountAccessors();
  const change = deps.records.change();
  const seen = new Set<string>();
  const prefixesOf = new Map<string, PrefixRef[]>();
  const progress = new Map<string, Row<PrefixAssociation>>();
  for (const event of events) {
    // Several events of one secret need one lookup: the reconcile reads the latest state.
    if (seen.has(event.orderKey)) continue;
    seen.add(event.orderKey);
    let secret: { mountAccessor: string; path: string };
    try {
      secret = parseKvChangeEvent(event.payload);
    } catch {
      // Not an event KV writes: dropped with the batch rather than blocking every later one.
      deps.log.error({ eventId: event.id }, 'sync fan-out skipped an unreadable KV change event');
      continue;
    }
    if (!syncedMounts.has(secret.mountAccessor)) continue;
    const associations = await deps.records.associationsOfSecret(secret.mountAccessor, secret.path);
    for (const a of associations) {
      if (!a.removing) change.enqueueSync(a, 'kv-change');
    }
    if (!deps.prefixes) continue;
    let covering = prefixesOf.get(secret.mountAccessor);
    if (!covering) prefixesOf.set(secret.mountAccessor, (covering = await deps.records.prefixesOfMount(secret.mountAccessor)));
    if (covering.length === 0) continue;
    const associated = new Set(associations.map((a) => `${a.dest_type}/${a.dest_name}`));
    await deps.prefixes.fanOut(change, secret.mountAccessor, secret.path, covering, associated, progress);
  }
  deps.prefixes?.saveProgress(change, progress);
  await change.dequeue(events.map((e) => e.id)).commit();
  return events.length;
}
