import { createHmac, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import type { TokenEntry } from '../../kernel/entries.js';
import type { TokenResolver } from '../../kernel/services.js';
import { permissionDenied } from '../../kernel/errors.js';
import { KeyedSerializer } from '../../kernel/keyed-serializer.js';
import { RevisionConflict, withRetry, type Store, type WriteOp } from '../../store/store.js';
import { BATCH_TOKEN_PREFIX, BatchTokens } from './batch.js';
import { tokenErrors } from './errors.js';

/**
 * The token store. Longer than 400 lines on purpose: it is the one owner of token entries and their
 * indexes (id, accessor, parent, mount); creation, lookup, use counting, renewal and revocation
 * share those keys and their revision-checked commits, which a split would spread over files.
 */

export interface CreateTokenInput {
  id?: string;
  policies: string[];
  parent: TokenEntry | null;
  ttl: number;
  explicit_max_ttl?: number;
  period?: number;
  num_uses?: number;
  renewable?: boolean;
  display_name?: string;
  meta?: Record<string, string> | null;
  path?: string;
  /** `batch`: not stored, sealed into the token itself (`batch.ts`); the creation rules refused what batch tokens cannot have. */
  type?: 'service' | 'batch';
  /** Login tokens: CIDR blocks the token may be used from. */
  bound_cidrs?: string[];
  /** Login tokens: accessor of the issuing auth mount (indexed, so disabling the mount revokes them). */
  mount_accessor?: string;
  /** Login tokens: cap on renewals of a non-periodic token, in seconds from creation. */
  max_ttl?: number;
}

const SALT_KEY = 'core/token-salt';
const ID_PREFIX = 'auth/token/id/';
/**
 * Accessor index: `<prefix><HMAC of the accessor>` → `{"token": <token hash>, "accessor": …}`.
 * The key is salted as Vault salts it, so the store's keys (plaintext outside the barrier's
 * encryption) never reveal an accessor; the accessor itself is only in the encrypted value.
 */
const ACCESSOR_PREFIX = 'auth/token/accessor/';
/** Set once the accessor index is salted (stores written before it used plain accessors as keys). */
const ACCESSORS_SALTED_KEY = 'core/token-accessors-salted';

interface AccessorEntry {
  token: string;
  accessor: string;
}
const CHILD_PREFIX = 'auth/token/parent/';
/** `<accessor of the issuing auth mount>/<token hash>`: the tokens a mount's logins issued. */
const MOUNT_PREFIX = 'auth/token/mount/';
/**
 * `num_uses` of a token whose last use is spent and whose revocation follows (Vault's
 * "revocation pending"): looked up, it is no token; `0` would read as unlimited.
 */
const USED_UP = -1;

/** Service tokens look like Vault's: `hvs.` + 24 random bytes in base62-ish base64url. */
export function newTokenId(): string {
  return `hvs.${randomBytes(24).toString('base64url')}`;
}

/**
 * Token storage: entries keyed by a salted hash of the token (so the store, and a stolen
 * database file, never hold a usable token), an accessor index, and parent→child links
 * so that revoking a token revokes its whole subtree.
 */
export class TokenStore implements TokenResolver {
  private salt: KeyObject | undefined;
  /**
   * Live entries by hash: every request looks its token up, so entries are kept in memory
   * (bounded) and dropped on any change. `mutations` guards against a lookup that read the
   * store before a concurrent revoke caching what was just revoked.
   */
  private readonly cache = new Map<string, TokenEntry>();
  private readonly hashes = new Map<string, string>();
  private mutations = 0;
  private static readonly CACHE_MAX = 10_000;
  private readonly batch: BatchTokens;
  /** Spends of one token's uses, one at a time (see `consumeUse`). */
  private readonly uses = new KeyedSerializer();

  constructor(
    private readonly store: Store,
    private readonly clock: () => number = Date.now,
  ) {
    this.batch = new BatchTokens(store);
  }

  private async saltKey(): Promise<KeyObject> {
    if (this.salt) return this.salt;
    const existing = await this.store.get(SALT_KEY);
    let salt: Buffer;
    if (existing) {
      salt = existing.value;
    } else {
      salt = randomBytes(32);
      try {
        await this.store.commit([{ kind: 'put', key: SALT_KEY, value: salt }], [{ key: SALT_KEY, revision: 0 }]);
      } catch {
        salt = (await this.store.get(SALT_KEY))!.value;
      }
    }
    this.salt = createSecretKey(salt);
    return this.salt;
  }

  /** Forgets cached key material and entries (on seal). */
  reset(): void {
    this.salt = undefined;
    this.batch.reset();
    this.hashes.clear();
    this.forgetAll();
  }

  private forget(hash: string): void {
    this.mutations++;
    this.cache.delete(hash);
  }

  private forgetAll(): void {
    this.mutations++;
    this.cache.clear();
  }

  /**
   * Drops the cached token entries (not the salt, which never changes): another node sharing the
   * database may have revoked, renewed or spent any of them (`Server.refreshFromStorage`).
   */
  forgetCachedEntries(): void {
    this.forgetAll();
  }

  /** The storage key of an accessor's index entry. */
  private async accessorKey(accessor: string): Promise<string> {
    // A different message prefix than token ids get: the two hashes never collide or relate.
    return ACCESSOR_PREFIX + createHmac('sha256', await this.saltKey()).update(`accessor:${accessor}`).digest('hex');
  }

  private static accessorValue(entry: AccessorEntry): Buffer {
    return Buffer.from(JSON.stringify(entry));
  }

  /**
   * Salts an accessor index written before accessors were salted: each plain entry becomes a
   * salted one in one atomic commit (checked against the plain entry's revision, so a token
   * revoked meanwhile is not brought back), then a marker records that the index is done.
   * Runs on unseal; a crash halfway leaves a mix that the next unseal finishes.
   */
  async saltAccessorIndex(): Promise<number> {
    if (await this.store.get(ACCESSORS_SALTED_KEY)) return 0;
    let migrated = 0;
    for (const row of await this.store.scan(ACCESSOR_PREFIX)) {
      const text = row.value.toString('utf8');
      if (text.startsWith('{')) continue;
      const accessor = row.key.slice(ACCESSOR_PREFIX.length);
      try {
        await this.store.commit(
          [
            { kind: 'put', key: await this.accessorKey(accessor), value: TokenStore.accessorValue({ token: text, accessor }) },
            { kind: 'delete', key: row.key },
          ],
          [{ key: row.key, revision: row.revision }],
        );
        migrated++;
      } catch (err) {
        if (!(err instanceof RevisionConflict)) throw err;
      }
    }
    await this.store.commit([{ kind: 'put', key: ACCESSORS_SALTED_KEY, value: Buffer.from('1') }]);
    return migrated;
  }

  async hash(tokenId: string): Promise<string> {
    // Active tokens are hashed on every request; a small in-memory map (dropped on seal,
    // never persisted) saves the HMAC for the tokens in use.
    const known = this.hashes.get(tokenId);
    if (known !== undefined) return known;
    const hash = createHmac('sha256', await this.saltKey()).update(tokenId).digest('hex');
    if (this.hashes.size >= 4096) this.hashes.delete(this.hashes.keys().next().value!);
    this.hashes.set(tokenId, hash);
    return hash;
  }

  private nowSeconds(): number {
    return Math.floor(this.clock() / 1000);
  }

  async create(input: CreateTokenInput): Promise<{ id: string; entry: TokenEntry }> {
    if (input.type === 'batch') return this.createBatch(input);
    const id = input.id ?? newTokenId();
    const hash = await this.hash(id);
    const now = this.nowSeconds();
    const entry: TokenEntry = {
      hash,
      accessor: randomBytes(18).toString('base64url'),
      policies: input.policies,
      parent: input.parent?.hash ?? null,
      path: input.path ?? 'auth/token/create',
      display_name: input.display_name ?? 'token',
      meta: input.meta ?? null,
      creation_time: now,
      creation_ttl: input.ttl,
      expire_at: input.ttl > 0 ? now + input.ttl : 0,
      explicit_max_ttl: input.explicit_max_ttl ?? 0,
      period: input.period ?? 0,
      num_uses: input.num_uses ?? 0,
      renewable: input.renewable ?? input.ttl > 0,
      orphan: input.parent === null,
      type: 'service',
      ...(input.bound_cidrs && input.bound_cidrs.length > 0 ? { bound_cidrs: input.bound_cidrs } : {}),
      ...(input.mount_accessor ? { mount_accessor: input.mount_accessor } : {}),
      ...(input.max_ttl ? { max_ttl: input.max_ttl } : {}),
    };
    const ops: WriteOp[] = [
      { kind: 'put', key: ID_PREFIX + hash, value: Buffer.from(JSON.stringify(entry)) },
      { kind: 'put', key: await this.accessorKey(entry.accessor), value: TokenStore.accessorValue({ token: hash, accessor: entry.accessor }) },
    ];
    if (entry.parent) ops.push({ kind: 'put', key: `${CHILD_PREFIX}${entry.parent}/${hash}`, value: Buffer.from('') });
    if (entry.mount_accessor) ops.push({ kind: 'put', key: `${MOUNT_PREFIX}${entry.mount_accessor}/${hash}`, value: Buffer.from('') });
    try {
      await this.store.commit(ops, [{ key: ID_PREFIX + hash, revision: 0 }]);
    } catch (err) {
      if (err instanceof RevisionConflict) throw tokenErrors.duplicateId();
      throw err;
    }
    return { id, entry };
  }

  /** A batch token: nothing is written; the token is its sealed entry. */
  private async createBatch(input: CreateTokenInput): Promise<{ id: string; entry: TokenEntry }> {
    const id = await this.batch.issue({
      policies: input.policies,
      parent: input.parent?.hash ?? null,
      path: input.path ?? 'auth/token/create',
      display_name: input.display_name ?? 'token',
      meta: input.meta ?? null,
      creation_time: this.nowSeconds(),
      ttl: input.ttl,
      bound_cidrs: input.bound_cidrs,
      mount_accessor: input.mount_accessor,
    });
    const entry = await this.batchEntry(id);
    if (!entry) throw new Error('a batch token just issued did not open');
    return { id, entry };
  }

  /**
   * The entry of a live batch token: it opens under this server's key, has not expired, and its
   * parent (if any) is still live — a batch token ends with its parent, as in Vault.
   */
  private async batchEntry(tokenId: string): Promise<TokenEntry | undefined> {
    const claims = await this.batch.open(tokenId);
    if (!claims) return undefined;
    const expireAt = claims.creation_time + claims.ttl;
    if (claims.ttl <= 0 || expireAt <= this.nowSeconds()) return undefined;
    if (claims.parent && !(await this.lookupByHash(claims.parent))) return undefined;
    return {
      hash: await this.hash(tokenId),
      accessor: '',
      policies: claims.policies,
      parent: claims.parent,
      path: claims.path,
      display_name: claims.display_name,
      meta: claims.meta,
      creation_time: claims.creation_time,
      creation_ttl: claims.ttl,
      expire_at: expireAt,
      explicit_max_ttl: 0,
      period: 0,
      num_uses: 0,
      renewable: false,
      orphan: claims.parent === null,
      type: 'batch',
      ...(claims.bound_cidrs ? { bound_cidrs: claims.bound_cidrs } : {}),
      ...(claims.mount_accessor ? { mount_accessor: claims.mount_accessor } : {}),
    };
  }

  /** The live entry for a token id, or undefined if unknown, expired or revoked. */
  async lookup(tokenId: string): Promise<TokenEntry | undefined> {
    if (tokenId.startsWith(BATCH_TOKEN_PREFIX)) return this.batchEntry(tokenId);
    return this.cachedLookup(tokenId) ?? this.lookupByHash(await this.hash(tokenId));
  }

  /**
   * `lookup` answered from memory, without a promise: the entry of a token in use whose hash
   * and entry are cached and which is live (not spent, not expired). Undefined says only that
   * memory cannot answer — `lookup` must be asked. Every request looks its token up, and each
   * async layer on that path costs a promise and a turn of the microtask queue.
   */
  cachedLookup(tokenId: string): TokenEntry | undefined {
    // A batch token is not stored, so never cached: it is opened anew each time (`lookup`).
    const hash = tokenId.startsWith(BATCH_TOKEN_PREFIX) ? undefined : this.hashes.get(tokenId);
    const cached = hash === undefined ? undefined : this.cache.get(hash);
    return cached && cached.num_uses !== USED_UP && !this.expired(cached) ? cached : undefined;
  }

  private expired(entry: TokenEntry): boolean {
    return entry.expire_at > 0 && entry.expire_at <= this.nowSeconds();
  }

  async lookupByHash(hash: string): Promise<TokenEntry | undefined> {
    let entry = this.cache.get(hash);
    if (!entry) {
      const before = this.mutations;
      const row = await this.store.get(ID_PREFIX + hash);
      if (!row) return undefined;
      // Frozen: concurrent requests share the cached entry, so none may change it in place.
      entry = Object.freeze(JSON.parse(row.value.toString('utf8')) as TokenEntry);
      if (before === this.mutations) {
        if (this.cache.size >= TokenStore.CACHE_MAX) this.cache.delete(this.cache.keys().next().value!);
        this.cache.set(hash, entry);
      }
    }
    if (entry.num_uses === USED_UP) return undefined;
    if (this.expired(entry)) {
      await this.revokeTree(entry.hash);
      return undefined;
    }
    return entry;
  }

  async lookupAccessor(accessor: string): Promise<TokenEntry | undefined> {
    const row = await this.store.get(await this.accessorKey(accessor));
    return row ? this.lookupByHash((JSON.parse(row.value.toString('utf8')) as AccessorEntry).token) : undefined;
  }

  /** Every live token's accessor, sorted; read from the encrypted values, since the keys are salted. */
  async listAccessors(): Promise<string[]> {
    const rows = await this.store.scan(ACCESSOR_PREFIX);
    return rows.map((row) => (JSON.parse(row.value.toString('utf8')) as AccessorEntry).accessor).sort();
  }

  /**
   * Spends one use of a limited-use token and returns the entry as it is after that use;
   * throws permission denied when no use is left (the token is used up or revoked).
   *
   * Atomic per token: the entry is re-read from the store — never the cached copy that every
   * concurrent request holds — and written back with a check on the revision read, so two
   * requests can never spend the same use; the loser re-reads and tries again. That check is
   * a compare-and-set a network database does in one statement (PostgreSQL:
   * `UPDATE … SET value = $new WHERE key = $k AND revision = $read`), so the guarantee holds
   * across processes too. Within this process the requests of one token also queue behind
   * each other, so they do not spend their retries racing one another.
   *
   * The last use marks the entry used up in that same compare-and-set (a concurrent lookup
   * then sees a spent token), and the token is revoked right after.
   */
  async consumeUse(entry: TokenEntry): Promise<TokenEntry> {
    if (entry.num_uses === 0) return entry;
    const key = ID_PREFIX + entry.hash;
    return this.uses.run(entry.hash, () =>
      withRetry(async () => {
        const row = await this.store.get(key);
        const current = row ? (JSON.parse(row.value.toString('utf8')) as TokenEntry) : undefined;
        if (!row || !current || current.num_uses <= 0) throw permissionDenied();
        const remaining = current.num_uses - 1;
        this.forget(entry.hash);
        try {
          await this.store.commit(
            [{ kind: 'put', key, value: Buffer.from(JSON.stringify({ ...current, num_uses: remaining === 0 ? USED_UP : remaining })) }],
            [{ key, revision: row.revision }],
          );
        } finally {
          this.forget(entry.hash);
        }
        if (remaining === 0) await this.revokeTree(entry.hash);
        return Object.freeze({ ...current, num_uses: remaining });
      }),
    );
  }

  /** Records a renewal: the new expiry (unix seconds) and when it happened. */
  async renew(entry: TokenEntry, expireAt: number): Promise<TokenEntry> {
    const renewed: TokenEntry = { ...entry, expire_at: expireAt, last_renewal_time: this.nowSeconds() };
    await this.save(renewed);
    return renewed;
  }

  async save(entry: TokenEntry): Promise<void> {
    this.forget(entry.hash);
    try {
      await this.store.commit([{ kind: 'put', key: ID_PREFIX + entry.hash, value: Buffer.from(JSON.stringify(entry)) }]);
    } finally {
      this.forget(entry.hash);
    }
  }

  /** See `TokenResolver.revokeUsedUp`: the tree again, for the children its last request created. */
  revokeUsedUp(entry: TokenEntry): Promise<void> {
    return this.revokeTree(entry.hash);
  }

  /** Revokes a token and, recursively, every token created under it. */
  async revokeTree(hash: string): Promise<void> {
    await withRetry(async () => {
      const children = await this.store.list(`${CHILD_PREFIX}${hash}/`);
      for (const child of children) await this.revokeTree(child);
      const row = await this.store.get(ID_PREFIX + hash);
      const ops: WriteOp[] = [
        { kind: 'delete', key: ID_PREFIX + hash },
        { kind: 'deletePrefix', prefix: `${CHILD_PREFIX}${hash}/` },
      ];
      if (row) {
        const entry = JSON.parse(row.value.toString('utf8')) as TokenEntry;
        ops.push({ kind: 'delete', key: await this.accessorKey(entry.accessor) });
        if (entry.parent) ops.push({ kind: 'delete', key: `${CHILD_PREFIX}${entry.parent}/${hash}` });
        if (entry.mount_accessor) ops.push({ kind: 'delete', key: `${MOUNT_PREFIX}${entry.mount_accessor}/${hash}` });
      }
      this.forget(hash);
      try {
        await this.store.commit(ops);
      } finally {
        this.forget(hash);
      }
    });
  }

  /**
   * Revokes every token the logins of an auth mount issued (with their children), when the
   * mount is disabled. The caller removes the mount first, so no login adds to the index
   * afterwards without noticing (see `issueLoginToken`).
   */
  async revokeByMount(mountAccessor: string): Promise<void> {
    const prefix = `${MOUNT_PREFIX}${mountAccessor}/`;
    for (const hash of await this.store.list(prefix)) await this.revokeTree(hash);
    await this.store.commit([{ kind: 'deletePrefix', prefix }]);
  }
}
