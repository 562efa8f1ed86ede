import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { closeAfterTest, tempDirForTest } from '../support/fixtures.js';
import { initAndUnseal, startPersistent } from './support.js';

describe('token accessors at rest', () => {
  it('are stored under salted keys; a store written with plain accessor keys is salted on unseal, and every accessor still works', async () => {
    const db = path.join(tempDirForTest(), 'ferry.db');
    const t = closeAfterTest(await startPersistent(db));
    const init = await initAndUnseal(t);
    const root = init.root_token;
    const tokens = [];
    for (let i = 0; i < 3; i++) {
      tokens.push((await t.call('POST', '/v1/auth/token/create', { token: root, body: { policies: ['default'] } })).json().auth);
    }
    const store = t.server.core.store;
    const indexKeys = async () => (await store.scan('auth/token/accessor/')).map((e) => e.key.slice('auth/token/accessor/'.length));
    // Salted: 64 hex digits each, none of them an accessor.
    const salted = await indexKeys();
    expect(salted).toHaveLength(4);
    for (const key of salted) expect(key).toMatch(/^[0-9a-f]{64}$/);

    // Rewrite the index as an earlier Ferry stored it: the accessor as the key, the token hash as the value.
    const rows = await store.scan('auth/token/accessor/');
    await store.commit([
      ...rows.map((r) => ({ kind: 'delete' as const, key: r.key })),
      ...rows.map((r) => {
        const { token, accessor } = JSON.parse(r.value.toString('utf8'));
        return { kind: 'put' as const, key: `auth/token/accessor/${accessor}`, value: Buffer.from(token) };
      }),
      { kind: 'delete', key: 'core/token-accessors-salted' },
    ]);
    expect((await indexKeys()).sort()).toEqual(
      [...tokens.map((a) => a.accessor), (await t.call('GET', '/v1/auth/token/lookup-self', { token: root })).json().data.accessor].sort(),
    );

    // Seal and unseal: the index is salted again, and lookups, lists and revocations by accessor work.
    expect((await t.call('PUT', '/v1/sys/seal', { token: root })).statusCode).toBe(204);
    for (const key of init.keys_base64) await t.call('PUT', '/v1/sys/unseal', { token: null, body: { key } });
    const migrated = await indexKeys();
    expect(migrated).toHaveLength(4);
    for (const key of migrated) expect(key).toMatch(/^[0-9a-f]{64}$/);
    const list = await t.call('GET', '/v1/auth/token/accessors?list=true', { token: root });
    expect(list.json().data.keys).toEqual(expect.arrayContaining(tokens.map((a) => a.accessor)));
    const looked = await t.call('POST', '/v1/auth/token/lookup-accessor', { token: root, body: { accessor: tokens[0].accessor } });
    expect(looked.json().data.accessor).toBe(tokens[0].accessor);
    expect((await t.call('POST', '/v1/auth/token/revoke-accessor', { token: root, body: { accessor: tokens[1].accessor } })).statusCode).toBe(204);
    expect((await t.call('GET', '/v1/auth/token/lookup-self', { token: tokens[1].client_token })).statusCode).toBe(403);
    expect(await indexKeys()).toHaveLength(3);
  });
});
