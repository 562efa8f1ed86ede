/**
 * The election's PostgreSQL side (`src/store/postgres-ha.ts`): a session advisory lock on a
 * dedicated connection, the leader term bumped with the leader record, the node table.
 */
import { afterEach, expect, it } from 'vitest';
import { PostgresHaLock } from '../../src/store/postgres-ha.js';
import type { HaNodeAdvert } from '../../src/store/ha-lock.js';
import { waitUntil } from '../support/process.js';
import { describePostgres, pgExec, usePostgresDatabase } from '../support/postgres.js';

const node = (id: string): HaNodeAdvert => ({ nodeId: id, hostname: `host-${id}`, apiAddr: `http://${id}:8200`, clusterAddr: `https://${id}:8201`, version: 'test' });

describePostgres('HA lock on PostgreSQL', () => {
  const db = usePostgresDatabase();
  const open: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    for (const o of open.splice(0).reverse()) await o.close();
  });
  const lock = () => {
    const l = new PostgresHaLock({ connectionUrl: db.url() });
    open.push(l);
    return l;
  };
  const migrated = async () => {
    // What the store's migrations create (src/store/postgres-migrations.ts): the leader term the lock bumps.
    await pgExec(db.url(), 'DROP TABLE IF EXISTS ferry_leader_term, ferry_ha_leader, ferry_ha_nodes');
    await pgExec(db.url(), 'CREATE TABLE ferry_leader_term (id integer PRIMARY KEY CHECK (id = 1), term bigint NOT NULL); INSERT INTO ferry_leader_term VALUES (1, 0)');
  };

  it('one holder at a time; each takeover bumps the store\'s leader term with the leader record; release hands it on', async () => {
    await migrated();
    const [a, b] = [lock(), lock()];
    const first = await a.tryAcquire(node('a'));
    expect(first).toMatchObject({ nodeId: 'a', apiAddr: 'http://a:8200', clusterAddr: 'https://a:8201' });
    expect(await b.tryAcquire(node('b'))).toBeUndefined();
    expect(await a.stillHeld()).toBe(true);
    expect(await b.stillHeld()).toBe(false);
    expect(await b.leader()).toEqual(first);
    const [{ term }] = (await pgExec(db.url(), 'SELECT term FROM ferry_leader_term')).rows as Array<{ term: string }>;
    expect(Number(term)).toBe(first!.term);
    await a.release();
    const second = await b.tryAcquire(node('b'));
    expect(second?.term).toBe(first!.term + 1);
    expect(await a.tryAcquire(node('a'))).toBeUndefined();
  });

  it('the holder\'s connection killed: PostgreSQL frees the lock at once, the node is told, and another node takes it', async () => {
    await migrated();
    const [a, b] = [lock(), lock()];
    const lost: string[] = [];
    a.onConnectionLost((err) => lost.push(err.message));
    expect(await a.tryAcquire(node('a'))).toBeDefined();
    await pgExec(db.url(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'ferry-ha' AND pid <> pg_backend_pid() AND datname = current_database()
      AND pid IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted)`);
    await waitUntil('the holder to be told its connection is gone', () => lost.length > 0);
    expect(await a.stillHeld()).toBe(false);
    expect((await b.tryAcquire(node('b')))?.nodeId).toBe('b');
    // The node that lost it reconnects on its next call, as a standby.
    expect(await a.tryAcquire(node('a'))).toBeUndefined();
    expect((await a.leader())?.nodeId).toBe('b');
  });

  it('the node table lists the nodes heard from recently, with their addresses', async () => {
    await migrated();
    const [a, b] = [lock(), lock()];
    await a.heartbeat(node('a'));
    await b.heartbeat(node('b'));
    const nodes = await a.nodes(30_000);
    expect(nodes.map(({ lastEcho: _lastEcho, ...n }) => n)).toEqual([node('a'), node('b')]);
    for (const n of nodes) expect(Math.abs(n.lastEcho - Date.now())).toBeLessThan(5_000);
    await pgExec(db.url(), "UPDATE ferry_ha_nodes SET last_echo = now() - interval '1 minute' WHERE node_id = 'b'");
    expect((await a.nodes(30_000)).map((n) => n.nodeId)).toEqual(['a']);
  });
});
