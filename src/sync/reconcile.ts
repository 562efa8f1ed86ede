/**
 * Reconciliation of one association (over 400 lines on purpose: the removal and the sync of an
 * association share one record being rewritten and one merge on save, which read as one story
 * here; the per-name AWS steps are in `target-writes.ts`, the claims in `name-claims.ts`).
 */
import { createHmac, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { MountEntry } from '../kernel/entries.js';
import { RevisionConflict } from '../store/store.js';
import { DEFAULT_WRITE_BUDGET, nowIso, type Association, type Destination, type SyncOperation, type TargetState } from './model.js';
import { externalValues, requestTokenFor } from './external-values.js';
import { resolveClaimConflict } from './migration.js';
import { claimantOf, type NameClaims } from './name-claims.js';
import { externalNames } from './naming.js';
import { claimantRef, ownerTagValue, syncedSecretTags, type Claimant } from './ownership.js';
import type { DestinationMetrics, SyncMetrics } from '../metrics/index.js';
import { logTransitions, recordFailure, recordSuccess, type AttemptContext } from './attempts.js';
import { AdaptiveBudget } from './pacing.js';
import { configDigest as configDigestOf, type AdapterRegistry, type ExternalSecretSpec, type WriteClass } from './port.js';
import { splitDestinationRef, type Row, type SyncChange, type SyncRecords } from './records.js';
import type { SecretSource, SecretState } from './source.js';
import { TargetWrites, knownConfig, type Ownership } from './target-writes.js';

export interface ReconcileOptions {
  /** Per-secret minimum interval between value writes; changes within it coalesce. */
  minIntervalMs?: number;
  /**
   * Per-destination budget per AWS quota group (where it starts and regrows to), while
   * `sys/sync/config` sets no `write_budget_per_second`.
   */
  writesPerSecond?: number;
  /** How often a destination that is throttling or not answering is probed. */
  probeIntervalMs?: number;
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** Consecutive transient failures before the status shows an error (delivery keeps retrying). */
  reportAfterAttempts?: number;
  /** Test hook: called after each provider call that changed AWS, before anything records its outcome. */
  afterProviderCall?: (op: SyncOperation) => void | Promise<void>;
}

export interface ReconcilerDeps {
  records: SyncRecords;
  /** Which associations sync to each AWS name: a new key's name is claimed, a forgotten association's released. */
  claims: NameClaims;
  source: SecretSource;
  adapters: AdapterRegistry;
  mounts: { byAccessor(accessor: string): MountEntry | undefined };
  clock: () => number;
  log: Pick<Logger, 'warn' | 'info' | 'debug'>;
  /** This cluster's stable id, named in every owner tag. */
  clusterId(): Promise<string>;
  metrics?: SyncMetrics;
  /** The destinations' budgets; shared with the status summary. One per process unless given. */
  budget?: AdaptiveBudget;
  /** Makes a destination's parked operations due now (its AWS answers again). */
  release?: (destination: string) => void;
}

/** What the worker does with the operation next: settle it, or run it again at `at` (Unix ms). */
export type ReconcileOutcome = { outcome: 'done' } | { outcome: 'retry'; at: number };

const DONE: ReconcileOutcome = { outcome: 'done' };
const retryAt = (at: number): ReconcileOutcome => ({ outcome: 'retry', at });

/**
 * Reconciliation of one association with its destination. It reads the latest state rather
 * than replaying each change, so queued operations for one association coalesce, retries are
 * safe, and a crash between an AWS call and recording its outcome only repeats a call whose
 * ClientRequestToken makes it a no-op. The write budget lives here, one per process.
 */
export class Reconciler {
  readonly opts: Required<Omit<ReconcileOptions, 'afterProviderCall'>> & Pick<ReconcileOptions, 'afterProviderCall'>;
  readonly budget: AdaptiveBudget;

  constructor(
    readonly deps: ReconcilerDeps,
    options: ReconcileOptions = {},
  ) {
    this.opts = {
      minIntervalMs: 250,
      writesPerSecond: DEFAULT_WRITE_BUDGET,
      probeIntervalMs: 1000,
      backoffBaseMs: 200,
      backoffCapMs: 30_000,
      reportAfterAttempts: 3,
      ...options,
    };
    this.budget = deps.budget ?? new AdaptiveBudget({ perSecond: this.opts.writesPerSecond, probeIntervalMs: this.opts.probeIntervalMs });
  }

  async reconcile(op: SyncOperation): Promise<ReconcileOutcome> {
    const row = await this.deps.records.associationOf(op);
    if (!row) return DONE;
    const { type, name } = splitDestinationRef(op.dest);
    const destination = (await this.deps.records.destination(type, name))?.value;
    if (!destination) return DONE;
    const delivery = new Delivery(this, op, row, destination, await this.deps.clusterId());
    const outcome = row.value.removing ? await delivery.unsyncAll() : await delivery.syncAll();
    await delivery.writes.reportPermissions();
    return outcome;
  }
}

/**
 * One reconcile of one association: the record being rewritten (`next`), the earliest time
 * something must be tried again, and what AWS now holds per external name (`outcomes`), so that
 * a concurrent change to the association (a re-set, a remove) cannot make the worker forget what
 * it wrote. Whose each external secret is, is not in the association record: `TargetWrites`
 * reads and commits the ownership records, which outlive association changes.
 */
class Delivery {
  private readonly now: number;
  private readonly at: string;
  private readonly next: Association;
  readonly writes: TargetWrites;
  private readonly tags: Record<string, string>;
  private readonly outcomes = new Map<string, Partial<TargetState>>();
  /** Associations to re-queue once this one is gone: the other claimants of a secret it conflicted over. */
  private readonly claimantsToWake: Claimant[] = [];
  private deferUntil: number | undefined;
  /** The quota group of the call being made (for the budget's bookkeeping). */
  private group: WriteClass | undefined;
  private readonly metrics: DestinationMetrics | undefined;
  private hookFailure: unknown;
  private state: Promise<SecretState | undefined> | undefined;

  constructor(
    private readonly r: Reconciler,
    private readonly op: SyncOperation,
    private readonly row: Row<Association>,
    private readonly destination: Destination,
    clusterId: string,
  ) {
    this.now = r.deps.clock();
    this.at = nowIso(this.now);
    this.next = structuredClone(row.value);
    this.tags = syncedSecretTags(clusterId, destination);
    this.metrics = r.deps.metrics?.destination(destination.type, destination.name);
    this.writes = new TargetWrites({
      records: r.deps.records,
      adapter: r.deps.adapters.adapterFor(destination),
      destination,
      association: row.value,
      ownerTag: ownerTagValue(clusterId, destination),
      clock: r.deps.clock,
      afterCall: () => this.afterCall(),
    });
  }

  // ---- removal (association remove, destination purge) ------------------------------------

  /** Unsyncs every target, then forgets the association (and a purged destination with its last one). */
  async unsyncAll(): Promise<ReconcileOutcome> {
    const { next } = this;
    for (const [subKey, t] of Object.entries(next.targets)) {
      if (t.conflict_with) {
        // Not Ferry's alone: left in AWS for the other claimants, who may write it once this one is gone.
        this.claimantsToWake.push(...t.conflict_with);
        delete next.targets[subKey];
        continue;
      }
      const own = await this.writes.ownership(t);
      if (own.kind === 'none' || own.kind === 'elsewhere' || (await this.removeTarget(t, own))) delete next.targets[subKey];
    }
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
    await this.r.deps.claims.release(change, a, this.destination.connection.region);
    if (this.destination.purge_initiated_at && !(await records.hasOtherAssociations(a))) {
      change.deleteDestination(a.dest_type, a.dest_name).deleteOwnedOf(a.dest_type, a.dest_name);
    }
    this.wakeClaimants(change);
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
    const { next } = this;
    const state = await this.secretState();
    const values = state?.data ? externalValues(next, state.data) : {};
    next.salt ??= randomUUID();
    await this.addNewKeys(values);
    for (const [subKey, t] of Object.entries(next.targets)) {
      const retired = subKey.startsWith('retired:');
      const value = retired ? undefined : values[subKey];
      if (t.conflict_with && !(await resolveClaimConflict(this.r.deps.records, this.destination, next, t, this.at))) {
        // Renamed away while in conflict: left in AWS to the other claimants, who may write it now.
        if (retired) {
          this.claimantsToWake.push(...t.conflict_with);
          delete next.targets[subKey];
        }
        continue;
      }
      if (value === undefined) await this.unwant(subKey, t, retired, state);
      else if (!t.name.startsWith('invalid:')) await this.syncTarget(subKey, t, value, state!);
    }
    this.logOutcome();
    if (!(await this.saveMerged())) return retryAt(this.now);
    if (this.claimantsToWake.length > 0) await this.wakeClaimants(this.r.deps.records.change()).commit();
    return this.deferUntil !== undefined ? retryAt(this.deferUntil) : DONE;
  }

  /**
   * secret-key granularity: keys come and go with the secret's data. Each new key's name is
   * checked on its own, so one bad key shows an error without holding back the others. A name
   * another key of the secret, or another association (of this destination, or of one in the
   * same account and region), already syncs is a conflict on the new key: it is never written.
   */
  private async addNewKeys(values: Record<string, string>): Promise<void> {
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
        else error = await this.r.deps.claims.claimNewKey(this.destination, claimantOf(next), k, name);
      } catch (err) {
        name = `invalid:${k}`;
        error = (err as Error).message;
      }
      taken.add(name);
      // A key in error keeps no name: nothing is ever written for it until the association is set again.
      next.targets[k] = error
        ? { sub_key: k, name: `invalid:${k}`, status: 'CLIENT_SIDE_ERROR', last_error: error, updated_at: at }
        : { sub_key: k, name, status: 'PENDING', updated_at: at };
    }
  }

  /** A target not wanted at the destination any more: the secret (or this key) was deleted, or the target was renamed. */
  private async unwant(subKey: string, t: TargetState, retired: boolean, state: SecretState | undefined): Promise<void> {
    const own = t.name.startsWith('invalid:') ? ({ kind: 'none' } as const) : await this.writes.ownership(t);
    if ((own.kind === 'owned' || own.kind === 'creating') && !(await this.removeTarget(t, own))) return;
    if (retired || (this.next.granularity === 'secret-key' && state?.data)) {
      delete this.next.targets[subKey];
    } else if (t.status !== 'UNSYNCED') {
      Object.assign(t, {
        status: 'UNSYNCED',
        updated_at: this.at,
        incarnation: undefined,
        version: undefined,
        attempts: 0,
        last_error: undefined,
        config_digest: undefined,
        value_digest: undefined,
      } satisfies Partial<TargetState>);
    }
  }

  /** What AWS should hold for `t`, with `value`. */
  private specOf(subKey: string, t: TargetState, value: string, state: SecretState): ExternalSecretSpec {
    const c = this.destination.connection;
    return {
      name: t.name,
      value,
      requestToken: requestTokenFor(this.next, state.incarnation, subKey, state.version, t.drift ? (t.repairs ?? 0) + 1 : 0),
      tags: this.tags,
      kmsKeyId: c.kms_key_id,
      replicaRegions: c.replica_regions,
    };
  }

  /** Writes one target's value (or only its tags, KMS key and replicas) when AWS does not hold it yet. */
  private async syncTarget(subKey: string, t: TargetState, value: string, state: SecretState): Promise<void> {
    const { now } = this;
    const spec = this.specOf(subKey, t, value, state);
    const valueDigest = createHmac('sha256', this.next.salt!).update(value).digest('hex');
    const configDigest = configDigestOf(spec);
    const own = await this.writes.ownership(t);
    // Nothing to write when AWS already holds this value with this configuration (a new KV
    // version with the same data, or another key of a secret-key secret changed).
    const valueHeld = own.kind === 'owned' && t.status === 'SYNCED' && t.incarnation === state.incarnation && t.value_digest === valueDigest;
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
    if (!this.paced(valueHeld ? 'tag' : own.kind === 'owned' ? 'update' : 'create', t)) return;
    try {
      const outcome = await this.writes.write(t, spec, knownConfig(t), own, valueHeld);
      const written: Partial<TargetState> = {
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
        ...(outcome.versionId ? { aws_version_id: outcome.versionId } : {}),
        ...(t.drift ? { drift: undefined, last_repaired_at: this.at, repairs: (t.repairs ?? 0) + 1 } : {}),
        ...(this.writes.adopted.has(t.name) ? { adopted_at: this.at } : {}),
      };
      if (this.writes.adopted.has(t.name)) {
        this.r.deps.log.info(
          { destination: this.op.dest, mount_accessor: this.op.accessor, secret_path: this.op.secret_name, external_name: t.name },
          'sync adopted a pre-existing AWS secret (adopt=true): its previous value stays as AWSPREVIOUS',
        );
      }
      if (t.drift) this.metrics?.driftRepaired(t.drift);
      this.outcomes.set(t.name, written);
      Object.assign(t, written, { status: 'SYNCED', updated_at: this.at } satisfies Partial<TargetState>);
      this.succeeded(t, state.committedAt);
    } catch (err) {
      this.fail(t, err);
    } finally {
      this.r.budget.done(this.op.dest);
    }
  }

  // ---- shared steps -----------------------------------------------------------------------

  /** Re-queues the other claimants of the secrets this association gave up its claim on. */
  private wakeClaimants(change: SyncChange): SyncChange {
    for (const c of this.claimantsToWake) change.enqueueSync(claimantRef(c), 'ownership');
    return change;
  }

  /** The secret's latest state, read once per delivery. */
  private secretState(): Promise<SecretState | undefined> {
    this.state ??= this.r.deps.source.read(this.op.accessor, this.op.secret_name);
    return this.state;
  }

  /** Deletes one target's external secret (one Ferry owns: `TargetWrites` checks); true when gone. */
  private async removeTarget(t: TargetState, own: Ownership): Promise<boolean> {
    if (!this.paced('delete', t)) return false;
    const specFor = async () => {
      const state = await this.secretState();
      const value = state?.data ? externalValues(this.next, state.data)[t.sub_key] : undefined;
      return value === undefined ? undefined : this.specOf(t.sub_key, t, value, state!);
    };
    try {
      await this.writes.remove(t, own, knownConfig(t), specFor);
      this.outcomes.set(t.name, { value_digest: undefined, config_digest: undefined, incarnation: undefined, version: undefined, aws_version_id: undefined });
      this.succeeded(t, undefined);
      return true;
    } catch (err) {
      this.fail(t, err);
      return false;
    } finally {
      this.r.budget.done(this.op.dest);
    }
  }

  /**
   * Takes a token and an in-flight slot of the destination's write budget for `t`'s call, or
   * defers it to its turn (`pacing.ts`). True: the caller makes the call and frees the slot
   * (`budget.done`) in a `finally`, whatever the outcome — success, refusal, throttling, outage, crash.
   */
  private paced(group: WriteClass, t: TargetState): boolean {
    this.group = group;
    const wait = this.r.budget.take(this.op.dest, group, this.now, `${this.op.accessor}/${this.op.secret_name}\u0000${t.name}`);
    if (wait > 0) this.defer(this.now + wait);
    return wait === 0;
  }

  private defer(ms: number): void {
    this.deferUntil = this.deferUntil === undefined ? ms : Math.min(this.deferUntil, ms);
  }

  /** The bookkeeping of an attempt (`attempts.ts`): budget, metrics, and the target's error fields. */
  private attempt(): AttemptContext {
    const { opts, budget } = this.r;
    return {
      now: this.now,
      answeredAt: this.r.deps.clock(),
      destination: this.op.dest,
      group: this.group,
      budget,
      metrics: this.metrics,
      backoffBaseMs: opts.backoffBaseMs,
      backoffCapMs: opts.backoffCapMs,
      reportAfterAttempts: opts.reportAfterAttempts,
    };
  }

  private succeeded(t: TargetState, committedAt: number | undefined): void {
    if (recordSuccess(t, this.attempt(), committedAt)) this.r.deps.release?.(this.op.dest);
  }

  /** Records a failed call: a final error shows at once; throttling and outages are paced by the destination's budget. */
  private fail(t: TargetState, err: unknown): void {
    // The crash hook's failure is the simulated death of the process: nothing else may run.
    if (err === this.hookFailure) throw err;
    const retryAt = recordFailure(t, err, this.attempt());
    if (retryAt !== undefined) this.defer(retryAt);
  }

  private async afterCall(): Promise<void> {
    try {
      await this.r.opts.afterProviderCall?.(this.op);
    } catch (err) {
      this.hookFailure = err;
      throw err;
    }
  }

  /** Names, statuses and provider error texts only: never values or credentials. */
  private logOutcome(): void {
    logTransitions(this.r.deps.log, this.op.dest, this.row.value, this.next);
  }

  /**
   * Records the outcome. When the association changed meanwhile (a re-set, a remove), the
   * fresh record is kept and only what AWS now holds is merged into it, and the item is re-run:
   * false then. (Whose each secret is, is already committed in the ownership records.)
   */
  private async saveMerged(): Promise<boolean> {
    const { records } = this.r.deps;
    // Nothing changed (a delivery deferred to its turn in the budget, or to its write interval):
    // no commit, so that waiting costs no write — a hot secret is deferred at each of its changes.
    if (this.outcomes.size === 0 && JSON.stringify(this.next) === JSON.stringify(this.row.value)) return true;
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
