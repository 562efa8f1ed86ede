import { beforeEach, describe, expect, it } from 'vitest';
import { HOUR, MERGE_PATCH, T0, envelope, expectError, expectNotFound, iso, put, useKv, versionMeta } from './helpers.js';

const t = useKv();

const readMeta = async (path: string) => (await t.call('GET', `/v1/secret/metadata/${path}`)).json().data;

describe('KV v2 metadata read (kv-v2.md §5.2)', () => {
  it('answers the key-level settings and a versions object keyed by decimal strings', async () => {
    await put(t, 'app', { a: 1 });
    t.clock.advance(HOUR);
    await put(t, 'app', { a: 2 });
    const res = await t.call('GET', '/v1/secret/metadata/app');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(
      envelope({
        cas_required: false,
        created_time: iso(T0),
        current_version: 2,
        custom_metadata: null,
        delete_version_after: '0s',
        max_versions: 0,
        oldest_version: 0,
        updated_time: iso(T0 + HOUR),
        versions: {
          '1': { created_time: iso(T0), deletion_time: '', destroyed: false },
          '2': { created_time: iso(T0 + HOUR), deletion_time: '', destroyed: false },
        },
      }),
    );
  });

  it('reports key-level settings, not the effective values', async () => {
    await t.call('POST', '/v1/secret/config', { body: { max_versions: 7, cas_required: true, delete_version_after: '1h' } });
    await put(t, 'app', { a: 1 }, { cas: 0 });
    expect(await readMeta('app')).toMatchObject({ max_versions: 0, cas_required: false, delete_version_after: '0s' });
  });

  it('answers 404 {"errors":[]} for a missing key', async () => {
    expectNotFound(await t.call('GET', '/v1/secret/metadata/nope'));
  });
});

describe('KV v2 list (kv-v2.md §5.1)', () => {
  beforeEach(async () => {
    for (const p of ['team-a', 'db-creds', 'team/x', 'team/y/z', 'foo', 'foo/bar']) await put(t, p, { a: 1 });
  });

  it('lists the root with GET metadata?list=true (no trailing slash), sorted, folders once with a trailing slash', async () => {
    const res = await t.call('GET', '/v1/secret/metadata?list=true');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(envelope({ keys: ['db-creds', 'foo', 'foo/', 'team-a', 'team/'] }));
  });

  it('the LIST verb and GET ?list=true on a folder answer the direct children only', async () => {
    const viaList = await t.call('LIST', '/v1/secret/metadata/team/');
    const viaGet = await t.call('GET', '/v1/secret/metadata/team?list=true');
    expect(viaList.json().data).toEqual({ keys: ['x', 'y/'] });
    expect(viaGet.json().data).toEqual({ keys: ['x', 'y/'] });
  });

  it('nothing under the prefix answers 404 {"errors":[]}', async () => {
    expectNotFound(await t.call('GET', '/v1/secret/metadata/empty?list=true'));
    expectNotFound(await t.call('GET', '/v1/secret/metadata/team-a?list=true'));
  });

  it('keys whose versions are all deleted or destroyed are still listed until their metadata is deleted', async () => {
    await t.call('DELETE', '/v1/secret/data/db-creds');
    await t.call('PUT', '/v1/secret/destroy/team-a', { body: { versions: [1] } });
    expect((await t.call('GET', '/v1/secret/metadata?list=true')).json().data.keys).toEqual(['db-creds', 'foo', 'foo/', 'team-a', 'team/']);
    await t.call('DELETE', '/v1/secret/metadata/db-creds');
    expect((await t.call('GET', '/v1/secret/metadata?list=true')).json().data.keys).toEqual(['foo', 'foo/', 'team-a', 'team/']);
  });

  it('exclude_deleted=true omits keys whose current version is soft-deleted; folders are kept', async () => {
    await t.call('DELETE', '/v1/secret/data/db-creds');
    await t.call('DELETE', '/v1/secret/data/team/x');
    expect((await t.call('GET', '/v1/secret/metadata?list=true&exclude_deleted=true')).json().data.keys).toEqual(['foo', 'foo/', 'team-a', 'team/']);
    expect((await t.call('LIST', '/v1/secret/metadata/team?exclude_deleted=true')).json().data.keys).toEqual(['y/']);
  });
});

describe('KV v2 metadata write (kv-v2.md §5.3)', () => {
  it('creates the metadata of a key without versions and answers 204', async () => {
    const res = await t.call('PUT', '/v1/secret/metadata/new', { body: { max_versions: 5, custom_metadata: { owner: 'platform' } } });
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expect(await readMeta('new')).toEqual({
      cas_required: false,
      created_time: iso(T0),
      current_version: 0,
      custom_metadata: { owner: 'platform' },
      delete_version_after: '0s',
      max_versions: 5,
      oldest_version: 0,
      updated_time: iso(T0),
      versions: {},
    });
    expectNotFound(await t.call('GET', '/v1/secret/data/new'));
    expect((await t.call('GET', '/v1/secret/metadata?list=true')).json().data.keys).toEqual(['new']);
  });

  it('changes only the supplied fields', async () => {
    await t.call('PUT', '/v1/secret/metadata/k', { body: { max_versions: 5, cas_required: true, delete_version_after: '1h', custom_metadata: { a: 'b' } } });
    t.clock.advance(1000);
    await t.call('PUT', '/v1/secret/metadata/k', { body: { max_versions: '3' } });
    expect(await readMeta('k')).toMatchObject({
      max_versions: 3,
      cas_required: true,
      delete_version_after: '1h0m0s',
      custom_metadata: { a: 'b' },
      updated_time: iso(T0 + 1000),
    });
  });

  it('no recognized field is a no-op (200 with the unrecognized-parameter warning) that does not create the key', async () => {
    const res = await t.call('PUT', '/v1/secret/metadata/k', { body: { something: 1 } });
    expect(res.statusCode).toBe(200);
    expect(res.json().warnings).toEqual(['Endpoint ignored these unrecognized parameters: [something]']);
    expectNotFound(await t.call('GET', '/v1/secret/metadata/k'));
  });

  it('cas_required=false while the mount requires CAS answers 200 with Vault\'s warning', async () => {
    await t.call('POST', '/v1/secret/config', { body: { cas_required: true } });
    const res = await t.call('PUT', '/v1/secret/metadata/k', { body: { cas_required: false } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(
      envelope(null, { warnings: ['"cas_required" set to false, but is mandated by backend config. This value will be ignored.'] }),
    );
  });

  it('custom_metadata replaces the whole map and appears in data reads and write responses', async () => {
    await t.call('PUT', '/v1/secret/metadata/k', { body: { custom_metadata: { owner: 'platform', ticket: 'OPS-42' } } });
    await t.call('PUT', '/v1/secret/metadata/k', { body: { custom_metadata: { owner: 'sre' } } });
    const written = await put(t, 'k', { a: 1 });
    expect(written).toEqual(versionMeta(1, T0, { custom: { owner: 'sre' } }));
    expect((await t.call('GET', '/v1/secret/data/k')).json().data.metadata.custom_metadata).toEqual({ owner: 'sre' });
  });

  it('custom_metadata accepts the CLI\'s key=value strings', async () => {
    await t.call('PUT', '/v1/secret/metadata/k', { body: { custom_metadata: ['owner=me', 'env=prod'] } });
    expect((await readMeta('k')).custom_metadata).toEqual({ owner: 'me', env: 'prod' });
  });
});

describe('KV v2 custom_metadata limits (kv-v2.md §2, §5.3)', () => {
  const cases: Array<[string, Record<string, string>, string[]]> = [
    [
      'at most 64 keys',
      Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v'])),
      ['custom_metadata validation failed: payload must contain at most 64 keys, provided 65'],
    ],
    ['keys of at most 128 bytes', { ['k'.repeat(129)]: 'v' }, [`custom_metadata validation failed: length of key "${'k'.repeat(129)}" is 129 but must be 0 < len(key) <= 128`]],
    ['values of at most 512 bytes', { k: 'v'.repeat(513) }, ['custom_metadata validation failed: length of value for key "k" is 513 but must be 0 < len(value) <= 512']],
    ['non-empty values', { k: '' }, ['custom_metadata validation failed: length of value for key "k" is 0 but must be 0 < len(value) <= 512']],
    [
      'printable characters only',
      { 'a\tb': 'x\ny' },
      [
        'custom_metadata validation failed: key "a\\tb" contains unprintable characters',
        'custom_metadata validation failed: value for key "a\\tb" contains unprintable characters',
      ],
    ],
  ];
  for (const [rule, custom, errors] of cases) {
    it(`rejects custom_metadata that breaks the rule "${rule}" with 400 and changes nothing`, async () => {
      await t.call('PUT', '/v1/secret/metadata/k', { body: { custom_metadata: { owner: 'platform' } } });
      const res = await t.call('PUT', '/v1/secret/metadata/k', { body: { custom_metadata: custom, max_versions: 9 } });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ errors });
      expect(await readMeta('k')).toMatchObject({ custom_metadata: { owner: 'platform' }, max_versions: 0 });
    });
  }

  it('accepts the limits exactly: 64 keys, 128-byte keys, 512-byte values, unicode and spaces', async () => {
    const custom = Object.fromEntries(Array.from({ length: 63 }, (_, i) => [`k${i}`, 'v']));
    custom['k'.repeat(128)] = 'é'.repeat(256);
    expect((await t.call('PUT', '/v1/secret/metadata/k', { body: { custom_metadata: { ...custom } } })).statusCode).toBe(204);
    expect((await t.call('PUT', '/v1/secret/metadata/j', { body: { custom_metadata: { 'team name': 'Ünïcode ✓' } } })).statusCode).toBe(204);
  });
});

describe('KV v2 metadata PATCH (kv-v2.md §5.4)', () => {
  it('merges the supplied fields; a null custom_metadata value removes that key', async () => {
    await t.call('PUT', '/v1/secret/metadata/k', { body: { max_versions: 5, custom_metadata: { a: '1', b: '2' } } });
    const res = await t.call('PATCH', '/v1/secret/metadata/k', { body: { cas_required: true, custom_metadata: { a: null, c: '3' } }, headers: MERGE_PATCH });
    expect(res.statusCode).toBe(204);
    expect(await readMeta('k')).toMatchObject({ max_versions: 5, cas_required: true, custom_metadata: { b: '2', c: '3' } });
  });

  it('a missing key answers 404 with an empty body', async () => {
    const res = await t.call('PATCH', '/v1/secret/metadata/nope', { body: { max_versions: 1 }, headers: MERGE_PATCH });
    expect(res.statusCode).toBe(404);
    expect(res.body).toBe('');
    expect(res.headers['content-type']).toBe('application/json');
  });

  it('validates the patched custom_metadata as a write does', async () => {
    await t.call('PUT', '/v1/secret/metadata/k', { body: { custom_metadata: { a: '1' } } });
    const res = await t.call('PATCH', '/v1/secret/metadata/k', { body: { custom_metadata: { b: '' } }, headers: MERGE_PATCH });
    expectError(res, 400, 'custom_metadata validation failed: length of value for key "b" is 0 but must be 0 < len(value) <= 512');
    expect((await readMeta('k')).custom_metadata).toEqual({ a: '1' });
  });

  it('requires the merge-patch Content-Type', async () => {
    await t.call('PUT', '/v1/secret/metadata/k', { body: { max_versions: 1 } });
    expect((await t.call('PATCH', '/v1/secret/metadata/k', { body: { max_versions: 2 } })).statusCode).toBe(415);
  });
});

describe('KV v2 metadata DELETE (kv-v2.md §5.5)', () => {
  it('removes the metadata and every version, answering 204; the key disappears from lists', async () => {
    await put(t, 'app', { a: 'first' });
    await put(t, 'app', { a: 'second' });
    await put(t, 'other', { a: 'kept' });
    const res = await t.call('DELETE', '/v1/secret/metadata/app');
    expect(res.statusCode).toBe(204);
    expectNotFound(await t.call('GET', '/v1/secret/metadata/app'));
    expectNotFound(await t.call('GET', '/v1/secret/data/app?version=1'));
    expect((await t.call('GET', '/v1/secret/metadata?list=true')).json().data.keys).toEqual(['other']);
    const stored = (await t.server.core.store.scan('logical/')).map((e) => e.value.toString('utf8')).join('\n');
    expect(stored).not.toContain('first');
    expect(stored).not.toContain('second');
    expect(stored).toContain('kept');
  });

  it('a re-created key starts again at version 1', async () => {
    await put(t, 'app', { a: 1 });
    await put(t, 'app', { a: 2 });
    await t.call('DELETE', '/v1/secret/metadata/app');
    expect((await put(t, 'app', { a: 3 })).version).toBe(1);
  });

  it('does not touch a sibling whose path extends the deleted one', async () => {
    await put(t, 'a', { v: 'a' });
    await put(t, 'a/b', { v: 'ab' });
    await t.call('DELETE', '/v1/secret/metadata/a');
    expect((await t.call('GET', '/v1/secret/data/a/b')).json().data.data).toEqual({ v: 'ab' });
  });

  it('a missing key answers 204', async () => {
    expect((await t.call('DELETE', '/v1/secret/metadata/nope')).statusCode).toBe(204);
  });
});
