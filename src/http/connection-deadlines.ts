import { performance } from 'node:perf_hooks';
import type { MessageObserver } from './list-verb.js';

/**
 * Vault's listener timeouts (`http_read_header_timeout`, `http_read_timeout`,
 * `http_write_timeout`, `http_idle_timeout`), in milliseconds; 0 turns one off.
 */
export interface ListenerTimeouts {
  /** From the start of a request to the end of its head. */
  readHeaderMs: number;
  /** From the start of a request to the end of its body. */
  readMs: number;
  /** From the end of a request's head to the end of its response. */
  writeMs: number;
  /** From the end of a response to the first byte of the next request on a kept-alive connection. */
  idleMs: number;
}

/** Vault's defaults: 10 s, 30 s, none, 5 min. */
export const DEFAULT_LISTENER_TIMEOUTS: ListenerTimeouts = Object.freeze({
  readHeaderMs: 10_000,
  readMs: 30_000,
  writeMs: 0,
  idleMs: 5 * 60_000,
});

/** What a timed-out connection is: something that can be cut. */
interface Cuttable {
  destroy(): void;
}

/**
 * The deadlines of one connection, moved as its requests go by. As in Go's `net/http`, which
 * Vault's listener is: the first request's header and read clocks start when the connection is
 * accepted (so a connection that never sends a byte is cut at the header timeout); a later
 * request's start when its first byte arrives, after the idle clock that began when the
 * previous response finished.
 */
export class ConnectionDeadlines implements MessageObserver {
  /** Absolute times (`performance.now()` ms) past which the connection is cut; 0 = no deadline. */
  header = 0;
  read = 0;
  write = 0;
  idle = 0;
  /** Whether a request is being read (its head or its body). */
  private reading = false;
  /** Requests whose head was read and whose response has not finished. */
  private unanswered = 0;

  constructor(
    readonly connection: Cuttable,
    private readonly timeouts: ListenerTimeouts,
    private readonly now: () => number,
  ) {
    this.startReading();
  }

  private deadline(ms: number): number {
    return ms > 0 ? this.now() + ms : 0;
  }

  private startReading(): void {
    this.reading = true;
    this.idle = 0;
    this.header = this.deadline(this.timeouts.readHeaderMs);
    this.read = this.deadline(this.timeouts.readMs);
  }

  headStarted(): void {
    if (!this.reading) this.startReading();
  }

  headComplete(): void {
    this.header = 0;
    this.unanswered++;
    this.write = this.deadline(this.timeouts.writeMs);
  }

  messageComplete(): void {
    this.read = 0;
    this.reading = false;
    this.startIdleIfQuiet();
  }

  /** The response to one request finished (or was abandoned). */
  responseFinished(): void {
    this.unanswered = Math.max(0, this.unanswered - 1);
    if (this.unanswered === 0) this.write = 0;
    this.startIdleIfQuiet();
  }

  private startIdleIfQuiet(): void {
    if (!this.reading && this.unanswered === 0) this.idle = this.deadline(this.timeouts.idleMs);
  }

  /** The deadline that has passed at `now`, if any. */
  expired(now: number): 'header' | 'read' | 'write' | 'idle' | undefined {
    if (this.header !== 0 && now >= this.header) return 'header';
    if (this.read !== 0 && now >= this.read) return 'read';
    if (this.write !== 0 && now >= this.write) return 'write';
    if (this.idle !== 0 && now >= this.idle) return 'idle';
    return undefined;
  }
}

/**
 * Enforces the listener timeouts on every connection the listener accepts. Node's own HTTP
 * timers (`headersTimeout`, `requestTimeout`) are started by `server.listen()`, which the
 * listener never calls on the HTTP server (it hands connections over itself, for the LIST
 * translation), so they never run: this does their job, and Vault's, from the framing events
 * of the LIST translation layer and the HTTP server's finished responses.
 *
 * One sweep per listener checks every connection's deadlines, rather than a timer per
 * deadline per request: a request then costs a few number assignments instead of three
 * timers set and cleared. A deadline is therefore honoured within one sweep period (a tenth
 * of the shortest timeout, between 25 ms and 1 s). A connection past a deadline is destroyed
 * without an answer, as Go's server does on a read timeout.
 */
export class DeadlineSweeper {
  private readonly connections = new Set<ConnectionDeadlines>();
  private readonly sweep: NodeJS.Timeout;
  /** How often the deadlines are checked, ms. */
  readonly period: number;

  constructor(
    private readonly timeouts: ListenerTimeouts,
    private readonly onTimeout: (which: string) => void = () => {},
    private readonly now: () => number = () => performance.now(),
  ) {
    const active = [timeouts.readHeaderMs, timeouts.readMs, timeouts.writeMs, timeouts.idleMs].filter((ms) => ms > 0);
    this.period = Math.min(1000, Math.max(25, Math.min(...active, 10_000) / 10));
    this.sweep = setInterval(() => this.check(), this.period);
    this.sweep.unref();
  }

  /** Starts the clocks of a newly accepted connection; they stop when it closes. */
  track(connection: Cuttable & { once(event: 'close', listener: () => void): unknown }): ConnectionDeadlines {
    const deadlines = new ConnectionDeadlines(connection, this.timeouts, this.now);
    this.connections.add(deadlines);
    connection.once('close', () => this.connections.delete(deadlines));
    return deadlines;
  }

  private check(): void {
    const now = this.now();
    for (const deadlines of this.connections) {
      const which = deadlines.expired(now);
      if (which === undefined) continue;
      this.connections.delete(deadlines);
      this.onTimeout(which);
      deadlines.connection.destroy();
    }
  }

  stop(): void {
    clearInterval(this.sweep);
    this.connections.clear();
  }
}
