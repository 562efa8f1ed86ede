import { MountTable } from '../sys/mount-table.js';
import type { MountEntry } from '../kernel/entries.js';

/**
 * Storage layout of a KV v2 mount, under `MountTable.dataPrefix(mount)` (`logical/<uuid>/`):
 *
 * | key                               | value                                              |
 * |-----------------------------------|----------------------------------------------------|
 * | `config`                          | mount-wide settings (`StoredConfig`)               |
 * | `meta/<path>`                     | one secret's metadata, version table and, when small, current data |
 * | `ver/<incarnation>/<n>`           | the data of version n, unless it is the current one kept inline |
 *
 * One metadata entry per secret keeps every decision of a write (CAS, retention, expiry) to
 * a single read, and every write to one atomic commit checked against that entry's revision.
 * A small current version's data lives in that entry too, so that the common read (latest
 * version) is one store read; a write moves the superseded data to its version entry.
 *
 * The metadata entry is stored in a compact form (`encodeMeta`): SQLite keeps a row of a
 * WITHOUT ROWID table on its b-tree page only up to about 1000 bytes and spills the rest to
 * overflow pages, which every read and write of the row then also touches. Readable field
 * names and a version table of objects put a secret with 10 versions just past that limit.
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

/** One version's bookkeeping; its data lives in its own entry. */
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

/** The stored form of `StoredMeta`: short names, versions as `[n, created, deletion, destroyed]`. */
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
}

/**
 * The JSON text of data objects the engine has serialised, so that a version's data is turned
 * into text once: when it is written (measured for the inline limit), and not again when the
 * metadata entry is re-encoded or the data moves to its version entry. Stored data is never
 * changed in place (the engine's metadata, which holds it, is committed as encoded).
 */
const dataTexts = new WeakMap<object, string>();

/** `JSON.stringify(data)`, remembered per data object (see `dataTexts`). */
export function dataJson(data: Record<string, unknown>): string {
  let text = dataTexts.get(data);
  if (text === undefined) {
    text = JSON.stringify(data);
    dataTexts.set(data, text);
  }
  return text;
}

/**
 * The encoded tail (`created,deletion,destroyed]`) of a version table row, by row object with
 * the values it was made from: every write re-encodes the whole table, whose rows rarely
 * change, and turning a millisecond timestamp into text is most of a row's cost.
 */
const rowTexts = new WeakMap<StoredVersion, { created: number; deletion: number | null; destroyed: boolean; text: string }>();

function rowTail(v: StoredVersion): string {
  const known = rowTexts.get(v);
  if (known && known.created === v.created && known.deletion === v.deletion && known.destroyed === v.destroyed) return known.text;
  const text = `${num(v.created)},${v.deletion === null ? 'null' : num(v.deletion)},${v.destroyed ? 1 : 0}]`;
  rowTexts.set(v, { created: v.created, deletion: v.deletion, destroyed: v.destroyed, text });
  return text;
}

/** A number as JSON writes it (`null` when not finite). */
const num = (n: number): string => (Number.isFinite(n) ? String(n) : 'null');

/**
 * Encodes `meta` in its compact form (`CompactMeta`), as `JSON.stringify` of that form would,
 * byte for byte (fields in the order i, c, u, v, o, m, r, a, x, h, n, d), but built as text
 * from cached pieces: version rows and data already encoded are not encoded again.
 */
export function encodeMeta(meta: StoredMeta): Buffer {
  let text =
    `{"i":${JSON.stringify(meta.incarnation)},"c":${num(meta.created)},"u":${num(meta.updated)},"v":${num(meta.current)},` +
    `"o":${num(meta.oldest)},"m":${num(meta.maxVersions)},"r":${meta.casRequired ? 1 : 0},"a":${num(meta.deleteVersionAfter)},` +
    `"x":${meta.custom === null ? 'null' : JSON.stringify(meta.custom)},"h":[`;
  let first = true;
  // Version numbers are integer keys: they iterate in ascending order.
  for (const n in meta.versions) {
    text += `${first ? '' : ','}[${n},${rowTail(meta.versions[n]!)}`;
    first = false;
  }
  text += `],"n":${meta.notified ? `[${num(meta.notified.version)},${num(meta.notified.deletion)}]` : 'null'}`;
  if (meta.data !== undefined) text += `,"d":${meta.data === null ? 'null' : dataJson(meta.data)}`;
  return Buffer.from(`${text}}`);
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
  return meta;
}
