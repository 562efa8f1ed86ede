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
 *
 * A commit also keeps what it wrote to an entry it checked (a KV secret's metadata, which
 * the next write of that secret reads again): the value is the one just written, and the
 * revision follows from the check, since the SQLite store counts a key's writes (a put makes
 * the revision the checked one + 1; `read-cache.test.ts` holds it to that).
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
    if (checks && checks.length > 0) this.keepWritten(ops, checks);
  }

  /** After a successful commit: caches each checked entry the commit put exactly once and nothing else touched. */
  private keepWritten(ops: WriteOp[], checks: RevisionCheck[]): void {
    const puts = new Map<string, Buffer | null>();
    for (const op of ops) {
      if (op.kind === 'put') puts.set(op.key, puts.has(op.key) ? null : op.value);
      else if (op.kind === 'delete') puts.set(op.key, null);
      else if (op.kind === 'deletePrefix') return;
    }
    for (const check of checks) {
      const value = puts.get(check.key);
      if (!value) continue;
      this.cache.set(check.key, { key: check.key, value, revision: check.revision + 1 });
      if (this.cache.size > this.maxEntries) this.cache.delete(this.cache.keys().next().value!);
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
