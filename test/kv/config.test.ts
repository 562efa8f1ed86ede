import { describe, expect, it } from 'vitest';
import { envelope, useKv } from './helpers.js';

const t = useKv();

describe('KV v2 config (kv-v2.md §3)', () => {
  it('reads the defaults: cas_required false, delete_version_after "0s", max_versions 0, mount_type kv', async () => {
    const res = await t.call('GET', '/v1/secret/config');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.json()).toEqual(envelope({ cas_required: false, delete_version_after: '0s', max_versions: 0 }));
  });

  it('write answers 204 with no body and changes only the supplied fields', async () => {
    const res = await t.call('POST', '/v1/secret/config', { body: { max_versions: 5 } });
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expect(res.headers['content-type']).toBe('application/json');
    await t.call('PUT', '/v1/secret/config', { body: { cas_required: 'true' } });
    const read = await t.call('GET', '/v1/secret/config');
    expect(read.json().data).toEqual({ cas_required: true, delete_version_after: '0s', max_versions: 5 });
  });

  it('write with no recognized field is a no-op answered 200 with the unrecognized-parameter warning', async () => {
    await t.call('POST', '/v1/secret/config', { body: { max_versions: 3 } });
    const res = await t.call('POST', '/v1/secret/config', { body: { unrelated: 1 } });
    expect(res.statusCode).toBe(200);
    expect(res.json().warnings).toEqual(['Endpoint ignored these unrecognized parameters: [unrelated]']);
    expect((await t.call('GET', '/v1/secret/config')).json().data.max_versions).toBe(3);
  });

  it('renders delete_version_after as a Go duration string and accepts seconds, Go durations and negatives', async () => {
    const cases: Array<[unknown, string]> = [
      ['72h', '72h0m0s'],
      [12319, '3h25m19s'],
      ['90s', '1m30s'],
      ['45', '45s'],
      ['-1s', '-1s'],
      ['0s', '0s'],
    ];
    for (const [input, rendered] of cases) {
      expect((await t.call('POST', '/v1/secret/config', { body: { delete_version_after: input } })).statusCode).toBe(204);
      expect((await t.call('GET', '/v1/secret/config')).json().data.delete_version_after).toBe(rendered);
    }
  });

  it('rejects an unparseable duration with the field validation text and changes nothing', async () => {
    const res = await t.call('POST', '/v1/secret/config', { body: { delete_version_after: 'soon', max_versions: 4 } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      errors: ['Field validation failed: error converting input for field "delete_version_after": time: invalid duration'],
    });
    expect((await t.call('GET', '/v1/secret/config')).json().data).toEqual({ cas_required: false, delete_version_after: '0s', max_versions: 0 });
  });

  it('hvac configure (max_versions=10, delete_version_after="0s", cas_required=false) is accepted', async () => {
    const res = await t.call('POST', '/v1/secret/config', {
      body: { max_versions: 10, cas_required: false, delete_version_after: '0s' },
      headers: { 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(204);
    expect((await t.call('GET', '/v1/secret/config')).json().data).toEqual({ cas_required: false, delete_version_after: '0s', max_versions: 10 });
  });
});
