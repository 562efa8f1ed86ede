import type { WriteClass } from './port.js';

/**
 * The adaptive AWS budget of each destination. Longer than 400 lines on purpose: `AdaptiveBudget`
 * is one state machine (token and sent buckets, queued turns, in-flight slots, health and probing)
 * whose methods read and write the same state, and its comments keep the measured reasons for
 * each constant.
 */

/** How a destination's AWS is answering, as its budget has seen it. */
export type DestinationHealth =
  /** Answering: calls go out at the budget's rate. */
  | 'ok'
  /** Throttling answers in a row: only a probe goes out, every `probeIntervalMs`, until one is answered. */
  | 'throttled'
  /** Not answering (connection errors, timeouts, 5xx): only a probe goes out, every `probeIntervalMs`. */
  | 'unavailable';

export interface BudgetOptions {
  /** The rate each quota group starts at and regrows to, per destination (AWS's quota is 50/s per account and region). */
  perSecond: number;
  /** The floor throttling shrinks a group's rate to. */
  minPerSecond?: number;
  /** How often a throttled or unavailable destination is probed with one call. */
  probeIntervalMs?: number;
  /** Throttling answers in a row (with no success between) after which only probes go out. */
  throttledAfter?: number;
  /**
   * The burst each quota group may send at once, in seconds of its current rate (default ¼ s: 12
   * calls at 48/s). AWS's bucket holds one second at its rate (50): a burst of a whole second (48)
   * would leave it 2 calls, refilled by only 2 a second at 48/s against 50/s, so any calls arriving
   * bunched (a worker round, an event loop that stalled) would find it empty. A quarter second
   * leaves it 38, and costs a quarter of a second once, at the start of a backlog.
   */
  burstSeconds?: number;
  /**
   * Calls one destination may have waiting on AWS at once. An endpoint that stalls and then
   * answers everything it was sent at once (a starved emulator, a network hiccup) would otherwise
   * see every call sent meanwhile arrive together, past AWS's burst: throttling. Each call that
   * `take` lets go holds a slot until its caller calls `done`.
   */
  maxInFlight?: number;
  /** Told when a destination's budget or health changes (metrics, logs). */
  onChange?: (destination: string, change: BudgetChange) => void;
}

export type BudgetChange =
  | { kind: 'rate'; group: WriteClass; perSecond: number }
  | { kind: 'health'; health: DestinationHealth; previous: DestinationHealth };

/** What a destination's budget shows in its status summary. */
export interface BudgetView {
  health: DestinationHealth;
  /** Unix ms since the destination is in its current health. */
  since: number;
  /** When the next probe may go out (throttled or unavailable only). */
  next_probe_at?: number;
  /** Calls per second each quota group that has made calls may make now. */
  rates: Partial<Record<WriteClass, number>>;
  /** Throttling answers seen since the process started. */
  throttled_total: number;
}

interface Bucket {
  rate: number;
  /** Below zero while calls are queued: a queued call's token is taken when it is queued. */
  tokens: number;
  at: number;
  /**
   * The calls actually let go, as a second bucket of the same rate and burst (below zero only
   * for the pause after a throttling answer).
   * Turns order the calls; this bounds what goes out: calls back late for their turns (a busy
   * worker) go when there is room, instead of on top of the calls whose turns are now.
   */
  sent: number;
  /** Queued calls by key: when each may go, its token already taken. */
  queued: Map<string, number>;
  /** When stale entries of `queued` were last dropped. */
  sweptAt: number;
  /** The latest `now` at which a call of the group was let go. */
  lastGoneAt: number;
  /**
   * When the rate was last cut for throttling, as the `lastGoneAt` of then: calls let go before
   * the cut met the same congestion, and their throttling answers cut nothing more.
   */
  cutAfter: number;
}

/**
 * Calls to one destination waiting on AWS at once. When AWS (or the network) stalls and then
 * answers everything at once, these arrive together: 20 stays well inside what AWS's bucket of 50
 * still holds after Ferry's burst (¼ s), and lets the budget's rate through while each call takes
 * up to 400 ms (a loaded machine), where 10 capped it at 25/s.
 */
export const DEFAULT_MAX_IN_FLIGHT = 20;

/** The default `burstSeconds`. */
export const DEFAULT_BURST_SECONDS = 0.25;

/** A queued call not back this long after its turn was abandoned (its association went, say): its entry is dropped. */
const QUEUED_STALE_MS = 60_000;

interface DestinationState {
  buckets: Map<WriteClass, Bucket>;
  health: DestinationHealth;
  since: number;
  probeAt: number;
  /** A probe is out: nothing else goes until it is answered (or `probeAt` passes again). */
  probing: boolean;
  throttledInARow: number;
  throttledTotal: number;
  /** Calls let go by `take` and not yet `done`. */
  inFlight: number;
}

/**
 * Per-destination AWS budgets, one token bucket per quota group, shared by every association
 * of the destination (each delivery takes one token per call it makes, in the order the worker
 * claims them). The rate starts under AWS's 50 requests/s and adapts, as TCP's congestion
 * window does: a throttling answer halves it (down to `minPerSecond`; once per congestion, not
 * once per call that met it), each success regrows it
 * by a twentieth of the configured rate. Throttling answers in a row, or an AWS that does not
 * answer, turn the destination to probing: one call every `probeIntervalMs`, everything else
 * parked; the first answer releases it at once (at least half the configured rate), so
 * recovery waits neither for per-association backoff nor for a slow regrowth.
 *
 * `take` never waits: it answers how long the caller should defer, so the operation is
 * rescheduled instead of holding a slot of the worker's pool.
 */
export class AdaptiveBudget {
  private readonly states = new Map<string, DestinationState>();
  private readonly opts: Required<Omit<BudgetOptions, 'onChange'>> & Pick<BudgetOptions, 'onChange'>;

  constructor(options: BudgetOptions) {
    this.opts = {
      ...options,
      minPerSecond: options.minPerSecond ?? 1,
      probeIntervalMs: options.probeIntervalMs ?? 1000,
      throttledAfter: options.throttledAfter ?? 3,
      burstSeconds: options.burstSeconds ?? DEFAULT_BURST_SECONDS,
      maxInFlight: options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT,
    };
  }

  /** The configured rate: where each group starts and what it regrows to. */
  get perSecond(): number {
    return this.opts.perSecond;
  }

  /**
   * A new configured rate (`sys/sync/config` `write_budget_per_second`), applied at once: each
   * group keeps its place between the floor and the configured rate (a group halved by throttling
   * stays halved, of the new rate), and its burst is that of its new rate.
   */
  configure(perSecond: number): void {
    const previous = this.opts.perSecond;
    if (perSecond === previous || !(perSecond > 0)) return;
    this.opts.perSecond = perSecond;
    for (const [destination, s] of this.states) {
      for (const [group, b] of s.buckets) {
        this.setRate(destination, group, b, Math.max(Math.min(this.opts.minPerSecond, perSecond), (b.rate / previous) * perSecond));
      }
    }
  }

  private state(destination: string, now: number): DestinationState {
    let s = this.states.get(destination);
    if (!s) {
      s = { buckets: new Map(), health: 'ok', since: now, probeAt: 0, probing: false, throttledInARow: 0, throttledTotal: 0, inFlight: 0 };
      this.states.set(destination, s);
    }
    return s;
  }

  /** How many calls a group at `rate` may send at once (at least one). */
  private burst(rate: number): number {
    return Math.max(1, rate * this.opts.burstSeconds);
  }

  private bucket(s: DestinationState, group: WriteClass, now: number): Bucket {
    let b = s.buckets.get(group);
    if (!b) {
      const full = this.burst(this.opts.perSecond);
      b = { rate: this.opts.perSecond, tokens: full, sent: full, at: now, queued: new Map(), sweptAt: now, lastGoneAt: -Infinity, cutAfter: -Infinity };
      s.buckets.set(group, b);
    }
    // Refill up to the burst. Callers' clocks are read at different moments (a delivery reads its
    // records first), so an earlier `now` after a later one refills nothing and does not move `at`
    // back — which would count the same time twice at the next call.
    const refill = (Math.max(0, now - b.at) / 1000) * b.rate;
    const cap = this.burst(b.rate);
    b.tokens = Math.min(cap, b.tokens + refill);
    b.sent = Math.min(cap, b.sent + refill);
    b.at = Math.max(b.at, now);
    return b;
  }

  /** Until when the destination's operations wait (it is probed, and the next probe is not due); undefined when they may go. */
  parkedUntil(destination: string, now: number): number | undefined {
    const s = this.states.get(destination);
    return s && s.health !== 'ok' && now < s.probeAt ? s.probeAt : undefined;
  }

  /** Whether only probes go out to the destination now. */
  impaired(destination: string): boolean {
    return (this.states.get(destination)?.health ?? 'ok') !== 'ok';
  }

  /**
   * 0 when the call may go out now (a token was taken, or it is the probe of an impaired
   * destination); otherwise the milliseconds until it may be tried again.
   *
   * A call with a `key` (one external secret) that finds no token is queued: it takes its token
   * now, in debt, and is given its own turn, one `1/rate` after the previous queued call's; back
   * at its turn, it goes. So a backlog of n calls costs n deferrals, each tried again once, in
   * the order they came — not n tries at every refill, which kept a worker busy re-reading the
   * whole backlog for each token (a 1,000-secret burst: thousands of deliveries a second, for 48
   * writes). A call without a key is only told how long to wait.
   */
  take(destination: string, group: WriteClass, now: number, key?: string): number {
    const s = this.state(destination, now);
    if (s.health !== 'ok') {
      // One probe per interval; a probe that never came back (its delivery crashed) is replaced at the next one.
      if (now >= s.probeAt) {
        s.probing = true;
        s.probeAt = now + this.opts.probeIntervalMs;
        s.inFlight++;
        return 0;
      }
      return s.probeAt - now;
    }
    const b = this.bucket(s, group, now);
    // Every slot is held by a call AWS has not answered yet (it is slow, or stalled).
    const full = s.inFlight >= this.opts.maxInFlight;
    // No burst builds up while slots are full: calls let go when AWS answers again go at the rate.
    if (full) {
      b.tokens = Math.min(b.tokens, 0);
      b.sent = Math.min(b.sent, 0);
    }
    // A call goes only with a free slot and room in what went out lately.
    const canGo = !full && b.sent >= 1;
    const turn = key === undefined ? undefined : b.queued.get(key);
    if (turn !== undefined) {
      if (turn > now) return turn - now;
      b.queued.delete(key!);
      if (canGo) return this.letGo(s, b, now);
      // Its turn came while no slot was free, or while the calls back late for their turns had
      // used the room: it queues again, behind the others, and its turn is spent — while AWS is
      // stalled, turns go by without calls instead of piling up.
    } else if (b.tokens >= 1 && canGo) {
      b.tokens -= 1;
      return this.letGo(s, b, now);
    }
    // Turns follow what can go out: tokens the calls let go cannot use are no turns.
    b.tokens = Math.min(b.tokens, b.sent);
    const wait = Math.max(1, Math.ceil(((1 - b.tokens) / b.rate) * 1000));
    if (key !== undefined) {
      b.tokens -= 1;
      b.queued.set(key, now + wait);
      this.sweep(b, now);
      return wait;
    }
    // No key: only told how long to wait.
    return wait;
  }

  private letGo(s: DestinationState, b: Bucket, now: number): 0 {
    b.sent -= 1;
    b.lastGoneAt = Math.max(b.lastGoneAt, now);
    s.inFlight++;
    return 0;
  }

  /**
   * A call `take` let go was answered, failed, or was never made (its delivery crashed): its
   * slot is free again. Callers call it exactly once per `take` that answered 0, in a `finally`.
   */
  done(destination: string): void {
    const s = this.states.get(destination);
    if (s && s.inFlight > 0) s.inFlight--;
  }

  /** Calls to the destination let go and not yet done. */
  inFlight(destination: string): number {
    return this.states.get(destination)?.inFlight ?? 0;
  }

  /** Drops queued calls that never came back for their turn (their tokens stay spent: a slot lost, once). */
  private sweep(b: Bucket, now: number): void {
    if (now - b.sweptAt < QUEUED_STALE_MS) return;
    b.sweptAt = now;
    for (const [key, turn] of b.queued) if (turn < now - QUEUED_STALE_MS) b.queued.delete(key);
  }

  /**
   * Forgets a group's queue (its calls queue again when they come back, at the rate of then):
   * after a throttling answer or an outage, turns handed out at the old pace must not all go.
   * The debt of the tokens they took is forgiven.
   */
  private dropQueue(b: Bucket): void {
    b.queued.clear();
    b.tokens = Math.max(b.tokens, 0);
  }

  /** The earliest time the destination lets a call of `group` go out, without taking anything. */
  nextSlot(destination: string, group: WriteClass, now: number): number {
    const s = this.state(destination, now);
    if (s.health !== 'ok') return Math.max(now, s.probeAt);
    const b = this.bucket(s, group, now);
    const short = Math.max(1 - b.tokens, 1 - b.sent);
    return short <= 0 ? now : now + Math.ceil((short / b.rate) * 1000);
  }

  /**
   * AWS answered (a success, or an answer that is not throttling nor an outage: a refusal is
   * an answer too). Answers true when this released an impaired destination.
   */
  answered(destination: string, group: WriteClass | undefined, now: number, success: boolean): boolean {
    const s = this.state(destination, now);
    s.throttledInARow = 0;
    s.probing = false;
    const released = s.health !== 'ok';
    if (released) this.setHealth(destination, s, 'ok', now);
    if (group && (success || released)) {
      const b = this.bucket(s, group, now);
      const floor = released ? this.opts.perSecond / 2 : 0;
      this.setRate(destination, group, b, Math.max(floor, Math.min(this.opts.perSecond, b.rate + this.opts.perSecond / 20)));
    }
    return released;
  }

  /**
   * A throttling answer to a call made at `now`: the group's rate halves, and nothing goes for a
   * burst's time plus one call's interval at the halved rate (AWS's bucket is empty); throttling in a row turns the destination to probing.
   * Answers the retry time. One congestion is one cut, as in TCP: the calls in flight when AWS
   * ran dry are all throttled, and their answers — to calls let go before the cut — neither
   * halve the rate again nor count as throttling in a row (five such answers used to take 48/s
   * to 3/s, and three parked the destination).
   */
  throttled(destination: string, group: WriteClass | undefined, now: number): number {
    const s = this.state(destination, now);
    s.throttledTotal++;
    s.probing = false;
    const b = group ? this.bucket(s, group, now) : undefined;
    if (b && now <= b.cutAfter) return this.nextSlot(destination, group!, now);
    s.throttledInARow++;
    if (group && b) {
      this.setRate(destination, group, b, Math.max(this.opts.minPerSecond, b.rate / 2));
      this.dropQueue(b);
      b.tokens = 0;
      b.sent = -this.burst(b.rate);
      b.cutAfter = Math.max(b.lastGoneAt, now);
    }
    if (s.health === 'ok' && s.throttledInARow >= this.opts.throttledAfter) {
      s.probeAt = now + this.opts.probeIntervalMs;
      this.setHealth(destination, s, 'throttled', now);
    }
    return group ? this.nextSlot(destination, group, now) : Math.max(now + this.opts.probeIntervalMs, s.probeAt);
  }

  /** No answer from AWS (or a 5xx): only probes go out until it answers. Answers the retry time. */
  unavailable(destination: string, now: number): number {
    const s = this.state(destination, now);
    s.probing = false;
    if (s.health !== 'unavailable') this.setHealth(destination, s, 'unavailable', now);
    s.probeAt = Math.max(s.probeAt, now + this.opts.probeIntervalMs);
    return s.probeAt;
  }

  view(destination: string, now: number): BudgetView {
    const s = this.states.get(destination);
    if (!s) return { health: 'ok', since: now, rates: {}, throttled_total: 0 };
    const rates: BudgetView['rates'] = {};
    for (const [group, b] of s.buckets) rates[group] = Math.round(b.rate * 100) / 100;
    return {
      health: s.health,
      since: s.since,
      ...(s.health !== 'ok' ? { next_probe_at: s.probeAt } : {}),
      rates,
      throttled_total: s.throttledTotal,
    };
  }

  /** Forgets a deleted destination. */
  forget(destination: string): void {
    this.states.delete(destination);
  }

  private setRate(destination: string, group: WriteClass, b: Bucket, rate: number): void {
    if (rate === b.rate) return;
    b.rate = rate;
    b.tokens = Math.min(b.tokens, this.burst(rate));
    b.sent = Math.min(b.sent, this.burst(rate));
    this.opts.onChange?.(destination, { kind: 'rate', group, perSecond: rate });
  }

  private setHealth(destination: string, s: DestinationState, health: DestinationHealth, now: number): void {
    const previous = s.health;
    // Parked: every queued turn is void; released operations come back together and queue afresh.
    if (health !== 'ok') for (const b of s.buckets.values()) this.dropQueue(b);
    s.health = health;
    s.since = now;
    this.opts.onChange?.(destination, { kind: 'health', health, previous });
  }
}

/** Exponential backoff with full jitter, capped. */
export function backoffMs(attempt: number, baseMs: number, capMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 20));
  return Math.max(baseMs / 2, Math.floor(random() * ceiling));
}
