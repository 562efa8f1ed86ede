import { describe, expect, it } from 'vitest';
import { decodeMeta, encode, encodeMeta } from '../../src/kv/layout.js';
import type { WriteOp } from '../../src/store/store.js';
import { HOUR, T0, envelope, events, expectError, expectNotFound, iso, put, useKv, versionMeta } from './helpers.js';

const t = useKv();

describe('KV v2 data write (kv-v2.md §4.2)', () => {
  it('answers 200 with the new version metadata in the envelope, starting at version 1', async () => {
    const res = await t.call('PUT', '/v1/secret/data/app', { body: { data: { foo: 'bar' }, options: {} } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.json()).toEqual(envelope(versionMeta(1, T0)));
  });

  it('increments the version by one on every write and never reuses one', async () => {
    await put(t, 'app', { v: 1 });
    t.clock.advance(1000);
    await put(t, 'app', { v: 2 });
    await t.call('DELETE', '/v1/secret/data/app');
    t.clock.advance(1000);
    const res = await t.call('POST', '/v1/secret/data/app', { body: { data: { v: 3 } } });
    expect(res.json().data).toEqual(versionMeta(3, T0 + 2000));
  });

  it('stores any JSON values: nested objects, arrays, numbers, booleans, null', async () => {
    const data = { s: 'x', n: 1.5, b: false, nil: null, list: [1, 'a', { k: 'v' }], nested: { deep: { deeper: 'y' } } };
    await put(t, 'typed', data);
    expect((await t.call('GET', '/v1/secret/data/typed')).json().data.data).toEqual(data);
  });

  it('adds a warning for unrecognized parameters next to data and options', async () => {
    const res = await t.call('PUT', '/v1/secret/data/app', { body: { data: { a: '1' }, options: {}, zeta: 1, alpha: 2 } });
    expect(res.statusCode).toBe(200);
    expect(res.json().warnings).toEqual(['Endpoint ignored these unrecognized parameters: [alpha zeta]']);
  });

  it('answers 400 "no data provided" when data is missing or null', async () => {
    expectError(await t.call('PUT', '/v1/secret/data/app', { body: { options: {} } }), 400, 'no data provided');
    expectError(await t.call('PUT', '/v1/secret/data/app', { body: { data: null } }), 400, 'no data provided');
    expectError(await t.call('PUT', '/v1/secret/data/app', { rawBody: '' }), 400, 'no data provided');
  });

  it('answers 400 "missing path" for a write to data/ with an empty secret path', async () => {
    expectError(await t.call('PUT', '/v1/secret/data/', { body: { data: { a: 1 } } }), 400, 'missing path');
  });
});

describe('KV v2 check-and-set (kv-v2.md §2, §4.2)', () => {
  it('cas 0 creates a key that does not exist yet and fails once it does', async () => {
    const created = await t.call('PUT', '/v1/secret/data/c', { body: { data: { a: 1 }, options: { cas: 0 } } });
    expect(created.statusCode).toBe(200);
    expectError(
      await t.call('PUT', '/v1/secret/data/c', { body: { data: { a: 2 }, options: { cas: 0 } } }),
      400,
      'check-and-set parameter did not match the current version',
    );
  });

  it('cas must equal current_version; a numeric string is accepted', async () => {
    await put(t, 'c', { a: 1 });
    expectError(
      await t.call('PUT', '/v1/secret/data/c', { body: { data: { a: 2 }, options: { cas: 2 } } }),
      400,
      'check-and-set parameter did not match the current version',
    );
    const ok = await t.call('PUT', '/v1/secret/data/c', { body: { data: { a: 2 }, options: { cas: '1' } } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().data.version).toBe(2);
  });

  it('a non-numeric cas answers 400 "error parsing check-and-set parameter"', async () => {
    expectError(
      await t.call('PUT', '/v1/secret/data/c', { body: { data: { a: 1 }, options: { cas: 'one' } } }),
      400,
      'error parsing check-and-set parameter',
    );
  });

  it('cas_required on the mount config makes options.cas mandatory', async () => {
    await t.call('POST', '/v1/secret/config', { body: { cas_required: true } });
    expectError(
      await t.call('PUT', '/v1/secret/data/c', { body: { data: { a: 1 }, options: {} } }),
      400,
      'check-and-set parameter required for this call',
    );
    expect((await t.call('PUT', '/v1/secret/data/c', { body: { data: { a: 1 }, options: { cas: 0 } } })).statusCode).toBe(200);
  });

  it('cas_required on the key metadata makes options.cas mandatory for that key only', async () => {
    await t.call('PUT', '/v1/secret/metadata/guarded', { body: { cas_required: true } });
    expectError(
      await t.call('PUT', '/v1/secret/data/guarded', { body: { data: { a: 1 } } }),
      400,
      'check-and-set parameter required for this call',
    );
    expect((await t.call('PUT', '/v1/secret/data/other', { body: { data: { a: 1 } } })).statusCode).toBe(200);
  });

  it('soft-deleted and destroyed versions still count toward current_version', async () => {
    await put(t, 'c', { a: 1 });
    await put(t, 'c', { a: 2 });
    await t.call('DELETE', '/v1/secret/data/c');
    await t.call('PUT', '/v1/secret/destroy/c', { body: { versions: [2] } });
    expectError(
      await t.call('PUT', '/v1/secret/data/c', { body: { data: { a: 3 }, options: { cas: 1 } } }),
      400,
      'check-and-set parameter did not match the current version',
    );
    expect((await t.call('PUT', '/v1/secret/data/c', { body: { data: { a: 3 }, options: { cas: 2 } } })).json().data.version).toBe(3);
  });
});

describe('KV v2 data read (kv-v2.md §4.1)', () => {
  it('answers 200 with data.data and data.metadata of the current version', async () => {
    await put(t, 'app', { username: 'svc-app', password: 's3cr3t!' });
    const res = await t.call('GET', '/v1/secret/data/app');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.json()).toEqual(
      envelope({ data: { username: 'svc-app', password: 's3cr3t!' }, metadata: versionMeta(1, T0) }),
    );
  });

  it('answers repeated reads of an unchanged version alike, each with its own request id and warnings, and a new version anew', async () => {
    await put(t, 'app', { username: 'svc-app', nested: { list: [1, 'two'] } });
    const bodies = [];
    for (const query of ['', '', '?foo=bar', '']) bodies.push((await t.call('GET', `/v1/secret/data/app${query}`)).body);
    const [first, second, withUnknown, fourth] = bodies.map((b) => JSON.parse(b!));
    const expected = envelope({ data: { username: 'svc-app', nested: { list: [1, 'two'] } }, metadata: versionMeta(1, T0) });
    expect(first).toEqual(expected);
    expect(second).toEqual(expected);
    expect(fourth).toEqual(expected);
    expect(withUnknown).toEqual({ ...expected, warnings: ['Endpoint ignored these unrecognized parameters: [foo]'] });
    expect(new Set([first, second, withUnknown, fourth].map((b) => b.request_id)).size).toBe(4);
    expect(bodies[1]!.replace(second.request_id, first.request_id)).toBe(bodies[0]);
    t.clock.advance(5);
    await put(t, 'app', { username: 'svc-app-2' });
    expect((await t.call('GET', '/v1/secret/data/app')).json()).toEqual(
      envelope({ data: { username: 'svc-app-2' }, metadata: versionMeta(2, T0 + 5) }),
    );
  });

  it('?version=N reads that version; 0 or absent reads the current one', async () => {
    await put(t, 'app', { v: 'one' });
    t.clock.advance(5);
    await put(t, 'app', { v: 'two' });
    expect((await t.call('GET', '/v1/secret/data/app?version=1')).json().data).toEqual({ data: { v: 'one' }, metadata: versionMeta(1, T0) });
    expect((await t.call('GET', '/v1/secret/data/app?version=0')).json().data.data).toEqual({ v: 'two' });
    expect((await t.call('GET', '/v1/secret/data/app')).json().data.metadata.version).toBe(2);
  });

  it('answers 404 {"errors":[]} for a key never written', async () => {
    expectNotFound(await t.call('GET', '/v1/secret/data/nope'));
  });

  it('answers 404 {"errors":[]} for a version that does not exist (too new)', async () => {
    await put(t, 'app', { a: 1 });
    expectNotFound(await t.call('GET', '/v1/secret/data/app?version=2'));
  });

  it('answers 400 for a non-integer version', async () => {
    const res = await t.call('GET', '/v1/secret/data/app?version=latest');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      errors: ['Field validation failed: error converting input for field "version": cannot parse as an integer'],
    });
  });

  it('a soft-deleted version answers 404 with the full envelope: data.data null, metadata with deletion_time, mount_type ""', async () => {
    await put(t, 'app', { a: 1 });
    t.clock.advance(HOUR);
    const del = await t.call('DELETE', '/v1/secret/data/app');
    expect(del.statusCode).toBe(204);
    const res = await t.call('GET', '/v1/secret/data/app');
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.json()).toEqual(envelope({ data: null, metadata: versionMeta(1, T0, { deletion: T0 + HOUR }) }, { mountType: '' }));
  });

  it('a destroyed version answers 404 with the full envelope: data.data null, metadata.destroyed true', async () => {
    await put(t, 'app', { a: 1 });
    await t.call('PUT', '/v1/secret/destroy/app', { body: { versions: ['1'] } });
    const res = await t.call('GET', '/v1/secret/data/app?version=1');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual(envelope({ data: null, metadata: versionMeta(1, T0, { destroyed: true }) }, { mountType: '' }));
  });

  it('timestamps are RFC 3339 UTC with trailing zeros of the fraction trimmed', async () => {
    t.clock.set(Date.UTC(2025, 0, 8, 11, 0, 0, 500));
    expect((await put(t, 'a', { x: 1 })).created_time).toBe('2025-01-08T11:00:00.5Z');
    t.clock.set(Date.UTC(2025, 0, 8, 11, 0, 1, 0));
    expect((await put(t, 'b', { x: 1 })).created_time).toBe('2025-01-08T11:00:01Z');
  });
});

describe('KV v2 DELETE data (kv-v2.md §4.4)', () => {
  it('soft-deletes the latest version only, answering 204', async () => {
    await put(t, 'app', { v: 1 });
    await put(t, 'app', { v: 2 });
    const res = await t.call('DELETE', '/v1/secret/data/app');
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expect((await t.call('GET', '/v1/secret/data/app?version=1')).json().data.data).toEqual({ v: 1 });
    expect((await t.call('GET', '/v1/secret/data/app?version=2')).statusCode).toBe(404);
  });

  it('is idempotent and never 404: missing key, already deleted, destroyed latest all answer 204', async () => {
    expect((await t.call('DELETE', '/v1/secret/data/never')).statusCode).toBe(204);
    await put(t, 'app', { v: 1 });
    expect((await t.call('DELETE', '/v1/secret/data/app')).statusCode).toBe(204);
    const first = (await t.call('GET', '/v1/secret/metadata/app')).json().data.versions['1'].deletion_time;
    t.clock.advance(1000);
    expect((await t.call('DELETE', '/v1/secret/data/app')).statusCode).toBe(204);
    expect((await t.call('GET', '/v1/secret/metadata/app')).json().data.versions['1'].deletion_time).toBe(first);
    await t.call('PUT', '/v1/secret/destroy/app', { body: { versions: [1] } });
    expect((await t.call('DELETE', '/v1/secret/data/app')).statusCode).toBe(204);
  });
});

describe('KV v2 retention: max_versions (kv-v2.md §2)', () => {
  it('keeps 10 versions by default: older ones are pruned and oldest_version advances', async () => {
    for (let i = 1; i <= 12; i++) await put(t, 'app', { i });
    const meta = (await t.call('GET', '/v1/secret/metadata/app')).json().data;
    expect(meta.current_version).toBe(12);
    expect(meta.oldest_version).toBe(3);
    expect(Object.keys(meta.versions)).toEqual(['3', '4', '5', '6', '7', '8', '9', '10', '11', '12']);
    expectNotFound(await t.call('GET', '/v1/secret/data/app?version=2'));
    expect((await t.call('GET', '/v1/secret/data/app?version=3')).json().data.data).toEqual({ i: 3 });
  });

  it('oldest_version stays 0 until pruning starts', async () => {
    for (let i = 1; i <= 10; i++) await put(t, 'app', { i });
    expect((await t.call('GET', '/v1/secret/metadata/app')).json().data.oldest_version).toBe(0);
  });

  it('uses the mount max_versions when the key sets none', async () => {
    await t.call('POST', '/v1/secret/config', { body: { max_versions: 2 } });
    for (let i = 1; i <= 4; i++) await put(t, 'app', { i });
    const meta = (await t.call('GET', '/v1/secret/metadata/app')).json().data;
    expect(Object.keys(meta.versions)).toEqual(['3', '4']);
    expect(meta.oldest_version).toBe(3);
    expect(meta.max_versions).toBe(0);
  });

  it('the effective max is the larger of the key and mount settings', async () => {
    await t.call('POST', '/v1/secret/config', { body: { max_versions: 3 } });
    await t.call('PUT', '/v1/secret/metadata/low', { body: { max_versions: 1 } });
    await t.call('PUT', '/v1/secret/metadata/high', { body: { max_versions: 5 } });
    for (let i = 1; i <= 6; i++) {
      await put(t, 'low', { i });
      await put(t, 'high', { i });
    }
    expect(Object.keys((await t.call('GET', '/v1/secret/metadata/low')).json().data.versions)).toEqual(['4', '5', '6']);
    expect(Object.keys((await t.call('GET', '/v1/secret/metadata/high')).json().data.versions)).toEqual(['2', '3', '4', '5', '6']);
  });
});

describe('KV v2 delete_version_after (kv-v2.md §2)', () => {
  it('pre-fills deletion_time on write from the mount setting, and the version reads as deleted once it passes', async () => {
    await t.call('POST', '/v1/secret/config', { body: { delete_version_after: '1h' } });
    const res = await t.call('PUT', '/v1/secret/data/app', { body: { data: { a: 1 } } });
    expect(res.json().data).toEqual(versionMeta(1, T0, { deletion: T0 + HOUR }));
    t.clock.advance(HOUR - 1);
    expect((await t.call('GET', '/v1/secret/data/app')).statusCode).toBe(200);
    t.clock.advance(1);
    const gone = await t.call('GET', '/v1/secret/data/app');
    expect(gone.statusCode).toBe(404);
    expect(gone.json()).toEqual(envelope({ data: null, metadata: versionMeta(1, T0, { deletion: T0 + HOUR }) }, { mountType: '' }));
  });

  it('uses the smaller of the non-zero key and mount values', async () => {
    await t.call('POST', '/v1/secret/config', { body: { delete_version_after: '2h' } });
    await t.call('PUT', '/v1/secret/metadata/short', { body: { delete_version_after: '30m' } });
    await t.call('PUT', '/v1/secret/metadata/long', { body: { delete_version_after: '5h' } });
    expect((await put(t, 'short', { a: 1 })).deletion_time).toBe(iso(T0 + HOUR / 2));
    expect((await put(t, 'long', { a: 1 })).deletion_time).toBe(iso(T0 + 2 * HOUR));
  });

  it('applies a key value alone when the mount sets none', async () => {
    await t.call('PUT', '/v1/secret/metadata/k', { body: { delete_version_after: '10m' } });
    expect((await put(t, 'k', { a: 1 })).deletion_time).toBe(iso(T0 + 600_000));
  });

  it('a negative mount value disables the mechanism for every key', async () => {
    await t.call('POST', '/v1/secret/config', { body: { delete_version_after: '-1s' } });
    await t.call('PUT', '/v1/secret/metadata/k', { body: { delete_version_after: '10m' } });
    expect((await put(t, 'k', { a: 1 })).deletion_time).toBe('');
  });

  it('0 clears the setting', async () => {
    await t.call('POST', '/v1/secret/config', { body: { delete_version_after: '1h' } });
    await t.call('POST', '/v1/secret/config', { body: { delete_version_after: '0s' } });
    expect((await put(t, 'k', { a: 1 })).deletion_time).toBe('');
  });
});

describe('KV v2 version data across writes', () => {
  it('every retained version keeps its own data as later versions are written, patched and pruned', async () => {
    await t.call('PUT', '/v1/secret/metadata/app', { body: { max_versions: 3 } });
    for (let i = 1; i <= 5; i++) await put(t, 'app', { i });
    await t.call('PATCH', '/v1/secret/data/app', { body: { data: { p: true } }, headers: { 'content-type': 'application/merge-patch+json' } });
    const versions = (await t.call('GET', '/v1/secret/metadata/app')).json().data.versions;
    expect(Object.keys(versions)).toEqual(['4', '5', '6']);
    expect((await t.call('GET', '/v1/secret/data/app?version=4')).json().data.data).toEqual({ i: 4 });
    expect((await t.call('GET', '/v1/secret/data/app?version=5')).json().data.data).toEqual({ i: 5 });
    expect((await t.call('GET', '/v1/secret/data/app')).json().data.data).toEqual({ i: 5, p: true });
    const stored = (await t.server.core.store.scan('logical/')).map((e) => e.value.toString('utf8')).join('\n');
    for (const pruned of ['{"i":1}', '{"i":2}', '{"i":3}']) expect(stored).not.toContain(pruned);
  });

  it('with max_versions 1 only the current version is kept', async () => {
    await t.call('PUT', '/v1/secret/metadata/one', { body: { max_versions: 1 } });
    await t.call('POST', '/v1/secret/config', { body: { max_versions: 1 } });
    for (let i = 1; i <= 3; i++) await put(t, 'one', { i });
    expect(Object.keys((await t.call('GET', '/v1/secret/metadata/one')).json().data.versions)).toEqual(['3']);
    const stored = (await t.server.core.store.scan('logical/')).map((e) => e.value.toString('utf8')).join('\n');
    expect(stored).not.toContain('{"i":1}');
    expect(stored).not.toContain('{"i":2}');
    expect((await t.call('GET', '/v1/secret/data/one')).json().data.data).toEqual({ i: 3 });
  });
});

describe('KV v2 concurrent writes to one secret', () => {
  it('all succeed in arrival order, each with its own version and event', async () => {
    const res = await Promise.all(Array.from({ length: 60 }, (_, i) => t.call('PUT', '/v1/secret/data/hot', { body: { data: { i } } })));
    expect(res.map((r) => r.statusCode)).toEqual(Array(60).fill(200));
    expect(res.map((r) => r.json().data.version)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect((await t.call('GET', '/v1/secret/data/hot')).json().data.data).toEqual({ i: 59 });
    expect((await events(t)).map((e) => e.version)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
  });

  it('with check-and-set, exactly one of many writers of the same version wins', async () => {
    await put(t, 'cas', { v: 0 });
    const res = await Promise.all(
      Array.from({ length: 20 }, (_, i) => t.call('PUT', '/v1/secret/data/cas', { body: { data: { v: i }, options: { cas: 1 } } })),
    );
    expect(res.filter((r) => r.statusCode === 200)).toHaveLength(1);
    expect(res.filter((r) => r.statusCode === 400).map((r) => r.json().errors)).toEqual(
      Array(19).fill(['check-and-set parameter did not match the current version']),
    );
  });
});

describe('KV v2 large values (kept outside the metadata entry)', () => {
  const big = (tag: string) => ({ tag, pem: `-----BEGIN CERTIFICATE-----\n${'A'.repeat(2000)}\n-----END CERTIFICATE-----` });

  it('large and small versions of one secret read, patch, prune and destroy alike', async () => {
    await t.call('PUT', '/v1/secret/metadata/cert', { body: { max_versions: 3 } });
    await put(t, 'cert', big('v1'));
    await put(t, 'cert', { tag: 'v2-small' });
    await put(t, 'cert', big('v3'));
    expect((await t.call('GET', '/v1/secret/data/cert?version=1')).json().data.data).toEqual(big('v1'));
    expect((await t.call('GET', '/v1/secret/data/cert?version=2')).json().data.data).toEqual({ tag: 'v2-small' });
    expect((await t.call('GET', '/v1/secret/data/cert')).json().data.data).toEqual(big('v3'));
    const patched = await t.call('PATCH', '/v1/secret/data/cert', { body: { data: { tag: 'v4' } }, headers: { 'content-type': 'application/merge-patch+json' } });
    expect(patched.json().data.version).toBe(4);
    expect((await t.call('GET', '/v1/secret/data/cert')).json().data.data).toEqual({ ...big('v3'), tag: 'v4' });
    expect((await t.call('GET', '/v1/secret/data/cert?version=3')).json().data.data).toEqual(big('v3'));
    expect(Object.keys((await t.call('GET', '/v1/secret/metadata/cert')).json().data.versions)).toEqual(['2', '3', '4']);
    await t.call('PUT', '/v1/secret/destroy/cert', { body: { versions: [4] } });
    expect((await t.call('GET', '/v1/secret/data/cert')).json().data.metadata.destroyed).toBe(true);
    const stored = (await t.server.core.store.scan('logical/')).map((e) => e.value.toString('utf8')).join('\n');
    expect(stored).not.toContain('"v1"');
    expect(stored).not.toContain('"v4"');
    expect(stored).toContain('"v3"');
  });

  it('a secret of 10 small versions is one entry (every version\'s data inline), within the ~2000 bytes SQLite keeps in-page with 8 KB pages', async () => {
    const value = (i: number) => ({ username: 'svc-app', password: `Zq8v!r2L#pW9xT4m@Kc${i}`, host: 'db.internal', port: 5432 });
    for (let i = 0; i < 12; i++) await put(t, 'team/app/db-credentials', value(i));
    const stored = await t.server.core.store.scan('logical/');
    const entries = stored.filter((e) => !e.key.endsWith('/config'));
    expect(entries.map((e) => e.key.replace(/^logical\/[^/]+\//, ''))).toEqual(['meta/team/app/db-credentials']);
    // A new SQLite store has 8 KB pages (sqlite.ts); in a store made with 4 KB pages this row has one overflow page.
    expect(entries[0]!.key.length + entries[0]!.value.length + 33).toBeLessThan(2000);
    for (let n = 3; n <= 12; n++) {
      expect((await t.call('GET', `/v1/secret/data/team/app/db-credentials?version=${n}`)).json().data.data).toEqual(value(n - 1));
    }
  });

  it('keeps inline only the earlier versions that fit the entry in its page: ten 350-byte versions make one entry under ~2000 bytes, the oldest in their own entries', async () => {
    // Each value just under INLINE_DATA_MAX, so every one is inline while current.
    const value = (i: number) => ({ key: `-----BEGIN OPENSSH PRIVATE KEY----- ${String(i).padStart(3, '0')} ${'k'.repeat(300)}` });
    for (let i = 1; i <= 10; i++) await put(t, 'ssh', value(i));
    const stored = (await t.server.core.store.scan('logical/')).filter((e) => !e.key.endsWith('/config'));
    const [meta] = stored.filter((e) => e.key.endsWith('/meta/ssh'));
    expect(meta!.key.length + meta!.value.length + 33).toBeLessThan(2000);
    const inline = Object.keys(decodeMeta(meta!.value).past ?? {}).map(Number);
    const own = stored.filter((e) => e.key.includes('/ver/')).map((e) => Number(e.key.split('/').pop()));
    // Each earlier version in exactly one place, the newest ones inline.
    expect([...own, ...inline].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(inline.length).toBeGreaterThan(0);
    expect(Math.min(...inline)).toBeGreaterThan(Math.max(...own));
    for (let n = 1; n <= 10; n++) expect((await t.call('GET', `/v1/secret/data/ssh?version=${n}`)).json().data.data).toEqual(value(n));
    // A version that moved out is destroyed and pruned from its own entry like any other.
    await t.call('PUT', '/v1/secret/destroy/ssh', { body: { versions: [own[0]] } });
    await t.call('POST', '/v1/secret/metadata/ssh', { body: { max_versions: 2 } });
    await put(t, 'ssh', value(11));
    const after = (await t.server.core.store.scan('logical/')).filter((e) => !e.key.endsWith('/config'));
    expect(after.filter((e) => e.key.includes('/ver/'))).toEqual([]);
    expect(after.map((e) => e.value.toString('utf8')).join('\n')).not.toContain(' 009 ');
    expect((await t.call('GET', '/v1/secret/data/ssh?version=10')).json().data.data).toEqual(value(10));
  });

  it('keeps at most 9 earlier versions inline whatever max_versions is; the others have their own entries', async () => {
    await t.call('PUT', '/v1/secret/metadata/many', { body: { max_versions: 30 } });
    for (let i = 1; i <= 40; i++) await put(t, 'many', { i });
    const stored = await t.server.core.store.scan('logical/');
    const [meta] = stored.filter((e) => e.key.endsWith('/meta/many'));
    // Versions 11–40 are kept. 1–9 were superseded while there was room inline, 10–29 while
    // there was none; pruning 1–9 (writes 31–39) made room for 30–38; 39 found none again.
    expect(decodeMeta(meta!.value).past).toEqual(Object.fromEntries([30, 31, 32, 33, 34, 35, 36, 37, 38].map((n) => [n, { i: n }])));
    expect(stored.filter((e) => e.key.includes('/ver/')).map((e) => Number(e.key.split('/').pop())).sort((a, b) => a - b)).toEqual([
      ...Array.from({ length: 19 }, (_, k) => 11 + k),
      39,
    ]);
    for (let n = 11; n <= 40; n++) expect((await t.call('GET', `/v1/secret/data/many?version=${n}`)).json().data.data).toEqual({ i: n });
    expect((await t.call('GET', '/v1/secret/data/many?version=10')).statusCode).toBe(404);
  });

  it('destroying and pruning inline earlier versions removes their data from the metadata entry', async () => {
    await t.call('PUT', '/v1/secret/metadata/short', { body: { max_versions: 3 } });
    for (let i = 1; i <= 3; i++) await put(t, 'short', { secret: `value-${i}` });
    await t.call('PUT', '/v1/secret/destroy/short', { body: { versions: [2] } });
    await put(t, 'short', { secret: 'value-4' });
    const stored = (await t.server.core.store.scan('logical/')).filter((e) => !e.key.endsWith('/config'));
    expect(stored).toHaveLength(1);
    const text = stored[0]!.value.toString('utf8');
    expect(text).not.toContain('value-1');
    expect(text).not.toContain('value-2');
    expect(text).toContain('value-3');
    expect((await t.call('GET', '/v1/secret/data/short?version=2')).json().data.metadata.destroyed).toBe(true);
    expect((await t.call('GET', '/v1/secret/data/short?version=3')).json().data.data).toEqual({ secret: 'value-3' });
  });
});

describe('KV v2 secrets stored before earlier versions were kept inline', () => {
  /** Rewrites `path` (written once) in the earlier layout: versions 1–10, 1–9 in entries of their own, 10 inline. */
  async function legacySecret(path: string): Promise<{ base: string; incarnation: string }> {
    await put(t, path, { v: 0 });
    const [entry] = (await t.server.core.store.scan('logical/')).filter((e) => e.key.endsWith(`/meta/${path}`));
    const base = entry!.key.slice(0, -`meta/${path}`.length);
    const meta = decodeMeta(entry!.value);
    meta.versions = {};
    for (let n = 1; n <= 10; n++) meta.versions[n] = { created: T0 + n, deletion: null, destroyed: false };
    meta.current = 10;
    meta.data = { v: 10 };
    const ops: WriteOp[] = [{ kind: 'put', key: entry!.key, value: encodeMeta(meta) }];
    for (let n = 1; n <= 9; n++) ops.push({ kind: 'put', key: `${base}ver/${meta.incarnation}/${n}`, value: encode({ v: n }) });
    await t.server.core.store.commit(ops, [{ key: entry!.key, revision: entry!.revision }]);
    expect(encodeMeta(meta).toString('utf8')).not.toContain('"p":');
    return { base, incarnation: meta.incarnation };
  }

  const versionEntries = async (incarnation: string) =>
    (await t.server.core.store.scan('logical/'))
      .filter((e) => e.key.includes(`/ver/${incarnation}/`))
      .map((e) => Number(e.key.split('/').pop()))
      .sort((a, b) => a - b);

  it('read, list, delete, undelete, destroy, write (pruning their entries) and remove as before', async () => {
    const { incarnation } = await legacySecret('old');
    for (let n = 1; n <= 10; n++) expect((await t.call('GET', `/v1/secret/data/old?version=${n}`)).json().data.data).toEqual({ v: n });
    expect((await t.call('LIST', '/v1/secret/metadata/')).json().data.keys).toEqual(['old']);
    await t.call('POST', '/v1/secret/delete/old', { body: { versions: [5] } });
    expect((await t.call('GET', '/v1/secret/data/old?version=5')).statusCode).toBe(404);
    await t.call('POST', '/v1/secret/undelete/old', { body: { versions: [5] } });
    expect((await t.call('GET', '/v1/secret/data/old?version=5')).json().data.data).toEqual({ v: 5 });
    await t.call('PUT', '/v1/secret/destroy/old', { body: { versions: [4] } });
    expect(await versionEntries(incarnation)).toEqual([1, 2, 3, 5, 6, 7, 8, 9]);
    await put(t, 'old', { v: 11 });
    await put(t, 'old', { v: 12 });
    // Versions 1 and 2 pruned with their entries; 10 and 11 superseded, kept inline.
    expect(await versionEntries(incarnation)).toEqual([3, 5, 6, 7, 8, 9]);
    for (const n of [3, 5, 6, 7, 8, 9, 10, 11, 12]) expect((await t.call('GET', `/v1/secret/data/old?version=${n}`)).json().data.data).toEqual({ v: n });
    expect((await t.call('GET', '/v1/secret/data/old?version=4')).json().data.metadata.destroyed).toBe(true);
    await t.call('DELETE', '/v1/secret/metadata/old');
    expect((await t.server.core.store.scan('logical/')).filter((e) => !e.key.endsWith('/config'))).toEqual([]);
  });
});
