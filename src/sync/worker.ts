import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { OutboxItem, Store } from '../store/store.js';
import { SYNC_QUEUE, destinationOfOrderKey } from './model.js';
import { Doorbell } from './doorbell.js';
import { backoffMs } from './pacing.js';
import { settleOrLeave } from './settle.js';

export interface DeliveryLoopOptions {
  /** Claim lease; a crashed worker's claims become claimable again after it. */
  leaseMs?: number;
  /** Outbox items claimed per round. */
  batchSize?: number;
  /** Idle poll interval; enqueues also wake the worker at once through `notify()`. */
  pollMs?: number;
  /** Delay between being woken by an enqueue and claiming, so that bursts are claimed together. */
  wakeDelayMs?: number;
  /** Deliveries one destination may have running at once (so a slow one cannot fill the pool). */
  perDestinationInFlight?: number;
  /** Backoff of an operation whose delivery failed unexpectedly. */
  backoffBaseMs?: number;
  backoffCapMs?: number;
}

/** What the loop drives; wired in `index.ts`, so the loop knows no service, store layout or provider. */
export interface SyncWorkerDeps {
  store: Pick<Store, 'claimOutbox' | 'settleOutbox'>;
  clock: () => number;
  log: Pick<Logger, 'error'>;
  /** Nothing is delivered while sealed: the worker idles until unseal. */
  sealed(): boolean;
  /** Brings the stored records up to date (migrations) before the first round after unseal; cheap once done. */
  prepare(): Promise<void>;
  /** `sys/sync/config` `disabled`: operations are kept, none is claimed. */
  paused(): Promise<boolean>;
  /** Turns pending KV change events into sync operations; returns the number handled. */
  fanOut(): Promise<number>;
  /**
   * Until when a destination's operations wait without being reconciled (its AWS is being
   * probed and it is not the probe's turn); undefined when they may go. Cheap: no record is read.
   */
  parkedUntil?(destination: string, now: number): number | undefined;
  /** Runs a due drift repair pass of each destination (`drift.ts`); cheap when none is due. */
  repairDrift?(): Promise<void>;
  /** Reconciles the association a `sync` outbox payload refers to. */
  reconcile(payload: string): Promise<{ outcome: 'done' } | { outcome: 'retry'; at: number }>;
}

/** Thrown by a test hook to simulate a crash between the AWS call and recording its outcome. */
export class SimulatedCrash extends Error {}

/**
 * The delivery loop: it claims due `sync` operations with a lease, has each reconciled, and
 * settles it (done, or retry at a time). A continuous pool rather than rounds, so that one slow
 * destination (timeouts, a long adoption) never holds back another's deliveries; each
 * destination may have at most `perDestinationInFlight` deliveries running at once.
 */
export class SyncWorker {
  private readonly owner = `worker-${randomUUID()}`;
  private readonly opts: Required<DeliveryLoopOptions>;
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly doorbell: Doorbell;
  private readonly inFlight = new Set<number>();
  private readonly runningDeliveries = new Set<Promise<void>>();
  private readonly perDestination = new Map<string, number>();

  constructor(
    private readonly deps: SyncWorkerDeps,
    options: DeliveryLoopOptions = {},
  ) {
    this.opts = {
      leaseMs: 30_000,
      batchSize: 64,
      pollMs: 100,
      wakeDelayMs: 5,
      perDestinationInFlight: 64,
      backoffBaseMs: 200,
      backoffCapMs: 30_000,
      ...options,
    };
    this.doorbell = new Doorbell(this.opts.pollMs, this.opts.wakeDelayMs);
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
    this.doorbell.ring();
    await this.loop;
    this.loop = undefined;
  }

  /** Wakes the loop (called when something was enqueued). */
  notify(): void {
    this.doorbell.ring();
  }

  /** One round, awaited to the end: fan out KV changes, then deliver due sync operations. Returns items handled. */
  async drainOnce(): Promise<number> {
    const round = await this.startRound(this.opts.batchSize, true);
    await Promise.all(round.items.map((item) => this.deliverAndSettle(item, true)));
    return round.fannedOut + round.items.length;
  }

  private async run(): Promise<void> {
    while (this.running) {
      let progressed = false;
      try {
        progressed = await this.pump();
      } catch (err) {
        this.deps.log.error({ err: { message: (err as Error).message } }, 'sync worker round failed');
      }
      if (!this.running) break;
      if (!progressed) await this.doorbell.wait();
    }
    await Promise.allSettled([...this.runningDeliveries]);
  }

  /** Claims what the pool has room for and starts it; true when anything was done. */
  private async pump(): Promise<boolean> {
    const round = await this.startRound(this.opts.batchSize - this.inFlight.size);
    let progressed = round.fannedOut > 0;
    const now = this.deps.clock();
    for (const item of round.items) {
      const dest = destinationOfOrderKey(item.orderKey);
      const busy = this.perDestination.get(dest) ?? 0;
      if (busy >= this.opts.perDestinationInFlight) {
        await this.deps.store.settleOutbox(item.id, this.owner, { outcome: 'retry', availableAt: now + 20 });
        continue;
      }
      progressed = true;
      this.perDestination.set(dest, busy + 1);
      const delivery = this.deliverAndSettle(item).finally(() => {
        this.perDestination.set(dest, (this.perDestination.get(dest) ?? 1) - 1);
        this.runningDeliveries.delete(delivery);
        this.doorbell.ring();
      });
      this.runningDeliveries.add(delivery);
    }
    return progressed;
  }

  /** Nothing while sealed; otherwise migrate if needed, fan out KV changes, then claim up to `limit` due operations unless paused. */
  private async startRound(limit: number, awaitDrift = false): Promise<{ fannedOut: number; items: OutboxItem[] }> {
    if (this.deps.sealed()) return { fannedOut: 0, items: [] };
    await this.deps.prepare();
    const fannedOut = await this.deps.fanOut();
    if (await this.deps.paused()) return { fannedOut, items: [] };
    // The delivery loop does not wait for a pass (a listing of thousands of secrets takes a
    // while); a drained round does, so that a test sees its outcome.
    const drift = this.deps.repairDrift?.().catch((err: unknown) => {
      this.deps.log.error({ err: { message: (err as Error).message } }, 'sync drift repair pass failed');
    });
    if (awaitDrift) await drift;
    if (limit <= 0) return { fannedOut, items: [] };
    const claimed = await this.deps.store.claimOutbox(SYNC_QUEUE, this.owner, limit, this.opts.leaseMs, this.deps.clock(), { coalesce: true });
    return { fannedOut, items: claimed.filter((i) => !this.inFlight.has(i.id)) };
  }

  /** Reconciles one claimed item and settles it; an unexpected failure is retried with backoff. */
  private async deliverAndSettle(item: OutboxItem, rethrowCrash = false): Promise<void> {
    this.inFlight.add(item.id);
    try {
      const parkedUntil = this.deps.parkedUntil?.(destinationOfOrderKey(item.orderKey), this.deps.clock());
      if (parkedUntil !== undefined) {
        await this.deps.store.settleOutbox(item.id, this.owner, { outcome: 'retry', availableAt: parkedUntil });
        return;
      }
      const result = await this.deps.reconcile(item.payload);
      await settleOrLeave(
        this.deps,
        this.owner,
        item,
        result.outcome === 'done' ? { outcome: 'done', upTo: item.coalescedUpTo } : { outcome: 'retry', availableAt: result.at },
      );
    } catch (err) {
      if (err instanceof SimulatedCrash) {
        // The simulated process death: nothing is settled; the lease will hand the item to a restarted worker.
        if (rethrowCrash) throw err;
        this.running = false;
        return;
      }
      this.deps.log.error({ err: { message: (err as Error).message }, orderKey: item.orderKey }, 'sync delivery failed unexpectedly');
      const availableAt = this.deps.clock() + backoffMs(item.attempts, this.opts.backoffBaseMs, this.opts.backoffCapMs);
      await settleOrLeave(this.deps, this.owner, item, { outcome: 'retry', availableAt });
    } finally {
      this.inFlight.delete(item.id);
    }
  }
}
