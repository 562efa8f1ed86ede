/**
 * Seeding a benchmark target in its own process (the "seed and wait" setup of `sync-scale.ts`):
 * the parent sends one `SeedRequest` over the IPC channel; the target writes the KV secrets
 * through its own app (`app.inject`: the full request pipeline, without sockets or a client)
 * and sets the associations through the sync service, then answers `SeedDone`.
 *
 * Associations are set through the service rather than `associations/set`, because that
 * endpoint answers with every association of the destination (as Vault's does), which makes
 * setting 10,000 one by one cost time quadratic in their number (the benchmark times one such
 * call on its own).
 */
export const SEED_REQUEST = 'ferry-bench:seed';
export const SEED_DONE = 'ferry-bench:seed:done';

export interface SeedRequest {
  type: typeof SEED_REQUEST;
  /** KV v2 mount (`secret`) and path prefix; secret i is `<prefix><i>`. */
  mount: string;
  prefix: string;
  kv: number;
  /** Every `every`-th secret (i % every === 0) is associated with the destination, `associate` of them at most. */
  every: number;
  associate: number;
  destination: { type: string; name: string };
}

export interface SeedDone {
  type: typeof SEED_DONE;
  associated: string[];
  error?: string;
}

/** The value secret i is seeded with. */
export function seededValue(i: number): Record<string, unknown> {
  return { username: `svc-${i}`, password: `p-${(i * 7919).toString(36)}-Zq8v!r2L#pW9xT4m`, n: -1 };
}

/** Asks a target for its memory: `process.memoryUsage()` before and after a full GC (the target runs with --expose-gc). */
export const MEMORY_REQUEST = 'ferry-bench:memory';
export const MEMORY_DONE = 'ferry-bench:memory:done';

export interface MemoryDone {
  type: typeof MEMORY_DONE;
  before: NodeJS.MemoryUsage;
  after: NodeJS.MemoryUsage;
}
