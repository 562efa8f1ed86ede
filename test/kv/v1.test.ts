import { beforeEach, describe, expect, it } from 'vitest';
import { envelope, events, expectError, expectNotFound, useKv } from './helpers.js';

/** KV version 1 mounts (`vault secrets enable kv`): read, write, delete, list, unversioned. */
const t = useKv();
beforeEach(async () => {
  expect((await t.call('POST', '/v1/sys/mounts/kv1', { body: { type: 'kv' } })).statusCode).toBe(204);
});

describe('KV v1', () => {
  it('the preflight reports a v1 mount (options null), so the CLI talks to raw paths', async () => {
    const res = await t.call('GET', '/v1/sys/internal/ui/mounts/kv1');
    expect(res.json().data).toMatchObject({ path: 'kv1/', type: 'kv', options: null });
  });

  it('write stores the body as the secret (204); read answers it as data', async () => {
    const w = await t.call('PUT', '/v1/kv1/my-secret', { rawBody: '{"foo":"bar","n":1}' });
    expect(w.statusCode).toBe(204);
    const r = await t.call('GET', '/v1/kv1/my-secret');
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual(envelope({ foo: 'bar', n: 1 }));
  });

  it('a write replaces the whole secret; there are no versions', async () => {
    await t.call('POST', '/v1/kv1/s', { body: { a: '1', b: '2' } });
    await t.call('POST', '/v1/kv1/s', { body: { c: '3' } });
    expect((await t.call('GET', '/v1/kv1/s')).json().data).toEqual({ c: '3' });
  });

  it('a missing secret answers 404 {"errors":[]}', async () => {
    expectNotFound(await t.call('GET', '/v1/kv1/nope'));
  });

  it('lists direct children with folders (GET ?list=true and LIST); empty answers 404', async () => {
    for (const p of ['a', 'team/b', 'team/c/d']) await t.call('PUT', `/v1/kv1/${p}`, { body: { v: p } });
    expect((await t.call('GET', '/v1/kv1?list=true')).json()).toEqual(envelope({ keys: ['a', 'team/'] }));
    expect((await t.call('LIST', '/v1/kv1/team/')).json().data).toEqual({ keys: ['b', 'c/'] });
    expectNotFound(await t.call('GET', '/v1/kv1/nothing?list=true'));
  });

  it('delete answers 204, also for a missing secret', async () => {
    await t.call('PUT', '/v1/kv1/s', { body: { a: 1 } });
    expect((await t.call('DELETE', '/v1/kv1/s')).statusCode).toBe(204);
    expectNotFound(await t.call('GET', '/v1/kv1/s'));
    expect((await t.call('DELETE', '/v1/kv1/s')).statusCode).toBe(204);
  });

  it('refuses a write without data, to a path ending in "/", or to the mount root', async () => {
    expectError(await t.call('PUT', '/v1/kv1/s', { body: {} }), 400, 'missing data fields');
    expectError(await t.call('PUT', '/v1/kv1/dir/', { body: { a: 1 } }), 400, "cannot write to a path ending in '/'");
    expectError(await t.call('PUT', '/v1/kv1', { body: { a: 1 } }), 400, 'missing path');
  });

  it('emits no change events (sync refuses KV v1)', async () => {
    await t.call('PUT', '/v1/kv1/s', { body: { a: 1 } });
    await t.call('DELETE', '/v1/kv1/s');
    expect(await events(t)).toEqual([]);
  });
});
