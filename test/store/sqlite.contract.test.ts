import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { BarrierStore } from '../../src/store/barrier.js';
import { NotifyingStore } from '../../src/store/notifying.js';
import { ReadCachingStore } from '../../src/store/read-cache.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { sqliteFileWith4kPages } from './sqlite-files.js';
import { closeAfterTest, tempDirForTest } from '../support/fixtures.js';
import { storeContract } from './contract.js';

storeContract('sqlite in memory', (clock) => ({ store: new SqliteStore({ path: ':memory:', clock }) }));

storeContract(
  'sqlite on a file',
  (clock) => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-contract-'));
    const path = join(dir, 'ferry.db');
    const store = new SqliteStore({ path, clock });
    return {
      store,
      reopen: async () => {
        await store.close();
        return new SqliteStore({ path, clock });
      },
      dispose: () => rmSync(dir, { recursive: true, force: true }),
    };
  },
  { persistent: true },
);

// The stack Ferry runs (src/compose.ts): change notification over the read cache over the barrier.
storeContract(
  "sqlite in memory behind Ferry's decorators (notifying, read cache, barrier)",
  async (clock) => {
    const inner = new SqliteStore({ path: ':memory:', clock });
    const rootKey = Buffer.alloc(32, 7);
    await inner.commit(BarrierStore.initialKeyringOps(rootKey, new Date(clock())));
    const barrier = new BarrierStore(inner);
    await barrier.unseal(rootKey);
    return { store: new NotifyingStore(new ReadCachingStore(barrier)) };
  },
  { barrier: false },
);

describe('SqliteStore on reopen', () => {
  it('releases claims a previous process left behind, so a restart resumes at once', async () => {
    const file = join(tempDirForTest('ferry-outbox-'), 'f.db');
    const first = new SqliteStore({ path: file });
    await first.commit([{ kind: 'enqueue', queue: 'q', orderKey: 'k', payload: 'p' }]);
    const now = Date.now();
    expect(await first.claimOutbox('q', 'dead-worker', 10, 60_000, now)).toHaveLength(1);
    await first.close();
    const second = closeAfterTest(new SqliteStore({ path: file }));
    const claimed = await second.claimOutbox('q', 'new-worker', 10, 60_000, now + 1);
    expect(claimed.map((i) => i.payload)).toEqual(['p']);
  });
});

describe('SqliteStore migrations', () => {
  it('a database from before the store-wide revision counter continues above its highest revision', async () => {
    const file = join(tempDirForTest('ferry-migrate-'), 'f.db');
    const before = new SqliteStore({ path: file });
    await before.commit([{ kind: 'put', key: 'a', value: Buffer.from('x') }, { kind: 'put', key: 'b', value: Buffer.from('y') }]);
    await before.close();
    // Turn it back into a version-1 database whose keys counted their own revisions.
    const raw = new Database(file);
    raw.exec("DROP TABLE revision_counter; UPDATE entries SET revision = 5 WHERE key = 'a'; UPDATE entries SET revision = 2 WHERE key = 'b'");
    raw.pragma('user_version = 1');
    raw.close();

    const after = closeAfterTest(new SqliteStore({ path: file }));
    expect((await after.get('a'))!.revision).toBe(5);
    await after.commit([{ kind: 'put', key: 'b', value: Buffer.from('z') }]);
    expect((await after.get('b'))!.revision).toBe(6);
  });
});

describe('SqliteStore schema versions', () => {
  it('refuses a database whose schema is newer than this Ferry knows, and leaves it as it was', async () => {
    const file = join(tempDirForTest('ferry-newer-'), 'f.db');
    const made = new SqliteStore({ path: file });
    await made.commit([{ kind: 'put', key: 'a', value: Buffer.from('x') }]);
    await made.close();
    const raw = new Database(file);
    const known = raw.pragma('user_version', { simple: true }) as number;
    expect(known).toBeGreaterThanOrEqual(3);
    raw.pragma(`user_version = ${known + 1}`);
    raw.close();
    expect(() => new SqliteStore({ path: file })).toThrow(`the database's Ferry schema is version ${known + 1}, newer than this Ferry knows (${known}): upgrade Ferry`);
    const after = new Database(file, { readonly: true });
    expect(after.pragma('user_version', { simple: true })).toBe(known + 1);
    expect(after.prepare('SELECT count(*) AS n FROM entries').get()).toEqual({ n: 1 });
    after.close();
  });
});

describe('SqliteStore ownership of its file', () => {
  it('refuses a second store on a file another one holds', async () => {
    const file = join(tempDirForTest('ferry-lock-'), 'f.db');
    const first = new SqliteStore({ path: file });
    expect(() => new SqliteStore({ path: file, busyTimeoutMs: 50 })).toThrow(/in use by another Ferry process/);
    await first.close();
    const again = new SqliteStore({ path: file, busyTimeoutMs: 50 });
    await again.close();
  });
});

describe('SqliteStore enqueue with joinWaiting', () => {
  const join = (payload: string) => ({ kind: 'enqueue' as const, queue: 'q', orderKey: 'k', payload, joinWaiting: true });
  const payloads = async (store: SqliteStore) => (await store.pendingOutbox('q')).map((i) => i.payload);

  it('appends nothing while an unclaimed item of the order key waits, and appends behind one that is claimed', async () => {
    const store = closeAfterTest(new SqliteStore({ path: ':memory:' }));
    await store.commit([join('first')]);
    await store.commit([join('joins first'), { kind: 'enqueue', queue: 'q', orderKey: 'other', payload: 'other key', joinWaiting: true }]);
    expect(await payloads(store)).toEqual(['first', 'other key']);

    // Claimed: its delivery may have read the state already, so a later change needs an item of its own.
    const [claimed] = await store.claimOutbox('q', 'w', 1, 60_000, Date.now(), { coalesce: true });
    await store.commit([join('second')]);
    await store.commit([join('joins second')]);
    expect(await payloads(store)).toEqual(['first', 'other key', 'second']);

    // Deferred (settled for a retry), an item is unclaimed again: later changes join it.
    await store.settleOutbox(claimed!.id, 'w', { outcome: 'retry', availableAt: Date.now() + 1000 });
    await store.commit([join('joins first again')]);
    expect(await payloads(store)).toEqual(['first', 'other key', 'second']);
    // Without joinWaiting, every enqueue appends.
    await store.commit([{ kind: 'enqueue', queue: 'q', orderKey: 'k', payload: 'plain' }]);
    expect(await payloads(store)).toEqual(['first', 'other key', 'second', 'plain']);
  });
});

describe('SqliteStore page size', () => {
  const pageSizeOf = (file: string) => {
    const db = new Database(file, { readonly: true });
    try {
      return db.pragma('page_size', { simple: true });
    } finally {
      db.close();
    }
  };

  it('makes a new database with 8 KB pages, so a KV metadata entry of about 2000 bytes stays on its b-tree page', async () => {
    const file = join(tempDirForTest('ferry-page-'), 'f.db');
    const store = new SqliteStore({ path: file });
    await store.commit([{ kind: 'put', key: 'k', value: Buffer.alloc(1900, 1) }]);
    await store.close();
    expect(pageSizeOf(file)).toBe(8192);
  });

  it('keeps the page size of an existing database (made with 4 KB pages) and reads and writes it as before', async () => {
    const file = sqliteFileWith4kPages('ferry-page-');
    const first = new SqliteStore({ path: file });
    await first.commit([{ kind: 'put', key: 'k', value: Buffer.from('v1') }]);
    await first.close();
    const second = closeAfterTest(new SqliteStore({ path: file }));
    expect((await second.get('k'))?.value.toString()).toBe('v1');
    await second.commit([{ kind: 'put', key: 'k', value: Buffer.alloc(3000, 2) }]);
    expect((await second.get('k'))?.value).toEqual(Buffer.alloc(3000, 2));
    expect(pageSizeOf(file)).toBe(4096);
  });
});
