/**
 * The emulator's state and its in-process admin operations, independent of HTTP. The server
 * (server.ts) and the HTTP admin API (admin.ts) both drive this one object.
 */
import { checkAccessKeyId, CredentialStore } from './credentials.js';
import { FaultQueue, type FaultSpec } from './faults.js';
import { Iam, type CreatePolicyInput, type PrincipalSnapshot, type RegisterRoleInput, type RegisterUserInput } from './iam.js';
import { matchesLogQuery, type RequestLogEntry, type RequestLogQuery } from './log.js';
import { QuotaLimiter } from './quotas.js';
import { ListingViews } from './secrets-manager/listing-views.js';
import { PageTokens } from './secrets-manager/paging.js';
import type { SecretsManagerEnv } from './secrets-manager/service.js';
import { SecretsStore } from './secrets-manager/store.js';
import { OidcKeyCache } from './sts/oidc-keys.js';
import type { StsEnv } from './sts/service.js';

export interface EmulatorOptions {
  /** Default 0 (any free port) in-process; the standalone command defaults to 4566. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Refuse `http://` OIDC issuers, as AWS does (default: accept them, for local use). */
  requireHttpsIssuer?: boolean;
  /** "Now" in ms epoch; injectable so tests can move time (session and token expiry, deletion windows, quotas). */
  clock?: () => number;
  /** Quota overrides in requests per second, by quota class or operation name (see quotas.ts). */
  quotas?: Partial<Record<string, number>>;
  /**
   * What refills quota buckets: `'clock-or-wall'` (default) counts whichever of the injected clock
   * and the machine clock moved further, so a frozen test clock never starves a long run;
   * `'clock'` counts the injected clock alone, for tests that assert exactly when a bucket is empty
   * (on a loaded machine the real clock would refill it between two calls).
   */
  quotaRefill?: 'clock-or-wall' | 'clock';
  /** Account of unmapped AKIA keys and of admin calls that name none. Default 123456789012. */
  defaultAccountId?: string;
  /** After a purge, how long (emulator ms) the name stays unusable for CreateSecret. Default 0. */
  purgeLagMs?: number;
  /** How stale (emulator ms) ListSecrets answers are. Default 0 (live). */
  listingLagMs?: number;
}

/** The two eventual-consistency lags (see EmulatorOptions). */
export interface Lags {
  purgeLagMs: number;
  listingLagMs: number;
}

/** A plain snapshot of a secret, for assertions. */
export interface SecretSnapshot {
  name: string;
  arn: string;
  description?: string;
  tags: Array<{ Key: string; Value: string }>;
  kmsKeyId?: string;
  /** When DeleteSecret was called (ms), while scheduled for deletion. */
  deletedDate?: number;
  /** When the scheduled purge happens (ms). */
  deletionDate?: number;
  versions: Array<{ versionId: string; stages: string[]; secretString?: string; secretBinary?: string; createdDate: number }>;
  /** On a primary: the regions it is replicated to. */
  replicas?: string[];
  /** On a replica: the primary's region. */
  primaryRegion?: string;
}

export const DEFAULT_ACCOUNT_ID = '123456789012';

export class EmulatorCore {
  readonly defaultAccountId: string;
  readonly credentials: CredentialStore;
  readonly iam: Iam;
  readonly store = new SecretsStore();
  readonly pages = new PageTokens();
  readonly listing = new ListingViews();
  readonly quotas: QuotaLimiter;
  readonly faults = new FaultQueue();
  readonly keys: OidcKeyCache;
  readonly log: RequestLogEntry[] = [];
  private readonly clock: () => number;
  private offsetMs = 0;

  constructor(opts: EmulatorOptions = {}) {
    this.defaultAccountId = opts.defaultAccountId ?? DEFAULT_ACCOUNT_ID;
    if (!/^\d{12}$/.test(this.defaultAccountId)) throw new Error('defaultAccountId must be 12 digits');
    this.credentials = new CredentialStore(this.defaultAccountId);
    this.iam = new Iam(this.defaultAccountId, opts.requireHttpsIssuer === true);
    this.keys = new OidcKeyCache(opts.requireHttpsIssuer === true);
    this.quotas = new QuotaLimiter(opts.quotas, opts.quotaRefill ?? 'clock-or-wall');
    this.clock = opts.clock ?? Date.now;
    this.setLags({ purgeLagMs: opts.purgeLagMs ?? 0, listingLagMs: opts.listingLagMs ?? 0 });
  }

  envForSecretsManager(): SecretsManagerEnv {
    return {
      store: this.store,
      pages: this.pages,
      listing: this.listing,
      credentials: this.credentials,
      iam: this.iam,
      quotas: this.quotas,
      now: () => this.now(),
      wallNow: () => this.wallNow(),
    };
  }

  envForSts(): StsEnv {
    return {
      iam: this.iam,
      keys: this.keys,
      credentials: this.credentials,
      quotas: this.quotas,
      now: () => this.now(),
      wallNow: () => this.wallNow(),
    };
  }

  /** Emulator time: the injected clock plus any advanceClock() offset. */
  now(): number {
    return this.clock() + this.offsetMs;
  }

  /** The machine clock, for what the SDK measures with it (SigV4 skew, the `Date` header). */
  wallNow(): number {
    return Date.now();
  }

  advanceClock(ms: number): number {
    if (!Number.isFinite(ms)) throw new Error('ms must be a finite number');
    this.offsetMs += ms;
    return this.now();
  }

  registerOidcProvider(p: { accountId?: string; url: string; clientIds: string[] }): { arn: string } {
    return { arn: this.iam.registerOidcProvider(p).arn };
  }

  registerRole(r: RegisterRoleInput): { arn: string } {
    return { arn: this.iam.registerRole(r).arn };
  }

  /** Registers a user and maps its access keys to it (a key mapped before is re-mapped). */
  registerUser(u: RegisterUserInput): { arn: string; userId: string } {
    for (const k of u.accessKeys ?? []) checkAccessKeyId(k.accessKeyId);
    const user = this.iam.registerUser(u);
    for (const k of u.accessKeys ?? []) {
      this.credentials.mapAccessKey(k.accessKeyId, k.secretAccessKey, user.accountId, { arn: user.arn, userId: user.userId });
    }
    return { arn: user.arn, userId: user.userId };
  }

  createPolicy(p: CreatePolicyInput): { arn: string } {
    return { arn: this.iam.createPolicy(p).arn };
  }

  putInlinePolicy(principalArn: string, policyName: string, document: unknown): void {
    this.iam.putInlinePolicy(principalArn, policyName, document);
  }

  deleteInlinePolicy(principalArn: string, policyName: string): void {
    this.iam.deleteInlinePolicy(principalArn, policyName);
  }

  attachPolicy(principalArn: string, policyArn: string): void {
    this.iam.attachPolicy(principalArn, policyArn);
  }

  detachPolicy(principalArn: string, policyArn: string): void {
    this.iam.detachPolicy(principalArn, policyArn);
  }

  principal(arn: string): PrincipalSnapshot | undefined {
    return this.iam.principal(arn);
  }

  lags(): Lags {
    return { purgeLagMs: this.store.purgeLagMs, listingLagMs: this.listing.lagMs };
  }

  /** Changes the given lags; setting the listing lag restarts its views from the present state. */
  setLags(lags: Partial<Lags>): Lags {
    if (lags.purgeLagMs !== undefined) {
      if (!Number.isFinite(lags.purgeLagMs) || lags.purgeLagMs < 0) throw new Error('purgeLagMs must be a non-negative number');
      this.store.purgeLagMs = lags.purgeLagMs;
    }
    if (lags.listingLagMs !== undefined) this.listing.setLag(lags.listingLagMs, this.store, this.now());
    return this.lags();
  }

  mapAccessKey(accessKeyId: string, secretAccessKey: string, accountId: string): void {
    this.credentials.mapAccessKey(accessKeyId, secretAccessKey, accountId);
  }

  injectFault(f: FaultSpec): void {
    this.faults.inject(f);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  /** The log, oldest first; with a query, only the entries it matches. */
  requestLog(query?: RequestLogQuery): RequestLogEntry[] {
    return this.log.filter((e) => query === undefined || matchesLogQuery(e, query)).map((e) => structuredClone(e));
  }

  clearRequestLog(): void {
    this.log.length = 0;
  }

  setQuota(operationClass: string, perSecond: number): void {
    this.quotas.set(operationClass, perSecond);
  }

  listSecretNames(region: string, accountId = this.defaultAccountId): string[] {
    return this.store.all(accountId, region, this.now()).map((r) => r.core.name);
  }

  getSecret(region: string, name: string, accountId = this.defaultAccountId): SecretSnapshot | undefined {
    const r = this.store.byName(accountId, region, name, this.now());
    if (r === undefined) return undefined;
    const c = r.core;
    const snapshot: SecretSnapshot = {
      name: c.name,
      arn: r.arn,
      tags: (c.tags ?? []).map((t) => ({ ...t })),
      versions: [...c.versions.values()].map((v) => ({
        versionId: v.versionId,
        stages: [...v.stages],
        ...(v.secretString !== undefined ? { secretString: v.secretString } : {}),
        ...(v.secretBinary !== undefined ? { secretBinary: v.secretBinary.toString('base64') } : {}),
        createdDate: v.createdDate,
      })),
    };
    if (c.description !== undefined) snapshot.description = c.description;
    if (r.kmsKeyId !== undefined) snapshot.kmsKeyId = r.kmsKeyId;
    if (r.deletedDate !== undefined) snapshot.deletedDate = r.deletedDate;
    if (r.deletionDate !== undefined) snapshot.deletionDate = r.deletionDate;
    if (!r.isReplica && r.replicas.size > 0) snapshot.replicas = [...r.replicas.keys()];
    if (r.isReplica) snapshot.primaryRegion = c.primaryRegion;
    return snapshot;
  }
}
