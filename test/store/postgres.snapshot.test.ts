/**
 * `sys/storage/raft/snapshot` on PostgreSQL: the snapshot is the SQLite driver's archive (a
 * SQLite store file), so it restores on either driver — a PostgreSQL server's snapshot into a
 * SQLite server and back, which is also how a server moves from SQLite to PostgreSQL.
 */
import { expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/app.js';
import { closeAfterTest } from '../support/fixtures.js';
import { describePostgres, pgExec, resetDatabase, usePostgresDatabase } from '../support/postgres.js';

const snapshotOf = async (t: TestServer, token = t.rootToken) => {
  const res = await t.call('GET', '/v1/sys/storage/raft/snapshot', { token });
  expect(res.statusCode).toBe(200);
  return res.rawPayload;
};
const restoreForced = (t: TestServer, body: Buffer) =>
  t.app.inject({ method: 'POST', url: '/v1/sys/storage/raft/snapshot-force', headers: { 'x-vault-token': t.rootToken }, payload: body });

describePostgres('snapshots on PostgreSQL', () => {
  const db = usePostgresDatabase('snapshots');

  it('a SQLite server moves to PostgreSQL (snapshot, restore -force, unseal with the old key) and back, secrets, tokens and outbox items intact', async () => {
    // The SQLite server: a secret, a limited token, a pending KV change event.
    const sqlite = closeAfterTest(await startTestServer());
    expect((await sqlite.call('PUT', '/v1/secret/data/app', { body: { data: { password: 'on-sqlite' } } })).statusCode).toBe(200);
    expect((await sqlite.call('PUT', '/v1/secret/data/app', { body: { data: { password: 'on-sqlite-v2' } } })).statusCode).toBe(200);
    const token = (await sqlite.call('POST', '/v1/auth/token/create', { body: { policies: ['default'], num_uses: 5 } })).json().auth.client_token as string;
    const pendingOnSqlite = (await sqlite.server.core.store.pendingOutbox('kv-events', 100)).length;
    expect(pendingOnSqlite).toBeGreaterThan(0);
    const snap = await snapshotOf(sqlite);

    // A new server on PostgreSQL takes it.
    await resetDatabase(db.url());
    const pg = closeAfterTest(await startTestServer({ postgres: { connectionUrl: db.url(), haEnabled: false }, devRootTokenId: 'other-root' }));
    expect((await restoreForced(pg, snap)).statusCode).toBe(204);
    expect((await pg.call('GET', '/v1/sys/seal-status', { token: null })).json()).toMatchObject({ sealed: true, storage_type: 'postgresql' });
    expect((await pg.call('PUT', '/v1/sys/unseal', { token: null, body: { key: sqlite.server.devUnsealKey } })).statusCode).toBe(200);
    const read = await pg.call('GET', '/v1/secret/data/app', { token: 'root' });
    expect(read.json().data).toMatchObject({ data: { password: 'on-sqlite-v2' }, metadata: { version: 2 } });
    expect((await pg.call('GET', '/v1/auth/token/lookup-self', { token })).json().data.num_uses).toBe(4);
    expect((await pg.server.core.store.pendingOutbox('kv-events', 100)).length).toBe(pendingOnSqlite);
    // Revisions and outbox ids go on above the copy's.
    const { rows } = await pgExec(db.url(), 'SELECT (SELECT value FROM ferry_revision_counter) AS counter, (SELECT max(revision) FROM ferry_entries) AS top');
    expect(Number(rows[0].counter)).toBeGreaterThanOrEqual(Number(rows[0].top));
    expect((await pg.call('PUT', '/v1/secret/data/app', { token: 'root', body: { data: { password: 'on-postgresql' } } })).json().data.version).toBe(3);

    // And back: the PostgreSQL server's snapshot restores into a SQLite server.
    const back = await snapshotOf(pg, 'root');
    const sqlite2 = closeAfterTest(await startTestServer());
    expect((await restoreForced(sqlite2, back)).statusCode).toBe(204);
    expect((await sqlite2.call('PUT', '/v1/sys/unseal', { token: null, body: { key: sqlite.server.devUnsealKey } })).statusCode).toBe(200);
    expect((await sqlite2.call('GET', '/v1/secret/data/app', { token: 'root' })).json().data.data).toEqual({ password: 'on-postgresql' });
  });
});
