import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { MountEntry } from '../kernel/entries.js';
import { withRetry, type Store, type WriteOp } from '../store/store.js';
import { MountTable } from '../sys/mount-table.js';
import { INLINE_DATA_MAX, KvKeys, decode, encode, encodeMeta, type StoredMeta } from './layout.js';

/** What an upgrade needs: the store, the mount table it switches, a clock and a log. */
export interface KvUpgradeDeps {
  store: Store;
  mounts: Pick<MountTable, 'get' | 'all' | 'snapshot' | 'update'>;
  clock: () => number;
  log: Pick<Logger, 'info' | 'warn'>;
  /** Secrets staged per commit; a mount with no more than this finishes within the tune. */
  chunkSize?: number;
}

/** The mount went (or its upgrade was replaced) while the upgrade ran: nothing more to do. */
class UpgradeAbandoned extends Error {}

/** Whether a KV mount is being upgraded from version 1 to 2 (its requests answer 400 meanwhile). */
export const kvUpgradeInProgress = (mount: MountEntry): boolean => mount.kv_upgrade !== undefined;

/**
 * The writes that make one KV v1 secret the first version of a KV v2 secret, as Vault's upgrade
 * does: version 1 holds the old value, created now; `current_version` 1, `oldest_version` 0.
 */
function firstVersionOps(keys: KvKeys, path: string, data: Record<string, unknown>, now: number): WriteOp[] {
  const meta: StoredMeta = {
    incarnation: randomUUID(),
    created: now,
    updated: now,
    current: 1,
    oldest: 0,
    maxVersions: 0,
    casRequired: false,
    deleteVersionAfter: 0,
    custom: null,
    versions: { 1: { created: now, deletion: null, destroyed: false } },
    notified: null,
  };
  const ops: WriteOp[] = [];
  const encoded = encode(data);
  if (encoded.length <= INLINE_DATA_MAX) meta.data = data;
  else ops.push({ kind: 'put', key: keys.version(meta.incarnation, 1), value: encoded });
  ops.push({ kind: 'put', key: keys.meta(path), value: encodeMeta(meta) });
  return ops;
}

/**
 * KV v1 → v2 upgrades (`vault kv enable-versioning`, a tune to `options.version=2`), as Vault
 * does them: every key becomes version 1 of a versioned secret, nested paths kept, and the
 * mount answers 400 until it is done.
 *
 * Atomic and crash-safe: the tune marks the mount (`kv_upgrade`, with a fresh storage area) in
 * the same commit that sets its version. The versioned layout is built in that area in chunks,
 * while the old data stays untouched; one commit then points the mount at the new area, clears
 * the mark and deletes the old data. A process killed or a server sealed at any point before
 * that commit leaves the v1 data whole and the mark set: the next unseal discards whatever was
 * staged and starts over. After it, the upgrade is complete.
 */
export class KvUpgrades {
  private readonly running = new Map<string, Promise<void>>();
  private readonly chunkSize: number;
  private holds = 0;
  private released: Promise<void> = Promise.resolve();
  private releaseAll: () => void = () => undefined;

  constructor(private readonly deps: KvUpgradeDeps) {
    this.chunkSize = deps.chunkSize ?? 500;
  }

  /**
   * Runs the upgrade of the marked mount at `path` (or joins the one running). Resolves when it
   * is done — a mount of up to `chunkSize` secrets finishes within the tune — or, for a larger
   * one, once it has staged its first chunk and goes on in the background.
   */
  start(path: string): Promise<void> {
    let yielded!: () => void;
    const firstPause = new Promise<void>((resolve) => (yielded = resolve));
    const job = this.launch(path, yielded);
    return Promise.race([job, firstPause]);
  }

  /** After unseal: resumes every upgrade a crash or a seal interrupted. Returns without waiting for them. */
  resume(): void {
    for (const mount of this.deps.mounts.all()) if (mount.kv_upgrade) void this.launch(mount.path, () => undefined);
  }

  /** Resolves when no upgrade is running (tests, tools). */
  async whenIdle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running.values()]);
  }

  /**
   * Test hook: upgrades pause before their final switch until the returned function is called,
   * so that a test can see the mount while it is being upgraded.
   */
  hold(): () => void {
    if (this.holds++ === 0) this.released = new Promise<void>((resolve) => (this.releaseAll = resolve));
    let done = false;
    return () => {
      if (done) return;
      done = true;
      if (--this.holds === 0) this.releaseAll();
    };
  }

  /** Starts the job of `path` after the one still running (a seal's casualty), if any; never rejects. */
  private launch(path: string, yielded: () => void): Promise<void> {
    const previous = this.running.get(path) ?? Promise.resolve();
    const job = previous
      .then(() => this.run(path, yielded))
      .catch((err: unknown) => {
        if (err instanceof UpgradeAbandoned) return;
        // The mount stays marked: the next unseal resumes it. Paths and messages only, never values.
        this.deps.log.warn({ mount: path, err: { message: (err as Error).message } }, 'KV upgrade interrupted; it resumes at the next unseal');
      })
      .finally(() => {
        if (this.running.get(path) === job) this.running.delete(path);
        yielded();
      });
    this.running.set(path, job);
    return job;
  }

  private async run(path: string, yielded: () => void): Promise<void> {
    const mount = this.deps.mounts.get(path);
    const upgrade = mount?.kv_upgrade;
    if (!mount || !upgrade) return;
    const { store, clock, log } = this.deps;
    const area = upgrade.area;
    const source = MountTable.dataPrefix(mount);
    const target = new KvKeys({ ...mount, storage: area });
    log.info({ mount: path }, 'upgrading KV mount from version 1 to version 2');

    // A previous, interrupted run may have staged part of the area: start it over.
    await this.commitWhileMarked(path, area, [{ kind: 'deletePrefix', prefix: MountTable.areaPrefix(area) }]);
    const entries = await store.scan(source);
    const now = clock();
    for (let i = 0; i < entries.length; i += this.chunkSize) {
      const ops = entries
        .slice(i, i + this.chunkSize)
        .flatMap((e) => firstVersionOps(target, e.key.slice(source.length), decode<Record<string, unknown>>(e.value), now));
      await this.commitWhileMarked(path, area, ops);
      if (i + this.chunkSize < entries.length) {
        yielded();
        // Let requests in between chunks.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    if (this.holds > 0) {
      yielded();
      await this.released;
    }

    // The switch: the mount reads the new area from now on; the old data goes in the same commit.
    await this.deps.mounts.update(
      (mounts) => {
        const m = mounts.find((x) => x.path === path);
        if (m?.kv_upgrade?.area !== area) throw new UpgradeAbandoned();
        m.storage = area;
        delete m.kv_upgrade;
      },
      () => [{ kind: 'deletePrefix', prefix: source }],
    );
    log.info({ mount: path, secrets: entries.length }, 'KV mount upgraded to version 2');
  }

  /** Commits staged writes only while the mount is still marked for this upgrade (not unmounted meanwhile). */
  private async commitWhileMarked(path: string, area: string, ops: WriteOp[]): Promise<void> {
    await withRetry(async () => {
      const { mounts, check } = await this.deps.mounts.snapshot();
      if (mounts.find((m) => m.path === path)?.kv_upgrade?.area !== area) throw new UpgradeAbandoned();
      await this.deps.store.commit(ops, [check]);
    });
  }
}
