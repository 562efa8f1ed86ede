import { describe, expect, it } from 'vitest';
import { MERGE_PATCH, envelope, expectError, put, useKv } from './helpers.js';

const t = useKv();

const invalid = (verb: string) =>
  `Invalid path for a versioned K/V secrets engine. See the API docs for the appropriate API endpoints to use. If using the Vault CLI, use 'vault kv ${verb}' for this operation.`;
const ROOT = 'Non-listing operations on the root of a K/V v2 mount are not supported.';

describe('KV v2 invalid paths (kv-v2.md §7, conventions §7.3)', () => {
  it('a path outside the endpoint map answers 404 with an envelope, data null and a warning naming the CLI verb', async () => {
    const cases: Array<[string, string, string, Record<string, unknown>]> = [
      ['GET', '/v1/secret/my-secret', 'get', {}],
      ['PUT', '/v1/secret/foo', 'put', { body: { foo: 'bar' } }],
      ['POST', '/v1/secret/foo/bar', 'put', { body: { foo: 'bar' } }],
      ['PATCH', '/v1/secret/foo', 'patch', { body: { a: 1 }, headers: MERGE_PATCH }],
      ['DELETE', '/v1/secret/foo', 'delete', {}],
      ['LIST', '/v1/secret/foo', 'list', {}],
      ['GET', '/v1/secret/foo?list=true', 'list', {}],
      ['GET', '/v1/secret', 'get', {}],
      ['GET', '/v1/secret/subkeys', 'get', {}],
    ];
    for (const [method, url, verb, opts] of cases) {
      const res = await t.call(method, url, opts);
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect(res.headers['content-type']).toBe('application/json');
      expect(res.json(), `${method} ${url}`).toEqual(envelope(null, { warnings: [invalid(verb)], mountType: '' }));
    }
  });

  it('any operation on bare data, metadata, delete, undelete or destroy answers 404 with the root warning', async () => {
    const cases: Array<[string, string]> = [
      ['GET', '/v1/secret/data'],
      ['PUT', '/v1/secret/metadata'],
      ['GET', '/v1/secret/metadata'],
      ['DELETE', '/v1/secret/metadata/'],
      ['PUT', '/v1/secret/delete'],
      ['PUT', '/v1/secret/undelete'],
      ['PUT', '/v1/secret/destroy'],
      ['LIST', '/v1/secret/data'],
    ];
    for (const [method, url] of cases) {
      const res = await t.call(method, url, { body: method === 'PUT' ? { versions: [1] } : undefined });
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect(res.json(), `${method} ${url}`).toEqual(envelope(null, { warnings: [ROOT], mountType: '' }));
    }
  });

  it('secret paths never end in "/": data, metadata, subkeys and version actions on "x/" are invalid paths', async () => {
    await put(t, 'x', { a: 1 });
    for (const [method, url, verb] of [
      ['GET', '/v1/secret/data/x/', 'get'],
      ['PUT', '/v1/secret/data/x/', 'put'],
      ['GET', '/v1/secret/metadata/x/', 'get'],
      ['GET', '/v1/secret/subkeys/x/', 'get'],
      ['PUT', '/v1/secret/destroy/x/', 'put'],
    ] as const) {
      const res = await t.call(method, url, { body: method === 'PUT' ? { data: { a: 2 }, versions: [1] } : undefined });
      expect(res.statusCode, url).toBe(404);
      expect(res.json().warnings, url).toEqual([invalid(verb)]);
    }
    expect((await t.call('GET', '/v1/secret/metadata/x')).json().data.versions['1'].destroyed).toBe(false);
  });

  it('an unsupported operation on a valid pattern answers 405', async () => {
    expectError(await t.call('LIST', '/v1/secret/data/x'), 405, 'unsupported operation');
    expectError(await t.call('DELETE', '/v1/secret/config'), 405, 'unsupported operation');
    expectError(await t.call('PUT', '/v1/secret/subkeys/x', { body: {} }), 405, 'unsupported operation');
  });

  it('empty segments collapse: data//a///b is the secret a/b', async () => {
    await t.call('PUT', '/v1/secret/data//a///b', { body: { data: { v: 1 } } });
    expect((await t.call('GET', '/v1/secret/data/a/b')).json().data.data).toEqual({ v: 1 });
    expect((await t.call('GET', '/v1/secret/metadata/a?list=true')).json().data.keys).toEqual(['b']);
  });

  it('secret paths may nest and contain URL-encoded characters', async () => {
    await t.call('PUT', '/v1/secret/data/team/a%20b/c', { body: { data: { v: 1 } } });
    expect((await t.call('GET', '/v1/secret/data/team/a b/c')).json().data.data).toEqual({ v: 1 });
    expect((await t.call('LIST', '/v1/secret/metadata/team')).json().data.keys).toEqual(['a b/']);
  });
});
