// The schema bump (SQLite 3, PostgreSQL 2) against snapshots of the previous release
// (SQLite user_version 2, 4 KB pages) and a PostgreSQL database of the previous release (schema 1).
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { PostgresStore } from '../../src/store/postgres.js';
import { PG_MIGRATIONS } from '../../src/store/postgres-migrations.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { sqliteFileWith4kPages } from './sqlite-files.js';
import { closeAfterTest, tempDirForTest } from '../support/fixtures.js';
import { describePostgres, pgExec, resetDatabase, usePostgresDatabase } from '../support/postgres.js';

const put = (key: string, value: string) => ({ kind: 'put' as const, key, value: Buffer.from(value) });

/** A store file as the previous release left it: schema 2, 4 KB pages, an initialised server in it. */
async function previousReleaseSnapshot(): Promise<string> {
  const file = sqliteFileWith4kPages('ferry-prev-');
  const store = new SqliteStore({ path: file });
  await store.commit([put('barrier/seal-config', 'sc'), put('barrier/keyring', 'kr'), put('logical/x', 'old')]);
  await store.close();
  const again = new Database(file);
  again.pragma('user_version = 2');
  expect(again.pragma('page_size', { simple: true })).toBe(4096);
  again.close();
  return file;
}

describe('a snapshot of the previous release (SQLite schema 2)', () => {
  it('restores into a SQLite store of this release, which keeps its own schema version', async () => {
    const snap = await previousReleaseSnapshot();
    const file = join(tempDirForTest('ferry-cur-'), 'f.db');
    const store = closeAfterTest(new SqliteStore({ path: file }));
    await store.commit([put('logical/y', 'new')]);
    await store.checkSnapshot(snap);
    await store.restoreSnapshot(snap);
    expect((await store.get('logical/x'))!.value.toString()).toBe('old');
    expect(await store.get('logical/y')).toBeUndefined();
    await store.close();
    const raw = new Database(file, { readonly: true });
    expect(raw.pragma('user_version', { simple: true })).toBe(3);
    raw.close();
  });

  it('a snapshot of this release is refused by the schema-2 check an older Ferry makes', async () => {
    const file = join(tempDirForTest('ferry-cur-'), 'f.db');
    const store = new SqliteStore({ path: file });
    await store.commit([put('barrier/seal-config', 'sc'), put('barrier/keyring', 'kr')]);
    const snap = join(tempDirForTest('ferry-snap-'), 's.db');
    await store.writeSnapshot(snap);
    await store.close();
    const raw = new Database(snap, { readonly: true });
    expect(raw.pragma('user_version', { simple: true })).toBe(3);
    raw.close();
  });
});

describePostgres('PostgreSQL across the schema bump', () => {
  const db = usePostgresDatabase('schema_versions');

  it('a schema-1 database (previous release) is migrated to 2 at open; a snapshot of the previous release restores; the snapshot it writes is schema 3', async () => {
    const first = await PostgresStore.open({ connectionUrl: db.url() });
    await first.commit([put('barrier/seal-config', 'sc'), put('barrier/keyring', 'kr')]);
    await first.close();
    await pgExec(db.url(), 'UPDATE ferry_schema SET version = 1');
    await pgExec(db.url(), 'COMMENT ON TABLE ferry_entries IS NULL');
    const [a, b] = await Promise.all([PostgresStore.open({ connectionUrl: db.url() }), PostgresStore.open({ connectionUrl: db.url() })]);
    closeAfterTest(a!);
    closeAfterTest(b!);
    expect((await pgExec(db.url(), 'SELECT version FROM ferry_schema')).rows).toEqual([{ version: PG_MIGRATIONS.length }]);

    const snap = await previousReleaseSnapshot();
    await a!.restoreSnapshot(snap);
    expect((await b!.get('logical/x'))!.value.toString()).toBe('old');
    const out = join(tempDirForTest('ferry-pgsnap-'), 's.db');
    await a!.writeSnapshot(out);
    const raw = new Database(out, { readonly: true });
    expect(raw.pragma('user_version', { simple: true })).toBe(3);
    raw.close();
  });

  it('a database of a newer schema is refused at open', async () => {
    await resetDatabase(db.url());
    const first = await PostgresStore.open({ connectionUrl: db.url() });
    await first.close();
    await pgExec(db.url(), `UPDATE ferry_schema SET version = ${PG_MIGRATIONS.length + 1}`);
    await expect(PostgresStore.open({ connectionUrl: db.url() })).rejects.toThrow(/newer than this Ferry knows/);
  });

  it("upgrades with the role the README asks for: CREATE on the schema (and reads and writes), not the tables' owner", async () => {
    await resetDatabase(db.url());
    // The first start by an administrator's role, at the previous release's schema.
    const first = await PostgresStore.open({ connectionUrl: db.url() });
    await first.close();
    await pgExec(db.url(), 'UPDATE ferry_schema SET version = 1');
    await pgExec(db.url(), 'COMMENT ON TABLE ferry_entries IS NULL');
    const role = `ferry_app_${Date.now()}`;
    await pgExec(db.url(), `CREATE ROLE ${role} LOGIN PASSWORD 'pw'`);
    await pgExec(
      db.url(),
      `GRANT USAGE, CREATE ON SCHEMA public TO ${role};
       GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${role};
       GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO ${role};`,
    );
    const url = new URL(db.url());
    url.username = role;
    url.password = 'pw';
    // The grants suffice for a start with nothing to migrate…
    await pgExec(db.url(), `UPDATE ferry_schema SET version = ${PG_MIGRATIONS.length}`);
    await (await PostgresStore.open({ connectionUrl: url.toString() })).close();
    // …and, as the README says, for an upgrade (here from the previous release's schema 1).
    await pgExec(db.url(), 'UPDATE ferry_schema SET version = 1');
    const store = await PostgresStore.open({ connectionUrl: url.toString() });
    closeAfterTest(store);
    expect((await pgExec(db.url(), 'SELECT version FROM ferry_schema')).rows).toEqual([{ version: PG_MIGRATIONS.length }]);
  });

  it('starts with a role that only reads and writes (no CREATE on the schema) once the schema is up to date, and serves', async () => {
    await resetDatabase(db.url());
    await (await PostgresStore.open({ connectionUrl: db.url() })).close();
    const role = `ferry_rw_${Date.now()}`;
    await pgExec(db.url(), `CREATE ROLE ${role} LOGIN PASSWORD 'pw'`);
    await pgExec(
      db.url(),
      `REVOKE CREATE ON SCHEMA public FROM PUBLIC;
       GRANT USAGE ON SCHEMA public TO ${role};
       GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${role};
       GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO ${role};`,
    );
    const url = new URL(db.url());
    url.username = role;
    url.password = 'pw';
    const store = closeAfterTest(await PostgresStore.open({ connectionUrl: url.toString() }));
    await store.commit([put('k', 'v')]);
    expect((await store.get('k'))!.value.toString()).toBe('v');
    // A first start still needs CREATE: refused with PostgreSQL's reason.
    await pgExec(db.url(), 'DROP TABLE ferry_schema');
    await expect(PostgresStore.open({ connectionUrl: url.toString() })).rejects.toThrow(/permission denied for schema public/);
  });
});
