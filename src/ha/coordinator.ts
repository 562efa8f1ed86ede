import type { Logger } from 'pino';
import type { HaLeaderRecord, HaLockBackend, HaNodeAdvert } from '../store/ha-lock.js';

/** How a standby reaches the active node: the forwarder's echo over the cluster channel. */
export interface EchoResult {
  /** The active node's clock when it answered, ms epoch. */
  serverTime: number;
}

export interface HaCoordinatorDeps {
  lock: HaLockBackend;
  /** This node as it advertises itself; read on every use (the API address is known once listening). */
  self(): HaNodeAdvert;
  /** A sealed node never holds the lock. */
  sealed(): boolean;
  /** Called while sealed and not initialised: another node may have initialised the shared storage. */
  refreshSeal?(): Promise<void>;
  /** Becoming active: reload what standbys may hold stale, start the workers. A throw gives the lock back. */
  onActive(leader: HaLeaderRecord): Promise<void>;
  /** No longer active: stop the workers (awaited before the lock is given back on a step-down). */
  onStandby(): Promise<void>;
  /** One echo to the active node's cluster address. */
  echo(clusterAddr: string): Promise<EchoResult>;
  clock: () => number;
  log: Pick<Logger, 'info' | 'warn' | 'error' | 'debug'>;
}

export interface HaTiming {
  /** A standby tries the lock every `tickMs` plus up to `tickJitterMs` (spreads the tries of several standbys). */
  tickMs: number;
  tickJitterMs: number;
  /** How often a node refreshes its row of the node table. */
  heartbeatMs: number;
  /** How often a standby echoes the active node (`sys/health`'s 474, `echo_duration_ms`). */
  echoMs: number;
  /** After `sys/step-down`, the node does not compete for this long (Vault: 10 s). */
  stepDownCooldownMs: number;
}

export const DEFAULT_HA_TIMING: HaTiming = { tickMs: 250, tickJitterMs: 250, heartbeatMs: 1000, echoMs: 1000, stepDownCooldownMs: 10_000 };

/** What a standby knows of its link to the active node. */
export interface StandbyLink {
  /** The last echo succeeded recently (within three echo periods). */
  healthy: boolean;
  echoDurationMs: number;
  clockSkewMs: number;
  /** ms epoch of the last successful echo; 0 if none. */
  lastEcho: number;
}

/** The HA state the `sys/` endpoints and the request forwarder read. */
export interface HaView {
  /** `ha_enabled`: false on a single node (SQLite). */
  readonly enabled: boolean;
  /** Whether this node is the active one (always on a single node). */
  isActive(): boolean;
  /** When this node became active (ms epoch); undefined while standby. */
  activeSince(): number | undefined;
  /** The active node as last read from storage; undefined when unknown. */
  leader(): HaLeaderRecord | undefined;
  /** This node's id. */
  nodeId(): string;
  standbyLink(): StandbyLink;
  /** `sys/step-down` on the active node: give the lock up and stay out for a cool-down. */
  stepDown(): Promise<void>;
  /** The nodes of the cluster heard from recently (`sys/ha-status`). */
  nodes(): Promise<Array<HaNodeAdvert & { lastEcho: number; active: boolean }>>;
}

/** The view of a server without HA: always active, no other node. */
export const SINGLE_NODE: HaView = {
  enabled: false,
  isActive: () => true,
  activeSince: () => undefined,
  leader: () => undefined,
  nodeId: () => '',
  standbyLink: () => ({ healthy: true, echoDurationMs: 0, clockSkewMs: 0, lastEcho: 0 }),
  stepDown: async () => undefined,
  nodes: async () => [],
};

/** Node rows older than this are left out of `sys/ha-status`. */
const NODE_LISTING_WINDOW_MS = 30_000;

/**
 * The HA state machine of one node. A loop (every 250–500 ms) keeps it in one of two states:
 * - standby: while unsealed and not cooling down after a step-down, tries the lock; reads the
 *   leader record (where to forward); echoes the active node;
 * - active: checks on the lock's own connection that the lock is still its own. The lock's
 *   connection failing (database restarted, network cut) steps the node down at once, without
 *   waiting for the loop; so does sealing it.
 * Promotion and demotion are serialised; the workers run exactly while the node is active.
 */
export class HaCoordinator implements HaView {
  readonly enabled = true;
  private active = false;
  private since: number | undefined;
  private current: HaLeaderRecord | undefined;
  private cooldownUntil = 0;
  private lastHeartbeat = 0;
  private link: StandbyLink = { healthy: false, echoDurationMs: 0, clockSkewMs: 0, lastEcho: 0 };
  private echoing = false;
  private lastEchoAttempt = 0;
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private transitions: Promise<unknown> = Promise.resolve();
  private lastProblem = '';
  /** Counts the lock connection's failures: a promotion the lock was lost during is void. */
  private lockLosses = 0;
  private readonly timing: HaTiming;

  constructor(
    private readonly deps: HaCoordinatorDeps,
    timing: Partial<HaTiming> = {},
  ) {
    this.timing = { ...DEFAULT_HA_TIMING, ...timing };
    deps.lock.onConnectionLost((err) => {
      this.lockLosses++;
      if (!this.active) return;
      // No waiting for the loop: the lock is already gone, another node may be taking over.
      void this.demote(`the database connection holding the lock failed (${err.message})`, false);
    });
  }

  isActive(): boolean {
    return this.active;
  }
  activeSince(): number | undefined {
    return this.active ? this.since : undefined;
  }
  leader(): HaLeaderRecord | undefined {
    return this.current;
  }
  nodeId(): string {
    return this.deps.self().nodeId;
  }
  standbyLink(): StandbyLink {
    const healthy = this.link.lastEcho > 0 && this.deps.clock() - this.link.lastEcho <= 3 * this.timing.echoMs;
    return { ...this.link, healthy };
  }

  async nodes(): Promise<Array<HaNodeAdvert & { lastEcho: number; active: boolean }>> {
    const rows = await this.deps.lock.nodes(NODE_LISTING_WINDOW_MS);
    const leaderId = this.active ? this.nodeId() : this.current?.nodeId;
    return rows.map(({ lastEcho, ...advert }) => ({ ...advert, lastEcho, active: advert.nodeId === leaderId }));
  }

  /** Starts the loop. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Stops the loop, steps down if active (workers stopped, lock given back) and closes the lock's connection. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    await this.demote('shutting down', true);
    await this.deps.lock.close();
  }

  /** Runs one round now (tests, and after unseal so that a lone node does not wait a tick). */
  poke(): void {
    this.wake?.();
  }

  async stepDown(): Promise<void> {
    if (!this.active) return;
    this.cooldownUntil = this.deps.clock() + this.timing.stepDownCooldownMs;
    await this.demote('step-down requested', true);
  }

  /** Called before the barrier closes: a sealed node gives the lock up. */
  async sealing(): Promise<void> {
    await this.demote('sealed', true);
  }

  private async run(): Promise<void> {
    while (this.running) {
      await this.tick();
      if (!this.running) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.timing.tickMs + Math.floor(Math.random() * this.timing.tickJitterMs));
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  /** One round of the state machine; never throws. */
  async tick(): Promise<void> {
    const { lock } = this.deps;
    try {
      if (this.deps.sealed()) {
        if (this.active) await this.demote('sealed', true);
        await this.deps.refreshSeal?.();
        return;
      }
      if (this.active) {
        if (!(await lock.stillHeld())) await this.demote('the lock is no longer held', false);
      } else if (this.deps.clock() >= this.cooldownUntil) {
        const losses = this.lockLosses;
        const won = await lock.tryAcquire(this.deps.self());
        if (won) await this.promote(won, losses);
      }
      if (!this.active) this.current = await lock.leader();
      const now = this.deps.clock();
      if (now - this.lastHeartbeat >= this.timing.heartbeatMs) {
        await lock.heartbeat(this.deps.self());
        this.lastHeartbeat = now;
      }
      this.maybeEcho();
      this.lastProblem = '';
    } catch (err) {
      const message = (err as Error).message;
      // Logged once per distinct problem: an outage must not flood the log four times a second.
      if (message !== this.lastProblem) this.deps.log.warn({ error: message }, 'HA: the database cannot be reached; this node is not active until it can');
      this.lastProblem = message;
      if (this.active) await this.demote('the database cannot be reached', false);
    }
  }

  /** A standby echoes the active node now and then, in the background (never holding the loop). */
  private maybeEcho(): void {
    const target = this.current;
    const now = this.deps.clock();
    if (this.active || this.echoing || !target || target.nodeId === this.nodeId() || now - this.lastEchoAttempt < this.timing.echoMs) return;
    this.echoing = true;
    this.lastEchoAttempt = now;
    const started = performance.now();
    this.deps
      .echo(target.clusterAddr)
      .then((answer) => {
        const duration = performance.now() - started;
        const at = this.deps.clock();
        this.link = {
          healthy: true,
          echoDurationMs: Math.round(duration),
          // The active node's clock against ours, at the middle of the round trip.
          clockSkewMs: Math.round(answer.serverTime - (at - duration / 2)),
          lastEcho: at,
        };
      })
      .catch((err: Error) => this.deps.log.debug({ error: err.message }, 'HA: echo to the active node failed'))
      .finally(() => {
        this.echoing = false;
      });
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.transitions.then(fn, fn);
    this.transitions = run.catch(() => undefined);
    return run;
  }

  /** `losses`: the lock connection's failure count before the lock was taken. */
  private promote(won: HaLeaderRecord, losses: number): Promise<void> {
    return this.exclusive(async () => {
      if (this.active) return;
      try {
        await this.deps.onActive(won);
        // The lock's connection failed while the state was loading: the lock went with it and
        // another node may hold it now; becoming active would make two active nodes.
        if (this.lockLosses !== losses) throw new Error('the database connection holding the lock failed while taking over');
      } catch (err) {
        this.deps.log.error({ error: (err as Error).message }, 'HA: could not take over as the active node; giving the lock back');
        await this.deps.onStandby().catch(() => undefined);
        await this.deps.lock.release();
        this.cooldownUntil = this.deps.clock() + this.timing.tickMs * 4;
        return;
      }
      this.active = true;
      this.since = won.since;
      this.current = won;
      this.deps.log.info({ term: won.term, node_id: won.nodeId }, 'HA: this node is now the active node');
    });
  }

  /** Steps down; `release` gives the lock back once the workers stopped (it is already gone otherwise). */
  private demote(reason: string, release: boolean): Promise<void> {
    return this.exclusive(async () => {
      if (!this.active) {
        if (release) await this.deps.lock.release();
        return;
      }
      this.active = false;
      this.since = undefined;
      this.current = undefined;
      this.link = { healthy: false, echoDurationMs: 0, clockSkewMs: 0, lastEcho: 0 };
      this.deps.log.info({ reason }, 'HA: this node is now a standby');
      try {
        await this.deps.onStandby();
      } finally {
        if (release) await this.deps.lock.release();
      }
    });
  }
}
