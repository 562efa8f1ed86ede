import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite.js';
import { ReadCachingStore } from '../../src/store/read-cache.js';

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
