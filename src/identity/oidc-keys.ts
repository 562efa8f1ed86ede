import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { z } from 'zod';
import { withRetry, type Store } from '../store/store.js';
import { identityErrors } from './errors.js';

/** Signing algorithms a named key may use, in the order the discovery document lists them. */
export const SIGNING_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

/** The key that signs when a destination names none; created on first use, never deleted. */
export const DEFAULT_KEY = 'default';

/** What an operator configures on a named key (`identity/oidc/key/:name`). Durations in seconds. */
export interface KeySettings {
  algorithm: SigningAlgorithm;
  rotationPeriod: number;
  verificationTtl: number;
  allowedClientIds: string[];
}

export const DEFAULT_SETTINGS: KeySettings = {
  algorithm: 'RS256',
  rotationPeriod: 24 * 3600,
  verificationTtl: 24 * 3600,
  allowedClientIds: ['*'],
};

/** A key pair that can sign: the private JWK (which carries the public members too). */
export interface SigningKey {
  kid: string;
  alg: SigningAlgorithm;
  privateJwk: JWK;
}

/** A rotated-out key: only its public half is kept, until tokens it signed stop verifying. */
interface RetiredKey {
  kid: string;
  alg: SigningAlgorithm;
  publicJwk: JWK;
  /** ms epoch: rotation time + the verification TTL in force at that rotation. */
  expiresAt: number;
}

/** One named key as stored: settings plus its key ring. Only ever persisted through `core.store`. */
export interface StoredKey extends KeySettings {
  name: string;
  /** ms epoch of the last rotation (or of creation). */
  lastRotation: number;
  current: SigningKey;
  /** Generated one rotation ahead and already published, so verifiers have it before it signs. */
  next: SigningKey;
  previous: RetiredKey[];
}

/** A public key as the JWKS publishes it. */
export interface PublishedKey {
  use: 'sig';
  kty: string;
  kid: string;
  alg: SigningAlgorithm;
  [param: string]: unknown;
}

const KEY_PREFIX = 'identity/oidc/key/';
/** Vault's generic name rule: word characters, with `-` and `.` inside. */
const NAME_PATTERN = /^\w(?:[\w.-]*\w)?$/;
/** The public members of each key type: an allow-list, so a private member can never be published. */
const PUBLIC_MEMBERS: Record<string, readonly string[]> = { RSA: ['n', 'e'], EC: ['crv', 'x', 'y'], OKP: ['crv', 'x'] };

/** The `:name` of `identity/oidc/key/:name`: a name outside the rule matches no route, as in Vault. */
export const keyNameParam = () => z.string().regex(NAME_PATTERN);

export function isSigningAlgorithm(value: string): value is SigningAlgorithm {
  return (SIGNING_ALGORITHMS as readonly string[]).includes(value);
}

/** Checks the rules between settings; throws a 400 with Vault's wording. */
export function validateSettings(s: KeySettings): void {
  if (!isSigningAlgorithm(s.algorithm)) throw identityErrors.unknownAlgorithm(s.algorithm);
  if (s.rotationPeriod < 60) throw identityErrors.rotationPeriodTooShort();
  if (s.verificationTtl > 10 * s.rotationPeriod) throw identityErrors.verificationTtlTooLong();
}

/** The public half of a JWK: key type and the public members only. */
export function publicJwk(jwk: JWK): JWK {
  const members = PUBLIC_MEMBERS[jwk.kty ?? ''];
  if (!members) throw new Error(`unsupported key type ${String(jwk.kty)}`);
  const out: JWK = { kty: jwk.kty };
  for (const m of members) {
    const v = (jwk as Record<string, unknown>)[m];
    if (v !== undefined) (out as Record<string, unknown>)[m] = v;
  }
  return out;
}

async function generateSigningKey(alg: SigningAlgorithm): Promise<SigningKey> {
  // Extractable only so the private JWK can go to the store; it leaves the process nowhere else.
  const { privateKey } = await generateKeyPair(alg, alg === 'EdDSA' ? { extractable: true, crv: 'Ed25519' } : { extractable: true });
  return { kid: randomUUID(), alg, privateJwk: await exportJWK(privateKey) };
}

function publish(kid: string, alg: SigningAlgorithm, jwk: JWK): PublishedKey {
  // publicJwk carries only the key type and public members, so nothing here overrides use/kid/alg.
  const { kty, ...params } = publicJwk(jwk) as { kty: string } & Record<string, unknown>;
  return { use: 'sig', kty, kid, alg, ...params };
}

/**
 * Named signing keys of the OIDC issuer and their rotation. Every state change is one
 * read-modify-commit of the key's single store entry with a revision check, so two
 * servers (or two requests) rotating the same key at once cannot both win: the loser
 * re-reads, finds the key already rotated, and uses it.
 */
export class OidcKeyRing {
  /** Loads in flight per key name, so concurrent callers share one scheduled rotation. */
  private readonly inflight = new Map<string, Promise<StoredKey | undefined>>();

  constructor(
    private readonly store: Store,
    private readonly clock: () => number,
  ) {}

  private async read(name: string): Promise<{ key: StoredKey | undefined; revision: number }> {
    const entry = await this.store.get(KEY_PREFIX + name);
    if (!entry) return { key: undefined, revision: 0 };
    return { key: JSON.parse(entry.value.toString('utf8')) as StoredKey, revision: entry.revision };
  }

  /**
   * Applies `change` to the stored key under a revision check, retrying on conflict.
   * `change` returns the new state, or `undefined` to leave the store untouched.
   */
  private async update(
    name: string,
    change: (key: StoredKey | undefined, now: number) => Promise<StoredKey | undefined>,
  ): Promise<StoredKey | undefined> {
    return withRetry(async () => {
      const { key, revision } = await this.read(name);
      const now = this.clock();
      const next = await change(key, now);
      if (!next) return key;
      next.previous = next.previous.filter((p) => p.expiresAt > now);
      await this.store.commit([{ kind: 'put', key: KEY_PREFIX + name, value: Buffer.from(JSON.stringify(next)) }], [
        { key: KEY_PREFIX + name, revision },
      ]);
      return next;
    });
  }

  private async create(name: string, settings: KeySettings, now: number): Promise<StoredKey> {
    const [current, next] = await Promise.all([generateSigningKey(settings.algorithm), generateSigningKey(settings.algorithm)]);
    return { name, ...settings, lastRotation: now, current, next, previous: [] };
  }

  /**
   * The rotated key ring: the published next key starts signing, the current one is kept
   * for verification until `verificationTtl` from now. With `freshKeys` (the algorithm
   * changed) the unused next key is dropped and both are generated anew.
   */
  private async rotated(key: StoredKey, now: number, verificationTtl: number, freshKeys = false): Promise<StoredKey> {
    const retired: RetiredKey = {
      kid: key.current.kid,
      alg: key.current.alg,
      publicJwk: publicJwk(key.current.privateJwk),
      expiresAt: now + verificationTtl * 1000,
    };
    const [current, next] = freshKeys
      ? await Promise.all([generateSigningKey(key.algorithm), generateSigningKey(key.algorithm)])
      : [key.next, await generateSigningKey(key.algorithm)];
    return { ...key, lastRotation: now, current, next, previous: [...key.previous, retired] };
  }

  private isDue(key: StoredKey, now: number): boolean {
    return now >= key.lastRotation + key.rotationPeriod * 1000;
  }

  /**
   * The key as it should be used now: `default` is created if missing, and a key whose
   * rotation period has passed is rotated first (once, however many periods passed).
   */
  async fresh(name: string): Promise<StoredKey | undefined> {
    const pending = this.inflight.get(name);
    if (pending) return pending;
    const load = this.update(name, async (key, now) => {
      if (!key) return name === DEFAULT_KEY ? this.create(name, DEFAULT_SETTINGS, now) : undefined;
      return this.isDue(key, now) ? this.rotated(key, now, key.verificationTtl) : undefined;
    }).finally(() => this.inflight.delete(name));
    this.inflight.set(name, load);
    return load;
  }

  /** Whether a key of that name can sign (`default` always can: it is created on first use). */
  async exists(name: string): Promise<boolean> {
    return name === DEFAULT_KEY || (await this.read(name)).key !== undefined;
  }

  /** How long a key's rotated-out halves stay published, in seconds, without creating `default`; undefined for no such key. */
  async verificationTtl(name: string): Promise<number | undefined> {
    const { key } = await this.read(name);
    if (key) return key.verificationTtl;
    return name === DEFAULT_KEY ? DEFAULT_SETTINGS.verificationTtl : undefined;
  }

  /** A key's settings, or undefined when there is no such key. */
  async settings(name: string): Promise<KeySettings | undefined> {
    const key = name === DEFAULT_KEY ? await this.fresh(name) : (await this.read(name)).key;
    if (!key) return undefined;
    return {
      algorithm: key.algorithm,
      rotationPeriod: key.rotationPeriod,
      verificationTtl: key.verificationTtl,
      allowedClientIds: key.allowedClientIds,
    };
  }

  /** Creates a key or updates the given settings of an existing one; an algorithm change rotates it. */
  async write(name: string, patch: Partial<KeySettings>): Promise<void> {
    await this.update(name, async (key, now) => {
      const base: KeySettings = key ?? DEFAULT_SETTINGS;
      const settings: KeySettings = {
        algorithm: patch.algorithm ?? base.algorithm,
        rotationPeriod: patch.rotationPeriod ?? base.rotationPeriod,
        verificationTtl: patch.verificationTtl ?? base.verificationTtl,
        allowedClientIds: patch.allowedClientIds ?? base.allowedClientIds,
      };
      validateSettings(settings);
      if (!key) return this.create(name, settings, now);
      const updated: StoredKey = { ...key, ...settings };
      return key.algorithm === settings.algorithm ? updated : this.rotated(updated, now, key.verificationTtl, true);
    });
  }

  /** Rotates now; `verificationTtl` overrides the key's for this rotation only. False if no such key. */
  async rotate(name: string, verificationTtl?: number): Promise<boolean> {
    const key = await this.update(name, async (key, now) => {
      if (!key && name !== DEFAULT_KEY) return undefined;
      const base = key ?? (await this.create(name, DEFAULT_SETTINGS, now));
      return this.rotated(base, now, verificationTtl ?? base.verificationTtl);
    });
    return key !== undefined;
  }

  async delete(name: string): Promise<void> {
    if (name === DEFAULT_KEY) {
      throw identityErrors.defaultKeyUndeletable();
    }
    await this.store.commit([{ kind: 'delete', key: KEY_PREFIX + name }]);
  }

  /** Names of the keys, `default` included. */
  async names(): Promise<string[]> {
    await this.fresh(DEFAULT_KEY);
    return (await this.store.list(KEY_PREFIX)).filter((n) => !n.endsWith('/'));
  }

  /**
   * The public keys verifiers need: of every key, the current, the next, and the rotated ones
   * still within their verification TTL; and the seconds until the earliest next rotation
   * (how long a verifier may cache this set).
   */
  async publicKeys(): Promise<{ keys: PublishedKey[]; secondsToNextRotation: number }> {
    const keys: PublishedKey[] = [];
    let nextRotation = Infinity;
    const now = this.clock();
    for (const name of await this.names()) {
      const key = await this.fresh(name);
      if (!key) continue; // deleted meanwhile
      keys.push(publish(key.current.kid, key.current.alg, key.current.privateJwk));
      keys.push(publish(key.next.kid, key.next.alg, key.next.privateJwk));
      for (const p of key.previous) if (p.expiresAt > now) keys.push(publish(p.kid, p.alg, p.publicJwk));
      nextRotation = Math.min(nextRotation, key.lastRotation + key.rotationPeriod * 1000);
    }
    const secondsToNextRotation = Number.isFinite(nextRotation) ? Math.max(0, Math.ceil((nextRotation - now) / 1000)) : 0;
    return { keys, secondsToNextRotation };
  }
}
