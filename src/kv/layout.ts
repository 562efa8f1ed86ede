import { MountTable } from '../sys/mount-table.js';
import type { MountEntry } from '../kernel/entries.js';
import type { WriteOp } from '../store/store.js';

/**
 * Storage layout of a KV v2 mount, under `MountTable.dataPrefix(mount)` (`logical/<uuid>/`):
 *
 * | key                               | value                                              |
 * |-----------------------------------|----------------------------------------------------|
 * | `config`                          | mount-wide settings (`StoredConfig`)               |
 * | `meta/<path>`                     | one secret's metadata, version table and, when small, the data of the current and recent versions |
 * | `ver/<incarnation>/<n>`           | the data of version n, unless it is kept inline in the metadata entry |
 *
 * One metadata entry per secret keeps every decision of a write (CAS, retention, expiry) to
 * a single read, and every write to one atomic commit checked against that entry's revision.
 * A small current version's data lives in that entry too, so that the common read (latest
 * version) is one store read. A write keeps the superseded data inline too (`past`), up to
 * `PAST_INLINE_MAX` versions and `META_ENTRY_MAX` bytes, so that the common write (a secret past
 * its first versions) is one put of one encrypted entry; beyond that the oldest inline data moves
 * to its version entry. Each version's data lives in exactly one place: inline (`data` or
 * `past`) or its own entry.
 *
 * The metadata entry is stored in a compact form (`encodeMeta`): SQLite keeps a row of a
 * WITHOUT ROWID table on its b-tree page only up to about 1000 bytes and spills the rest to
 * overflow pages, which every read and write of the row then also touches. That limit is for
 * 4 KB pages; the SQLite store makes new databases with 8 KB pages (about 2000 bytes in-page),
 * where a secret of 10 small versions (about 100 bytes each) with its data inline, about
 * 1.5 KB, still fits. In a better-sqlite3 microbenchmark of the KV write pattern (1000 keys,
 * 40 writes per transaction, 2026-12-03) the SQLite part of a write cost 27-29 µs as three rows
 * (metadata, superseded version, pruned version), 21 µs as one row with an overflow page (4 KB
 * pages, a store made before) and 13 µs as one in-page row (8 KB pages); one encryption is saved too.
 * Versions are keyed by the secret's incarnation rather than its path, so that removing a
 * secret is one prefix delete that cannot touch a sibling (`a` vs `a/b`), and data of a deleted
 * secret can never resurface under a re-created one. Listing reads only the `meta/` subtree.
 */

/** Mount-wide settings (`<mount>/config`). */
export interface StoredConfig {
  maxVersions: number;
  casRequired: boolean;
  /** Seconds; negative disables expiry on the whole mount, 0 = unset. */
  deleteVersionAfter: number;
}

/** One version's bookkeeping; its data is inline in the metadata entry (`data`, `past`) or in its own entry. */
export interface StoredVersion {
  /** Unix ms. */
  created: number;
  /** Unix ms of the soft deletion (past or scheduled); null when not deleted. */
  deletion: number | null;
  destroyed: boolean;
}

/** One secret's metadata (`<mount>/metadata/<path>`). */
export interface StoredMeta {
  /** Random id of this life of the secret; see `KvChangeEvent.incarnation`. */
  incarnation: string;
  created: number;
  updated: number;
  /** Newest version, 0 when only metadata exists. */
  current: number;
  /** Oldest retained version; 0 until pruning starts. */
  oldest: number;
  /** Key-level settings as written (not the effective values). */
  maxVersions: number;
  casRequired: boolean;
  deleteVersionAfter: number;
  custom: Record<string, string> | null;
  /** Keyed by the decimal version number. */
  versions: Record<string, StoredVersion>;
  /**
   * The current version's data when kept inline; null when there is none or it was
   * destroyed; undefined when it is too large to keep inline and lives in its version entry.
   */
  data?: Record<string, unknown> | null;
  /**
   * Data of earlier (not current) versions kept inline, by decimal version number; a version
   * not listed here has its data in its own entry (or none: destroyed, pruned). Absent when
   * empty, and in entries written before this field existed.
   */
  past?: Record<string, Record<string, unknown>>;
  /**
   * The soft deletion of the current version that an event has already covered (the `delete`
   * that made it, or any event emitted after it, since consumers re-read the state), so that
   * an observed `delete_version_after` expiry is reported once and only when nothing did.
   */
  notified: { version: number; deletion: number } | null;
}

export const DEFAULT_CONFIG: StoredConfig = { maxVersions: 0, casRequired: false, deleteVersionAfter: 0 };

/** The storage keys of one KV v2 mount. */
export class KvKeys {
  readonly base: string;
  readonly config: string;

  constructor(mount: MountEntry) {
    this.base = MountTable.dataPrefix(mount);
    this.config = `${this.base}config`;
  }

  meta(path: string): string {
    return `${this.base}meta/${path}`;
  }

  /** The `list` prefix of a folder (`""` = mount root). */
  metaFolder(folder: string): string {
    return folder === '' ? `${this.base}meta/` : `${this.base}meta/${folder}/`;
  }

  version(incarnation: string, n: number): string {
    return `${this.base}ver/${incarnation}/${n}`;
  }

  versions(incarnation: string): string {
    return `${this.base}ver/${incarnation}/`;
  }
}

export const encode = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
export const decode = <T>(value: Buffer): T => JSON.parse(value.toString('utf8')) as T;

/** Current data up to this size (JSON bytes) is kept in the metadata entry; see the layout above. */
export const INLINE_DATA_MAX = 384;

/**
 * At most this many earlier versions' data is kept inline (each was inline as current data, so
 * at most `INLINE_DATA_MAX` bytes), and only while the entry stays within `META_ENTRY_MAX`: 9
 * keeps every version of a secret under the default 10 in one entry when its values are small
 * (about 100 bytes each, as most secrets are); larger ones keep fewer inline.
 */
export const PAST_INLINE_MAX = 9;

/**
 * The encoded metadata entry's size (bytes, before encryption) beyond which its oldest inline
 * earlier versions move to their own entries (`fitMetaEntry`). With the barrier's encryption
 * overhead and a key of a long path it stays under the ~2000 bytes SQLite keeps on an 8 KB
 * b-tree page (see the layout above): a count alone would let ten 350-byte values make a 4 KB
 * entry that spills to overflow pages and costs every read and write of the secret.
 */
export const META_ENTRY_MAX = 1800;

/**
 * The stored form of `StoredMeta`: short names, versions as `[n, created, deletion, destroyed]`,
 * inline earlier versions' data as `[n, data]` in ascending order (`p`, absent when none).
 */
interface CompactMeta {
  i: string;
  c: number;
  u: number;
  v: number;
  o: number;
  m: number;
  r: 0 | 1;
  a: number;
  x: Record<string, string> | null;
  h: Array<[number, number, number | null, 0 | 1]>;
  d?: Record<string, unknown> | null;
  n: [number, number] | null;
  p?: Array<[number, Record<string, unknown>]>;
}

export function encodeMeta(meta: StoredMeta): Buffer {
  const compact: CompactMeta = {
    i: meta.incarnation,
    c: meta.created,
    u: meta.updated,
    v: meta.current,
    o: meta.oldest,
    m: meta.maxVersions,
    r: meta.casRequired ? 1 : 0,
    a: meta.deleteVersionAfter,
    x: meta.custom,
    h: [],
    n: meta.notified ? [meta.notified.version, meta.notified.deletion] : null,
  };
  // Version numbers are integer keys: they iterate in ascending order.
  for (const n in meta.versions) {
    const v = meta.versions[n]!;
    compact.h.push([Number(n), v.created, v.deletion, v.destroyed ? 1 : 0]);
  }
  if (meta.data !== undefined) compact.d = meta.data;
  if (meta.past) {
    const p: Array<[number, Record<string, unknown>]> = [];
    for (const n in meta.past) p.push([Number(n), meta.past[n]!]);
    if (p.length > 0) compact.p = p;
  }
  return Buffer.from(JSON.stringify(compact));
}

export function decodeMeta(value: Buffer): StoredMeta {
  const c = JSON.parse(value.toString('utf8')) as CompactMeta;
  const versions: Record<string, StoredVersion> = {};
  for (const [n, created, deletion, destroyed] of c.h) versions[n] = { created, deletion, destroyed: destroyed === 1 };
  const meta: StoredMeta = {
    incarnation: c.i,
    created: c.c,
    updated: c.u,
    current: c.v,
    oldest: c.o,
    maxVersions: c.m,
    casRequired: c.r === 1,
    deleteVersionAfter: c.a,
    custom: c.x,
    versions,
    notified: c.n ? { version: c.n[0], deletion: c.n[1] } : null,
  };
  if ('d' in c) meta.data = c.d;
  if (c.p) {
    const past: Record<string, Record<string, unknown>> = {};
    for (const [n, data] of c.p) past[n] = data;
    meta.past = past;
  }
  return meta;
}

/**
 * The metadata entry to store for `meta`: encoded, and if that is over `META_ENTRY_MAX`, with
 * its oldest inline earlier versions moved to their own entries (their puts appended to `ops`)
 * until it is within, or none is left inline. Changes `meta` to match what is stored.
 */
export function fitMetaEntry(meta: StoredMeta, keys: KvKeys, ops: WriteOp[]): Buffer {
  const encoded = encodeMeta(meta);
  if (encoded.length <= META_ENTRY_MAX || !meta.past) return encoded;
  let excess = encoded.length - META_ENTRY_MAX;
  // Integer keys iterate in ascending order: oldest first. Each moved version saves at least its data's bytes.
  for (const n of Object.keys(meta.past)) {
    if (excess <= 0) break;
    const data = encode(meta.past[n]);
    ops.push({ kind: 'put', key: keys.version(meta.incarnation, Number(n)), value: data });
    delete meta.past[n];
    excess -= data.length;
  }
  if (Object.keys(meta.past).length === 0) delete meta.past;
  return encodeMeta(meta);
}
