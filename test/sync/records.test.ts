import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite.js';
import { SyncRecords } from '../../src/sync/records.js';
import { manualClock } from '../support/clock.js';
import { closeAfterTest } from '../support/fixtures.js';

/** Reads of sync's records that run on a timer or every worker round: what they answer, and what they read to answer it. */
const clock = manualClock();

/** A store that counts the entries it hands out (reads whose values a barrier would decrypt). */
function countingStore() {
  const store = closeAfterTest(new SqliteStore({ path: ':memory:', clock }));
  const reads = { get: 0, scan: 0 };
  const get = store.get.bind(store);
  const scan = store.scan.bind(store);
  store.get = async (key) => (reads.get++, get(key));
  store.scan = async (prefix) => {
    const rows = await scan(prefix);
    reads.scan += rows.length;
    return rows;
  };
  return { store, reads };
}

const ref = (accessor: string, secret: string, dest: string) => ({ dest_type: 'aws-sm' as const, dest_name: dest, accessor, secret_name: secret });

describe('sync records read on a timer', () => {
  it('lists the associated secrets (each once, whatever its destinations) from key names alone, as the by-secret entries hold them', async () => {
    const { store, reads } = countingStore();
    const records = new SyncRecords(store);
    await records
      .change()
      .index(ref('kv_1', 'apps/db password', 'a'))
      .index(ref('kv_1', 'apps/db password', 'b'))
      .index(ref('kv_1', 'top', 'a'))
      .index(ref('kv_2', 'x/y/z', 'a'))
      .commit();
    reads.scan = 0;
    const listed = await records.associatedSecretPaths();
    expect(reads.scan).toBe(0);
    const sorted = (xs: Array<{ accessor: string; secret: string }>) => xs.map((x) => `${x.accessor}|${x.secret}`).sort();
    expect(sorted(listed)).toEqual(['kv_1|apps/db password', 'kv_1|top', 'kv_2|x/y/z']);
    // The same secrets as the full read of the index, which decrypts every entry.
    expect(sorted(listed)).toEqual(sorted(await records.associatedSecrets()));
  });

  it('parses sys/sync/config once per stored value, and a later write is read at once', async () => {
    const { store } = countingStore();
    const records = new SyncRecords(store);
    await store.commit([{ kind: 'put', key: 'sync/config', value: Buffer.from(JSON.stringify({ disabled: false, queue_capacity: 100000 })) }]);
    const first = await records.config();
    first.value.disabled = true;
    // The caller's copy is its own.
    expect((await records.config()).value.disabled).toBe(false);
    await store.commit([{ kind: 'put', key: 'sync/config', value: Buffer.from(JSON.stringify({ disabled: true, queue_capacity: 5 })) }]);
    const second = await records.config();
    expect(second.value).toMatchObject({ disabled: true, queue_capacity: 5 });
    expect(second.revision).toBeGreaterThan(first.revision);
  });

  it('reads a sys/sync/config that another value replaced under the same revision (a forced snapshot restore may bring one)', async () => {
    const { store } = countingStore();
    const records = new SyncRecords(store);
    await store.commit([{ kind: 'put', key: 'sync/config', value: Buffer.from(JSON.stringify({ disabled: false, queue_capacity: 100000 })) }]);
    const first = await records.config();
    const get = store.get.bind(store);
    const restored = Buffer.from(JSON.stringify({ disabled: true, queue_capacity: 7 }));
    store.get = async (key) => (key === 'sync/config' ? { key, value: restored, revision: first.revision } : get(key));
    const second = await records.config();
    expect(second.revision).toBe(first.revision);
    expect(second.value).toMatchObject({ disabled: true, queue_capacity: 7 });
  });
});
