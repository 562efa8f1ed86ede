import { ForwardingStore } from './forwarding.js';
import type { RevisionCheck, Store, StoreEntry, WriteOp } from './store.js';

/**
 * A read-through cache of decrypted entries for a store only this process writes (the
 * embedded SQLite store): reads of hot entries — KV metadata, tokens, policies — skip the
 * database and the barrier's decryption. Every commit drops the entries it touches.
 *
 * Correctness rests on two rules: a commit invalidates before it returns, and a read only
 * fills the cache if no commit happened while it was in flight (the `epoch` check), so a
 * slow read can never put back a value a concurrent write replaced. A driver shared by
 * several processes (PostgreSQL) must not be wrapped by this.
 */
export class ReadCachingStore extends ForwardingStore {
  private readonly cache = new Map<string, StoreEntry | null>();
  private epoch = 0;

  constructor(
    inner: Store,
    private readonly maxEntries = 10_000,
  ) {
    super(inner);
  }

  override async get(key: string): Promise<StoreEntry | undefined> {
    const hit = this.cache.get(key);
    if (hit !== undefined) {
      // Refresh recency: Map iteration order is insertion order, the oldest goes first.
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit ?? undefined;
    }
    const epoch = this.epoch;
    const entry = await this.inner.get(key);
    if (epoch === this.epoch) {
      this.cache.set(key, entry ?? null);
      if (this.cache.size > this.maxEntries) this.cache.delete(this.cache.keys().next().value!);
    }
    return entry;
  }


  override async commit(ops: WriteOp[], checks?: RevisionCheck[]): Promise<void> {
    this.epoch++;
    try {
      await this.inner.commit(ops, checks);
    } finally {
      this.epoch++;
      for (const op of ops) {
        if (op.kind === 'put' || op.kind === 'delete') this.cache.delete(op.key);
        else if (op.kind === 'deletePrefix') {
          for (const key of this.cache.keys()) if (key.startsWith(op.prefix)) this.cache.delete(key);
        }
      }
    }
  }


  /** Drops every cached entry (on seal: nothing decrypted stays in memory). */
  reset(): void {
    this.epoch++;
    this.cache.clear();
  }

  override close(): Promise<void> {
    this.reset();
    return this.inner.close();
  }
}
