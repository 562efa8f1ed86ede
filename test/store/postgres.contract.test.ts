/**
 * The store contract (test/store/contract.ts) on the PostgreSQL driver, and what only a store
 * shared by several processes must promise: two stores on one database (two Ferry nodes) race
 * as one store's callers do, migrations run once when nodes start together, claims are shared
 * out and fenced by the HA term, and an unreachable database is a clean, quick 503 error.
 *
 * Skipped, saying how to run it, when there is no PostgreSQL (test/support/postgres.ts).
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { FerryError } from '../../src/kernel/errors.js';
import { BarrierStore } from '../../src/store/barrier.js';
import { NotifyingStore } from '../../src/store/notifying.js';
import { PG_MIGRATIONS } from '../../src/store/postgres-migrations.js';
import { PostgresStore } from '../../src/store/postgres.js';
import { RevisionConflict, withRetry, type WriteOp } from '../../src/store/store.js';
import { closeAfterTest } from '../support/fixtures.js';
import { describePostgres, pgExec, resetDatabase, startTcpProxy, usePostgresDatabase } from '../support/postgres.js';
import { storeContract } from './contract.js';

const put = (key: string, value: string): WriteOp => ({ kind: 'put', key, value: Buffer.from(value) });
const enqueue = (orderKey: string, payload: string): WriteOp => ({ kind: 'enqueue', queue: 'q', orderKey, payload });

describePostgres('PostgreSQL store', () => {
  const db = usePostgresDatabase('store_contract');
  /** A store on a freshly emptied database: every test starts from no schema at all, so the migrations run each time. */
  const fresh = async (clock: () => number = Date.now) => {
    await resetDatabase(db.url());
    return PostgresStore.open({ connectionUrl: db.url(), clock, maxParallel: 4 });
  };

  storeContract(
    'postgresql',
    async (clock) => {
      const store = await fresh(clock);
      return {
        store,
        reopen: async () => {
          await store.close();
          return PostgresStore.open({ connectionUrl: db.url(), clock, maxParallel: 4 });
        },
      };
    },
    { persistent: true },
  );

  // The stack Ferry runs on PostgreSQL (src/compose.ts): change notification over the barrier, no read cache.
  storeContract(
    "postgresql behind Ferry's decorators (notifying, barrier)",
    async (clock) => {
      const inner = await fresh(clock);
      const rootKey = Buffer.alloc(32, 7);
      await inner.commit(BarrierStore.initialKeyringOps(rootKey, new Date(clock())));
      const barrier = new BarrierStore(inner);
      await barrier.unseal(rootKey);
      return { store: new NotifyingStore(barrier) };
    },
    { barrier: false },
  );

  describe('two stores on one database (two nodes)', () => {
    const pair = async () => {
      const a = closeAfterTest(await fresh());
      const b = closeAfterTest(await PostgresStore.open({ connectionUrl: db.url(), maxParallel: 4 }));
      return [a, b] as const;
    };

    it('of two commits checked against the same revision through different stores, exactly one wins', async () => {
      const [a, b] = await pair();
      for (let round = 0; round < 20; round++) {
        await a.commit([put('race', 'start')]);
        const r = (await a.get('race'))!.revision;
        const results = await Promise.allSettled([a.commit([put('race', 'a')], [{ key: 'race', revision: r }]), b.commit([put('race', 'b')], [{ key: 'race', revision: r }])]);
        expect(results.map((x) => x.status).sort()).toEqual(['fulfilled', 'rejected']);
        expect((results.find((x) => x.status === 'rejected') as PromiseRejectedResult).reason).toBeInstanceOf(RevisionConflict);
      }
    });

    it('of two "must not exist" commits of one key through different stores, exactly one creates it', async () => {
      const [a, b] = await pair();
      for (let round = 0; round < 20; round++) {
        const key = `create/${round}`;
        const results = await Promise.allSettled([a.commit([put(key, 'a')], [{ key, revision: 0 }]), b.commit([put(key, 'b')], [{ key, revision: 0 }])]);
        expect(results.map((x) => x.status).sort()).toEqual(['fulfilled', 'rejected']);
        const winner = results[0]!.status === 'fulfilled' ? 'a' : 'b';
        expect((await b.get(key))!.value.toString()).toBe(winner);
      }
    });

    it('a check of a key that must not exist leaves no row behind, and a writer without a check waits for it rather than being lost', async () => {
      const [a, b] = await pair();
      await a.commit([], [{ key: 'ghost', revision: 0 }]);
      expect(await b.get('ghost')).toBeUndefined();
      expect(await b.scan('')).toEqual([]);
      // Either order is serial: checked then blind (both succeed), or blind then checked (the
      // check fails). Both end on 'blind'; 'checked' last would be the blind write lost.
      for (let round = 0; round < 20; round++) {
        const key = `ghost/${round}`;
        const [checked, blind] = await Promise.allSettled([a.commit([put(key, 'checked')], [{ key, revision: 0 }]), b.commit([put(key, 'blind')])]);
        expect(blind.status).toBe('fulfilled');
        if (checked.status === 'rejected') expect(checked.reason).toBeInstanceOf(RevisionConflict);
        expect((await a.get(key))!.value.toString()).toBe('blind');
      }
    });

    it('read-modify-commit under withRetry loses no update when two stores increment one counter at once', async () => {
      const [a, b] = await pair();
      const increment = (store: PostgresStore) =>
        withRetry(async () => {
          const entry = await store.get('counter');
          const n = entry ? Number(entry.value.toString()) : 0;
          await store.commit([put('counter', String(n + 1))], [{ key: 'counter', revision: entry?.revision ?? 0 }]);
        }, 200);
      await Promise.all(Array.from({ length: 20 }, (_, i) => increment(i % 2 ? a : b)));
      expect((await a.get('counter'))!.value.toString()).toBe('20');
    });

    it('revisions drawn through both stores are all distinct and grow in commit order', async () => {
      const [a, b] = await pair();
      const revisions: number[] = [];
      for (let i = 0; i < 10; i++) revisions.push((await (i % 2 ? a : b).commit([put(`rev/${i}`, 'x')])) as number);
      expect(revisions).toEqual([...revisions].sort((x, y) => x - y));
      expect(new Set(revisions).size).toBe(10);
      const concurrent = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).commit([put(`crev/${i}`, 'x')])));
      expect(new Set(concurrent).size).toBe(20);
    });

    it('claims of the same queue through two stores at once never hand one item to both', async () => {
      const [a, b] = await pair();
      await a.commit(Array.from({ length: 40 }, (_, i) => enqueue(`k${i}`, `p${i}`)));
      const now = Date.now();
      const rounds = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).claimOutbox('q', `w${i}`, 5, 30_000, now)));
      const ids = rounds.flat().map((item) => item.id);
      expect(ids).toHaveLength(40);
      expect(new Set(ids).size).toBe(40);
    });

    it('two nodes starting together on an empty database migrate it once', async () => {
      await resetDatabase(db.url());
      const stores = await Promise.all(Array.from({ length: 4 }, () => PostgresStore.open({ connectionUrl: db.url(), maxParallel: 2 })));
      for (const s of stores) closeAfterTest(s);
      const { rows } = await pgExec(db.url(), 'SELECT version FROM ferry_schema');
      expect(rows).toEqual([{ version: PG_MIGRATIONS.length }]);
      await stores[0]!.commit([put('k', 'v')]);
      expect((await stores[3]!.get('k'))!.value.toString()).toBe('v');
    });
  });

  describe('HA claim fencing', () => {
    it('claims of an earlier term are released when a node fences with the new term; the deposed claimant can neither claim nor settle', async () => {
      const deposed = closeAfterTest(await fresh());
      const active = closeAfterTest(await PostgresStore.open({ connectionUrl: db.url(), maxParallel: 2 }));
      await pgExec(db.url(), 'UPDATE ferry_leader_term SET term = 1');
      await deposed.fenceClaims(1);
      await deposed.commit([enqueue('k', 'first'), enqueue('j', 'other')]);
      const now = Date.now();
      const [item] = await deposed.claimOutbox('q', 'old-worker', 1, 60_000, now);
      expect(item!.payload).toBe('first');
      // A standby takes over: it bumps the term and fences; the old claim is free at once, not after its lease.
      await pgExec(db.url(), 'UPDATE ferry_leader_term SET term = 2');
      expect(await active.fenceClaims(2)).toBe(1);
      expect(await deposed.claimOutbox('q', 'old-worker', 10, 60_000, now + 1)).toEqual([]);
      const reclaimed = await active.claimOutbox('q', 'new-worker', 10, 60_000, now + 1);
      expect(reclaimed.map((i) => [i.payload, i.attempts])).toEqual([
        ['first', 2],
        ['other', 1],
      ]);
      await deposed.settleOutbox(item!.id, 'old-worker', { outcome: 'done' });
      expect((await active.pendingOutbox('q')).map((i) => i.payload)).toEqual(['first', 'other']);
    });

    it('a claim in flight while another node takes over either finishes before the new term or takes nothing', async () => {
      const deposed = closeAfterTest(await fresh());
      await pgExec(db.url(), 'UPDATE ferry_leader_term SET term = 1');
      await deposed.fenceClaims(1);
      await deposed.commit([enqueue('k', 'x')]);
      const now = Date.now();
      // The takeover's transaction holds the term row: the deposed node's claim waits for it, then sees term 2.
      const takeover = new pg.Client({ connectionString: db.url() });
      await takeover.connect();
      try {
        await takeover.query('BEGIN');
        await takeover.query('UPDATE ferry_leader_term SET term = 2');
        const claim = deposed.claimOutbox('q', 'old-worker', 10, 60_000, now);
        await new Promise((r) => setTimeout(r, 200));
        await takeover.query('COMMIT');
        expect(await claim).toEqual([]);
      } finally {
        await takeover.end();
      }
    });
  });

  describe('an unreachable database', () => {
    const proxied = async (opts: { connectTimeoutMs?: number; queryTimeoutMs?: number } = {}) => {
      const target = new URL(db.url());
      const proxy = closeAfterTest(await startTcpProxy(Number(target.port), target.hostname));
      const url = new URL(db.url());
      url.port = String(proxy.port);
      const store = closeAfterTest(await PostgresStore.open({ connectionUrl: url.toString(), maxParallel: 2, ...opts }));
      return { proxy, store };
    };
    const unavailable = (err: unknown) => {
      expect(err).toBeInstanceOf(FerryError);
      expect((err as FerryError).kind).toBe('unavailable');
      expect((err as FerryError).errors).toEqual(['storage is unavailable: the database cannot be reached or is restarting; try again']);
    };

    it('pooled connections the server closed (a restart) are replaced: a read after it succeeds', async () => {
      const store = closeAfterTest(await fresh());
      await store.commit([put('k', 'v')]);
      await pgExec(
        db.url(),
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'ferry' AND datname = current_database() AND pid <> pg_backend_pid()",
      );
      expect((await store.get('k'))?.value.toString()).toBe('v');
      expect(await store.list('')).toEqual(['k']);
    });

    it('while the server is gone every method rejects at once with store.unavailable, and works again once it is back', async () => {
      const { proxy, store } = await proxied();
      await store.commit([put('k', 'v'), enqueue('k', 'p')]);
      proxy.refuse();
      const started = Date.now();
      for (const call of [
        () => store.get('k'),
        () => store.list(''),
        () => store.scan(''),
        () => store.commit([put('k', 'lost')]),
        () => store.claimOutbox('q', 'w', 1, 1000, Date.now()),
        () => store.pendingOutbox('q'),
      ]) {
        unavailable(await call().catch((e: unknown) => e));
      }
      expect(Date.now() - started).toBeLessThan(3000);
      await proxy.accept();
      expect((await store.get('k'))!.value.toString()).toBe('v');
      await store.commit([put('k', 'back')]);
      expect((await store.get('k'))!.value.toString()).toBe('back');
    });

    it('a server that accepts but never answers fails the call with store.unavailable after the timeouts, not a hang', async () => {
      const { proxy, store } = await proxied({ connectTimeoutMs: 300, queryTimeoutMs: 500 });
      await store.commit([put('k', 'v')]);
      proxy.blackhole();
      const started = Date.now();
      unavailable(await store.get('k').catch((e: unknown) => e));
      unavailable(await store.commit([put('k', 'x')]).catch((e: unknown) => e));
      expect(Date.now() - started).toBeLessThan(5000);
      await proxy.accept();
      expect((await store.get('k'))!.value.toString()).toBe('v');
    });

    it('opening a store on a server that cannot be reached fails at once, saying why', async () => {
      const url = new URL(db.url());
      url.port = '1';
      const started = Date.now();
      await expect(PostgresStore.open({ connectionUrl: url.toString(), connectTimeoutMs: 500 })).rejects.toThrow(/cannot open the PostgreSQL store: .*ECONNREFUSED/);
      expect(Date.now() - started).toBeLessThan(3000);
    });
  });
});
