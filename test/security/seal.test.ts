import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startTestServer } from '../support/app.js';
import { closeAfterTest, tempDirForTest } from '../support/fixtures.js';
import { CLI_HEADERS, initAndUnseal, startPersistent } from './support.js';

const persistent = async (file: string) => closeAfterTest(await startPersistent(file));
const dev = async () => closeAfterTest(await startTestServer());

const sealStatus = (over: Record<string, unknown>) => ({
  type: 'shamir',
  initialized: true,
  sealed: true,
  t: 3,
  n: 5,
  progress: 0,
  nonce: '',
  version: '2.2.0+ferry.0.1.0',
  ferry_version: '0.1.0',
  build_date: '2026-11-29T00:00:00Z',
  migration: false,
  recovery_seal: false,
  storage_type: 'sqlite',
  ...over,
});

describe('a fresh persistent server', () => {
  it('is uninitialised: health answers 501, seal-status and init report it, everything else is 503', async () => {
    const t = await persistent(path.join(tempDirForTest(), 'ferry.db'));
    const health = await t.call('GET', '/v1/sys/health', { token: null });
    expect(health.statusCode).toBe(501);
    expect(health.json()).toMatchObject({ initialized: false, sealed: true });
    expect((await t.call('GET', '/v1/sys/seal-status', { token: null })).json()).toEqual(
      sealStatus({ initialized: false, t: 0, n: 0 }),
    );
    expect((await t.call('GET', '/v1/sys/init', { token: null })).json()).toEqual({ initialized: false });
    for (const [method, url] of [
      ['GET', '/v1/sys/mounts'],
      ['GET', '/v1/auth/token/lookup-self'],
      ['GET', '/v1/secret/data/x'],
      ['PUT', '/v1/sys/policies/acl/p'],
    ] as const) {
      const res = await t.call(method, url, { token: 'anything' });
      expect(res.statusCode, url).toBe(503);
      expect(res.json(), url).toEqual({ errors: ['Vault is sealed'] });
    }
  });

  it('refuses an unseal before init with a clear message', async () => {
    const t = await persistent(path.join(tempDirForTest(), 'ferry.db'));
    const res = await t.call('PUT', '/v1/sys/unseal', { token: null, body: { key: 'aa'.repeat(32) } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ errors: ['Vault is not initialized'] });
  });

  it("validates the seal configuration with Vault's messages", async () => {
    const t = await persistent(path.join(tempDirForTest(), 'ferry.db'));
    const cases: Array<[Record<string, unknown>, string]> = [
      [{}, 'invalid seal configuration: shares must be at least one'],
      [{ secret_shares: 1, secret_threshold: 0 }, 'invalid seal configuration: threshold must be at least one'],
      [{ secret_shares: 3, secret_threshold: 4 }, 'invalid seal configuration: threshold cannot be larger than shares'],
      [{ secret_shares: 3, secret_threshold: 1 }, 'invalid seal configuration: threshold must be greater than one for multiple shares'],
      [{ secret_shares: 256, secret_threshold: 2 }, 'invalid seal configuration: shares must be less than 256'],
      [{ secret_shares: 1, secret_threshold: 1, pgp_keys: ['k'] }, 'pgp_keys are not supported: Ferry returns the key shares unencrypted'],
      [{ secret_shares: 1, secret_threshold: 1, stored_shares: 1 }, 'stored keys are not supported by the current seal type'],
      [{ secret_shares: 1, secret_threshold: 1, recovery_shares: 1 }, 'parameters recovery_shares,recovery_threshold not applicable to seal type shamir'],
    ];
    for (const [body, message] of cases) {
      const res = await t.call('PUT', '/v1/sys/init', { token: null, body });
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json()).toEqual({ errors: [message] });
    }
    expect((await t.call('GET', '/v1/sys/init', { token: null })).json()).toEqual({ initialized: false });
  });
});

describe('vault operator init (CLI flow)', () => {
  it('reads seal-status, then PUTs sys/init with the Go client body; gets hex and base64 shares and a root token; stays sealed', async () => {
    const t = await persistent(path.join(tempDirForTest(), 'ferry.db'));
    const status = await t.call('GET', '/v1/sys/seal-status', { token: null, headers: CLI_HEADERS });
    expect(status.statusCode).toBe(200);
    expect(status.json()).toMatchObject({ type: 'shamir', initialized: false, recovery_seal: false });

    const res = await t.call('PUT', '/v1/sys/init', {
      token: null,
      headers: CLI_HEADERS,
      body: {
        secret_shares: 5,
        secret_threshold: 3,
        stored_shares: 0,
        pgp_keys: null,
        recovery_shares: 0,
        recovery_threshold: 0,
        recovery_pgp_keys: null,
        root_token_pgp_key: '',
      },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual(['keys', 'keys_base64', 'root_token']);
    expect(body.keys).toHaveLength(5);
    expect(body.keys_base64).toHaveLength(5);
    for (let i = 0; i < 5; i++) {
      expect(body.keys[i]).toMatch(/^[0-9a-f]{66}$/);
      expect(Buffer.from(body.keys_base64[i], 'base64').toString('hex')).toBe(body.keys[i]);
    }
    expect(new Set(body.keys).size).toBe(5);
    expect(body.root_token).toMatch(/^hvs\.[A-Za-z0-9_-]{20,}$/);

    expect((await t.call('GET', '/v1/sys/seal-status', { token: null })).json()).toEqual(sealStatus({}));
    expect((await t.call('GET', '/v1/sys/health', { token: null })).statusCode).toBe(503);
    const again = await t.call('PUT', '/v1/sys/init', { token: null, body: { secret_shares: 1, secret_threshold: 1 } });
    expect(again.statusCode).toBe(400);
    expect(again.json()).toEqual({ errors: ['Vault is already initialized'] });
  });
});

describe('vault operator unseal (CLI flow)', () => {
  it('takes shares in hex or base64 with progress and a nonce, unseals at the threshold, then reads sys/leader', async () => {
    const t = await persistent(path.join(tempDirForTest(), 'ferry.db'));
    const init = (await t.call('PUT', '/v1/sys/init', { token: null, body: { secret_shares: 5, secret_threshold: 3 } })).json();

    const first = await t.call('PUT', '/v1/sys/unseal', {
      token: null,
      headers: CLI_HEADERS,
      body: { key: init.keys_base64[0], reset: false, migrate: false },
    });
    expect(first.statusCode).toBe(200);
    const firstBody = first.json();
    expect(firstBody.nonce).toMatch(/^[0-9a-f-]{36}$/);
    expect(firstBody).toEqual(sealStatus({ progress: 1, nonce: firstBody.nonce }));

    const second = await t.call('PUT', '/v1/sys/unseal', { token: null, headers: CLI_HEADERS, body: { key: init.keys[3], reset: false, migrate: false } });
    expect(second.json()).toEqual(sealStatus({ progress: 2, nonce: firstBody.nonce }));

    const third = await t.call('PUT', '/v1/sys/unseal', { token: null, headers: CLI_HEADERS, body: { key: init.keys_base64[4], reset: false, migrate: false } });
    expect(third.statusCode).toBe(200);
    expect(third.json()).toEqual(
      sealStatus({ sealed: false, progress: 0, nonce: '', cluster_name: 'ferry-cluster', cluster_id: t.server.core.info.clusterId }),
    );
    const leader = await t.call('GET', '/v1/sys/leader', { token: null, headers: CLI_HEADERS });
    expect(leader.statusCode).toBe(200);
    expect(leader.json().active_time).toBe('0001-01-01T00:00:00Z');

    // The root token from init works once unsealed; the built-in mounts and the default policy exist.
    const lookup = await t.call('GET', '/v1/auth/token/lookup-self', { token: init.root_token });
    expect(lookup.statusCode).toBe(200);
    expect(lookup.json().data).toMatchObject({ policies: ['root'], path: 'auth/token/root', display_name: 'root', ttl: 0, orphan: true });
    expect((await t.call('GET', '/v1/sys/policies/acl?list=true', { token: init.root_token })).json().data.keys).toEqual(['default', 'root']);
    expect(Object.keys((await t.call('GET', '/v1/sys/mounts', { token: init.root_token })).json().data).sort()).toEqual([
      'cubbyhole/',
      'identity/',
      'sys/',
    ]);
  });

  it('works with one share and a threshold of one (the key is the share)', async () => {
    const t = await persistent(path.join(tempDirForTest(), 'ferry.db'));
    const init = await initAndUnseal(t, 1, 1);
    expect(init.keys[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(t.server.core.seal.status()).toEqual({ initialized: true, sealed: false, t: 1, n: 1, progress: 0, nonce: '' });
  });

  it('rejects a share that was never issued with a clear message and keeps the progress', async () => {
    const t = await persistent(path.join(tempDirForTest(), 'ferry.db'));
    const init = (await t.call('PUT', '/v1/sys/init', { token: null, body: { secret_shares: 3, secret_threshold: 2 } })).json();
    const ok = (await t.call('PUT', '/v1/sys/unseal', { token: null, body: { key: init.keys[0] } })).json();
    const forged = init.keys[1].slice(0, 64) + (init.keys[1].endsWith('00') ? '01' : '00');
    const res = await t.call('PUT', '/v1/sys/unseal', { token: null, body: { key: forged } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ errors: ['Unseal failed, invalid key'] });
    expect((await t.call('GET', '/v1/sys/seal-status', { token: null })).json()).toEqual(
      sealStatus({ t: 2, n: 3, progress: 1, nonce: ok.nonce }),
    );
    // A share of another server's init is refused the same way.
    const other = await persistent(path.join(tempDirForTest(), 'other.db'));
    const foreign = (await other.call('PUT', '/v1/sys/init', { token: null, body: { secret_shares: 3, secret_threshold: 2 } })).json();
    expect((await t.call('PUT', '/v1/sys/unseal', { token: null, body: { key: foreign.keys[1] } })).json()).toEqual({
      errors: ['Unseal failed, invalid key'],
    });
    // The right second share still unseals.
    expect((await t.call('PUT', '/v1/sys/unseal', { token: null, body: { key: init.keys[2] } })).json().sealed).toBe(false);
  });

  it('rejects a repeated share with a clear message and keeps the progress', async () => {
    const t = await persistent(path.join(tempDirForTest(), 'ferry.db'));
    const init = (await t.call('PUT', '/v1/sys/init', { token: null, body: { secret_shares: 3, secret_threshold: 2 } })).json();
    await t.call('PUT', '/v1/sys/unseal', { token: null, body: { key: init.keys[0] } });
    const res = await t.call('PUT', '/v1/sys/unseal', { token: null, body: { key: init.keys_base64[0] } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ errors: ['Unseal failed, this key share was already provided in the current unseal attempt'] });
    expect(t.server.core.seal.status()).toMatchObject({ sealed: true, progress: 1 });
  });

  it('rejects keys that are not hex or base64, or have an impossible length, and a body without key', async () => {
    const t = await persistent(path.join(tempDirForTest(), 'ferry.db'));
    await t.call('PUT', '/v1/sys/init', { token: null, body: { secret_shares: 3, secret_threshold: 2 } });
    const cases: Array<[Record<string, unknown>, string]> = [
      [{}, "'key' must be specified in request body as JSON, or 'reset' set to true"],
      [{ key: '' }, "'key' must be specified in request body as JSON, or 'reset' set to true"],
      [{ key: 'not a key!' }, "'key' must be a valid hex or base64 string"],
      [{ key: 'abcd' }, 'invalid key: key is shorter than minimum 16 bytes'],
      [{ key: 'ab'.repeat(40) }, 'invalid key: key is longer than maximum 33 bytes'],
    ];
    for (const [body, message] of cases) {
      const res = await t.call('PUT', '/v1/sys/unseal', { token: null, body });
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json()).toEqual({ errors: [message] });
    }
    expect(t.server.core.seal.status().progress).toBe(0);
  });

  it('clears the progress and the nonce on reset (vault operator unseal -reset)', async () => {
    const t = await persistent(path.join(tempDirForTest(), 'ferry.db'));
    const init = (await t.call('PUT', '/v1/sys/init', { token: null, body: { secret_shares: 3, secret_threshold: 2 } })).json();
    await t.call('PUT', '/v1/sys/unseal', { token: null, body: { key: init.keys[0] } });
    const reset = await t.call('PUT', '/v1/sys/unseal', { token: null, headers: CLI_HEADERS, body: { key: '', reset: true, migrate: false } });
    expect(reset.statusCode).toBe(200);
    expect(reset.json()).toEqual(sealStatus({ t: 2, n: 3, progress: 0, nonce: '' }));
    // After a reset the first share counts again, and one more share is still needed.
    expect((await t.call('PUT', '/v1/sys/unseal', { token: null, body: { key: init.keys[0] } })).json().progress).toBe(1);
    expect((await t.call('PUT', '/v1/sys/unseal', { token: null, body: { key: init.keys[1] } })).json().sealed).toBe(false);
    const late = await t.call('PUT', '/v1/sys/unseal', { token: null, body: { reset: true } });
    expect(late.statusCode).toBe(400);
    expect(late.json()).toEqual({ errors: ['vault is unsealed'] });
  });
});

describe('a persistent server started again on its file', () => {
  it('is sealed and refuses everything but seal-status, init, health and unseal until the threshold is reached', async () => {
    const file = path.join(tempDirForTest(), 'ferry.db');
    const first = await persistent(file);
    const init = await initAndUnseal(first, 3, 2);
    const root = init.root_token;
    expect((await first.call('POST', '/v1/sys/mounts/my-kv', { token: root, body: { type: 'kv-v2' } })).statusCode).toBe(204);
    expect((await first.call('PUT', '/v1/sys/policies/acl/reader', { token: root, body: { policy: 'path "my-kv/*" { capabilities = ["read"] }' } })).statusCode).toBe(204);
    await first.close();

    const t = await persistent(file);
    expect((await t.call('GET', '/v1/sys/seal-status', { token: root })).json()).toEqual(sealStatus({ t: 2, n: 3 }));
    expect((await t.call('GET', '/v1/sys/init', { token: root })).json()).toEqual({ initialized: true });
    expect((await t.call('GET', '/v1/sys/health', { token: null })).statusCode).toBe(503);
    expect((await t.call('GET', '/v1/sys/health?sealedcode=200', { token: null })).statusCode).toBe(200);
    for (const [method, url] of [
      ['GET', '/v1/sys/leader'],
      ['GET', '/v1/sys/mounts'],
      ['GET', '/v1/auth/token/lookup-self'],
      ['POST', '/v1/auth/token/create'],
      ['GET', '/v1/sys/policies/acl/reader'],
      ['GET', '/v1/my-kv/data/x'],
      ['PUT', '/v1/sys/seal'],
      ['PUT', '/v1/sys/rotate'],
      ['GET', '/v1/sys/audit'],
      ['GET', '/v1/sys/internal/ui/mounts/my-kv'],
    ] as const) {
      const res = await t.call(method, url, { token: root });
      expect(res.statusCode, url).toBe(503);
      expect(res.json(), url).toEqual({ errors: ['Vault is sealed'] });
    }
    await t.call('PUT', '/v1/sys/unseal', { token: null, body: { key: init.keys[1] } });
    expect((await t.call('GET', '/v1/sys/mounts', { token: root })).statusCode).toBe(503);
    const done = await t.call('PUT', '/v1/sys/unseal', { token: null, body: { key: init.keys[2] } });
    expect(done.json()).toMatchObject({ sealed: false, progress: 0 });
    // Everything written before the restart is back.
    expect((await t.call('GET', '/v1/sys/mounts/my-kv', { token: root })).json().data).toMatchObject({ type: 'kv', options: { version: '2' } });
    expect((await t.call('GET', '/v1/sys/policies/acl/reader', { token: root })).json().data).toEqual({
      name: 'reader',
      policy: 'path "my-kv/*" { capabilities = ["read"] }',
    });
  });
});

describe('sys/seal', () => {
  it('is root-protected, answers 204, and then the server is sealed until unsealed again with its key', async () => {
    const t = await dev();
    const put = await t.call('PUT', '/v1/secret/data/app', { body: { data: { password: 'kept across a seal' } } });
    expect(put.statusCode).toBe(200);
    const limited = (await t.call('POST', '/v1/auth/token/create', { body: { policies: ['default'] } })).json().auth.client_token;
    const denied = await t.call('PUT', '/v1/sys/seal', { token: limited, headers: CLI_HEADERS });
    expect(denied.statusCode).toBe(403);
    expect(denied.json()).toEqual({ errors: ['permission denied'] });

    const res = await t.call('PUT', '/v1/sys/seal', { headers: CLI_HEADERS });
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expect(t.server.security.barrier.isSealed).toBe(true);
    expect((await t.call('GET', '/v1/secret/data/app')).statusCode).toBe(503);
    expect((await t.call('GET', '/v1/sys/seal-status', { token: null })).json()).toMatchObject({ sealed: true, t: 1, n: 1, storage_type: 'inmem' });

    const unseal = await t.call('PUT', '/v1/sys/unseal', { token: null, body: { key: t.server.devUnsealKey } });
    expect(unseal.json()).toMatchObject({ sealed: false });
    const read = await t.call('GET', '/v1/secret/data/app');
    expect(read.statusCode).toBe(200);
    expect(read.json().data.data).toEqual({ password: 'kept across a seal' });
  });
});

describe('sys/rotate and sys/key-status', () => {
  it('adds a data key term that new writes use, keeps older values readable, and reports the active term', async () => {
    const t = await dev();
    await t.call('PUT', '/v1/secret/data/before', { body: { data: { v: 'under term 1' } } });
    const status1 = await t.call('GET', '/v1/sys/key-status');
    expect(status1.statusCode).toBe(200);
    expect(status1.json().data).toMatchObject({ term: 1 });
    expect(status1.json().term).toBe(1);

    const rotate = await t.call('PUT', '/v1/sys/rotate', { headers: CLI_HEADERS });
    expect(rotate.statusCode).toBe(204);
    await t.call('PUT', '/v1/secret/data/after', { body: { data: { v: 'under term 2' } } });
    const status2 = (await t.call('GET', '/v1/sys/key-status')).json();
    expect(status2.data.term).toBe(2);
    expect(Number.isInteger(status2.data.encryptions)).toBe(true);
    expect(new Date(status2.data.install_time).toISOString()).toBe(status2.data.install_time);

    // Seal and unseal: both terms come back from the stored keyring.
    await t.call('PUT', '/v1/sys/seal');
    await t.call('PUT', '/v1/sys/unseal', { token: null, body: { key: t.server.devUnsealKey } });
    expect((await t.call('GET', '/v1/secret/data/before')).json().data.data).toEqual({ v: 'under term 1' });
    expect((await t.call('GET', '/v1/secret/data/after')).json().data.data).toEqual({ v: 'under term 2' });

    const limited = (await t.call('POST', '/v1/auth/token/create', { body: { policies: ['default'] } })).json().auth.client_token;
    expect((await t.call('PUT', '/v1/sys/rotate', { token: limited })).statusCode).toBe(403);
    expect((await t.call('GET', '/v1/sys/key-status', { token: limited })).statusCode).toBe(403);
  });
});
