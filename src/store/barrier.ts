import { createCipheriv, createDecipheriv, createSecretKey, hkdfSync, randomBytes, randomFillSync, type KeyObject } from 'node:crypto';
import { sealed } from '../kernel/errors.js';
import { keysOfPending, type OutboxItem, type OutboxSettlement, type PendingKey, type RevisionCheck, type Store, type StoreEntry, type WriteOp } from './store.js';

/**
 * Keys the barrier keeps in the underlying store outside the encrypted space: the seal
 * configuration (plaintext, as Vault keeps it, so that a sealed server can report its
 * threshold) and the keyring (encrypted under the root key). Nothing above the barrier
 * may read or write under this prefix.
 */
export const BARRIER_PREFIX = 'barrier/';
export const SEAL_CONFIG_KEY = `${BARRIER_PREFIX}seal-config`;
const KEYRING_KEY = `${BARRIER_PREFIX}keyring`;

/** AES-256-GCM value layout: version(1) · term(4, BE) · nonce(12) · ciphertext · tag(16). */
const VERSION = 1;
const HEADER = 1 + 4;
const NONCE = 12;
const TAG = 16;
const KEY_BYTES = 32;
/** Outbox payloads are TEXT columns: they are stored as this prefix plus base64 ciphertext. */
const OUTBOX_PREFIX = 'enc1:';

/** Thrown when a stored value does not decrypt: tampered, swapped between keys, or a wrong root key. */
export class BarrierIntegrityError extends Error {
  constructor(what: string) {
    super(`barrier: ${what} failed authentication`);
    this.name = 'BarrierIntegrityError';
  }
}

/** One data-encryption key of the keyring. */
export interface KeyTerm {
  term: number;
  /** When the key was installed (ISO-8601). */
  installTime: string;
}

interface StoredKeyring {
  activeTerm: number;
  keys: Array<{ term: number; value: string; installTime: string }>;
}

/**
 * 96-bit random nonces drawn from a pooled buffer: one `randomFillSync` call per 341
 * nonces instead of one per value. With random nonces a key must not be used for more
 * than 2^32 encryptions; `sys/rotate` adds a fresh key long before that matters here.
 */
class NoncePool {
  private pool = Buffer.alloc(NONCE * 341);
  private offset = this.pool.length;
  next(): Buffer {
    if (this.offset + NONCE > this.pool.length) {
      // A fresh buffer each time: a nonce handed out earlier may still be referenced.
      this.pool = randomFillSync(Buffer.allocUnsafe(this.pool.length));
      this.offset = 0;
    }
    const n = this.pool.subarray(this.offset, this.offset + NONCE);
    this.offset += NONCE;
    return n;
  }
}

function seal(key: KeyObject, term: number, plaintext: Buffer, aad: Buffer, nonce: Buffer): Buffer {
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(aad);
  const out = Buffer.allocUnsafe(HEADER + NONCE + plaintext.length + TAG);
  out[0] = VERSION;
  out.writeUInt32BE(term, 1);
  nonce.copy(out, HEADER);
  let at = HEADER + NONCE;
  at += cipher.update(plaintext).copy(out, at);
  at += cipher.final().copy(out, at);
  cipher.getAuthTag().copy(out, at);
  return out;
}

/** The base64 characters of a sealed outbox payload that carry (most of) its random nonce. */
function nonceOf(sealedPayload: string): string {
  // `enc1:` then base64 of version(1) · term(4) · nonce(12) · …: characters 8–23 encode bytes 6–17.
  return sealedPayload.slice(OUTBOX_PREFIX.length + 8, OUTBOX_PREFIX.length + 24);
}

function termOf(value: Buffer): number | undefined {
  if (value.length < HEADER + NONCE + TAG || value[0] !== VERSION) return undefined;
  return value.readUInt32BE(1);
}

function open(key: KeyObject, value: Buffer, aad: Buffer, what: string): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, value.subarray(HEADER, HEADER + NONCE));
  decipher.setAAD(aad);
  decipher.setAuthTag(value.subarray(value.length - TAG));
  try {
    return Buffer.concat([decipher.update(value.subarray(HEADER + NONCE, value.length - TAG)), decipher.final()]);
  } catch {
    throw new BarrierIntegrityError(what);
  }
}

/**
 * The encryption barrier: a Store that wraps another Store and encrypts every value with
 * AES-256-GCM under the active data key of a versioned keyring. The storage key is the
 * authenticated data, so a ciphertext copied to another row does not decrypt. Storage
 * keys (paths) and revisions stay plaintext; values never do. The keyring itself is
 * stored encrypted under the root key, which exists only in memory while unsealed.
 *
 * While sealed every operation fails with Vault's 503 `Vault is sealed`.
 */
export class BarrierStore implements Store {
  /** Imported keys by term; imported once so that no per-value key setup happens. */
  private keys = new Map<number, KeyObject>();
  private terms: KeyTerm[] = [];
  private activeTerm = 0;
  private rootKey: KeyObject | undefined;
  private readonly nonces = new NoncePool();
  /** Encryptions under each term since this process unsealed (reported by `sys/key-status`). */
  private readonly encryptions = new Map<number, number>();
  /**
   * Outbox payloads this process sealed and nobody has read back yet, by exactly what their
   * decryption authenticates (queue, order key, ciphertext): the sync worker reads each KV
   * event moments after the write that appended it, and need not decrypt what was just
   * encrypted. Any other stored payload (changed, moved to another item, or written before a
   * restart) misses and is decrypted and checked as always. Bounded; forgotten on seal.
   */
  private readonly sealedPayloads = new Map<string, { aad: string; sealed: string; payload: string }>();
  private static readonly SEALED_PAYLOADS_MAX = 4096;

  constructor(readonly inner: Store) {}

  get isSealed(): boolean {
    return this.rootKey === undefined;
  }

  // --- lifecycle (driven by the seal manager) ---------------------------------------

  /** Creates a keyring with one fresh key and returns the ops that store it under `rootKey`. */
  static initialKeyringOps(rootKey: Buffer, now: Date): WriteOp[] {
    const ring: StoredKeyring = {
      activeTerm: 1,
      keys: [{ term: 1, value: randomBytes(KEY_BYTES).toString('base64'), installTime: now.toISOString() }],
    };
    return [{ kind: 'put', key: KEYRING_KEY, value: BarrierStore.sealKeyring(rootKey, ring) }];
  }

  private static sealKeyring(rootKey: Buffer, ring: StoredKeyring): Buffer {
    const key = createSecretKey(rootKey);
    return seal(key, 0, Buffer.from(JSON.stringify(ring)), Buffer.from(KEYRING_KEY), randomBytes(NONCE));
  }

  /**
   * Opens the keyring with a candidate root key. Throws BarrierIntegrityError when the
   * key is wrong (GCM authentication fails), leaving the barrier sealed.
   */
  async unseal(rootKey: Buffer): Promise<void> {
    if (rootKey.length !== KEY_BYTES) throw new BarrierIntegrityError('keyring');
    const row = await this.inner.get(KEYRING_KEY);
    if (!row) throw new Error('barrier: no keyring in storage; the server is not initialized');
    const key = createSecretKey(rootKey);
    const ring = JSON.parse(open(key, row.value, Buffer.from(KEYRING_KEY), 'keyring').toString('utf8')) as StoredKeyring;
    this.install(ring);
    this.rootKey = key;
  }

  private install(ring: StoredKeyring): void {
    this.keys = new Map(ring.keys.map((k) => [k.term, createSecretKey(Buffer.from(k.value, 'base64'))]));
    this.terms = ring.keys.map((k) => ({ term: k.term, installTime: k.installTime }));
    this.activeTerm = ring.activeTerm;
  }

  /** Forgets the root key and every data key. */
  seal(): void {
    this.rootKey = undefined;
    this.keys = new Map();
    this.terms = [];
    this.activeTerm = 0;
    this.encryptions.clear();
    this.sealedPayloads.clear();
  }

  /** The stored keyring, opened with the root key this barrier holds, and its row's revision. */
  private async storedRing(): Promise<{ ring: StoredKeyring; revision: number }> {
    const root = this.requireRoot();
    const row = await this.inner.get(KEYRING_KEY);
    if (!row) throw new Error('barrier: keyring missing');
    return { ring: JSON.parse(open(root, row.value, Buffer.from(KEYRING_KEY), 'keyring').toString('utf8')) as StoredKeyring, revision: row.revision };
  }

  /**
   * Reads the keyring again (unsealed only): another node sharing the store may have rotated it,
   * and values written under the new term would not decrypt here (`Server.refreshFromStorage`).
   */
  async reloadKeyring(): Promise<void> {
    this.install((await this.storedRing()).ring);
  }

  /** `sys/rotate`: adds a new data key and makes it active; older terms keep decrypting. */
  async rotate(now: Date): Promise<KeyTerm> {
    const root = this.requireRoot();
    const { ring, revision } = await this.storedRing();
    const term = Math.max(...ring.keys.map((k) => k.term)) + 1;
    ring.keys.push({ term, value: randomBytes(KEY_BYTES).toString('base64'), installTime: now.toISOString() });
    ring.activeTerm = term;
    const sealedRing = seal(root, 0, Buffer.from(JSON.stringify(ring)), Buffer.from(KEYRING_KEY), randomBytes(NONCE));
    // The revision check makes two concurrent rotations fail rather than lose a key.
    await this.inner.commit([{ kind: 'put', key: KEYRING_KEY, value: sealedRing }], [{ key: KEYRING_KEY, revision }]);
    this.install(ring);
    return { term, installTime: ring.keys.at(-1)!.installTime };
  }

  /**
   * Encrypts `plaintext` under a key derived from the root key for `purpose` (the checksums of
   * a snapshot): only a server unsealed with the same unseal keys can open it, which is how a
   * restore tells a snapshot of this server from one of another.
   */
  sealWithRootKey(purpose: string, plaintext: Buffer): Buffer {
    return seal(this.purposeKey(purpose), 0, plaintext, Buffer.from(purpose), randomBytes(NONCE));
  }

  /** Opens what `sealWithRootKey` made; throws BarrierIntegrityError under other unseal keys. */
  openWithRootKey(purpose: string, sealedValue: Buffer): Buffer {
    if (termOf(Buffer.from(sealedValue)) !== 0) throw new BarrierIntegrityError(purpose);
    return open(this.purposeKey(purpose), sealedValue, Buffer.from(purpose), purpose);
  }

  private purposeKey(purpose: string): KeyObject {
    const root = this.requireRoot().export();
    return createSecretKey(Buffer.from(hkdfSync('sha256', root, Buffer.alloc(0), `ferry ${purpose}`, KEY_BYTES)));
  }

  /** The active key term, for `sys/key-status`. */
  keyStatus(): KeyTerm & { encryptions: number } {
    this.requireRoot();
    const t = this.terms.find((k) => k.term === this.activeTerm)!;
    return { ...t, encryptions: this.encryptions.get(t.term) ?? 0 };
  }

  private requireRoot(): KeyObject {
    if (!this.rootKey) throw sealed();
    return this.rootKey;
  }

  // --- value crypto --------------------------------------------------------------------

  private encrypt(storageKey: string, plaintext: Buffer): Buffer {
    const key = this.keys.get(this.activeTerm);
    if (!key) throw sealed();
    this.encryptions.set(this.activeTerm, (this.encryptions.get(this.activeTerm) ?? 0) + 1);
    return seal(key, this.activeTerm, plaintext, Buffer.from(storageKey), this.nonces.next());
  }

  private decrypt(storageKey: string, value: Buffer): Buffer {
    const term = termOf(value);
    if (term === undefined) throw new BarrierIntegrityError(`value at "${storageKey}"`);
    const key = this.keys.get(term);
    if (!key) {
      if (this.isSealed) throw sealed();
      throw new BarrierIntegrityError(`value at "${storageKey}" (unknown key term ${term})`);
    }
    return open(key, value, Buffer.from(storageKey), `value at "${storageKey}"`);
  }

  private encryptPayload(queue: string, orderKey: string, payload: string): string {
    const aad = `outbox\u0000${queue}\u0000${orderKey}`;
    const sealedPayload = OUTBOX_PREFIX + this.encrypt(aad, Buffer.from(payload)).toString('base64');
    if (this.sealedPayloads.size >= BarrierStore.SEALED_PAYLOADS_MAX) this.sealedPayloads.delete(this.sealedPayloads.keys().next().value!);
    this.sealedPayloads.set(nonceOf(sealedPayload), { aad, sealed: sealedPayload, payload });
    return sealedPayload;
  }

  private decryptItem(item: OutboxItem): OutboxItem {
    const aad = `outbox\u0000${item.queue}\u0000${item.orderKey}`;
    const nonce = nonceOf(item.payload);
    const known = this.sealedPayloads.get(nonce);
    // Found by its nonce, taken only if the whole ciphertext and its queue and order key match.
    if (known && known.sealed === item.payload && known.aad === aad) {
      this.sealedPayloads.delete(nonce);
      return { ...item, payload: known.payload };
    }
    if (!item.payload.startsWith(OUTBOX_PREFIX)) throw new BarrierIntegrityError(`outbox item ${item.id}`);
    const raw = Buffer.from(item.payload.slice(OUTBOX_PREFIX.length), 'base64');
    return { ...item, payload: this.decrypt(aad, raw).toString('utf8') };
  }

  private guard(): void {
    if (this.rootKey === undefined) throw sealed();
  }

  private static checkKey(key: string): void {
    if (key.startsWith(BARRIER_PREFIX)) throw new Error(`barrier: "${key}" is reserved for the barrier itself`);
  }

  // --- Store ---------------------------------------------------------------------------

  async get(key: string): Promise<StoreEntry | undefined> {
    this.guard();
    BarrierStore.checkKey(key);
    const row = await this.inner.get(key);
    if (!row) return undefined;
    return { key: row.key, value: this.decrypt(key, row.value), revision: row.revision };
  }

  async list(prefix: string): Promise<string[]> {
    this.guard();
    const keys = await this.inner.list(prefix);
    return prefix === '' ? keys.filter((k) => k !== BARRIER_PREFIX) : keys;
  }

  async scan(prefix: string): Promise<StoreEntry[]> {
    this.guard();
    const rows = await this.inner.scan(prefix);
    const out: StoreEntry[] = [];
    for (const row of rows) {
      if (row.key.startsWith(BARRIER_PREFIX)) continue;
      out.push({ key: row.key, value: this.decrypt(row.key, row.value), revision: row.revision });
    }
    return out;
  }

  async commit(ops: WriteOp[], checks?: RevisionCheck[]): Promise<number | undefined | void> {
    this.guard();
    const sealedOps = ops.map((op): WriteOp => {
      switch (op.kind) {
        case 'put':
          BarrierStore.checkKey(op.key);
          return { kind: 'put', key: op.key, value: this.encrypt(op.key, op.value) };
        case 'enqueue':
          return { ...op, payload: this.encryptPayload(op.queue, op.orderKey, op.payload) };
        case 'dequeue':
          return op;
        case 'delete':
          BarrierStore.checkKey(op.key);
          return op;
        case 'deletePrefix':
          if (op.prefix === '' || op.prefix.startsWith(BARRIER_PREFIX) || BARRIER_PREFIX.startsWith(op.prefix)) {
            throw new Error(`barrier: refusing to delete "${op.prefix}", which would include the barrier's own keys`);
          }
          return op;
      }
    });
    return this.inner.commit(sealedOps, checks);
  }

  async claimOutbox(
    queue: string,
    owner: string,
    limit: number,
    leaseMs: number,
    now: number,
    opts?: { coalesce?: boolean },
  ): Promise<OutboxItem[]> {
    this.guard();
    return (await this.inner.claimOutbox(queue, owner, limit, leaseMs, now, opts)).map((i) => this.decryptItem(i));
  }

  async settleOutbox(id: number, owner: string, settlement: OutboxSettlement): Promise<void> {
    this.guard();
    await this.inner.settleOutbox(id, owner, settlement);
  }

  async pendingOutbox(queue: string, limit?: number): Promise<OutboxItem[]> {
    this.guard();
    return (await this.inner.pendingOutbox(queue, limit)).map((i) => this.decryptItem(i));
  }

  /** Order keys are not encrypted (they are the AAD of their payload), so nothing is decrypted here. */
  async pendingOutboxKeys(queue: string): Promise<PendingKey[]> {
    this.guard();
    return this.inner.pendingOutboxKeys ? this.inner.pendingOutboxKeys(queue) : keysOfPending(await this.inner.pendingOutbox(queue, Number.MAX_SAFE_INTEGER));
  }

  async releaseOutbox(queue: string, orderKeyPrefix: string, now: number): Promise<number> {
    this.guard();
    return this.inner.releaseOutbox ? this.inner.releaseOutbox(queue, orderKeyPrefix, now) : 0;
  }

  async close(): Promise<void> {
    this.seal();
    await this.inner.close();
  }
}
