import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { closeAfterTest, tempDirForTest } from '../support/fixtures.js';
import { initAndUnseal, leaks, startPersistent } from '../security/support.js';

/** The database file and its WAL, as bytes. */
const files = (db: string) => [db, `${db}-wal`].filter((f) => fs.existsSync(f)).map((f) => [path.basename(f), fs.readFileSync(f)] as const);

describe('auth method credentials at rest', () => {
  it('keeps passwords, role IDs and secret IDs out of the SQLite file — values behind the barrier, keys as HMACs — and logins work after a restart', async () => {
    const db = path.join(tempDirForTest(), 'ferry.db');
    let t = closeAfterTest(await startPersistent(db));
    const init = await initAndUnseal(t);
    const root = init.root_token;
    const call = (method: string, url: string, body?: unknown) => t.call(method, url, { token: root, body });
    for (const type of ['approle', 'userpass']) expect((await call('POST', `/v1/sys/auth/${type}`, { type })).statusCode).toBe(204);
    const password = 'password-at-rest-4b2a';
    expect((await call('POST', '/v1/auth/userpass/users/alice', { password })).statusCode).toBe(204);
    expect((await call('POST', '/v1/auth/approle/role/ci', { role_id: 'role-id-at-rest-77c1' })).statusCode).toBe(204);
    const custom = 'secret-id-at-rest-0d9e';
    expect((await call('POST', '/v1/auth/approle/role/ci/custom-secret-id', { secret_id: custom })).statusCode).toBe(200);
    const generated = (await call('POST', '/v1/auth/approle/role/ci/secret-id', {})).json().data.secret_id as string;

    const secrets = [password, 'role-id-at-rest-77c1', custom, generated];
    for (const [name, bytes] of files(db)) for (const s of secrets) expect(leaks(bytes, s), `${name} holds ${s}`).toEqual([]);
    await t.close();
    for (const [name, bytes] of files(db)) for (const s of secrets) expect(leaks(bytes, s), `${name} holds ${s}`).toEqual([]);

    // After a restart and unseal, the salts and hashes still find the credentials.
    t = closeAfterTest(await startPersistent(db));
    for (const key of init.keys_base64) await t.call('PUT', '/v1/sys/unseal', { token: null, body: { key } });
    const login = (p: string, body: unknown) => t.call('POST', `/v1/${p}`, { token: null, body });
    expect((await login('auth/userpass/login/alice', { password })).statusCode).toBe(200);
    expect((await login('auth/approle/login', { role_id: 'role-id-at-rest-77c1', secret_id: custom })).statusCode).toBe(200);
    expect((await login('auth/approle/login', { role_id: 'role-id-at-rest-77c1', secret_id: generated })).statusCode).toBe(200);
  });
});
