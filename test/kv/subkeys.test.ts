import { beforeEach, describe, expect, it } from 'vitest';
import { T0, envelope, expectError, expectNotFound, put, useKv, versionMeta } from './helpers.js';

const t = useKv();
beforeEach(async () => {
  await put(t, 'app', { db: { host: 'h', port: 5432, opts: { tls: true } }, token: 't', empty: {}, list: [1, 2] });
});

describe('KV v2 subkeys (kv-v2.md §6)', () => {
  it('answers the structure with every leaf and empty object as null, plus the version metadata', async () => {
    const res = await t.call('GET', '/v1/secret/subkeys/app');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(
      envelope({
        subkeys: { db: { host: null, port: null, opts: { tls: null } }, token: null, empty: null, list: null },
        metadata: versionMeta(1, T0),
      }),
    );
  });

  it('depth D makes keys at depth D leaves; depth 0 means unlimited', async () => {
    expect((await t.call('GET', '/v1/secret/subkeys/app?depth=1')).json().data.subkeys).toEqual({ db: null, token: null, empty: null, list: null });
    expect((await t.call('GET', '/v1/secret/subkeys/app?depth=2')).json().data.subkeys.db).toEqual({ host: null, port: null, opts: null });
    expect((await t.call('GET', '/v1/secret/subkeys/app?depth=0')).json().data.subkeys.db.opts).toEqual({ tls: null });
  });

  it('?version=N reads that version', async () => {
    await put(t, 'app', { other: 'x' });
    expect((await t.call('GET', '/v1/secret/subkeys/app?version=2')).json().data.subkeys).toEqual({ other: null });
    expect((await t.call('GET', '/v1/secret/subkeys/app?version=1')).json().data.metadata.version).toBe(1);
  });

  it('a missing key or version answers 404 {"errors":[]}', async () => {
    expectNotFound(await t.call('GET', '/v1/secret/subkeys/nope'));
    expectNotFound(await t.call('GET', '/v1/secret/subkeys/app?version=9'));
  });

  it('a deleted version answers 404 with the envelope and subkeys null', async () => {
    await t.call('DELETE', '/v1/secret/data/app');
    const res = await t.call('GET', '/v1/secret/subkeys/app');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual(envelope({ subkeys: null, metadata: versionMeta(1, T0, { deletion: T0 }) }, { mountType: '' }));
  });

  it('a negative depth answers 400', async () => {
    expectError(await t.call('GET', '/v1/secret/subkeys/app?depth=-1'), 400, 'depth must be a non-negative integer');
  });
});
