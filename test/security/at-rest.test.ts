import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { closeAfterTest, tempDirForTest } from '../support/fixtures.js';
import { encodings, initAndUnseal, leaks, startPersistent } from './support.js';


/** The database file and its WAL, as bytes (the WAL may not exist after a checkpoint). */
function files(db: string): Array<[string, Buffer]> {
  return [db, `${db}-wal`].filter((f) => fs.existsSync(f)).map((f) => [path.basename(f), fs.readFileSync(f)]);
}

describe('data at rest', () => {
  it('keeps every secret value, token id, token accessor and unseal share out of the SQLite file and its WAL, in any encoding', async () => {
    const db = path.join(tempDirForTest(), 'ferry.db');
    const t = closeAfterTest(await startPersistent(db));
    const init = await initAndUnseal(t, 3, 2);
    const root = init.root_token;
    const marker = 'AT-REST-MARKER-c0ffee-91f3';

    // Through the KV engine…
    expect((await t.call('POST', '/v1/sys/mounts/my-kv', { token: root, body: { type: 'kv-v2' } })).statusCode).toBe(204);
    expect((await t.call('PUT', '/v1/my-kv/data/app/db', { token: root, body: { data: { password: marker } } })).statusCode).toBe(200);
    expect((await t.call('PUT', '/v1/my-kv/metadata/app/db', { token: root, body: { custom_metadata: { note: `${marker}-meta` } } })).statusCode).toBe(204);
    // …through other endpoints that store what they are given…
    expect((await t.call('PUT', '/v1/sys/policies/acl/p', { token: root, body: { policy: `# ${marker}\npath "my-kv/*" { capabilities = ["read"] }` } })).statusCode).toBe(204);
    const child = (await t.call('POST', '/v1/auth/token/create', { token: root, body: { policies: ['p'], meta: { owner: `${marker}-owner` } } })).json().auth;
    const custom = (await t.call('POST', '/v1/auth/token/create', { token: root, body: { id: 'custom-token-id-3b9d2e7a' } })).json().auth;
    expect(custom.client_token).toBe('custom-token-id-3b9d2e7a');
    // …and straight through the store every service uses.
    await t.server.core.store.commit([
      { kind: 'put', key: 'test/direct', value: Buffer.from(`{"v":"${marker}-direct"}`) },
      { kind: 'enqueue', queue: 'test', orderKey: 'k', payload: `{"ref":"${marker}-outbox"}` },
    ]);
    expect((await t.call('GET', '/v1/my-kv/data/app/db', { token: child.client_token })).json().data.data).toEqual({ password: marker });

    const rootAccessor = (await t.call('GET', '/v1/auth/token/lookup-self', { token: root })).json().data.accessor;
    // Accessors too: the index of accessors is keyed by their salted hash (storage keys are not encrypted).
    const accessors = [rootAccessor, child.accessor, custom.accessor];
    const secrets = [marker, root, child.client_token, custom.client_token, ...accessors, ...init.keys, ...init.keys_base64];
    const check = () => {
      const found = files(db);
      expect(found.map(([name]) => name)).toContain('ferry.db');
      for (const [name, bytes] of found) {
        for (const s of secrets) expect(leaks(bytes, s), `${name} holds ${s}`).toEqual([]);
      }
      return found;
    };
    // While running the recent writes sit in the WAL…
    expect(check().map(([n]) => n)).toEqual(['ferry.db', 'ferry.db-wal']);
    // …and after closing they are checkpointed into the main file.
    await t.close();
    check();

    // The check itself can see a value stored in the clear.
    expect(leaks(Buffer.from(`xx${Buffer.from(marker).toString('base64')}yy`), marker)).not.toEqual([]);
    expect(encodings(marker)).toContain(Buffer.from(marker).toString('hex'));
  });
});
