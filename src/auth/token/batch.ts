import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { RevisionConflict, type Store } from '../../store/store.js';

/** Batch tokens start with `hvb.`, as Vault's do. */
export const BATCH_TOKEN_PREFIX = 'hvb.';

/** Where the key that seals batch tokens lives: behind the barrier, like every other key. */
const KEY_STORAGE = 'core/batch-token-key';
const FORMAT = 1;
const NONCE = 12;
const TAG = 16;
/** Binds the ciphertext to its purpose: no other value sealed under some key can pass for a token. */
const AAD = Buffer.from('ferry batch token');
/** Longer than any token Ferry issues (policies and metadata are bounded by the request size); refused unread. */
const MAX_TOKEN_LENGTH = 16 * 1024;

/** What a batch token carries: everything its entry needs, since nothing of it is stored. */
export interface BatchTokenClaims {
  policies: string[];
  /** Hash of the parent token; null for an orphan. The token stops working when its parent goes. */
  parent: string | null;
  path: string;
  display_name: string;
  meta: Record<string, string> | null;
  /** Unix seconds. */
  creation_time: number;
  /** Seconds; always > 0 (batch tokens are never root tokens, so they always expire). */
  ttl: number;
  /** A login token's `token_bound_cidrs`: where it may be used from. */
  bound_cidrs?: string[];
  /** A login token's issuing auth mount: the token is refused once that mount is gone. */
  mount_accessor?: string;
}

/** The compact form sealed into the token. */
interface SealedClaims {
  p: string[];
  r: string | null;
  a: string;
  d: string;
  m: Record<string, string> | null;
  c: number;
  t: number;
  /** Present only on login tokens that have them, so other tokens keep their size. */
  b?: string[];
  o?: string;
}

/**
 * Batch tokens as Vault makes them: not persisted, the token itself is its entry, encrypted
 * and authenticated (AES-256-GCM) under a key kept behind the barrier. A forged or altered
 * token fails authentication; a sealed server has no key and accepts none; another server
 * (another key) accepts none of this one's.
 */
export class BatchTokens {
  private key: KeyObject | undefined;

  constructor(private readonly store: Store) {}

  /** Forgets the key (on seal). */
  reset(): void {
    this.key = undefined;
  }

  private async sealingKey(): Promise<KeyObject> {
    if (this.key) return this.key;
    let raw = (await this.store.get(KEY_STORAGE))?.value;
    if (!raw) {
      const fresh = randomBytes(32);
      try {
        await this.store.commit([{ kind: 'put', key: KEY_STORAGE, value: fresh }], [{ key: KEY_STORAGE, revision: 0 }]);
        raw = fresh;
      } catch (err) {
        if (!(err instanceof RevisionConflict)) throw err;
        raw = (await this.store.get(KEY_STORAGE))!.value;
      }
    }
    this.key = createSecretKey(raw);
    return this.key;
  }

  async issue(claims: BatchTokenClaims): Promise<string> {
    const sealed: SealedClaims = {
      p: claims.policies,
      r: claims.parent,
      a: claims.path,
      d: claims.display_name,
      m: claims.meta,
      c: claims.creation_time,
      t: claims.ttl,
      ...(claims.bound_cidrs && claims.bound_cidrs.length > 0 ? { b: claims.bound_cidrs } : {}),
      ...(claims.mount_accessor ? { o: claims.mount_accessor } : {}),
    };
    const nonce = randomBytes(NONCE);
    const cipher = createCipheriv('aes-256-gcm', await this.sealingKey(), nonce);
    cipher.setAAD(AAD);
    const body = Buffer.concat([cipher.update(JSON.stringify(sealed)), cipher.final()]);
    const token = Buffer.concat([Buffer.from([FORMAT]), nonce, body, cipher.getAuthTag()]);
    return BATCH_TOKEN_PREFIX + token.toString('base64url');
  }

  /** The claims of a genuine token of this server; undefined for anything else (malformed, altered, foreign). */
  async open(token: string): Promise<BatchTokenClaims | undefined> {
    if (!token.startsWith(BATCH_TOKEN_PREFIX) || token.length > MAX_TOKEN_LENGTH) return undefined;
    const text = token.slice(BATCH_TOKEN_PREFIX.length);
    if (!/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
    const raw = Buffer.from(text, 'base64url');
    // Only the canonical encoding: a changed character must never decode to the same bytes.
    if (raw.toString('base64url') !== text) return undefined;
    if (raw.length < 1 + NONCE + TAG + 2 || raw[0] !== FORMAT) return undefined;
    // Outside the try: a sealed store is an error to report, not a bad token.
    const key = await this.sealingKey();
    let plain: Buffer;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(1, 1 + NONCE));
      decipher.setAAD(AAD);
      decipher.setAuthTag(raw.subarray(raw.length - TAG));
      plain = Buffer.concat([decipher.update(raw.subarray(1 + NONCE, raw.length - TAG)), decipher.final()]);
    } catch {
      return undefined;
    }
    const c = JSON.parse(plain.toString('utf8')) as SealedClaims;
    return {
      policies: c.p,
      parent: c.r,
      path: c.a,
      display_name: c.d,
      meta: c.m,
      creation_time: c.c,
      ttl: c.t,
      ...(c.b ? { bound_cidrs: c.b } : {}),
      ...(c.o ? { mount_accessor: c.o } : {}),
    };
  }
}
