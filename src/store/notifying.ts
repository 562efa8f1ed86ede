import type { OutboxItem, OutboxSettlement, RevisionCheck, Store, StoreEntry, WriteOp } from './store.js';

/**
 * A Store decorator that tells listeners when a commit appended outbox operations, so the
 * sync worker wakes at once instead of waiting for its next poll. Polling stays as the
 * fallback (and is what another node sharing a database would rely on).
 */
export class NotifyingStore implements Store {
  private readonly listeners = new Set<(queues: Set<string>) => void>();

  constructor(private readonly inner: Store) {}

  onEnqueue(listener: (queues: Set<string>) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get(key: string): Promise<StoreEntry | undefined> {
    return this.inner.get(key);
  }
  list(prefix: string): Promise<string[]> {
    return this.inner.list(prefix);
  }
  scan(prefix: string): Promise<StoreEntry[]> {
    return this.inner.scan(prefix);
  }
  async commit(ops: WriteOp[], checks?: RevisionCheck[]): Promise<void> {
    await this.inner.commit(ops, checks);
    const queues = new Set(ops.filter((o) => o.kind === 'enqueue').map((o) => (o as { queue: string }).queue));
    if (queues.size > 0) for (const l of this.listeners) l(queues);
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
  close(): Promise<void> {
    return this.inner.close();
  }
}
