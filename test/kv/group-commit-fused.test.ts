import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GroupCommit } from '../../src/kv/group-commit.js';
import { ReadCachingStore } from '../../src/store/read-cache.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { RevisionConflict, type WriteOp } from '../../src/store/store.js';

/**
 * Cold review (session 6): the SQLite driver now makes a check of a key the commit puts in the
 * put itself (`UPDATE … WHERE revision = ?`), so a stale check fails in the middle of a merged
 * group's ops, after other members' puts ran. Group commit must stay all-or-nothing per member.
 */
let sqlite: SqliteStore;
beforeEach(() => {
  sqlite = new SqliteStore({ path: ':memory:' });
});
afterEach(async () => {
  await sqlite.close();
});

const put = (key: string, value: string): WriteOp => ({ kind: 'put', key, value: Buffer.from(value) });
const enqueue = (payload: string): WriteOp => ({ kind: 'enqueue', queue: 'q', orderKey: payload, payload });

describe('group commit over fused revision checks', () => {
  it('a member whose fused check is stale applies nothing; the members before and after it commit, and the read cache keeps no value of the failed merge', async () => {
    const store = new ReadCachingStore(sqlite);
    await store.commit([put('m/a', 'a0'), put('m/b', 'b0'), put('m/c', 'c0'), put('watch', 'w')]);
    const rev = async (k: string) => (await sqlite.get(k))!.revision;
    const [ra, rb, rc, rw] = [await rev('m/a'), await rev('m/b'), await rev('m/c'), await rev('watch')];
    await store.commit([put('m/b', 'b-moved')]);
    const g = new GroupCommit(store);
    const results = await Promise.allSettled([
      g.commit([put('m/a', 'a1'), enqueue('a1')], [{ key: 'm/a', revision: ra }, { key: 'watch', revision: rw }]),
      // Stale: m/b moved. Its other put and its outbox item come before the failing put.
      g.commit([put('m/b2', 'x'), enqueue('b1'), put('m/b', 'b1')], [{ key: 'm/b', revision: rb }, { key: 'watch', revision: rw }]),
      g.commit([put('m/c', 'c1'), enqueue('c1')], [{ key: 'm/c', revision: rc }, { key: 'watch', revision: rw }]),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(RevisionConflict);
    const value = async (k: string) => (await store.get(k))?.value.toString();
    expect(await value('m/a')).toBe('a1');
    expect(await value('m/b')).toBe('b-moved');
    expect(await value('m/b2')).toBeUndefined();
    expect(await value('m/c')).toBe('c1');
    expect((await sqlite.pendingOutbox('q')).map((i) => i.payload).sort()).toEqual(['a1', 'c1']);
    // What the read cache answers is what the database holds.
    for (const k of ['m/a', 'm/b', 'm/b2', 'm/c']) expect(await value(k)).toBe((await sqlite.get(k))?.value.toString());
  });

  it('a fused check of a key that must not exist refuses a key that does, and an insert of a new key passes', async () => {
    await sqlite.commit([put('exists', 'v')]);
    await expect(sqlite.commit([put('exists', 'w')], [{ key: 'exists', revision: 0 }])).rejects.toBeInstanceOf(RevisionConflict);
    await expect(sqlite.commit([put('gone', 'w')], [{ key: 'gone', revision: 7 }])).rejects.toBeInstanceOf(RevisionConflict);
    expect((await sqlite.get('gone'))).toBeUndefined();
    await sqlite.commit([put('fresh', 'f')], [{ key: 'fresh', revision: 0 }]);
    expect((await sqlite.get('exists'))!.value.toString()).toBe('v');
    expect((await sqlite.get('fresh'))!.value.toString()).toBe('f');
  });
});
