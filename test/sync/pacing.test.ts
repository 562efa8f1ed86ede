import { describe, expect, it } from 'vitest';
import { AdaptiveBudget } from '../../src/sync/pacing.js';

/**
 * The adaptive budget's queue: calls beyond the budget are given turns, one `1/rate` apart, in
 * the order they came, and each goes when it comes back at its turn — so a backlog is tried once
 * per call, not once per refill. Driven with explicit times (ms).
 */
const D = 'aws-sm/d';
/** For the tests of the queue alone: calls that go are never `done`. */
const UNBOUNDED = Number.POSITIVE_INFINITY;

describe("the write budget's queue of calls beyond it", () => {
  it('gives each waiting call its own turn, 1/rate after the previous one, in arrival order; back at its turn it goes without another token', () => {
    const budget = new AdaptiveBudget({ perSecond: 10, maxInFlight: UNBOUNDED });
    // One second's worth goes at once.
    for (let i = 0; i < 10; i++) expect(budget.take(D, 'update', 0, `s${i}`)).toBe(0);
    // The next five are queued 100 ms apart.
    const waits = Array.from({ length: 5 }, (_, i) => budget.take(D, 'update', 0, `q${i}`));
    expect(waits).toEqual([100, 200, 300, 400, 500]);
    // Asking again before its turn changes nothing: same turn, no second place in the queue.
    expect(budget.take(D, 'update', 50, 'q2')).toBe(250);
    // A newcomer queues behind them.
    const late = budget.take(D, 'update', 60, 'late');
    expect(late).toBeGreaterThanOrEqual(540);
    expect(late).toBeLessThanOrEqual(541);
    // Each goes at its turn, in order; none needs a token then.
    expect(budget.take(D, 'update', 100, 'q0')).toBe(0);
    expect(budget.take(D, 'update', 300, 'q2')).toBe(0);
    expect(budget.take(D, 'update', 300, 'q1')).toBe(0);
    // A call whose turn was used asks as a newcomer would: behind the queue.
    expect(budget.take(D, 'update', 300, 'q0')).toBeGreaterThan(300);
  });

  it('keeps the rate: n queued calls finish about n/rate after the bucket emptied, however often the others ask', () => {
    const budget = new AdaptiveBudget({ perSecond: 48 });
    const pending = new Map<string, number>();
    for (let i = 0; i < 1000; i++) pending.set(`s${i}`, 0);
    let went = 0;
    let tries = 0;
    let last = 0;
    for (let now = 0; pending.size > 0 && now < 60_000; now += 10) {
      for (const [key, due] of pending) {
        if (due > now) continue;
        tries++;
        const wait = budget.take(D, 'create', now, key);
        if (wait === 0) {
          // AWS answers at once.
          budget.done(D);
          pending.delete(key);
          went++;
          last = now;
        } else pending.set(key, now + wait);
      }
    }
    expect(went).toBe(1000);
    // 48 at once, then 952 at 48/s: about 19.8 s.
    expect(last).toBeGreaterThan(19_500);
    expect(last).toBeLessThan(20_200);
    // Each call was tried twice at most: once queued, once at its turn.
    expect(tries).toBeLessThanOrEqual(2000);
  });

  it('a call without a key is only told how long to wait, and takes no turn', () => {
    const budget = new AdaptiveBudget({ perSecond: 2, maxInFlight: UNBOUNDED });
    expect(budget.take(D, 'tag', 0)).toBe(0);
    expect(budget.take(D, 'tag', 0)).toBe(0);
    expect(budget.take(D, 'tag', 0)).toBe(500);
    expect(budget.take(D, 'tag', 0)).toBe(500);
    expect(budget.take(D, 'tag', 0, 'k')).toBe(500);
  });

  it('drops the queue on a throttling answer: turns handed out at the old pace are queued again at the new one', () => {
    const budget = new AdaptiveBudget({ perSecond: 10, maxInFlight: UNBOUNDED });
    for (let i = 0; i < 10; i++) budget.take(D, 'update', 0, `s${i}`);
    for (let i = 0; i < 5; i++) budget.take(D, 'update', 0, `q${i}`);
    const retryAt = budget.throttled(D, 'update', 0);
    // Halved to 5/s: one call every 200 ms, starting afresh.
    expect(retryAt).toBe(200);
    expect(budget.take(D, 'update', 100, 'q0')).toBe(100);
    expect(budget.take(D, 'update', 100, 'q1')).toBe(300);
  });

  it('drops the queue when the destination is parked, so that released operations do not all go at once on stale turns', () => {
    const budget = new AdaptiveBudget({ perSecond: 10, probeIntervalMs: 1000, maxInFlight: UNBOUNDED });
    for (let i = 0; i < 10; i++) budget.take(D, 'update', 0, `s${i}`);
    for (let i = 0; i < 20; i++) budget.take(D, 'update', 0, `q${i}`);
    budget.unavailable(D, 0);
    // The probe goes; AWS answers and releases the destination 5 s later.
    expect(budget.take(D, 'update', 1000, 'q0')).toBe(0);
    expect(budget.answered(D, 'update', 5000, true)).toBe(true);
    // The bucket refilled meanwhile (one second's worth); the rest queue again from now.
    let went = 0;
    for (let i = 1; i < 20; i++) if (budget.take(D, 'update', 5000, `q${i}`) === 0) went++;
    expect(went).toBe(10);
  });
});

describe("the cap on a destination's calls in flight", () => {
  it('lets at most maxInFlight calls wait on AWS at once; a call whose turn comes while every slot is held queues again behind the others', () => {
    const budget = new AdaptiveBudget({ perSecond: 10, maxInFlight: 2 });
    // Tokens are there, slots are not: the third call is queued (its token taken), not let go.
    expect(budget.take(D, 'update', 0, 'a')).toBe(0);
    expect(budget.take(D, 'update', 0, 'b')).toBe(0);
    expect(budget.inFlight(D)).toBe(2);
    const c = budget.take(D, 'update', 0, 'c');
    expect(c).toBeGreaterThan(0);
    const d = budget.take(D, 'update', 0, 'd');
    expect(d).toBeGreaterThan(c);
    // AWS still has not answered at c's turn: c goes behind d.
    const again = budget.take(D, 'update', c, 'c');
    expect(again).toBeGreaterThan(d - c);
    // A call without a key waits at least a turn, and takes no token.
    expect(budget.take(D, 'tag', c)).toBeGreaterThanOrEqual(100);
    // AWS answers a and b: d goes at its turn, c at its new one.
    budget.done(D);
    budget.done(D);
    expect(budget.take(D, 'update', d, 'd')).toBe(0);
    expect(budget.take(D, 'update', c + again, 'c')).toBe(0);
    expect(budget.inFlight(D)).toBe(2);
  });

  it('spends turns, not calls, while AWS is stalled: when it answers again, calls go at the rate, not all at once', () => {
    const budget = new AdaptiveBudget({ perSecond: 48, maxInFlight: 10 });
    const pending = new Map<string, number>();
    for (let i = 0; i < 500; i++) pending.set(`s${i}`, 0);
    const sent: number[] = [];
    // AWS answers nothing for the first 5 s, then each call within 10 ms.
    const answers: number[] = [];
    for (let now = 0; now < 30_000; now += 10) {
      while (answers.length > 0 && answers[0]! <= now) {
        answers.shift();
        budget.done(D);
      }
      for (const [key, due] of pending) {
        if (due > now) continue;
        const wait = budget.take(D, 'update', now, key);
        if (wait === 0) {
          pending.delete(key);
          sent.push(now);
          answers.push(Math.max(now, 5000) + 10);
        } else pending.set(key, now + wait);
      }
    }
    expect(pending.size).toBe(0);
    // Never more than 10 waiting on AWS, so never more than 10 answered at once.
    const inFlightAt = (t: number) => sent.filter((s, i) => s <= t && Math.max(s, 5000) + 10 > t && i >= 0).length;
    expect(Math.max(...[0, 1000, 4990, 5000, 5005].map(inFlightAt))).toBeLessThanOrEqual(10);
    // In any second after the stall, at most about a second's worth of calls went (the budget of 48 plus the 10 released).
    for (let t = 5000; t < 20_000; t += 250) expect(sent.filter((s) => s >= t && s < t + 1000).length).toBeLessThanOrEqual(58);
  });

  it("frees a slot on every outcome of a delivery's call; done without a call in flight changes nothing", () => {
    const budget = new AdaptiveBudget({ perSecond: 100, maxInFlight: 1 });
    expect(budget.take(D, 'update', 0, 'a')).toBe(0);
    budget.throttled(D, 'update', 0);
    budget.done(D);
    budget.done(D);
    expect(budget.inFlight(D)).toBe(0);
    budget.unavailable(D, 0);
    // The probe holds a slot too.
    expect(budget.take(D, 'update', 1000, 'a')).toBe(0);
    expect(budget.inFlight(D)).toBe(1);
    budget.answered(D, 'update', 1010, true);
    budget.done(D);
    expect(budget.take(D, 'update', 1010, 'b')).toBe(0);
  });
});
