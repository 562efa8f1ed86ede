import { beforeEach, describe, expect, it } from 'vitest';
import { FerryError } from '../../src/kernel/errors.js';
import type { MountEntry } from '../../src/kernel/entries.js';
import { HOUR, T0, put, useKv } from './helpers.js';

/** The domain read API the sync worker uses (no HTTP). */
const t = useKv();
let mount: MountEntry;
beforeEach(async () => {
  mount = t.server.core.mounts.get('secret/')!;
});

describe('KV v2 read API for sync', () => {
  it('readLatestForSync returns the incarnation, current version, its data and when it was committed', async () => {
    await put(t, 'app', { a: 1 });
    await put(t, 'app', { a: 2 });
    const snap = await t.server.kv.readLatestForSync(mount, 'app');
    const written = (await t.call('GET', '/v1/secret/metadata/app')).json().data.versions['2'].created_time;
    expect(snap).toEqual({ incarnation: expect.stringMatching(/^[0-9a-f-]{36}$/), version: 2, data: { a: 2 }, committedAt: Date.parse(written) });
  });

  it('readLatestForSync returns undefined for a secret that does not exist', async () => {
    expect(await t.server.kv.readLatestForSync(mount, 'nope')).toBeUndefined();
  });

  it('readLatestForSync returns data null when the current version is deleted, destroyed or expired, or none exists', async () => {
    await t.call('PUT', '/v1/secret/metadata/empty', { body: { max_versions: 2 } });
    expect(await t.server.kv.readLatestForSync(mount, 'empty')).toMatchObject({ version: 0, data: null });
    await put(t, 'deleted', { a: 1 });
    await t.call('DELETE', '/v1/secret/data/deleted');
    expect(await t.server.kv.readLatestForSync(mount, 'deleted')).toMatchObject({ version: 1, data: null });
    await put(t, 'destroyed', { a: 1 });
    await t.call('PUT', '/v1/secret/destroy/destroyed', { body: { versions: [1] } });
    expect(await t.server.kv.readLatestForSync(mount, 'destroyed')).toMatchObject({ version: 1, data: null });
    await t.call('PUT', '/v1/secret/metadata/expiring', { body: { delete_version_after: '1h' } });
    await put(t, 'expiring', { a: 1 });
    expect(await t.server.kv.readLatestForSync(mount, 'expiring')).toMatchObject({ data: { a: 1 } });
    t.clock.advance(HOUR);
    expect(await t.server.kv.readLatestForSync(mount, 'expiring')).toMatchObject({ data: null });
  });

  it('readLatestForSync never commits (no events of its own)', async () => {
    await t.call('PUT', '/v1/secret/metadata/expiring', { body: { delete_version_after: '1h' } });
    await put(t, 'expiring', { a: 1 });
    t.clock.advance(2 * HOUR);
    await t.server.kv.readLatestForSync(mount, 'expiring');
    expect((await t.server.core.store.pendingOutbox('kv-events')).length).toBe(1);
  });

  it('secretExists is true while the secret has metadata', async () => {
    expect(await t.server.kv.secretExists(mount, 'app')).toBe(false);
    await put(t, 'app', { a: 1 });
    await t.call('DELETE', '/v1/secret/data/app');
    expect(await t.server.kv.secretExists(mount, 'app')).toBe(true);
    await t.call('DELETE', '/v1/secret/metadata/app');
    expect(await t.server.kv.secretExists(mount, 'app')).toBe(false);
  });

  it('readVersion returns one version with its timestamps, state and data', async () => {
    await t.call('PUT', '/v1/secret/metadata/app', { body: { delete_version_after: '1h' } });
    await put(t, 'app', { a: 1 });
    t.clock.advance(10);
    await put(t, 'app', { a: 2 });
    const incarnation = (await t.server.kv.readLatestForSync(mount, 'app'))!.incarnation;
    expect(await t.server.kv.readVersion(mount, 'app', 1)).toEqual({
      incarnation,
      version: 1,
      createdTime: T0,
      deletionTime: T0 + HOUR,
      destroyed: false,
      data: { a: 1 },
    });
    expect((await t.server.kv.readVersion(mount, 'app', 0))!.version).toBe(2);
    expect(await t.server.kv.readVersion(mount, 'app', 3)).toBeUndefined();
    expect(await t.server.kv.readVersion(mount, 'nope', 1)).toBeUndefined();
  });

  it('refuses KV v1 mounts with a clear 400', async () => {
    await t.call('POST', '/v1/sys/mounts/old', { body: { type: 'kv' } });
    const v1 = t.server.core.mounts.get('old/')!;
    const err = await t.server.kv.readLatestForSync(v1, 'x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FerryError);
    expect((err as FerryError).kind).toBe('invalid');
    expect((err as FerryError).errors).toEqual([
      'mount "old/" is not a KV version 2 secrets engine; only KV v2 secrets can be read for sync',
    ]);
    await expect(t.server.kv.secretExists(v1, 'x')).rejects.toBeInstanceOf(FerryError);
    await expect(t.server.kv.readVersion(v1, 'x', 1)).rejects.toBeInstanceOf(FerryError);
  });
});
