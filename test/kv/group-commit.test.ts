import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite.js';
import { RevisionConflict, type Store, type WriteOp } from '../../src/store/store.js';
import { GroupCommit } from '../../src/kv/group-commit.js';

/** Group commit keeps the semantics of individual commits (src/kv/group-commit.ts). */
let store: SqliteStore;
let commits: Store['commit'][];
beforeEach(() => {
  store = new SqliteStore({ path: ':memory:' });
  commits = [];
});
afterEach(async () => {
  await store.close();
});

/** The store, counting the commits that reach it. */
function counted(): Store {
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'commit') {
        return (ops: WriteOp[], checks?: Parameters<Store['commit']>[1]) => {
          commits.push(target.commit);
          return target.commit(ops, checks);
        };
      }
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
}

const put = (key: string, value: string): WriteOp => ({ kind: 'put', key, value: Buffer.from(value) });

describe('GroupCommit', () => {
  it('merges commits issued in one turn into one store commit', async () => {
    const g = new GroupCommit(counted());
    await Promise.all([g.commit([put('a', '1')], [{ key: 'a', revision: 0 }]), g.commit([put('b', '1')], [{ key: 'b', revision: 0 }])]);
    expect(commits).toHaveLength(1);
    expect((await store.get('a'))!.value.toString()).toBe('1');
    expect((await store.get('b'))!.value.toString()).toBe('1');
  });

  it('never merges two commits checked against the same key: the second sees the first and conflicts', async () => {
    const g = new GroupCommit(counted());
    const results = await Promise.allSettled([
      g.commit([put('a', 'first')], [{ key: 'a', revision: 0 }]),
      g.commit([put('a', 'second')], [{ key: 'a', revision: 0 }]),
    ]);
    expect(results[0]!.status).toBe('fulfilled');
    expect(results[1]!.status).toBe('rejected');
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(RevisionConflict);
    expect((await store.get('a'))!.value.toString()).toBe('first');
  });

  it('when a merged commit fails a check, only the stale member gets RevisionConflict; the others commit', async () => {
    await store.commit([put('stale', 'x')]);
    const g = new GroupCommit(counted());
    const results = await Promise.allSettled([
      g.commit([put('a', '1')], [{ key: 'a', revision: 0 }]),
      g.commit([put('stale', 'y')], [{ key: 'stale', revision: 0 }]),
      g.commit([put('b', '1')], [{ key: 'b', revision: 0 }]),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((await store.get('a'))!.value.toString()).toBe('1');
    expect((await store.get('b'))!.value.toString()).toBe('1');
    expect((await store.get('stale'))!.value.toString()).toBe('x');
  });

  it('keeps outbox items in commit order', async () => {
    const g = new GroupCommit(counted());
    await Promise.all(
      ['a', 'b', 'c'].map((k) => g.commit([put(k, '1'), { kind: 'enqueue', queue: 'q', orderKey: k, payload: k }], [{ key: k, revision: 0 }])),
    );
    expect((await store.pendingOutbox('q')).map((i) => i.payload)).toEqual(['a', 'b', 'c']);
  });

  it('merges commits that only check the same record (none writes it), checking it once', async () => {
    const g = new GroupCommit(counted());
    const watch = { key: 'watch', revision: 0 };
    await Promise.all([
      g.commit([put('a', '1')], [{ key: 'a', revision: 0 }, watch]),
      g.commit([put('b', '1')], [{ key: 'b', revision: 0 }, watch]),
    ]);
    expect(commits).toHaveLength(1);
    expect((await store.get('b'))!.value.toString()).toBe('1');
  });

  it('never merges a commit that writes a record with one that checks it: the checker sees the write and conflicts', async () => {
    const g = new GroupCommit(counted());
    const results = await Promise.allSettled([
      g.commit([put('watch', 'on')], []),
      g.commit([put('a', '1')], [{ key: 'a', revision: 0 }, { key: 'watch', revision: 0 }]),
    ]);
    expect(commits).toHaveLength(2);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(RevisionConflict);
    expect(await store.get('a')).toBeUndefined();
  });
});
