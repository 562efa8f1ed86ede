import http from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startTestServer } from '../support/app.js';
import { closeAfterTest, tempDirForTest, useListeningServer } from '../support/fixtures.js';

/** One HTTP/1.1 request on its own connection; resolves with the status. */
function get(port: number, path: string, token: string, agent: http.Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: 'GET', agent, headers: { 'x-vault-token': token } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('limited-use tokens under concurrent requests', () => {
  const s = useListeningServer();

  it('a num_uses=1 token serves exactly one of 20 concurrent requests, the other 19 get 403, in each of 20 bursts, audited', async () => {
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${s.listener.url}${path}`, {
        method,
        headers: { 'x-vault-token': s.rootToken },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, json: res.status === 204 ? undefined : ((await res.json()) as any) };
    };
    const auditFile = join(tempDirForTest(), 'audit.log');
    expect((await call('PUT', '/v1/sys/audit/file', { type: 'file', options: { file_path: auditFile } })).status).toBe(204);
    expect((await call('PUT', '/v1/secret/data/app', { data: { v: '1' } })).status).toBe(200);
    expect((await call('PUT', '/v1/sys/policies/acl/reader', { policy: 'path "secret/data/app" { capabilities = ["read"] }' })).status).toBe(204);

    const agent = new http.Agent({ keepAlive: false, maxSockets: 20 });
    try {
      for (let burst = 0; burst < 20; burst++) {
        const created = await call('POST', '/v1/auth/token/create', { policies: ['reader'], num_uses: 1 });
        const token = created.json.auth.client_token as string;
        const statuses = await Promise.all(Array.from({ length: 20 }, () => get(s.listener.port, '/v1/secret/data/app', token, agent)));
        expect(statuses.filter((st) => st === 200), `burst ${burst}: ${statuses.join(',')}`).toHaveLength(1);
        expect(statuses.filter((st) => st === 403), `burst ${burst}`).toHaveLength(19);
      }
    } finally {
      agent.destroy();
    }
  });
});

describe('limited-use tokens', () => {
  it('a num_uses=3 token serves exactly 3 of 10 concurrent requests and reports its remaining uses to each', async () => {
    const t = closeAfterTest(await startTestServer());
    const token = (await t.call('POST', '/v1/auth/token/create', { body: { policies: ['default'], num_uses: 3 } })).json().auth.client_token;
    const answers = await Promise.all(Array.from({ length: 10 }, () => t.call('GET', '/v1/auth/token/lookup-self', { token })));
    const served = answers.filter((r) => r.statusCode === 200);
    expect(served).toHaveLength(3);
    expect(answers.filter((r) => r.statusCode === 403).map((r) => r.json())).toEqual(Array(7).fill({ errors: ['permission denied'] }));
    // Each served request saw the uses left after its own: 2, 1 and 0, once each.
    expect(served.map((r) => r.json().data.num_uses).sort()).toEqual([0, 1, 2]);
    // The spent token is revoked: it is unknown to the token store.
    expect((await t.call('POST', '/v1/auth/token/lookup', { body: { token } })).statusCode).toBe(403);
  });

  it('a child token created with the last use is revoked with its parent: one use never buys an unlimited token', async () => {
    const t = closeAfterTest(await startTestServer());
    const policy = 'path "secret/data/app" { capabilities = ["read"] }\npath "auth/token/create" { capabilities = ["update"] }';
    expect((await t.call('PUT', '/v1/sys/policies/acl/minter', { body: { policy } })).statusCode).toBe(204);
    expect((await t.call('PUT', '/v1/secret/data/app', { body: { data: { v: '1' } } })).statusCode).toBe(200);
    const parent = (await t.call('POST', '/v1/auth/token/create', { body: { policies: ['minter'], num_uses: 1 } })).json().auth.client_token;
    const created = await t.call('POST', '/v1/auth/token/create', { token: parent, body: {} });
    expect(created.statusCode).toBe(200);
    const child = created.json().auth.client_token as string;
    expect((await t.call('GET', '/v1/secret/data/app', { token: child })).statusCode).toBe(403);
    expect((await t.call('POST', '/v1/auth/token/lookup', { body: { token: child } })).statusCode).toBe(403);
  });
});

describe('limited-use tokens across processes sharing one store', () => {
  it('two token stores over one database spend each use once: the revision check decides, not an in-process queue', async () => {
    const { SqliteStore } = await import('../../src/store/sqlite.js');
    const { TokenStore } = await import('../../src/auth/token/store.js');
    const { ForwardingStore } = await import('../../src/store/forwarding.js');
    const database = closeAfterTest(new SqliteStore({ path: ':memory:' }));
    // A network database answers later than it is asked: reads of the two stores interleave.
    class Remote extends ForwardingStore {
      override async get(key: string) {
        const entry = await this.inner.get(key);
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
        return entry;
      }
    }
    // Two "processes": each its own token store (own cache, own queue) over the same database.
    const a = new TokenStore(new Remote(database));
    const b = new TokenStore(new Remote(database));
    const { id } = await a.create({ policies: ['default'], parent: null, ttl: 0, num_uses: 5 });
    const attempt = async (store: InstanceType<typeof TokenStore>) => {
      const entry = await store.lookup(id);
      if (!entry) return 'denied';
      try {
        return (await store.consumeUse(entry)).num_uses;
      } catch {
        return 'denied';
      }
    };
    const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => attempt(i % 2 === 0 ? a : b)));
    expect(outcomes.filter((o) => o !== 'denied').sort()).toEqual([0, 1, 2, 3, 4]);
    expect(await a.lookup(id)).toBeUndefined();
    expect(await b.lookup(id)).toBeUndefined();
  });
});

describe('limited-use tokens issued by logins', () => {
  const s = useListeningServer();

  it('a userpass login with token_num_uses=1 and an AppRole login with token_num_uses=2 give tokens that serve exactly 1 and 2 of 20 concurrent requests, audited', async () => {
    const call = async (method: string, path: string, body?: unknown, token: string | null = s.rootToken) => {
      const res = await fetch(`${s.listener.url}${path}`, {
        method,
        headers: token === null ? {} : { 'x-vault-token': token },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, json: res.status === 204 ? undefined : ((await res.json()) as any) };
    };
    const ok = async (method: string, path: string, body?: unknown, token?: string | null) => {
      const res = await call(method, path, body, token);
      expect(res.status, `${method} ${path}: ${JSON.stringify(res.json)}`).toBeLessThan(300);
      return res.json;
    };
    await ok('PUT', '/v1/sys/audit/file', { type: 'file', options: { file_path: join(tempDirForTest(), 'audit.log') } });
    await ok('PUT', '/v1/secret/data/app', { data: { v: '1' } });
    await ok('PUT', '/v1/sys/policies/acl/reader', { policy: 'path "secret/data/app" { capabilities = ["read"] }' });
    await ok('POST', '/v1/sys/auth/userpass', { type: 'userpass' });
    await ok('POST', '/v1/sys/auth/approle', { type: 'approle' });
    await ok('POST', '/v1/auth/userpass/users/ci', { password: 'correct horse', token_policies: ['reader'], token_num_uses: 1 });
    await ok('POST', '/v1/auth/approle/role/ci', { token_policies: ['reader'], token_num_uses: 2 });
    const roleId = (await ok('GET', '/v1/auth/approle/role/ci/role-id')).data.role_id as string;

    const agent = new http.Agent({ keepAlive: false, maxSockets: 20 });
    try {
      for (let burst = 0; burst < 5; burst++) {
        const userpass = (await ok('POST', '/v1/auth/userpass/login/ci', { password: 'correct horse' }, null)).auth;
        expect(userpass.num_uses).toBe(1);
        const secretId = (await ok('POST', '/v1/auth/approle/role/ci/secret-id', {})).data.secret_id as string;
        const approle = (await ok('POST', '/v1/auth/approle/login', { role_id: roleId, secret_id: secretId }, null)).auth;
        expect(approle.num_uses).toBe(2);
        for (const [token, uses] of [[userpass.client_token as string, 1], [approle.client_token as string, 2]] as const) {
          const statuses = await Promise.all(Array.from({ length: 20 }, () => get(s.listener.port, '/v1/secret/data/app', token, agent)));
          expect(statuses.filter((st) => st === 200), `burst ${burst}, ${uses} uses: ${statuses.join(',')}`).toHaveLength(uses);
          expect(statuses.filter((st) => st === 403), `burst ${burst}, ${uses} uses`).toHaveLength(20 - uses);
        }
      }
    } finally {
      agent.destroy();
    }
  });
});
