import { describe, expect, it } from 'vitest';
import { HOUR, T0, iso, useKv } from './helpers.js';

/**
 * Byte-for-byte replays of the `vault kv` request flows (cli-flows.md §0.1, §4–8): the Go
 * client's headers (X-Vault-Request, X-Vault-Token, no Content-Type on PUT), its JSON
 * (keys sorted by encoding/json, every CLI value a string), `GET ?list=true` for lists,
 * and a check of every response field the CLI reads, with the type it asserts.
 */
const t = useKv();

const GO_HEADERS = { 'x-vault-request': 'true', 'user-agent': 'Go-http-client/1.1' };
/** One CLI request: raw body bytes, no Content-Type unless the CLI sets one (PATCH). */
const cli = (method: string, url: string, body?: string, headers: Record<string, string> = {}) =>
  t.call(method, url, { rawBody: body, headers: { ...GO_HEADERS, ...headers } });

const isObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Step 1 of every `vault kv` command; returns the mount path the CLI strips from the user path. */
async function preflight(target: string): Promise<string> {
  const res = await cli('GET', `/v1/sys/internal/ui/mounts/${target}`);
  expect(res.statusCode).toBe(200);
  const data = res.json().data;
  expect(typeof data.path).toBe('string');
  expect(isObject(data.options)).toBe(true);
  expect(data.options.version).toBe('2');
  return data.path as string;
}

/** The CLI's version-metadata table after put/patch: whatever keys `data` holds, with these types. */
function expectVersionTable(data: Record<string, unknown>, version: number): void {
  expect(data).toEqual({
    created_time: expect.any(String),
    custom_metadata: null,
    deletion_time: '',
    destroyed: false,
    version,
  });
  expect(Number.isNaN(Date.parse(data.created_time as string))).toBe(false);
}

describe('vault kv put / get / patch / delete / undelete / destroy / metadata / list replays', () => {
  it('vault kv put -mount=secret my-secret foo=bar', async () => {
    expect(await preflight('secret')).toBe('secret/');
    const res = await cli('PUT', '/v1/secret/data/my-secret', '{"data":{"foo":"bar"},"options":{}}');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    const body = res.json();
    expect(body.warnings).toBeNull();
    expect(body.lease_duration).toBe(0);
    expectVersionTable(body.data, 1);
  });

  it('vault kv put secret/my-secret foo=bar (path form: preflight on the full path)', async () => {
    expect(await preflight('secret/my-secret')).toBe('secret/');
    expect((await cli('PUT', '/v1/secret/data/my-secret', '{"data":{"foo":"bar"},"options":{}}')).statusCode).toBe(200);
  });

  it('vault kv put -cas=1 sends options.cas as a number', async () => {
    await cli('PUT', '/v1/secret/data/my-secret', '{"data":{"foo":"bar"},"options":{}}');
    const res = await cli('PUT', '/v1/secret/data/my-secret', '{"data":{"foo":"baz"},"options":{"cas":1}}');
    expectVersionTable(res.json().data, 2);
  });

  it('vault kv get and get -version=1: data.data and data.metadata are objects', async () => {
    await cli('PUT', '/v1/secret/data/my-secret', '{"data":{"foo":"bar"},"options":{}}');
    await cli('PUT', '/v1/secret/data/my-secret', '{"data":{"foo":"baz"},"options":{}}');
    await preflight('secret');
    const latest = await cli('GET', '/v1/secret/data/my-secret');
    expect(latest.statusCode).toBe(200);
    expect(latest.json().data).toEqual({
      data: { foo: 'baz' },
      metadata: { created_time: iso(T0), custom_metadata: null, deletion_time: '', destroyed: false, version: 2 },
    });
    const v1 = await cli('GET', '/v1/secret/data/my-secret?version=1');
    expect(v1.json().data.data).toEqual({ foo: 'bar' });
    expect(isObject(v1.json().data.metadata)).toBe(true);
  });

  it('vault kv get of a deleted version: 404 whose data is non-empty (the CLI prints the metadata, exit 0)', async () => {
    await cli('PUT', '/v1/secret/data/my-secret', '{"data":{"foo":"bar"},"options":{}}');
    t.clock.advance(HOUR);
    await cli('DELETE', '/v1/secret/data/my-secret');
    const res = await cli('GET', '/v1/secret/data/my-secret');
    expect(res.statusCode).toBe(404);
    const body = res.json();
    expect(body.data.data).toBeNull();
    expect(isObject(body.data.metadata)).toBe(true);
    expect(body.data.metadata.deletion_time).toBe(iso(T0 + HOUR));
  });

  it('vault kv get of a missing secret: 404 {"errors":[]} (No value found)', async () => {
    const res = await cli('GET', '/v1/secret/data/missing');
    expect(res.statusCode).toBe(404);
    expect(res.body).toBe('{"errors":[]}');
  });

  it('vault kv patch: PATCH with merge-patch+json; -remove-data sends null', async () => {
    await cli('PUT', '/v1/secret/data/my-secret', '{"data":{"foo":"bar","old":"x"},"options":{}}');
    await preflight('secret');
    const res = await cli('PATCH', '/v1/secret/data/my-secret', '{"data":{"foo":"baz","old":null},"options":{}}', {
      'content-type': 'application/merge-patch+json',
    });
    expect(res.statusCode).toBe(200);
    expectVersionTable(res.json().data, 2);
    expect((await cli('GET', '/v1/secret/data/my-secret')).json().data.data).toEqual({ foo: 'baz' });
  });

  it('vault kv patch of a missing secret: 404 with an empty body', async () => {
    const res = await cli('PATCH', '/v1/secret/data/missing', '{"data":{"foo":"baz"},"options":{}}', {
      'content-type': 'application/merge-patch+json',
    });
    expect(res.statusCode).toBe(404);
    expect(res.body).toBe('');
  });

  it('vault kv patch -method=rw: GET then PUT with cas = data.metadata.version', async () => {
    await cli('PUT', '/v1/secret/data/my-secret', '{"data":{"foo":"bar","keep":"k"},"options":{}}');
    const read = (await cli('GET', '/v1/secret/data/my-secret')).json().data;
    expect(typeof read.metadata.version).toBe('number');
    const merged = JSON.stringify({ data: { ...read.data, foo: 'baz' }, options: { cas: read.metadata.version } });
    const res = await cli('PUT', '/v1/secret/data/my-secret', merged);
    expectVersionTable(res.json().data, 2);
  });

  it('vault kv delete (latest) and delete -versions=1,2 (strings): both 204', async () => {
    for (let i = 0; i < 3; i++) await cli('PUT', '/v1/secret/data/my-secret', `{"data":{"i":"${i}"},"options":{}}`);
    const latest = await cli('DELETE', '/v1/secret/data/my-secret');
    expect(latest.statusCode).toBe(204);
    expect(latest.body).toBe('');
    const some = await cli('PUT', '/v1/secret/delete/my-secret', '{"versions":["1","2"]}');
    expect(some.statusCode).toBe(204);
    const versions = (await cli('GET', '/v1/secret/metadata/my-secret')).json().data.versions;
    expect(Object.values(versions).every((v) => (v as { deletion_time: string }).deletion_time !== '')).toBe(true);
  });

  it('vault kv undelete -versions=2 and destroy -versions=2: 204', async () => {
    for (let i = 0; i < 2; i++) await cli('PUT', '/v1/secret/data/my-secret', `{"data":{"i":"${i}"},"options":{}}`);
    await cli('DELETE', '/v1/secret/data/my-secret');
    expect((await cli('PUT', '/v1/secret/undelete/my-secret', '{"versions":["2"]}')).statusCode).toBe(204);
    expect((await cli('GET', '/v1/secret/data/my-secret')).statusCode).toBe(200);
    expect((await cli('PUT', '/v1/secret/destroy/my-secret', '{"versions":["2"]}')).statusCode).toBe(204);
    expect((await cli('GET', '/v1/secret/data/my-secret')).json().data.metadata.destroyed).toBe(true);
  });

  it('vault kv metadata get: versions is an object of objects keyed by decimal strings; every other key printed', async () => {
    for (let i = 0; i < 11; i++) await cli('PUT', '/v1/secret/data/my-secret', `{"data":{"i":"${i}"},"options":{}}`);
    await preflight('secret');
    const res = await cli('GET', '/v1/secret/metadata/my-secret');
    expect(res.statusCode).toBe(200);
    const data = res.json().data;
    expect(isObject(data.versions)).toBe(true);
    const keys = Object.keys(data.versions);
    expect(keys.every((k) => /^\d+$/.test(k))).toBe(true);
    expect(keys.map(Number).sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    for (const v of Object.values(data.versions)) {
      expect(v).toEqual({ created_time: expect.any(String), deletion_time: '', destroyed: false });
    }
    const { versions: _versions, ...table } = data;
    expect(table).toEqual({
      cas_required: false,
      created_time: iso(T0),
      current_version: 11,
      custom_metadata: null,
      delete_version_after: '0s',
      max_versions: 0,
      oldest_version: 2,
      updated_time: iso(T0),
    });
  });

  it('vault kv metadata put -max-versions=5 -delete-version-after=1h -custom-metadata=owner=me: 204', async () => {
    const res = await cli(
      'PUT',
      '/v1/secret/metadata/my-secret',
      '{"cas_required":false,"custom_metadata":{"owner":"me"},"delete_version_after":"1h0m0s","max_versions":5}',
    );
    expect(res.statusCode).toBe(204);
    expect((await cli('GET', '/v1/secret/metadata/my-secret')).json().data).toMatchObject({
      max_versions: 5,
      delete_version_after: '1h0m0s',
      custom_metadata: { owner: 'me' },
    });
  });

  it('vault kv list -mount=secret [dir]: GET metadata[/dir]?list=true, data.keys strings', async () => {
    await cli('PUT', '/v1/secret/data/app', '{"data":{"a":"1"},"options":{}}');
    await cli('PUT', '/v1/secret/data/team/db', '{"data":{"a":"1"},"options":{}}');
    await preflight('secret');
    const root = await cli('GET', '/v1/secret/metadata?list=true');
    expect(root.statusCode).toBe(200);
    expect(root.json().data).toEqual({ keys: ['app', 'team/'] });
    expect((await cli('GET', '/v1/secret/metadata/team?list=true')).json().data).toEqual({ keys: ['db'] });
    const none = await cli('GET', '/v1/secret/metadata/nothing?list=true');
    expect(none.statusCode).toBe(404);
    expect(none.body).toBe('{"errors":[]}');
  });

  it('vault kv metadata delete: 204 and the secret is gone', async () => {
    await cli('PUT', '/v1/secret/data/my-secret', '{"data":{"a":"1"},"options":{}}');
    expect((await cli('DELETE', '/v1/secret/metadata/my-secret')).statusCode).toBe(204);
    expect((await cli('GET', '/v1/secret/metadata/my-secret')).statusCode).toBe(404);
  });

  it('vault read secret/my-secret against a v2 mount: 404 with a warning the CLI prints', async () => {
    const res = await cli('GET', '/v1/secret/my-secret');
    expect(res.statusCode).toBe(404);
    expect(res.json().data).toBeNull();
    expect(res.json().warnings).toEqual([expect.stringContaining("use 'vault kv get' for this operation")]);
  });
});
