import { keysOfPending, type OutboxItem, type OutboxSettlement, type PendingKey, type RevisionCheck, type Store, type StoreEntry, type WriteOp } from './store.js';

/** A Store that forwards every call to another: the base of decorators that override a few. */
export class ForwardingStore implements Store {
  constructor(protected readonly inner: Store) {}

  get(key: string): Promise<StoreEntry | undefined> {
    return this.inner.get(key);
  }
  list(prefix: string): Promise<string[]> {
    return this.inner.list(prefix);
  }
  scan(prefix: string): Promise<StoreEntry[]> {
    return this.inner.scan(prefix);
  }
  commit(ops: WriteOp[], checks?: RevisionCheck[]): Promise<number | undefined | void> {
    return this.inner.commit(ops, checks);
  }
  claimOutbox(queue: string, owner: string, limit: number, leaseMs: number, now: number, opts?: { coalesce?: boolean }): Promise<OutboxItem[]> {
    return this.inner.claimOutbox(queue, owner, limit, leaseMs, now, opts);
  }
  settleOutbox(id: number, owner: string, settlement: OutboxSettlement): Promise<void> {
    return this.inner.settleOutbox(id, owner, settlement);
  }
  pendingOutbox(queue: string, limit?: number): Promise<OutboxItem[]> {
    return this.inner.pendingOutbox(queue, limit);
  }
  pendingOutboxKeys(queue: string): Promise<PendingKey[]> {
    return this.inner.pendingOutboxKeys ? this.inner.pendingOutboxKeys(queue) : this.inner.pendingOutbox(queue, Number.MAX_SAFE_INTEGER).then(keysOfPending);
  }
  releaseOutbox(queue: string, orderKeyPrefix: string, now: number): Promise<number> {
    return this.inner.releaseOutbox ? this.inner.releaseOutbox(queue, orderKeyPrefix, now) : Promise.resolve(0);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
