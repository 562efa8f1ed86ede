import pg from 'pg';
import { newerSchemaError, storeErrors } from './errors.js';
import { outboxItemOf, type OutboxRow } from './outbox-rows.js';
import { PG_MIGRATIONS } from './postgres-migrations.js';
import { SqliteStore, type StoreCopy } from './sqlite.js';
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
 * The PostgreSQL driver of the store port. Longer than 400 lines on purpose: it implements the
 * whole port (atomic commits with revision checks, listing, the outbox's claim, settle and
 * recovery, fencing) over one pool and one schema, and its statements must agree with that schema.
 */

export interface PostgresStoreOptions {
  /** A libpq-style URL (`postgres://user:password@host:5432/database?sslmode=require`). */
  connectionUrl: string;
  /** Vault's `max_parallel`: the most connections (and so concurrent statements) the pool opens. */
  maxParallel?: number;
  /** Stamps enqueued outbox items (`createdAt`, the first `availableAt`), as the SQLite driver's clock does. */
  clock?: () => number;
  /** How long a request waits for a connection (to open one, or for a free one) before failing with a 503. */
  connectTimeoutMs?: number;
  /** How long one statement may take before the request fails with a 503 and the connection is dropped. */
  queryTimeoutMs?: number;
  /** Told about errors of idle pooled connections (a server restart closes them); they are dropped and replaced. */
  onIdleError?: (err: Error) => void;
}

/** Vault's `max_parallel` default is 128; see `PostgresStore.open` for why Ferry's is lower. */
export const DEFAULT_MAX_PARALLEL = 16;

/** Serialises the migrations of nodes starting together on one database (an arbitrary constant: "ferry" in ASCII). */
const MIGRATION_LOCK = 0x6665727279;

/** PostgreSQL's codes for errors that mean "try again later": the server or the connection is going or gone. */
const UNAVAILABLE_SQLSTATES = new Set([
  '57P01', // admin_shutdown: the server is stopping
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up or in recovery
  '53300', // too_many_connections
  '25006', // read_only_sql_transaction: a standby server (a failover in progress)
  '57014', // query_canceled (statement_timeout set on the server)
]);
const UNAVAILABLE_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ENOENT']);
/** pg's own errors carry no code, only these messages. */
const UNAVAILABLE_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|Connection ended|not queryable/i;

/** Whether `err` means the database is out of reach (a 503 to the client), not a bug or a constraint. */
export function isUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  if (typeof e?.code === 'string' && (UNAVAILABLE_SQLSTATES.has(e.code) || e.code.startsWith('08') || UNAVAILABLE_NODE_CODES.has(e.code))) return true;
  return typeof e?.message === 'string' && UNAVAILABLE_MESSAGES.test(e.message);
}

/** Deadlock or serialisation failure: the statement rolled back entirely and may simply run again. */
const RETRYABLE_SQLSTATES = new Set(['40P01', '40001']);

/** The first key after every key that starts with `prefix` (exclusive upper bound), by code point; undefined for ''. */
function prefixEnd(prefix: string): string | undefined {
  if (prefix === '') return undefined;
  const points = Array.from(prefix);
  const last = points.pop()!.codePointAt(0)!;
  // The next code point, skipping the surrogate range (not characters: PostgreSQL cannot store them).
  const next = last + 1 === 0xd800 ? 0xe000 : last + 1;
  if (next > 0x10ffff) return prefixEnd(points.join(''));
  return points.join('') + String.fromCodePoint(next);
}


/** Each statement once, named so that every connection prepares it on first use and then only binds. */
const SQL = {
  get: 'SELECT key, value, revision FROM ferry_entries WHERE key = $1',
  scan: 'SELECT key, value, revision FROM ferry_entries WHERE key >= $1 COLLATE "C" AND key < $2 COLLATE "C" ORDER BY key',
  scanOpen: 'SELECT key, value, revision FROM ferry_entries WHERE key >= $1 COLLATE "C" ORDER BY key',
  // A loose index scan in one statement: each step jumps to the first key after the previous
  // child, over a folder's whole subtree (after `<folder>/` comes `<folder>0`), so listing reads
  // one row per child, not every descendant.
  list: listSql(true),
  listOpen: listSql(false),
  commit: 'SELECT ferry_commit($1::jsonb, $2::jsonb, $3::bigint) AS revision',
  // Fenced ($5, the node's term): the term row is read FOR SHARE, so a node taking over (which
  // bumps it) waits for claims in flight, and a claim that waited reads the new term and takes nothing.
  claim: `WITH fence AS (SELECT term FROM ferry_leader_term WHERE id = 1 AND $5::bigint IS NOT NULL FOR SHARE),
    due AS (
      SELECT o.id FROM ferry_outbox o
      WHERE o.queue = $1 AND o.available_at <= $2 AND (o.claim_until IS NULL OR o.claim_until < $2)
        AND NOT EXISTS (SELECT 1 FROM ferry_outbox h WHERE h.queue = o.queue AND h.order_key = o.order_key AND h.id < o.id)
        AND ($5::bigint IS NULL OR (SELECT term FROM fence) = $5::bigint)
      ORDER BY o.available_at, o.id
      LIMIT $3
      FOR UPDATE OF o SKIP LOCKED)
    UPDATE ferry_outbox t SET claimed_by = $4, claim_until = $6, claim_term = $5, attempts = t.attempts + 1
    FROM due WHERE t.id = due.id
    RETURNING t.id, t.queue, t.order_key, t.payload, t.attempts, t.available_at, t.created_at,
      CASE WHEN $7::boolean THEN (SELECT max(h.id) FROM ferry_outbox h WHERE h.queue = t.queue AND h.order_key = t.order_key) END AS newest`,
  settleDone: 'DELETE FROM ferry_outbox WHERE id = $1 AND claimed_by = $2',
  settleDoneUpTo: `DELETE FROM ferry_outbox d USING ferry_outbox c
    WHERE c.id = $1 AND c.claimed_by = $2 AND d.queue = c.queue AND d.order_key = c.order_key AND d.id <= $3`,
  settleRetry: 'UPDATE ferry_outbox SET available_at = $1, claimed_by = NULL, claim_until = NULL, claim_term = NULL WHERE id = $2 AND claimed_by = $3',
  release: `UPDATE ferry_outbox SET available_at = $1 WHERE queue = $2 AND order_key >= $3 COLLATE "C" AND order_key < $4 COLLATE "C"
    AND available_at > $1 AND (claim_until IS NULL OR claim_until < $1)`,
  releaseOpen: `UPDATE ferry_outbox SET available_at = $1 WHERE queue = $2
    AND available_at > $1 AND (claim_until IS NULL OR claim_until < $1)`,
  releaseStaleTerms: `UPDATE ferry_outbox SET claimed_by = NULL, claim_until = NULL, claim_term = NULL
    WHERE claimed_by IS NOT NULL AND (claim_term IS NULL OR claim_term < $1)`,
  pending: 'SELECT id, queue, order_key, payload, attempts, available_at, created_at FROM ferry_outbox WHERE queue = $1 ORDER BY id LIMIT $2',
  pendingKeys: 'SELECT order_key, count(*)::integer AS items, min(created_at) AS oldest FROM ferry_outbox WHERE queue = $1 GROUP BY order_key',
} as const;

function listSql(bounded: boolean): string {
  const below = (col: string) => (bounded ? ` AND ${col} < $2::text COLLATE "C"` : '');
  // The name after the prefix, and where its first slash is; substr and strpos count characters,
  // so the folder is cut where JavaScript cuts it.
  const rest = 'substr(w.key, length($1::text) + 1)';
  return `WITH RECURSIVE walk(key) AS (
      (SELECT key FROM ferry_entries WHERE key >= $1::text COLLATE "C"${below('key')} ORDER BY key LIMIT 1)
      UNION ALL
      SELECT (SELECT e.key FROM ferry_entries e
              WHERE e.key > w.key AND e.key >= (CASE WHEN strpos(${rest}, '/') = 0 THEN w.key
                ELSE $1::text || left(${rest}, strpos(${rest}, '/') - 1) || '0' END) COLLATE "C"${below('e.key')}
              ORDER BY e.key LIMIT 1)
      FROM walk w WHERE w.key IS NOT NULL)
    SELECT key FROM walk WHERE key IS NOT NULL`;
}

/** bigint columns (revisions, ids, times) as numbers: all stay far below 2^53. */
const INT8_OID = 20;
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/**
 * Keys as stored. PostgreSQL's text cannot hold U+0000, which a key may (a KV path with `%00`), so
 * U+0000 is stored as U+0001 U+0001 and U+0001 as U+0001 U+0002: a prefix code that keeps the
 * order of keys and of their prefixes (both are below every other character, in the same order),
 * so ranges, prefixes and the list's folder jumps work on stored keys unchanged. Other keys, all
 * of Ferry's in practice, are stored as they are.
 */
export function storedKey(key: string): string {
  if (!key.includes('\u0000') && !key.includes('\u0001')) return key;
  return key.replaceAll('\u0001', '\u0001\u0002').replaceAll('\u0000', '\u0001\u0001');
}

/** The key a stored key stands for (`storedKey`'s inverse). */
export function keyOf(stored: string): string {
  if (!stored.includes('\u0001')) return stored;
  let out = '';
  for (let i = 0; i < stored.length; i++) {
    const c = stored[i]!;
    // U+0001 only ever starts a pair: U+0001 U+0001 is U+0000, U+0001 U+0002 is U+0001.
    if (c === '\u0001') out += stored[++i] === '\u0001' ? '\u0000' : '\u0001';
    else out += c;
  }
  return out;
}

const entryOf = (r: StoreEntry): StoreEntry => ({ key: keyOf(r.key), value: r.value, revision: r.revision });
const itemOf = (r: OutboxRow): OutboxItem => ({ ...outboxItemOf(r), orderKey: keyOf(r.order_key) });

/** A commit op as `ferry_commit` reads it; keys as stored, values as base64 inside the JSON. */
function encodeOp(op: WriteOp): Record<string, unknown> {
  switch (op.kind) {
    case 'put':
      if (!Buffer.isBuffer(op.value)) throw new TypeError(`store put of ${op.key}: the value is not a Buffer`);
      return { k: 'put', key: storedKey(op.key), v: op.value.toString('base64') };
    case 'delete':
      return { k: 'delete', key: storedKey(op.key) };
    case 'deletePrefix': {
      const end = prefixEnd(op.prefix);
      return { k: 'deletePrefix', prefix: storedKey(op.prefix), end: end === undefined ? null : storedKey(end) };
    }
    case 'enqueue':
      return { k: 'enqueue', queue: op.queue, orderKey: storedKey(op.orderKey), payload: op.payload };
    case 'dequeue':
      return { k: 'dequeue', ids: op.ids };
  }
}

/**
 * The store on PostgreSQL (the `pg` package): for several Ferry nodes sharing one database.
 *
 * Every method of the port is one statement in its own transaction, so no transaction is ever
 * held open across an await of anything else. A commit is one call of the `ferry_commit` function (its migration
 * says how it checks and orders), which makes it one round trip whatever it holds.
 *
 * Nothing in this process is assumed to be the only writer: there is no read cache here, claims
 * are never released on open (another node may hold them; leases and the HA term do that), and
 * migrations take an advisory lock. Errors that mean the database is out of reach become the
 * storage-unavailable error (a 503); a deadlock or serialisation failure, which rolled the
 * statement back, is retried.
 */
export class PostgresStore implements Store, StoreSnapshots {
  private readonly pool: pg.Pool;
  private readonly now: () => number;
  private closed = false;
  /** The HA leader term this node's claims are made under (`fenceClaims`); none without HA. */
  private claimTerm: number | null = null;

  private constructor(opts: PostgresStoreOptions) {
    this.now = opts.clock ?? Date.now;
    this.pool = new pg.Pool({
      connectionString: opts.connectionUrl,
      max: opts.maxParallel ?? DEFAULT_MAX_PARALLEL,
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 5000,
      query_timeout: opts.queryTimeoutMs ?? 30_000,
      idleTimeoutMillis: 30_000,
      keepAlive: true,
      application_name: 'ferry',
      types,
    });
    // An idle connection the server closed (a restart, a failover) errors outside any query: the
    // pool drops it; without a listener the error would end the process.
    this.pool.on('error', (err) => opts.onIdleError?.(err));
    // A connection that dies while checked out (under a statement) also emits 'error', and the
    // pool listens only to idle ones: without this listener a restart of PostgreSQL under load
    // would end the process. The statement itself is rejected with the same error, and handled.
    this.pool.on('connect', (client) => client.on('error', () => undefined));
  }

  /**
   * Connects and brings the schema up to date (versioned migrations under an advisory lock, so
   * nodes starting together migrate once). Vault's `max_parallel` defaults to 128; Ferry's to 16,
   * since one Node.js process gains nothing from more and three nodes at 128 would exceed a
   * default PostgreSQL's 100 connections.
   */
  static async open(opts: PostgresStoreOptions): Promise<PostgresStore> {
    const store = new PostgresStore(opts);
    try {
      await store.migrate();
    } catch (err) {
      await store.pool.end().catch(() => undefined);
      // Said in full at start: the operator needs the reason (refused, authentication, TLS, …).
      const root = (err as { code?: string }).code === storeErrors.unavailable().code ? (err as Error).cause : err;
      const reason = root instanceof Error ? root.message || (root as { code?: string }).code || root.name : String(root);
      throw new Error(`cannot open the PostgreSQL store: ${reason}`, { cause: err });
    }
    return store;
  }

  private async migrate(): Promise<void> {
    await this.inTransaction('BEGIN', async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      // Created only when absent: CREATE TABLE IF NOT EXISTS needs CREATE on the schema even when
      // the table exists, and a start with nothing to migrate needs only reads and writes.
      const { rows: found } = await client.query<{ present: boolean }>("SELECT to_regclass('ferry_schema') IS NOT NULL AS present");
      if (!found[0]!.present) await client.query('CREATE TABLE ferry_schema (version integer NOT NULL)');
      const { rows } = await client.query<{ version: number }>('SELECT version FROM ferry_schema');
      const current = rows[0]?.version ?? 0;
      if (current > PG_MIGRATIONS.length) throw newerSchemaError(current, PG_MIGRATIONS.length);
      for (let v = current; v < PG_MIGRATIONS.length; v++) await client.query(PG_MIGRATIONS[v]!);
      if (rows.length === 0) await client.query('INSERT INTO ferry_schema (version) VALUES ($1)', [PG_MIGRATIONS.length]);
      else await client.query('UPDATE ferry_schema SET version = $1', [PG_MIGRATIONS.length]);
    });
  }

  /**
   * Runs `fn` in one transaction on one pooled connection, for the few actions of several
   * statements (migrations, snapshots), none of which awaits anything but its statements.
   */
  private async inTransaction<T>(begin: string, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    if (this.closed) throw new Error('the PostgreSQL store is closed');
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw storeErrors.unavailable(err);
    }
    try {
      await client.query(begin);
      const result = await fn(client);
      await client.query('COMMIT');
      client.release();
      return result;
    } catch (err) {
      const unavailable = isUnavailable(err);
      if (!unavailable) await client.query('ROLLBACK').catch(() => undefined);
      // A connection in an unknown state is not put back.
      client.release(unavailable ? (err as Error) : undefined);
      throw unavailable ? storeErrors.unavailable(err) : err;
    }
  }

  /**
   * Runs one statement on a pooled connection. A connection that cannot be had, or that fails
   * under the statement, means the database is out of reach: the storage-unavailable error. Only
   * `idempotent` statements (reads) are tried once more on a fresh connection when the one they
   * got had died idle (a restart drops every pooled connection at once); a commit whose
   * connection failed may have been applied, so it is not sent again.
   */
  private async query<R extends pg.QueryResultRow>(name: keyof typeof SQL, values: unknown[], idempotent: boolean): Promise<pg.QueryResult<R>> {
    for (let attempt = 0; ; attempt++) {
      if (this.closed) throw new Error('the PostgreSQL store is closed');
      let client: pg.PoolClient;
      try {
        client = await this.pool.connect();
      } catch (err) {
        if (this.closed) throw new Error('the PostgreSQL store is closed', { cause: err });
        throw storeErrors.unavailable(err);
      }
      try {
        const result = await client.query<R>({ name, text: SQL[name], values });
        client.release();
        return result;
      } catch (err) {
        const unavailable = isUnavailable(err);
        client.release(unavailable ? (err as Error) : undefined);
        const code = (err as { code?: string }).code;
        if (code !== undefined && RETRYABLE_SQLSTATES.has(code) && attempt < 10) continue;
        if (unavailable) {
          if (idempotent && attempt === 0) continue;
          throw storeErrors.unavailable(err);
        }
        throw err;
      }
    }
  }

  async get(key: string): Promise<StoreEntry | undefined> {
    const { rows } = await this.query<StoreEntry>('get', [storedKey(key)], true);
    return rows[0] && entryOf(rows[0]);
  }

  async list(prefix: string): Promise<string[]> {
    const end = prefixEnd(prefix);
    const { rows } =
      end === undefined
        ? await this.query<{ key: string }>('listOpen', [storedKey(prefix)], true)
        : await this.query<{ key: string }>('list', [storedKey(prefix), storedKey(end)], true);
    const out: string[] = [];
    for (const row of rows) {
      const rest = keyOf(row.key).slice(prefix.length);
      if (rest === '') continue;
      const slash = rest.indexOf('/');
      out.push(slash === -1 ? rest : rest.slice(0, slash + 1));
    }
    return out;
  }

  async scan(prefix: string): Promise<StoreEntry[]> {
    const end = prefixEnd(prefix);
    const { rows } =
      end === undefined
        ? await this.query<StoreEntry>('scanOpen', [storedKey(prefix)], true)
        : await this.query<StoreEntry>('scan', [storedKey(prefix), storedKey(end)], true);
    return rows.map(entryOf);
  }

  async commit(ops: WriteOp[], checks: RevisionCheck[] = []): Promise<number | undefined> {
    const encoded = JSON.stringify(ops.map(encodeOp));
    const checked = JSON.stringify(checks.map((c) => ({ key: storedKey(c.key), revision: c.revision })));
    try {
      const { rows } = await this.query<{ revision: number | null }>('commit', [encoded, checked, this.now()], false);
      return rows[0]?.revision ?? undefined;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'FR001') throw new RevisionConflict(keyOf((err as { detail?: string }).detail ?? ''));
      // program_limit_exceeded: a key (or order key) too long for its index; nothing was written.
      if (code === '54000') throw storeErrors.keyTooLong(err);
      throw err;
    }
  }

  async claimOutbox(queue: string, owner: string, limit: number, leaseMs: number, now: number, opts: { coalesce?: boolean } = {}): Promise<OutboxItem[]> {
    const { rows } = await this.query<OutboxRow & { newest: number | null }>('claim', [queue, now, limit, owner, this.claimTerm, now + leaseMs, opts.coalesce === true], false);
    // UPDATE … RETURNING keeps no order: the earliest due first, as the claim picked them.
    rows.sort((a, b) => a.available_at - b.available_at || a.id - b.id);
    return rows.map((r) => ({ ...(opts.coalesce ? { coalescedUpTo: r.newest! } : {}), ...itemOf(r) }));
  }

  async settleOutbox(id: number, owner: string, settlement: OutboxSettlement): Promise<void> {
    if (settlement.outcome === 'retry') await this.query('settleRetry', [settlement.availableAt, id, owner], false);
    else if (settlement.upTo !== undefined) await this.query('settleDoneUpTo', [id, owner, settlement.upTo], false);
    else await this.query('settleDone', [id, owner], false);
  }

  async releaseOutbox(queue: string, orderKeyPrefix: string, now: number): Promise<number> {
    const end = prefixEnd(orderKeyPrefix);
    const result =
      end === undefined
        ? await this.query('releaseOpen', [now, queue], false)
        : await this.query('release', [now, queue, storedKey(orderKeyPrefix), storedKey(end)], false);
    return result.rowCount ?? 0;
  }

  async pendingOutboxKeys(queue: string): Promise<PendingKey[]> {
    const { rows } = await this.query<{ order_key: string; items: number; oldest: number }>('pendingKeys', [queue], true);
    return rows.map((r) => ({ orderKey: keyOf(r.order_key), items: r.items, oldestAt: r.oldest }));
  }

  async pendingOutbox(queue: string, limit = 1000): Promise<OutboxItem[]> {
    const { rows } = await this.query<OutboxRow>('pending', [queue, limit], true);
    return rows.map(itemOf);
  }

  /**
   * HA: from now on this node claims outbox items only while `term` is the database's leader term
   * (`ferry_leader_term`, which the node taking over bumps), so a deposed node that has not yet
   * noticed cannot claim anything; and the claims of earlier terms — a dead or deposed active
   * node's — are released at once rather than when their leases lapse (that node's late
   * settlements are then void: they name a claim it no longer holds). `null` lifts the fence.
   * Answers how many claims were released.
   */
  async fenceClaims(term: number | null): Promise<number> {
    this.claimTerm = term;
    if (term === null) return 0;
    return (await this.query('releaseStaleTerms', [term], false)).rowCount ?? 0;
  }

  /**
   * A snapshot of a PostgreSQL store is a SQLite store file (the SQLite driver's schema), read in
   * one repeatable-read transaction — consistent while writes go on — so that a snapshot restores
   * on either driver. The whole store passes through memory once.
   */
  async writeSnapshot(file: string): Promise<void> {
    const copy = await this.inTransaction<StoreCopy>('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', async (client) => ({
      entries: (await client.query<StoreEntry>('SELECT key, value, revision FROM ferry_entries ORDER BY key')).rows.map(entryOf),
      outbox: (await client.query<OutboxRow>('SELECT id, queue, order_key, payload, attempts, available_at, created_at FROM ferry_outbox ORDER BY id')).rows.map(itemOf),
      revisionCounter: (await client.query<{ value: number }>('SELECT value FROM ferry_revision_counter WHERE id = 1')).rows[0]!.value,
    }));
    SqliteStore.writeCopy(file, copy);
  }

  async checkSnapshot(file: string): Promise<void> {
    SqliteStore.checkCopy(file);
  }

  /**
   * Replaces every entry and outbox item with the copy's in one transaction. Writers wait for it
   * (it takes the revision counter, the first lock of every writing commit, then the tables);
   * readers go on until it commits. Revisions and outbox ids keep growing: neither counter goes
   * back, so a revision check read before the restore cannot pass after it.
   */
  async restoreSnapshot(file: string): Promise<void> {
    await this.checkSnapshot(file);
    const copy = SqliteStore.readCopy(file);
    await this.inTransaction('BEGIN', async (client) => {
      await client.query('SELECT value FROM ferry_revision_counter WHERE id = 1 FOR UPDATE');
      await client.query('LOCK TABLE ferry_entries, ferry_outbox IN EXCLUSIVE MODE');
      await client.query('DELETE FROM ferry_entries');
      for (let i = 0; i < copy.entries.length; i += 1000) {
        const batch = copy.entries.slice(i, i + 1000);
        await client.query('INSERT INTO ferry_entries (key, value, revision) SELECT * FROM unnest($1::text[], $2::bytea[], $3::bigint[])', [
          batch.map((e) => storedKey(e.key)),
          batch.map((e) => e.value),
          batch.map((e) => e.revision),
        ]);
      }
      await client.query('DELETE FROM ferry_outbox');
      for (let i = 0; i < copy.outbox.length; i += 1000) {
        const batch = copy.outbox.slice(i, i + 1000);
        await client.query(
          `INSERT INTO ferry_outbox (id, queue, order_key, payload, attempts, available_at, created_at)
           SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::integer[], $6::bigint[], $7::bigint[])`,
          [
            batch.map((o) => o.id),
            batch.map((o) => o.queue),
            batch.map((o) => storedKey(o.orderKey)),
            batch.map((o) => o.payload),
            batch.map((o) => o.attempts),
            batch.map((o) => o.availableAt),
            batch.map((o) => o.createdAt),
          ],
        );
      }
      await client.query(`SELECT setval(pg_get_serial_sequence('ferry_outbox', 'id'),
        GREATEST(nextval(pg_get_serial_sequence('ferry_outbox', 'id')), COALESCE((SELECT max(id) FROM ferry_outbox), 0)))`);
      await client.query(
        'UPDATE ferry_revision_counter SET value = GREATEST(value, $1::bigint, COALESCE((SELECT max(revision) FROM ferry_entries), 0)) WHERE id = 1',
        [copy.revisionCounter],
      );
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}
