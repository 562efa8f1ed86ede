/**
 * Sync's stored records. Longer than 400 lines on purpose: this file is the single place that
 * knows sync's storage layout — every key, every row's schema, every atomic change — and
 * splitting it would spread the layout over files that must then agree with each other.
 */
import type { z } from 'zod';
import { kvWatchOp, kvWatchTrackingOp } from '../kv/index.js';
import { RevisionConflict, type RevisionCheck, type Store, type WriteOp } from '../store/store.js';
import {
  DEFAULT_SYNC_CONFIG,
  SYNC_QUEUE,
  association as associationSchema,
  destination as destinationSchema,
  nameClaims as nameClaimsSchema,
  orderKeyOf,
  ownedSecret as ownedSecretSchema,
  PREFIX_QUEUE,
  prefixAssociation as prefixSchema,
  prefixStep as prefixStepSchema,
  syncConfig as syncConfigSchema,
  syncOperation as syncOperationSchema,
  type Association,
  type AssociationRef,
  type Destination,
  type NameClaimant,
  type OwnedSecret,
  type PrefixAssociation,
  type PrefixStep,
  type SyncConfig,
  type SyncOperation,
} from './model.js';

/**
 * The one owner of what secrets sync stores: the storage keys, the rows (parsed with their zod
 * schemas, never cast), revision-checked saves, the by-secret index that fan-out and the
 * per-secret views read, the ownership records (whose each AWS secret is), the name claims (which
 * associations sync to each AWS name), the prefix associations and their per-mount fan-out
 * index, the layout version migrations key on, and the outbox operations that queue a reconcile
 * or a prefix step. The rest of the feature reads and writes sync's data only through here.
 */

const enc = encodeURIComponent;

/** Storage keys. Secret paths contain `/`, so they are percent-encoded into one segment. */
const keys = {
  config: 'sync/config',
  destinationPrefix: (type: string) => `sync/destinations/${type}/`,
  destination: (type: string, name: string) => `sync/destinations/${type}/${enc(name)}`,
  associationPrefix: (type: string, name: string) => `sync/associations/${type}/${enc(name)}/`,
  association: (type: string, name: string, accessor: string, secret: string) =>
    `sync/associations/${type}/${enc(name)}/${accessor}/${enc(secret)}`,
  /** Reverse index: secret → destinations, for fan-out of KV changes. */
  bySecretPrefix: (accessor: string, secret: string) => `sync/by-secret/${accessor}/${enc(secret)}/`,
  bySecret: (accessor: string, secret: string, type: string, name: string) =>
    `sync/by-secret/${accessor}/${enc(secret)}/${type}:${enc(name)}`,
  bySecretAll: 'sync/by-secret/',
  associationsAll: 'sync/associations/',
  /** Ownership records: per destination, by external name. */
  ownedPrefix: (type: string, name: string) => `sync/owned/${type}/${enc(name)}/`,
  owned: (type: string, name: string, external: string) => `sync/owned/${type}/${enc(name)}/${enc(external)}`,
  /** Which associations sync to an AWS name, per region (`name-claims.ts`). */
  names: (region: string, external: string) => `sync/names/${enc(region)}/${enc(external)}`,
  /** The layout version of sync's records, for migrations (`migration.ts`). */
  layout: 'sync/layout',
  /** Prefix associations, per destination (`prefixes.ts`). */
  prefixesOf: (type: string, name: string) => `sync/prefixes/${type}/${enc(name)}/`,
  prefix: (type: string, name: string, accessor: string, prefix: string) => `sync/prefixes/${type}/${enc(name)}/${accessor}:${enc(prefix)}`,
  /** Reverse index: mount → prefix associations, for fan-out of KV writes of secrets not associated yet. */
  byPrefixOfMount: (accessor: string) => `sync/by-prefix/${accessor}/`,
  byPrefix: (accessor: string, type: string, name: string, prefix: string) => `sync/by-prefix/${accessor}/${type}:${enc(name)}:${enc(prefix)}`,
  byPrefixAll: 'sync/by-prefix/',
  /** The secrets a prefix skipped (its setter's policies denied them), one marker each, so that each is counted once. */
  prefixSkipped: (type: string, name: string, accessor: string, prefix: string) => `sync/prefix-skipped/${type}/${enc(name)}/${accessor}:${enc(prefix)}/`,
};

/** The identity of a prefix association: its destination, mount and prefix. */
export type PrefixRef = Pick<PrefixAssociation, 'dest_type' | 'dest_name' | 'accessor' | 'prefix'>;
const prefixKey = (p: PrefixRef) => keys.prefix(p.dest_type, p.dest_name, p.accessor, p.prefix);

const associationKey = (a: AssociationRef) => keys.association(a.dest_type, a.dest_name, a.accessor, a.secret_name);
const bySecretKey = (a: AssociationRef) => keys.bySecret(a.accessor, a.secret_name, a.dest_type, a.dest_name);

const encode = (value: unknown) => Buffer.from(JSON.stringify(value));
const decode = <S extends z.ZodType>(schema: S, bytes: Buffer): z.output<S> => schema.parse(JSON.parse(bytes.toString('utf8')));

/** A stored row with the revision it was read at, for a revision-checked save. */
export interface Row<T> {
  value: T;
  revision: number;
}

/** The destination (`type`, `name`) of a `<type>/<name>` reference, as operations carry it. */
export function splitDestinationRef(dest: string): { type: string; name: string } {
  const [type, ...rest] = dest.split('/');
  return { type: type!, name: rest.join('/') };
}

/**
 * An enqueue op for one association's reconcile, in the same commit as the change that needs it.
 * A KV change joins a reconcile of the association that waits unclaimed (deferred to its turn
 * in the budget or its write interval, or not claimed yet): that reconcile reads the secret's
 * latest state when it runs, which this change is already part of, so a hot secret keeps one
 * waiting item rather than one per write (each scanned by every claim while it waited).
 */
export function syncOp(a: AssociationRef, reason: SyncOperation['reason']): WriteOp {
  const dest = `${a.dest_type}/${a.dest_name}`;
  const payload: SyncOperation = { dest, accessor: a.accessor, secret_name: a.secret_name, reason };
  return {
    kind: 'enqueue',
    queue: SYNC_QUEUE,
    orderKey: orderKeyOf(dest, a.accessor, a.secret_name),
    payload: JSON.stringify(payload),
    ...(reason === 'kv-change' ? { joinWaiting: true } : {}),
  };
}

/** An enqueue op for one step of a prefix bring-in or removal; steps of one prefix run in order. */
export function prefixStepOp(step: PrefixStep): WriteOp {
  return { kind: 'enqueue', queue: PREFIX_QUEUE, orderKey: `${step.dest}|${step.accessor}|${step.prefix}`, payload: JSON.stringify(step) };
}

/** Parses a `sync-prefix` outbox payload; throws on anything that is not a prefix step. */
export function parsePrefixStep(payload: string): PrefixStep {
  return prefixStepSchema.parse(JSON.parse(payload));
}

/** Parses a `sync` outbox payload; throws on anything that is not a sync operation. */
export function parseSyncOperation(payload: string): SyncOperation {
  return syncOperationSchema.parse(JSON.parse(payload));
}

/**
 * One atomic change to sync's records: its writes, the outbox operations they need, and the
 * revisions they were decided on. `commit` throws `RevisionConflict` if any of those moved.
 */
export class SyncChange {
  private readonly ops: WriteOp[] = [];
  private readonly checks: RevisionCheck[] = [];
  private removesAssociations = false;

  constructor(
    private readonly store: Store,
    /** Told after a commit that removed association records (`SyncRecords.associationRemovedSince`). */
    private readonly onAssociationsRemoved: () => void = () => undefined,
  ) {}

  private check(key: string, revision: number | undefined): this {
    if (revision !== undefined) this.checks.push({ key, revision });
    return this;
  }

  saveConfig(config: SyncConfig, revision: number): this {
    this.ops.push({ kind: 'put', key: keys.config, value: encode(config) });
    return this.check(keys.config, revision);
  }

  /** Writes a destination; `revision` (0 = must not exist yet) is the one it was read at. */
  saveDestination(d: Destination, revision?: number): this {
    const key = keys.destination(d.type, d.name);
    this.ops.push({ kind: 'put', key, value: encode(d) });
    return this.check(key, revision);
  }

  /** Requires the destination to be unchanged since it was read at `revision`. */
  checkDestination(type: string, name: string, revision: number): this {
    return this.check(keys.destination(type, name), revision);
  }

  deleteDestination(type: string, name: string, revision?: number): this {
    const key = keys.destination(type, name);
    this.ops.push({ kind: 'delete', key });
    return this.check(key, revision);
  }

  /** Writes an ownership record; `revision` 0 = only if the destination has none for that name yet. */
  saveOwned(type: string, name: string, owned: OwnedSecret, revision?: number): this {
    const key = keys.owned(type, name, owned.name);
    this.ops.push({ kind: 'put', key, value: encode(owned) });
    return this.check(key, revision);
  }

  deleteOwned(type: string, name: string, external: string): this {
    this.ops.push({ kind: 'delete', key: keys.owned(type, name, external) });
    return this;
  }

  /** Forgets every ownership record of a destination (deleted with `force_delete`: its secrets stay in AWS, unowned). */
  deleteOwnedOf(type: string, name: string): this {
    this.ops.push({ kind: 'deletePrefix', prefix: keys.ownedPrefix(type, name) });
    return this;
  }

  /** Writes who claims an AWS name in a region (none: the record goes); `revision` is the one it was read at. */
  saveNameClaims(region: string, external: string, claimants: NameClaimant[], revision?: number): this {
    const key = keys.names(region, external);
    this.ops.push(claimants.length > 0 ? { kind: 'put', key, value: encode({ claimants }) } : { kind: 'delete', key });
    return this.check(key, revision);
  }

  /** Records the layout version the records were migrated to; `revision` is the one it was read at. */
  saveLayout(version: number, revision: number): this {
    this.ops.push({ kind: 'put', key: keys.layout, value: encode({ version }) });
    return this.check(keys.layout, revision);
  }

  /** Deletes every association record of a destination (not their by-secret entries: `unindex` each). */
  deleteAssociationsOf(type: string, name: string): this {
    this.ops.push({ kind: 'deletePrefix', prefix: keys.associationPrefix(type, name) });
    this.removesAssociations = true;
    return this;
  }

  saveAssociation(a: Association, revision?: number): this {
    const key = associationKey(a);
    this.ops.push({ kind: 'put', key, value: encode(a) });
    return this.check(key, revision);
  }

  /** Forgets an association: its record and its by-secret entry. */
  deleteAssociation(a: AssociationRef, revision?: number): this {
    const key = associationKey(a);
    this.ops.push({ kind: 'delete', key });
    this.unindex(a);
    this.removesAssociations = true;
    return this.check(key, revision);
  }

  /**
   * Adds the association's by-secret entry, through which KV changes of its secret fan out to it,
   * and marks its KV mount as watched, so that those changes append their events (`kvWatchOp`;
   * a change deciding meanwhile that nobody watches the mount fails its check and is redone).
   */
  index(a: AssociationRef): this {
    this.ops.push({ kind: 'put', key: bySecretKey(a), value: Buffer.from('') }, kvWatchOp(a.accessor));
    return this;
  }

  /** Marks KV mounts as watched and the watch records complete (the layout 3 migration). */
  watchAll(accessors: Iterable<string>): this {
    for (const accessor of accessors) this.ops.push(kvWatchOp(accessor));
    this.ops.push(kvWatchTrackingOp());
    return this;
  }

  unindex(a: AssociationRef): this {
    this.ops.push({ kind: 'delete', key: bySecretKey(a) });
    return this;
  }

  /** Queues a reconcile of the association with its destination. */
  enqueueSync(a: AssociationRef, reason: SyncOperation['reason']): this {
    this.ops.push(syncOp(a, reason));
    return this;
  }

  /** Writes a prefix association; `revision` (0 = must not exist yet) is the one it was read at. */
  savePrefix(p: PrefixAssociation, revision?: number): this {
    const key = prefixKey(p);
    this.ops.push({ kind: 'put', key, value: encode(p) });
    return this.check(key, revision);
  }

  /** Forgets a prefix association: its record and its skipped markers (`unindexPrefix` drops its fan-out entry). */
  deletePrefix(p: PrefixRef, revision?: number): this {
    const key = prefixKey(p);
    this.ops.push({ kind: 'delete', key });
    this.clearSkipped(p);
    return this.check(key, revision);
  }

  /** Marks a secret as skipped by a prefix (counted once however often it is met). */
  markSkipped(p: PrefixRef, secret: string): this {
    this.ops.push({ kind: 'put', key: keys.prefixSkipped(p.dest_type, p.dest_name, p.accessor, p.prefix) + enc(secret), value: Buffer.from('') });
    return this;
  }

  /** Forgets which secrets a prefix skipped (it is set again, and checks them afresh). */
  clearSkipped(p: PrefixRef): this {
    this.ops.push({ kind: 'deletePrefix', prefix: keys.prefixSkipped(p.dest_type, p.dest_name, p.accessor, p.prefix) });
    return this;
  }

  /**
   * Adds the prefix's fan-out entry, and marks its KV mount as watched (as `index` does), so that
   * KV writes under it append their events and reach `fanOutKvEvents`.
   */
  indexPrefix(p: PrefixRef): this {
    this.ops.push({ kind: 'put', key: keys.byPrefix(p.accessor, p.dest_type, p.dest_name, p.prefix), value: Buffer.from('') }, kvWatchOp(p.accessor));
    return this;
  }

  unindexPrefix(p: PrefixRef): this {
    this.ops.push({ kind: 'delete', key: keys.byPrefix(p.accessor, p.dest_type, p.dest_name, p.prefix) });
    return this;
  }

  /** Queues the next step of a prefix bring-in or removal. */
  enqueuePrefixStep(step: PrefixStep): this {
    this.ops.push(prefixStepOp(step));
    return this;
  }

  /** Removes handled items of another queue (KV's change events) in the same commit. */
  dequeue(ids: number[]): this {
    this.ops.push({ kind: 'dequeue', ids });
    return this;
  }

  async commit(): Promise<void> {
    await this.store.commit(this.ops, this.checks.length > 0 ? this.checks : undefined);
    if (this.removesAssociations) this.onAssociationsRemoved();
  }
}

export class SyncRecords {
  /** Commits that removed association records so far (in this process, which is the only writer). */
  private removals = 0;
  private readonly removalWaiters = new Set<() => void>();
  /** `sys/sync/config` as last parsed, with the stored bytes it was parsed from. */
  private parsedConfig: { bytes: Buffer; value: SyncConfig } | undefined;

  constructor(private readonly store: Store) {}

  /** Starts an atomic change. */
  change(): SyncChange {
    return new SyncChange(this.store, () => {
      this.removals++;
      for (const wake of [...this.removalWaiters]) wake();
    });
  }

  /** A mark to pass to `associationRemovedSince`: read it before reading the associations it is about. */
  get removalMark(): number {
    return this.removals;
  }

  /**
   * Resolves true as soon as a commit after `mark` removed association records (at once if one
   * already did), false if none did within `timeoutMs`. Woken by the commit itself, never polling.
   */
  associationRemovedSince(mark: number, timeoutMs: number): Promise<boolean> {
    if (this.removals > mark) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const done = (removed: boolean) => {
        clearTimeout(timer);
        this.removalWaiters.delete(wake);
        resolve(removed);
      };
      const wake = () => done(true);
      const timer = setTimeout(() => done(false), Math.max(0, timeoutMs));
      this.removalWaiters.add(wake);
    });
  }

  // ---- configuration ---------------------------------------------------------------------

  /** The configuration (defaults when never written; revision 0 then). */
  async config(): Promise<Row<SyncConfig>> {
    const row = await this.store.get(keys.config);
    if (!row) return { value: { ...DEFAULT_SYNC_CONFIG }, revision: 0 };
    // Read by every worker round (twice: the brake and the drift interval): parsed once per stored
    // value. Compared by bytes, not revision: a forced snapshot restore can bring another value
    // under a revision this process has already seen.
    if (!this.parsedConfig?.bytes.equals(row.value)) this.parsedConfig = { bytes: Buffer.from(row.value), value: decode(syncConfigSchema, row.value) };
    return { value: { ...this.parsedConfig.value }, revision: row.revision };
  }

  /**
   * The secrets with at least one association, by mount accessor: listings of the by-secret
   * index's key names only (one per mount), where `associatedSecrets` reads and decrypts every
   * entry. What KV's expiry sweep follows, every 30 s.
   */
  async associatedSecretPaths(): Promise<Array<{ accessor: string; secret: string }>> {
    const out: Array<{ accessor: string; secret: string }> = [];
    for (const folder of await this.store.list(keys.bySecretAll)) {
      const accessor = folder.replace(/\/$/, '');
      for (const secret of await this.associatedSecretsOfMount(accessor)) out.push({ accessor, secret });
    }
    return out;
  }

  // ---- destinations ----------------------------------------------------------------------

  async destination(type: string, name: string): Promise<Row<Destination> | undefined> {
    const row = await this.store.get(keys.destination(type, name));
    return row ? { value: decode(destinationSchema, row.value), revision: row.revision } : undefined;
  }

  /** Names of the destinations of a type, unsorted. */
  async destinationNames(type: string): Promise<string[]> {
    return (await this.store.list(keys.destinationPrefix(type))).map((n) => decodeURIComponent(n));
  }

  /** Shows a purge that cannot finish on the destination (`purge_error`); a concurrent change wins. */
  async recordPurgeError(type: string, name: string, error: string): Promise<void> {
    const row = await this.destination(type, name);
    if (!row || row.value.purge_error === error) return;
    row.value.purge_error = error;
    try {
      await this.change().saveDestination(row.value, row.revision).commit();
    } catch (err) {
      if (!(err instanceof RevisionConflict)) throw err;
    }
  }

  /**
   * Updates a destination's report of missing optional permissions; unchanged reports write
   * nothing, and a concurrent change of the destination wins (the next delivery reports again).
   */
  async updateMissingPermissions(type: string, name: string, update: (current: Record<string, string>) => Record<string, string>): Promise<void> {
    const row = await this.destination(type, name);
    if (!row) return;
    const current = row.value.missing_permissions ?? {};
    const next = update({ ...current });
    if (JSON.stringify(Object.entries(next).sort()) === JSON.stringify(Object.entries(current).sort())) return;
    if (Object.keys(next).length > 0) row.value.missing_permissions = next;
    else delete row.value.missing_permissions;
    try {
      await this.change().saveDestination(row.value, row.revision).commit();
    } catch (err) {
      if (!(err instanceof RevisionConflict)) throw err;
    }
  }

  // ---- ownership ---------------------------------------------------------------------------

  /** The ownership record of one external name of a destination. */
  async owned(type: string, name: string, external: string): Promise<Row<OwnedSecret> | undefined> {
    const row = await this.store.get(keys.owned(type, name, external));
    return row ? { value: decode(ownedSecretSchema, row.value), revision: row.revision } : undefined;
  }

  /** The associations that claim an AWS name in a region, as recorded (some may be gone since), with the revision. */
  async nameClaims(region: string, external: string): Promise<Row<NameClaimant[]>> {
    const row = await this.store.get(keys.names(region, external));
    return row ? { value: decode(nameClaimsSchema, row.value).claimants, revision: row.revision } : { value: [], revision: 0 };
  }

  /** The layout version of the records (0 before ownership records existed), with its revision. */
  async layout(): Promise<Row<number>> {
    const row = await this.store.get(keys.layout);
    if (!row) return { value: 0, revision: 0 };
    return { value: (JSON.parse(row.value.toString('utf8')) as { version: number }).version, revision: row.revision };
  }

  // ---- associations ----------------------------------------------------------------------

  /** Every association of every destination, with its revision (for the migration). */
  async allAssociations(): Promise<Array<Row<Association>>> {
    const rows = await this.store.scan(keys.associationsAll);
    return rows.map((r) => ({ value: decode(associationSchema, r.value), revision: r.revision }));
  }

  async association(type: string, name: string, accessor: string, secret: string): Promise<Row<Association> | undefined> {
    const row = await this.store.get(keys.association(type, name, accessor, secret));
    return row ? { value: decode(associationSchema, row.value), revision: row.revision } : undefined;
  }

  /** The association a sync operation refers to. */
  async associationOf(op: SyncOperation): Promise<Row<Association> | undefined> {
    const { type, name } = splitDestinationRef(op.dest);
    return this.association(type, name, op.accessor, op.secret_name);
  }

  /** Writes an association if it is unchanged since `revision`; false when it moved meanwhile. */
  async saveAssociation(a: Association, revision: number): Promise<boolean> {
    try {
      await this.change().saveAssociation(a, revision).commit();
      return true;
    } catch (err) {
      if (err instanceof RevisionConflict) return false;
      throw err;
    }
  }

  /** The associations of a destination with their revisions (for a revision-checked change of several). */
  async associationRowsOf(type: string, name: string): Promise<Array<Row<Association>>> {
    const rows = await this.store.scan(keys.associationPrefix(type, name));
    return rows.map((r) => ({ value: decode(associationSchema, r.value), revision: r.revision }));
  }

  async associationsOf(type: string, name: string): Promise<Association[]> {
    const rows = await this.store.scan(keys.associationPrefix(type, name));
    return rows.map((r) => decode(associationSchema, r.value));
  }

  /** Every association of one secret, through the by-secret index. */
  async associationsOfSecret(accessor: string, secret: string): Promise<Association[]> {
    const refs = await this.store.list(keys.bySecretPrefix(accessor, secret));
    const out: Association[] = [];
    for (const ref of refs) {
      const [type, encName] = ref.split(':');
      const row = await this.association(type!, decodeURIComponent(encName!), accessor, secret);
      if (row) out.push(row.value);
    }
    return out;
  }

  /** Every secret with at least one association, with its destinations (`<type>/<name>`). */
  async associatedSecrets(): Promise<Array<{ accessor: string; secret: string; destinations: string[] }>> {
    const rows = await this.store.scan(keys.bySecretAll);
    const grouped = new Map<string, { accessor: string; secret: string; destinations: string[] }>();
    for (const row of rows) {
      const [accessor, encSecret, dest] = row.key.slice(keys.bySecretAll.length).split('/');
      const id = `${accessor}/${encSecret}`;
      const entry = grouped.get(id) ?? { accessor: accessor!, secret: decodeURIComponent(encSecret!), destinations: [] };
      const [t, encName] = dest!.split(':');
      entry.destinations.push(`${t}/${decodeURIComponent(encName!)}`);
      grouped.set(id, entry);
    }
    return [...grouped.values()];
  }

  /** Accessors of the mounts with at least one associated secret or prefix association (two listings, no decoding). */
  async syncedMountAccessors(): Promise<Set<string>> {
    const listed = [...(await this.store.list(keys.bySecretAll)), ...(await this.store.list(keys.byPrefixAll))];
    return new Set(listed.map((a) => a.replace(/\/$/, '')));
  }

  // ---- prefix associations -----------------------------------------------------------------

  async prefix(type: string, name: string, accessor: string, prefix: string): Promise<Row<PrefixAssociation> | undefined> {
    const row = await this.store.get(keys.prefix(type, name, accessor, prefix));
    return row ? { value: decode(prefixSchema, row.value), revision: row.revision } : undefined;
  }

  /** Whether a prefix already skipped a secret. */
  async skippedBy(p: PrefixRef, secret: string): Promise<boolean> {
    return (await this.store.get(keys.prefixSkipped(p.dest_type, p.dest_name, p.accessor, p.prefix) + enc(secret))) !== undefined;
  }

  /** The prefix associations of a destination, with their revisions. */
  async prefixesOf(type: string, name: string): Promise<Array<Row<PrefixAssociation>>> {
    const rows = await this.store.scan(keys.prefixesOf(type, name));
    return rows.map((r) => ({ value: decode(prefixSchema, r.value), revision: r.revision }));
  }

  /** The prefix associations over a mount, from the fan-out index (no record read). */
  async prefixesOfMount(accessor: string): Promise<PrefixRef[]> {
    return (await this.store.list(keys.byPrefixOfMount(accessor))).map((entry) => {
      const [type, encName, encPrefix] = entry.split(':');
      return { dest_type: type as 'aws-sm', dest_name: decodeURIComponent(encName!), accessor, prefix: decodeURIComponent(encPrefix!) };
    });
  }

  /** The associated secrets of one mount. */
  async associatedSecretsOfMount(accessor: string): Promise<string[]> {
    const rows = await this.store.list(`${keys.bySecretAll}${accessor}/`);
    return rows.map((r) => decodeURIComponent(r.replace(/\/$/, '')));
  }

  /**
   * Up to `limit` secrets of a mount associated with a destination under `prefix`, in key order,
   * after `after` (null: from the start): one listing of the mount's association keys.
   */
  async associatedSecretsUnder(type: string, name: string, accessor: string, prefix: string, after: string | null, limit: number): Promise<string[]> {
    const names = await this.store.list(`${keys.associationPrefix(type, name)}${accessor}/`);
    const out: string[] = [];
    const cursor = after === null ? undefined : enc(after);
    for (const encoded of names) {
      if (cursor !== undefined && encoded <= cursor) continue;
      const secret = decodeURIComponent(encoded);
      if (!secret.startsWith(prefix)) continue;
      out.push(secret);
      if (out.length >= limit) break;
    }
    return out;
  }

  /** Whether the destination of `a` has associations besides `a`, with two indexed listings. */
  async hasOtherAssociations(a: AssociationRef): Promise<boolean> {
    const prefix = keys.associationPrefix(a.dest_type, a.dest_name);
    const accessors = await this.store.list(prefix);
    if (accessors.length !== 1) return accessors.length > 1;
    const secrets = await this.store.list(prefix + accessors[0]);
    if (secrets.length !== 1) return secrets.length > 1;
    return prefix + accessors[0] + secrets[0] !== associationKey(a);
  }
}
