import { createHmac, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { RevisionConflict, type Store } from '../store/store.js';

const SALT_KEY = 'core/audit-salt';

/**
 * HMAC-SHA256 of audited values under a per-server salt kept behind the barrier, written
 * `hmac-sha256:<hex>` as Vault writes it. The same salt answers `sys/audit-hash`, so an
 * operator can find the audit lines about a known value without the log holding it.
 */
export class AuditHasher {
  private key: KeyObject | undefined;

  constructor(private readonly store: Store) {}

  /** Forgets the salt (on seal). */
  reset(): void {
    this.key = undefined;
  }

  /** Loads the salt, creating it on first use. */
  async ready(): Promise<void> {
    if (this.key) return;
    let row = await this.store.get(SALT_KEY);
    if (!row) {
      try {
        await this.store.commit([{ kind: 'put', key: SALT_KEY, value: randomBytes(32) }], [{ key: SALT_KEY, revision: 0 }]);
      } catch (err) {
        if (!(err instanceof RevisionConflict)) throw err;
      }
      row = await this.store.get(SALT_KEY);
    }
    this.key = createSecretKey(row!.value);
  }

  /** Call after `ready()`. */
  hash(value: string): string {
    if (!this.key) throw new Error('audit salt not loaded');
    return `hmac-sha256:${createHmac('sha256', this.key).update(value).digest('hex')}`;
  }

  /** Every string in a JSON-like value replaced by its HMAC; keys, numbers and booleans kept. */
  hashStructure(value: unknown): unknown {
    if (typeof value === 'string') return this.hash(value);
    if (Array.isArray(value)) return value.map((v) => this.hashStructure(v));
    if (value && typeof value === 'object') {
      if (Buffer.isBuffer(value)) return this.hash(value.toString('base64'));
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = this.hashStructure(v);
      return out;
    }
    return value;
  }
}
