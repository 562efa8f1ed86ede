/**
 * Secrets Manager state: one namespace per (account, region); a secret's versions with their
 * staging labels; replicas sharing their primary's data. Pure in-memory, no I/O.
 */
import { randomChars } from '../credentials.js';
import { smErrors } from './errors.js';

export interface Tag {
  Key: string;
  Value: string;
}

export interface SecretVersion {
  versionId: string;
  /** Staging labels; empty = deprecated. */
  stages: string[];
  secretString?: string;
  secretBinary?: Buffer;
  /** ms epoch (emulator clock). */
  createdDate: number;
  lastAccessedDate?: number;
}

/** Data a primary shares with its replicas (replicas are read-only views of it). */
export interface SecretCore {
  name: string;
  suffix: string;
  primaryRegion: string;
  createdDate: number;
  lastChangedDate: number;
  description?: string;
  /** undefined = never tagged (DescribeSecret then omits `Tags`). */
  tags?: Tag[];
  /** In creation order. */
  versions: Map<string, SecretVersion>;
}

export interface ReplicaState {
  region: string;
  kmsKeyId?: string;
  status: 'InProgress' | 'InSync' | 'Failed';
  statusMessage?: string;
}

export interface SecretRecord {
  accountId: string;
  region: string;
  arn: string;
  core: SecretCore;
  kmsKeyId?: string;
  lastAccessedDate?: number;
  /** When DeleteSecret was called (ms); set while scheduled for deletion. */
  deletedDate?: number;
  /** When the purge happens (ms). */
  deletionDate?: number;
  /** On a primary: its replicas by region. */
  replicas: Map<string, ReplicaState>;
  isReplica: boolean;
}

export const AWSCURRENT = 'AWSCURRENT';
export const AWSPREVIOUS = 'AWSPREVIOUS';
const ARN_SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const NAME_CHARS = /^[A-Za-z0-9/_+=.@-]+$/;
const SECRET_ARN = /^arn:([a-z-]+):secretsmanager:([a-z0-9-]+):(\d{12}):secret:(.+)$/;

/** Secrets Manager keeps ~100 deprecated versions, and never purges one younger than 24 h. */
export const MAX_DEPRECATED_VERSIONS = 100;
export const DAY_MS = 24 * 60 * 60 * 1000;

export function secretArn(region: string, accountId: string, name: string, suffix: string): string {
  return `arn:aws:secretsmanager:${region}:${accountId}:secret:${name}-${suffix}`;
}

/** The 6 random characters that end a secret's ARN. */
export function newArnSuffix(): string {
  return randomChars(6, ARN_SUFFIX_ALPHABET);
}

export function isValidName(name: string): boolean {
  return NAME_CHARS.test(name);
}

export class SecretsStore {
  private readonly spaces = new Map<string, Map<string, SecretRecord>>();
  /**
   * Purge lag: for this long after a primary is purged (ForceDeleteWithoutRecovery, or the end of
   * its recovery window) its name stays taken — CreateSecret is refused as for a secret scheduled
   * for deletion — while every other operation already finds nothing. 0 = gone at once.
   */
  purgeLagMs = 0;
  /** `account|region|name` → end of the purge lag (ms). */
  private readonly purging = new Map<string, number>();

  /** The secrets of one (account, region), by name. */
  space(accountId: string, region: string): Map<string, SecretRecord> {
    const key = `${accountId}|${region}`;
    let space = this.spaces.get(key);
    if (space === undefined) {
      space = new Map();
      this.spaces.set(key, space);
    }
    return space;
  }

  /** A record by name, purging it first if its recovery window has passed. */
  byName(accountId: string, region: string, name: string, now: number): SecretRecord | undefined {
    const space = this.space(accountId, region);
    const record = space.get(name);
    if (record?.deletionDate !== undefined && now >= record.deletionDate) {
      space.delete(name);
      this.notePurge(record, record.deletionDate);
      return undefined;
    }
    return record;
  }

  /** Every (account, region) that has held a secret. */
  namespaces(): Array<{ accountId: string; region: string }> {
    return [...this.spaces.keys()].map((k) => {
      const [accountId, region] = k.split('|');
      return { accountId, region };
    });
  }

  /** Every live record of a namespace (purging expired ones). */
  all(accountId: string, region: string, now: number): SecretRecord[] {
    const out: SecretRecord[] = [];
    for (const name of [...this.space(accountId, region).keys()]) {
      const r = this.byName(accountId, region, name, now);
      if (r !== undefined) out.push(r);
    }
    return out;
  }

  create(accountId: string, region: string, name: string, now: number, suffix = newArnSuffix()): SecretRecord {
    const record: SecretRecord = {
      accountId,
      region,
      arn: secretArn(region, accountId, name, suffix),
      core: { name, suffix, primaryRegion: region, createdDate: now, lastChangedDate: now, versions: new Map() },
      replicas: new Map(),
      isReplica: false,
    };
    this.space(accountId, region).set(name, record);
    return record;
  }

  /** Removes a record at once (replicas, which are not subject to the purge lag). */
  remove(record: SecretRecord): void {
    this.space(record.accountId, record.region).delete(record.core.name);
  }

  /** Purges a primary now (ForceDeleteWithoutRecovery); its name is then held for the purge lag. */
  purge(record: SecretRecord, now: number): void {
    this.remove(record);
    this.notePurge(record, now);
  }

  /** While a purged name is still held: until when (ms). */
  purgingUntil(accountId: string, region: string, name: string, now: number): number | undefined {
    const key = `${accountId}|${region}|${name}`;
    const until = this.purging.get(key);
    if (until !== undefined && now >= until) this.purging.delete(key);
    return until !== undefined && now < until ? until : undefined;
  }

  private notePurge(record: SecretRecord, at: number): void {
    if (this.purgeLagMs > 0 && !record.isReplica) {
      this.purging.set(`${record.accountId}|${record.region}|${record.core.name}`, at + this.purgeLagMs);
    }
  }

  addReplica(primary: SecretRecord, region: string, kmsKeyId: string | undefined): SecretRecord {
    const record: SecretRecord = {
      accountId: primary.accountId,
      region,
      arn: secretArn(region, primary.accountId, primary.core.name, primary.core.suffix),
      core: primary.core,
      kmsKeyId,
      replicas: new Map(),
      isReplica: true,
    };
    this.space(primary.accountId, region).set(primary.core.name, record);
    return record;
  }

  /**
   * Resolves a SecretId (name, full ARN or partial ARN) in the caller's namespace.
   * Throws ValidationException for a bad name, AccessDeniedException for another account's ARN
   * (no resource policies here), ResourceNotFoundException otherwise.
   */
  resolve(
    ctx: { accountId: string; region: string; now: number; principalArn: string; operation: string },
    secretId: string,
  ): SecretRecord {
    const arn = SECRET_ARN.exec(secretId);
    if (arn === null) {
      if (!isValidName(secretId)) throw smErrors.invalidName();
      const record = this.byName(ctx.accountId, ctx.region, secretId, ctx.now);
      if (record === undefined) throw smErrors.secretNotFound();
      return record;
    }
    const [, , region, accountId, rest] = arn;
    if (accountId !== ctx.accountId) throw smErrors.accessDenied(ctx.principalArn, ctx.operation, secretId);
    if (region !== ctx.region) throw smErrors.secretNotFound();
    const records = this.all(ctx.accountId, ctx.region, ctx.now);
    // A full ARN first; then a partial ARN (no random suffix) naming the secret.
    const record = records.find((r) => r.arn === secretId) ?? records.find((r) => r.core.name === rest);
    if (record === undefined) throw smErrors.secretNotFound();
    return record;
  }
}

/** The version currently holding `label`, if any. */
export function versionWithStage(core: SecretCore, label: string): SecretVersion | undefined {
  for (const v of core.versions.values()) if (v.stages.includes(label)) return v;
  return undefined;
}

export function sameValue(v: SecretVersion, secretString: string | undefined, secretBinary: Buffer | undefined): boolean {
  if (secretString !== undefined) return v.secretString === secretString;
  if (secretBinary !== undefined) return v.secretBinary !== undefined && v.secretBinary.equals(secretBinary);
  return false;
}

/**
 * Attaches `label` to `target`, detaching it from wherever it was (a label names at most one
 * version). Moving AWSCURRENT applies the AWSPREVIOUS rule: the old holder loses only AWSCURRENT
 * and gains AWSPREVIOUS, which leaves any other version; all other labels stay where they are.
 */
export function moveStage(core: SecretCore, label: string, target: SecretVersion): void {
  const holder = versionWithStage(core, label);
  if (holder === target) return;
  if (holder !== undefined) holder.stages = holder.stages.filter((s) => s !== label);
  target.stages.push(label);
  if (label === AWSCURRENT && holder !== undefined) {
    const previous = versionWithStage(core, AWSPREVIOUS);
    if (previous !== undefined) previous.stages = previous.stages.filter((s) => s !== AWSPREVIOUS);
    if (!holder.stages.includes(AWSPREVIOUS)) holder.stages.push(AWSPREVIOUS);
  }
}

export function countDeprecated(core: SecretCore): number {
  let n = 0;
  for (const v of core.versions.values()) if (v.stages.length === 0) n += 1;
  return n;
}

/** Epoch seconds with a fractional part, as AWS sends timestamps. */
export function epochSeconds(ms: number): number {
  return ms / 1000;
}

/** LastAccessedDate has day granularity (midnight UTC). */
export function accessDay(ms: number): number {
  return Math.floor(ms / DAY_MS) * 86_400;
}
