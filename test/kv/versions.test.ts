import { describe, expect, it } from 'vitest';
import { HOUR, T0, envelope, expectError, iso, put, useKv, versionMeta } from './helpers.js';

const t = useKv();

const versions = async (path: string) => (await t.call('GET', `/v1/secret/metadata/${path}`)).json().data.versions;

async function threeVersions(): Promise<void> {
  for (let i = 1; i <= 3; i++) await put(t, 'app', { i });
}

describe('KV v2 delete/undelete/destroy of versions (kv-v2.md §4.5)', () => {
  it('versions accepts [1,2], ["1","2"] (what the CLI sends) and "1,2"; each answers 204', async () => {
    await threeVersions();
    for (const body of [{ versions: [1] }, { versions: ['2'] }, { versions: '3' }]) {
      const res = await t.call('POST', '/v1/secret/delete/app', { body });
      expect(res.statusCode).toBe(204);
      expect(res.body).toBe('');
    }
    const v = await versions('app');
    for (const n of ['1', '2', '3']) expect(v[n].deletion_time).toBe(iso(T0));
    await t.call('PUT', '/v1/secret/undelete/app', { body: { versions: '1,2' } });
    const after = await versions('app');
    expect([after['1'].deletion_time, after['2'].deletion_time, after['3'].deletion_time]).toEqual(['', '', iso(T0)]);
  });

  it('empty or missing versions answer 400: "No version number provided" for delete/undelete, lowercase for destroy', async () => {
    await put(t, 'app', { a: 1 });
    expectError(await t.call('POST', '/v1/secret/delete/app', { body: {} }), 400, 'No version number provided');
    expectError(await t.call('POST', '/v1/secret/undelete/app', { body: { versions: [] } }), 400, 'No version number provided');
    expectError(await t.call('PUT', '/v1/secret/destroy/app', { body: { versions: '' } }), 400, 'no version number provided');
  });

  it('a missing key answers 204 for each action', async () => {
    for (const action of ['delete', 'undelete', 'destroy']) {
      expect((await t.call('PUT', `/v1/secret/${action}/nope`, { body: { versions: [1] } })).statusCode).toBe(204);
    }
    expect((await t.call('GET', '/v1/secret/metadata/nope')).statusCode).toBe(404);
  });

  it('unknown versions are skipped silently', async () => {
    await put(t, 'app', { a: 1 });
    expect((await t.call('POST', '/v1/secret/delete/app', { body: { versions: [1, 7] } })).statusCode).toBe(204);
    expect(Object.keys(await versions('app'))).toEqual(['1']);
  });

  it('delete skips versions already deleted: their deletion_time does not move', async () => {
    await threeVersions();
    await t.call('POST', '/v1/secret/delete/app', { body: { versions: [1] } });
    t.clock.advance(HOUR);
    await t.call('POST', '/v1/secret/delete/app', { body: { versions: [1, 2] } });
    const v = await versions('app');
    expect(v['1'].deletion_time).toBe(iso(T0));
    expect(v['2'].deletion_time).toBe(iso(T0 + HOUR));
  });

  it('undelete restores the data of a soft-deleted version', async () => {
    await threeVersions();
    await t.call('DELETE', '/v1/secret/data/app');
    expect((await t.call('GET', '/v1/secret/data/app')).statusCode).toBe(404);
    await t.call('POST', '/v1/secret/undelete/app', { body: { versions: [3] } });
    const res = await t.call('GET', '/v1/secret/data/app');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(envelope({ data: { i: 3 }, metadata: versionMeta(3, T0) }));
  });

  it('undelete re-applies delete_version_after from now', async () => {
    await t.call('POST', '/v1/secret/config', { body: { delete_version_after: '1h' } });
    await put(t, 'app', { a: 1 });
    t.clock.advance(2 * HOUR);
    expect((await t.call('GET', '/v1/secret/data/app')).statusCode).toBe(404);
    await t.call('POST', '/v1/secret/undelete/app', { body: { versions: [1] } });
    expect((await versions('app'))['1'].deletion_time).toBe(iso(T0 + 3 * HOUR));
    expect((await t.call('GET', '/v1/secret/data/app')).json().data.data).toEqual({ a: 1 });
  });

  it('destroying the current version removes its data too', async () => {
    await threeVersions();
    await t.call('PUT', '/v1/secret/destroy/app', { body: { versions: [3] } });
    expect((await t.call('GET', '/v1/secret/data/app')).json().data.metadata.destroyed).toBe(true);
    const stored = (await t.server.core.store.scan('logical/')).map((e) => e.value.toString('utf8')).join('\n');
    expect(stored).not.toContain('{"i":3}');
    // The next write still works and keeps the older versions readable.
    await put(t, 'app', { i: 4 });
    expect((await t.call('GET', '/v1/secret/data/app?version=2')).json().data.data).toEqual({ i: 2 });
    expect((await t.call('GET', '/v1/secret/data/app')).json().data.data).toEqual({ i: 4 });
  });

  it('destroy marks versions destroyed and removes their data; undelete cannot bring them back', async () => {
    await threeVersions();
    expect((await t.call('PUT', '/v1/secret/destroy/app', { body: { versions: ['2'] } })).statusCode).toBe(204);
    const v = await versions('app');
    expect(v['2']).toEqual({ created_time: iso(T0), deletion_time: '', destroyed: true });
    await t.call('POST', '/v1/secret/undelete/app', { body: { versions: [2] } });
    const res = await t.call('GET', '/v1/secret/data/app?version=2');
    expect(res.statusCode).toBe(404);
    expect(res.json().data).toEqual({ data: null, metadata: versionMeta(2, T0, { destroyed: true }) });
    // The stored data is gone, not just hidden: no entry holds it any more.
    const stored = (await t.server.core.store.scan('logical/')).map((e) => e.value.toString('utf8')).join('\n');
    expect(stored).not.toContain('{"i":2}');
    expect(stored).toContain('{"i":1}');
    expect(stored).toContain('{"i":3}');
  });

  it('only write operations are served: GET and PATCH answer 405', async () => {
    await put(t, 'app', { a: 1 });
    expectError(await t.call('GET', '/v1/secret/destroy/app'), 405, 'unsupported operation');
    expectError(
      await t.call('PATCH', '/v1/secret/delete/app', { body: { versions: [1] }, headers: { 'content-type': 'application/merge-patch+json' } }),
      405,
      'unsupported operation',
    );
  });
});
