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
 * the next write of that secret reads again): the value is the one just written, with the
 * revision the store reports it gave the commit's puts (nothing is kept when it reports none).
 */
export class ReadCachingStore extends ForwardingStore {
  /**
   * Two generations bound the cache and keep what is in use, without reordering anything
   * on a hit: entries go into `young`; when it holds half the bound it becomes `old` (the
   * previous `old` is dropped), and a hit in `old` moves the entry back to `young`. An entry
   * therefore survives as long as it is read at least once per generation.
   */
  private young = new Map<string, StoreEntry | null>();
  private old = new Map<string, StoreEntry | null>();
  private readonly generationSize: number;
  private epoch = 0;
  /** Commits started so far, and the latest-started of those finished (see `commit`). */
  private commitsStarted = 0;
  private latestFinished = 0;

  constructor(inner: Store, maxEntries = 10_000) {
    super(inner);
    this.generationSize = Math.max(1, Math.floor(maxEntries / 2));
  }

  override async get(key: string): Promise<StoreEntry | undefined> {
    let hit = this.young.get(key);
    if (hit === undefined) {
      hit = this.old.get(key);
      if (hit !== undefined) {
        this.old.delete(key);
        this.remember(key, hit);
      }
    }
    if (hit !== undefined) return hit ?? undefined;
    const epoch = this.epoch;
    const entry = await this.inner.get(key);
    if (epoch === this.epoch) this.remember(key, entry ?? null);
    return entry;
  }

  private remember(key: string, entry: StoreEntry | null): void {
    this.young.set(key, entry);
    if (this.young.size >= this.generationSize) {
      this.old = this.young;
      this.young = new Map();
    }
  }

  private forget(key: string): void {
    this.young.delete(key);
    this.old.delete(key);
  }


  override async commit(ops: WriteOp[], checks?: RevisionCheck[]): Promise<number | undefined | void> {
    this.epoch++;
    const started = ++this.commitsStarted;
    let revision: number | undefined | void;
    try {
      revision = await this.inner.commit(ops, checks);
    } finally {
      this.epoch++;
      for (const op of ops) {
        if (op.kind === 'put' || op.kind === 'delete') this.forget(op.key);
        else if (op.kind === 'deletePrefix') {
          for (const generation of [this.young, this.old]) {
            for (const key of generation.keys()) if (key.startsWith(op.prefix)) generation.delete(key);
          }
        }
      }
    }
    // A commit started after this one reached the database after it; if its continuation
    // already ran (awaits need not resume in call order), what this one wrote may be stale.
    const overtaken = this.latestFinished > started;
    this.latestFinished = Math.max(this.latestFinished, started);
    if (!overtaken && typeof revision === 'number' && checks && checks.length > 0) this.keepWritten(ops, checks, revision);
    return revision;
  }

  /** After a successful commit: caches each checked entry the commit put exactly once and nothing else touched. */
  private keepWritten(ops: WriteOp[], checks: RevisionCheck[], revision: number): void {
    const puts = new Map<string, Buffer | null>();
    for (const op of ops) {
      if (op.kind === 'put') puts.set(op.key, puts.has(op.key) ? null : op.value);
      else if (op.kind === 'delete') puts.set(op.key, null);
      else if (op.kind === 'deletePrefix') return;
    }
    for (const check of checks) {
      const value = puts.get(check.key);
      if (!value) continue;
      this.remember(check.key, { key: check.key, value, revision });
    }
  }


  /** Drops every cached entry (on seal: nothing decrypted stays in memory). */
  reset(): void {
    this.epoch++;
    this.young.clear();
    this.old.clear();
  }

  override close(): Promise<void> {
    this.reset();
    return this.inner.close();
  }
}
