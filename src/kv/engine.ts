/**
 * The KV version 2 engine: every operation of kv-v2.md as one read-modify-commit over a
 * secret's metadata, with its version data, pruning and change event in the same commit.
 *
 * Longer than 400 lines on purpose: the operations share one private commit path (`mutate`:
 * per-secret serialisation, group commit, the existence-check prefetch, retries on a revision
 * conflict), and splitting them across files would expose that path beyond this class. The
 * rules they apply live in `rules.ts`, the storage layout in `layout.ts`.
 */
import { randomUUID } from 'node:crypto';
import { withRetry, type RevisionCheck, type Store, type StoreEntry, type WriteOp } from '../store/store.js';
import type { MountEntry } from '../kernel/entries.js';
import { KeyedSerializer } from '../kernel/keyed-serializer.js';
import { kvErrors } from './errors.js';
import { KV_WATCH_TRACKING_KEY, kvEventOp, kvWatchKey, type KvChange } from './events.js';
import { GroupCommit } from './group-commit.js';
import {
  DEFAULT_CONFIG,
  INLINE_DATA_MAX,
  KvKeys,
  PAST_INLINE_MAX,
  decode,
  decodeMeta,
  encode,
  fitMetaEntry,
  type StoredConfig,
  type StoredMeta,
  type StoredVersion,
} from './layout.js';
import {
  casRequired,
  customMetadataErrors,
  effectiveMaxVersions,
  markReported,
  mergePatch,
  parseCas,
  prune,
  scheduledDeletion,
  unreportedExpiry,
  versionState,
} from './rules.js';

/** One version as data/metadata responses describe it. */
export interface VersionView {
  version: number;
  created: number;
  deletion: number | null;
  destroyed: boolean;
  custom: Record<string, string> | null;
}

/** A read of one version: absent, present but deleted or destroyed, or readable. */
export type ReadOutcome =
  | { kind: 'missing' }
  | { kind: 'gone'; view: VersionView }
  | { kind: 'found'; view: VersionView; data: Record<string, unknown> };

/** One version of a secret as the sync read API returns it. */
export interface VersionSnapshot {
  incarnation: string;
  version: number;
  /** Unix ms. */
  createdTime: number;
  /** Unix ms of the (past or scheduled) soft deletion; null when not deleted. */
  deletionTime: number | null;
  destroyed: boolean;
  /** null when the version is deleted (deletion time passed) or destroyed. */
  data: Record<string, unknown> | null;
}

export type PatchOutcome = { kind: 'missing' } | { kind: 'gone'; view: VersionView } | { kind: 'written'; view: VersionView };

/** Key-level settings a metadata write may set; undefined = leave as is. */
export interface MetadataInput {
  maxVersions?: number;
  casRequired?: boolean;
  deleteVersionAfter?: number;
  custom?: Record<string, string>;
}

/** A metadata merge patch: `null` resets a setting; in `custom`, `null` removes that key. */
export interface MetadataPatch {
  maxVersions?: number | null;
  casRequired?: boolean | null;
  deleteVersionAfter?: number | null;
  custom?: Record<string, string | null> | null;
}

export const CAS_MANDATED_WARNING =
  '"cas_required" set to false, but is mandated by backend config. This value will be ignored.';

/** What one read-modify-commit decided. */
interface Decision<T> {
  result: T;
  /** The metadata to store: unchanged when undefined, removed when null. */
  meta?: StoredMeta | null;
  /** Further writes of the same atomic action (version data, pruned versions). */
  ops?: WriteOp[];
  /** The change sync must see, appended to the outbox in the same commit (if sync watches the mount). */
  event?: KvChange;
}

function newMeta(now: number): StoredMeta {
  return {
    incarnation: randomUUID(),
    created: now,
    updated: now,
    current: 0,
    oldest: 0,
    maxVersions: 0,
    casRequired: false,
    deleteVersionAfter: 0,
    custom: null,
    versions: {},
    data: null,
    notified: null,
  };
}

export function viewOf(meta: StoredMeta, version: number): VersionView {
  const v = meta.versions[version]!;
  return { version, created: v.created, deletion: v.deletion, destroyed: v.destroyed, custom: meta.custom };
}

function checkCas(config: StoredConfig, meta: StoredMeta, options: Record<string, unknown> | undefined): void {
  const raw = options?.cas;
  if (raw === undefined || raw === null) {
    if (casRequired(config, meta)) throw kvErrors.casRequired();
    return;
  }
  const cas = parseCas(raw);
  if (cas === undefined) throw kvErrors.casUnparseable();
  if (cas !== meta.current) throw kvErrors.casMismatch();
}

function checkCustom(custom: Record<string, string>): void {
  const errors = customMetadataErrors(custom);
  if (errors.length > 0) throw kvErrors.customMetadata(errors);
}

/** The storage area of a mount's data: its uuid, or the area a KV v1 → v2 upgrade moved it to. */
const storageArea = (mount: MountEntry): string => mount.storage ?? mount.uuid;

/** Decoded metadata by the stored bytes it came from (the read cache hands out the same Buffer). */
const decodedMeta = new WeakMap<Buffer, StoredMeta>();

/**
 * A stored metadata entry, decoded once per stored value: reads of a hot secret get the same
 * bytes from the read cache. The decoded metadata is shared and frozen: readers never change
 * it (writes decode their own copy).
 */
function sharedMeta(entry: StoreEntry): StoredMeta {
  let meta = decodedMeta.get(entry.value);
  if (!meta) {
    meta = Object.freeze(decodeMeta(entry.value));
    decodedMeta.set(entry.value, meta);
  }
  return meta;
}

/**
 * The KV v2 engine's domain: versioning, CAS, retention, expiry and change events over the
 * store port. It knows nothing of HTTP; the `path-*.ts` declarations translate for it.
 *
 * Every change is one read-modify-commit of the secret's metadata entry (`mutate`): read the
 * entry and its revision, decide, then commit the new metadata, the version entries and the
 * outbox event (only for a mount sync watches: `KV_WATCH_TRACKING_KEY`) atomically, with a
 * check that the entry's revision has not moved. Changes to
 * one secret are queued in arrival order; should anything else move the entry in between,
 * the check fails and the whole decision is retried on fresh state, so CAS and version
 * numbering stay exact without holding a transaction across an `await`. Commits of different
 * secrets issued together are merged into one store commit (`GroupCommit`).
 */
export class KvV2Engine {
  private readonly keysByMount = new Map<string, KvKeys>();
  private readonly configs = new Map<string, StoredConfig>();
  private configEpoch = 0;
  /** Metadata entries read by the ACL existence check, reused by the write that follows. */
  private readonly prefetched = new WeakMap<object, StoreEntry | null>();
  private readonly commits: GroupCommit;
  /**
   * Concurrent writes to one secret queue instead of racing to a revision conflict each (with
   * group commit, every lost race would cost a whole batch turn, and a hot secret could
   * exhaust its retries).
   */
  private readonly perSecret = new KeyedSerializer();
  /**
   * Metadata this engine committed, by the stored bytes it was encoded into: the next change
   * of the secret gets those same bytes back from the read cache and starts from this object
   * instead of decoding them (equal by construction: the bytes are its encoding, of JSON-only
   * values). Each is taken once, since a change works on it in place.
   */
  private readonly committedMeta = new WeakMap<Buffer, StoredMeta>();

  constructor(
    private readonly store: Store,
    private readonly clock: () => number,
  ) {
    this.commits = new GroupCommit(store);
  }

  /** The mount's storage keys, by the area its data lives in (a KV v1 → v2 upgrade moves it to a new one). */
  keys(mount: MountEntry): KvKeys {
    const area = storageArea(mount);
    let keys = this.keysByMount.get(area);
    if (!keys) {
      keys = new KvKeys(mount);
      this.keysByMount.set(area, keys);
    }
    return keys;
  }

  // ---- config ---------------------------------------------------------------------------

  /**
   * The mount's settings. Every write needs them, so they are cached per mount: this engine
   * is their only writer (`setConfig` refreshes the cache after its commit) and a disabled
   * mount's data goes with its storage area (its uuid, or a fresh area), which is never reused.
   */
  async config(mount: MountEntry): Promise<StoredConfig> {
    const cached = this.configs.get(storageArea(mount));
    if (cached) return cached;
    // A `setConfig` that commits while this read is in flight bumps the epoch, so the value
    // read here, possibly older, is returned but not cached.
    const epoch = this.configEpoch;
    const entry = await this.store.get(this.keys(mount).config);
    const config = entry ? { ...DEFAULT_CONFIG, ...decode<StoredConfig>(entry.value) } : DEFAULT_CONFIG;
    if (epoch === this.configEpoch) this.configs.set(storageArea(mount), config);
    return config;
  }

  /**
   * Forgets the cached settings of every mount: another node sharing the store may have changed
   * them (`Server.refreshFromStorage`). A read in flight is not cached (the epoch moves).
   */
  forgetConfigs(): void {
    this.configEpoch++;
    this.configs.clear();
  }

  /** Changes the supplied settings only; nothing supplied is a no-op. */
  async setConfig(mount: MountEntry, change: Partial<StoredConfig>): Promise<void> {
    if (Object.values(change).every((v) => v === undefined)) return;
    const key = this.keys(mount).config;
    await withRetry(async () => {
      const entry = await this.store.get(key);
      const current = entry ? { ...DEFAULT_CONFIG, ...decode<StoredConfig>(entry.value) } : { ...DEFAULT_CONFIG };
      const next: StoredConfig = {
        maxVersions: change.maxVersions ?? current.maxVersions,
        casRequired: change.casRequired ?? current.casRequired,
        deleteVersionAfter: change.deleteVersionAfter ?? current.deleteVersionAfter,
      };
      await this.store.commit([{ kind: 'put', key, value: encode(next) }], [{ key, revision: entry?.revision ?? 0 }]);
      this.configEpoch++;
      this.configs.set(storageArea(mount), next);
    });
  }

  // ---- reads ----------------------------------------------------------------------------

  async loadMeta(mount: MountEntry, path: string): Promise<StoredMeta | undefined> {
    const entry = await this.store.get(this.keys(mount).meta(path));
    return entry && sharedMeta(entry);
  }

  /**
   * Loads a secret's metadata for a read, first reporting an expiry of its current version
   * that no event has reported yet ("observed" expiry; see `KvChangeEvent`).
   */
  async observe(mount: MountEntry, path: string): Promise<StoredMeta | undefined> {
    const meta = await this.loadMeta(mount, path);
    return meta && unreportedExpiry(meta, this.clock()) ? this.reportExpiry(mount, path) : meta;
  }

  /** Commits the event of an observed expiry, then loads the metadata again. */
  private async reportExpiry(mount: MountEntry, path: string): Promise<StoredMeta | undefined> {
    // The commit is a no-op decision: `mutate` itself appends the expiry event.
    await this.mutate(mount, path, undefined, () => ({ result: undefined }));
    return this.loadMeta(mount, path);
  }

  /** Metadata of every secret of the mount, for sweeps (not a request path: it reads them all). */
  async scanMeta(mount: MountEntry): Promise<Array<{ path: string; meta: StoredMeta }>> {
    const prefix = this.keys(mount).metaFolder('');
    return (await this.store.scan(prefix)).map((e) => ({ path: e.key.slice(prefix.length), meta: decodeMeta(e.value) }));
  }

  async exists(mount: MountEntry, path: string): Promise<boolean> {
    return (await this.store.get(this.keys(mount).meta(path))) !== undefined;
  }

  /**
   * `exists` for the ACL check before a write: the metadata entry it reads is kept for the
   * write of the same request (`request` is the key), saving it a read. A stale entry only
   * makes the write's revision check fail and retry on fresh state.
   */
  async existsFor(request: object, mount: MountEntry, path: string): Promise<boolean> {
    const entry = await this.store.get(this.keys(mount).meta(path));
    this.prefetched.set(request, entry ?? null);
    return entry !== undefined;
  }

  private takePrefetched(request: object | undefined): StoreEntry | null | undefined {
    if (!request) return undefined;
    const entry = this.prefetched.get(request);
    this.prefetched.delete(request);
    return entry;
  }

  /** Version `version` (0 = current) with its data, if it exists and is neither deleted nor destroyed. */
  async read(mount: MountEntry, path: string, version: number): Promise<ReadOutcome> {
    // `observe` inlined: this is the hottest path, and each async layer costs a promise and a turn.
    const entry = await this.store.get(this.keys(mount).meta(path));
    let meta = entry && sharedMeta(entry);
    if (meta && unreportedExpiry(meta, this.clock())) meta = await this.reportExpiry(mount, path);
    if (!meta) return { kind: 'missing' };
    const n = version === 0 ? meta.current : version;
    const v = meta.versions[n];
    if (n <= 0 || !v) return { kind: 'missing' };
    if (versionState(v, this.clock()) !== 'live') return { kind: 'gone', view: viewOf(meta, n) };
    // The data of the current and recent versions is usually inline: no store read, and no await.
    const data = (n === meta.current ? meta.data : meta.past?.[n]) ?? (await this.dataOf(mount, meta, n));
    // Destroyed or pruned between the two reads by a concurrent request.
    if (!data) return { kind: 'missing' };
    return { kind: 'found', view: viewOf(meta, n), data };
  }

  /** The data of version `n`: inline in the metadata entry (`data`, `past`) or in its own entry. */
  private async dataOf(mount: MountEntry, meta: StoredMeta, n: number): Promise<Record<string, unknown> | null> {
    if (n === meta.current && meta.data !== undefined) return meta.data;
    const kept = meta.past?.[n];
    if (kept !== undefined) return kept;
    const entry = await this.store.get(this.keys(mount).version(meta.incarnation, n));
    return entry ? decode<Record<string, unknown>>(entry.value) : null;
  }

  /** Version `n` of a loaded secret with its data when readable; undefined when there is no such version. */
  async snapshot(mount: MountEntry, meta: StoredMeta, n: number): Promise<VersionSnapshot | undefined> {
    const v = meta.versions[n];
    if (n <= 0 || !v) return undefined;
    const snapshot: VersionSnapshot = {
      incarnation: meta.incarnation,
      version: n,
      createdTime: v.created,
      deletionTime: v.deletion,
      destroyed: v.destroyed,
      data: null,
    };
    if (versionState(v, this.clock()) !== 'live') return snapshot;
    snapshot.data = await this.dataOf(mount, meta, n);
    return snapshot;
  }

  /** A secret's metadata and version table, or undefined. */
  async metadata(mount: MountEntry, path: string): Promise<StoredMeta | undefined> {
    return this.observe(mount, path);
  }

  /**
   * Up to `limit` secret paths under `under` (a folder ending with `/`, or '' for the whole
   * mount), recursively, in key order, after `after` (exclusive; null: from the start). A
   * cursor walk over folder listings: a folder wholly before the cursor is skipped without being
   * listed, and no metadata is read. For bounded steps over a large mount (sync's prefixes).
   */
  async listPaths(mount: MountEntry, under: string, after: string | null, limit: number): Promise<string[]> {
    const base = this.keys(mount).metaFolder('');
    const out: string[] = [];
    const walk = async (folder: string): Promise<void> => {
      for (const name of await this.store.list(base + folder)) {
        if (out.length >= limit) return;
        const path = folder + name;
        if (name.endsWith('/')) {
          // Every path in the folder sorts before the cursor unless the cursor lies inside it.
          if (after !== null && !after.startsWith(path) && byteOrder(path, after) < 0) continue;
          await walk(path);
        } else if (after === null || byteOrder(path, after) > 0) {
          out.push(path);
        }
      }
    };
    await walk(under);
    return out;
  }

  /** Direct children of a folder (`""` = root); folders end with `/`. */
  async list(mount: MountEntry, folder: string, excludeDeleted: boolean): Promise<string[]> {
    const keys = this.keys(mount);
    const names = await this.store.list(keys.metaFolder(folder));
    if (!excludeDeleted) return names;
    const now = this.clock();
    const prefix = folder === '' ? '' : `${folder}/`;
    const kept: string[] = [];
    for (const name of names) {
      if (!name.endsWith('/')) {
        const meta = await this.loadMeta(mount, prefix + name);
        const v = meta?.versions[meta.current];
        // Soft-deleted (by request or expiry), whether or not it was destroyed afterwards.
        if (v && v.deletion !== null && v.deletion <= now) continue;
      }
      kept.push(name);
    }
    return kept;
  }

  // ---- writes ---------------------------------------------------------------------------

  /** Stores `data` as a new version (POST/PUT `data/<path>`). */
  async write(
    mount: MountEntry,
    path: string,
    data: Record<string, unknown>,
    options?: Record<string, unknown>,
    request?: object,
  ): Promise<VersionView> {
    const config = await this.config(mount);
    const first = this.takePrefetched(request);
    return this.mutate(mount, path, first, (before, now) => {
      const meta = before ?? newMeta(now);
      checkCas(config, meta, options);
      return this.appendVersion(mount, config, meta, data, now, 'write');
    });
  }

  /** Merge-patches the current version into a new one (PATCH `data/<path>`). */
  async patch(mount: MountEntry, path: string, patch: Record<string, unknown>, options?: Record<string, unknown>): Promise<PatchOutcome> {
    const config = await this.config(mount);
    return this.mutate<PatchOutcome>(mount, path, undefined, async (meta, now) => {
      if (!meta || meta.current === 0) return { result: { kind: 'missing' } };
      checkCas(config, meta, options);
      const current = meta.versions[meta.current]!;
      if (versionState(current, now) !== 'live') return { result: { kind: 'gone', view: viewOf(meta, meta.current) } };
      const currentData = await this.dataOf(mount, meta, meta.current);
      if (!currentData) return { result: { kind: 'gone', view: viewOf(meta, meta.current) } };
      const merged = mergePatch(currentData, patch) as Record<string, unknown>;
      const decision = this.appendVersion(mount, config, meta, merged, now, 'patch');
      return { ...decision, result: { kind: 'written', view: decision.result } };
    });
  }

  private appendVersion(
    mount: MountEntry,
    config: StoredConfig,
    meta: StoredMeta,
    data: Record<string, unknown>,
    now: number,
    event: 'write' | 'patch',
  ): Decision<VersionView> {
    const keys = this.keys(mount);
    const previous = meta.current;
    const previousInline = previous > 0 && meta.data !== undefined ? meta.data : undefined;
    const n = previous + 1;
    const version: StoredVersion = { created: now, deletion: scheduledDeletion(now, config, meta), destroyed: false };
    meta.versions[n] = version;
    meta.current = n;
    meta.updated = now;
    // Measured as text: the bytes are only needed when the data goes to an entry of its own.
    const json = JSON.stringify(data);
    const ops: WriteOp[] = [];
    if (Buffer.byteLength(json) <= INLINE_DATA_MAX) meta.data = data;
    else {
      delete meta.data;
      ops.push({ kind: 'put', key: keys.version(meta.incarnation, n), value: Buffer.from(json) });
    }
    const dropped = prune(meta, effectiveMaxVersions(config, meta));
    for (const old of dropped) {
      // The superseded version's inline data was never stored apart; a pruned inline one goes with the entry.
      if (old === previous && previousInline !== undefined) continue;
      if (meta.past?.[old] !== undefined) delete meta.past[old];
      else ops.push({ kind: 'delete', key: keys.version(meta.incarnation, old) });
    }
    // Inline data of the superseded version stays inline among the earlier versions' while
    // there is room, else moves to an entry of its own (it had none while it was current),
    // unless it was destroyed or is pruned right away.
    if (previousInline && !dropped.includes(previous)) {
      const past = (meta.past ??= {});
      if (Object.keys(past).length < PAST_INLINE_MAX) past[previous] = previousInline;
      else ops.push({ kind: 'put', key: keys.version(meta.incarnation, previous), value: encode(previousInline) });
    }
    return { result: viewOf(meta, n), meta, ops, event };
  }

  /** Soft-deletes the current version (DELETE `data/<path>`); idempotent. */
  async deleteLatest(mount: MountEntry, path: string): Promise<void> {
    await this.mutate(mount, path, undefined, (meta, now) => {
      const v = meta?.versions[meta.current];
      if (!meta || !v || versionState(v, now) !== 'live') return { result: undefined };
      v.deletion = now;
      return { result: undefined, meta, event: 'delete' };
    });
  }

  /** Soft-deletes the listed versions; unknown, deleted and destroyed ones are skipped. */
  async deleteVersions(mount: MountEntry, path: string, versions: number[]): Promise<void> {
    await this.mutate(mount, path, undefined, (meta, now) => {
      if (!meta) return { result: undefined };
      let changed = false;
      for (const n of versions) {
        const v = meta.versions[n];
        if (!v || versionState(v, now) !== 'live') continue;
        v.deletion = now;
        changed = true;
      }
      return changed ? { result: undefined, meta, event: 'delete' } : { result: undefined };
    });
  }

  /**
   * Restores the listed versions: clears their deletion time, then schedules a new one from
   * now if `delete_version_after` applies. Destroyed versions stay destroyed.
   */
  async undeleteVersions(mount: MountEntry, path: string, versions: number[]): Promise<void> {
    const config = await this.config(mount);
    await this.mutate(mount, path, undefined, (meta, now) => {
      if (!meta) return { result: undefined };
      let touched = false;
      let restored = false;
      for (const n of versions) {
        const v = meta.versions[n];
        if (!v || v.destroyed) continue;
        if (versionState(v, now) === 'deleted') restored = true;
        v.deletion = scheduledDeletion(now, config, meta);
        touched = true;
      }
      if (!touched) return { result: undefined };
      return restored ? { result: undefined, meta, event: 'undelete' } : { result: undefined, meta };
    });
  }

  /** Permanently removes the data of the listed versions; their metadata stays, marked destroyed. */
  async destroyVersions(mount: MountEntry, path: string, versions: number[]): Promise<void> {
    const keys = this.keys(mount);
    await this.mutate(mount, path, undefined, (meta) => {
      if (!meta) return { result: undefined };
      const ops: WriteOp[] = [];
      let destroyed = false;
      for (const n of versions) {
        const v = meta.versions[n];
        if (!v || v.destroyed) continue;
        v.destroyed = true;
        destroyed = true;
        // A version's data may be inline (cleared with the entry) or in its own entry.
        if (n === meta.current && meta.data !== undefined) meta.data = null;
        else if (meta.past?.[n] !== undefined) delete meta.past[n];
        else ops.push({ kind: 'delete', key: keys.version(meta.incarnation, n) });
        if (n === meta.current) meta.data = null;
      }
      return destroyed ? { result: undefined, meta, ops, event: 'destroy' } : { result: undefined };
    });
  }

  /**
   * Creates or updates key-level settings (POST/PUT `metadata/<path>`); returns warnings.
   * Nothing supplied is a no-op that does not create the key.
   */
  async writeMetadata(mount: MountEntry, path: string, input: MetadataInput): Promise<string[]> {
    if (Object.values(input).every((v) => v === undefined)) return [];
    if (input.maxVersions !== undefined && input.maxVersions < 0) throw kvErrors.negative('max_versions');
    if (input.custom !== undefined) checkCustom(input.custom);
    const config = await this.config(mount);
    await this.mutate(mount, path, undefined, (before, now) => {
      const meta = before ?? newMeta(now);
      if (input.maxVersions !== undefined) meta.maxVersions = input.maxVersions;
      if (input.casRequired !== undefined) meta.casRequired = input.casRequired;
      if (input.deleteVersionAfter !== undefined) meta.deleteVersionAfter = input.deleteVersionAfter;
      if (input.custom !== undefined) meta.custom = Object.keys(input.custom).length > 0 ? { ...input.custom } : null;
      meta.updated = now;
      return { result: undefined, meta };
    });
    return input.casRequired === false && config.casRequired ? [CAS_MANDATED_WARNING] : [];
  }

  /** Merge-patches key-level settings (PATCH `metadata/<path>`); false when the key does not exist. */
  async patchMetadata(mount: MountEntry, path: string, patch: MetadataPatch): Promise<{ found: boolean; warnings: string[] }> {
    if (patch.maxVersions != null && patch.maxVersions < 0) throw kvErrors.negative('max_versions');
    const config = await this.config(mount);
    const found = await this.mutate(mount, path, undefined, (meta, now) => {
      if (!meta) return { result: false };
      if (patch.maxVersions !== undefined) meta.maxVersions = patch.maxVersions ?? 0;
      if (patch.casRequired !== undefined) meta.casRequired = patch.casRequired ?? false;
      if (patch.deleteVersionAfter !== undefined) meta.deleteVersionAfter = patch.deleteVersionAfter ?? 0;
      if (patch.custom !== undefined) {
        const merged: Record<string, string> = patch.custom === null ? {} : { ...(meta.custom ?? {}) };
        for (const [k, v] of Object.entries(patch.custom ?? {})) {
          if (v === null) delete merged[k];
          else merged[k] = v;
        }
        checkCustom(merged);
        meta.custom = Object.keys(merged).length > 0 ? merged : null;
      }
      meta.updated = now;
      return { result: true, meta };
    });
    const warnings = found && patch.casRequired === false && config.casRequired ? [CAS_MANDATED_WARNING] : [];
    return { found, warnings };
  }

  /** Removes a secret's metadata and every version (DELETE `metadata/<path>`); idempotent. */
  async deleteMetadata(mount: MountEntry, path: string): Promise<void> {
    const keys = this.keys(mount);
    await this.mutate(mount, path, undefined, (meta) => {
      if (!meta) return { result: undefined };
      return {
        result: undefined,
        meta: null,
        ops: [{ kind: 'deletePrefix', prefix: keys.versions(meta.incarnation) }],
        event: 'metadata-delete',
      };
    });
  }

  // ---- the one read-modify-commit -------------------------------------------------------

  /**
   * Reads the metadata entry, lets `decide` work on a private copy, and commits its decision
   * together with the change event, checked against the revision that was read. An expiry of
   * the current version that no event has reported yet is reported here, by whichever access
   * observes it first (a concurrent observer is queued behind it and finds it reported).
   */
  private async mutate<T>(
    mount: MountEntry,
    path: string,
    /** The metadata entry already read for this request (null = absent), used by the first attempt only. */
    prefetched: StoreEntry | null | undefined,
    decide: (meta: StoredMeta | undefined, now: number) => Decision<T> | Promise<Decision<T>>,
  ): Promise<T> {
    const metaKey = this.keys(mount).meta(path);
    let first = prefetched;
    // Queued per secret; the revision check still guards against any other writer.
    return this.perSecret.run(metaKey, () =>
      withRetry(async () => {
        const entry = first !== undefined ? (first ?? undefined) : await this.store.get(metaKey);
        first = undefined;
        return this.commitDecision(mount, path, metaKey, entry, decide);
      }),
    );
  }

  /** One attempt: decide on the entry read, then commit the decision checked against its revision. */
  private async commitDecision<T>(
    mount: MountEntry,
    path: string,
    metaKey: string,
    entry: StoreEntry | undefined,
    decide: (meta: StoredMeta | undefined, now: number) => Decision<T> | Promise<Decision<T>>,
  ): Promise<T> {
    const before = entry ? (this.takeCommitted(entry.value) ?? decodeMeta(entry.value)) : undefined;
    const now = this.clock();
    const decision = await decide(before, now);
    const after = decision.meta === undefined ? before : decision.meta;
    let event = decision.event;
    let metaChanged = decision.meta !== undefined;
    if (after) {
      if (event) markReported(after, now);
      else if (unreportedExpiry(after, now)) {
        event = 'delete';
        markReported(after, now);
        metaChanged = true;
      }
    }
    if (!metaChanged && !decision.ops?.length) return decision.result;

    const ops: WriteOp[] = [];
    const encoded = after ? fitMetaEntry(after, this.keys(mount), ops) : undefined;
    if (!encoded) ops.push({ kind: 'delete', key: metaKey });
    else ops.push({ kind: 'put', key: metaKey, value: encoded });
    if (decision.ops) ops.push(...decision.ops);
    const checks: RevisionCheck[] = [{ key: metaKey, revision: entry?.revision ?? 0 }];
    const subject = after ?? before;
    if (event && subject) {
      const unwatched = await this.unwatched(mount);
      if (unwatched) checks.push(unwatched);
      else {
        ops.push(
          kvEventOp({
            mountAccessor: mount.accessor,
            path,
            change: event,
            version: subject.current,
            incarnation: subject.incarnation,
            at: now,
          }),
        );
      }
    }
    await this.commits.commit(ops, checks);
    if (after && encoded) this.committedMeta.set(encoded, after);
    return decision.result;
  }

  /**
   * Whether the mount's changes need no event (see `KV_WATCH_TRACKING_KEY`): undefined when
   * sync watches them (or the watch records are not complete yet), else the revision check that
   * keeps the answer true until the commit — an association set in between makes it conflict,
   * and the change is decided again, then with its event. Two reads of the read cache.
   */
  private async unwatched(mount: MountEntry): Promise<RevisionCheck | undefined> {
    if (!(await this.store.get(KV_WATCH_TRACKING_KEY))) return undefined;
    const key = kvWatchKey(mount.accessor);
    return (await this.store.get(key)) ? undefined : { key, revision: 0 };
  }

  /** The metadata committed as `value`, if this engine committed it and no change has taken it since. */
  private takeCommitted(value: Buffer): StoredMeta | undefined {
    const meta = this.committedMeta.get(value);
    if (meta) this.committedMeta.delete(value);
    return meta;
  }
}

/** The store's key order (bytes of UTF-8), which JavaScript's string order differs from past the BMP. */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
