/**
 * Injected faults: answer the next N calls (or every call until a time on the emulator clock)
 * with a 500, a throttling error, extra latency, a reset connection, or a refused connection.
 */

export type FaultKind = '500' | 'throttle' | 'latency' | 'reset' | 'refuse';

export interface FaultSpec {
  kind: FaultKind;
  /** Number of calls to affect. Default 1 when `untilMs` is not given either. */
  count?: number;
  /** Affect every call until this instant (ms epoch, emulator clock). */
  untilMs?: number;
  /** For `latency`: delay added before the call is handled. */
  latencyMs?: number;
  /** Only calls to this operation (e.g. `GetSecretValue`, `AssumeRoleWithWebIdentity`). Not for `refuse`, which acts before the operation is known. */
  operation?: string;
  /** For `reset`: handle the call first, then drop the connection (the "applied but answer lost" case). */
  applyBeforeReset?: boolean;
}

interface ActiveFault extends FaultSpec {
  remaining: number;
}

export class FaultQueue {
  private faults: ActiveFault[] = [];

  inject(spec: FaultSpec): void {
    const kinds: FaultKind[] = ['500', 'throttle', 'latency', 'reset', 'refuse'];
    if (!kinds.includes(spec.kind)) throw new Error(`unknown fault kind '${String(spec.kind)}'`);
    if (spec.kind === 'refuse' && spec.operation !== undefined) {
      throw new Error("'refuse' acts before a call is read, so it cannot be limited to an operation");
    }
    if (spec.kind === 'latency' && !(typeof spec.latencyMs === 'number' && spec.latencyMs >= 0)) {
      throw new Error("'latency' needs latencyMs");
    }
    if (spec.count !== undefined && !(Number.isInteger(spec.count) && spec.count > 0)) {
      throw new Error('count must be a positive integer');
    }
    const remaining = spec.count ?? (spec.untilMs === undefined ? 1 : Number.POSITIVE_INFINITY);
    this.faults.push({ ...spec, remaining });
  }

  clear(): void {
    this.faults = [];
  }

  /** The first active fault of one of `kinds` matching `operation`, consumed by one call. */
  take(kinds: FaultKind[], operation: string | undefined, now: number): ActiveFault | undefined {
    this.faults = this.faults.filter((f) => f.remaining > 0 && (f.untilMs === undefined || now < f.untilMs));
    const fault = this.faults.find(
      (f) => kinds.includes(f.kind) && (f.operation === undefined || f.operation === operation),
    );
    if (fault !== undefined) fault.remaining -= 1;
    return fault;
  }

  /** Consumes one call from every active fault of `kind` matching `operation`. */
  takeAll(kind: FaultKind, operation: string | undefined, now: number): ActiveFault[] {
    this.faults = this.faults.filter((f) => f.remaining > 0 && (f.untilMs === undefined || now < f.untilMs));
    const hits = this.faults.filter((f) => f.kind === kind && (f.operation === undefined || f.operation === operation));
    for (const f of hits) f.remaining -= 1;
    return hits;
  }

  list(): FaultSpec[] {
    return this.faults.map(({ remaining, ...spec }) => ({ ...spec, ...(Number.isFinite(remaining) ? { count: remaining } : {}) }));
  }
}
