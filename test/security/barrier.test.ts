import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BarrierIntegrityError, BarrierStore } from '../../src/store/barrier.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { FerryError } from '../../src/kernel/errors.js';

let inner: SqliteStore;
let barrier: BarrierStore;
let rootKey: Buffer;

beforeEach(async () => {
  inner = new SqliteStore({ path: ':memory:' });
  barrier = new BarrierStore(inner);
  rootKey = randomBytes(32);
  await inner.commit(BarrierStore.initialKeyringOps(rootKey, new Date('2026-01-01T00:00:00Z')));
  await barrier.unseal(rootKey);
});
afterEach(async () => {
  await barrier.close();
});

const put = (key: string, value: string) => barrier.commit([{ kind: 'put', key, value: Buffer.from(value) }]);

describe('encryption barrier', () => {
  it('stores every value as AES-256-GCM ciphertext and reads it back as written', async () => {
    await put('logical/a/secret', 'the plaintext value');
    const raw = (await inner.get('logical/a/secret'))!;
    expect(raw.value.includes(Buffer.from('the plaintext value'))).toBe(false);
    // version byte, term 1, 12-byte nonce, ciphertext of the same length, 16-byte tag
    expect(raw.value[0]).toBe(1);
    expect(raw.value.readUInt32BE(1)).toBe(1);
    expect(raw.value.length).toBe(1 + 4 + 12 + 'the plaintext value'.length + 16);
    expect(await barrier.get('logical/a/secret')).toEqual({ key: 'logical/a/secret', value: Buffer.from('the plaintext value'), revision: raw.revision });
  });

  it('uses a fresh nonce per value: the same plaintext never gives the same ciphertext', async () => {
    await put('k1', 'same');
    await put('k2', 'same');
    await put('k1', 'same');
    const a = (await inner.get('k1'))!.value;
    const b = (await inner.get('k2'))!.value;
    expect(a.subarray(5, 17).equals(b.subarray(5, 17))).toBe(false);
  });

  it('binds each ciphertext to its storage key: a row copied to another key does not decrypt', async () => {
    await put('auth/token/id/victim', '{"policies":["root"]}');
    await put('auth/token/id/attacker', '{"policies":["default"]}');
    const stolen = (await inner.get('auth/token/id/victim'))!.value;
    await inner.commit([{ kind: 'put', key: 'auth/token/id/attacker', value: stolen }]);
    await expect(barrier.get('auth/token/id/attacker')).rejects.toThrow(BarrierIntegrityError);
  });

  it('detects a tampered ciphertext', async () => {
    await put('k', 'value');
    const raw = Buffer.from((await inner.get('k'))!.value);
    raw[raw.length - 20]! ^= 0x01;
    await inner.commit([{ kind: 'put', key: 'k', value: raw }]);
    await expect(barrier.get('k')).rejects.toThrow('barrier: value at "k" failed authentication');
  });

  it('keeps decrypting values written under older terms after a rotation, and writes new values under the new term', async () => {
    await put('old', 'written under term 1');
    const t = await barrier.rotate(new Date('2026-02-01T00:00:00Z'));
    expect(t).toEqual({ term: 2, installTime: '2026-02-01T00:00:00.000Z' });
    await put('new', 'written under term 2');
    expect((await inner.get('old'))!.value.readUInt32BE(1)).toBe(1);
    expect((await inner.get('new'))!.value.readUInt32BE(1)).toBe(2);
    // After sealing and unsealing with the same root key, both terms are in the stored keyring.
    barrier.seal();
    await barrier.unseal(rootKey);
    expect((await barrier.get('old'))!.value.toString()).toBe('written under term 1');
    expect((await barrier.get('new'))!.value.toString()).toBe('written under term 2');
    expect(barrier.keyStatus()).toEqual({ term: 2, installTime: '2026-02-01T00:00:00.000Z', encryptions: 0 });
  });

  it('refuses every operation while sealed with 503 "Vault is sealed"', async () => {
    await put('k', 'v');
    barrier.seal();
    expect(barrier.isSealed).toBe(true);
    const attempts: Array<Promise<unknown>> = [
      barrier.get('k'),
      barrier.list(''),
      barrier.scan(''),
      put('k', 'v2'),
      barrier.claimOutbox('q', 'me', 1, 1000, Date.now()),
      barrier.pendingOutbox('q'),
    ];
    for (const attempt of attempts) {
      const err = await attempt.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(FerryError);
      expect((err as FerryError).code).toBe('seal.sealed');
      expect((err as FerryError).errors).toEqual(['Vault is sealed']);
    }
  });

  it('rejects a wrong root key and stays sealed', async () => {
    barrier.seal();
    await expect(barrier.unseal(randomBytes(32))).rejects.toThrow(BarrierIntegrityError);
    expect(barrier.isSealed).toBe(true);
  });

  it('encrypts outbox payloads, bound to their queue and order key, and hands them back decrypted', async () => {
    await barrier.commit([{ kind: 'enqueue', queue: 'sync', orderKey: 'dest/a', payload: '{"ref":"kv_1/app","version":3}' }]);
    const stored = await inner.pendingOutbox('sync');
    expect(stored).toHaveLength(1);
    expect(stored[0]!.payload.startsWith('enc1:')).toBe(true);
    expect(stored[0]!.payload).not.toContain('kv_1/app');
    const claimed = await barrier.claimOutbox('sync', 'worker', 10, 60_000, Date.now());
    expect(claimed.map((i) => i.payload)).toEqual(['{"ref":"kv_1/app","version":3}']);
  });

  it('refuses an outbox payload moved to another item, even one it has just sealed', async () => {
    await barrier.commit([{ kind: 'enqueue', queue: 'sync', orderKey: 'dest/a', payload: '{"ref":"kv_1/app","version":3}' }]);
    const [sealedA] = await inner.pendingOutbox('sync');
    // Someone with the database file moves the ciphertext to an item of another target.
    await inner.commit([
      { kind: 'dequeue', ids: [sealedA!.id] },
      { kind: 'enqueue', queue: 'sync', orderKey: 'dest/b', payload: sealedA!.payload },
    ]);
    await expect(barrier.pendingOutbox('sync')).rejects.toThrow(BarrierIntegrityError);
  });

  it("keeps the barrier's own keys out of reach of the services above it", async () => {
    await expect(barrier.get('barrier/keyring')).rejects.toThrow('reserved for the barrier');
    await expect(put('barrier/keyring', 'x')).rejects.toThrow('reserved for the barrier');
    await expect(barrier.commit([{ kind: 'deletePrefix', prefix: 'b' }])).rejects.toThrow('barrier');
    await put('core/x', 'v');
    expect(await barrier.list('')).toEqual(['core/']);
    expect((await barrier.scan('')).map((e) => e.key)).toEqual(['core/x']);
  });
});
