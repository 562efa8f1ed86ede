import type { Core } from '../core.js';
import type { Backend } from '../kernel/request.js';
import { isKvV2 } from '../sys/mount-table.js';
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
import { versionPaths } from './path-versions.js';
import { KvV1Engine, kvV1Backend } from './v1.js';

export { KV_EVENTS_QUEUE, kvEventOrderKey, parseKvChangeEvent, type KvChange, type KvChangeEvent } from './events.js';
export type { ExpirySweep, SecretRef } from './expiry-sweep.js';

/** One engine per store: it caches only per-mount key prefixes, never secret state. */
const engines = new WeakMap<object, KvV2Engine>();

function engineFor(core: Pick<Core, 'store' | 'clock'>): KvV2Engine {
  let engine = engines.get(core.store);
  if (!engine) {
    engine = new KvV2Engine(core.store, core.clock);
    engines.set(core.store, engine);
  }
  return engine;
}

/** The KV secrets engines: version 1 (plain key/value) and version 2 (versioned). */
export function kvBackends(core: Core): { v1: Backend; v2: Backend } {
  const engine = engineFor(core);
  const v2: Backend = {
    mountType: 'kv',
    // Order matters: the catch-all answering Vault's invalid-path 404 comes last.
    paths: [
      configPath(engine),
      dataPath(engine),
      ...versionPaths(engine),
      metadataPath(engine),
      subkeysPath(engine),
      invalidPaths(),
    ],
  };
  return { v1: kvV1Backend(new KvV1Engine(core.store)), v2 };
}

// ---- the domain read API for secrets sync (no HTTP) -----------------------------------------

/** Throws a clear 400 unless `mount` is a KV version 2 mount (sync refuses KV v1). */
export function assertKvV2(mount: MountEntry): void {
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
}

/**
 * Reads a KV v2 secret's current version for sync; undefined when the secret (its metadata)
 * does not exist. Pure read: it never commits, so a sync worker calling it cannot produce
 * events of its own.
 */
export async function readLatestForSync(core: Core, mount: MountEntry, path: string): Promise<SyncSnapshot | undefined> {
  assertKvV2(mount);
  const engine = engineFor(core);
  const meta = await engine.loadMeta(mount, path);
  if (!meta) return undefined;
  const current = await engine.snapshot(mount, meta, meta.current);
  return { incarnation: meta.incarnation, version: meta.current, data: current?.data ?? null };
}

/** Whether a KV v2 secret exists: it has metadata (written, or created by a metadata write, and not metadata-deleted). */
export async function secretExists(core: Core, mount: MountEntry, path: string): Promise<boolean> {
  assertKvV2(mount);
  return engineFor(core).exists(mount, path);
}

/** Reads version `version` (0 = current) of a KV v2 secret; undefined when the secret or version does not exist. */
export async function readVersion(core: Core, mount: MountEntry, path: string, version: number): Promise<VersionSnapshot | undefined> {
  assertKvV2(mount);
  const engine = engineFor(core);
  const meta = await engine.loadMeta(mount, path);
  if (!meta) return undefined;
  return engine.snapshot(mount, meta, version === 0 ? meta.current : version);
}

/**
 * Reports an expiry (`delete_version_after`) of the secret's current version that no event
 * has reported yet, by committing its `delete` event; true when it did. HTTP reads do this
 * on their own; a sync worker calls it when a synced version's `deletionTime` comes due.
 */
export async function observeExpiry(core: Core, mount: MountEntry, path: string): Promise<boolean> {
  assertKvV2(mount);
  const engine = engineFor(core);
  const before = await engine.loadMeta(mount, path);
  if (!before || !unreportedExpiry(before, core.clock())) return false;
  await engine.observe(mount, path);
  return true;
}

/**
 * Reports every unreported expiry in a mount (a periodic sweep for a sync worker). It reads
 * every secret's metadata, so it belongs on a timer, never on a request path.
 */
export async function sweepExpiries(core: Core, mount: MountEntry): Promise<number> {
  assertKvV2(mount);
  const engine = engineFor(core);
  const now = core.clock();
  let reported = 0;
  for (const { path, meta } of await engine.scanMeta(mount)) {
    if (unreportedExpiry(meta, now) && (await observeExpiry(core, mount, path))) reported++;
  }
  return reported;
}

/**
 * The expiry sweep over the secrets `followed` names (a consumer of KV change events, such as
 * sync, follows its associated secrets): their unreported expiries become `delete` events.
 */
export function createExpirySweep(core: Core, followed: () => Promise<SecretRef[]>, options?: ExpirySweepOptions): ExpirySweep {
  return new ExpirySweep(
    {
      mounts: core.mounts,
      sealed: () => core.seal.status().sealed,
      log: core.log,
      observe: async (mount, path) => isKvV2(mount) && (await observeExpiry(core, mount, path)),
      followed,
    },
    options,
  );
}
