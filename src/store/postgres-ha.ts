import pg from 'pg';
import type { HaLeaderRecord, HaLockBackend, HaNodeAdvert, HaNodeRecord } from './ha-lock.js';

/**
 * The advisory lock the active node holds, as the two-key form `(classid, objid)`: "FERR" and 1.
 * Advisory locks are scoped to the current database, so one Ferry cluster per database.
 */
const LOCK_KEYS = [0x46455252, 1] as const;
/**
 * How long the lock's session may stay silent before PostgreSQL ends it (and frees the lock). The
 * node asks something on it every 250–500 ms; a node that stops asking — its process stopped, its
 * event loop hung, its machine frozen, while the kernel keeps the TCP connection up — loses the
 * lock on the server's own clock, and a standby takes over. PostgreSQL 14 and later.
 */
export const LOCK_SESSION_IDLE_TIMEOUT_MS = 10_000;
/** A transaction-scoped lock that serialises the tables' creation between nodes starting together. */
const DDL_KEYS = [0x46455252, 2] as const;

/**
 * The HA tables, created if missing. Kept apart from the store's versioned migrations (the
 * driver's own) because they hold no data worth migrating: the leader record and the node table
 * are rewritten within a second by the running nodes.
 */
const DDL = `
CREATE TABLE IF NOT EXISTS ferry_ha_leader (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  term BIGINT NOT NULL,
  node_id TEXT NOT NULL,
  api_addr TEXT NOT NULL,
  cluster_addr TEXT NOT NULL,
  since TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS ferry_ha_nodes (
  node_id TEXT PRIMARY KEY,
  hostname TEXT NOT NULL,
  api_addr TEXT NOT NULL,
  cluster_addr TEXT NOT NULL,
  version TEXT NOT NULL,
  last_echo TIMESTAMPTZ NOT NULL
);`;

export interface PostgresHaOptions {
  connectionUrl: string;
  /** A call on the lock's connection that takes longer fails (and drops the connection): ms. */
  queryTimeoutMs?: number;
}

interface LeaderRow {
  term: string;
  node_id: string;
  api_addr: string;
  cluster_addr: string;
  since_ms: string;
}

const toLeader = (r: LeaderRow): HaLeaderRecord => ({
  term: Number(r.term),
  nodeId: r.node_id,
  apiAddr: r.api_addr,
  clusterAddr: r.cluster_addr,
  since: Number(r.since_ms),
});

/**
 * The election on PostgreSQL: a session advisory lock (`pg_try_advisory_lock`) held on a
 * connection of its own, outside the store's pool. PostgreSQL frees a session lock the moment
 * the session ends — a killed node's socket closes, and the lock is free for the next standby's
 * try — so there is no lease to expire and no comparison of clocks between machines: a node
 * whose process is gone can never be taken for alive because its clock ran slow. The session's
 * server-side TCP keepalives (set below) bound how long PostgreSQL takes to notice a node that
 * vanished without closing its socket (a cut network): about 11 s; its idle timeout
 * (`LOCK_SESSION_IDLE_TIMEOUT_MS`) how long a frozen or hung node, whose socket stays up, keeps it.
 */
export class PostgresHaLock implements HaLockBackend {
  private client: pg.Client | undefined;
  private connecting: Promise<pg.Client> | undefined;
  private tablesReady = false;
  private held = false;
  private closed = false;
  private readonly lostListeners: Array<(err: Error) => void> = [];
  private readonly queryTimeoutMs: number;

  constructor(private readonly opts: PostgresHaOptions) {
    this.queryTimeoutMs = opts.queryTimeoutMs ?? 2000;
  }

  onConnectionLost(listener: (err: Error) => void): void {
    this.lostListeners.push(listener);
  }

  private async connection(): Promise<pg.Client> {
    if (this.closed) throw new Error('the HA lock is closed');
    if (this.client) return this.client;
    this.connecting ??= this.connect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async connect(): Promise<pg.Client> {
    const client = new pg.Client({
      connectionString: this.opts.connectionUrl,
      connectionTimeoutMillis: this.queryTimeoutMs,
      query_timeout: this.queryTimeoutMs,
      keepAlive: true,
      // PostgreSQL's side: a node that vanished without closing its socket is noticed in ~11 s.
      options: '-c tcp_keepalives_idle=5 -c tcp_keepalives_interval=2 -c tcp_keepalives_count=3',
      application_name: 'ferry-ha',
    });
    const onLost = (err: Error) => this.drop(client, err);
    client.on('error', onLost);
    client.on('end', () => onLost(new Error('the HA lock connection closed')));
    try {
      await client.connect();
      // Not in the startup options: a server before 14 would refuse the connection for it.
      const [{ version }] = (await client.query<{ version: number }>("SELECT current_setting('server_version_num')::int AS version")).rows as [{ version: number }];
      if (version >= 140_000) await client.query(`SET idle_session_timeout = ${LOCK_SESSION_IDLE_TIMEOUT_MS}`);
      if (!this.tablesReady) {
        await client.query('BEGIN');
        try {
          await client.query('SELECT pg_advisory_xact_lock($1, $2)', [...DDL_KEYS]);
          await client.query(DDL);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw err;
        }
        this.tablesReady = true;
      }
    } catch (err) {
      this.destroy(client);
      throw err;
    }
    this.client = client;
    return client;
  }

  /** The connection failed or was given up: the lock (if held) went with it. */
  private drop(client: pg.Client, err: Error): void {
    if (this.client !== client) return;
    this.client = undefined;
    this.held = false;
    this.destroy(client);
    if (!this.closed) for (const l of this.lostListeners) l(err);
  }

  private destroy(client: pg.Client): void {
    // end() waits for the server's goodbye, which a dead server never sends: close the socket.
    (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
    client.end().catch(() => undefined);
  }

  /** A query on the lock's connection; any failure drops the connection (and so the lock). */
  private async query<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
    const client = await this.connection();
    try {
      return (await client.query<R>(text, values)).rows;
    } catch (err) {
      // A timed-out call may still run on the server; a connection in an unknown state must
      // not keep a lock this node believes it lost.
      this.drop(client, err as Error);
      throw err;
    }
  }

  async tryAcquire(self: HaNodeAdvert): Promise<HaLeaderRecord | undefined> {
    if (!this.held) {
      const [row] = await this.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS locked', [...LOCK_KEYS]);
      if (!row?.locked) return undefined;
      this.held = true;
    }
    // The store's leader term (`ferry_leader_term`, which fences outbox claims) moves in the same
    // statement — one transaction — that names this node as the leader.
    const [leader] = await this.query<LeaderRow>(
      `WITH bumped AS (UPDATE ferry_leader_term SET term = term + 1 WHERE id = 1 RETURNING term)
       INSERT INTO ferry_ha_leader (id, term, node_id, api_addr, cluster_addr, since)
       SELECT 1, bumped.term, $1, $2, $3, clock_timestamp() FROM bumped
       ON CONFLICT (id) DO UPDATE SET term = EXCLUDED.term, node_id = EXCLUDED.node_id,
         api_addr = EXCLUDED.api_addr, cluster_addr = EXCLUDED.cluster_addr, since = EXCLUDED.since
       RETURNING term, node_id, api_addr, cluster_addr, (extract(epoch FROM since) * 1000)::bigint AS since_ms`,
      [self.nodeId, self.apiAddr, self.clusterAddr],
    );
    if (!leader) throw new Error('the store has no leader term (ferry_leader_term): its migrations have not run');
    return toLeader(leader!);
  }

  async release(): Promise<void> {
    if (!this.held) return;
    this.held = false;
    try {
      await this.query('SELECT pg_advisory_unlock($1, $2)', [...LOCK_KEYS]);
    } catch {
      // The connection is gone, and the session's lock with it.
    }
  }

  async stillHeld(): Promise<boolean> {
    if (!this.held || !this.client) return false;
    // Our own session's lock, as PostgreSQL sees it: also proves the connection is alive.
    const [row] = await this.query<{ held: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()
         AND classid = $1 AND objid = $2 AND granted) AS held`,
      [...LOCK_KEYS],
    );
    return row?.held === true;
  }

  async heartbeat(self: HaNodeAdvert): Promise<void> {
    await this.query(
      `INSERT INTO ferry_ha_nodes (node_id, hostname, api_addr, cluster_addr, version, last_echo)
       VALUES ($1, $2, $3, $4, $5, clock_timestamp())
       ON CONFLICT (node_id) DO UPDATE SET hostname = EXCLUDED.hostname, api_addr = EXCLUDED.api_addr,
         cluster_addr = EXCLUDED.cluster_addr, version = EXCLUDED.version, last_echo = EXCLUDED.last_echo`,
      [self.nodeId, self.hostname, self.apiAddr, self.clusterAddr, self.version],
    );
  }

  async leader(): Promise<HaLeaderRecord | undefined> {
    const [row] = await this.query<LeaderRow>(
      'SELECT term, node_id, api_addr, cluster_addr, (extract(epoch FROM since) * 1000)::bigint AS since_ms FROM ferry_ha_leader WHERE id = 1',
    );
    return row ? toLeader(row) : undefined;
  }

  async nodes(withinMs: number): Promise<HaNodeRecord[]> {
    // Nodes long silent are forgotten here too, so the table does not grow with every restart.
    await this.query(`DELETE FROM ferry_ha_nodes WHERE last_echo < clock_timestamp() - interval '1 hour'`);
    const rows = await this.query<{ node_id: string; hostname: string; api_addr: string; cluster_addr: string; version: string; last_ms: string }>(
      `SELECT node_id, hostname, api_addr, cluster_addr, version, (extract(epoch FROM last_echo) * 1000)::bigint AS last_ms
         FROM ferry_ha_nodes WHERE last_echo >= clock_timestamp() - make_interval(secs => $1) ORDER BY node_id`,
      [withinMs / 1000],
    );
    return rows.map((r) => ({
      nodeId: r.node_id,
      hostname: r.hostname,
      apiAddr: r.api_addr,
      clusterAddr: r.cluster_addr,
      version: r.version,
      lastEcho: Number(r.last_ms),
    }));
  }

  async close(): Promise<void> {
    this.closed = true;
    const client = this.client;
    this.client = undefined;
    this.held = false;
    if (client) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
    }
  }
}
