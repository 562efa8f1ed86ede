import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite.js';
import { ReadCachingStore } from '../../src/store/read-cache.js';
import type { RevisionCheck, WriteOp } from '../../src/store/store.js';

const buf = (s: string) => Buffer.from(s);

describe('ReadCachingStore', () => {
  it('serves repeated reads from memory and sees every committed change', async () => {
    const inner = new SqliteStore({ path: ':memory:' });
    let reads = 0;
    const counting = Object.assign(Object.create(inner), { get: (k: string) => (reads++, inner.get(k)) });
    const store = new ReadCachingStore(counting);
    await store.commit([{ kind: 'put', key: 'a/1', value: buf('v1') }]);
    expect((await store.get('a/1'))!.value.toString()).toBe('v1');
    expect((await store.get('a/1'))!.value.toString()).toBe('v1');
    expect(reads).toBe(1);
    await store.commit([{ kind: 'put', key: 'a/1', value: buf('v2') }]);
    expect((await store.get('a/1'))!.value.toString()).toBe('v2');
    await store.commit([{ kind: 'deletePrefix', prefix: 'a/' }]);
    expect(await store.get('a/1')).toBeUndefined();
    expect(await store.get('missing')).toBeUndefined();
    await store.commit([{ kind: 'put', key: 'missing', value: buf('now') }]);
    expect((await store.get('missing'))!.value.toString()).toBe('now');
  });

  it('never caches a read that raced a commit', async () => {
    const inner = new SqliteStore({ path: ':memory:' });
    await inner.commit([{ kind: 'put', key: 'k', value: buf('old') }]);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = Object.assign(Object.create(inner), {
      get: async (k: string) => {
        const e = await inner.get(k);
        await gate;
        return e;
      },
    });
    const store = new ReadCachingStore(slow);
    const pending = store.get('k');
    await store.commit([{ kind: 'put', key: 'k', value: buf('new') }]);
    release();
    expect((await pending)!.value.toString()).toBe('old');
    expect((await store.get('k'))!.value.toString()).toBe('new');
  });

  it('keeps an entry a checked commit wrote, with the revision the store gave it', async () => {
    const inner = new SqliteStore({ path: ':memory:' });
    let reads = 0;
    const counting = Object.assign(Object.create(inner), { get: (k: string) => (reads++, inner.get(k)) });
    const store = new ReadCachingStore(counting);
    await store.commit([{ kind: 'put', key: 'meta', value: buf('v1') }], [{ key: 'meta', revision: 0 }]);
    expect(await store.get('meta')).toEqual(await inner.get('meta'));
    // Other commits move the store's revision counter in between.
    await store.commit([{ kind: 'put', key: 'elsewhere', value: buf('x') }]);
    await inner.commit([{ kind: 'put', key: 'behind', value: buf('y') }]);
    const before = (await store.get('meta'))!.revision;
    await store.commit(
      [{ kind: 'put', key: 'meta', value: buf('v2') }, { kind: 'put', key: 'other', value: buf('o') }],
      [{ key: 'meta', revision: before }],
    );
    expect(await store.get('meta')).toEqual(await inner.get('meta'));
    expect(reads).toBe(0);
    // Checked and then deleted, or under a deleted prefix: not kept.
    const current = (await store.get('meta'))!.revision;
    await store.commit([{ kind: 'put', key: 'meta', value: buf('v3') }, { kind: 'delete', key: 'meta' }], [{ key: 'meta', revision: current }]);
    expect(await store.get('meta')).toBeUndefined();
    await store.commit(
      [{ kind: 'put', key: 'p/meta', value: buf('x') }, { kind: 'deletePrefix', prefix: 'p/' }],
      [{ key: 'p/meta', revision: 0 }],
    );
    expect(await store.get('p/meta')).toBeUndefined();
    expect(reads).toBe(2);
  });

  it('keeps nothing when the store does not report the revision it gave', async () => {
    const inner = new SqliteStore({ path: ':memory:' });
    let reads = 0;
    const silent = Object.assign(Object.create(inner), {
      get: (k: string) => (reads++, inner.get(k)),
      commit: async (ops: WriteOp[], checks?: RevisionCheck[]) => void (await inner.commit(ops, checks)),
    });
    const store = new ReadCachingStore(silent);
    await store.commit([{ kind: 'put', key: 'meta', value: buf('v1') }], [{ key: 'meta', revision: 0 }]);
    expect(await store.get('meta')).toEqual(await inner.get('meta'));
    expect(reads).toBe(1);
  });

  it('keeps nothing of a commit overtaken by a later one that finished first', async () => {
    const inner = new SqliteStore({ path: ':memory:' });
    // Each commit reaches the database at once, in call order; its caller resumes when released.
    const releases: Array<() => void> = [];
    const gated = Object.assign(Object.create(inner), {
      commit: async (ops: WriteOp[], checks?: RevisionCheck[]) => {
        const revision = await inner.commit(ops, checks);
        await new Promise<void>((resolve) => releases.push(resolve));
        return revision;
      },
    });
    const store = new ReadCachingStore(gated);
    const first = store.commit([{ kind: 'put', key: 'k', value: buf('first') }], [{ key: 'k', revision: 0 }]);
    const second = store.commit([{ kind: 'put', key: 'k', value: buf('second') }]);
    await new Promise((r) => setImmediate(r));
    releases[1]!();
    await second;
    releases[0]!();
    await first;
    expect((await store.get('k'))!.value.toString()).toBe('second');
  });

  it('keeps nothing of a commit that failed its check', async () => {
    const inner = new SqliteStore({ path: ':memory:' });
    const store = new ReadCachingStore(inner);
    await store.commit([{ kind: 'put', key: 'k', value: buf('v1') }]);
    await expect(store.commit([{ kind: 'put', key: 'k', value: buf('stale') }], [{ key: 'k', revision: 0 }])).rejects.toThrow(/revision conflict/);
    expect((await store.get('k'))!.value.toString()).toBe('v1');
  });

  it('stays within its bound and keeps the entries in use', async () => {
    const inner = new SqliteStore({ path: ':memory:' });
    const reads: string[] = [];
    const counting = Object.assign(Object.create(inner), { get: (k: string) => (reads.push(k), inner.get(k)) });
    const store = new ReadCachingStore(counting, 4);
    for (const k of ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']) {
      await store.get('hot');
      await store.get(k);
    }
    expect(reads.filter((k) => k === 'hot')).toHaveLength(1);
    await store.get('a');
    expect(reads.filter((k) => k === 'a')).toHaveLength(2);
  });

  it('forgets everything on reset (seal)', async () => {
    const inner = new SqliteStore({ path: ':memory:' });
    const store = new ReadCachingStore(inner);
    await store.commit([{ kind: 'put', key: 'k', value: buf('v') }]);
    await store.get('k');
    store.reset();
    await inner.commit([{ kind: 'put', key: 'k', value: buf('changed behind the cache') }]);
    expect((await store.get('k'))!.value.toString()).toBe('changed behind the cache');
  });
});
