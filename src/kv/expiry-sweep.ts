import type { Logger } from 'pino';
import type { MountEntry } from '../kernel/entries.js';

/** A secret by mount accessor and path, as KV change events name it. */
export interface SecretRef {
  mountAccessor: string;
  path: string;
}

export interface ExpirySweepDeps {
  mounts: { byAccessor(accessor: string): MountEntry | undefined };
  /** Nothing is read while sealed. */
  sealed(): boolean;
  log: Pick<Logger, 'error'>;
  /** Reports an unreported expiry of the secret's current version (its `delete` event); true when it did. */
  observe(mount: MountEntry, path: string): Promise<boolean>;
  /** The secrets to check: those a consumer of KV change events follows (sync's associated secrets). */
  followed(): Promise<SecretRef[]>;
}

export interface ExpirySweepOptions {
  /** How often the followed secrets are checked. */
  intervalMs?: number;
}

/**
 * `delete_version_after` expires a version without any request, and KV reports an expiry when
 * it first observes it (a read, or this sweep) with an ordinary `delete` change event, committed
 * with the metadata that records it. The sweep checks the secrets a consumer follows on a timer,
 * so that their expiry reaches the `kv-events` outbox even if nobody reads them. It reads every
 * followed secret's metadata: a timer's job, never a request's.
 */
export class ExpirySweep {
  private readonly intervalMs: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = true;

  constructor(
    private readonly deps: ExpirySweepDeps,
    options: ExpirySweepOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 30_000;
  }

  /** Sweeps now, then every `intervalMs` until `stop`. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Checks every followed secret once; returns how many expiries it reported. */
  async sweepOnce(): Promise<number> {
    if (this.deps.sealed()) return 0;
    let reported = 0;
    for (const { mountAccessor, path } of await this.deps.followed()) {
      const mount = this.deps.mounts.byAccessor(mountAccessor);
      if (mount && (await this.deps.observe(mount, path))) reported++;
    }
    return reported;
  }

  private tick(): void {
    this.running = this.sweepOnce()
      .catch((err: unknown) => this.deps.log.error({ err: { message: (err as Error).message } }, 'kv expiry sweep failed'))
      .finally(() => {
        if (!this.stopped) this.timer = setTimeout(() => this.tick(), this.intervalMs);
      });
  }
}
