import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MountTable } from '../../src/sys/mount-table.js';
import { startListeningServer, type TestServer } from '../support/app.js';
import { closeAfterTest, tempDirForTest } from '../support/fixtures.js';
import { CLI_HEADERS, initAndUnseal, startPersistent, tokenWithPolicy } from '../security/support.js';
import { T0, iso, useKv } from './helpers.js';

const UPGRADING =
  'Upgrading from non-versioned to versioned data. This backend will be unavailable for a brief period and will resume service shortly.';
const upgradeWarning = (from: number, to: number) =>
  `Upgrading mount from version ${from} to version ${to}. This mount will be unavailable for a brief period and will resume service shortly.`;

/** Secrets of a KV v1 mount: nested paths, names that are KV v2 storage words, a value too big to keep inline. */
const SECRETS: Record<string, Record<string, unknown>> = {
  top: { a: '1' },
  'dir/b': { b: '2', n: 3 },
  'dir/sub/c': { c: { nested: true } },
  config: { looks: 'like the v2 config entry' },
  'meta/x': { looks: 'like a v2 metadata entry' },
  'data/y': { looks: 'like a v2 data path' },
  big: { blob: 'x'.repeat(2000) },
};

async function kvV1WithSecrets(t: TestServer, mount = 'kv1', token = t.rootToken): Promise<void> {
  expect((await t.call('POST', `/v1/sys/mounts/${mount}`, { token, body: { type: 'kv' } })).statusCode).toBe(204);
  for (const [p, data] of Object.entries(SECRETS)) {
    expect((await t.call('PUT', `/v1/${mount}/${p}`, { token, body: data })).statusCode, p).toBe(204);
  }
}

/** What `vault kv enable-versioning kv1` sends: the mount with a trailing slash, so a double slash on the wire. */
const enableVersioning = (t: TestServer, mount = 'kv1', token = t.rootToken) =>
  t.call('POST', `/v1/sys/mounts/${mount}//tune`, { token, headers: CLI_HEADERS, body: { options: { version: '2' } } });

/** Every secret reads back at version 1 with its old value, and the listings show every key. */
async function expectUpgraded(t: TestServer, mount = 'kv1', token = t.rootToken, created?: string): Promise<void> {
  for (const [p, data] of Object.entries(SECRETS)) {
    const read = await t.call('GET', `/v1/${mount}/data/${p}`, { token });
    expect(read.statusCode, p).toBe(200);
    expect(read.json().data.data, p).toEqual(data);
    expect(read.json().data.metadata, p).toMatchObject({ version: 1, destroyed: false, deletion_time: '' });
    if (created) expect(read.json().data.metadata.created_time, p).toBe(created);
    const meta = (await t.call('GET', `/v1/${mount}/metadata/${p}`, { token })).json().data;
    expect(meta, p).toMatchObject({ current_version: 1, oldest_version: 0, max_versions: 0, cas_required: false, delete_version_after: '0s' });
  }
  expect((await t.call('LIST', `/v1/${mount}/metadata`, { token })).json().data.keys).toEqual(['big', 'config', 'data/', 'dir/', 'meta/', 'top']);
  expect((await t.call('LIST', `/v1/${mount}/metadata/dir`, { token })).json().data.keys).toEqual(['b', 'sub/']);
  expect((await t.call('LIST', `/v1/${mount}/metadata/dir/sub`, { token })).json().data.keys).toEqual(['c']);
}

describe('vault kv enable-versioning (a KV v1 mount tuned to options.version=2)', () => {
  const t = useKv();

  it('upgrades a small mount within the tune: every key readable at version 1 and listed, nested paths kept', async () => {
    await kvV1WithSecrets(t);
    const before = (await t.call('GET', '/v1/sys/mounts/kv1')).json().data;
    const res = await enableVersioning(t);
    expect(res.statusCode).toBe(200);
    expect(res.json().warnings).toEqual([upgradeWarning(0, 2)]);
    // No waiting: a small mount is done when the tune answers.
    await expectUpgraded(t, 'kv1', t.rootToken, iso(T0));
    const after = (await t.call('GET', '/v1/sys/mounts/kv1')).json().data;
    expect(after).toEqual({ ...before, options: { version: '2' } });
    expect((await t.call('GET', '/v1/sys/internal/ui/mounts/kv1')).json().data.options).toEqual({ version: '2' });
    // Old v1 style paths are KV v2's invalid paths now, and a write makes version 2.
    expect((await t.call('GET', '/v1/kv1/top')).statusCode).toBe(404);
    const write = await t.call('PUT', '/v1/kv1/data/top', { body: { data: { a: '2' } } });
    expect(write.json().data.version).toBe(2);
    // Nothing of the v1 layout is left in storage.
    const mount = t.server.core.mounts.get('kv1/')!;
    expect(await t.server.core.store.scan(`logical/${mount.uuid}/`)).toEqual([]);
    expect(MountTable.dataPrefix(mount)).not.toBe(`logical/${mount.uuid}/`);
  });

  it('while the upgrade is held open, reads, writes and lists get Vault’s 400; afterwards everything is there', async () => {
    await kvV1WithSecrets(t);
    const reader = await tokenWithPolicy(t, 'kv1-rw', 'path "kv1/*" { capabilities = ["create", "read", "update", "list"] }');
    const outsider = await tokenWithPolicy(t, 'other', 'path "other/*" { capabilities = ["read"] }');
    const release = t.server.kv.upgrades.hold();
    const res = await enableVersioning(t);
    expect(res.statusCode).toBe(200);
    expect(res.json().warnings).toEqual([upgradeWarning(0, 2)]);
    for (const [method, url, body] of [
      ['GET', '/v1/kv1/data/top', undefined],
      ['PUT', '/v1/kv1/data/top', { data: { a: '9' } }],
      ['LIST', '/v1/kv1/metadata', undefined],
      ['GET', '/v1/kv1/metadata/dir/b', undefined],
      ['GET', '/v1/kv1/top', undefined],
      ['PUT', '/v1/kv1/new', { a: '1' }],
    ] as const) {
      for (const token of [t.rootToken, reader]) {
        const r = await t.call(method, url, { token, body });
        expect(r.statusCode, `${method} ${url}`).toBe(400);
        expect(r.json(), `${method} ${url}`).toEqual({ errors: [UPGRADING] });
      }
    }
    // The ACL still comes first.
    expect((await t.call('GET', '/v1/kv1/data/top', { token: outsider })).statusCode).toBe(403);
    // Sync cannot read a secret of the mount meanwhile either.
    await expect(t.server.kv.readLatestForSync(t.server.core.mounts.get('kv1/')!, 'top')).rejects.toThrow(UPGRADING);
    release();
    await t.server.kv.upgrades.whenIdle();
    await expectUpgraded(t, 'kv1', reader);
    // The write refused during the upgrade did not happen.
    expect((await t.call('GET', '/v1/kv1/data/top')).json().data.data).toEqual({ a: '1' });
  });

  it('never acknowledges a v1 write that the upgrade misses: writes sent around the tune are kept or refused with Vault’s 400', async () => {
    // An audit device makes each request wait on a file write after it was routed: a write routed to
    // the v1 mount before the tune then commits while (or after) the upgrade copies the data.
    const audit = path.join(tempDirForTest(), 'audit.log');
    expect((await t.call('PUT', '/v1/sys/audit/file', { body: { type: 'file', options: { file_path: audit } } })).statusCode).toBe(204);
    expect((await t.call('POST', '/v1/sys/mounts/kv1', { body: { type: 'kv' } })).statusCode).toBe(204);
    const write = (i: number) => t.call('PUT', `/v1/kv1/k${i}`, { body: { v: String(i) } });
    const before = Array.from({ length: 40 }, (_, i) => write(i));
    const tune = enableVersioning(t);
    const after = Array.from({ length: 40 }, (_, i) => write(40 + i));
    const results = await Promise.all([...before, ...after]);
    expect((await tune).statusCode).toBe(200);
    await t.server.kv.upgrades.whenIdle();
    const acknowledged: number[] = [];
    for (const [i, r] of results.entries()) {
      if (r.statusCode === 204) acknowledged.push(i);
      else expect(r.json(), `k${i}`).toEqual({ errors: [UPGRADING] });
    }
    expect(acknowledged.length).toBeGreaterThan(0);
    const lost: number[] = [];
    for (const i of acknowledged) {
      const read = await t.call('GET', `/v1/kv1/data/k${i}`);
      if (read.statusCode !== 200 || read.json().data.data.v !== String(i)) lost.push(i);
    }
    expect(lost).toEqual([]);
  });

  it('upgrades a mount larger than one chunk in the background, to the same result', async () => {
    expect((await t.call('POST', '/v1/sys/mounts/big', { body: { type: 'kv', options: { version: '1' } } })).statusCode).toBe(204);
    const mount = t.server.core.mounts.get('big/')!;
    // 1,200 v1 secrets (more than two chunks of 500), written the way the KV v1 engine lays them out.
    const ops = Array.from({ length: 1200 }, (_, i) => ({
      kind: 'put' as const,
      key: `${MountTable.dataPrefix(mount)}group-${i % 7}/s-${String(i).padStart(4, '0')}`,
      value: Buffer.from(JSON.stringify({ i })),
    }));
    await t.server.core.store.commit(ops);
    const res = await enableVersioning(t, 'big');
    expect(res.json().warnings).toEqual([upgradeWarning(1, 2)]);
    await t.server.kv.upgrades.whenIdle();
    for (const i of [0, 499, 500, 1199]) {
      const read = await t.call('GET', `/v1/big/data/group-${i % 7}/s-${String(i).padStart(4, '0')}`);
      expect(read.json().data, String(i)).toMatchObject({ data: { i }, metadata: { version: 1 } });
    }
    expect((await t.call('LIST', '/v1/big/metadata')).json().data.keys).toEqual(Array.from({ length: 7 }, (_, g) => `group-${g}/`));
    const listed = (await Promise.all(Array.from({ length: 7 }, (_, g) => t.call('LIST', `/v1/big/metadata/group-${g}`)))).flatMap(
      (r) => r.json().data.keys,
    );
    expect(listed).toHaveLength(1200);
  });

  it('a mount disabled while its upgrade is held leaves nothing behind, and the upgrade stops', async () => {
    await kvV1WithSecrets(t);
    const release = t.server.kv.upgrades.hold();
    await enableVersioning(t);
    const { uuid, kv_upgrade } = t.server.core.mounts.get('kv1/')!;
    expect(kv_upgrade).toBeDefined();
    expect((await t.call('DELETE', '/v1/sys/mounts/kv1')).statusCode).toBe(204);
    release();
    await t.server.kv.upgrades.whenIdle();
    expect(t.server.core.mounts.get('kv1/')).toBeUndefined();
    expect(await t.server.core.store.scan(`logical/${uuid}/`)).toEqual([]);
    expect(await t.server.core.store.scan(`logical/${kv_upgrade!.area}/`)).toEqual([]);
  });

  it('a seal in the middle interrupts it; the unseal resumes it', async () => {
    await kvV1WithSecrets(t);
    const release = t.server.kv.upgrades.hold();
    await enableVersioning(t);
    expect((await t.call('PUT', '/v1/sys/seal', { body: null })).statusCode).toBe(204);
    release();
    await t.server.kv.upgrades.whenIdle();
    const unseal = await t.call('PUT', '/v1/sys/unseal', { token: null, body: { key: t.server.devUnsealKey } });
    expect(unseal.json().sealed).toBe(false);
    await t.server.kv.upgrades.whenIdle();
    await expectUpgraded(t);
  });

  it('applies Vault’s tune rules for the version: 1 or 2 only, never down, a warning on every change', async () => {
    await kvV1WithSecrets(t);
    for (const [version, message] of [
      ['3', 'invalid version provided: 3'],
      ['0', 'invalid version provided: 0'],
      ['', 'invalid version provided: 0'],
    ]) {
      const res = await t.call('POST', '/v1/sys/mounts/kv1/tune', { body: { options: { version } } });
      expect(res.statusCode, version).toBe(400);
      expect(res.json(), version).toEqual({ errors: [message] });
    }
    // 0 → 1 is a change Vault warns about, without moving any data.
    const toOne = await t.call('POST', '/v1/sys/mounts/kv1/tune', { body: { options: { version: 1 } } });
    expect(toOne.json().warnings).toEqual([upgradeWarning(0, 1)]);
    expect((await t.call('GET', '/v1/kv1/top')).json().data).toEqual({ a: '1' });
    expect((await t.call('POST', '/v1/sys/mounts/kv1/tune', { body: { options: { version: '1' } } })).statusCode).toBe(204);
    await enableVersioning(t);
    const down = await t.call('POST', '/v1/sys/mounts/kv1/tune', { body: { options: { version: '1' } } });
    expect(down.statusCode).toBe(400);
    expect(down.json()).toEqual({ errors: ['cannot downgrade mount from version 2'] });
    // Tuning to 2 again is a no-op: no warning, nothing moves.
    expect((await enableVersioning(t)).statusCode).toBe(204);
    await expectUpgraded(t);
  });
});

describe('the CLI’s request over a socket', () => {
  it('POST /v1/sys/mounts/kv1//tune (double slash, no Content-Type) upgrades the mount', async () => {
    const srv = closeAfterTest(await startListeningServer({ syncWorker: { start: false } }));
    const send = (method: string, p: string, body?: unknown) =>
      fetch(`${srv.listener.url}/v1/${p}`, {
        method,
        headers: { 'X-Vault-Token': srv.rootToken, 'X-Vault-Request': 'true' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    expect((await send('POST', 'sys/mounts/kv1', { type: 'kv' })).status).toBe(204);
    expect((await send('PUT', 'kv1/dir/a', { a: '1' })).status).toBe(204);
    const tuned = await send('POST', 'sys/mounts/kv1//tune', { options: { version: '2' } });
    expect(tuned.status).toBe(200);
    expect(((await tuned.json()) as { warnings: string[] }).warnings).toEqual([upgradeWarning(0, 2)]);
    const read = await send('GET', 'kv1/data/dir/a');
    expect(read.status).toBe(200);
    expect(((await read.json()) as { data: unknown }).data).toMatchObject({ data: { a: '1' }, metadata: { version: 1 } });
  });
});

describe('a KV upgrade interrupted by a process that dies', () => {
  it('is resumed at the next unseal: staged leftovers are discarded and every key ends at version 1', async () => {
    const file = path.join(tempDirForTest(), 'ferry.db');
    const first = closeAfterTest(await startPersistent(file));
    const init = await initAndUnseal(first);
    const root = init.root_token;
    await kvV1WithSecrets(first, 'kv1', root);
    first.server.kv.upgrades.hold();
    expect((await enableVersioning(first, 'kv1', root)).statusCode).toBe(200);
    const { kv_upgrade } = first.server.core.mounts.get('kv1/')!;
    // A stray entry in the area being built, as a run killed half-way could leave one.
    await first.server.core.store.commit([
      { kind: 'put', key: `logical/${kv_upgrade!.area}/meta/ghost`, value: Buffer.from('{}') },
    ]);
    // The process "dies": nothing more runs, the held upgrade never switches.
    await first.close();

    const second = closeAfterTest(await startPersistent(file));
    expect((await second.call('GET', '/v1/kv1/data/top', { token: root })).statusCode).toBe(503);
    expect((await second.call('PUT', '/v1/sys/unseal', { token: null, body: { key: init.keys_base64[0] } })).json().sealed).toBe(false);
    await second.server.kv.upgrades.whenIdle();
    await expectUpgraded(second, 'kv1', root);
    expect((await second.call('GET', '/v1/kv1/metadata/ghost', { token: root })).statusCode).toBe(404);
    expect(second.server.core.mounts.get('kv1/')!.kv_upgrade).toBeUndefined();
  });
});
