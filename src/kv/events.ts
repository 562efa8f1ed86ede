import type { WriteOp } from '../store/store.js';

/**
 * The contract between the KV v2 engine and secrets sync.
 *
 * Every KV v2 change that sync must see is appended to the `kv-events` outbox queue in the
 * same atomic store action as the change itself, so a consumer that drains the queue never
 * misses one. Events are notifications, not state: a consumer reads the secret's current
 * state through the read API in `index.ts` (`readLatestForSync`) when it handles one.
 * Payloads never carry secret values.
 */

/** The outbox queue KV change events are appended to. */
export const KV_EVENTS_QUEUE = 'kv-events';

/**
 * What happened to a secret.
 * - `write`: a new version was created by POST/PUT `data/<path>`;
 * - `patch`: a new version was created by PATCH `data/<path>`;
 * - `delete`: one or more versions were soft-deleted (DELETE `data/<path>`, `delete/<path>`), or
 *   the current version's `delete_version_after` expiry was observed (once per expiry);
 * - `undelete`: one or more soft-deleted versions were restored;
 * - `destroy`: one or more versions were permanently destroyed;
 * - `metadata-delete`: the secret and all its versions were removed (DELETE `metadata/<path>`).
 */
export type KvChange = 'write' | 'patch' | 'delete' | 'undelete' | 'destroy' | 'metadata-delete';

/** One change to one KV v2 secret, as appended to the `kv-events` queue (JSON). */
export interface KvChangeEvent {
  /** Accessor of the KV v2 mount (`kv_1a2b3c4d`); stable across remounts, as sync associations key on it. */
  mountAccessor: string;
  /** The secret's path inside the mount (`team/db-creds`), no leading or trailing slash. */
  path: string;
  change: KvChange;
  /**
   * `current_version` after the change. For `metadata-delete`, which leaves no version behind,
   * the `current_version` the secret had when it was deleted.
   */
  version: number;
  /**
   * Random id created when the secret's metadata is first created; deleting the metadata and
   * writing the path again starts a new incarnation (and versions restart at 1).
   */
  incarnation: string;
  /** Server clock (Unix ms) when the change was committed. */
  at: number;
}

/**
 * Watch records: which KV v2 mounts' changes secrets sync needs. A change of a mount that is not
 * watched appends no event (nothing would read it: most KV writes are not synced), once the
 * records are complete. Sync writes them: a mount's record in the same commit as the first
 * association of one of its secrets (`kvWatchOp`), and the tracking record once, together with
 * the records of every mount that already had associations (a store written before watch
 * records existed has associations but no records: until then every change appends its event).
 * Records are never removed, so a mount watched once stays watched.
 *
 * A change that finds its mount unwatched commits with a revision check that the record is
 * still absent: an association set between that read and the commit moves it, the change is
 * decided again and appends its event. So no change committed after the association misses
 * the event that sync's fan-out needs, and every change before it is covered by the reconcile
 * the association set queues itself (which reads the latest state).
 */
export const KV_WATCH_TRACKING_KEY = 'kv-watch/tracking';

/** The watch record of the KV mount with this accessor. */
export function kvWatchKey(mountAccessor: string): string {
  return `kv-watch/mounts/${mountAccessor}`;
}

/** The op that marks a KV mount as watched by sync; it belongs in the commit that makes it so. */
export function kvWatchOp(mountAccessor: string): WriteOp {
  return { kind: 'put', key: kvWatchKey(mountAccessor), value: Buffer.alloc(0) };
}

/** The op that declares the watch records complete (see `KV_WATCH_TRACKING_KEY`). */
export function kvWatchTrackingOp(): WriteOp {
  return { kind: 'put', key: KV_WATCH_TRACKING_KEY, value: Buffer.alloc(0) };
}

/** The outbox order key: events of one secret are claimed strictly in order. */
export function kvEventOrderKey(mountAccessor: string, path: string): string {
  return `${mountAccessor}:${path}`;
}

/** The outbox operation that records `event`; it belongs in the commit that makes the change. */
export function kvEventOp(event: KvChangeEvent): WriteOp {
  return {
    kind: 'enqueue',
    queue: KV_EVENTS_QUEUE,
    orderKey: kvEventOrderKey(event.mountAccessor, event.path),
    payload: JSON.stringify(event),
  };
}

const CHANGES = new Set<string>(['write', 'patch', 'delete', 'undelete', 'destroy', 'metadata-delete']);

/** Parses an outbox payload back into an event; throws on anything that is not one. */
export function parseKvChangeEvent(payload: string): KvChangeEvent {
  const v = JSON.parse(payload) as Partial<KvChangeEvent>;
  if (
    typeof v !== 'object' ||
    v === null ||
    typeof v.mountAccessor !== 'string' ||
    typeof v.path !== 'string' ||
    typeof v.change !== 'string' ||
    !CHANGES.has(v.change) ||
    typeof v.version !== 'number' ||
    typeof v.incarnation !== 'string' ||
    typeof v.at !== 'number'
  ) {
    throw new Error('not a KV change event');
  }
  return {
    mountAccessor: v.mountAccessor,
    path: v.path,
    change: v.change,
    version: v.version,
    incarnation: v.incarnation,
    at: v.at,
  };
}
