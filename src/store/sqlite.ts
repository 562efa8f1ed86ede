import { chmodSync, closeSync, existsSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import { newerSchemaError } from './errors.js';
import { outboxItemOf, type OutboxRow } from './outbox-rows.js';
import {
  RevisionConflict,
  type OutboxItem,
  type OutboxSettlement,
  type PendingKey,
  type RevisionCheck,
  type Store,
  type StoreEntry,
  type StoreSnapshots,
  type WriteOp,
} from './store.js';

/**
 * The SQLite driver of the store port. Longer than 400 lines on purpose: it implements the whole
 * port (atomic commits with revision checks, listing, the outbox's claim, settle and recovery,
 * snapshots) over one connection and one schema, and its statements must agree with that schema.
 */

/**
 * Versioned schema migrations, applied in order and recorded in `PRAGMA user_version`.
 * Never edit a shipped migration: append a new one.
 */
const MIGRATIONS: string[] = [
  `CREATE TABLE entries (
     key TEXT PRIMARY KEY,
     value BLOB NOT NULL,
     revision INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE outbox (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     queue TEXT NOT NULL,
     order_key TEXT NOT NULL,
     payload TEXT NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     available_at INTEGER NOT NULL,
     created_at INTEGER NOT NULL,
     claimed_by TEXT,
     claim_until INTEGER
   );
   CREATE INDEX outbox_order ON outbox (queue, order_key, id);
   CREATE INDEX outbox_due ON outbox (queue, available_at);`,
  // Revisions come from one store-wide counter rather than from each key's own count, so a key
  // deleted and written again never gets back a revision it had (which would let a revision
  // check read before the delete pass). It starts above every revision already stored.
  `CREATE TABLE revision_counter (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL);
   INSERT INTO revision_counter (id, value) SELECT 1, COALESCE(MAX(revision), 0) FROM entries;`,
  // No table changes: the schema version moves because KV metadata entries may now hold earlier
  // versions' data inline (src/kv/layout.ts, `past`), which an older Ferry would read as missing
  // and drop at its next write to the secret. An older Ferry refuses to restore a snapshot whose
  // schema version is newer than it knows, so a snapshot of this store cannot be restored there.
  `SELECT 1;`,
];

/**
 * A whole store as stored — values still encrypted by the barrier, the keyring and seal
 * configuration included — for another driver's snapshots: a PostgreSQL store's snapshot is a
 * SQLite file in this driver's schema, so a snapshot restores on either driver (and so moves a
 * server from one to the other).
 */
export interface StoreCopy {
  entries: StoreEntry[];
  /** Pending outbox items with their ids; claims are not copied (a restored item is unclaimed). */
  outbox: OutboxItem[];
  /** The store-wide revision counter: revisions given after a restore are greater. */
  revisionCounter: number;
}

/** The files SQLite keeps beside a database: its WAL, the WAL index, a rollback journal. */
const COMPANION_SUFFIXES = ['-wal', '-shm', '-journal'];

/**
 * Makes the database file readable and writable by its owner only (0600), creating it so if it
 * does not exist, and tightens the companion files an earlier run left. SQLite creates its WAL,
 * WAL index and journal with the database file's own permissions, so those it creates from now
 * on are 0600 too. Only ciphertext is stored, but the keys, paths and revisions are plaintext,
 * and nobody but the server needs to read them.
 */
function restrictToOwner(path: string): void {
  closeSync(openSync(path, 'a', 0o600));
  chmodSync(path, 0o600);
  for (const suffix of COMPANION_SUFFIXES) if (existsSync(path + suffix)) chmodSync(path + suffix, 0o600);
}

/** The first key after every key that starts with `prefix` (exclusive upper bound). */
function prefixEnd(prefix: string): string | undefined {
  if (prefix === '') return undefined;
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

/**
 * The checks of a commit that its puts can make themselves, by key with the revision expected:
 * a key checked once whose first op in the commit is a put, with no earlier `deletePrefix`
 * covering it (any earlier op on the key would change what the check must see).
 */
function fusableChecks(ops: WriteOp[], checks: RevisionCheck[]): Map<string, number> {
  const untouched = new Map<string, number | null>();
  for (const c of checks) untouched.set(c.key, untouched.has(c.key) ? null : c.revision);
  const fused = new Map<string, number>();
  let prefixes: string[] | undefined;
  for (const op of ops) {
    if (op.kind === 'deletePrefix') (prefixes ??= []).push(op.prefix);
    if (op.kind !== 'put' && op.kind !== 'delete') continue;
    const expected = untouched.get(op.key);
    if (expected === undefined) continue;
    untouched.delete(op.key);
    if (op.kind === 'put' && expected !== null && !prefixes?.some((p) => op.key.startsWith(p))) fused.set(op.key, expected);
  }
  return fused;
}

/** The page size of a new database (see the constructor). */
const PAGE_SIZE = 8192;
/** WAL bytes between automatic checkpoints (see the constructor). */
const WAL_CHECKPOINT_BYTES = 40 * 1024 * 1024;

export interface SqliteStoreOptions {
  /** A file path, or `:memory:` for the dev server. */
  path: string;
  clock?: () => number;
  /** How long to wait for a lock held by another process before failing. */
  busyTimeoutMs?: number;
}


/**
 * The embedded store: SQLite through better-sqlite3 in WAL mode with synchronous=NORMAL
 * (durable across process crashes; a power loss may drop the last transactions, as with
 * Vault's raft defaults). All methods are async to match the interface a network
 * database needs, but each runs one synchronous SQLite transaction.
 */
export class SqliteStore implements Store, StoreSnapshots {
  private readonly db: Database.Database;
  private readonly now: () => number;
  private readonly stmts;
  /** `commit`'s SQLite transaction, prepared once. */
  private readonly commitTransaction: (ops: WriteOp[], checks: RevisionCheck[], now: number) => number | undefined;

  constructor(opts: SqliteStoreOptions) {
    if (opts.path !== ':memory:') restrictToOwner(opts.path);
    this.db = new Database(opts.path, { timeout: opts.busyTimeoutMs ?? 5000 });
    this.now = opts.clock ?? Date.now;
    try {
      // 8 KB pages for a new database (an existing one keeps the size it was made with): a row of
      // a WITHOUT ROWID table stays on its b-tree page up to about 2000 bytes instead of 1000,
      // which a KV secret's metadata entry with its recent versions' data inline (layout.ts)
      // passes at 4 KB; its overflow page made each put of it cost a third more. Must come
      // before WAL mode and the first table.
      this.db.pragma(`page_size = ${PAGE_SIZE}`);
      if (opts.path !== ':memory:') {
        // One process owns the file (the read cache and the claim release on open rely on it):
        // an exclusive lock, taken now and held until close, makes a second server fail at start.
        this.db.pragma('locking_mode = EXCLUSIVE');
        this.db.pragma('journal_mode = WAL');
      }
      this.db.pragma('synchronous = NORMAL');
      // A checkpoint every 40 MiB of WAL (10,240 pages of 4 KB, 5,120 of 8 KB) rather than SQLite's
      // 1,000 pages: it copies each page changed since the last one back to the database file
      // once, however often it changed, and a KV write changes the same few hundred hot pages
      // over and over; the checkpoints' writes and fsyncs were a tenth of a write's CPU.
      // Durability is the same (the WAL is the log either way); the WAL file grows to about
      // 40 MiB before it is reused.
      const pageSize = this.db.pragma('page_size', { simple: true }) as number;
      this.db.pragma(`wal_autocheckpoint = ${Math.round(WAL_CHECKPOINT_BYTES / pageSize)}`);
      this.migrate();
      this.db.exec('BEGIN EXCLUSIVE; COMMIT');
    } catch (err) {
      this.db.close();
      if ((err as { code?: string }).code === 'SQLITE_BUSY') {
        throw new Error(`the database ${opts.path} is in use by another Ferry process`, { cause: err });
      }
      throw err;
    }
    // The embedded store has one writer, this process: claims left in the file were made by a
    // previous run that died, so they are released now rather than after their lease.
    this.db.prepare('UPDATE outbox SET claimed_by = NULL, claim_until = NULL WHERE claimed_by IS NOT NULL').run();
    this.commitTransaction = this.db.transaction((ops: WriteOp[], checks: RevisionCheck[], now: number) => this.applyCommit(ops, checks, now));
    this.stmts = {
      get: this.db.prepare<[string], { key: string; value: Buffer; revision: number }>(
        'SELECT key, value, revision FROM entries WHERE key = ?',
      ),
      rev: this.db.prepare<[string], { revision: number }>('SELECT revision FROM entries WHERE key = ?'),
      nextRevision: this.db.prepare<[], { value: number }>('UPDATE revision_counter SET value = value + 1 WHERE id = 1 RETURNING value'),
      put: this.db.prepare(
        `INSERT INTO entries (key, value, revision) VALUES (?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, revision = excluded.revision`,
      ),
      // A put checked against the revision it replaces (0: the key must not exist); no row changed = conflict.
      putIfRevision: this.db.prepare('UPDATE entries SET value = ?, revision = ? WHERE key = ? AND revision = ?'),
      putNew: this.db.prepare('INSERT INTO entries (key, value, revision) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING'),
      del: this.db.prepare('DELETE FROM entries WHERE key = ?'),
      delRange: this.db.prepare('DELETE FROM entries WHERE key >= ? AND key < ?'),
      delAll: this.db.prepare('DELETE FROM entries'),
      firstFrom: this.db.prepare<[string, string], { key: string }>(
        'SELECT key FROM entries WHERE key >= ? AND key < ? ORDER BY key LIMIT 1',
      ),
      firstFromOpen: this.db.prepare<[string], { key: string }>(
        'SELECT key FROM entries WHERE key >= ? ORDER BY key LIMIT 1',
      ),
      scan: this.db.prepare<[string, string], { key: string; value: Buffer; revision: number }>(
        'SELECT key, value, revision FROM entries WHERE key >= ? AND key < ? ORDER BY key',
      ),
      scanAll: this.db.prepare<[], { key: string; value: Buffer; revision: number }>(
        'SELECT key, value, revision FROM entries ORDER BY key',
      ),
      enqueue: this.db.prepare(
        'INSERT INTO outbox (queue, order_key, payload, available_at, created_at) VALUES (?, ?, ?, ?, ?)',
      ),
      // `joinWaiting`: nothing when an unclaimed item of the order key waits (over the (queue, order_key, id) index).
      enqueueUnlessWaiting: this.db.prepare<[string, string, string, number, number, string, string]>(
        `INSERT INTO outbox (queue, order_key, payload, available_at, created_at) SELECT ?, ?, ?, ?, ?
           WHERE NOT EXISTS (SELECT 1 FROM outbox WHERE queue = ? AND order_key = ? AND claimed_by IS NULL)`,
      ),
      claimable: this.db.prepare<[string, number, number, number], OutboxRow>(
        `SELECT o.id, o.queue, o.order_key, o.payload, o.attempts, o.available_at, o.created_at FROM outbox o
         WHERE o.queue = ? AND o.available_at <= ? AND (o.claim_until IS NULL OR o.claim_until < ?)
           AND o.id = (SELECT MIN(h.id) FROM outbox h WHERE h.queue = o.queue AND h.order_key = o.order_key)
         ORDER BY o.available_at, o.id LIMIT ?`,
      ),
      claim: this.db.prepare(
        'UPDATE outbox SET claimed_by = ?, claim_until = ?, attempts = attempts + 1 WHERE id = ?',
      ),
      settleDone: this.db.prepare('DELETE FROM outbox WHERE id = ? AND claimed_by = ?'),
      // Every id of a `dequeue` op in one statement (the worker settles a whole batch of events at once).
      dequeue: this.db.prepare('DELETE FROM outbox WHERE id IN (SELECT value FROM json_each(?))'),
      settleDoneUpTo: this.db.prepare(
        `DELETE FROM outbox WHERE queue = (SELECT queue FROM outbox WHERE id = ? AND claimed_by = ?)
           AND order_key = (SELECT order_key FROM outbox WHERE id = ?) AND id <= ?`,
      ),
      newest: this.db.prepare<[string, string], { id: number }>(
        'SELECT MAX(id) AS id FROM outbox WHERE queue = ? AND order_key = ?',
      ),
      settleRetry: this.db.prepare(
        'UPDATE outbox SET available_at = ?, claimed_by = NULL, claim_until = NULL WHERE id = ? AND claimed_by = ?',
      ),
      release: this.db.prepare(
        `UPDATE outbox SET available_at = ? WHERE queue = ? AND order_key >= ? AND order_key < ?
           AND available_at > ? AND (claim_until IS NULL OR claim_until < ?)`,
      ),
      // Over the (queue, order_key, id) index; no payload is read.
      pendingKeys: this.db.prepare<[string], { order_key: string; items: number; oldest: number }>(
        'SELECT order_key, COUNT(*) AS items, MIN(created_at) AS oldest FROM outbox WHERE queue = ? GROUP BY order_key',
      ),
      pending: this.db.prepare<[string, number], OutboxRow>(
        `SELECT id, queue, order_key, payload, attempts, available_at, created_at FROM outbox
         WHERE queue = ? ORDER BY id LIMIT ?`,
      ),
    };
  }

  private migrate(): void {
    const current = this.db.pragma('user_version', { simple: true }) as number;
    if (current > MIGRATIONS.length) throw newerSchemaError(current, MIGRATIONS.length);
    for (let v = current; v < MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v]!);
        this.db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }

  async get(key: string): Promise<StoreEntry | undefined> {
    return this.stmts.get.get(key);
  }

  async list(prefix: string): Promise<string[]> {
    const end = prefixEnd(prefix);
    const out: string[] = [];
    // Skip-scan: one indexed lookup per child, jumping over the whole subtree of a folder,
    // so listing a folder does not read every descendant.
    let cursor = prefix;
    for (;;) {
      const row = end === undefined ? this.stmts.firstFromOpen.get(cursor) : this.stmts.firstFrom.get(cursor, end);
      if (!row) break;
      const rest = row.key.slice(prefix.length);
      if (rest === '') {
        cursor = row.key + '\u0000';
        continue;
      }
      const slash = rest.indexOf('/');
      if (slash === -1) {
        out.push(rest);
        cursor = row.key + '\u0000';
      } else {
        const folder = rest.slice(0, slash + 1);
        out.push(folder);
        cursor = prefixEnd(prefix + folder)!;
      }
    }
    return out;
  }

  async scan(prefix: string): Promise<StoreEntry[]> {
    const end = prefixEnd(prefix);
    return end === undefined ? this.stmts.scanAll.all() : this.stmts.scan.all(prefix, end);
  }

  async commit(ops: WriteOp[], checks: RevisionCheck[] = []): Promise<number | undefined> {
    return this.commitTransaction(ops, checks, this.now());
  }

  /** The body of `commit`'s transaction; a failed check throws, which rolls everything back. */
  private applyCommit(ops: WriteOp[], checks: RevisionCheck[], now: number): number | undefined {
    // A check of a key the commit puts before anything else touches it is made by that put
    // itself (a conditional write: one statement instead of a read and a write); the others
    // are read first. Either way every check sees the state before the commit.
    const fused = checks.length > 0 ? fusableChecks(ops, checks) : undefined;
    for (const check of checks) {
      if (fused?.has(check.key)) continue;
      const row = this.stmts.rev.get(check.key);
      if ((row?.revision ?? 0) !== check.revision) throw new RevisionConflict(check.key);
    }
    // Every put of one commit gets the same revision, drawn once, when the commit first writes.
    let revision: number | undefined;
    for (const op of ops) {
      switch (op.kind) {
        case 'put': {
          revision ??= this.stmts.nextRevision.get()!.value;
          const expected = fused?.get(op.key);
          if (expected === undefined) {
            this.stmts.put.run(op.key, op.value, revision);
            break;
          }
          fused!.delete(op.key);
          const written =
            expected === 0
              ? this.stmts.putNew.run(op.key, op.value, revision).changes
              : this.stmts.putIfRevision.run(op.value, revision, op.key, expected).changes;
          if (written !== 1) throw new RevisionConflict(op.key);
          break;
        }
        case 'delete':
          this.stmts.del.run(op.key);
          break;
        case 'deletePrefix': {
          const end = prefixEnd(op.prefix);
          if (end === undefined) this.stmts.delAll.run();
          else this.stmts.delRange.run(op.prefix, end);
          break;
        }
        case 'enqueue':
          if (op.joinWaiting) this.stmts.enqueueUnlessWaiting.run(op.queue, op.orderKey, op.payload, now, now, op.queue, op.orderKey);
          else this.stmts.enqueue.run(op.queue, op.orderKey, op.payload, now, now);
          break;
        case 'dequeue':
          if (op.ids.length > 0) this.stmts.dequeue.run(JSON.stringify(op.ids));
          break;
      }
    }
    return revision;
  }

  async claimOutbox(
    queue: string,
    owner: string,
    limit: number,
    leaseMs: number,
    now: number,
    opts: { coalesce?: boolean } = {},
  ): Promise<OutboxItem[]> {
    return this.db.transaction(() => {
      const rows = this.stmts.claimable.all(queue, now, now, limit);
      for (const row of rows) this.stmts.claim.run(owner, now + leaseMs, row.id);
      return rows.map((r) => ({
        ...(opts.coalesce ? { coalescedUpTo: this.stmts.newest.get(queue, r.order_key)!.id } : {}),
        id: r.id,
        queue: r.queue,
        orderKey: r.order_key,
        payload: r.payload,
        attempts: r.attempts + 1,
        availableAt: r.available_at,
        createdAt: r.created_at,
      }));
    })();
  }

  async settleOutbox(id: number, owner: string, settlement: OutboxSettlement): Promise<void> {
    // Final failures are recorded by the caller on the domain object (e.g. the association) and
    // settled as done, so that the row no longer holds back later operations on the same target.
    if (settlement.outcome === 'retry') this.stmts.settleRetry.run(settlement.availableAt, id, owner);
    else if (settlement.upTo !== undefined) this.stmts.settleDoneUpTo.run(id, owner, id, settlement.upTo);
    else this.stmts.settleDone.run(id, owner);
  }

  async releaseOutbox(queue: string, orderKeyPrefix: string, now: number): Promise<number> {
    const end = prefixEnd(orderKeyPrefix) ?? '\uffff';
    return this.stmts.release.run(now, queue, orderKeyPrefix, end, now, now).changes;
  }

  async pendingOutboxKeys(queue: string): Promise<PendingKey[]> {
    return this.stmts.pendingKeys.all(queue).map((r) => ({ orderKey: r.order_key, items: r.items, oldestAt: r.oldest }));
  }

  async pendingOutbox(queue: string, limit = 1000): Promise<OutboxItem[]> {
    return this.stmts.pending.all(queue, limit).map(outboxItemOf);
  }

  /** SQLite's online backup API: consistent, and commits made meanwhile through this connection are copied too. */
  async writeSnapshot(file: string): Promise<void> {
    await this.db.backup(file);
  }

  async checkSnapshot(file: string): Promise<void> {
    SqliteStore.checkCopy(file);
  }

  /** Throws, saying why, unless `file` is a SQLite store of Ferry's with an initialised server in it. Touches nothing. */
  static checkCopy(file: string): void {
    let copy: Database.Database;
    try {
      copy = new Database(file, { readonly: true, fileMustExist: true });
    } catch (err) {
      throw new Error(`not a SQLite database: ${(err as Error).message}`, { cause: err });
    }
    try {
      const check = copy.pragma('quick_check', { simple: true });
      if (check !== 'ok') throw new Error(`the database is damaged: ${String(check)}`);
      const version = copy.pragma('user_version', { simple: true }) as number;
      if (version < 1 || version > MIGRATIONS.length) {
        throw new Error(`schema version ${version} is not one this Ferry knows (1 to ${MIGRATIONS.length})`);
      }
      const keys = copy.prepare<[], { key: string }>("SELECT key FROM entries WHERE key IN ('barrier/seal-config', 'barrier/keyring')").all();
      if (keys.length !== 2) throw new Error('it holds no initialised Ferry server (no seal configuration or keyring)');
    } catch (err) {
      throw new Error(`not a Ferry store: ${(err as Error).message}`, { cause: err });
    } finally {
      copy.close();
    }
  }

  /**
   * Brings the copy's schema up to date (it is a private temporary file), then replaces every
   * entry and outbox item in one transaction. Revisions keep growing: the counter never goes
   * back, so a revision check read before the restore cannot pass after it.
   */
  async restoreSnapshot(file: string): Promise<void> {
    await this.checkSnapshot(file);
    new SqliteStore({ path: file }).db.close();
    this.db.prepare('ATTACH DATABASE ? AS snapshot').run(file);
    try {
      this.db.transaction(() => {
        this.db.exec(`
          DELETE FROM entries;
          INSERT INTO entries (key, value, revision) SELECT key, value, revision FROM snapshot.entries;
          DELETE FROM outbox;
          INSERT INTO outbox (id, queue, order_key, payload, attempts, available_at, created_at)
            SELECT id, queue, order_key, payload, attempts, available_at, created_at FROM snapshot.outbox;
          UPDATE revision_counter SET value = MAX(value, (SELECT value FROM snapshot.revision_counter WHERE id = 1),
            (SELECT COALESCE(MAX(revision), 0) FROM entries)) WHERE id = 1;`);
      })();
    } finally {
      this.db.exec('DETACH DATABASE snapshot');
    }
  }

  /** Writes `copy` into a new store file at `file` (this driver's latest schema), in one transaction. */
  static writeCopy(file: string, copy: StoreCopy): void {
    const store = new SqliteStore({ path: file });
    try {
      store.db.transaction(() => {
        const entry = store.db.prepare('INSERT INTO entries (key, value, revision) VALUES (?, ?, ?)');
        for (const e of copy.entries) entry.run(e.key, e.value, e.revision);
        const item = store.db.prepare(
          'INSERT INTO outbox (id, queue, order_key, payload, attempts, available_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        );
        for (const i of copy.outbox) item.run(i.id, i.queue, i.orderKey, i.payload, i.attempts, i.availableAt, i.createdAt);
        store.db.prepare('UPDATE revision_counter SET value = ? WHERE id = 1').run(copy.revisionCounter);
      })();
    } finally {
      store.db.close();
    }
  }

  /**
   * Reads the whole store in `file` (a copy `checkSnapshot` accepted; a private temporary file,
   * whose schema is brought up to date first).
   */
  static readCopy(file: string): StoreCopy {
    const store = new SqliteStore({ path: file });
    try {
      return {
        entries: store.stmts.scanAll.all(),
        outbox: store.db
          .prepare<[], OutboxRow>('SELECT id, queue, order_key, payload, attempts, available_at, created_at FROM outbox ORDER BY id')
          .all()
          .map(outboxItemOf),
        revisionCounter: store.db.prepare<[], { value: number }>('SELECT value FROM revision_counter WHERE id = 1').get()!.value,
      };
    } finally {
      store.db.close();
    }
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
