import { createHash, createHmac, randomUUID } from 'node:crypto';
import type { Core } from '../core.js';
import type { MountEntry } from '../kernel/entries.js';
import { RevisionConflict, type OutboxItem, type OutboxSettlement, type WriteOp } from '../store/store.js';
import { readSyncConfig } from './config.js';
import {
  KV_EVENTS_QUEUE,
  SYNC_QUEUE,
  keys,
  nowIso,
  type Association,
  type Destination,
  type SyncOperation,
  type TargetState,
  OWNERSHIP_TAG,
} from './model.js';
import { externalNames } from './naming.js';
import { backoffMs, WriteBudget } from './pacing.js';
import { DeliveryError, configDigest as configDigestOf, type AdapterRegistry, type ExternalSecretSpec } from './port.js';
import { syncOp, type SyncService } from './service.js';
import type { SecretSource } from './source.js';

export interface SyncWorkerOptions {
  /** Claim lease; a crashed worker's claims become claimable again after it. */
  leaseMs?: number;
  /** Outbox items claimed per round. */
  batchSize?: number;
  /** Idle poll interval; enqueues also wake the worker at once through `notify()`. */
  pollMs?: number;
  /** Delay between being woken by an enqueue and claiming, so that bursts are claimed together. */
  wakeDelayMs?: number;
  /** Per-secret minimum interval between value writes; changes within it coalesce. */
  minIntervalMs?: number;
  /** Deliveries one destination may have running at once (so a slow one cannot fill the pool). */
  perDestinationInFlight?: number;
  /** Per-destination budget per AWS quota group. */
  writesPerSecond?: number;
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** Consecutive transient failures before the status shows an error (delivery keeps retrying). */
  reportAfterAttempts?: number;
  /**
   * How often associated secrets are checked for a `delete_version_after` expiry nobody has
   * read yet (the KV engine reports an expiry when it first observes it).
   */
  expirySweepMs?: number;
  /** Test hook: called after a provider call succeeded and before its outcome is recorded. */
  afterProviderCall?: (op: SyncOperation) => void | Promise<void>;
}

/** Thrown by a test hook to simulate a crash between the AWS call and recording its outcome. */
export class SimulatedCrash extends Error {}

const parse = <T>(b: Buffer): T => JSON.parse(b.toString('utf8')) as T;
const json = (v: unknown) => Buffer.from(JSON.stringify(v));

/** A UUID-shaped idempotency token: same association, incarnation, sub-key and version → same token. */
export function requestTokenFor(a: Pick<Association, 'dest_type' | 'dest_name' | 'accessor' | 'secret_name'>, incarnation: string, subKey: string, version: number): string {
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
 * The one owner of delivery to destinations. It consumes two outbox queues:
 * `kv-events` (a KV secret changed: fan out to its associations) and `sync` (reconcile
 * one association with its destination). Reconciling reads the latest state rather than
 * replaying each change, so queued operations for one association coalesce, retries are
 * safe, and a crash between an AWS call and recording its outcome only repeats a call
 * whose ClientRequestToken makes it a no-op.
 */
export class SyncWorker {
  private readonly owner = `worker-${randomUUID()}`;
  private readonly opts: Required<Omit<SyncWorkerOptions, 'afterProviderCall'>> & Pick<SyncWorkerOptions, 'afterProviderCall'>;
  private readonly budget: WriteBudget;
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private readonly inFlight = new Set<number>();
  private lastSweep = 0;

  constructor(
    private readonly core: Core,
    private readonly sync: SyncService,
    private readonly source: SecretSource,
    private readonly adapters: AdapterRegistry,
    options: SyncWorkerOptions = {},
    /** Reports an unreported expiry of a secret's current version (the KV engine's `observeExpiry`). */
    private readonly expiry: (core: Core, mount: MountEntry, path: string) => Promise<unknown> = async () => undefined,
  ) {
    this.opts = {
      leaseMs: 30_000,
      batchSize: 64,
      pollMs: 100,
      wakeDelayMs: 5,
      perDestinationInFlight: 64,
      minIntervalMs: 250,
      writesPerSecond: 45,
      backoffBaseMs: 200,
      backoffCapMs: 30_000,
      reportAfterAttempts: 3,
      expirySweepMs: 30_000,
      ...options,
    };
    this.budget = new WriteBudget(this.opts.writesPerSecond);
  }

  /** Starts the delivery loop. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Stops after the current round; claimed but unfinished items are released by their lease. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    this.loop = undefined;
  }

  /** Wakes the loop (called when something was enqueued). */
  notify(): void {
    this.wake?.();
  }

  /**
   * The delivery loop: a continuous pool rather than rounds, so that one slow destination
   * (timeouts, a long adoption) never holds back another's deliveries. Each destination may
   * have at most `perDestinationInFlight` deliveries running at once.
   */
  private async run(): Promise<void> {
    while (this.running) {
      let progressed = false;
      try {
        progressed = await this.pump();
      } catch (err) {
        this.core.log.error({ err: { message: (err as Error).message } }, 'sync worker round failed');
      }
      if (!this.running) break;
      if (!progressed) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.opts.pollMs);
          this.wake = () => {
            // A short pause lets a burst of enqueues be claimed as one batch.
            clearTimeout(timer);
            setTimeout(resolve, this.opts.wakeDelayMs);
          };
        });
        this.wake = undefined;
      }
    }
    await Promise.allSettled([...this.runningDeliveries]);
  }

  private readonly runningDeliveries = new Set<Promise<void>>();
  private readonly perDestination = new Map<string, number>();

  /** Claims what the pool has room for and starts it; true when anything was done. */
  private async pump(): Promise<boolean> {
    const round = await this.startRound(this.opts.batchSize - this.inFlight.size);
    let progressed = round.fannedOut > 0;
    const now = this.core.clock();
    for (const item of round.items) {
      const dest = item.orderKey.slice(0, item.orderKey.indexOf('|'));
      const busy = this.perDestination.get(dest) ?? 0;
      if (busy >= this.opts.perDestinationInFlight) {
        await this.core.store.settleOutbox(item.id, this.owner, { outcome: 'retry', availableAt: now + 20 });
        continue;
      }
      progressed = true;
      this.perDestination.set(dest, busy + 1);
      const delivery = this.deliverAndSettle(item).finally(() => {
        this.perDestination.set(dest, (this.perDestination.get(dest) ?? 1) - 1);
        this.runningDeliveries.delete(delivery);
        this.wake?.();
      });
      this.runningDeliveries.add(delivery);
    }
    return progressed;
  }

  /** One round, awaited to the end: fan out KV changes, then deliver due sync operations. Returns items handled. */
  async drainOnce(): Promise<number> {
    const round = await this.startRound(this.opts.batchSize);
    await Promise.all(round.items.map((item) => this.deliverAndSettle(item, true)));
    return round.fannedOut + round.items.length;
  }

  /**
   * The common start of a round: nothing while sealed; otherwise report expiries, fan out KV
   * changes, and claim up to `limit` due sync operations unless delivery is disabled.
   */
  private async startRound(limit: number): Promise<{ fannedOut: number; items: OutboxItem[] }> {
    if (this.core.seal.status().sealed) return { fannedOut: 0, items: [] };
    await this.sweepExpiries();
    const fannedOut = await this.fanOut();
    if (limit <= 0 || (await readSyncConfig(this.core.store)).disabled) return { fannedOut, items: [] };
    const claimed = await this.core.store.claimOutbox(SYNC_QUEUE, this.owner, limit, this.opts.leaseMs, this.core.clock(), { coalesce: true });
    return { fannedOut, items: claimed.filter((i) => !this.inFlight.has(i.id)) };
  }

  /** Delivers one claimed item and settles it; an unexpected failure is retried with backoff. */
  private async deliverAndSettle(item: OutboxItem, rethrowCrash = false): Promise<void> {
    this.inFlight.add(item.id);
    try {
      const settlement = await this.deliver(item);
      await this.core.store.settleOutbox(item.id, this.owner, settlement);
    } catch (err) {
      if (err instanceof SimulatedCrash) {
        // The simulated process death: nothing is settled; the lease will hand the item to a restarted worker.
        if (rethrowCrash) throw err;
        this.running = false;
        return;
      }
      this.core.log.error({ err: { message: (err as Error).message }, orderKey: item.orderKey }, 'sync delivery failed unexpectedly');
      await this.core.store.settleOutbox(item.id, this.owner, {
        outcome: 'retry',
        availableAt: this.core.clock() + backoffMs(item.attempts, this.opts.backoffBaseMs, this.opts.backoffCapMs),
      });
    } finally {
      this.inFlight.delete(item.id);
    }
  }

  /** Lets the KV engine report expiries of associated secrets, which then flow in as KV events. */
  private async sweepExpiries(): Promise<void> {
    const now = this.core.clock();
    if (now - this.lastSweep < this.opts.expirySweepMs) return;
    this.lastSweep = now;
    for (const { accessor, secret } of await this.sync.allAssociationsBySecret()) {
      const mount = this.core.mounts.byAccessor(accessor);
      if (mount) await this.expiry(this.core, mount, secret);
    }
  }

  /**
   * KV change → one sync operation per association of that secret. A whole claimed batch is
   * handled in one commit (its new operations plus the settlement of its events), and secrets
   * of mounts without any association are settled without a lookup: most KV writes are not synced.
   */
  private async fanOut(): Promise<number> {
    // Read, fan out and remove in one commit: no claim is needed, and a crash repeats nothing.
    const events = await this.core.store.pendingOutbox(KV_EVENTS_QUEUE, 256);
    if (events.length === 0) return 0;
    const syncedMounts = new Set((await this.core.store.list(keys.bySecretAll)).map((a) => a.replace(/\/$/, '')));
    const ops: WriteOp[] = [];
    const seen = new Set<string>();
    for (const event of events) {
      // Several events of one secret need one lookup: the reconcile reads the latest state.
      if (seen.has(event.orderKey)) continue;
      seen.add(event.orderKey);
      const payload = JSON.parse(event.payload) as { mountAccessor: string; path: string };
      if (syncedMounts.has(payload.mountAccessor)) {
        const associations = await this.sync.destinationsOfSecret(payload.mountAccessor, payload.path);
        for (const a of associations) if (!a.removing) ops.push(syncOp(a, 'kv-change'));
      }
    }
    ops.push({ kind: 'dequeue', ids: events.map((e) => e.id) });
    await this.core.store.commit(ops);
    return events.length;
  }

  private retryAt(ms: number): OutboxSettlement {
    return { outcome: 'retry', availableAt: ms };
  }

  /** Reconciles one association with its destination. */
  private async deliver(item: OutboxItem): Promise<OutboxSettlement> {
    const op = JSON.parse(item.payload) as SyncOperation;
    const [type, ...rest] = op.dest.split('/');
    const destName = rest.join('/');
    const key = keys.association(type!, destName, op.accessor, op.secret_name);
    const row = await this.core.store.get(key);
    const done: OutboxSettlement = { outcome: 'done', upTo: item.coalescedUpTo };
    if (!row) return done;
    const association = parse<Association>(row.value);
    const destRow = await this.core.store.get(keys.destination(type!, destName));
    if (!destRow) return done;
    const destination = parse<Destination>(destRow.value);
    const adapter = this.adapters.adapterFor(destination);
    const now = this.core.clock();
    const at = nowIso(now);
    const next = structuredClone(association);
    let deferUntil: number | undefined;
    const defer = (ms: number) => {
      deferUntil = deferUntil === undefined ? ms : Math.min(deferUntil, ms);
    };
    const onError = (t: TargetState, err: unknown) => {
      const e = err instanceof DeliveryError ? err : new DeliveryError('transient', 'INTERNAL_VAULT_ERROR', 'Error', (err as Error).message);
      t.attempts = (t.attempts ?? 0) + 1;
      if (e.kind === 'final') {
        t.status = e.status;
        t.last_error = e.message;
        t.updated_at = at;
        return;
      }
      if (e.kind === 'transient' && t.attempts >= this.opts.reportAfterAttempts) {
        t.status = e.status === 'PENDING' ? 'EXTERNAL_SERVICE_ERROR' : e.status;
        t.last_error = e.message;
        t.updated_at = at;
      }
      defer(now + backoffMs(t.attempts, e.kind === 'throttled' ? this.opts.backoffBaseMs * 2 : this.opts.backoffBaseMs, this.opts.backoffCapMs));
    };
    const paced = (group: Parameters<WriteBudget['take']>[1]): boolean => {
      const wait = this.budget.take(op.dest, group, now);
      if (wait > 0) defer(now + wait);
      return wait === 0;
    };
    let providerCalled = false;
    // What AWS now holds per external name, so that a concurrent change to the association
    // (a re-set, a remove) cannot make the worker forget a secret it created or deleted.
    const outcomes = new Map<string, Partial<TargetState>>();
    const removeTarget = async (t: TargetState): Promise<boolean> => {
      if (!paced('delete')) return false;
      try {
        await adapter.remove(t.name, { owned: t.owned, arn: t.arn, appliedReplicas: t.applied_replicas });
        providerCalled = true;
        outcomes.set(t.name, { owned: false, arn: undefined });
        return true;
      } catch (err) {
        onError(t, err);
        return false;
      }
    };

    // Removal (association remove, destination purge): unsync every target, then forget.
    if (association.removing) {
      for (const [subKey, t] of Object.entries(next.targets)) {
        // A target never known to be written is checked too (by its tag): its write may have
        // happened without the outcome being recorded.
        if (t.status === 'UNSYNCED' && !t.owned) delete next.targets[subKey];
        else if (await removeTarget(t)) delete next.targets[subKey];
      }
      if (providerCalled) await this.opts.afterProviderCall?.(op);
      if (Object.keys(next.targets).length > 0) {
        const failed = Object.values(next.targets).find((t) => t.status.endsWith('_ERROR') && deferUntil === undefined);
        if (failed && destination.purge_initiated_at) await this.recordPurgeError(type!, destName, failed.last_error ?? failed.status);
        await this.saveMerged(key, row.revision, next, outcomes);
        return deferUntil !== undefined ? this.retryAt(deferUntil) : done;
      }
      const ops: WriteOp[] = [
        { kind: 'delete', key },
        { kind: 'delete', key: keys.bySecret(op.accessor, op.secret_name, type!, destName) },
      ];
      if (destination.purge_initiated_at && !(await this.hasOtherAssociations(type!, destName, key))) {
        ops.push({ kind: 'delete', key: keys.destination(type!, destName) });
      }
      try {
        await this.core.store.commit(ops, [{ key, revision: row.revision }]);
      } catch (err) {
        if (err instanceof RevisionConflict) return this.retryAt(now);
        throw err;
      }
      return done;
    }

    const state = await this.source.read(op.accessor, op.secret_name);
    const values = state?.data ? externalValues(association, state.data) : {};
    const mount = this.core.mounts.byAccessor(op.accessor);
    next.salt ??= randomUUID();

    // secret-key granularity: keys come and go with the secret's data. Each new key's name is
    // checked on its own, so one bad key shows an error without holding back the others.
    if (association.granularity === 'secret-key' && mount) {
      const taken = new Set(Object.values(next.targets).map((t) => t.name));
      for (const k of Object.keys(values).filter((key) => !next.targets[key])) {
        let name: string;
        let error: string | undefined;
        try {
          name = externalNames(destination, mount, association.secret_name, association.template, [k])[k]!;
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

    const tags = { [OWNERSHIP_TAG]: '', ...destination.options.custom_tags };
    for (const [subKey, t] of Object.entries(next.targets)) {
      const retired = subKey.startsWith('retired:');
      const value = retired ? undefined : values[subKey];
      if (value === undefined) {
        // Not wanted at the destination any more: the secret (or this key) was deleted, or the target was renamed.
        const uncertain = t.owned || (t.status !== 'UNSYNCED' && !t.name.startsWith('invalid:') && t.status !== 'CLIENT_SIDE_ERROR');
        if (uncertain && !(await removeTarget(t))) continue;
        if (retired || (association.granularity === 'secret-key' && state?.data)) {
          delete next.targets[subKey];
        } else if (t.status !== 'UNSYNCED' || t.owned) {
          Object.assign(t, { status: 'UNSYNCED', updated_at: at, owned: false, arn: undefined, incarnation: undefined, version: undefined, attempts: 0, last_error: undefined, config_digest: undefined, value_digest: undefined });
        }
        continue;
      }
      if (t.name.startsWith('invalid:')) continue;
      const spec: ExternalSecretSpec = {
        name: t.name,
        value,
        requestToken: requestTokenFor(association, state!.incarnation, subKey, state!.version),
        tags,
        kmsKeyId: destination.connection.kms_key_id,
        replicaRegions: destination.connection.replica_regions,
      };
      const valueDigest = createHmac('sha256', next.salt).update(value).digest('hex');
      const configDigest = configDigestOf(spec);
      // Nothing to write when AWS already holds this value with this configuration (a new KV
      // version with the same data, or another key of a secret-key secret changed).
      if (t.owned && t.status === 'SYNCED' && t.incarnation === state!.incarnation && t.value_digest === valueDigest && t.config_digest === configDigest) {
        t.version = state!.version;
        continue;
      }
      // Changes to a recently written secret wait for the minimum interval and then go out as one
      // write of the latest value. A secret that stays hot waits longer each time (up to 16×),
      // because every AWS write is a version and AWS keeps only about 100 recent ones.
      const interval = this.intervalFor(t);
      if (t.last_write_at !== undefined && now < t.last_write_at + interval && t.incarnation === state!.incarnation) {
        defer(t.last_write_at + interval);
        continue;
      }
      // Only tags, KMS key or replicas changed: no value write at all.
      const valueHeld = t.owned && t.status === 'SYNCED' && t.incarnation === state!.incarnation && t.value_digest === valueDigest;
      if (!paced(valueHeld ? 'tag' : adapter.firstWriteClass({ owned: t.owned, arn: t.arn }))) continue;
      try {
        const known = {
          owned: t.owned,
          arn: t.arn,
          configDigest: t.config_digest,
          appliedTags: t.applied_tags,
          appliedReplicas: t.applied_replicas,
          appliedKmsKeyId: t.applied_kms,
        };
        const outcome = valueHeld ? await adapter.reconfigure(spec, known) : await adapter.upsert(spec, known);
        providerCalled = true;
        const written: Partial<TargetState> = {
          owned: true,
          arn: outcome.arn,
          incarnation: state!.incarnation,
          version: state!.version,
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
        outcomes.set(t.name, written);
        Object.assign(t, written, { status: 'SYNCED', updated_at: at, last_error: undefined, attempts: 0 } satisfies Partial<TargetState>);
      } catch (err) {
        onError(t, err);
      }
    }
    if (providerCalled) await this.opts.afterProviderCall?.(op);
    // Names, statuses and provider error texts only: never values or credentials.
    for (const t of Object.values(next.targets)) {
      const fields = { destination: op.dest, accessor: op.accessor, secret: op.secret_name, sub_key: t.sub_key || undefined, status: t.status };
      if (t.status.endsWith('_ERROR')) this.core.log.warn({ ...fields, error: t.last_error }, 'sync delivery failed');
      else this.core.log.debug(fields, 'sync delivery');
    }
    const saved = await this.saveMerged(key, row.revision, next, outcomes);
    if (!saved) return this.retryAt(now);
    return deferUntil !== undefined ? this.retryAt(deferUntil) : done;
  }

  /** Whether a destination has associations besides the one stored at `own`, with two indexed listings. */
  private async hasOtherAssociations(type: string, name: string, own: string): Promise<boolean> {
    const prefix = keys.associationPrefix(type, name);
    const accessors = await this.core.store.list(prefix);
    if (accessors.length !== 1) return accessors.length > 1;
    const secrets = await this.core.store.list(prefix + accessors[0]);
    if (secrets.length !== 1) return secrets.length > 1;
    return prefix + accessors[0] + secrets[0] !== own;
  }

  /** Shows a purge that cannot finish on the destination (`purge_error`), for the operator to fix. */
  private async recordPurgeError(type: string, name: string, error: string): Promise<void> {
    const key = keys.destination(type, name);
    const row = await this.core.store.get(key);
    if (!row) return;
    const dest = parse<Destination>(row.value);
    if (dest.purge_error === error) return;
    dest.purge_error = error;
    try {
      await this.core.store.commit([{ kind: 'put', key, value: json(dest) }], [{ key, revision: row.revision }]);
    } catch (err) {
      if (!(err instanceof RevisionConflict)) throw err;
    }
  }

  /**
   * Records the outcome. When the association changed meanwhile (a re-set, a remove), the
   * fresh record is kept and only what AWS now holds is merged into it, so that a created
   * secret is never forgotten (it would be left behind in AWS) and the item is re-run.
   */
  private async saveMerged(key: string, revision: number, next: Association, outcomes: Map<string, Partial<TargetState>>): Promise<boolean> {
    if (await this.save(key, revision, next)) return true;
    for (let attempt = 0; attempt < 5 && outcomes.size > 0; attempt++) {
      const row = await this.core.store.get(key);
      if (!row) return false;
      const fresh = parse<Association>(row.value);
      for (const t of Object.values(fresh.targets)) {
        const outcome = outcomes.get(t.name);
        if (outcome) Object.assign(t, outcome);
      }
      if (await this.save(key, row.revision, fresh)) return false;
    }
    return false;
  }

  /** The minimum interval before this target's next value write: doubled per consecutive hot write. */
  private intervalFor(t: TargetState): number {
    return this.opts.minIntervalMs * 2 ** (t.hot_streak ?? 0);
  }

  /** Records the outcome; false when the association changed meanwhile (the item is re-run). */
  private async save(key: string, revision: number, association: Association): Promise<boolean> {
    try {
      await this.core.store.commit([{ kind: 'put', key, value: json(association) }], [{ key, revision }]);
      return true;
    } catch (err) {
      if (err instanceof RevisionConflict) return false;
      throw err;
    }
  }
}

