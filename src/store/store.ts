/**
 * The storage port. Everything Ferry persists goes through this small interface so that
 * an encryption barrier can wrap it and a PostgreSQL driver can implement it later.
 *
 * Multi-write actions are single atomic calls (`commit`) rather than open transactions:
 * better-sqlite3 transactions are synchronous and must never span an `await`, and a
 * network database would need the same shape anyway. Read-modify-write races are
 * handled optimistically: a commit may carry `checks` on the revisions that were read,
 * and fails with `RevisionConflict` if any of them moved, so the caller re-reads and retries.
 */
export interface StoreEntry {
  key: string;
  value: Buffer;
  /**
   * Revision of the last write of this key, from one counter for the whole store: every commit
   * that writes gets a greater one, so a key's revision never repeats, even after a delete.
   */
  revision: number;
}

export type WriteOp =
  | { kind: 'put'; key: string; value: Buffer }
  | { kind: 'delete'; key: string }
  /** Deletes every key under the prefix (used when a mount or a secret's metadata goes). */
  | { kind: 'deletePrefix'; prefix: string }
  /**
   * Appends an outbox operation in the same atomic action as the writes it describes.
   * `joinWaiting`: for a consumer that acts on the latest state rather than on each payload
   * (sync), an item of the same queue and order key that waits unclaimed already covers this
   * one, whose payload would only be coalesced into it; the driver may then append nothing, so
   * that a hot target keeps one waiting item instead of one per change. A driver may ignore it.
   */
  | { kind: 'enqueue'; queue: string; orderKey: string; payload: string; joinWaiting?: boolean }
  /**
   * Removes unclaimed outbox items by id, for a consumer that reads a batch with
   * `pendingOutbox` and handles it in one atomic action (no lease needed: the items and
   * everything their handling writes go together, or not at all).
   */
  | { kind: 'dequeue'; ids: number[] };

/** `revision: 0` means "the key must not exist". */
export interface RevisionCheck {
  key: string;
  revision: number;
}

export interface OutboxItem {
  id: number;
  queue: string;
  orderKey: string;
  payload: string;
  attempts: number;
  availableAt: number;
  createdAt: number;
  /**
   * With `coalesce`, the newest pending id of the same orderKey at claim time: settling
   * the item as done also settles every item up to it, because the consumer acts on the
   * latest state rather than on each item's payload.
   */
  coalescedUpTo?: number;
}

export type OutboxSettlement =
  /** `upTo`: also settle the coalesced items of the same orderKey up to this id. */
  | { outcome: 'done'; upTo?: number }
  | { outcome: 'retry'; availableAt: number };

export interface Store {
  get(key: string): Promise<StoreEntry | undefined>;
  /** Immediate children of `prefix` (which ends with `/` or is empty); folders end with `/`. */
  list(prefix: string): Promise<string[]>;
  /** Every key under `prefix`, recursively, in key order. */
  scan(prefix: string): Promise<StoreEntry[]>;
  /**
   * Applies every op atomically, or none if a check fails (throws RevisionConflict). Resolves
   * with the revision the commit gave the keys it put (one for the whole commit), or undefined
   * when it put none or the driver does not report it.
   */
  commit(ops: WriteOp[], checks?: RevisionCheck[]): Promise<number | undefined | void>;

  /**
   * Claims up to `limit` due outbox items of a queue for `leaseMs`. Only the oldest
   * unsettled item of each orderKey is claimable, so operations on one target apply in order.
   * Claims left by a crashed worker become claimable again once their lease lapses.
   */
  claimOutbox(
    queue: string,
    owner: string,
    limit: number,
    leaseMs: number,
    now: number,
    opts?: { coalesce?: boolean },
  ): Promise<OutboxItem[]>;
  settleOutbox(id: number, owner: string, settlement: OutboxSettlement): Promise<void>;
  /** Pending (unsettled) outbox items of a queue, oldest first; for status and tests. */
  pendingOutbox(queue: string, limit?: number): Promise<OutboxItem[]>;
  /**
   * Optional: makes the unclaimed items of a queue whose orderKey starts with `orderKeyPrefix`
   * and that are due later than `now` due at `now` (a consumer's reason to wait passed early:
   * sync's destination answers again). Answers how many were released.
   */
  releaseOutbox?(queue: string, orderKeyPrefix: string, now: number): Promise<number>;
  /**
   * Optional: the order keys of a queue's pending items (claimed ones included), each with its
   * item count and when its oldest was enqueued, without reading a payload — what a status view
   * or a metrics scrape needs, at the cost of an index scan rather than a read and decryption of
   * every item. Without it, such views read `pendingOutbox`.
   */
  pendingOutboxKeys?(queue: string): Promise<PendingKey[]>;

  close(): Promise<void>;
}

/** `pendingOutboxKeys` from pending items, for a store without it. */
export function keysOfPending(items: OutboxItem[]): PendingKey[] {
  const byKey = new Map<string, PendingKey>();
  for (const item of items) {
    const known = byKey.get(item.orderKey);
    if (!known) byKey.set(item.orderKey, { orderKey: item.orderKey, items: 1, oldestAt: item.createdAt });
    else {
      known.items += 1;
      known.oldestAt = Math.min(known.oldestAt, item.createdAt);
    }
  }
  return [...byKey.values()];
}

/** One order key of a queue's pending items (`Store.pendingOutboxKeys`). */
export interface PendingKey {
  orderKey: string;
  /** Pending items with this order key. */
  items: number;
  /** When the oldest of them was enqueued (Unix ms, the store clock). */
  oldestAt: number;
}

/**
 * An optional driver capability: a consistent copy of the whole store as stored — values still
 * encrypted by the barrier, the barrier's own keyring and seal configuration included — and the
 * replacement of the whole store by such a copy. The SQLite driver has it; the backup endpoints
 * (`sys/storage/raft/snapshot`) need it.
 */
export interface StoreSnapshots {
  /** Writes a consistent copy of the store to `file` while the store keeps serving. */
  writeSnapshot(file: string): Promise<void>;
  /** Throws, saying why, unless `file` is a copy this driver can restore. Touches nothing. */
  checkSnapshot(file: string): Promise<void>;
  /** Replaces the store's whole contents with the copy in `file`, in one transaction. */
  restoreSnapshot(file: string): Promise<void>;
}

/** Thrown by `commit` when a revision check fails; callers re-read and retry. */
export class RevisionConflict extends Error {
  constructor(public readonly key: string) {
    super(`storage revision conflict on ${key}`);
    this.name = 'RevisionConflict';
  }
}

/**
 * Runs a read-modify-commit function until it commits without a revision conflict.
 * Conflicts only happen under concurrent writes to one key, so a handful of tries is plenty.
 */
export async function withRetry<T>(fn: () => Promise<T>, attempts = 20): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof RevisionConflict) || i >= attempts - 1) throw err;
    }
  }
}
