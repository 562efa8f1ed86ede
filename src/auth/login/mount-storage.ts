import { createHmac, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { mountDataPrefix, type MountEntry } from '../../kernel/entries.js';
import { RevisionConflict, type RevisionCheck, type Store, type StoreEntry, type WriteOp } from '../../store/store.js';

const SALT = 'salt';

/**
 * An auth mount's own storage, under its data prefix (`logical/<uuid>/`, deleted with the mount),
 * behind the barrier like everything else. Storage keys are not encrypted, so a credential
 * that indexes something (a secret ID, a role ID) appears in keys only as `hmac(value)` under
 * the mount's own random salt.
 */
export class MountStorage {
  constructor(
    private readonly store: Store,
    private readonly mount: MountEntry,
    private readonly salts: SaltCache,
  ) {}

  key(relative: string): string {
    return mountDataPrefix(this.mount) + relative;
  }

  get(relative: string): Promise<StoreEntry | undefined> {
    return this.store.get(this.key(relative));
  }

  async getJson<T>(relative: string): Promise<{ value: T; revision: number } | undefined> {
    const row = await this.get(relative);
    return row ? { value: JSON.parse(row.value.toString('utf8')) as T, revision: row.revision } : undefined;
  }

  list(relative: string): Promise<string[]> {
    return this.store.list(this.key(relative));
  }

  put(relative: string, value: unknown): WriteOp {
    return { kind: 'put', key: this.key(relative), value: Buffer.from(JSON.stringify(value)) };
  }

  delete(relative: string): WriteOp {
    return { kind: 'delete', key: this.key(relative) };
  }

  deletePrefix(relative: string): WriteOp {
    return { kind: 'deletePrefix', prefix: this.key(relative) };
  }

  /** A check that `relative` is still at `revision` (0: still absent) when the commit applies. */
  check(relative: string, revision: number): RevisionCheck {
    return { key: this.key(relative), revision };
  }

  async commit(ops: WriteOp[], checks: RevisionCheck[] = []): Promise<void> {
    await this.store.commit(ops, checks);
  }

  /** `hex(HMAC-SHA256(salt, value))`; the same cost whether or not anything is stored under it. */
  async hmac(value: string): Promise<string> {
    return createHmac('sha256', await this.salts.saltOf(this.store, this.mount, this.key(SALT))).update(value).digest('hex');
  }
}

/** The mounts' salts in memory (dropped on seal, as every key is). */
export class SaltCache {
  private readonly byMount = new Map<string, KeyObject>();

  async saltOf(store: Store, mount: MountEntry, key: string): Promise<KeyObject> {
    const known = this.byMount.get(mount.uuid);
    if (known) return known;
    let row = await store.get(key);
    if (!row) {
      try {
        await store.commit([{ kind: 'put', key, value: randomBytes(32) }], [{ key, revision: 0 }]);
      } catch (err) {
        // Two first logins raced; both use the salt that won.
        if (!(err instanceof RevisionConflict)) throw err;
      }
      row = await store.get(key);
    }
    const salt = createSecretKey(row!.value);
    this.byMount.set(mount.uuid, salt);
    return salt;
  }

  reset(): void {
    this.byMount.clear();
  }
}
