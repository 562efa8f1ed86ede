import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { startListeningServer, startTestServer, type TestServer } from '../support/app.js';
import { closeAfterTest } from '../support/fixtures.js';
import { TEST_ACCESS_KEY, TEST_SECRET_KEY } from '../support/sync.js';

/**
 * The check `vault operator raft snapshot save` makes on the body (hashicorp/vault
 * api/sys_raft.go), replayed: gzip.NewReader, then tar.NewReader's Next() until an entry named
 * `SHA256SUMS.sealed`, read fully; verified only when it is there and non-empty. Any gzip or tar
 * error stops the check unverified (→ ErrIncompleteSnapshot). Written apart from Ferry's own
 * archive code on purpose.
 */
function goClientAccepts(body: Buffer): boolean {
  let tar: Buffer;
  try {
    tar = gunzipSync(body);
  } catch {
    return false;
  }
  for (let at = 0; at + 512 <= tar.length; ) {
    const header = tar.subarray(at, at + 512);
    if (header.every((b) => b === 0)) return false;
    const name = header.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
    const size = Number.parseInt(header.subarray(124, 136).toString('ascii').replace(/\0.*$/s, '').trim(), 8);
    if (!Number.isFinite(size) || at + 512 + size > tar.length) return false;
    if (name === 'SHA256SUMS.sealed') return size > 0;
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return false;
}

/** The members of a snapshot, by name (the test's own tar walk). */
function members(body: Buffer): Map<string, Buffer> {
  const tar = gunzipSync(body);
  const out = new Map<string, Buffer>();
  for (let at = 0; at + 512 <= tar.length; ) {
    const header = tar.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const name = header.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
    const size = Number.parseInt(header.subarray(124, 136).toString('ascii').trim(), 8);
    out.set(name, tar.subarray(at + 512, at + 512 + size));
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

const snapshotOf = async (t: TestServer, token?: string) => {
  const res = await t.call('GET', '/v1/sys/storage/raft/snapshot', token === undefined ? {} : { token });
  expect(res.statusCode).toBe(200);
  return res.rawPayload;
};

const restore = (t: TestServer, body: Buffer, force = false) =>
  t.app.inject({
    method: 'POST',
    url: `/v1/sys/storage/raft/snapshot${force ? '-force' : ''}`,
    headers: { 'x-vault-token': t.rootToken },
    payload: body,
  });

/** Unseals a sealed dev server with its unseal key (base64). */
const unseal = (t: TestServer, key: string) => t.call('PUT', '/v1/sys/unseal', { body: { key }, token: null });

describe('sys/storage/raft/snapshot', () => {
  it('gives what `vault operator raft snapshot save` accepts: the api client request flow over a real socket, and its body check', async () => {
    const s = closeAfterTest(await startListeningServer({ syncWorker: { start: false } }));
    // The api client: a plain GET with X-Vault-Token, no retries, the body copied as it streams.
    const res = await fetch(`${s.listener.url}/v1/sys/storage/raft/snapshot`, { headers: { 'X-Vault-Token': s.rootToken } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/gzip');
    expect(res.headers.get('content-disposition')).toBe('attachment');
    const body = Buffer.from(await res.arrayBuffer());
    expect(goClientAccepts(body)).toBe(true);
    const files = members(body);
    expect([...files.keys()]).toEqual(['meta.json', 'ferry.db', 'SHA256SUMS', 'SHA256SUMS.sealed']);
    // raft-snapshot's SHA256SUMS lines: hex, two spaces, name.
    expect(files.get('SHA256SUMS')!.toString()).toMatch(/^[0-9a-f]{64} {2}meta\.json\n[0-9a-f]{64} {2}ferry\.db\n$/);
    // The replayed check can fail: without the sealed sums, or with them empty, it refuses the body.
    expect(goClientAccepts(gzipSync(gunzipSync(body).subarray(0, 512)))).toBe(false);
    expect(goClientAccepts(Buffer.from('not gzip'))).toBe(false);
  });

  it('needs sudo: a token without it gets 403, and nothing is restored', async () => {
    const t = closeAfterTest(await startTestServer());
    await t.call('PUT', '/v1/sys/policies/acl/ops', { body: { policy: 'path "sys/storage/raft/*" { capabilities = ["read", "update"] }' } });
    const token = (await t.call('POST', '/v1/auth/token/create', { body: { policies: ['ops'] } })).json().auth.client_token;
    const snapshot = await snapshotOf(t);
    expect((await t.call('GET', '/v1/sys/storage/raft/snapshot', { token })).statusCode).toBe(403);
    const res = await t.app.inject({ method: 'POST', url: '/v1/sys/storage/raft/snapshot-force', headers: { 'x-vault-token': token }, payload: snapshot });
    expect(res.statusCode).toBe(403);
    expect((await t.call('GET', '/v1/sys/seal-status', { token: null })).json().sealed).toBe(false);
  });

  it('refuses malformed snapshots with a 400 and leaves the server as it was', async () => {
    const t = closeAfterTest(await startTestServer());
    await t.call('PUT', '/v1/secret/data/keep', { body: { data: { v: '1' } } });
    const good = await snapshotOf(t);
    const tar = gunzipSync(good);
    const flipped = Buffer.from(tar);
    flipped[1024 + 600] = flipped[1024 + 600]! ^ 0xff; // a byte of ferry.db: its checksum no longer matches
    const cases: Array<[Buffer, RegExp]> = [
      [Buffer.alloc(0), /no snapshot in the request body/],
      [Buffer.from('definitely not gzip'), /failed to decompress snapshot/],
      [gzipSync(Buffer.from('x'.repeat(2048))), /not a tar archive/],
      [gzipSync(tar.subarray(0, 700)), /unexpected end of archive/],
      [gzipSync(flipped), /hash check failed for "ferry.db"/],
    ];
    for (const [body, message] of cases) {
      const res = await restore(t, body, true);
      expect(res.statusCode, message.source).toBe(400);
      expect(res.json().errors[0]).toMatch(message);
    }
    expect((await t.call('GET', '/v1/secret/data/keep')).json().data.data).toEqual({ v: '1' });
  });

  it('refuses, without -force, a snapshot taken under other unseal keys, with Vault\'s message', async () => {
    const a = closeAfterTest(await startTestServer());
    const b = closeAfterTest(await startTestServer());
    const res = await restore(b, await snapshotOf(a));
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual([
      'could not verify hash file, possibly the snapshot is using a different set of unseal keys; use the snapshot-force API to bypass this check',
    ]);
    expect((await b.call('GET', '/v1/sys/seal-status', { token: null })).json().sealed).toBe(false);
  });

  it('restores its own snapshot without -force, sealed afterwards and unsealed with the same key', async () => {
    const t = closeAfterTest(await startTestServer());
    await t.call('PUT', '/v1/secret/data/app', { body: { data: { v: 'before' } } });
    const snapshot = await snapshotOf(t);
    await t.call('PUT', '/v1/secret/data/app', { body: { data: { v: 'after' } } });
    // Read (and so cached) before the restore replaces the store underneath.
    expect((await t.call('GET', '/v1/secret/data/app')).json().data.data).toEqual({ v: 'after' });
    expect((await restore(t, snapshot)).statusCode).toBe(204);
    expect((await t.call('GET', '/v1/sys/seal-status', { token: null })).json().sealed).toBe(true);
    expect((await t.call('GET', '/v1/secret/data/app')).statusCode).toBe(503);
    expect((await unseal(t, t.server.devUnsealKey!)).json().sealed).toBe(false);
    expect((await t.call('GET', '/v1/secret/data/app')).json().data.data).toEqual({ v: 'before' });
    // The next write starts from the restored version, not from the one written before the restore.
    expect((await t.call('PUT', '/v1/secret/data/app', { body: { options: { cas: 2 }, data: { v: 'stale' } } })).statusCode).toBe(400);
    expect((await t.call('PUT', '/v1/secret/data/app', { body: { options: { cas: 1 }, data: { v: 'next' } } })).json().data.version).toBe(2);
    expect((await t.call('GET', '/v1/secret/data/app')).json().data).toMatchObject({ data: { v: 'next' }, metadata: { version: 2 } });
  });

  it(
    'restores 10,000 secrets, 100 sync associations, policies and tokens into a new server, unsealed with the original keys; no plaintext inside',
    { timeout: 180_000 },
    async () => {
      const a = closeAfterTest(await startTestServer({ syncWorker: { start: false } }));
      const marker = (i: number) => `plaintext-marker-${i}-${'q'.repeat(8)}`;
      for (let i = 0; i < 10_000; i += 250) {
        await Promise.all(
          Array.from({ length: 250 }, (_, j) => a.call('PUT', `/v1/secret/data/app/s${i + j}`, { body: { data: { value: marker(i + j) } } })),
        );
      }
      await a.call('PUT', '/v1/sys/policies/acl/reader', { body: { policy: 'path "secret/data/app/*" { capabilities = ["read"] }' } });
      const token = (await a.call('POST', '/v1/auth/token/create', { body: { policies: ['reader'] } })).json().auth.client_token as string;
      await a.call('PUT', '/v1/sys/sync/destinations/aws-sm/backup-dest', {
        body: { access_key_id: TEST_ACCESS_KEY, secret_access_key: TEST_SECRET_KEY, region: 'us-east-1', endpoint_url: 'http://127.0.0.1:9' },
      });
      for (let i = 0; i < 100; i += 25) {
        await Promise.all(
          Array.from({ length: 25 }, (_, j) =>
            a.call('PUT', '/v1/sys/sync/destinations/aws-sm/backup-dest/associations/set', { body: { mount: 'secret', secret_name: `app/s${i + j}` } }),
          ),
        );
      }
      const associationsOf = async (t: TestServer) =>
        Object.keys((await t.call('GET', '/v1/sys/sync/destinations/aws-sm/backup-dest/associations')).json().data.associated_secrets);
      const associations = await associationsOf(a);
      expect(associations).toHaveLength(100);

      const snapshot = await snapshotOf(a);
      expect(goClientAccepts(snapshot)).toBe(true);
      const unpacked = gunzipSync(snapshot);
      for (const needle of ['plaintext-marker', TEST_SECRET_KEY, token]) expect(unpacked.includes(needle), needle).toBe(false);

      const b = closeAfterTest(await startTestServer({ syncWorker: { start: false } }));
      expect((await b.call('GET', '/v1/auth/token/lookup-self', { token })).statusCode).toBe(403);
      expect((await restore(b, snapshot, true)).statusCode).toBe(204);
      expect((await b.call('GET', '/v1/sys/seal-status', { token: null })).json()).toMatchObject({ sealed: true, t: 1, n: 1 });
      expect((await unseal(b, b.server.devUnsealKey!)).statusCode).toBe(400);
      expect((await unseal(b, a.server.devUnsealKey!)).json().sealed).toBe(false);

      const keys = (await b.call('GET', '/v1/secret/metadata/app?list=true')).json().data.keys as string[];
      expect(keys).toHaveLength(10_000);
      for (const i of [0, 1, 4_999, 9_999]) {
        expect((await b.call('GET', `/v1/secret/data/app/s${i}`, { token })).json().data.data).toEqual({ value: marker(i) });
      }
      expect((await b.call('GET', '/v1/sys/policies/acl/reader')).json().data.policy).toContain('secret/data/app/*');
      expect((await b.call('GET', '/v1/auth/token/lookup-self', { token })).json().data.policies).toEqual(['default', 'reader']);
      expect((await b.call('GET', '/v1/sys/policies/acl/reader', { token })).statusCode).toBe(403);
      expect((await associationsOf(b)).sort()).toEqual(associations.sort());
    },
  );
});
