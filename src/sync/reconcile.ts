import { createHash, createHmac, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { MountEntry } from '../kernel/entries.js';
import { RevisionConflict } from '../store/store.js';
import { OWNERSHIP_TAG, nowIso, type Association, type Destination, type SyncOperation, type TargetState } from './model.js';
import { externalNames } from './naming.js';
import { backoffMs, WriteBudget } from './pacing.js';
import {
  DeliveryError,
  configDigest as configDigestOf,
  type AdapterRegistry,
  type DestinationAdapter,
  type ExternalSecretSpec,
  type WriteClass,
} from './port.js';
import { splitDestinationRef, type Row, type SyncRecords } from './records.js';
import type { SecretSource, SecretState } from './source.js';

export interface ReconcileOptions {
  /** Per-secret minimum interval between value writes; changes within it coalesce. */
  minIntervalMs?: number;
  /** Per-destination budget per AWS quota group. */
  writesPerSecond?: number;
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** Consecutive transient failures before the status shows an error (delivery keeps retrying). */
  reportAfterAttempts?: number;
  /** Test hook: called after a provider call succeeded and before its outcome is recorded. */
  afterProviderCall?: (op: SyncOperation) => void | Promise<void>;
}

export interface ReconcilerDeps {
  records: SyncRecords;
  source: SecretSource;
  adapters: AdapterRegistry;
  mounts: { byAccessor(accessor: string): MountEntry | undefined };
  clock: () => number;
  log: Pick<Logger, 'warn' | 'debug'>;
}

/** What the worker does with the operation next: settle it, or run it again at `at` (Unix ms). */
export type ReconcileOutcome = { outcome: 'done' } | { outcome: 'retry'; at: number };

const DONE: ReconcileOutcome = { outcome: 'done' };
const retryAt = (at: number): ReconcileOutcome => ({ outcome: 'retry', at });

/** A UUID-shaped idempotency token: same association, incarnation, sub-key and version → same token. */
export function requestTokenFor(
  a: Pick<Association, 'dest_type' | 'dest_name' | 'accessor' | 'secret_name'>,
  incarnation: string,
  subKey: string,
  version: number,
): string {
  const h = createHash('sha256')
    .update([a.dest_type, a.dest_name, a.accessor, a.secret_name, incarnation, subKey, String(version)].join('\u0000'))
    .digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The external value of a secret (or of one key of it), as Vault's sync writes it. */
function externalValues(a: Association, data: Record<string, unknown>): Record<string, string> {
  if (a.granularity === 'secret-path') return { '': JSON.stringify(data) };
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
}

/**
 * Reconciliation of one association with its destination. It reads the latest state rather
 * than replaying each change, so queued operations for one association coalesce, retries are
 * safe, and a crash between an AWS call and recording its outcome only repeats a call whose
 * ClientRequestToken makes it a no-op. The write budget lives here, one per process.
 */
export class Reconciler {
  readonly opts: Required<Omit<ReconcileOptions, 'afterProviderCall'>> & Pick<ReconcileOptions, 'afterProviderCall'>;
  readonly budget: WriteBudget;

  constructor(
    readonly deps: ReconcilerDeps,
    options: ReconcileOptions = {},
  ) {
    this.opts = { minIntervalMs: 250, writesPerSecond: 45, backoffBaseMs: 200, backoffCapMs: 30_000, reportAfterAttempts: 3, ...options };
    this.budget = new WriteBudget(this.opts.writesPerSecond);
  }

  async reconcile(op: SyncOperation): Promise<ReconcileOutcome> {
    const row = await this.deps.records.associationOf(op);
    if (!row) return DONE;
    const { type, name } = splitDestinationRef(op.dest);
    const destination = (await this.deps.records.destination(type, name))?.value;
    if (!destination) return DONE;
    const delivery = new Delivery(this, op, row, destination);
    return row.value.removing ? delivery.unsyncAll() : delivery.syncAll();
  }
}

/**
 * One reconcile of one association: the record being rewritten (`next`), the earliest time
 * something must be tried again, and what AWS now holds per external name (`outcomes`), so that
 * a concurrent change to the association (a re-set, a remove) cannot make the worker forget a
 * secret it created or deleted.
 */
class Delivery {
  private readonly now: number;
  private readonly at: string;
  private readonly next: Association;
  private readonly adapter: DestinationAdapter;
  private readonly outcomes = new Map<string, Partial<TargetState>>();
  private deferUntil: number | undefined;
  private providerCalled = false;

  constructor(
    private readonly r: Reconciler,
    private readonly op: SyncOperation,
    private readonly row: Row<Association>,
    private readonly destination: Destination,
  ) {
    this.adapter = r.deps.adapters.adapterFor(destination);
    this.now = r.deps.clock();
    this.at = nowIso(this.now);
    this.next = structuredClone(row.value);
  }

  // ---- removal (association remove, destination purge) ------------------------------------

  /** Unsyncs every target, then forgets the association (and a purged destination with its last one). */
  async unsyncAll(): Promise<ReconcileOutcome> {
    const { next } = this;
    for (const [subKey, t] of Object.entries(next.targets)) {
      // A target never known to be written is checked too (by its tag): its write may have
      // happened without the outcome being recorded.
      if (t.status === 'UNSYNCED' && !t.owned) delete next.targets[subKey];
      else if (await this.removeTarget(t)) delete next.targets[subKey];
    }
    await this.afterProviderCalls();
    if (Object.keys(next.targets).length > 0) {
      const failed = Object.values(next.targets).find((t) => t.status.endsWith('_ERROR') && this.deferUntil === undefined);
      if (failed && this.destination.purge_initiated_at) {
        await this.r.deps.records.recordPurgeError(this.destination.type, this.destination.name, failed.last_error ?? failed.status);
      }
      await this.saveMerged();
      return this.deferUntil !== undefined ? retryAt(this.deferUntil) : DONE;
    }
    return this.forget();
  }

  private async forget(): Promise<ReconcileOutcome> {
    const { records } = this.r.deps;
    const a = this.row.value;
    const change = records.change().deleteAssociation(a, this.row.revision);
    if (this.destination.purge_initiated_at && !(await records.hasOtherAssociations(a))) change.deleteDestination(a.dest_type, a.dest_name);
    try {
      await change.commit();
    } catch (err) {
      if (err instanceof RevisionConflict) return retryAt(this.now);
      throw err;
    }
    return DONE;
  }

  // ---- sync -------------------------------------------------------------------------------

  /** Brings every target in line with the secret's latest state, then records the outcome. */
  async syncAll(): Promise<ReconcileOutcome> {
    const { next, op } = this;
    const state = await this.r.deps.source.read(op.accessor, op.secret_name);
    const values = state?.data ? externalValues(next, state.data) : {};
    next.salt ??= randomUUID();
    this.addNewKeys(values);
    const tags = { [OWNERSHIP_TAG]: '', ...this.destination.options.custom_tags };
    for (const [subKey, t] of Object.entries(next.targets)) {
      const retired = subKey.startsWith('retired:');
      const value = retired ? undefined : values[subKey];
      if (value === undefined) await this.unwant(subKey, t, retired, state);
      else if (!t.name.startsWith('invalid:')) await this.syncTarget(subKey, t, value, state!, tags);
    }
    await this.afterProviderCalls();
    this.logOutcome();
    if (!(await this.saveMerged())) return retryAt(this.now);
    return this.deferUntil !== undefined ? retryAt(this.deferUntil) : DONE;
  }

  /**
   * secret-key granularity: keys come and go with the secret's data. Each new key's name is
   * checked on its own, so one bad key shows an error without holding back the others.
   */
  private addNewKeys(values: Record<string, string>): void {
    const { next, at } = this;
    const mount = this.r.deps.mounts.byAccessor(this.op.accessor);
    if (next.granularity !== 'secret-key' || !mount) return;
    const taken = new Set(Object.values(next.targets).map((t) => t.name));
    for (const k of Object.keys(values).filter((key) => !next.targets[key])) {
      let name: string;
      let error: string | undefined;
      try {
        name = externalNames(this.destination, mount, next.secret_name, next.template, [k])[k]!;
        if (taken.has(name)) error = `key "${k}" would be synced to "${name}", which another key of this secret already uses`;
      } catch (err) {
        name = `invalid:${k}`;
        error = (err as Error).message;
      }
      taken.add(name);
      next.targets[k] = error
        ? { sub_key: k, name, status: 'CLIENT_SIDE_ERROR', last_error: error, updated_at: at, owned: false }
        : { sub_key: k, name, status: 'PENDING', updated_at: at, owned: false };
    }
  }

  /** A target not wanted at the destination any more: the secret (or this key) was deleted, or the target was renamed. */
  private async unwant(subKey: string, t: TargetState, retired: boolean, state: SecretState | undefined): Promise<void> {
    const uncertain = t.owned || (t.status !== 'UNSYNCED' && !t.name.startsWith('invalid:') && t.status !== 'CLIENT_SIDE_ERROR');
    if (uncertain && !(await this.removeTarget(t))) return;
    if (retired || (this.next.granularity === 'secret-key' && state?.data)) {
      delete this.next.targets[subKey];
    } else if (t.status !== 'UNSYNCED' || t.owned) {
      Object.assign(t, {
        status: 'UNSYNCED',
        updated_at: this.at,
        owned: false,
        arn: undefined,
        incarnation: undefined,
        version: undefined,
        attempts: 0,
        last_error: undefined,
        config_digest: undefined,
        value_digest: undefined,
      } satisfies Partial<TargetState>);
    }
  }

  /** Writes one target's value (or only its tags, KMS key and replicas) when AWS does not hold it yet. */
  private async syncTarget(subKey: string, t: TargetState, value: string, state: SecretState, tags: Record<string, string>): Promise<void> {
    const { now, destination } = this;
    const spec: ExternalSecretSpec = {
      name: t.name,
      value,
      requestToken: requestTokenFor(this.next, state.incarnation, subKey, state.version),
      tags,
      kmsKeyId: destination.connection.kms_key_id,
      replicaRegions: destination.connection.replica_regions,
    };
    const valueDigest = createHmac('sha256', this.next.salt!).update(value).digest('hex');
    const configDigest = configDigestOf(spec);
    // Nothing to write when AWS already holds this value with this configuration (a new KV
    // version with the same data, or another key of a secret-key secret changed).
    const valueHeld = t.owned && t.status === 'SYNCED' && t.incarnation === state.incarnation && t.value_digest === valueDigest;
    if (valueHeld && t.config_digest === configDigest) {
      t.version = state.version;
      return;
    }
    // Changes to a recently written secret wait for the minimum interval and then go out as one
    // write of the latest value. A secret that stays hot waits longer each time (up to 16×),
    // because every AWS write is a version and AWS keeps only about 100 recent ones.
    const interval = this.r.opts.minIntervalMs * 2 ** (t.hot_streak ?? 0);
    if (t.last_write_at !== undefined && now < t.last_write_at + interval && t.incarnation === state.incarnation) {
      this.defer(t.last_write_at + interval);
      return;
    }
    // Only tags, KMS key or replicas changed: no value write at all.
    if (!this.paced(valueHeld ? 'tag' : this.adapter.firstWriteClass({ owned: t.owned, arn: t.arn }))) return;
    try {
      const known = {
        owned: t.owned,
        arn: t.arn,
        configDigest: t.config_digest,
        appliedTags: t.applied_tags,
        appliedReplicas: t.applied_replicas,
        appliedKmsKeyId: t.applied_kms,
      };
      const outcome = valueHeld ? await this.adapter.reconfigure(spec, known) : await this.adapter.upsert(spec, known);
      this.providerCalled = true;
      const written: Partial<TargetState> = {
        owned: true,
        arn: outcome.arn,
        incarnation: state.incarnation,
        version: state.version,
        value_digest: valueDigest,
        config_digest: outcome.configDigest,
        applied_tags: outcome.appliedTags,
        applied_replicas: outcome.appliedReplicas,
        applied_kms: outcome.appliedKmsKeyId,
        // The write interval counts value writes only.
        ...(valueHeld
          ? {}
          : {
              hot_streak: t.last_write_at !== undefined && now - t.last_write_at < 2 * interval ? Math.min((t.hot_streak ?? 0) + 1, 4) : 0,
              last_write_at: now,
            }),
      };
      this.outcomes.set(t.name, written);
      Object.assign(t, written, { status: 'SYNCED', updated_at: this.at, last_error: undefined, attempts: 0 } satisfies Partial<TargetState>);
    } catch (err) {
      this.fail(t, err);
    }
  }

  // ---- shared steps -----------------------------------------------------------------------

  /** Deletes one target's external secret (an owned one only: the adapter checks the tag); true when gone. */
  private async removeTarget(t: TargetState): Promise<boolean> {
    if (!this.paced('delete')) return false;
    try {
      await this.adapter.remove(t.name, { owned: t.owned, arn: t.arn, appliedReplicas: t.applied_replicas });
      this.providerCalled = true;
      this.outcomes.set(t.name, { owned: false, arn: undefined });
      return true;
    } catch (err) {
      this.fail(t, err);
      return false;
    }
  }

  /** Takes a token of the destination's write budget, or defers until one is free. */
  private paced(group: WriteClass): boolean {
    const wait = this.r.budget.take(this.op.dest, group, this.now);
    if (wait > 0) this.defer(this.now + wait);
    return wait === 0;
  }

  private defer(ms: number): void {
    this.deferUntil = this.deferUntil === undefined ? ms : Math.min(this.deferUntil, ms);
  }

  /** Records a failed call: a final error shows at once; throttling and outages retry with backoff. */
  private fail(t: TargetState, err: unknown): void {
    const { opts } = this.r;
    const e = err instanceof DeliveryError ? err : new DeliveryError('transient', 'INTERNAL_VAULT_ERROR', 'Error', (err as Error).message);
    t.attempts = (t.attempts ?? 0) + 1;
    if (e.kind === 'final') {
      t.status = e.status;
      t.last_error = e.message;
      t.updated_at = this.at;
      return;
    }
    if (e.kind === 'transient' && t.attempts >= opts.reportAfterAttempts) {
      t.status = e.status === 'PENDING' ? 'EXTERNAL_SERVICE_ERROR' : e.status;
      t.last_error = e.message;
      t.updated_at = this.at;
    }
    const base = e.kind === 'throttled' ? opts.backoffBaseMs * 2 : opts.backoffBaseMs;
    this.defer(this.now + backoffMs(t.attempts, base, opts.backoffCapMs));
  }

  private async afterProviderCalls(): Promise<void> {
    if (this.providerCalled) await this.r.opts.afterProviderCall?.(this.op);
  }

  /** Names, statuses and provider error texts only: never values or credentials. */
  private logOutcome(): void {
    const { op } = this;
    for (const t of Object.values(this.next.targets)) {
      const fields = { destination: op.dest, accessor: op.accessor, secret: op.secret_name, sub_key: t.sub_key || undefined, status: t.status };
      if (t.status.endsWith('_ERROR')) this.r.deps.log.warn({ ...fields, error: t.last_error }, 'sync delivery failed');
      else this.r.deps.log.debug(fields, 'sync delivery');
    }
  }

  /**
   * Records the outcome. When the association changed meanwhile (a re-set, a remove), the
   * fresh record is kept and only what AWS now holds is merged into it, so that a created
   * secret is never forgotten (it would be left behind in AWS) and the item is re-run:
   * false then.
   */
  private async saveMerged(): Promise<boolean> {
    const { records } = this.r.deps;
    if (await records.saveAssociation(this.next, this.row.revision)) return true;
    for (let attempt = 0; attempt < 5 && this.outcomes.size > 0; attempt++) {
      const fresh = await records.associationOf(this.op);
      if (!fresh) return false;
      for (const t of Object.values(fresh.value.targets)) {
        const outcome = this.outcomes.get(t.name);
        if (outcome) Object.assign(t, outcome);
      }
      if (await records.saveAssociation(fresh.value, fresh.revision)) return false;
    }
    return false;
  }
}
