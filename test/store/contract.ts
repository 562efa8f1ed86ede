/**
 * The contract of the storage port (src/store/store.ts), as one vitest suite that every driver
 * must pass: `storeContract('sqlite', makeStore)` now, `storeContract('postgresql', ...)` when
 * that driver comes. It runs the port's tests against the driver, again with the encryption
 * barrier (src/store/barrier.ts) over it — the barrier must itself behave as a store — and then
 * the barrier's own promises over that driver: sealed means refused, values are encrypted at
 * rest, and a row moved to another key does not decrypt.
 *
 * It uses nothing but the port, so the file is long by nature: one `it` per promise of the port.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sealed } from '../../src/kernel/errors.js';
import { BarrierIntegrityError, BarrierStore } from '../../src/store/barrier.js';
import { RevisionConflict, withRetry, type OutboxItem, type Store, type WriteOp } from '../../src/store/store.js';
import { manualClock } from '../support/clock.js';

/** A fresh, empty store made for one test, as the driver's test file provides it. */
export interface StoreUnderTest {
  store: Store;
  /**
   * Closes `store` and opens the same database again, for the durability tests (required when
   * the options say `persistent`). The suite closes what this returns.
   */
  reopen?: () => Promise<Store>;
  /** Removes what the store left behind (a temporary directory, a database); runs after it closed. */
  dispose?: () => Promise<void> | void;
}

/**
 * Makes a fresh, empty store whose enqueue timestamps (`createdAt`, the first `availableAt`)
 * come from `clock`.
 */
export type MakeStore = (clock: () => number) => StoreUnderTest | Promise<StoreUnderTest>;

export interface StoreContractOptions {
  /** The store keeps its data across close and reopen: run the durability tests (`reopen` needed). */
  persistent?: boolean;
  /**
   * Whether to run the suite again behind the encryption barrier, plus the barrier's own tests.
   * Off for a store that is already behind one (Ferry's whole decorator stack).
   */
  barrier?: boolean;
}

/** 2025-01-07T09:15:02.117Z: the store's clock at the start of every test. */
const T0 = Date.UTC(2025, 0, 7, 9, 15, 2, 117);
const LEASE = 30_000;
const bytes = (s: string) => Buffer.from(s);
const put = (key: string, value: string | Buffer): WriteOp => ({ kind: 'put', key, value: typeof value === 'string' ? bytes(value) : value });
const enqueue = (orderKey: string, payload: string, queue = 'q'): WriteOp => ({ kind: 'enqueue', queue, orderKey, payload });

/** Awaits a promise expected to reject and returns the rejection. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection, got a result');
    },
    (err: unknown) => err,
  );
}

/** A barrier with a fresh keyring over `inner`, unsealed. */
async function unsealedBarrier(inner: Store, rootKey: Buffer): Promise<BarrierStore> {
  if (!(await inner.get('barrier/keyring'))) await inner.commit(BarrierStore.initialKeyringOps(rootKey, new Date(T0)));
  const barrier = new BarrierStore(inner);
  await barrier.unseal(rootKey);
  return barrier;
}

/** Wraps every store a factory makes (and reopens) in an unsealed barrier. */
function behindBarrier(makeStore: MakeStore): MakeStore {
  return async (clock) => {
    const rootKey = randomBytes(32);
    const subject = await makeStore(clock);
    const reopen = subject.reopen;
    return {
      store: await unsealedBarrier(subject.store, rootKey),
      ...(reopen ? { reopen: async () => unsealedBarrier(await reopen(), rootKey) } : {}),
      ...(subject.dispose ? { dispose: subject.dispose } : {}),
    };
  };
}

export function storeContract(name: string, makeStore: MakeStore, opts: StoreContractOptions = {}): void {
  describe(`store contract: ${name}`, () => {
    portSuite(makeStore, opts);
  });
  if (opts.barrier === false) return;
  describe(`store contract: ${name} behind the encryption barrier`, () => {
    portSuite(behindBarrier(makeStore), opts);
  });
  describe(`encryption barrier over ${name}`, () => {
    barrierSuite(makeStore);
  });
}

/** The subject of each test: the store, its clock, and the stores reopened on its database. */
function useSubject(makeStore: MakeStore) {
  const clock = manualClock(T0);
  const state: { subject?: StoreUnderTest; reopened: Store[] } = { reopened: [] };
  beforeEach(async () => {
    clock.set(T0);
    state.subject = await makeStore(clock);
  });
  afterEach(async () => {
    for (const s of state.reopened.splice(0)) await s.close();
    await state.subject?.store.close();
    await state.subject?.dispose?.();
    state.subject = undefined;
  });
  return {
    clock,
    store: (): Store => state.subject!.store,
    /** Closes the store and opens its database again. */
    reopen: async (): Promise<Store> => {
      const reopen = state.subject!.reopen;
      if (!reopen) throw new Error('a persistent store under test must provide reopen()');
      const again = await reopen();
      state.reopened.push(again);
      return again;
    },
  };
}

function portSuite(makeStore: MakeStore, opts: StoreContractOptions): void {
  const { clock, store: current, reopen } = useSubject(makeStore);
  let store: Store;
  beforeEach(() => {
    store = current();
  });
  const valueOf = async (key: string) => (await store.get(key))?.value.toString();
  const revisionOf = async (key: string) => (await store.get(key))?.revision ?? 0;
  const claim = (owner: string, now = T0, limit = 10, options?: { coalesce?: boolean }, queue = 'q') =>
    store.claimOutbox(queue, owner, limit, LEASE, now, options);
  const payloads = (items: OutboxItem[]) => items.map((i) => i.payload);
  const pending = async (queue = 'q') => payloads(await store.pendingOutbox(queue));

  describe('entries', () => {
    it('get answers undefined for a key never written', async () => {
      expect(await store.get('nothing/here')).toBeUndefined();
    });

    it('put then get answers the key, the bytes written and a positive revision', async () => {
      await store.commit([put('app/config', 'v1')]);
      const entry = await store.get('app/config');
      expect(entry).toEqual({ key: 'app/config', value: bytes('v1'), revision: expect.any(Number) });
      expect(entry!.revision).toBeGreaterThan(0);
    });

    it('stores values as bytes: empty, every byte value, and a large value read back unchanged', async () => {
      const every = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const large = randomBytes(512 * 1024);
      await store.commit([put('v/empty', Buffer.alloc(0)), put('v/every', every), put('v/large', large)]);
      expect((await store.get('v/empty'))!.value.length).toBe(0);
      expect((await store.get('v/every'))!.value.equals(every)).toBe(true);
      expect((await store.get('v/large'))!.value.equals(large)).toBe(true);
    });

    it('keys are exact strings: case, spaces and non-ASCII characters tell keys apart', async () => {
      await store.commit([put('k/Name', 'upper'), put('k/name', 'lower'), put('k/na me', 'space'), put('k/nämé', 'umlaut')]);
      expect(await valueOf('k/Name')).toBe('upper');
      expect(await valueOf('k/name')).toBe('lower');
      expect(await valueOf('k/na me')).toBe('space');
      expect(await valueOf('k/nämé')).toBe('umlaut');
      expect(await store.get('k/NAME')).toBeUndefined();
    });

    it('keys may hold any character, U+0000 and U+0001 included: read, listed, scanned, checked and deleted by prefix in code point order', async () => {
      const names = ['a', 'a\u0000', 'a\u0000b', 'a\u0001', 'a\u0001\u0000', 'a\u0002', 'a/x', 'a\u0000/y'];
      await store.commit(names.map((n) => put(`n/${n}`, JSON.stringify(n))));
      for (const n of names) expect(await valueOf(`n/${n}`)).toBe(JSON.stringify(n));
      expect((await store.scan('n/')).map((e) => e.key.slice(2))).toEqual(['a', 'a\u0000', 'a\u0000/y', 'a\u0000b', 'a\u0001', 'a\u0001\u0000', 'a\u0002', 'a/x']);
      expect(await store.list('n/')).toEqual(['a', 'a\u0000', 'a\u0000/', 'a\u0000b', 'a\u0001', 'a\u0001\u0000', 'a\u0002', 'a/']);
      expect(await store.list('n/a\u0000/')).toEqual(['y']);
      expect((await store.scan('n/a\u0000')).map((e) => e.key.slice(2))).toEqual(['a\u0000', 'a\u0000/y', 'a\u0000b']);
      const stale = await revisionOf('n/a\u0000');
      await store.commit([put('n/a\u0000', 'moved')]);
      const err = await rejection(store.commit([put('n/a\u0000', 'stale')], [{ key: 'n/a\u0000', revision: stale }]));
      expect((err as RevisionConflict).key).toBe('n/a\u0000');
      await store.commit([{ kind: 'deletePrefix', prefix: 'n/a\u0000' }, enqueue('n/a\u0000', 'p')]);
      expect((await store.scan('n/')).map((e) => e.key.slice(2))).toEqual(['a', 'a\u0001', 'a\u0001\u0000', 'a\u0002', 'a/x']);
      expect((await store.pendingOutbox('q')).map((i) => i.orderKey)).toEqual(['n/a\u0000']);
    });

    it('a put of an existing key replaces its value and moves its revision forward', async () => {
      await store.commit([put('k', 'one')]);
      const first = await revisionOf('k');
      await store.commit([put('k', 'two')]);
      expect(await valueOf('k')).toBe('two');
      expect(await revisionOf('k')).toBeGreaterThan(first);
    });

    it('revisions come from one counter for the whole store: each commit that writes gets a greater one', async () => {
      await store.commit([put('r/a', '1')]);
      const a1 = await revisionOf('r/a');
      await store.commit([put('r/b', '1')]);
      const b1 = await revisionOf('r/b');
      await store.commit([put('r/a', '2')]);
      expect(a1).toBeGreaterThan(0);
      expect(b1).toBeGreaterThan(a1);
      expect(await revisionOf('r/a')).toBeGreaterThan(b1);
    });

    it('a commit that puts resolves with the revision its keys got, if it reports one; one without puts reports none', async () => {
      const reported = await store.commit([put('rv/a', '1'), put('rv/b', '1'), enqueue('rv', 'p')]);
      if (reported !== undefined) {
        expect(reported).toBe(await revisionOf('rv/a'));
        expect(reported).toBe(await revisionOf('rv/b'));
        expect(await store.commit([{ kind: 'delete', key: 'rv/a' }, enqueue('rv', 'q')])).toBeUndefined();
      }
      expect(await revisionOf('rv/b')).toBeGreaterThan(0);
    });

    it('a key deleted and written again never gets back a revision it had, so a check read before the delete fails', async () => {
      await store.commit([put('aba', 'first')]);
      const before = await revisionOf('aba');
      await store.commit([{ kind: 'delete', key: 'aba' }]);
      await store.commit([put('aba', 'second')]);
      expect(await revisionOf('aba')).toBeGreaterThan(before);
      const err = await rejection(store.commit([put('aba', 'stale writer')], [{ key: 'aba', revision: before }]));
      expect(err).toBeInstanceOf(RevisionConflict);
      expect(await valueOf('aba')).toBe('second');
    });

    it('delete removes a key; deleting a key that is not there is a no-op', async () => {
      await store.commit([put('d/a', '1'), put('d/b', '2')]);
      await store.commit([{ kind: 'delete', key: 'd/a' }]);
      await store.commit([{ kind: 'delete', key: 'd/never' }]);
      expect(await store.get('d/a')).toBeUndefined();
      expect(await valueOf('d/b')).toBe('2');
    });

    it('deletePrefix removes every key under the prefix, at any depth, and nothing beside it', async () => {
      const keys = ['m/a/b', 'm/a/b/', 'm/a/b/x', 'm/a/b/y/z', 'm/a/bc', 'm/a/c', 'm/a/b0', 'm/a/b.'];
      await store.commit(keys.map((k) => put(k, k)));
      await store.commit([{ kind: 'deletePrefix', prefix: 'm/a/b/' }]);
      expect((await store.scan('m/')).map((e) => e.key)).toEqual(['m/a/b', 'm/a/b.', 'm/a/b0', 'm/a/bc', 'm/a/c']);
      await store.commit([{ kind: 'deletePrefix', prefix: 'm/nothing/' }]);
      expect(await store.scan('m/')).toHaveLength(5);
    });
  });

  describe('commit', () => {
    it('applies every op of one commit: puts, deletes, prefix deletes and enqueues are all visible after it', async () => {
      await store.commit([put('c/old', 'x'), put('c/tree/1', 'x'), put('c/tree/2', 'x')]);
      await store.commit([
        put('c/new', 'n'),
        { kind: 'delete', key: 'c/old' },
        { kind: 'deletePrefix', prefix: 'c/tree/' },
        enqueue('c/new', 'changed'),
      ]);
      expect((await store.scan('c/')).map((e) => [e.key, e.value.toString()])).toEqual([['c/new', 'n']]);
      expect(await pending()).toEqual(['changed']);
    });

    it('applies ops in the order given: put then delete leaves nothing, delete then put leaves the value', async () => {
      await store.commit([put('o/1', 'x'), { kind: 'delete', key: 'o/1' }]);
      await store.commit([{ kind: 'deletePrefix', prefix: 'o/' }, put('o/2', 'kept')]);
      expect(await store.get('o/1')).toBeUndefined();
      expect(await valueOf('o/2')).toBe('kept');
    });

    it('applies nothing when a revision check fails, and throws RevisionConflict naming the key', async () => {
      await store.commit([put('rc/checked', 'v1'), put('rc/other', 'v1')]);
      const stale = await revisionOf('rc/checked');
      await store.commit([put('rc/checked', 'v2')]);
      const err = await rejection(
        store.commit(
          [put('rc/other', 'v2'), put('rc/new', 'x'), { kind: 'delete', key: 'rc/checked' }, enqueue('rc', 'never')],
          [{ key: 'rc/other', revision: await revisionOf('rc/other') }, { key: 'rc/checked', revision: stale }],
        ),
      );
      expect(err).toBeInstanceOf(RevisionConflict);
      expect((err as RevisionConflict).key).toBe('rc/checked');
      expect(await valueOf('rc/checked')).toBe('v2');
      expect(await valueOf('rc/other')).toBe('v1');
      expect(await store.get('rc/new')).toBeUndefined();
      expect(await pending()).toEqual([]);
    });

    it('applies nothing when an op fails part-way', async () => {
      await store.commit([put('pw/kept', 'before')]);
      const broken: WriteOp = { kind: 'put', key: 'pw/broken', value: null as unknown as Buffer };
      await expect(store.commit([put('pw/kept', 'after'), enqueue('pw', 'never'), put('pw/new', 'x'), broken])).rejects.toThrow();
      expect(await valueOf('pw/kept')).toBe('before');
      expect(await store.get('pw/new')).toBeUndefined();
      expect(await pending()).toEqual([]);
    });

    it('revision 0 means "must not exist": it passes for a missing key and fails once the key exists', async () => {
      await store.commit([put('zero', 'created')], [{ key: 'zero', revision: 0 }]);
      expect(await valueOf('zero')).toBe('created');
      await expect(store.commit([put('zero', 'again')], [{ key: 'zero', revision: 0 }])).rejects.toBeInstanceOf(RevisionConflict);
      expect(await valueOf('zero')).toBe('created');
      await store.commit([{ kind: 'delete', key: 'zero' }]);
      await store.commit([put('zero', 'recreated')], [{ key: 'zero', revision: 0 }]);
      expect(await valueOf('zero')).toBe('recreated');
    });

    it('a check of the current revision passes; a check of an earlier one fails; a check of a deleted key fails', async () => {
      await store.commit([put('cur', '1')]);
      const r1 = await revisionOf('cur');
      await store.commit([put('cur', '2')], [{ key: 'cur', revision: r1 }]);
      const r2 = await revisionOf('cur');
      await expect(store.commit([put('cur', 'stale')], [{ key: 'cur', revision: r1 }])).rejects.toBeInstanceOf(RevisionConflict);
      await store.commit([{ kind: 'delete', key: 'cur' }], [{ key: 'cur', revision: r2 }]);
      await expect(store.commit([put('cur', 'gone')], [{ key: 'cur', revision: r2 }])).rejects.toBeInstanceOf(RevisionConflict);
      expect(await store.get('cur')).toBeUndefined();
    });

    it('checks see the state before the commit, not its own writes', async () => {
      await store.commit([put('own', 'x')], [{ key: 'own', revision: 0 }]);
      expect(await valueOf('own')).toBe('x');
    });

    it('a check of a key the commit also changes sees the state before every op, whatever the ops do first', async () => {
      await store.commit([put('pre/p/a', 'a1'), put('pre/p/c', 'c1'), put('pre/b', 'b1')]);
      const r = await revisionOf('pre/b');
      // A prefix delete, a delete and an earlier put of the checked key come before its put.
      await store.commit([{ kind: 'deletePrefix', prefix: 'pre/p/' }, put('pre/p/a', 'a2')], [{ key: 'pre/p/a', revision: r }]);
      await store.commit([{ kind: 'delete', key: 'pre/b' }, put('pre/b', 'b2')], [{ key: 'pre/b', revision: r }]);
      await store.commit([put('pre/new', 'n1'), put('pre/new', 'n2')], [{ key: 'pre/new', revision: 0 }]);
      expect(await valueOf('pre/p/a')).toBe('a2');
      expect(await store.get('pre/p/c')).toBeUndefined();
      expect(await valueOf('pre/b')).toBe('b2');
      expect(await valueOf('pre/new')).toBe('n2');
      // The same shapes with a stale check apply nothing.
      const stale = await revisionOf('pre/p/a');
      await store.commit([put('pre/p/a', 'a3'), put('pre/p/c', 'c3')]);
      await expect(
        store.commit([{ kind: 'deletePrefix', prefix: 'pre/p/' }, put('pre/p/a', 'a4')], [{ key: 'pre/p/a', revision: stale }]),
      ).rejects.toBeInstanceOf(RevisionConflict);
      await expect(store.commit([put('pre/x', 'x'), put('pre/new', 'n3')], [{ key: 'pre/new', revision: 0 }])).rejects.toBeInstanceOf(RevisionConflict);
      expect(await valueOf('pre/p/a')).toBe('a3');
      expect(await valueOf('pre/p/c')).toBe('c3');
      expect(await valueOf('pre/new')).toBe('n2');
      expect(await store.get('pre/x')).toBeUndefined();
    });

    it('a failed check of a key put late in a commit undoes the ops before it', async () => {
      await store.commit([put('late/a', 'a1'), put('late/b', 'b1')]);
      const ra = await revisionOf('late/a');
      const stale = await revisionOf('late/b');
      await store.commit([put('late/b', 'b2')]);
      const err = await rejection(
        store.commit(
          [put('late/a', 'a2'), put('late/new', 'x'), enqueue('late', 'never'), put('late/b', 'b3')],
          [{ key: 'late/a', revision: ra }, { key: 'late/b', revision: stale }],
        ),
      );
      expect(err).toBeInstanceOf(RevisionConflict);
      expect((err as RevisionConflict).key).toBe('late/b');
      expect(await valueOf('late/a')).toBe('a1');
      expect(await valueOf('late/b')).toBe('b2');
      expect(await store.get('late/new')).toBeUndefined();
      expect(await pending()).toEqual([]);
      // The same commit with the current revisions applies, each put giving the commit's revision.
      const rb = await revisionOf('late/b');
      await store.commit([put('late/a', 'a2'), put('late/b', 'b3')], [{ key: 'late/a', revision: ra }, { key: 'late/b', revision: rb }]);
      expect(await valueOf('late/b')).toBe('b3');
      expect(await revisionOf('late/a')).toBe(await revisionOf('late/b'));
      expect(await revisionOf('late/a')).toBeGreaterThan(rb);
    });

    it('a commit of checks alone verifies them and writes nothing', async () => {
      await store.commit([put('only', 'x')]);
      const r = await revisionOf('only');
      await store.commit([], [{ key: 'only', revision: r }]);
      await expect(store.commit([], [{ key: 'only', revision: r + 1 }])).rejects.toBeInstanceOf(RevisionConflict);
      expect(await revisionOf('only')).toBe(r);
    });

    it('of two commits checked against the same revision, exactly one wins', async () => {
      await store.commit([put('race', 'start')]);
      const r = await revisionOf('race');
      const results = await Promise.allSettled([
        store.commit([put('race', 'a')], [{ key: 'race', revision: r }]),
        store.commit([put('race', 'b')], [{ key: 'race', revision: r }]),
      ]);
      expect(results.map((x) => x.status).sort()).toEqual(['fulfilled', 'rejected']);
      const lost = results.find((x) => x.status === 'rejected') as PromiseRejectedResult;
      expect(lost.reason).toBeInstanceOf(RevisionConflict);
      expect(await valueOf('race')).toBe(results[0]!.status === 'fulfilled' ? 'a' : 'b');
    });

    it('read-modify-commit under withRetry loses no update when many run at once', async () => {
      const increment = () =>
        withRetry(async () => {
          const entry = await store.get('counter');
          const n = entry ? Number(entry.value.toString()) : 0;
          await store.commit([put('counter', String(n + 1))], [{ key: 'counter', revision: entry?.revision ?? 0 }]);
        }, 100);
      await Promise.all(Array.from({ length: 10 }, increment));
      expect(await valueOf('counter')).toBe('10');
    });
  });

  describe('listing', () => {
    it('list answers the immediate children of a prefix: keys by name, folders once with a trailing /', async () => {
      await store.commit(
        ['team/app', 'team/db/primary', 'team/db/replica', 'team/db/old/x', 'team/web', 'teams/x', 'tea', 'other'].map((k) => put(k, k)),
      );
      expect(await store.list('team/')).toEqual(['app', 'db/', 'web']);
      expect(await store.list('team/db/')).toEqual(['old/', 'primary', 'replica']);
      expect(await store.list('team/nothing/')).toEqual([]);
    });

    it('list of the empty prefix answers the top level', async () => {
      await store.commit(['x/1', 'x/2/3', 'y', 'z/'].map((k) => put(k, k)));
      expect(await store.list('')).toEqual(['x/', 'y', 'z/']);
    });

    it('a key and a folder of the same name are both listed', async () => {
      await store.commit([put('s/a', 'key'), put('s/a/b', 'under')]);
      expect(await store.list('s/')).toEqual(['a', 'a/']);
    });

    it('lists in the byte order of the UTF-8 keys (code point order), as Go sorts strings', async () => {
      // UTF-16 order would put U+1F600 before U+FF01; byte and code point order put it after.
      const names = ['b', '😀', 'a0', 'é', 'a-b', 'B', '！', 'a.b'];
      await store.commit([...names.map((n) => put(`u/${n}`, n)), put('u/a/x', 'folder')]);
      expect(await store.list('u/')).toEqual(['B', 'a-b', 'a.b', 'a/', 'a0', 'b', 'é', '！', '😀']);
      expect((await store.scan('u/')).map((e) => e.key.slice(2))).toEqual(['B', 'a-b', 'a.b', 'a/x', 'a0', 'b', 'é', '！', '😀']);
    });

    it('scan answers every entry under a prefix at any depth, in key order, with values and revisions', async () => {
      await store.commit([put('sc/b/2', 'b2'), put('sc/a', 'a'), put('sc/b/1/deep', 'deep'), put('sd/x', 'outside')]);
      const entries = await store.scan('sc/');
      expect(entries.map((e) => [e.key, e.value.toString()])).toEqual([
        ['sc/a', 'a'],
        ['sc/b/1/deep', 'deep'],
        ['sc/b/2', 'b2'],
      ]);
      for (const e of entries) expect(e.revision).toBe(await revisionOf(e.key));
    });

    it('scan takes any string as a prefix and scan of the empty prefix answers everything', async () => {
      await store.commit(['ab', 'ab/x', 'abc', 'aa', 'ac'].map((k) => put(k, k)));
      expect((await store.scan('ab')).map((e) => e.key)).toEqual(['ab', 'ab/x', 'abc']);
      expect((await store.scan('')).map((e) => e.key)).toEqual(['aa', 'ab', 'ab/x', 'abc', 'ac']);
    });
  });

  describe('outbox', () => {
    it('enqueue appends an item in the commit, stamped with the store clock; pendingOutbox lists it', async () => {
      clock.set(T0 + 5);
      await store.commit([put('e/k', 'v'), enqueue('e/k', '{"change":"write"}')]);
      const [item, ...rest] = await store.pendingOutbox('q');
      expect(rest).toEqual([]);
      expect(item).toEqual({
        id: expect.any(Number),
        queue: 'q',
        orderKey: 'e/k',
        payload: '{"change":"write"}',
        attempts: 0,
        availableAt: T0 + 5,
        createdAt: T0 + 5,
      });
    });

    it('ids grow in commit order and in op order within a commit, and are never reused', async () => {
      await store.commit([enqueue('a', '1'), enqueue('b', '2')]);
      await store.commit([enqueue('a', '3')]);
      const items = await store.pendingOutbox('q');
      expect(payloads(items)).toEqual(['1', '2', '3']);
      expect(items[0]!.id).toBeLessThan(items[1]!.id);
      expect(items[1]!.id).toBeLessThan(items[2]!.id);
      const highest = items[2]!.id;
      await store.commit([{ kind: 'dequeue', ids: items.map((i) => i.id) }]);
      await store.commit([enqueue('a', '4')]);
      expect((await store.pendingOutbox('q'))[0]!.id).toBeGreaterThan(highest);
    });

    it('keeps queues apart: pendingOutbox and claimOutbox see only their queue', async () => {
      await store.commit([enqueue('k', 'in q'), enqueue('k', 'in other', 'other')]);
      expect(await pending('q')).toEqual(['in q']);
      expect(await pending('other')).toEqual(['in other']);
      expect(payloads(await claim('w', T0, 10, undefined, 'other'))).toEqual(['in other']);
      // The same orderKey in another queue does not hold this one back.
      expect(payloads(await claim('w'))).toEqual(['in q']);
    });

    it('pendingOutbox answers at most `limit` items, the oldest first', async () => {
      await store.commit(['1', '2', '3', '4'].map((p) => enqueue(`k${p}`, p)));
      expect(payloads(await store.pendingOutbox('q', 2))).toEqual(['1', '2']);
      expect(await store.pendingOutbox('empty')).toEqual([]);
    });

    it('pendingOutboxKeys, where the driver has it, counts the pending items of a queue per orderKey (claimed ones too) with the oldest one\'s time', async (ctx) => {
      if (!store.pendingOutboxKeys) ctx.skip();
      await store.commit([enqueue('k1', '1'), enqueue('k2', '2'), enqueue('k1', '3'), enqueue('k1', 'other', 'other')]);
      clock.advance(1000);
      await store.commit([enqueue('k2', '4'), enqueue('k3', '5')]);
      await claim('w');
      const keys = (await store.pendingOutboxKeys!('q')).sort((a, b) => a.orderKey.localeCompare(b.orderKey));
      expect(keys).toEqual([
        { orderKey: 'k1', items: 2, oldestAt: T0 },
        { orderKey: 'k2', items: 2, oldestAt: T0 },
        { orderKey: 'k3', items: 1, oldestAt: T0 + 1000 },
      ]);
      expect(await store.pendingOutboxKeys!('empty')).toEqual([]);
    });

    it('releaseOutbox, where the driver has it, makes deferred unclaimed items of one orderKey prefix due now, and nothing else', async (ctx) => {
      if (!store.releaseOutbox) ctx.skip();
      await store.commit([enqueue('d1|a', '1'), enqueue('d1|b', '2'), enqueue('d2|a', '3'), enqueue('d1|c', '4')]);
      const claimed = await claim('w', T0, 10);
      expect(payloads(claimed)).toEqual(['1', '2', '3', '4']);
      const [a, b, other, held] = claimed;
      for (const item of [a!, b!, other!]) await store.settleOutbox(item.id, 'w', { outcome: 'retry', availableAt: T0 + 60_000 });
      // 'd1|c' stays claimed: a release never takes an item from the worker holding it.
      expect(await store.releaseOutbox!('q', 'd1|', T0 + 10)).toBe(2);
      expect(payloads(await claim('w2', T0 + 10))).toEqual(['1', '2']);
      expect(held!.payload).toBe('4');
    });

    it('claimOutbox hands out due items with attempts counted, and nobody else gets them during the lease', async () => {
      await store.commit([enqueue('a', '1'), enqueue('b', '2')]);
      const claimed = await claim('worker-1');
      expect(claimed.map((i) => [i.payload, i.orderKey, i.attempts, i.queue])).toEqual([
        ['1', 'a', 1, 'q'],
        ['2', 'b', 1, 'q'],
      ]);
      expect(claimed[0]!.createdAt).toBe(T0);
      expect(await claim('worker-2', T0 + LEASE - 1)).toEqual([]);
      expect(await claim('worker-1', T0 + 1)).toEqual([]);
      // Claimed items are still pending (unsettled), with their attempts.
      expect((await store.pendingOutbox('q')).map((i) => [i.payload, i.attempts])).toEqual([
        ['1', 1],
        ['2', 1],
      ]);
    });

    it('only the oldest unsettled item of an orderKey is claimable, so one target sees its operations in order', async () => {
      await store.commit([enqueue('k', 'k1'), enqueue('j', 'j1'), enqueue('k', 'k2'), enqueue('k', 'k3')]);
      const first = await claim('w');
      expect(payloads(first)).toEqual(['k1', 'j1']);
      await store.settleOutbox(first[0]!.id, 'w', { outcome: 'done' });
      expect(payloads(await claim('w'))).toEqual(['k2']);
    });

    it('limit caps a claim, and the earliest due items go first', async () => {
      await store.commit([enqueue('a', 'a1'), enqueue('b', 'b1'), enqueue('c', 'c1')]);
      const [a] = await claim('w', T0, 1);
      expect(a!.payload).toBe('a1');
      // a1 backs off past the others: they are due earlier now.
      await store.settleOutbox(a!.id, 'w', { outcome: 'retry', availableAt: T0 + 100 });
      expect(payloads(await claim('w', T0 + 200, 2))).toEqual(['b1', 'c1']);
      expect(payloads(await claim('w', T0 + 200, 2))).toEqual(['a1']);
    });

    it('an item enqueued at the store clock is due at once, and not before', async () => {
      clock.set(T0 + 1000);
      await store.commit([enqueue('k', 'later')]);
      expect(await claim('w', T0 + 999)).toEqual([]);
      expect(payloads(await claim('w', T0 + 1000))).toEqual(['later']);
    });

    it('settle retry releases the claim until availableAt, keeps holding back its orderKey, and counts the next claim', async () => {
      await store.commit([enqueue('k', 'first'), enqueue('k', 'second')]);
      const [item] = await claim('w');
      await store.settleOutbox(item!.id, 'w', { outcome: 'retry', availableAt: T0 + 5000 });
      expect(await claim('other', T0 + 4999)).toEqual([]);
      const [again] = await claim('other', T0 + 5000);
      expect([again!.id, again!.payload, again!.attempts, again!.availableAt]).toEqual([item!.id, 'first', 2, T0 + 5000]);
    });

    it('settle done removes the item; pendingOutbox no longer lists it', async () => {
      await store.commit([enqueue('k', 'x'), enqueue('j', 'y')]);
      const [x] = await claim('w', T0, 1);
      await store.settleOutbox(x!.id, 'w', { outcome: 'done' });
      expect(await pending()).toEqual(['y']);
    });

    it('a settlement by an owner that does not hold the claim changes nothing', async () => {
      await store.commit([enqueue('k', 'x')]);
      const [x] = await claim('holder');
      await store.settleOutbox(x!.id, 'intruder', { outcome: 'done' });
      await store.settleOutbox(x!.id, 'intruder', { outcome: 'retry', availableAt: T0 });
      expect(await pending()).toEqual(['x']);
      expect(await claim('intruder', T0 + 1)).toEqual([]);
      await store.settleOutbox(x!.id, 'holder', { outcome: 'done' });
      expect(await pending()).toEqual([]);
    });

    it("claims of a crashed owner become claimable again once the lease lapses; the old owner's late settlement is void", async () => {
      await store.commit([enqueue('k', 'x'), enqueue('k', 'behind')]);
      const [x] = await claim('crashed', T0);
      expect(await claim('survivor', T0 + LEASE - 1)).toEqual([]);
      const [reclaimed] = await claim('survivor', T0 + LEASE + 1);
      expect([reclaimed!.id, reclaimed!.attempts]).toEqual([x!.id, 2]);
      await store.settleOutbox(x!.id, 'crashed', { outcome: 'done' });
      expect(await pending()).toEqual(['x', 'behind']);
      await store.settleOutbox(x!.id, 'survivor', { outcome: 'done' });
      expect(payloads(await claim('survivor', T0 + LEASE + 2))).toEqual(['behind']);
    });

    it('with coalesce, a claim carries the newest id of its orderKey, and settling done up to it settles those items too', async () => {
      await store.commit([enqueue('k', 'k1'), enqueue('k', 'k2'), enqueue('j', 'j1'), enqueue('k', 'k3')]);
      const ids = Object.fromEntries((await store.pendingOutbox('q')).map((i) => [i.payload, i.id]));
      const claimed = await claim('w', T0, 10, { coalesce: true });
      expect(claimed.map((i) => [i.payload, i.coalescedUpTo])).toEqual([
        ['k1', ids.k3],
        ['j1', ids.j1],
      ]);
      // An item enqueued after the claim is not covered by it.
      await store.commit([enqueue('k', 'k4')]);
      await store.settleOutbox(ids.k1!, 'w', { outcome: 'done', upTo: claimed[0]!.coalescedUpTo });
      expect(await pending()).toEqual(['j1', 'k4']);
      expect(payloads(await claim('w', T0 + 1, 10, { coalesce: true }))).toEqual(['k4']);
    });

    it('without coalesce a claim carries no coalescedUpTo, and done settles that one item', async () => {
      await store.commit([enqueue('k', 'k1'), enqueue('k', 'k2')]);
      const [k1] = await claim('w');
      expect(k1!.coalescedUpTo).toBeUndefined();
      await store.settleOutbox(k1!.id, 'w', { outcome: 'done' });
      expect(await pending()).toEqual(['k2']);
    });

    it('settling done up to an id leaves other orderKeys and queues alone', async () => {
      await store.commit([enqueue('k', 'k1'), enqueue('j', 'j1'), enqueue('k', 'k2'), enqueue('k', 'other-q', 'other')]);
      const [k1] = await claim('w', T0, 1, { coalesce: true });
      const everything = Math.max(...(await store.pendingOutbox('other')).map((i) => i.id), k1!.coalescedUpTo!);
      await store.settleOutbox(k1!.id, 'w', { outcome: 'done', upTo: everything });
      expect(await pending()).toEqual(['j1']);
      expect(await pending('other')).toEqual(['other-q']);
    });

    it('dequeue removes the given items in the same atomic commit as the writes that handle them', async () => {
      await store.commit([enqueue('k', 'e1'), enqueue('j', 'e2'), enqueue('k', 'e3')]);
      const batch = (await store.pendingOutbox('q')).slice(0, 2);
      await store.commit([put('handled', 'x')]);
      const handled = await revisionOf('handled');
      // A handler whose check fails keeps its items…
      await expect(
        store.commit([put('handled', 'y'), enqueue('out', 'fanned', 'sync'), { kind: 'dequeue', ids: batch.map((i) => i.id) }], [
          { key: 'handled', revision: handled + 1 },
        ]),
      ).rejects.toBeInstanceOf(RevisionConflict);
      expect(await pending()).toEqual(['e1', 'e2', 'e3']);
      // …and one that commits removes them together with its writes.
      await store.commit([put('handled', 'y'), enqueue('out', 'fanned', 'sync'), { kind: 'dequeue', ids: batch.map((i) => i.id) }], [
        { key: 'handled', revision: handled },
      ]);
      expect(await pending()).toEqual(['e3']);
      expect(await pending('sync')).toEqual(['fanned']);
    });
  });

  if (opts.persistent) describe('durability', () => {
    it('entries, revisions and outbox items survive close and reopen; revisions and ids keep growing', async () => {
      await store.commit([put('keep/a', 'kept'), put('keep/b', 'gone'), enqueue('k', 'queued')]);
      await store.commit([{ kind: 'delete', key: 'keep/b' }]);
      const revision = await revisionOf('keep/a');
      const [item] = await store.pendingOutbox('q');
      const again = await reopen();
      expect(await again.get('keep/a')).toEqual({ key: 'keep/a', value: bytes('kept'), revision });
      expect(await again.get('keep/b')).toBeUndefined();
      expect(await again.pendingOutbox('q')).toEqual([item]);
      await again.commit([put('keep/b', 'new'), enqueue('k', 'next')]);
      expect((await again.get('keep/b'))!.revision).toBeGreaterThan(revision);
      expect((await again.pendingOutbox('q'))[1]!.id).toBeGreaterThan(item!.id);
    });
  });

  describe('close', () => {
    it('close may be called twice, and every call after it rejects', async () => {
      await store.commit([put('c', 'x')]);
      await store.close();
      await store.close();
      await expect(store.get('c')).rejects.toThrow();
      await expect(store.commit([put('c', 'y')])).rejects.toThrow();
      await expect(store.claimOutbox('q', 'w', 1, LEASE, T0)).rejects.toThrow();
    });
  });
}

function barrierSuite(makeStore: MakeStore): void {
  const { store: inner } = useSubject(makeStore);
  const rootKey = randomBytes(32);
  let barrier: BarrierStore;
  beforeEach(async () => {
    barrier = await unsealedBarrier(inner(), rootKey);
  });
  /** Every raw form of `plaintext` a driver could hold: bytes, base64, hex. */
  const forms = (plaintext: string) => [plaintext, bytes(plaintext).toString('base64'), bytes(plaintext).toString('hex')];

  it('refuses every operation while sealed, with the sealed error', async () => {
    await barrier.commit([put('k', 'v'), enqueue('k', 'p')]);
    barrier.seal();
    const attempts: Array<Promise<unknown>> = [
      barrier.get('k'),
      barrier.list(''),
      barrier.scan(''),
      barrier.commit([put('k', 'v2')]),
      barrier.claimOutbox('q', 'w', 1, LEASE, T0),
      barrier.settleOutbox(1, 'w', { outcome: 'done' }),
      barrier.pendingOutbox('q'),
    ];
    for (const attempt of attempts) expect(await rejection(attempt)).toMatchObject({ code: sealed().code, errors: sealed().errors });
    await barrier.unseal(rootKey);
    expect((await barrier.get('k'))!.value.toString()).toBe('v');
  });

  it('keeps values and outbox payloads encrypted at rest: the driver never holds the plaintext', async () => {
    const secret = 'the-plaintext-value-7f3a';
    const payload = `{"secret":"${secret}-payload"}`;
    await barrier.commit([put('app/db', secret), enqueue('app/db', payload)]);
    const raw = [
      ...(await inner().scan('')).map((e) => e.value.toString('latin1')),
      ...(await inner().pendingOutbox('q')).map((i) => i.payload),
    ].join('\n');
    for (const form of [...forms(secret), ...forms(payload)]) expect(raw).not.toContain(form);
    expect((await barrier.get('app/db'))!.value.toString()).toBe(secret);
    expect((await barrier.pendingOutbox('q')).map((i) => i.payload)).toEqual([payload]);
  });

  it('binds each row to its key: a value or payload moved to another key does not decrypt', async () => {
    await barrier.commit([put('tokens/victim', '{"policies":["root"]}'), put('tokens/attacker', '{"policies":["default"]}'), enqueue('dest/a', 'for a')]);
    const stolen = (await inner().get('tokens/victim'))!.value;
    await inner().commit([put('tokens/attacker', stolen)]);
    await expect(barrier.get('tokens/attacker')).rejects.toBeInstanceOf(BarrierIntegrityError);
    await expect(barrier.scan('tokens/')).rejects.toBeInstanceOf(BarrierIntegrityError);

    const [item] = await inner().pendingOutbox('q');
    await inner().commit([{ kind: 'dequeue', ids: [item!.id] }, enqueue('dest/b', item!.payload)]);
    await expect(barrier.pendingOutbox('q')).rejects.toBeInstanceOf(BarrierIntegrityError);
  });
}
