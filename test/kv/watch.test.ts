import { beforeEach, describe, expect, it } from 'vitest';
import { KvV2Engine } from '../../src/kv/engine.js';
import { KV_WATCH_TRACKING_KEY, kvWatchKey, kvWatchOp, kvWatchTrackingOp, parseKvChangeEvent } from '../../src/kv/index.js';
import type { MountEntry } from '../../src/kernel/entries.js';
import { ForwardingStore } from '../../src/store/forwarding.js';
import { ReadCachingStore } from '../../src/store/read-cache.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import type { RevisionCheck, Store, WriteOp } from '../../src/store/store.js';
import { manualClock } from '../support/clock.js';
import { closeAfterTest } from '../support/fixtures.js';
import { events, put, useKv } from './helpers.js';

/**
 * KV's watch records (src/kv/events.ts): once they are complete, a change of a mount sync does
 * not watch appends no `kv-events` item (the write path's outbox row is saved), a watched
 * mount's changes append theirs, and a mount becoming watched between a change's decision and
 * its commit makes the change commit with its event.
 */
const t = useKv();
let accessor: string;
beforeEach(async () => {
  accessor = t.server.core.mounts.get('secret/')!.accessor;
});

describe('KV change events and watch records', () => {
  it('appends every event while the watch records are not complete (a store from before them)', async () => {
    await put(t, 'a', { v: 1 });
    await t.call('DELETE', '/v1/secret/data/a');
    expect((await events(t)).map((e) => e.change)).toEqual(['write', 'delete']);
  });

  it('appends no event for an unwatched mount once the records are complete, and every event once the mount is watched', async () => {
    await t.server.core.store.commit([kvWatchTrackingOp()]);
    await put(t, 'a', { v: 1 });
    await put(t, 'a', { v: 2 });
    await t.call('DELETE', '/v1/secret/data/a');
    expect(await events(t)).toEqual([]);
    // The writes themselves happened.
    const read = await t.call('GET', '/v1/secret/data/a?version=2');
    expect(read.json().data.metadata).toMatchObject({ version: 2, deletion_time: expect.any(String) });

    await t.server.core.store.commit([kvWatchOp(accessor)]);
    await put(t, 'a', { v: 3 });
    await t.call('DELETE', '/v1/secret/metadata/a');
    expect((await events(t)).map((e) => [e.mountAccessor, e.path, e.change, e.version])).toEqual([
      [accessor, 'a', 'write', 3],
      [accessor, 'a', 'metadata-delete', 3],
    ]);
  });

  it('another mount being watched does not make this one appear watched', async () => {
    await t.server.core.store.commit([kvWatchTrackingOp(), kvWatchOp('kv_other')]);
    await put(t, 'a', { v: 1 });
    expect(await events(t)).toEqual([]);
  });

  it('concurrent writes of many secrets of an unwatched mount still commit together and append nothing', async () => {
    await t.server.core.store.commit([kvWatchTrackingOp()]);
    const written = await Promise.all(Array.from({ length: 40 }, (_, i) => put(t, `s${i % 10}`, { i })));
    expect(written.map((w) => w.version).sort((x, y) => x - y)).toEqual(Array.from({ length: 40 }, (_, i) => Math.floor(i / 10) + 1));
    expect(await events(t)).toEqual([]);
  });
});

/** A store whose next commit that writes `key` is preceded by `first`'s commit (a concurrent request landing in between). */
class Interleaving extends ForwardingStore {
  private pending: { key: string; ops: WriteOp[] } | undefined;
  constructor(readonly base: Store) {
    super(base);
  }
  beforeCommitOf(key: string, ops: WriteOp[]): void {
    this.pending = { key, ops };
  }
  override async commit(ops: WriteOp[], checks?: RevisionCheck[]): Promise<number | undefined | void> {
    const p = this.pending;
    if (p && ops.some((op) => op.kind === 'put' && op.key === p.key)) {
      this.pending = undefined;
      await this.base.commit(p.ops);
    }
    return super.commit(ops, checks);
  }
}

const MOUNT: MountEntry = {
  path: 'kv/',
  type: 'kv',
  description: '',
  accessor: 'kv_watched',
  uuid: 'b1c7e6f2-0000-4000-8000-000000000001',
  config: { default_lease_ttl: 0, max_lease_ttl: 0, force_no_cache: false },
  options: { version: '2' },
  local: false,
  seal_wrap: false,
  external_entropy_access: false,
  plugin_version: '',
  created: 0,
};

describe('a mount watched while a change is in flight', () => {
  it('the change that decided without an event fails its check on the watch record and commits again with its event', async () => {
    const sqlite = closeAfterTest(new SqliteStore({ path: ':memory:' }));
    // The read cache as in the server: the change's read of the absent watch record is cached.
    const store = new Interleaving(new ReadCachingStore(sqlite));
    const engine = new KvV2Engine(store, manualClock());
    await store.commit([kvWatchTrackingOp()]);
    await engine.write(MOUNT, 'before', { v: 1 });
    expect(await sqlite.pendingOutbox('kv-events')).toEqual([]);

    // The association's commit (its watch record) lands after the write read the record, before the write commits.
    store.beforeCommitOf(engine.keys(MOUNT).meta('app'), [kvWatchOp(MOUNT.accessor)]);
    const view = await engine.write(MOUNT, 'app', { v: 1 });
    expect(view.version).toBe(1);
    const items = await sqlite.pendingOutbox('kv-events');
    expect(items.map((i) => parseKvChangeEvent(i.payload))).toMatchObject([{ mountAccessor: MOUNT.accessor, path: 'app', change: 'write', version: 1 }]);
    expect((await sqlite.get(kvWatchKey(MOUNT.accessor)))?.value).toBeDefined();
    expect(await sqlite.get(KV_WATCH_TRACKING_KEY)).toBeDefined();
  });
});
