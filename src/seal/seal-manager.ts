import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import pino, { type Logger } from 'pino';
import type { SealState, SealStatus } from '../kernel/services.js';
import { sealed } from '../kernel/errors.js';
import { BarrierIntegrityError, BarrierStore, SEAL_CONFIG_KEY } from '../store/barrier.js';
import { RevisionConflict } from '../store/store.js';
import { sealErrors } from './errors.js';
import { combineShares, shareLength, splitKey } from './shamir.js';

const ROOT_KEY_BYTES = 32;

/**
 * The seal configuration, stored in plaintext beside the barrier so that a sealed server
 * can report `t` and `n`. `share_digests` are salted HMACs of each issued share: they let
 * a wrong share be refused when it is entered rather than when the threshold is reached,
 * and reveal nothing usable (each share is 256 bits of uniformly random data).
 */
export interface SealConfig {
  type: 'shamir';
  secret_shares: number;
  secret_threshold: number;
  share_salt: string;
  share_digests: string[];
}

/** What the rest of the server does around the barrier opening and closing. */
export interface SealHooks {
  /** Runs once the barrier is open: load the mount table, policies, audit devices. */
  afterUnseal(): Promise<void>;
  /** Runs before the barrier closes: forget every cached secret and key. */
  beforeSeal(): Promise<void>;
  /** Creates the initial root token (the barrier is open); returns its id. */
  createRootToken(id: string | undefined): Promise<string>;
}

export interface InitRequest {
  secretShares: number;
  secretThreshold: number;
  /** Dev mode only: the root token id to create. */
  rootTokenId?: string;
}

export interface InitResult {
  keys: Buffer[];
  rootToken: string;
}

/** Vault's seal-configuration rules, with its messages. */
function validateConfig(shares: number, threshold: number): void {
  if (!Number.isInteger(shares) || shares < 1) throw sealErrors.invalidConfig('shares must be at least one');
  if (!Number.isInteger(threshold) || threshold < 1) throw sealErrors.invalidConfig('threshold must be at least one');
  if (shares > 1 && threshold === 1) throw sealErrors.invalidConfig('threshold must be greater than one for multiple shares');
  if (shares > 255) throw sealErrors.invalidConfig('shares must be less than 256');
  if (threshold > shares) throw sealErrors.invalidConfig('threshold cannot be larger than shares');
}

/**
 * Initialisation, unsealing and sealing. Holds the unseal progress (shares entered so far)
 * in memory only; the root key is rebuilt from the shares, handed to the barrier and
 * never kept here.
 */
export class SealManager implements SealState {
  private config: SealConfig | undefined;
  private parts: Buffer[] = [];
  private partDigests: string[] = [];
  private nonce = '';
  /** Serialises init, unseal and seal: share combination is async and must not interleave. */
  private lock: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly barrier: BarrierStore,
    private readonly hooks: SealHooks,
    private readonly clock: () => number = Date.now,
    /** Init, unseal progress, unseal and seal are logged at info (never a share or a key). */
    private readonly log: Logger = pino({ level: 'silent' }),
  ) {}

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  /** Reads the seal configuration from storage (whether the server is initialised). */
  async load(): Promise<void> {
    const row = await this.barrier.inner.get(SEAL_CONFIG_KEY);
    this.config = row ? (JSON.parse(row.value.toString('utf8')) as SealConfig) : undefined;
  }

  get initialized(): boolean {
    return this.config !== undefined;
  }

  status(): SealStatus {
    return {
      initialized: this.config !== undefined,
      sealed: this.barrier.isSealed,
      t: this.config?.secret_threshold ?? 0,
      n: this.config?.secret_shares ?? 0,
      progress: this.parts.length,
      nonce: this.nonce,
    };
  }

  private shareDigest(share: Buffer): string {
    return createHmac('sha256', Buffer.from(this.config!.share_salt, 'base64')).update(share).digest('hex');
  }

  /**
   * `sys/init`: creates the root key and the keyring, splits the root key into shares,
   * creates the root token, and leaves the server sealed (as Vault does).
   */
  initialize(req: InitRequest): Promise<InitResult> {
    return this.exclusive(async () => {
      await this.load();
      if (this.config) throw sealErrors.alreadyInitialized();
      validateConfig(req.secretShares, req.secretThreshold);
      const rootKey = randomBytes(ROOT_KEY_BYTES);
      try {
        const keys = await splitKey(rootKey, req.secretShares, req.secretThreshold);
        const salt = randomBytes(16);
        const config: SealConfig = {
          type: 'shamir',
          secret_shares: req.secretShares,
          secret_threshold: req.secretThreshold,
          share_salt: salt.toString('base64'),
          share_digests: keys.map((k) => createHmac('sha256', salt).update(k).digest('hex')),
        };
        try {
          await this.barrier.inner.commit(
            [
              { kind: 'put', key: SEAL_CONFIG_KEY, value: Buffer.from(JSON.stringify(config)) },
              ...BarrierStore.initialKeyringOps(rootKey, new Date(this.clock())),
            ],
            [{ key: SEAL_CONFIG_KEY, revision: 0 }],
          );
        } catch (err) {
          if (err instanceof RevisionConflict) throw sealErrors.alreadyInitialized();
          throw err;
        }
        this.config = config;
        await this.barrier.unseal(rootKey);
        let rootToken: string;
        try {
          await this.hooks.afterUnseal();
          rootToken = await this.hooks.createRootToken(req.rootTokenId);
        } finally {
          await this.hooks.beforeSeal();
          this.barrier.seal();
        }
        this.log.info(
          { secret_shares: req.secretShares, secret_threshold: req.secretThreshold },
          'initialized: the root key is split into key shares; the server stays sealed until the threshold of them is entered',
        );
        return { keys, rootToken };
      } finally {
        rootKey.fill(0);
      }
    });
  }

  /**
   * `sys/unseal` with one key share. Refuses a share that was never issued, or that was
   * already entered in this attempt, without touching the progress; opens the barrier
   * once the threshold is reached.
   */
  submitShare(share: Buffer): Promise<void> {
    return this.exclusive(async () => {
      const config = this.config;
      if (!config) throw sealErrors.notInitialized();
      if (!this.barrier.isSealed) return;
      if (share.length < 16) throw sealErrors.keyTooShort();
      if (share.length > 33) throw sealErrors.keyTooLong();
      if (share.length !== shareLength(ROOT_KEY_BYTES, config.secret_threshold)) throw sealErrors.invalidKey();
      const digest = this.shareDigest(share);
      const issued = config.share_digests.some((d) => timingSafeEqual(Buffer.from(d, 'hex'), Buffer.from(digest, 'hex')));
      if (!issued) throw sealErrors.invalidKey();
      if (this.partDigests.includes(digest)) {
        throw sealErrors.duplicateShare();
      }
      if (this.parts.length === 0) this.nonce = randomUUID();
      this.parts.push(Buffer.from(share));
      this.partDigests.push(digest);
      if (this.parts.length < config.secret_threshold) {
        this.log.info({ progress: this.parts.length, threshold: config.secret_threshold }, 'unseal progress');
        return;
      }

      const parts = this.parts;
      // Detach the shares before clearing the progress (which zeroes what it holds).
      this.parts = [];
      this.clearProgress();
      const rootKey = await combineShares(parts, config.secret_threshold);
      parts.forEach((p) => p.fill(0));
      try {
        await this.barrier.unseal(rootKey);
      } catch (err) {
        if (err instanceof BarrierIntegrityError) throw sealErrors.invalidKey();
        throw err;
      } finally {
        rootKey.fill(0);
      }
      try {
        await this.hooks.afterUnseal();
      } catch (err) {
        // A half-loaded server must not serve requests: close the barrier again.
        await this.hooks.beforeSeal();
        this.barrier.seal();
        throw err;
      }
      this.log.info('unsealed');
    });
  }

  /** `sys/unseal` with `reset`: forgets the shares entered so far. */
  resetProgress(): void {
    if (!this.barrier.isSealed) throw sealErrors.unsealed();
    this.clearProgress();
  }

  private clearProgress(): void {
    this.parts.forEach((p) => p.fill(0));
    this.parts = [];
    this.partDigests = [];
    this.nonce = '';
  }

  /**
   * Replaces the whole store (a snapshot restore). Seals first, so that nothing decrypted from
   * the old store stays in memory and no request runs against either store meanwhile, applies
   * the replacement, then reads the new store's seal configuration. The server stays sealed: it
   * is unsealed with the unseal keys of the server the snapshot was taken from.
   */
  replaceStore(apply: () => Promise<void>): Promise<void> {
    return this.exclusive(async () => {
      if (!this.barrier.isSealed) {
        await this.hooks.beforeSeal();
        this.barrier.seal();
      }
      this.clearProgress();
      try {
        await apply();
      } finally {
        await this.load();
      }
      this.log.info('snapshot restored: the server is sealed; unseal it with the unseal keys of the server the snapshot was taken from');
    });
  }

  /** `sys/seal`: closes the barrier and drops every key and cached secret from memory. */
  seal(): Promise<void> {
    return this.exclusive(async () => {
      if (this.barrier.isSealed) throw sealed();
      await this.hooks.beforeSeal();
      this.barrier.seal();
      this.clearProgress();
      this.log.info('sealed');
    });
  }
}
