/**
 * Two Ferry servers on one PostgreSQL database (two nodes, no HA: each serves requests itself).
 * Read-modify-write state that Ferry keeps in the store must stay correct when the writers are in
 * different processes: the revision checks happen in the database, not in a process's queue.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it, onTestFinished } from 'vitest';
import type { TestServer } from '../support/app.js';
import { closeAfterTest, tempDirForTest } from '../support/fixtures.js';
import { describePostgres, resetDatabase, usePostgresDatabase } from '../support/postgres.js';
import { startPostgresNodes } from '../support/postgres-app.js';
import { runFerry } from '../support/process.js';

describePostgres('two Ferry nodes on one PostgreSQL database', () => {
  const db = usePostgresDatabase('two_nodes');
  const nodes = async (): Promise<[TestServer, TestServer]> => {
    await resetDatabase(db.url());
    const [a, b] = await startPostgresNodes(db.url(), 2);
    return [closeAfterTest(a!), closeAfterTest(b!)];
  };

  it('a num_uses=1 token used through both nodes at once serves exactly one request, in each of 10 rounds', async () => {
    const [a, b] = await nodes();
    expect((await a.call('PUT', '/v1/secret/data/app', { body: { data: { v: '1' } } })).statusCode).toBe(200);
    expect((await a.call('PUT', '/v1/sys/policies/acl/reader', { body: { policy: 'path "secret/data/app" { capabilities = ["read"] }' } })).statusCode).toBe(204);
    for (let round = 0; round < 10; round++) {
      const token = (await a.call('POST', '/v1/auth/token/create', { body: { policies: ['reader'], num_uses: 1 } })).json().auth.client_token as string;
      // Both nodes know the token before the race, so each holds it in its own token cache.
      expect((await b.call('POST', '/v1/auth/token/lookup', { body: { token } })).json().data.num_uses).toBe(1);
      const answers = await Promise.all([a, b, a, b].map((node) => node.call('GET', '/v1/secret/data/app', { token })));
      const statuses = answers.map((r) => r.statusCode);
      expect(statuses.filter((s) => s === 200), `round ${round}: ${statuses.join(',')}`).toHaveLength(1);
      expect(answers.filter((r) => r.statusCode === 403).map((r) => r.json())).toEqual(Array(3).fill({ errors: ['permission denied'] }));
      // Spent: neither node serves it again.
      for (const node of [a, b]) expect((await node.call('GET', '/v1/secret/data/app', { token })).statusCode).toBe(403);
    }
  });

  it('KV writes through both nodes at once lose no version, and a check-and-set race through both has one winner', async () => {
    const [a, b] = await nodes();
    // Ten: the mount keeps ten versions (max_versions' default), so every one is still listed after.
    const writes = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).call('PUT', '/v1/secret/data/shared', { body: { data: { n: String(i) } } })));
    expect(writes.map((w) => w.statusCode)).toEqual(Array(10).fill(200));
    expect(writes.map((w) => w.json().data.version).sort((x: number, y: number) => x - y)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    const meta = (await b.call('GET', '/v1/secret/metadata/shared')).json().data;
    expect(meta.current_version).toBe(10);
    expect(Object.keys(meta.versions)).toHaveLength(10);

    const cas = await Promise.all([a, b].map((node, i) => node.call('PUT', '/v1/secret/data/shared', { body: { options: { cas: 10 }, data: { by: String(i) } } })));
    expect(cas.map((r) => r.statusCode).sort()).toEqual([200, 400]);
    expect((await a.call('GET', '/v1/secret/data/shared')).json().data.metadata.version).toBe(11);
  });

  it('`ferry server` with storage "postgresql" (the URL from VAULT_PG_CONNECTION_URL): init, unseal, write; a restarted process has it all', async () => {
    await resetDatabase(db.url());
    const url = new URL(db.url());
    url.password = 'not-in-the-banner';
    const file = join(tempDirForTest('ferry-pg-cfg-'), 'ferry.hcl');
    writeFileSync(
      file,
      'listener "tcp" {\n  address = "127.0.0.1:0"\n  tls_disable = true\n}\nstorage "postgresql" {\n  ha_enabled = "false"\n  max_parallel = "4"\n}\n',
    );
    const start = async () => {
      const p = runFerry(['server', `-config=${file}`], { VAULT_PG_CONNECTION_URL: url.toString() });
      onTestFinished(() => p.stop());
      const [, addr] = await p.waitFor(/Api Address: (http:\/\/\S+)/);
      const [storage] = await p.waitFor(/Storage: .*/);
      expect(storage).toBe(`Storage: postgresql (127.0.0.1:${url.port}${url.pathname}, HA disabled)`);
      return { p, addr: addr! };
    };
    const first = await start();
    expect(first.p.stdout()).not.toContain('not-in-the-banner');
    const init = (await (await fetch(`${first.addr}/v1/sys/init`, { method: 'PUT', body: JSON.stringify({ secret_shares: 1, secret_threshold: 1 }) })).json()) as {
      keys_base64: string[];
      root_token: string;
    };
    const unseal = (addr: string) => fetch(`${addr}/v1/sys/unseal`, { method: 'PUT', body: JSON.stringify({ key: init.keys_base64[0] }) });
    expect((await unseal(first.addr)).status).toBe(200);
    const headers = { 'x-vault-token': init.root_token };
    expect((await fetch(`${first.addr}/v1/sys/mounts/kv`, { method: 'POST', headers, body: JSON.stringify({ type: 'kv', options: { version: '2' } }) })).status).toBe(204);
    expect((await fetch(`${first.addr}/v1/kv/data/app`, { method: 'PUT', headers, body: JSON.stringify({ data: { password: 'p1' } }) })).status).toBe(200);
    const health = (await (await fetch(`${first.addr}/v1/sys/seal-status`)).json()) as { storage_type: string };
    expect(health.storage_type).toBe('postgresql');
    await first.p.stop();

    const second = await start();
    expect((await (await fetch(`${second.addr}/v1/sys/seal-status`)).json()) as object).toMatchObject({ initialized: true, sealed: true });
    expect((await unseal(second.addr)).status).toBe(200);
    const read = (await (await fetch(`${second.addr}/v1/kv/data/app`, { headers })).json()) as { data: { data: unknown } };
    expect(read.data.data).toEqual({ password: 'p1' });
  });

  it("a node's in-memory copies go stale when another node writes, and refreshFromStorage (HA: on becoming active) reloads them", async () => {
    const [a, b] = await nodes();
    expect((await a.call('PUT', '/v1/secret/data/app', { body: { data: { v: '1' } } })).statusCode).toBe(200);
    expect((await a.call('PUT', '/v1/sys/policies/acl/reader', { body: { policy: 'path "secret/data/app" { capabilities = ["read"] }' } })).statusCode).toBe(204);
    const token = (await a.call('POST', '/v1/auth/token/create', { body: { policies: ['reader'] } })).json().auth.client_token as string;
    expect((await b.call('GET', '/v1/secret/data/app', { token })).statusCode).toBe(200);
    // Through A: the token revoked, the policy emptied, a mount enabled.
    expect((await a.call('POST', '/v1/auth/token/revoke', { body: { token } })).statusCode).toBe(204);
    const other = (await a.call('POST', '/v1/auth/token/create', { body: { policies: ['reader'] } })).json().auth.client_token as string;
    expect((await b.call('GET', '/v1/secret/data/app', { token: other })).statusCode).toBe(200);
    expect((await a.call('PUT', '/v1/sys/policies/acl/reader', { body: { policy: 'path "secret/data/other" { capabilities = ["read"] }' } })).statusCode).toBe(204);
    expect((await a.call('POST', '/v1/sys/mounts/team', { body: { type: 'kv', options: { version: '2' } } })).statusCode).toBe(204);
    // B still answers from what it held: why several nodes need HA (one active node serves).
    expect((await b.call('GET', '/v1/secret/data/app', { token })).statusCode).toBe(200);
    expect((await b.call('GET', '/v1/secret/data/app', { token: other })).statusCode).toBe(200);
    expect((await b.call('GET', '/v1/sys/mounts/team')).statusCode).toBe(400);

    // KV settings changed through A: B still applies its cached ones (check-and-set not required).
    expect((await b.call('PUT', '/v1/secret/data/app', { body: { data: { v: '2' } } })).statusCode).toBe(200);
    expect((await a.call('POST', '/v1/secret/config', { body: { cas_required: true } })).statusCode).toBe(204);
    expect((await b.call('PUT', '/v1/secret/data/app', { body: { data: { v: '3' } } })).statusCode).toBe(200);
    // A keyring rotated through A: what A writes next is under a term B does not know yet.
    expect((await a.call('PUT', '/v1/sys/rotate')).statusCode).toBe(204);
    expect((await a.call('PUT', '/v1/secret/data/rotated', { body: { options: { cas: 0 }, data: { v: 'new-term' } } })).statusCode).toBe(200);
    expect((await b.call('GET', '/v1/secret/data/rotated')).statusCode).not.toBe(200);

    await b.server.refreshFromStorage();
    expect((await b.call('GET', '/v1/secret/data/rotated')).json().data.data).toEqual({ v: 'new-term' });
    expect((await b.call('PUT', '/v1/secret/data/app', { body: { data: { v: '4' } } })).statusCode).toBe(400);
    expect((await b.call('GET', '/v1/secret/data/app', { token })).statusCode).toBe(403);
    expect((await b.call('GET', '/v1/secret/data/app', { token: other })).statusCode).toBe(403);
    expect((await b.call('GET', '/v1/sys/mounts/team')).json().data).toMatchObject({ type: 'kv' });
    expect((await b.call('PUT', '/v1/team/data/x', { body: { data: { y: '1' } } })).statusCode).toBe(200);
  });

  it('paths with U+0000 (%00), which PostgreSQL text cannot hold, are stored and read back, never a 500', async () => {
    const [a] = await nodes();
    expect((await a.call('PUT', '/v1/secret/data/a%00b', { body: { data: { x: '1' } } })).statusCode).toBe(200);
    expect((await a.call('GET', '/v1/secret/data/a%00b')).json().data.data).toEqual({ x: '1' });
    expect((await a.call('LIST', '/v1/secret/metadata/')).json().data.keys).toEqual(['a\u0000b']);
    expect((await a.call('PUT', '/v1/sys/policies/acl/p%00x', { body: { policy: 'path "x" { capabilities = ["read"] }' } })).statusCode).not.toBe(500);
  });

  it('quotes, backslashes, $1, LIKE and regex metacharacters and SQL in paths are data (review #19): stored, read back, listed in order, never a 500', async () => {
    const [a, b] = await nodes();
    const names = [`o'brien`, `x'); DROP TABLE ferry_entries; --`, 'back\\slash', '$1', '100%_done', 'dir[a-z]*', 'E\'\\x00\'', 'ünï€😀'];
    for (const name of names) {
      const res = await a.call('PUT', `/v1/secret/data/q/${encodeURIComponent(name)}`, { body: { data: { name } } });
      expect(res.statusCode, name).toBe(200);
    }
    for (const name of names) expect((await b.call('GET', `/v1/secret/data/q/${encodeURIComponent(name)}`)).json().data.data, name).toEqual({ name });
    const byCodePoint = [...names].sort((x, y) => (Buffer.from(x) < Buffer.from(y) ? -1 : 1));
    expect((await b.call('LIST', '/v1/secret/metadata/q/')).json().data.keys).toEqual(byCodePoint);
    // A LIKE-looking prefix lists nothing it does not hold.
    expect((await b.call('LIST', '/v1/secret/metadata/q%25/')).statusCode).toBe(404);
    // Multi-byte and long: a 400 or a 200, never a 500.
    const long = '€'.repeat(1500) + randomBytes(600).toString('hex');
    expect([200, 400]).toContain((await a.call('PUT', `/v1/secret/data/${encodeURIComponent(long)}`, { body: { data: { x: '1' } } })).statusCode);
    expect((await a.call('PUT', `/v1/sys/policies/acl/${encodeURIComponent(`p'; --`)}`, { body: { policy: 'path "x" { capabilities = ["read"] }' } })).statusCode).not.toBe(500);
  });

  it('a path too long for PostgreSQL\'s index is a 400 saying so, never a 500, and nothing is written', async () => {
    const [a] = await nodes();
    // Random, so that PostgreSQL cannot compress the key under its btree limit (~2,700 bytes).
    const name = randomBytes(2000).toString('hex');
    const res = await a.call('PUT', `/v1/secret/data/${name}`, { body: { data: { x: '1' } } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ errors: ['the path is too long for this storage: PostgreSQL indexes at most about 2,700 bytes of a storage key'] });
    expect((await a.call('GET', `/v1/secret/data/${name}`)).statusCode).toBe(404);
    expect((await a.call('PUT', `/v1/secret/data/${name.slice(0, 1000)}`, { body: { data: { x: '1' } } })).statusCode).toBe(200);
  });
});
