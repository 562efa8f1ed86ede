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
    const budget = new AdaptiveBudget({ perSecond: 10, burstSeconds: 1, maxInFlight: UNBOUNDED });
    // One second's worth (the burst here) goes at once.
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
    // A quarter second's worth (12) at once, then 988 at 48/s: about 20.6 s.
    expect(last).toBeGreaterThan(20_300);
    expect(last).toBeLessThan(20_900);
    // Each call was tried twice at most: once queued, once at its turn.
    expect(tries).toBeLessThanOrEqual(2000);
  });

  it('a call without a key is only told how long to wait, and takes no turn', () => {
    const budget = new AdaptiveBudget({ perSecond: 2, burstSeconds: 1, maxInFlight: UNBOUNDED });
    expect(budget.take(D, 'tag', 0)).toBe(0);
    expect(budget.take(D, 'tag', 0)).toBe(0);
    expect(budget.take(D, 'tag', 0)).toBe(500);
    expect(budget.take(D, 'tag', 0)).toBe(500);
    expect(budget.take(D, 'tag', 0, 'k')).toBe(500);
  });

  it('drops the queue on a throttling answer: turns handed out at the old pace are queued again at the new one, after a pause', () => {
    const budget = new AdaptiveBudget({ perSecond: 10, burstSeconds: 1, maxInFlight: UNBOUNDED });
    for (let i = 0; i < 10; i++) budget.take(D, 'update', 0, `s${i}`);
    for (let i = 0; i < 5; i++) budget.take(D, 'update', 0, `q${i}`);
    const retryAt = budget.throttled(D, 'update', 0);
    // Halved to 5/s; AWS's bucket is empty, so nothing goes for a burst's time (1 s here, 5
    // calls), then one call every 200 ms, queued afresh in the order they come back.
    expect(retryAt).toBe(1200);
    expect(budget.take(D, 'update', 100, 'q0')).toBe(1100);
    expect(budget.take(D, 'update', 100, 'q1')).toBe(1300);
    expect(budget.take(D, 'update', 200, 'q0')).toBe(1000);
    expect(budget.take(D, 'update', 1200, 'q0')).toBe(0);
    expect(budget.take(D, 'update', 1200, 'q1')).toBe(200);
    expect(budget.take(D, 'update', 1400, 'q1')).toBe(0);
  });

  it('drops the queue when the destination is parked, so that released operations do not all go at once on stale turns', () => {
    const budget = new AdaptiveBudget({ perSecond: 10, burstSeconds: 1, probeIntervalMs: 1000, maxInFlight: UNBOUNDED });
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

describe('what goes out at once, and after a throttling answer (AWS: a bucket of one second at 50/s)', () => {
  /** Calls let go in each window of `ms` starting at each of `sent`: the largest count. */
  const mostIn = (sent: number[], ms: number) => Math.max(0, ...sent.map((t) => sent.filter((u) => u >= t && u < t + ms).length));

  it("bursts a quarter second's worth, not a second's: AWS's bucket keeps 38 of its 50 for calls that arrive bunched", () => {
    const budget = new AdaptiveBudget({ perSecond: 48, maxInFlight: UNBOUNDED });
    let went = 0;
    for (let i = 0; i < 48; i++) if (budget.take(D, 'update', 0, `s${i}`) === 0) went++;
    expect(went).toBe(12);
    // The rest queue at the rate, 1/48 s apart.
    expect(budget.take(D, 'update', 0, 'next')).toBe(Math.ceil((37 / 48) * 1000));
  });

  it('lets calls back late for their turns (a busy worker) go at the rate, not on top of the calls due now', () => {
    const budget = new AdaptiveBudget({ perSecond: 48, maxInFlight: UNBOUNDED });
    const due = new Map<string, number>();
    const sent: number[] = [];
    let tries = 0;
    for (let i = 0; i < 200; i++) {
      const wait = budget.take(D, 'update', 0, `s${i}`);
      if (wait === 0) sent.push(0);
      // The worker is busy for the first 2 s: nothing queued comes back before then.
      else due.set(`s${i}`, Math.max(2000, wait));
    }
    for (let now = 0; due.size > 0 && now < 20_000; now += 5) {
      for (const [key, at] of due) {
        if (at > now) continue;
        tries++;
        const wait = budget.take(D, 'update', now, key);
        if (wait === 0) {
          sent.push(now);
          due.delete(key);
        } else due.set(key, now + wait);
      }
    }
    expect(due.size).toBe(0);
    // About 90 turns had passed at 2 s: they do not all go then.
    expect(sent.filter((t) => t === 2000).length).toBeLessThanOrEqual(12);
    // Never more than the burst plus a second at the rate in any second, so never past AWS's 50 + 50.
    expect(mostIn(sent, 1000)).toBeLessThanOrEqual(12 + 48 + 1);
    // The backlog still drains at the rate once the worker is back: 188 calls from 2 s on.
    expect(Math.max(...sent)).toBeLessThan(2000 + (188 / 48) * 1000 + 500);
    expect(tries).toBeLessThanOrEqual(3 * 188);
  });

  it('cuts the rate once per congestion: throttling answers to calls let go before the cut neither halve it again nor park the destination', () => {
    const budget = new AdaptiveBudget({ perSecond: 48, maxInFlight: UNBOUNDED });
    for (let i = 0; i < 10; i++) expect(budget.take(D, 'update', i * 10, `s${i}`)).toBe(0);
    // AWS's bucket was empty: all ten are throttled, their answers arriving one after the other.
    for (let i = 0; i < 10; i++) budget.throttled(D, 'update', i * 10);
    expect(budget.view(D, 200).rates.update).toBe(24);
    expect(budget.view(D, 200).health).toBe('ok');
    expect(budget.view(D, 200).throttled_total).toBe(10);
    // A call let go after the cut and throttled is a new congestion: the rate halves again.
    const wait = budget.take(D, 'update', 200, 'after');
    expect(budget.take(D, 'update', 200 + wait, 'after')).toBe(0);
    budget.throttled(D, 'update', 200 + wait);
    expect(budget.view(D, 1000).rates.update).toBe(12);
  });

  it('pauses after a cut: AWS answered that its bucket is empty, so nothing goes for a burst of the new rate', () => {
    const budget = new AdaptiveBudget({ perSecond: 48, maxInFlight: UNBOUNDED });
    expect(budget.take(D, 'update', 0, 'a')).toBe(0);
    const retryAt = budget.throttled(D, 'update', 0);
    // 24/s: a burst of 6 calls, so the next call goes 7/24 s later.
    expect(retryAt).toBe(Math.ceil((7 / 24) * 1000));
    expect(budget.take(D, 'update', 100, 'b')).toBeGreaterThan(150);
  });

  it('refills once for each moment, whatever order the callers read their clocks in', () => {
    const budget = new AdaptiveBudget({ perSecond: 10, burstSeconds: 1, maxInFlight: UNBOUNDED });
    for (let i = 0; i < 10; i++) expect(budget.take(D, 'tag', 0)).toBe(0);
    for (let i = 0; i < 10; i++) expect(budget.take(D, 'tag', 1000)).toBe(0);
    // A delivery that read its clock at 500 asks after one that read it at 1000: no token, and
    // the half second between is not counted again for the next caller.
    expect(budget.take(D, 'tag', 500)).toBeGreaterThan(0);
    expect(budget.take(D, 'tag', 1000)).toBeGreaterThan(0);
  });
});

describe("the cap on a destination's calls in flight", () => {
  it('lets 20 calls wait on AWS at once by default: at 48/s, calls taking 400 ms still keep the rate', () => {
    const budget = new AdaptiveBudget({ perSecond: 100 });
    for (let i = 0; i < 20; i++) expect(budget.take(D, 'update', 0, `s${i}`)).toBe(0);
    expect(budget.take(D, 'update', 0, 'more')).toBeGreaterThan(0);
    expect(budget.inFlight(D)).toBe(20);
  });

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
