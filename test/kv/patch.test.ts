import { describe, expect, it } from 'vitest';
import { HOUR, MERGE_PATCH, T0, envelope, expectError, put, useKv, versionMeta } from './helpers.js';

const t = useKv();

const patch = (path: string, body: unknown, headers: Record<string, string> = MERGE_PATCH) =>
  t.call('PATCH', `/v1/secret/data/${path}`, { body, headers });

describe('KV v2 PATCH data (kv-v2.md §4.3)', () => {
  it('applies an RFC 7396 merge patch to the current version and stores the result as a new version', async () => {
    await put(t, 'app', { keep: 'k', change: 'old', obsolete: 'x', nested: { a: 1, b: 2 }, list: [1, 2] });
    t.clock.advance(1000);
    const res = await patch('app', { data: { change: 'new', obsolete: null, nested: { b: null, c: 3 }, list: [3], added: true }, options: {} });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(envelope(versionMeta(2, T0 + 1000)));
    expect((await t.call('GET', '/v1/secret/data/app')).json().data.data).toEqual({
      keep: 'k',
      change: 'new',
      nested: { a: 1, c: 3 },
      list: [3],
      added: true,
    });
    expect((await t.call('GET', '/v1/secret/data/app?version=1')).json().data.data.obsolete).toBe('x');
  });

  it('requires Content-Type application/merge-patch+json (parameters allowed), else 415', async () => {
    await put(t, 'app', { a: 1 });
    expectError(
      await patch('app', { data: { a: 2 } }, { 'content-type': 'application/json' }),
      415,
      'PATCH requires Content-Type of application/merge-patch+json, provided application/json',
    );
    expect((await patch('app', { data: { a: 2 } }, { 'content-type': 'application/merge-patch+json; charset=utf-8' })).statusCode).toBe(200);
  });

  it('a missing key answers 404 with an empty body and Content-Type application/json', async () => {
    const res = await patch('nope', { data: { a: 1 } });
    expect(res.statusCode).toBe(404);
    expect(res.body).toBe('');
    expect(res.headers['content-type']).toBe('application/json');
  });

  it('a deleted current version answers 404 with an envelope whose data is the version metadata', async () => {
    await put(t, 'app', { a: 1 });
    t.clock.advance(HOUR);
    await t.call('DELETE', '/v1/secret/data/app');
    const res = await patch('app', { data: { a: 2 } });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual(envelope(versionMeta(1, T0, { deletion: T0 + HOUR }), { mountType: '' }));
  });

  it('a destroyed current version answers 404 with an envelope whose data is the version metadata', async () => {
    await put(t, 'app', { a: 1 });
    await t.call('PUT', '/v1/secret/destroy/app', { body: { versions: [1] } });
    const res = await patch('app', { data: { a: 2 } });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual(envelope(versionMeta(1, T0, { destroyed: true }), { mountType: '' }));
  });

  it('answers 400 "no data provided" without data', async () => {
    await put(t, 'app', { a: 1 });
    expectError(await patch('app', { options: {} }), 400, 'no data provided');
  });

  it('follows the CAS rules of a write', async () => {
    await put(t, 'app', { a: 1 });
    expectError(await patch('app', { data: { a: 2 }, options: { cas: 0 } }), 400, 'check-and-set parameter did not match the current version');
    await t.call('POST', '/v1/secret/config', { body: { cas_required: true } });
    expectError(await patch('app', { data: { a: 2 } }), 400, 'check-and-set parameter required for this call');
    expect((await patch('app', { data: { a: 2 }, options: { cas: 1 } })).json().data.version).toBe(2);
  });
});
