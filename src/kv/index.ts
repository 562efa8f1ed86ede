import type { Logger } from 'pino';
import type { Backend } from '../kernel/request.js';
import type { SealState } from '../kernel/services.js';
import type { Store } from '../store/store.js';
import { isKvV2, type MountTable } from '../sys/mount-table.js';
import type { MountEntry } from '../kernel/entries.js';
import { KvV2Engine, type VersionSnapshot } from './engine.js';
import { kvErrors } from './errors.js';
import { ExpirySweep, type ExpirySweepOptions, type SecretRef } from './expiry-sweep.js';
import { unreportedExpiry } from './rules.js';
import { configPath } from './path-config.js';
import { dataPath } from './path-data.js';
import { invalidPaths } from './path-invalid.js';
import { metadataPath } from './path-metadata.js';
import { subkeysPath } from './path-subkeys.js';
import { deletePath } from './path-delete.js';
import { destroyPath } from './path-destroy.js';
import { undeletePath } from './path-undelete.js';
import { KvV1Engine } from './v1/engine.js';
import { secretPath } from './v1/path-secret.js';
import { upgradingPaths } from './path-upgrading.js';
import { KvUpgrades, kvUpgradeInProgress } from './upgrade.js';

export {
  KV_EVENTS_QUEUE,
  KV_WATCH_TRACKING_KEY,
  kvEventOrderKey,
  kvWatchKey,
  kvWatchOp,
  kvWatchTrackingOp,
  parseKvChangeEvent,
  type KvChange,
  type KvChangeEvent,
} from './events.js';
export type { ExpirySweep, SecretRef } from './expiry-sweep.js';
export type { KvUpgrades } from './upgrade.js';

/** What the KV feature needs from the server, wired in the composition root. */
export interface KvDeps {
  store: Store;
  clock: () => number;
  /**
   * The expiry sweep resolves the secrets it follows by mount accessor; the KV v1 → v2 upgrade
   * reads and switches the mount table.
   */
  mounts: Pick<MountTable, 'byAccessor' | 'get' | 'all' | 'snapshot' | 'update'>;
  seal: SealState;
  log: Logger;
}

/**
 * The KV secrets engines (version 1, plain key/value, and version 2, versioned) and the
 * domain read API secrets sync uses. One instance per store: its engine caches only per-mount
 * key prefixes, never secret state.
 */
export interface KvFeature {
  v1: Backend;
  v2: Backend;
  /** A mount being upgraded from version 1 to 2: every request answers Vault's 400. */
  upgrading: Backend;
  /** The backend of a `kv` mount: version 2 when its `version` option says so, else version 1; `upgrading` meanwhile. */
  backendFor(mount: MountEntry): Backend;
  /** KV v1 → v2 upgrades: the tune starts them, the unseal resumes interrupted ones. */
  upgrades: KvUpgrades;
  /**
   * Reads a KV v2 secret's current version for sync; undefined when the secret (its metadata)
   * does not exist. Pure read: it never commits, so a sync worker calling it cannot produce
   * events of its own.
   */
  readLatestForSync(mount: MountEntry, path: string): Promise<SyncSnapshot | undefined>;
  /**
   * Up to `limit` paths of KV v2 secrets under `under` (a folder ending with `/`, or ''), in key
   * order, after the cursor `after` (null: from the start). No metadata is read.
   */
  listSecretPaths(mount: MountEntry, under: string, after: string | null, limit: number): Promise<string[]>;
  /** Whether a KV v2 secret exists: it has metadata (written, or created by a metadata write, and not metadata-deleted). */
  secretExists(mount: MountEntry, path: string): Promise<boolean>;
  /** Reads version `version` (0 = current) of a KV v2 secret; undefined when the secret or version does not exist. */
  readVersion(mount: MountEntry, path: string, version: number): Promise<VersionSnapshot | undefined>;
  /**
   * Reports an expiry (`delete_version_after`) of the secret's current version that no event
   * has reported yet, by committing its `delete` event; true when it did. HTTP reads do this
   * on their own; a sync worker calls it when a synced version's `deletionTime` comes due.
   */
  observeExpiry(mount: MountEntry, path: string): Promise<boolean>;
  /**
   * Reports every unreported expiry in a mount (a periodic sweep for a sync worker). It reads
   * every secret's metadata, so it belongs on a timer, never on a request path.
   */
  sweepExpiries(mount: MountEntry): Promise<number>;
  /**
   * The expiry sweep over the secrets `followed` names (a consumer of KV change events, such as
   * sync, follows its associated secrets): their unreported expiries become `delete` events.
   */
  createExpirySweep(followed: () => Promise<SecretRef[]>, options?: ExpirySweepOptions): ExpirySweep;
  /** Forgets the mounts' cached settings (`config`), which another node sharing the store may have changed. */
  forgetCachedConfigs(): void;
}

export function createKvFeature(deps: KvDeps): KvFeature {
  const engine = new KvV2Engine(deps.store, deps.clock);
  const v2: Backend = {
    mountType: 'kv',
    // Order matters: the catch-all answering Vault's invalid-path 404 comes last.
    paths: [
      configPath(engine),
      dataPath(engine),
      deletePath(engine),
      undeletePath(engine),
      destroyPath(engine),
      metadataPath(engine),
      subkeysPath(engine),
      invalidPaths(),
    ],
  };
  const v1: Backend = { mountType: 'kv', paths: [secretPath(new KvV1Engine(deps.store, deps.mounts))] };
  const upgrading: Backend = { mountType: 'kv', paths: [upgradingPaths()] };
  const upgrades = new KvUpgrades({ store: deps.store, mounts: deps.mounts, clock: deps.clock, log: deps.log });

  const observeExpiry = async (mount: MountEntry, path: string): Promise<boolean> => {
    assertKvV2(mount);
    const before = await engine.loadMeta(mount, path);
    if (!before || !unreportedExpiry(before, deps.clock())) return false;
    await engine.observe(mount, path);
    return true;
  };

  return {
    v1,
    v2,
    upgrading,
    upgrades,
    backendFor: (mount) => (kvUpgradeInProgress(mount) ? upgrading : isKvV2(mount) ? v2 : v1),
    readLatestForSync: async (mount, path) => {
      assertKvV2(mount);
      const meta = await engine.loadMeta(mount, path);
      if (!meta) return undefined;
      const current = await engine.snapshot(mount, meta, meta.current);
      return { incarnation: meta.incarnation, version: meta.current, data: current?.data ?? null, ...(current ? { committedAt: current.createdTime } : {}) };
    },
    forgetCachedConfigs: () => engine.forgetConfigs(),
    listSecretPaths: async (mount, under, after, limit) => {
      assertKvV2(mount);
      return engine.listPaths(mount, under, after, limit);
    },
    secretExists: async (mount, path) => {
      assertKvV2(mount);
      return engine.exists(mount, path);
    },
    readVersion: async (mount, path, version) => {
      assertKvV2(mount);
      const meta = await engine.loadMeta(mount, path);
      if (!meta) return undefined;
      return engine.snapshot(mount, meta, version === 0 ? meta.current : version);
    },
    observeExpiry,
    sweepExpiries: async (mount) => {
      assertKvV2(mount);
      const now = deps.clock();
      let reported = 0;
      for (const { path, meta } of await engine.scanMeta(mount)) {
        if (unreportedExpiry(meta, now) && (await observeExpiry(mount, path))) reported++;
      }
      return reported;
    },
    createExpirySweep: (followed, options) =>
      new ExpirySweep(
        {
          mounts: deps.mounts,
          sealed: () => deps.seal.status().sealed,
          log: deps.log,
          observe: async (mount, path) => isKvV2(mount) && (await observeExpiry(mount, path)),
          followed,
        },
        options,
      ),
  };
}

/** Throws a clear 400 unless `mount` is a KV version 2 mount (sync refuses KV v1). */
export function assertKvV2(mount: MountEntry): void {
  if (kvUpgradeInProgress(mount)) throw kvErrors.upgrading();
  if (!isKvV2(mount)) throw kvErrors.notKvV2(mount.path);
}

export type { VersionSnapshot } from './engine.js';

/** The state sync pushes: the secret's current version. */
export interface SyncSnapshot {
  incarnation: string;
  /** `current_version`; 0 when only metadata exists. */
  version: number;
  /** The current version's data; null when there is none or it is deleted, destroyed or expired. */
  data: Record<string, unknown> | null;
  /** When the current version was written (Unix ms); absent when there is none. */
  committedAt?: number;
}
